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


def test_a_stereo_take_writes_a_stereo_chunk(tmp_path):
    left, right = np.full(3200, 0.25, np.float32), np.full(3200, -0.5, np.float32)
    audio = np.stack([np.stack([left, right]), np.stack([right, left])])  # (takes, channels, n)
    path, _ = write_chunk(tmp_path, Chunk(index=1, start_sample=0, audio=audio), take=1, suffix="-take2")
    data, sr = sf.read(path, dtype="float32", always_2d=True)
    assert path.name == "chunk-0001-take2.wav" and sr == 32000 and data.shape == (3200, 2)
    assert abs(data[:, 0].mean() + 0.5) < 1e-3 and abs(data[:, 1].mean() - 0.25) < 1e-3  # take 2's channels
    with pytest.raises(ValueError, match="chunk audio"):
        write_chunk(tmp_path, Chunk(index=2, start_sample=0, audio=np.zeros((1, 1, 2, 10), np.float32)))
