"""MIDI clock follow: the tempo of an incoming MIDI clock (24 pulses per quarter note), robust to jitter.

    feed("clock", t) ─> pulse times of the current tempo ─> least squares  t = a + T·index ─> bpm = 60/(24 T)
                                        │
                                        └─ hinge test at 1/2, 1, 2, 4 beats back: does a tempo change
                                           explain the residuals better than jitter could?  yes ─> find
                                           where it happened, keep only the pulses since then

While the tempo holds, the fit grows to MAX_WINDOW_PULSES (12 beats): with independent timing jitter of σ
seconds the slope's standard error falls as N^-1.5, which is what beats jitter (least squares is the
best unbiased estimate here; no filter can do better over the same pulses). A tempo change, even of
1 bpm, is detected within about a beat and the fit restarts where it happened: with 1 ms jitter a new
tempo is read within ±1 bpm after about half a beat (at worst ~1.2 beats) and within ±0.1 bpm after
about two (at worst ~5 at 200 bpm). The residuals are clipped for the change test and the fit drops
outliers, so one late pulse (a busy OS or Python thread) is neither a tempo change nor a bias.

Segments: `start` and `continue` may shift the clock's phase, and a pause longer than DROPOUT_SECONDS
means the clock went away, so both begin a new segment. Across start/continue the last tempo is held
until the new segment locks (also when the master paused its clock while stopped); after a drop-out
without them there is no tempo (`bpm` is None) until it locks again.
`stop` only clears `running`: many masters keep sending clock while stopped, and the tempo stays valid.

Timestamps are seconds on any monotonic clock (time.monotonic, or the MIDI driver's own timestamps);
mido's `Message.time` of live input is not a timestamp. One thread feeds a ClockFollower; another may
read `bpm` (it only reads one reference). numpy only; ~0.1 ms per pulse.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bridge.limits import MAX_BPM, MIN_BPM  # outside this range an estimate is not a tempo

PULSES_PER_QUARTER = 24  # MIDI clock resolution
SIXTEENTHS_TO_PULSES = 6  # the song position pointer counts sixteenth notes
DROPOUT_SECONDS = 0.5  # no pulse for this long: the clock is gone (at 20 bpm pulses come every 0.125 s)
LOCK_PULSES = 24  # one beat of pulses before a segment's first estimate
MIN_TEST_PULSES = 12  # pulses of the old tempo needed before a change can be tested for
MAX_WINDOW_PULSES = 12 * PULSES_PER_QUARTER  # the longest fit while the tempo holds: 12 beats
CHANGE_LAGS = (12, 24, 48, 96)  # pulses back at which a tempo change is tested for (1/2 to 4 beats)
CHANGE_Z = 5.0  # a change must explain this many standard errors (no false alarm in 2 h of 200 bpm clock)
CONFIRM_PULSES = 3  # the change test must hold on this many pulses in a row (a burst of jitter does not)
CLIP_Z = 3.0  # residuals are clipped to ±this many σ for the change test
OUTLIER_Z = 5.0  # residuals beyond this many robust σ are left out of the fit
MIN_JITTER_SECONDS = 0.0001  # floor of the timing-noise estimate (0.1 ms): an ideal clock is not noise-free
MIN_FIT_PULSES = 4  # fewest pulses a tempo is read from, just after a change
MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation for Gaussian noise

CLOCK_TYPES = frozenset({"clock", "start", "stop", "continue", "songpos"})


@dataclass(frozen=True)
class Fit:
    """t = intercept + period * x over `count` pulses; `sigma` is the robust timing noise (seconds)."""

    period: float  # seconds per pulse
    intercept: float
    sigma: float
    count: int

    @property
    def bpm(self) -> float:
        return 60.0 / (PULSES_PER_QUARTER * self.period)


# ------------------------------------------------------------------------------------------ estimation


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of y = a + b x (at least two distinct x)."""
    mx, my = x.mean(), y.mean()
    dx = x - mx
    slope = float(dx @ (y - my) / (dx @ dx))
    return slope, float(my - slope * mx)


def robust_fit(x: np.ndarray, y: np.ndarray) -> Fit:
    """Least squares, then again without the residuals beyond OUTLIER_Z robust σ (from the MAD); σ is
    then the inliers' standard deviation."""
    slope, intercept = least_squares(x, y)
    residuals = y - (intercept + slope * x)
    sigma = max(MAD_TO_SIGMA * float(np.median(np.abs(residuals))), MIN_JITTER_SECONDS)
    keep = np.abs(residuals) <= OUTLIER_Z * sigma
    if 2 < keep.sum() < len(x):
        slope, intercept = least_squares(x[keep], y[keep])
    if keep.sum() > 2:  # the inliers' standard deviation: robust, and far less noisy than the MAD
        inliers = y[keep] - (intercept + slope * x[keep])
        sigma = max(float(np.sqrt(inliers @ inliers / (len(inliers) - 2))), MIN_JITTER_SECONDS)
    return Fit(slope, intercept, sigma, len(x))


def _hinge(x: np.ndarray, at: float) -> np.ndarray:
    """The regressor of a tempo change at `at` (0 before, the pulses since after), orthogonal to a line."""
    h = np.maximum(x - at, 0.0)
    slope, intercept = least_squares(x, h)
    return h - (intercept + slope * x)


def detect_change(x: np.ndarray, y: np.ndarray, fit: Fit) -> int | None:
    """The first lag (pulses back from the newest) at which a tempo change explains the fit's residuals
    by more than CHANGE_Z standard errors, or None. Residuals are clipped to ±CLIP_Z σ first, so a single
    late pulse cannot fake a change."""
    residuals = np.clip(y - (fit.intercept + fit.period * x), -CLIP_Z * fit.sigma, CLIP_Z * fit.sigma)
    threshold = (CHANGE_Z * fit.sigma) ** 2
    for lag in CHANGE_LAGS:
        if lag > len(x) - MIN_TEST_PULSES:
            break
        h = _hinge(x, float(x[-lag]))
        norm = float(h @ h)
        if norm > 0 and float(residuals @ h) ** 2 / norm > threshold:
            return lag
    return None


def change_point(x: np.ndarray, y: np.ndarray, lag: int) -> int:
    """Where the tempo changed, as a position in x: fit the old tempo on the pulses before the search
    region (the last 2·lag), then pick the hinge c that best explains the recent residuals as zero up
    to c and a straight ramp after it."""
    recent = min(2 * lag, len(x) - MIN_TEST_PULSES)
    base = len(x) - recent
    slope, intercept = least_squares(x[:base], y[:base])
    xr = x[base:]
    r = y[base:] - (intercept + slope * xr)
    best, best_gain = base, -1.0
    for c in range(recent - 2):
        d = xr[c + 1 :] - xr[c]
        gain = float(r[c + 1 :] @ d) ** 2 / float(d @ d)
        if gain > best_gain:
            best, best_gain = base + c, gain
    return best


# ------------------------------------------------------------------------------------------ follower


class ClockFollower:
    """Feed it clock messages with their arrival times; read `bpm` (None until locked) and `running`.

    `now` gives the current time for the drop-out check in `bpm` (time.monotonic by default; tests pass
    their synthetic clock), on the same time base as the timestamps fed."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._index: deque[int] = deque(maxlen=MAX_WINDOW_PULSES)
        self._times: deque[float] = deque(maxlen=MAX_WINDOW_PULSES)
        self._next_index = 0
        self._alarms = 0  # consecutive pulses on which the change test fired
        self._change_start = 0  # pulses before this index belong to an earlier tempo or segment
        self._fit: Fit | None = None
        self._held: float | None = None  # tempo carried across start/continue until the new segment locks
        self._last_bpm: float | None = None  # the latest locked estimate, kept across drop-outs
        self._last_pulse: float | None = None
        self._resuming = False  # after start/continue: a pause before the next pulse is no drop-out
        self.running = False  # transport: after start/continue, until stop
        self.position_pulses = 0  # song position (song position pointer + pulses while running)
        self.changes = 0  # tempo changes detected
        self.dropouts = 0  # times the clock went away

    # ------------------------------------------------------------------ input

    def feed(self, kind: str, t: float, value: int | None = None) -> None:
        """`kind`: clock, start, stop, continue, or songpos (value: sixteenths); others are ignored."""
        if kind == "clock":
            self._pulse(float(t))
        elif kind == "start":
            self.running = True
            self.position_pulses = 0
            self._new_segment(hold=True)
            self._resuming = True
        elif kind == "continue":
            self.running = True
            self._new_segment(hold=True)
            self._resuming = True
        elif kind == "stop":
            self.running = False
        elif kind == "songpos" and value is not None:
            self.position_pulses = int(value) * SIXTEENTHS_TO_PULSES

    def feed_message(self, msg: object, t: float) -> bool:
        """A mido message: True if it was a clock or transport message (and was used)."""
        kind = getattr(msg, "type", None)
        if kind not in CLOCK_TYPES:
            return False
        self.feed(kind, t, getattr(msg, "pos", None))
        return True

    def reset(self) -> None:
        """Forget everything (the MIDI port was reopened)."""
        self._new_segment(hold=False)
        self._last_pulse = None
        self._last_bpm = None
        self._resuming = False
        self.running = False
        self.position_pulses = 0

    # ------------------------------------------------------------------ output

    def bpm_at(self, now: float) -> float | None:
        """The tempo, or None before lock and once no pulse came for DROPOUT_SECONDS."""
        fit, held, last = self._fit, self._held, self._last_pulse
        if last is None or now - last > DROPOUT_SECONDS:
            return None
        return fit.bpm if fit is not None else held

    @property
    def bpm(self) -> float | None:
        return self.bpm_at(self._now())

    @property
    def last_bpm(self) -> float | None:
        """The latest estimate even after the clock stopped or dropped out (None before any lock)."""
        fit = self._fit
        if fit is not None:
            return fit.bpm
        return self._held if self._held is not None else self._last_bpm

    @property
    def jitter(self) -> float | None:
        """The clock's estimated timing noise (robust σ, seconds) once locked."""
        fit = self._fit
        return None if fit is None else fit.sigma

    @property
    def beats(self) -> float:
        """Song position in quarter notes (meaningful while running)."""
        return self.position_pulses / PULSES_PER_QUARTER

    def snapshot(self) -> dict[str, float | int | bool | str]:
        """For status and logs: tempo ('' when not locked), transport, jitter in ms, changes."""
        bpm, jitter = self.bpm, self.jitter
        return {
            "clock_bpm": "" if bpm is None else round(bpm, 2),
            "clock_running": self.running,
            "clock_jitter_ms": "" if jitter is None or bpm is None else round(jitter * 1000, 2),
            "clock_changes": self.changes,
        }

    # ------------------------------------------------------------------ internals

    def _new_segment(self, hold: bool) -> None:
        current = self._fit.bpm if self._fit is not None else self._held
        self._held = current if hold else None
        self._fit = None
        self._alarms = 0
        self._change_start = self._next_index

    def _pulse(self, t: float) -> None:
        if self._last_pulse is not None:
            if t < self._last_pulse:  # out of order: it cannot be placed on the line
                return
            if t - self._last_pulse > DROPOUT_SECONDS and not self._resuming:
                self.dropouts += 1
                self._new_segment(hold=False)
        self._resuming = False
        self._last_pulse = t
        if self.running:
            self.position_pulses += 1
        self._index.append(self._next_index)
        self._times.append(t)
        self._next_index += 1
        self._update()

    def _update(self) -> None:
        index = np.fromiter(self._index, dtype=np.float64, count=len(self._index))
        times = np.fromiter(self._times, dtype=np.float64, count=len(self._times))
        first = int(np.searchsorted(index, self._change_start))
        n = len(index) - first
        if self._fit is None and n < LOCK_PULSES:
            return  # not locked yet in this segment (a held tempo may stand in)
        if n < MIN_FIT_PULSES:  # just after a tempo change: the last few pulses will do
            first = len(index) - MIN_FIT_PULSES
        x, y = index[first:] - index[first], times[first:] - times[first]
        fit = robust_fit(x, y)
        if n >= 2 * MIN_TEST_PULSES:
            lag = detect_change(x, y, fit)
            self._alarms = 0 if lag is None else self._alarms + 1
            if lag is not None and self._alarms >= CONFIRM_PULSES:
                self._alarms = 0
                self.changes += 1
                at = change_point(x, y, lag)
                self._change_start = int(index[first + at])
                x, y = x[at:] - x[at], y[at:] - y[at]
                fit = robust_fit(x, y)
        if fit.period <= 0 or not MIN_BPM <= fit.bpm <= MAX_BPM:
            self._fit = None
            return
        self._fit = fit
        self._held = None
        self._last_bpm = fit.bpm


def synthetic_clock(
    segments: Sequence[tuple[float, float]], jitter: float = 0.0, seed: int = 0, start: float = 100.0
) -> list[float]:
    """Arrival times of a clock that plays `segments` of (bpm, beats) back to back, each pulse late or
    early by Gaussian jitter of σ `jitter` seconds, in arrival order. For tests and measurements."""
    rng = np.random.default_rng(seed)
    ideal: list[float] = []
    t = start
    for bpm, beats in segments:
        period = 60.0 / (PULSES_PER_QUARTER * bpm)
        for _ in range(int(round(beats * PULSES_PER_QUARTER))):
            ideal.append(t)
            t += period
    return sorted((np.asarray(ideal) + rng.normal(0.0, jitter, len(ideal))).tolist())
