"""Seeded test material for the grid: drum hits, basslines and pads played on a (drifting) beat clock.

A `Take` knows where every hit really is, in seconds and in musical position (beats from the take's
first downbeat, swing included), so a test can say where each hit must land after fitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SR = 32000  # Hz, MusicGen's rate
ATTACK = 0.0002  # s: hits start within 0.2 ms, so "where the hit is" is unambiguous


@dataclass(frozen=True)
class Hit:
    position: float  # beats from the take's first downbeat (may be negative: a pickup)
    time: float  # seconds in the take
    kind: str


@dataclass(frozen=True)
class Take:
    audio: np.ndarray  # (samples,) or (2, samples) float32: the project's (channels, samples)
    hits: tuple[Hit, ...]
    downbeat: float  # seconds: where beat position 0 is
    beat_period: float  # seconds per beat at the start
    sr: int = SR
    extra: dict = field(default_factory=dict)


def _envelope(n: int, decay: float, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    return np.minimum(t / ATTACK, 1.0) * np.exp(-t / decay)


def kick(rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    freq = 48.0 + 110.0 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    click = rng.standard_normal(n) * np.exp(-t / 0.002) * 0.3
    return (np.cos(phase) + click) * _envelope(n, 0.12, sr)


def snare(rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    noise = np.diff(rng.standard_normal(n + 1)) * 0.5
    return (0.6 * noise + 0.5 * np.sin(2 * np.pi * 190 * t)) * _envelope(n, 0.06, sr)


def hat(rng: np.random.Generator, sr: int = SR, level: float = 0.25) -> np.ndarray:
    n = int(0.06 * sr)
    noise = np.diff(rng.standard_normal(n + 1), 2, prepend=0.0) * 0.3
    return level * noise * _envelope(n, 0.012, sr)


def crash(rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    n = int(1.2 * sr)
    noise = np.diff(rng.standard_normal(n + 1)) * 0.4
    return noise * _envelope(n, 0.45, sr)


def bass_note(freq: float, seconds: float, sr: int = SR) -> np.ndarray:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 6))
    env = np.minimum(t / 0.001, 1.0) * np.exp(-t / 0.4) * np.minimum(1.0, (n - np.arange(n)) / (0.01 * sr))
    return 0.5 * wave * env


def beat_clock(n_beats: int, period: float, drift: float = 0.0, start: float = 0.0) -> np.ndarray:
    """(n_beats + 1,) beat times: the period moves linearly by ±drift (fraction) across the take."""
    k = np.arange(n_beats)
    periods = period * (1.0 + drift * (2.0 * k / max(n_beats - 1, 1) - 1.0))
    return start + np.concatenate([[0.0], np.cumsum(periods)])


def at(clock: np.ndarray, position: float) -> float:
    """Seconds of a fractional beat index on the clock (linear inside a beat)."""
    return float(np.interp(position, np.arange(len(clock)), clock))


def render(events: list[tuple[float, np.ndarray]], seconds: float, sr: int = SR) -> np.ndarray:
    out = np.zeros(int(seconds * sr))
    for time, sound in events:
        i = int(round(time * sr))
        if 0 <= i < len(out):
            out[i : i + len(sound)] += sound[: len(out) - i]
    return out


def drum_take(
    bpm: float,
    beats_per_bar: int = 4,
    beat_quarters: float = 1.0,
    bars: int = 6,
    tempo_factor: float = 1.0,
    drift: float = 0.0,
    lead: float = 0.0,
    swing: float = 0.0,
    feel: str = "normal",
    marker: str | None = None,
    bass: bool = False,
    pickup: int = 0,
    seed: int = 0,
    stereo: bool = False,
) -> Take:
    """A drum pattern at `tempo_factor` x the requested tempo.

    feel: 'normal' (kick on 1 and the bar's middle, snare between), 'half' (snare only mid-bar, kick on 1),
    'double' (snare every beat, 16th hats). marker: 'bass' or 'crash' on every bar's beat 1, with the
    kicks on 1 and 3 alike. swing: how late the off 16ths are, in 16ths (0.33 = triplet feel).
    pickup: beats of the bar before the first downbeat that are played (from `lead` seconds on).
    """
    rng = np.random.default_rng(seed)
    period = beat_quarters * 60.0 / (bpm * tempo_factor)
    n_beats = bars * beats_per_bar
    clock = beat_clock(n_beats + pickup + 2, period, drift, start=lead)
    kit = {"kick": kick(rng), "snare": snare(rng), "crash": crash(rng)}
    events, hits = [], []
    sub = 4 if feel == "double" or beat_quarters == 1.0 else 2
    kick_at, snare_at = _pattern(beats_per_bar, beat_quarters, feel)
    notes = [55.0, 73.42, 65.41, 49.0]
    for b in range(-pickup, n_beats):
        in_bar = b % beats_per_bar
        kinds = (["kick"] if in_bar in kick_at else []) + (["snare"] if in_bar in snare_at else [])
        if in_bar == 0 and marker == "crash":
            kinds.append("crash")
        for kind in kinds:
            t = at(clock, b + pickup)
            events.append((t, kit[kind]))
            hits.append(Hit(float(b), t, kind))
        if bass and in_bar == 0 or marker == "bass" and in_bar == 0:
            bar = b // beats_per_bar
            t = at(clock, b + pickup)
            events.append((t, bass_note(notes[bar % len(notes)], 0.9 * beats_per_bar * period)))
            hits.append(Hit(float(b), t, "bass"))
        for s in range(sub):
            pos = b + (s + (swing if s % 2 else 0.0)) / sub
            t = at(clock, pos + pickup)
            events.append((t, hat(rng, level=0.12 if s % 2 else 0.2)))
            hits.append(Hit(pos, t, "hat"))
    seconds = at(clock, n_beats + pickup + 2) + 0.3
    mono = render(events, seconds) * 0.5
    audio = np.stack([mono, 0.8 * mono]) if stereo else mono
    return Take(audio.astype(np.float32), tuple(hits), downbeat=at(clock, pickup), beat_period=period)


def _pattern(beats_per_bar: int, beat_quarters: float, feel: str) -> tuple[set[int], set[int]]:
    """(kick beats, snare beats) inside a bar."""
    if beat_quarters < 1.0 and beats_per_bar % 3 == 0:  # compound: 6/8, 9/8, 12/8 felt in threes
        groups = range(0, beats_per_bar, 3)
        return {g for g in groups if g % 6 == 0}, {g for g in groups if g % 6 == 3}
    if beat_quarters < 1.0:  # odd eighths, e.g. 7/8 as 2+2+3
        return {0, 4}, {2, 5}
    if beats_per_bar == 3:
        return {0}, {1, 2}
    half = (beats_per_bar + 1) // 2
    if feel == "half":
        return {0}, {half}
    if feel == "double":
        return {0, half}, set(range(beats_per_bar))
    return {0, half}, set(range(1, beats_per_bar, 2))


def pad(seconds: float, seed: int = 0, chord_seconds: float = 2.0) -> np.ndarray:
    """A slow-attack chord pad (no beat): detuned saws, chords crossfading every `chord_seconds`."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    chords = [(220.0, 277.18, 329.63), (196.0, 246.94, 293.66), (174.61, 220.0, 261.63)]
    out = np.zeros(n)
    for i, chord in enumerate(chords * int(seconds / chord_seconds / len(chords) + 2)):
        centre = i * chord_seconds
        weight = np.clip(1.0 - np.abs(t - centre) / chord_seconds, 0.0, 1.0) ** 2
        if not weight.any():
            continue
        for f in chord:
            for detune in (0.997, 1.003):
                ph = rng.uniform(0, 2 * np.pi)
                out += weight * np.sin(2 * np.pi * f * detune * t + ph) * 0.05
    return (out * np.minimum(t / 1.5, 1.0)).astype(np.float32)


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.2 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def measure_onsets(y: np.ndarray, expected: np.ndarray, reach: float = 0.015, sr: int = SR) -> np.ndarray:
    """Measured attack (samples) near each expected position (samples): the steepest 1 ms rise of the
    amplitude envelope of the twice-differentiated signal (hits are bright, bass is not). NaN off the edge.
    Independent of the code under test, which looks for the steepest dB rise of the plain signal."""
    mono = y if y.ndim == 1 else y.mean(axis=0)
    bright = np.diff(mono.astype(np.float64), 2, prepend=[0.0, 0.0])
    env = np.sqrt(np.convolve(bright**2, np.ones(16) / 16, mode="same"))
    d = int(0.001 * sr)
    rise = np.zeros_like(env)
    rise[d:] = env[d:] - env[:-d]
    out = np.full(len(expected), np.nan)
    for i, e in enumerate(expected):
        lo, hi = int(e - reach * sr), int(e + reach * sr)
        lo = max(lo, 0)
        if hi <= len(mono) and hi - lo > d:
            out[i] = lo + np.argmax(rise[lo:hi]) - d / 2
    return out


def measurable(take: Take) -> np.ndarray:
    """Mask of the take's hits whose attack the meter finds within 1 ms in the take itself."""
    times = np.array([h.time for h in take.hits]) * take.sr
    return np.abs(measure_onsets(take.audio, times) - times) < 0.001 * take.sr
