"""Tempo and loop math: bar-exact lengths, a seamless wrap, and loudness (DESIGN.md §1, §3).

Pure functions over numpy arrays; no torch. Audio layout for the whole project: float32 arrays shaped
(channels, samples); functions here also accept 1-D (samples,) where noted.

Lengths are computed with exact rational arithmetic (`fractions.Fraction`) and rounded once, at the
end, so a 64-bar loop at 123.45 bpm is exactly as long as the DAW expects — no per-bar drift.
Rounding is half-up (half away from zero; all lengths are positive): a length landing exactly on
x.5 samples becomes x+1, whatever the parity of x (Python's `round` would go half-even).

A "beat" is a quarter note, as in Ableton Live's tempo: a 6/8 bar is 3 beats, a 7/8 bar 3.5 beats.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyloudnorm

from bridge.limits import DEFAULT_LOUDNESS_LUFS, DEFAULT_PEAK_DBFS

DEFAULT_FADE_SECONDS = 0.05  # seconds of equal-power crossfade at the loop seam
LOUDNESS_BLOCK_SECONDS = 0.4  # seconds: pyloudnorm's gating block; shorter audio has no loudness
QUARTERS_PER_WHOLE = 4  # a whole note is four quarter-note beats
SECONDS_PER_MINUTE = 60

MIN_NUMERATOR = 1
MAX_NUMERATOR = 32
ALLOWED_DENOMINATORS = (1, 2, 4, 8, 16, 32)

_TIME_SIGNATURE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

Number = int | float | Fraction


class LoopError(ValueError):
    """Bad tempo, bar count, time signature or audio shape for loop math."""


@dataclass(frozen=True)
class TimeSignature:
    """A time signature such as 4/4 or 7/8; validated on construction."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.numerator, bool) or not isinstance(self.numerator, int):
            raise LoopError(f"time signature numerator must be an integer, got {self.numerator!r}")
        if isinstance(self.denominator, bool) or not isinstance(self.denominator, int):
            raise LoopError(f"time signature denominator must be an integer, got {self.denominator!r}")
        if not MIN_NUMERATOR <= self.numerator <= MAX_NUMERATOR:
            raise LoopError(
                f"time signature numerator must be {MIN_NUMERATOR}..{MAX_NUMERATOR}, got {self.numerator}"
            )
        if self.denominator not in ALLOWED_DENOMINATORS:
            allowed = ", ".join(map(str, ALLOWED_DENOMINATORS))
            raise LoopError(f"time signature denominator must be one of {allowed}, got {self.denominator}")

    @classmethod
    def parse(cls, text: str) -> TimeSignature:
        """Parse "N/D" text, e.g. "4/4", "6/8", "7/8", as typed by a user or sent by the DAW."""
        match = _TIME_SIGNATURE_RE.match(text) if isinstance(text, str) else None
        if match is None:
            raise LoopError(f"time signature must look like '4/4' or '6/8', got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def bar_quarters(self) -> Fraction:
        """Length of one bar in quarter-note beats (the unit of the DAW's tempo)."""
        return Fraction(self.numerator * QUARTERS_PER_WHOLE, self.denominator)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


COMMON_TIME = TimeSignature(4, 4)


def exact(value: Number, name: str = "value") -> Fraction:
    """The exact rational a user meant: floats go through their shortest repr, so 123.45 -> 12345/100."""
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        raise LoopError(f"{name} must be a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LoopError(f"{name} must be finite, got {value!r}")
        return Fraction(repr(value))
    return Fraction(value)


def _positive(value: Number, name: str) -> Fraction:
    result = exact(value, name)
    if result <= 0:
        raise LoopError(f"{name} must be positive, got {value!r}")
    return result


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise LoopError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves up (away from zero for the positive lengths used here)."""
    return math.floor(value + Fraction(1, 2))


def beat_seconds(bpm: Number) -> Fraction:
    """Exact length of one quarter-note beat in seconds."""
    return SECONDS_PER_MINUTE / _positive(bpm, "bpm")


def loop_seconds(bars: int, bpm: Number, ts: TimeSignature = COMMON_TIME) -> Fraction:
    """Exact length of `bars` bars in seconds."""
    return _positive_int(bars, "bars") * ts.bar_quarters * beat_seconds(bpm)


def seconds_to_samples(seconds: Number, sample_rate: int) -> int:
    """Seconds to a whole number of samples, computed exactly and rounded half-up once."""
    secs = exact(seconds, "seconds")
    if secs < 0:
        raise LoopError(f"seconds must not be negative, got {seconds!r}")
    return round_half_up(secs * _positive_int(sample_rate, "sample_rate"))


def loop_samples(bars: int, bpm: Number, ts: TimeSignature, sample_rate: int) -> int:
    """Exact loop length in samples: round(bars * bar_quarters * 60/bpm * sr), rounded once (half-up)."""
    return seconds_to_samples(loop_seconds(bars, bpm, ts), sample_rate)


def whole_beats_seconds(seconds: Number, bpm: Number) -> Fraction:
    """Longest duration <= `seconds` that is a whole number of beats, to beat-align an audio prompt."""
    secs = exact(seconds, "seconds")
    beat = beat_seconds(bpm)
    beats = math.floor(secs / beat)
    if beats < 1:
        raise LoopError(f"{float(secs):.3f} s is shorter than one beat ({float(beat):.3f} s) at {bpm} bpm")
    return beats * beat


def equal_power_gains(fade_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(fade_in, fade_out) gains with fade_in**2 + fade_out**2 == 1, sampled at t = (i + 0.5) / fade_len."""
    if fade_len < 0:
        raise LoopError(f"fade_len must not be negative, got {fade_len}")
    t = (np.arange(fade_len, dtype=np.float64) + 0.5) / max(fade_len, 1)
    return np.sin(0.5 * np.pi * t), np.cos(0.5 * np.pi * t)


def _float_array(audio: np.ndarray) -> np.ndarray:
    array = np.asarray(audio)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
    return array


def fold_tail(audio: np.ndarray, loop_len: int, fade_len: int) -> np.ndarray:
    """Cut `audio` (..., n) to (..., loop_len) so it wraps without a click.

    The audio just past the loop end (audio[..., loop_len:loop_len + fade_len]) is what naturally
    follows the last sample, so it is crossfaded (equal power) into the head: the first output sample
    is ~audio[loop_len] and playback wraps from audio[loop_len - 1] into it seamlessly.
    fade_len == 0 gives a plain cut. Equal power keeps uncorrelated material at constant loudness.
    """
    array = _float_array(audio)
    loop_len = _positive_int(loop_len, "loop_len")
    if isinstance(fade_len, bool) or not isinstance(fade_len, int | np.integer) or fade_len < 0:
        raise LoopError(f"fade_len must be a non-negative integer, got {fade_len!r}")
    if array.ndim < 1:
        raise LoopError("audio must have a samples axis")
    if fade_len > loop_len:
        raise LoopError(f"fade_len ({fade_len}) must not exceed loop_len ({loop_len})")
    n = array.shape[-1]
    if n < loop_len + fade_len:
        raise LoopError(
            f"audio has {n} samples; need loop_len + fade_len = {loop_len + fade_len} to fold the tail"
        )
    out = array[..., :loop_len].copy()
    if fade_len:
        fade_in, fade_out = equal_power_gains(fade_len)
        head = array[..., :fade_len].astype(np.float64)
        tail = array[..., loop_len : loop_len + fade_len].astype(np.float64)
        out[..., :fade_len] = head * fade_in + tail * fade_out
    return out


def remove_dc(audio: np.ndarray) -> np.ndarray:
    """Subtract each channel's mean over the loop, so the loop has no DC offset (no thump at the wrap)."""
    array = _float_array(audio)
    if array.shape[-1] == 0:
        return array.copy()
    return (array - array.mean(axis=-1, keepdims=True, dtype=np.float64)).astype(array.dtype)


def _require_finite(array: np.ndarray) -> None:
    if not np.all(np.isfinite(array)):
        raise LoopError("audio contains NaN or infinite samples")


def apply_peak_ceiling(audio: np.ndarray, peak_dbfs: float = DEFAULT_PEAK_DBFS) -> np.ndarray:
    """Scale down (never up) so the sample peak is at most `peak_dbfs`."""
    array = _float_array(audio)
    _require_finite(array)
    ceiling = 10.0 ** (peak_dbfs / 20.0)
    peak = float(np.max(np.abs(array))) if array.size else 0.0
    if peak <= ceiling:
        return array.copy()
    return (array * (ceiling / peak)).astype(array.dtype)


def integrated_loudness(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS; -inf for silence or audio shorter than one 0.4 s gating block."""
    array = _float_array(audio)
    _require_finite(array)
    if array.ndim not in (1, 2):
        raise LoopError(f"audio must be (samples,) or (channels, samples), got shape {array.shape}")
    sr = _positive_int(sr, "sr")
    if array.shape[-1] < LOUDNESS_BLOCK_SECONDS * sr:
        return -math.inf
    layout = array if array.ndim == 1 else array.T  # pyloudnorm wants (samples, channels)
    return float(pyloudnorm.Meter(sr).integrated_loudness(layout.astype(np.float64)))


def normalize_loudness(
    audio: np.ndarray,
    sr: int,
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
    peak_dbfs: float = DEFAULT_PEAK_DBFS,
) -> np.ndarray:
    """Gain to `target_lufs`, then cap the sample peak at `peak_dbfs`.

    Silence and clips too short to measure get no gain (amplifying a noise floor would be wrong),
    but still get the peak ceiling. To skip normalisation, don't call this.
    """
    loudness = integrated_loudness(audio, sr)
    array = _float_array(audio)
    if math.isfinite(loudness):
        gain = 10.0 ** ((target_lufs - loudness) / 20.0)
        array = (array * gain).astype(array.dtype)
    return apply_peak_ceiling(array, peak_dbfs)


def wrap_discontinuity(audio: np.ndarray) -> float:
    """Largest jump across the loop seam, |last - first| over channels (a click metric)."""
    array = np.asarray(audio, dtype=np.float64)
    return float(np.max(np.abs(array[..., 0] - array[..., -1])))


def typical_step(audio: np.ndarray, percentile: float = 99.0) -> float:
    """A typical large sample-to-sample change inside the audio, to compare the seam's jump against."""
    array = np.asarray(audio, dtype=np.float64)
    return float(np.percentile(np.abs(np.diff(array, axis=-1)), percentile))
