"""Fitting a take onto the song's grid: choose an N-bar downbeat-to-downbeat span and warp it beat by beat.

Output length is exactly round(bars * bar_quarters * 60/bpm * sr) samples (exact rationals, half-up, as in
bridge/audio/tempo.py), plus `tail_samples` that continue past the loop end for the later crossfade fold.
Every detected beat of the span becomes a knot of a piecewise-linear time map onto the exact grid, so a
take whose tempo wanders still lands each beat on its grid sample; between beats time runs linearly.

Modes: 'off' keeps the generated timing (today's cut); 'on' fits whatever tempo the model played; 'strict'
fits too, but marks a take more than `strict_tolerance_pct` off as 'too_far' so the caller can generate
it again (bridge.pipeline does, up to GRID_MAX_ATTEMPTS) and, at the limit, keep the closest (`closest_take`). Beatless takes (pads,
drones, noise: low analysis confidence) and silence keep the generated timing, status 'beatless'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bridge.audio.beats import BeatAnalysis, GridError, analyze, check_analysable, to_mono
from bridge.audio.tempo import QUARTERS_PER_WHOLE, LoopError, TimeSignature, loop_samples
from bridge.audio.warp import warp
from bridge.limits import DEFAULT_GRID_TOLERANCE_PCT, GRID_MODES

__all__ = ["GridError", "GridFit", "fit", "loop_length", "closest_take", "summary_line"]

MODES = GRID_MODES
STATUSES = ("on_grid", "beatless", "off", "too_far")
DEFAULT_STRICT_TOLERANCE_PCT = DEFAULT_GRID_TOLERANCE_PCT  # percent of the requested tempo
INTRO_COST = 0.02  # span cost added to the first bar of the take: the model's intro bar is often loose
LATER_COST = 0.001  # per bar of delay: among equal spans, take the earlier
MISSING_BEAT_COST = 0.05  # per beat of the span that had to be extrapolated past the tracked beats
UNSUPPORTED_COST = 0.1  # times the share of span beats with no attack of their own
EDGE_PERIODS = 4  # beats used to extrapolate the tempo past the tracked beats


@dataclass(frozen=True)
class GridFit:
    """A fitted take and what was measured. `audio` is (loop_samples + tail_samples,) or
    (channels, loop_samples + tail_samples)."""

    audio: np.ndarray
    loop_samples: int
    tail_samples: int
    status: str  # one of STATUSES
    message: str
    played_bpm: float | None  # tempo the take played over the span, quarter notes per minute
    ratio: float  # output duration / input duration of the span (> 1: slowed down)
    first_downbeat: float | None  # seconds in the input that became output sample 0
    confidence: float  # 0..1
    shift_beats: float = 0.0
    src_knots: tuple[float, ...] = ()  # time map: input samples ...
    dst_knots: tuple[float, ...] = ()  # ... at these output samples

    def report(self) -> dict:
        """JSON-ready summary for the `done` reply and `grid --json`."""
        return {
            "status": self.status,
            "message": self.message,
            "played_bpm": None if self.played_bpm is None else round(self.played_bpm, 3),
            "ratio": round(self.ratio, 6),
            "first_downbeat": None if self.first_downbeat is None else round(self.first_downbeat, 6),
            "confidence": round(self.confidence, 3),
            "shift_beats": self.shift_beats,
        }


def loop_length(bars: int, bpm: float, beats_per_bar: int, beat_quarters: float, sr: int) -> int:
    """round(bars * bar_quarters * 60/bpm * sr), exactly as `bridge.audio.tempo.loop_samples` computes it,
    for a meter given as beats per bar and quarter notes per beat (6/8: 6 beats of 0.5)."""
    if bars < 1 or bpm <= 0 or beats_per_bar < 1 or beat_quarters <= 0 or sr <= 0:
        raise GridError(f"bad loop: bars={bars}, bpm={bpm}, meter={beats_per_bar}x{beat_quarters}, sr={sr}")
    try:
        meter = TimeSignature(beats_per_bar, int(round(QUARTERS_PER_WHOLE / beat_quarters)))
        return loop_samples(bars, bpm, meter, sr)
    except LoopError as e:
        raise GridError(str(e)) from e


def plain_cut(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    """audio[..., start : start + length] as float32, zero-padded at the end where the audio is shorter."""
    x = np.asarray(audio, dtype=np.float32)
    out = np.zeros(x.shape[:-1] + (length,), np.float32)
    piece = x[..., max(0, start) : max(0, start) + length]
    out[..., : piece.shape[-1]] = piece
    return out


def fit(
    audio: np.ndarray,
    sr: int,
    bpm: float,
    bars: int,
    beats_per_bar: int,
    beat_quarters: float,
    *,
    analysis: BeatAnalysis | None = None,
    shift_beats: float = 0.0,
    mode: str = "on",
    strict_tolerance_pct: float = DEFAULT_STRICT_TOLERANCE_PCT,
    known_downbeat: float | None = None,
    tail_samples: int = 0,
    margin_samples: int | None = None,
) -> GridFit:
    """Fit `audio` (n,) or (channels, n) at `sr` Hz onto `bars` bars of the grid at `bpm` (quarter notes/min).

    shift_beats moves the bar line: +1 starts the loop one beat later in the take (may be fractional).
    known_downbeat (seconds) fixes the bar phase (continuation); only the tempo drift is then corrected.
    margin_samples is where today's plain cut starts (default: one bar at the requested tempo).
    """
    if mode not in MODES:
        raise GridError(f"grid mode must be one of {', '.join(MODES)}, got {mode!r}")
    if tail_samples < 0:
        raise GridError(f"tail_samples must be >= 0, got {tail_samples}")
    loop_len = loop_length(bars, bpm, beats_per_bar, beat_quarters, sr)
    bar_samples = loop_len / bars
    margin = int(round(bar_samples)) if margin_samples is None else int(margin_samples)
    mono = to_mono(audio)
    need = loop_len + tail_samples
    start = min(margin, max(0, len(mono) - need))
    if mode == "off":
        return _plain(audio, start, loop_len, tail_samples, "off", "grid off: kept the generated timing")
    if len(mono) and float(np.sqrt(np.mean(mono**2))) < 1e-5:
        return _plain(audio, start, loop_len, tail_samples, "beatless", "silent: kept the generated timing")
    check_analysable(mono, sr)
    a = analysis or analyze(audio, sr, bpm, beats_per_bar, beat_quarters, known_downbeat=known_downbeat)
    if a.beatless:
        return _plain(audio, start, loop_len, tail_samples, "beatless", "beatless: kept the generated timing",
                      confidence=a.confidence)
    beats = np.asarray(a.beat_times)
    first = choose_span(a, bars, known_downbeat)
    if first is None:
        return _plain(audio, start, loop_len, tail_samples, "beatless",
                      "too few beats for the loop: kept the generated timing", confidence=a.confidence)
    return _warp_span(audio, sr, a, beats, first, loop_len, tail_samples, bpm, bars, shift_beats, mode,
                      strict_tolerance_pct)


def _plain(audio, start, loop_len, tail, status, message, confidence=0.0) -> GridFit:
    return GridFit(plain_cut(audio, start, loop_len + tail), loop_len, tail, status, message, None, 1.0,
                   None, confidence)


def beat_time(beats: np.ndarray, q: np.ndarray | float) -> np.ndarray:
    """Seconds of fractional beat index q: linear between tracked beats, the edge tempo beyond them."""
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    idx = np.arange(len(beats))
    out = np.interp(q, idx, beats)
    k = min(EDGE_PERIODS, len(beats) - 1)
    head, tail = (beats[k] - beats[0]) / k, (beats[-1] - beats[-1 - k]) / k
    out[q < 0] = beats[0] + q[q < 0] * head
    late = q > len(beats) - 1
    out[late] = beats[-1] + (q[late] - (len(beats) - 1)) * tail
    return out


def choose_span(a: BeatAnalysis, bars: int, known_downbeat: float | None = None) -> int | None:
    """Beat index of the downbeat that starts the most regular `bars`-bar span, or None if none fits."""
    beats, per_bar = np.asarray(a.beat_times), a.beats_per_bar
    span = bars * per_bar
    supported = np.asarray(a.supported, dtype=float)
    best, best_cost = None, math.inf
    for n, d in enumerate(a.downbeat_indices):
        missing = max(0, d + span - (len(beats) - 1))
        if missing > per_bar:
            break
        times = beat_time(beats, np.arange(d, d + span + 1))
        period = (times[-1] - times[0]) / span
        jitter = float(np.std(np.diff(times, 2)) / period) if span >= 2 else 0.0
        cost = jitter + MISSING_BEAT_COST * missing + LATER_COST * n
        cost += UNSUPPORTED_COST * (1.0 - supported[d : d + span].mean())
        if n == 0 and known_downbeat is None and len(a.downbeat_indices) > 1:
            cost += INTRO_COST
        if cost < best_cost:
            best, best_cost = d, cost
    return best


def _warp_span(audio, sr, a, beats, first, loop_len, tail, bpm, bars, shift, mode, tolerance) -> GridFit:
    per_bar = a.beats_per_bar
    grid_beat = a.beat_quarters * 60.0 / bpm * sr  # output samples per beat
    q0 = first + float(shift)
    q_end = q0 + (loop_len + tail) / grid_beat
    q = np.concatenate([[q0 - 1.0], np.arange(math.floor(q0), math.ceil(q_end) + 1), [q_end + 1.0]])
    q = np.unique(q)
    src = beat_time(beats, q) * sr
    dst = (q - q0) * grid_beat
    out = warp(audio, src, dst, loop_len + tail, sr)
    span = beat_time(beats, np.array([q0, q0 + bars * per_bar])) * sr
    ratio = float(bars * per_bar * grid_beat / (span[1] - span[0]))
    played = bpm * ratio  # ratio = played tempo / grid tempo
    first_s = float(span[0] / sr)
    status, message = "on_grid", f"on grid (played {played:.1f} bpm)"
    off_pct = abs(played / bpm - 1.0) * 100.0
    if mode == "strict" and off_pct > tolerance:
        status = "too_far"
        message = f"too far off: played {played:.1f} bpm, {off_pct:.1f} % from {bpm:g}"
    return GridFit(out, loop_len, tail, status, message, played, ratio, first_s, a.confidence, float(shift),
                   tuple(float(v) for v in src), tuple(float(v) for v in dst))


def closest_take(results: list[GridFit], bpm: float) -> GridFit:
    """The take whose played tempo is nearest the request (beatless takes last), for when retries run out."""
    if not results:
        raise GridError("no takes to choose from")
    return min(results, key=lambda r: math.inf if r.played_bpm is None else abs(r.played_bpm / bpm - 1.0))


def summary_line(report: dict) -> str:
    """One line for people, from `GridFit.report()` (plus an optional take number and attempt count):
    'take 2: on grid (played 121.7 bpm), stretched x0.986, bar line at 1.03 s, confidence 0.82'."""
    parts = [report["message"]]
    if report.get("played_bpm") is not None:
        parts.append(f"stretched x{report['ratio']:.3f}")
    if report.get("first_downbeat") is not None:
        parts.append(f"bar line at {report['first_downbeat']:.2f} s")
    parts.append(f"confidence {report['confidence']:.2f}")
    if report.get("attempts", 1) > 1:
        parts.append(f"{report['attempts']} attempts")
    text = ", ".join(parts)
    return f"take {report['take']}: {text}" if "take" in report else text
