"""Tests for bridge.engine.streaming.

The streamed chunks must tile the output exactly and match one full decode, at a cost bounded per chunk
(never re-decoding the prefix), and a continuation prompt must be used as context but never emitted.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
import transformers

from bridge.engine.archs import ARCHS
from bridge.engine.loading import build_config, load_engine
from bridge.engine.streaming import (
    DEFAULT_CHUNK_FRAMES,
    DEFAULT_CONTEXT_FRAMES,
    DEFAULT_HOLDBACK_FRAMES,
    Chunk,
    StreamingDecoder,
    snr_db,
    stream_decode,
)
from bridge.engine.types import HOP, SAMPLE_RATE

BATCH, NUM_CODEBOOKS, FRAMES = 2, 4, 200  # 4 s of codes at 50 frames/s
CODEBOOK_SIZE = 2048
MIN_SNR_DB = 60.0  # streamed vs full decode
UNEVEN_BURSTS = [3, 1, 7, 2, 40, 5, 11]  # frames per push, cycled
COST_SLACK_FRAMES = 1  # per chunk, on top of context + holdback
REAL_SECONDS = 30  # slow test: one full MusicGen window
MAX_TIME_RATIO = 2.0  # streaming time / one full decode
PROBE_FRAMES = 50  # 1 s, to check that the audio depends on the codes


@pytest.fixture(scope="module")
def engine():
    return load_engine("debug")


@pytest.fixture(scope="module")
def codes() -> torch.Tensor:
    gen = torch.Generator().manual_seed(1234)
    return torch.randint(0, CODEBOOK_SIZE, (BATCH, NUM_CODEBOOKS, FRAMES), generator=gen)  # (B, K, T)


@pytest.fixture(scope="module")
def full(engine, codes) -> np.ndarray:
    return engine.decode_codes(codes)  # (B, 1, T * 640)


class CountingCodec:
    """Wraps a codec and records the number of frames of every decode call (cost accounting)."""

    def __init__(self, codec):
        self.codec = codec
        self.config = codec.config
        self.window_frames: list[int] = []

    def parameters(self):
        return self.codec.parameters()

    def decode(self, codes, scales):
        self.window_frames.append(codes.shape[-1])
        return self.codec.decode(codes, scales)


class _Values:
    def __init__(self, audio_values: torch.Tensor):
        self.audio_values = audio_values


class WindowTaggedCodec:
    """A fake codec (no config, no parameters: 640-sample hop) whose audio is the codebook-0 code of each
    frame plus the index of the decode call: two windows disagree by exactly 1 on shared frames, which
    makes the crossfade at each seam visible and checkable."""

    def __init__(self):
        self.calls = 0

    def decode(self, codes, scales):
        frames = codes[0, :, 0].float()  # (B, n)
        audio = frames.repeat_interleave(HOP, dim=-1) + self.calls  # (B, n * 640)
        self.calls += 1
        return _Values(audio[:, None])


def _push_frames(dec: StreamingDecoder, codes: torch.Tensor, bursts) -> list[Chunk]:
    chunks: list[Chunk] = []
    pos, i = 0, 0
    while pos < codes.shape[-1]:
        n = bursts[i % len(bursts)]
        chunks += dec.push(codes[..., pos : pos + n])
        pos, i = pos + n, i + 1
    return chunks + dec.flush()


def _assert_tiled(chunks: list[Chunk], total_samples: int) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start_sample == 0
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert nxt.start_sample == prev.end_sample
    assert chunks[-1].end_sample == total_samples
    for c in chunks:
        assert c.audio.dtype == np.float32 and c.audio.shape[:2] == (BATCH, 1)


# ----------------------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("bursts", [[1], UNEVEN_BURSTS], ids=["frame-by-frame", "uneven-bursts"])
def test_stream_matches_full_decode(engine, codes, full, bursts):
    seen: list[Chunk] = []
    dec = StreamingDecoder(engine.model.audio_encoder, on_chunk=seen.append)
    chunks = _push_frames(dec, codes, bursts)
    assert len(seen) == len(chunks) and all(a is b for a, b in zip(seen, chunks, strict=True))
    assert len(chunks) > 1  # streamed, not one decode at the end
    _assert_tiled(chunks, FRAMES * HOP)
    out = np.concatenate([c.audio for c in chunks], axis=-1)
    assert out.shape == full.shape == (BATCH, 1, FRAMES * HOP)
    assert snr_db(full, out) >= MIN_SNR_DB


def test_stream_decode_helper(engine, codes, full):
    out = stream_decode(engine.model.audio_encoder, codes, steps=UNEVEN_BURSTS)
    assert out.shape == full.shape
    assert snr_db(full, out) >= MIN_SNR_DB


def test_first_chunk_as_soon_as_ready(engine, codes):
    dec = StreamingDecoder(engine.model.audio_encoder)
    ready = DEFAULT_CHUNK_FRAMES + DEFAULT_HOLDBACK_FRAMES
    assert dec.first_chunk_frames == ready
    for t in range(ready - 1):
        assert dec.push(codes[..., t : t + 1]) == []
    (first,) = dec.push(codes[..., ready - 1 : ready])
    assert first.index == 0 and first.start_sample == 0
    assert first.num_samples == DEFAULT_CHUNK_FRAMES * HOP
    # Then one chunk every chunk_frames frames, each exactly 0.5 s long.
    later = [c for t in range(ready, ready + DEFAULT_CHUNK_FRAMES) for c in dec.push(codes[..., t : t + 1])]
    assert len(later) == 1 and later[0].num_samples == DEFAULT_CHUNK_FRAMES * HOP


# --------------------------------------------------------------------------------------------- cost


@pytest.mark.parametrize("bursts", [[1], UNEVEN_BURSTS], ids=["frame-by-frame", "uneven-bursts"])
def test_cost_is_bounded_per_chunk(engine, codes, bursts):
    counting = CountingCodec(engine.model.audio_encoder)
    dec = StreamingDecoder(counting)
    chunks = _push_frames(dec, codes, bursts)
    per_chunk = DEFAULT_CONTEXT_FRAMES + DEFAULT_HOLDBACK_FRAMES + COST_SLACK_FRAMES
    assert len(counting.window_frames) == len(chunks)
    assert sum(counting.window_frames) == dec.decoded_frames
    assert sum(counting.window_frames) <= FRAMES + len(chunks) * per_chunk
    # Each window is the chunk plus bounded margins, never the whole prefix.
    for window, chunk in zip(counting.window_frames, chunks, strict=True):
        assert window <= chunk.num_samples // HOP + DEFAULT_CONTEXT_FRAMES + DEFAULT_HOLDBACK_FRAMES
    if bursts == [1]:
        assert max(counting.window_frames) <= DEFAULT_CHUNK_FRAMES + per_chunk


def test_buffer_keeps_only_context(engine, codes):
    """Memory is bounded too: frames before the next window's left context are dropped."""
    dec = StreamingDecoder(engine.model.audio_encoder)
    for t in range(FRAMES):
        dec.push(codes[..., t : t + 1])
        kept = dec._codes.shape[-1]
        assert kept <= DEFAULT_CONTEXT_FRAMES + DEFAULT_CHUNK_FRAMES + DEFAULT_HOLDBACK_FRAMES


# ------------------------------------------------------------------------------------- continuation


@pytest.mark.parametrize("prompt_frames", [30, 60])  # shorter and longer than the 25-frame context
def test_skip_frames_continuation(engine, codes, full, prompt_frames):
    dec = StreamingDecoder(engine.model.audio_encoder, skip_frames=prompt_frames)
    assert dec.push(codes[..., :prompt_frames]) == []  # the prompt alone emits nothing
    assert dec._codes.shape[-1] <= DEFAULT_CONTEXT_FRAMES  # only the context part of the prompt is kept
    assert dec.first_chunk_frames == prompt_frames + DEFAULT_CHUNK_FRAMES + DEFAULT_HOLDBACK_FRAMES
    chunks = _push_frames(dec, codes[..., prompt_frames:], [1])
    _assert_tiled(chunks, (FRAMES - prompt_frames) * HOP)
    out = np.concatenate([c.audio for c in chunks], axis=-1)
    assert snr_db(full[..., prompt_frames * HOP :], out) >= MIN_SNR_DB
    assert dec.emitted_frames == FRAMES - prompt_frames


@pytest.mark.parametrize("steps", [5, UNEVEN_BURSTS])  # the prompt arrives in pieces, not at once
def test_skip_frames_helper(engine, codes, full, steps):
    prompt_frames = 40
    out = stream_decode(engine.model.audio_encoder, codes, steps=steps, skip_frames=prompt_frames)
    assert out.shape == (BATCH, 1, (FRAMES - prompt_frames) * HOP)
    assert snr_db(full[..., prompt_frames * HOP :], out) >= MIN_SNR_DB


# ------------------------------------------------------------------------------------------ stereo


@pytest.fixture(scope="module")
def stereo_engine():
    return load_engine("debug-stereo")


def test_stereo_take_streams_like_one_full_decode(stereo_engine, one_thread):
    """A stereo continuation streamed while the decode loop generates it: chunks are (takes, 2, n), the
    prompt is context only, and each channel matches one full decode of the take."""
    engine, p, n = stereo_engine, 30, 80
    prompt = torch.randint(0, CODEBOOK_SIZE, (8, p), generator=torch.Generator().manual_seed(4))
    chunks: list[Chunk] = []
    stream = engine.streaming_decoder(on_chunk=chunks.append, skip_frames=p)
    stream.push(prompt.expand(BATCH, -1, -1))
    codes = engine.generate(
        "x", n_frames=n, batch=BATCH, prompt_codes=prompt, seed=3, on_frames=lambda _i, c: stream.push(c)
    )
    stream.flush()
    assert len(chunks) > 2 and all(c.audio.shape[:2] == (BATCH, 2) for c in chunks)
    starts = [c.start_sample for c in chunks]
    assert starts == [0] + [c.end_sample for c in chunks[:-1]]  # tiled from the first new frame on
    out = np.concatenate([c.audio for c in chunks], axis=-1)
    full = engine.decode_codes(codes)[..., p * HOP :]
    assert out.shape == full.shape == (BATCH, 2, n * HOP)
    for channel in range(2):
        assert snr_db(full[:, channel], out[:, channel]) >= MIN_SNR_DB
    assert not torch.equal(codes[:, 0::2], codes[:, 1::2])  # two channels generated, not one copied
    assert np.abs(full[:, 0] - full[:, 1]).max() > 1e-3


def test_stereo_stream_decode_helper(stereo_engine, one_thread):
    frames = 80
    codes = torch.randint(0, CODEBOOK_SIZE, (BATCH, 8, frames), generator=torch.Generator().manual_seed(6))
    full = stereo_engine.decode_codes(codes)
    out = stream_decode(stereo_engine.model.audio_encoder, codes, steps=UNEVEN_BURSTS, channels=2)
    assert out.shape == full.shape == (BATCH, 2, frames * HOP)
    assert min(snr_db(full[:, c], out[:, c]) for c in range(2)) >= MIN_SNR_DB


# ------------------------------------------------------------------------------------ seams, flush


def test_crossfade_blends_disagreeing_windows():
    codec = WindowTaggedCodec()
    zeros = torch.zeros(BATCH, NUM_CODEBOOKS, 60, dtype=torch.long)
    crossfade = 64
    dec = StreamingDecoder(
        codec, chunk_frames=10, context_frames=4, holdback_frames=2, crossfade_samples=crossfade
    )
    chunks = _push_frames(dec, zeros, [1])
    for chunk in chunks[1:]:
        a = chunk.audio[0, 0]
        fade = a[:crossfade]
        # Previous window's value (index - 1) fades linearly into this window's (index).
        assert np.all(np.diff(fade) > 0)
        assert chunk.index - 1 < fade[0] < fade[-1] < chunk.index
        np.testing.assert_allclose(
            fade[: crossfade // 2].mean() + fade[crossfade // 2 :].mean(), 2 * chunk.index - 1, atol=1e-5
        )
        assert np.all(a[crossfade:] == chunk.index)
    hard = stream_decode(
        WindowTaggedCodec(), zeros, chunk_frames=10, context_frames=4, holdback_frames=2, crossfade_samples=0
    )
    assert hard[0, 0, 10 * HOP - 1] == 0 and hard[0, 0, 10 * HOP] == 1  # no crossfade: a step at the seam


def test_flush_short_stream_and_idempotent(engine, codes, full):
    dec = StreamingDecoder(engine.model.audio_encoder)
    assert dec.flush() == [] and dec.flush() == []
    with pytest.raises(RuntimeError):
        dec.push(codes[..., :1])

    dec = StreamingDecoder(engine.model.audio_encoder)
    short = 10  # fewer than chunk_frames: everything comes out at flush
    assert dec.push(codes[..., :short]) == []
    (chunk,) = dec.flush()
    assert chunk.num_samples == short * HOP
    assert snr_db(engine.decode_codes(codes[..., :short]), chunk.audio) >= MIN_SNR_DB
    assert dec.flush() == []


def test_push_rejects_bad_codes(engine, codes):
    dec = StreamingDecoder(engine.model.audio_encoder)
    with pytest.raises(ValueError):
        dec.push(codes[0])  # (K, n): batch dim missing
    with pytest.raises(ValueError):
        dec.push(codes[..., :2].float())
    dec.push(codes[..., :2])
    with pytest.raises(ValueError):
        dec.push(codes[:1, :, 2:3])  # batch changed


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(chunk_frames=0),
        dict(holdback_frames=-1),
        dict(context_frames=3, holdback_frames=4),
        dict(skip_frames=-1),
        dict(crossfade_samples=-1),
        dict(holdback_frames=0, crossfade_samples=64),  # no held-back overlap to fade over
        dict(holdback_frames=1, crossfade_samples=HOP + 1),
    ],
)
def test_argument_validation(engine, kwargs):
    with pytest.raises(ValueError):
        StreamingDecoder(engine.model.audio_encoder, **kwargs)


def test_valid_edge_arguments(engine, codes, full):
    """No holdback and no context is allowed (lowest latency), just less accurate at the seams."""
    short = 40
    out = stream_decode(
        engine.model.audio_encoder,
        codes[..., :short],
        chunk_frames=1,
        context_frames=0,
        holdback_frames=0,
        crossfade_samples=0,
    )
    assert out.shape == (BATCH, 1, short * HOP)


def test_snr_db():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((2, 1000)).astype(np.float32)
    assert snr_db(ref, ref) == math.inf
    assert snr_db(ref, ref * 1.1) == pytest.approx(20.0, abs=1e-4)  # noise = 0.1 * signal
    with pytest.raises(ValueError):
        snr_db(ref, ref[:, :-1])


# --------------------------------------------------------------------------------- real-size codec


@pytest.mark.slow
def test_real_size_codec_accuracy_and_speed():
    """The real EnCodec 32 kHz architecture (random weights; 2-layer LSTM), 30 s of random codes.

    Timed single-threaded in process CPU time: on a shared machine wall time mostly measures the
    neighbours; one thread makes CPU time equal to wall time on an idle machine. Best of two runs each.
    """
    torch.manual_seed(0)
    codec = transformers.EncodecModel(build_config(ARCHS["small"]).audio_encoder).eval()
    # EncodecModel's own init leaves every codebook at zero, so its audio would not depend on the codes at
    # all (a vacuous test). Give the codebooks N(0, 1) entries, as build_random_model's composite init does.
    gen = torch.Generator().manual_seed(2)
    for layer in codec.quantizer.layers:
        layer.codebook.embed.copy_(torch.randn(layer.codebook.embed.shape, generator=gen))
    frames = REAL_SECONDS * SAMPLE_RATE // HOP
    gen = torch.Generator().manual_seed(1)
    real_codes = torch.randint(0, CODEBOOK_SIZE, (1, NUM_CODEBOOKS, frames), generator=gen)  # (1, K, T)

    def full_decode(codes: torch.Tensor = real_codes) -> np.ndarray:
        with torch.inference_mode():
            return codec.decode(codes[None], [None]).audio_values[:, 0].numpy()  # (1, T * 640)

    probe = real_codes[..., :PROBE_FRAMES]
    assert np.abs(full_decode(probe) - full_decode((probe + 1) % CODEBOOK_SIZE)).max() > 0  # not vacuous

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        full_decode()  # warm-up
        full_s, stream_s, wall_full_s, wall_stream_s = [], [], [], []
        for _ in range(2):
            w, t = time.perf_counter(), time.process_time()
            ref = full_decode()
            full_s.append(time.process_time() - t)
            wall_full_s.append(time.perf_counter() - w)
            w, t = time.perf_counter(), time.process_time()
            out = stream_decode(codec, real_codes)[:, 0]  # defaults: chunk 25, context 25, holdback 4, fade 64
            stream_s.append(time.process_time() - t)
            wall_stream_s.append(time.perf_counter() - w)
    finally:
        torch.set_num_threads(threads)
    snr = snr_db(ref, out)
    ratio = min(stream_s) / min(full_s)
    print(
        f"\nreal-size EnCodec, {REAL_SECONDS} s, context {DEFAULT_CONTEXT_FRAMES} holdback "
        f"{DEFAULT_HOLDBACK_FRAMES} chunk {DEFAULT_CHUNK_FRAMES}: SNR {snr:.1f} dB, max |err| "
        f"{np.abs(ref - out).max():.1e}; full decode {min(full_s):.2f} s CPU ({min(wall_full_s):.2f} s wall), "
        f"streaming {min(stream_s):.2f} s CPU ({min(wall_stream_s):.2f} s wall), ratio {ratio:.2f}"
    )
    assert out.shape == ref.shape == (1, frames * HOP)
    assert snr >= MIN_SNR_DB
    assert ratio <= MAX_TIME_RATIO
