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


def _note(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _harmonic(freq: float, n: int, amp: float, harmonics: int = 4) -> np.ndarray:
    t = np.arange(n) / SR
    return sum(amp / h * np.sin(2 * np.pi * freq * h * t) for h in range(1, harmonics + 1))


def chroma_cases() -> dict[str, np.ndarray]:
    """Deterministic 32 kHz inputs (float32; (samples,) or (2, samples)) for the chroma reference fixtures
    made by scripts/make_chroma_fixtures.py with transformers' MusicgenMelodyFeatureExtractor."""
    rng = np.random.default_rng(20261202)
    cases: dict[str, np.ndarray] = {
        "tone_a4": sine(440.0, 3.0),
        "tone_c3": sine(_note(48), 2.0),
        "short_tone": sine(_note(64), 0.3),  # under one 16384-sample window: the centred zero pad
        "chord_c_major": sum(_harmonic(_note(m), 4 * SR, 0.25) for m in (60, 64, 67)),
        "noise": 0.3 * rng.standard_normal(3 * SR),
    }
    # four chords of 0.75 s (C, Am, F, G), roots and thirds as harmonic tones, plus a little noise
    bars = [(48, 52, 55), (45, 48, 52), (41, 45, 48), (43, 47, 50)]
    seg = int(0.75 * SR)
    prog = np.concatenate([sum(_harmonic(_note(m), seg, 0.3) for m in chord) for chord in bars] * 2)
    cases["progression"] = prog + 0.02 * rng.standard_normal(prog.size)
    left = sine(_note(69), 5.0)  # A on the left, a C# minor triad on the right
    right = sum(_harmonic(_note(m), 5 * SR, 0.2) for m in (61, 64, 68))
    cases["stereo"] = np.stack([left, right])
    # over the extractor's 30 s: a melody of 0.5 s notes (a pentatonic walk) over a soft drone
    n = int(31.5 * SR)
    walk = np.cumsum(rng.integers(-2, 3, size=int(31.5 / 0.5) + 1)) % 5
    pent = np.array([60, 62, 64, 67, 69])
    notes = pent[walk]
    per = int(0.5 * SR)
    melody = np.concatenate([_harmonic(_note(m), per, 0.4) for m in notes])[:n]
    cases["long_31s"] = melody + _harmonic(_note(36), n, 0.1) + 0.01 * rng.standard_normal(n)
    return {k: np.asarray(v, dtype=np.float32) for k, v in cases.items()}
