"""Test signals at 32 kHz: sines, click tracks, and onset times to check where beats land."""

from __future__ import annotations

import numpy as np

SR = 32000


def sine(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def clicks(bpm: float, beats: int) -> np.ndarray:
    """A decaying 1 kHz blip on every beat, starting at 0."""
    period = int(round(60 / bpm * SR))
    blip = sine(1000.0, 0.02, 0.8) * np.exp(-np.arange(int(0.02 * SR)) / (0.004 * SR)).astype(np.float32)
    x = np.zeros(period * beats, np.float32)
    for b in range(beats):
        x[b * period : b * period + len(blip)] += blip
    return x


def onsets(x: np.ndarray, threshold: float = 0.2) -> np.ndarray:
    """Times (s) where the signal first exceeds the threshold after >= 0.2 s below it."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    starts = loud[np.concatenate([[True], np.diff(loud) > 0.2 * SR])]
    return starts / SR
