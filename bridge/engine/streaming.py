"""Streaming EnCodec decode: audio chunks while codes are still being generated.

EnCodec 32 kHz is not causal (reflect-padded convs look ahead, an LSTM looks back), so a frame's audio is
only final once a few later frames exist, and re-decoding the whole prefix for every chunk would cost
O(T^2). Instead each chunk is decoded from a bounded window of codes:

    frames:   ... | context (re-decoded, dropped) | chunk (emitted) | holdback (not yet final) |
                  ^ start - context_frames        ^ start           ^ end = available - holdback

* Left context warms up the LSTM and moves the left reflect-padding edge away from the chunk. The LSTM
  state depends on every earlier frame, so a bounded context is an approximation; on the real architecture
  (random weights) 25 frames match the full decode to ~1e-7. Trained LSTMs may remember longer: the context
  is configurable.
* Holdback keeps the right edge away: a new frame changes the audio ~4 frames before it.
* Each window's decode also covers the held-back frames. The first `crossfade_samples` after the chunk end
  are kept and linearly crossfaded into the start of the next chunk, so any disagreement between two
  windows (context shorter than the LSTM's memory) becomes a short fade instead of a click. Linear rather
  than equal-power: the two signals are near-identical (correlated), for which gains summing to 1 keep the
  level; equal-power would add up to +3 dB mid-fade.

Total decoded frames = T + chunks * (context + holdback): linear in the generation length. The
concatenation of all chunks is exactly T * hop samples, like one full decode.

In continuation mode the first `skip_frames` frames (the audio prompt) are context only: they are never
emitted, and chunk sample positions count from the first generated frame.

Chunks are (B, channels, samples): a stereo model's interleaved codebooks go through EnCodec per channel
(`bridge.engine.codebooks`), every window, context and crossfade applying to both channels alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import cycle

import numpy as np
import torch

from bridge.engine import codebooks
from bridge.engine.types import HOP  # 640 samples per EnCodec frame: the fallback for codecs without a config

DEFAULT_CHUNK_FRAMES = 25  # 0.5 s of audio per chunk
DEFAULT_CONTEXT_FRAMES = 25  # 0.5 s re-decoded on the left: ~1e-7 from a full decode (random weights)
DEFAULT_HOLDBACK_FRAMES = 4  # 80 ms: a new frame changes up to ~2400 samples (3.75 frames) before it
DEFAULT_CROSSFADE_SAMPLES = 64  # 2 ms linear fade at each seam


@dataclass(frozen=True, eq=False)  # eq=False: identity equality; comparing audio arrays has no truth value
class Chunk:
    """One piece of streamed audio. Chunks arrive in order and tile the output without gaps or overlap."""

    index: int  # 0, 1, 2, ...
    start_sample: int  # at 32 kHz, relative to the first emitted frame (after skip_frames)
    audio: np.ndarray  # float32 (B, channels, samples)

    @property
    def num_samples(self) -> int:
        return int(self.audio.shape[-1])

    @property
    def end_sample(self) -> int:
        return self.start_sample + self.num_samples


ChunkCallback = Callable[[Chunk], None]


def _codec_hop(codec) -> int:
    """Samples per frame from the codec's config (product of upsampling ratios); 640 if it has none."""
    ratios = getattr(getattr(codec, "config", None), "upsampling_ratios", None)
    return int(math.prod(ratios)) if ratios else HOP


def _codec_device(codec) -> torch.device | None:
    """Where the codec's weights live (codes are moved there); None for a codec without parameters."""
    params = getattr(codec, "parameters", None)
    if params is None:
        return None
    try:
        return next(iter(params())).device
    except StopIteration:
        return None


class StreamingDecoder:
    """Turns codes arriving frame by frame into audio chunks that concatenate to one full decode.

    Feed un-delayed, complete frames with `push` (with MusicGen's delay pattern frame t is complete after
    step t+D-1; the caller handles that) and call `flush` at the end. Chunks are returned and, if given,
    passed to `on_chunk`. `channels` is the model's (`Engine.channels`): 2 splits the interleaved stereo
    codebooks between the channels. Not thread-safe: one producer.
    """

    def __init__(
        self,
        codec,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        context_frames: int = DEFAULT_CONTEXT_FRAMES,
        holdback_frames: int = DEFAULT_HOLDBACK_FRAMES,
        crossfade_samples: int = DEFAULT_CROSSFADE_SAMPLES,
        on_chunk: ChunkCallback | None = None,
        *,
        skip_frames: int = 0,
        channels: int = 1,
    ):
        self.hop = _codec_hop(codec)
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        if holdback_frames < 0:
            raise ValueError(f"holdback_frames must be >= 0, got {holdback_frames}")
        if context_frames < holdback_frames:
            # The left edge needs at least as much room as the right edge: both are reflect-padded.
            raise ValueError(
                f"context_frames ({context_frames}) must be >= holdback_frames ({holdback_frames})"
            )
        if skip_frames < 0:
            raise ValueError(f"skip_frames must be >= 0, got {skip_frames}")
        if not 0 <= crossfade_samples <= holdback_frames * self.hop:
            # The overlap to fade over is the decoded audio of the held-back frames.
            raise ValueError(
                f"crossfade_samples must be in [0, holdback_frames * {self.hop}] = "
                f"[0, {holdback_frames * self.hop}], got {crossfade_samples}"
            )
        self.codec = codec
        self.chunk_frames = chunk_frames
        self.context_frames = context_frames
        self.holdback_frames = holdback_frames
        self.crossfade_samples = crossfade_samples
        self.skip_frames = skip_frames
        self.channels = channels
        self.on_chunk = on_chunk
        self.decoded_frames = 0  # frames passed to codec.decode so far (cost accounting)
        self._device = _codec_device(codec)
        self._codes: torch.Tensor | None = None  # (B, K, n) frames [self._first, self.available)
        self._first = 0  # absolute index of self._codes[..., 0]
        self._emitted = skip_frames  # absolute frame index where the next chunk starts
        self._index = 0
        self._tail: np.ndarray | None = None  # (B, C, <= crossfade) audio just after the last chunk's end
        self._finished = False

    # ------------------------------------------------------------------ state

    @property
    def available(self) -> int:
        """Frames pushed so far (including skip_frames)."""
        return self._first + (0 if self._codes is None else self._codes.shape[-1])

    @property
    def emitted_frames(self) -> int:
        """Frames emitted so far (excluding skip_frames)."""
        return self._emitted - self.skip_frames

    @property
    def first_chunk_frames(self) -> int:
        """Frames that must be available before the first chunk comes out: the streaming latency."""
        return self.skip_frames + self.chunk_frames + self.holdback_frames

    # ------------------------------------------------------------------ feeding

    def push(self, codes: torch.Tensor) -> list[Chunk]:
        """Append complete frames (B, K, n_new) and emit the chunk that is ready, if any."""
        if self._finished:
            raise RuntimeError("push() after flush(): the stream is finished")
        if codes.dim() != 3:
            raise ValueError(f"codes must be (B, K, n_new), got shape {tuple(codes.shape)}")
        if codes.dtype.is_floating_point or codes.dtype == torch.bool:
            raise ValueError(f"codes must be integer code ids, got {codes.dtype}")
        if self._codes is None:
            self._codes = codes.detach().clone()
        else:
            if codes.shape[:2] != self._codes.shape[:2]:
                raise ValueError(
                    f"codes (B, K) changed from {tuple(self._codes.shape[:2])} to {tuple(codes.shape[:2])}"
                )
            self._codes = torch.cat([self._codes, codes.detach().to(self._codes.device)], dim=-1)
        self._trim()  # a long prompt pushed at once is cut to the context the first window needs
        end = self.available - self.holdback_frames
        if end - self._emitted >= self.chunk_frames:
            return [self._emit(end)]
        return []

    def flush(self) -> list[Chunk]:
        """End of generation: emit everything left (no later frames will change it). Idempotent."""
        if self._finished:
            return []
        self._finished = True
        if self.available > self._emitted:
            return [self._emit(self.available)]
        return []

    # ------------------------------------------------------------------ decoding

    def _emit(self, end: int) -> Chunk:
        """Decode window [start - context, available) and emit frames [start, end) of it."""
        assert self._codes is not None
        start, stop = self._emitted, self.available
        win_start = max(0, start - self.context_frames)
        audio = self._decode(self._codes[..., win_start - self._first : stop - self._first])  # (B, C, samples)
        a, b = (start - win_start) * self.hop, (end - win_start) * self.hop
        out = np.array(audio[..., a:b], dtype=np.float32)  # (B, C, (end - start) * hop), a copy
        if self._tail is not None:
            n = self._tail.shape[-1]
            fade_in = (np.arange(n, dtype=np.float32) + 0.5) / n  # (n,), 0 -> 1
            out[..., :n] = self._tail * (1.0 - fade_in) + out[..., :n] * fade_in
        self._tail = np.array(audio[..., b : b + self.crossfade_samples]) if self.crossfade_samples else None
        if self._tail is not None and self._tail.shape[-1] == 0:
            self._tail = None
        chunk = Chunk(index=self._index, start_sample=(start - self.skip_frames) * self.hop, audio=out)
        self._index += 1
        self._emitted = end
        self._trim()
        if self.on_chunk is not None:
            self.on_chunk(chunk)
        return chunk

    def _trim(self) -> None:
        """Drop frames no window can need any more: those before the next chunk's left context."""
        if self._codes is None:
            return
        keep_from = min(max(self._first, self._emitted - self.context_frames), self.available)
        if keep_from > self._first:
            self._codes = self._codes[..., keep_from - self._first :]
            self._first = keep_from

    @torch.inference_mode()
    def _decode(self, codes: torch.Tensor) -> np.ndarray:
        """codes (B, K, n) => float32 audio (B, C, n * hop) through the codec's full (non-streaming) decode."""
        n = codes.shape[-1]
        if self._device is not None:
            codes = codes.to(self._device)
        values = codebooks.decode(self.codec, codes, self.channels)  # (B, C, n * hop)
        self.decoded_frames += n
        if values.shape[-1] != n * self.hop:
            raise RuntimeError(
                f"codec decoded {n} frames to {values.shape[-1]} samples, expected {n * self.hop}"
            )
        return values.float().cpu().numpy()


# --------------------------------------------------------------------------------------------- helpers


def stream_decode(codec, codes: torch.Tensor, *, steps: int | Iterable[int] = 1, **kw) -> np.ndarray:
    """Decode codes (B, K, T) through a StreamingDecoder, pushing `steps` frames at a time (an int, or
    burst sizes used in a cycle), then flush; returns the concatenated audio (B, C, (T - skip_frames) * hop).

    For tests and the benchmark: the result should match one full decode.
    """
    sizes = cycle([steps]) if isinstance(steps, int) else cycle(list(steps))
    dec = StreamingDecoder(codec, **kw)
    chunks: list[Chunk] = []
    total = codes.shape[-1]
    pos = 0
    while pos < total:
        n = next(sizes)
        if n < 1:
            raise ValueError(f"steps must be >= 1, got {n}")
        chunks += dec.push(codes[..., pos : pos + n])
        pos += n
    chunks += dec.flush()
    if not chunks:
        return np.zeros((codes.shape[0], dec.channels, 0), dtype=np.float32)
    return np.concatenate([c.audio for c in chunks], axis=-1)


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-noise ratio of `estimate` against `reference` in dB (inf when identical)."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    if ref.shape != est.shape:
        raise ValueError(f"shapes differ: reference {ref.shape}, estimate {est.shape}")
    noise = float(np.sum((ref - est) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)
