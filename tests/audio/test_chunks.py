"""Streamed preview chunks as small 32 kHz WAV files (the daemon's job folders and `--stream-dir`)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from osc_client import FakeChunk

from bridge.audio.chunks import CHUNK_SAMPLE_RATE, write_chunk
from bridge.audio.io import AudioError
from bridge.engine.streaming import Chunk
from bridge.limits import MODEL_SAMPLE_RATE


def test_write_chunk_writes_take_one_at_32k(tmp_path):
    audio = np.stack([np.full(6400, 0.25, np.float32), np.full(6400, -0.25, np.float32)])
    path, start = write_chunk(tmp_path / "job", FakeChunk(2, 64000, audio))
    assert path == tmp_path / "job" / "chunk-0002.wav" and start == 2.0
    data, sr = sf.read(path, dtype="float32")
    assert sr == 32000 and data.shape == (6400,) and abs(data.mean() - 0.25) < 1e-3
    with pytest.raises(AudioError, match="already exists"):  # never over an existing file
        write_chunk(tmp_path / "job", FakeChunk(2, 64000, audio))


def test_write_chunk_takes_the_streaming_modules_chunks(tmp_path):
    chunk = Chunk(index=0, start_sample=16000, audio=np.zeros((2, 3200), np.float32))
    path, start = write_chunk(tmp_path, chunk)
    assert start == 0.5 and sf.info(path).frames == 3200


def test_chunks_are_at_the_models_rate():
    assert CHUNK_SAMPLE_RATE == MODEL_SAMPLE_RATE == 32000
