"""The decode after generation, interruptible: a cancel (or a daemon shutting down) stops it within one
bounded piece instead of waiting for one long EnCodec call that nothing can stop.

    streamed chunks (previews)  ─> concatenated: they already tile the generated audio (no decode at all)
    otherwise                    ─> StreamingDecoder over PIECE_FRAMES pieces, `cancel` checked between them

Both match one full decode to within the streaming decoder's tolerance (bridge.engine.streaming: bounded
LSTM context, crossfaded seams). Audio keeps the decoder's layout, (batch, [channels,] samples); only the
last axis is joined, so mono and stereo codecs go through unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch

from bridge.engine.streaming import Chunk, StreamingDecoder
from bridge.engine.types import Cancelled

PIECE_FRAMES = 250  # 5 s of codes per decode call: the longest stretch a cancel waits for


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def from_chunks(chunks: Sequence[Chunk], skip_samples: int, total_samples: int) -> np.ndarray | None:
    """The streamed chunks joined into (batch, [channels,] total_samples), the `skip_samples` of the
    prompt (never streamed) left silent; None if they do not tile the audio exactly."""
    if not chunks:
        return None
    body = np.concatenate([c.audio for c in chunks], axis=-1)
    if chunks[0].start_sample != 0 or skip_samples + body.shape[-1] != total_samples:
        return None
    if skip_samples == 0:
        return body
    head = np.zeros((*body.shape[:-1], skip_samples), dtype=body.dtype)
    return np.concatenate([head, body], axis=-1)


def decode_in_pieces(
    decoder: StreamingDecoder,
    codes: torch.Tensor,
    cancel: threading.Event | None = None,
    piece_frames: int = PIECE_FRAMES,
) -> np.ndarray:
    """codes (B, K, T) => audio (B, [channels,] T * hop) through `decoder` (fresh, skip_frames 0), fed
    `piece_frames` at a time; raises Cancelled between pieces once `cancel` is set."""
    chunks: list[Chunk] = []
    total = int(codes.shape[-1])
    for start in range(0, total, piece_frames):
        _check(cancel)
        chunks += decoder.push(codes[..., start : start + piece_frames])
    _check(cancel)
    chunks += decoder.flush()
    return np.concatenate([c.audio for c in chunks], axis=-1)
