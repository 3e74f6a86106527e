"""Streamed preview chunks as small WAV files: `chunk-NNNN.wav`, one per decoded piece of a take.

The daemon writes take 1 of each chunk into its job's folder (`bridge.daemon.jobs`); `generate
--stream-dir` writes every take (`bridge.commands.generate`). Chunks are the model's native audio, before tail folding
and loudness; each file is written atomically and never over an existing one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bridge.audio.io import write_wav_atomic
from bridge.limits import MODEL_SAMPLE_RATE

CHUNK_SAMPLE_RATE = MODEL_SAMPLE_RATE  # Hz: chunks are the model's native audio
CHUNK_SUBTYPE = "PCM_16"


def write_chunk(folder: Path, chunk: Any, take: int = 0, suffix: str = "") -> tuple[Path, float]:
    """Write one take (default: the first) of a streamed chunk as a small 32 kHz WAV
    `folder/chunk-NNNN<suffix>.wav` (atomically, never over an existing file); returns its path and where
    it starts, in seconds. The daemon writes take 1 into each job's folder, `generate --stream-dir` all.

    `chunk` is a `bridge.engine.streaming.Chunk` (or anything with its index, start_sample at 32 kHz and
    audio (takes, channels, n), or (takes, n) for mono); typed loosely so writing chunks never imports the
    engine. A stereo take writes a stereo chunk."""
    index = int(chunk.index)
    if index < 0:
        raise ValueError(f"chunk index must be >= 0, got {index}")
    audio = np.asarray(chunk.audio, dtype=np.float32)
    if audio.ndim not in (1, 2, 3):
        raise ValueError(f"chunk audio must be (takes, channels, n), (takes, n) or (n,), got {audio.shape}")
    samples = audio[take] if audio.ndim >= 2 else audio  # (channels, n) or (n,)
    folder.mkdir(parents=True, exist_ok=True)
    path = write_wav_atomic(
        folder / f"chunk-{index:04d}{suffix}.wav", samples, CHUNK_SAMPLE_RATE, CHUNK_SUBTYPE
    )
    return path, int(chunk.start_sample) / CHUNK_SAMPLE_RATE
