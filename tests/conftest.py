"""Shared fixtures: one debug engine per test session, and small audio files written on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network


@pytest.fixture(scope="session")
def debug_engine():
    from bridge.engine.loading import load_engine

    return load_engine("debug", device="cpu")


def tone(freq: float, seconds: float, sr: int, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """(samples,) or (samples, channels) sine, the layout soundfile writes."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return x if channels == 1 else np.repeat(x[:, None], channels, axis=1)


@pytest.fixture
def clip(tmp_path: Path):
    """Factory: clip(freq, seconds, sr, channels, fmt) -> path of a tone written in that format."""

    def make(
        freq: float = 440.0,
        seconds: float = 4.0,
        sr: int = 44100,
        channels: int = 1,
        fmt: str = "wav",
        name: str | None = None,
    ) -> Path:
        path = tmp_path / (name or f"clip_{int(freq)}_{sr}_{channels}.{fmt}")
        sf.write(path, tone(freq, seconds, sr, channels), sr)
        return path

    return make
