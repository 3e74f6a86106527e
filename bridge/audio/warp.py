"""Time-varying time-stretch through a piecewise-linear time map, pitch unchanged, exact output length.

The map is given as knots: output sample `dst[i]` plays input sample `src[i]`; between knots it is linear,
beyond the ends it goes on with the end slopes. Fitting a take to the grid puts a knot on every beat.

Default method, "wsola": waveform-similarity overlap-add (as in bridge/audio/stretch.py) whose nominal
read position follows the map frame by frame, plus *onset locking*: a frame that carries a strong attack
is read at exactly the offset that puts the attack where the map says, in both overlapping frames, so a
drum hit lands on its grid sample instead of anywhere within the search tolerance, and is not doubled.
Between attacks frames move up to ±TOLERANCE to continue the waveform (pitch and phase kept).
Alternative, "signalsmith": python-stretch (Signalsmith Stretch, MIT), one call per map segment with
context on both sides, joined by short crossfades just before each knot (the wrapper only offers a
constant ratio per call, and resets between calls).

Measured on the same material (tests' synthetic kit + bass at 120 bpm, 4 bars; maps at 0.92/0.96/1.04/
1.08 x, each constant and with ±2 % beat-to-beat drift; hits measured by an independent meter, the
steepest 1 ms rise of the twice-differentiated signal's envelope; 440 Hz sine through a 1.05 map;
32 kHz, 2-core CPU, CPU time):
    method                  onset error median / p95 / max   pitch     level     pre-echo   8 s stereo
    wsola + onset locking   0.09 / 0.49 / 11.1 ms            440.00    0.00 dB   -18.1 dB   ~40-65 ms
    signalsmith segments    0.31 / 5.03 / 10.8 ms            440.00    0.00 dB   -10.5 dB   ~95 ms
    old constant WSOLA      7.38 / 14.6 / 15.5 ms            440.00    0.00 dB     0.0 dB   ~70 ms
(pre-echo: median energy in the 5 ms before a hit relative to the 5 ms after; the maxima are a quiet
off-16th hat in a snare's tail. The old WSOLA ran the constant-ratio maps only.) WSOLA with onset
locking wins on every transient measure at these near-1 ratios and needs no dependency: the default.
"""

from __future__ import annotations

import numpy as np

try:  # optional (pip install python-stretch): only the "signalsmith" method needs it
    import python_stretch
except ImportError:
    python_stretch = None

FRAME_SECONDS = 0.032  # WSOLA frame (1024 samples at 32 kHz): bass periods fit, drum hits stay short
TOLERANCE_SECONDS = 0.012  # how far a frame may move to continue the waveform (half a period of 42 Hz)
LOCK_RISE_DB = 5.0  # an attack strong enough to be locked rises this much across 2 x RISE_SECONDS
RISE_SECONDS = 0.0005  # half-width of the attack detector
LOCK_SPACING_SECONDS = 0.02  # attacks closer than this are one attack (the stronger wins)
CROSSFADE_SECONDS = 0.004  # signalsmith: join between segments
CONTEXT_SECONDS = 0.15  # signalsmith: input context on each side of a segment
METHODS = ("wsola", "signalsmith")


def time_map(dst: np.ndarray, src: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Positions in `src` units for positions `at` in `dst` units: linear between knots, end slopes beyond."""
    dst, src, at = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (dst, src, at))
    if len(dst) < 2:
        return src[0] + (at - dst[0])
    out = np.interp(at, dst, src)
    lo, hi = at < dst[0], at > dst[-1]
    out[lo] = src[0] + (at[lo] - dst[0]) * (src[1] - src[0]) / (dst[1] - dst[0])
    out[hi] = src[-1] + (at[hi] - dst[-1]) * (src[-1] - src[-2]) / (dst[-1] - dst[-2])
    return out


def _check(audio: np.ndarray, src: np.ndarray, dst: np.ndarray, out_len: int, method: str) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim not in (1, 2) or not np.isfinite(x).all():
        raise ValueError(f"audio must be finite (samples,) or (channels, samples), got shape {x.shape}")
    if len(src) != len(dst) or len(src) < 1 or out_len < 0:
        raise ValueError("need matching src/dst knots and a non-negative output length")
    if np.any(np.diff(dst) <= 0) or np.any(np.diff(src) <= 0):
        raise ValueError("time-map knots must increase strictly")
    if method not in METHODS:
        raise ValueError(f"unknown warp method {method!r}; use one of {', '.join(METHODS)}")
    return x


def warp(
    audio: np.ndarray, src: np.ndarray, dst: np.ndarray, out_len: int, sr: int, method: str = "wsola"
) -> np.ndarray:
    """(n,) or (ch, n) audio => float32 (out_len,) or (ch, out_len): output sample dst[i] plays src[i].

    Every channel follows the same frame positions (chosen on the channels' mean), so a stereo image and
    the channels' phase relation are kept."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    x = _check(audio, src, dst, out_len, method)
    chans = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)  # (n, ch): the frame loops' layout
    offset = src[0] - dst[0]
    if method == "wsola" and np.allclose(src - dst, offset, atol=1e-9) and float(offset).is_integer():
        y = np.zeros((out_len, chans.shape[1]), np.float32)  # a pure shift: copy, nothing to stretch
        lo, hi = max(0, int(offset)), min(len(chans), int(offset) + out_len)
        if hi > lo:
            y[lo - int(offset) : hi - int(offset)] = chans[lo:hi]
    elif method == "wsola":
        y = _wsola(chans, src, dst, out_len, sr)
    else:
        y = _signalsmith(chans, src, dst, out_len, sr)
    return y[:, 0] if x.ndim == 1 else np.ascontiguousarray(y.T)


def rise_db(mono: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(rise, level), (n,) dB each: the level change across ±RISE_SECONDS at each sample (an attack is
    where it is steepest) and the level itself, of the differentiated signal's Hilbert envelope.

    Differentiating (+6 dB/octave) lets bright hits show over a held bass; the Hilbert envelope of a
    steady tone is flat, so its zero crossings are not taken for attacks."""
    x = np.diff(np.asarray(mono, dtype=np.float64), prepend=0.0)
    half = max(1, int(RISE_SECONDS * sr))
    n = len(x)
    size = 1 << max(1, (2 * n - 1).bit_length())  # zero-padded to a power of two: fast, no wrap-around
    spec = np.fft.fft(x, size)
    spec[1 : size // 2] *= 2.0  # analytic signal: positive frequencies doubled, negative ones removed
    spec[size // 2 + 1 :] = 0.0
    power = np.abs(np.fft.ifft(spec)[:n]) ** 2  # (n,) squared Hilbert envelope
    xp = np.pad(power, (3 * half, 3 * half))  # silence around, so an attack at sample 0 is seen
    energy = np.convolve(xp, np.ones(2 * half + 1) / (2 * half + 1), mode="same")
    level = 10.0 * np.log10(energy + 1e-9 * (energy.max() + 1e-30))
    rise = level[4 * half : len(level) - 2 * half] - level[2 * half : len(level) - 4 * half]
    return rise, level[3 * half : len(level) - 3 * half]


def attacks(mono: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Attacks (rise >= LOCK_RISE_DB above the noise floor), the strongest first within LOCK_SPACING_SECONDS
    of each other (greedy non-maximum suppression): (positions (k,) int sorted, rises (k,) dB)."""
    rise, level = rise_db(mono, sr)
    peak = np.zeros(len(rise), dtype=bool)
    peak[1:-1] = (rise[1:-1] >= rise[:-2]) & (rise[1:-1] > rise[2:])
    cand = np.flatnonzero(peak & (rise >= LOCK_RISE_DB) & (level > level.max() - 50.0))
    spacing = int(LOCK_SPACING_SECONDS * sr)
    blocked = np.zeros(len(rise), dtype=bool)
    taken = []
    for c in cand[np.argsort(-rise[cand], kind="stable")]:
        if not blocked[c]:
            taken.append(c)
            blocked[max(0, c - spacing) : c + spacing + 1] = True
    positions = np.sort(np.array(taken, dtype=np.int64))
    return positions, rise[positions]


def _wsola(x: np.ndarray, src: np.ndarray, dst: np.ndarray, out_len: int, sr: int) -> np.ndarray:
    """x (n, ch) float32 => (out_len, ch): a frame every hop of output, read where the map says."""
    frame = max(4, 2 * int(FRAME_SECONDS * sr / 2))
    hop, tol = frame // 2, int(TOLERANCE_SECONDS * sr)
    window = np.hanning(frame + 1)[:-1].astype(np.float32)[:, None]  # periodic: overlaps sum to one
    mono = x.mean(axis=1)
    hits, strength = attacks(mono, sr)
    hit_out = time_map(src, dst, hits.astype(np.float64)) if len(hits) else np.zeros(0)  # where they go
    n_frames = -(-out_len // hop) + 2
    centres_out = (np.arange(n_frames) - 1) * hop  # output centre of frame k
    nominal = time_map(dst, src, centres_out)  # input centre of frame k
    pad_lo = max(0, -int(np.floor(nominal.min()))) + frame + tol
    pad_hi = max(0, int(np.ceil(nominal.max())) + frame + tol - len(x) + 2)
    xp = np.pad(x, ((pad_lo, pad_hi), (0, 0)))
    mp = np.pad(mono, (pad_lo, pad_hi))
    out = np.zeros(((n_frames + 1) * hop + frame, x.shape[1]), np.float32)
    previous = None
    for k in range(n_frames):
        start = int(round(nominal[k])) - hop + pad_lo  # padded input start of the frame
        locked = _locked_start(centres_out[k], hop, hits, hit_out, strength)
        if locked is not None:
            start = locked + pad_lo
        elif previous is not None:
            natural = mp[previous + hop : previous + hop + frame]  # what would follow the last frame
            search = mp[start - tol : start + tol + frame]
            corr = np.correlate(search, natural, mode="valid")  # (2 tol + 1,)
            if corr.max() > 0:
                start += int(np.argmax(corr)) - tol
        out[k * hop : k * hop + frame] += window * xp[start : start + frame]
        previous = start
    return out[2 * hop : 2 * hop + out_len]  # frame 1's centre is output sample 0


def _locked_start(
    centre: float, hop: int, hits: np.ndarray, hit_out: np.ndarray, strength: np.ndarray
) -> int | None:
    """Input start of a frame centred on output `centre` that puts the strongest attack within its heavier
    half (|offset| < hop) exactly where the map puts it; None when there is none."""
    lo, hi = np.searchsorted(hit_out, [centre - hop, centre + hop])
    if hi <= lo:
        return None
    best = lo + int(np.argmax(strength[lo:hi]))
    # frame sample m is output centre - hop + m; the attack must sit at m = hit_out - (centre - hop)
    return int(round(hits[best] - (hit_out[best] - (centre - hop))))


def _signalsmith(x: np.ndarray, src: np.ndarray, dst: np.ndarray, out_len: int, sr: int) -> np.ndarray:
    """x (n, ch) => (out_len, ch) with python-stretch, one constant-ratio call per map segment."""
    if python_stretch is None:
        raise ValueError("the signalsmith method needs python-stretch: pip install python-stretch")
    if x.shape[1] > 2:
        raise ValueError("the signalsmith method takes mono or stereo")
    inner = dst[(dst > 0) & (dst < out_len)]
    knots_out = np.unique(np.concatenate([[0.0], inner, [float(out_len)]]))
    knots_in = time_map(dst, src, knots_out)
    ctx, fade = int(CONTEXT_SECONDS * sr), max(1, int(CROSSFADE_SECONDS * sr))
    out = np.zeros((out_len, x.shape[1]), np.float32)
    stretch = python_stretch.Signalsmith.Stretch()
    stretch.preset(x.shape[1], sr)
    segments = zip(knots_out[:-1], knots_out[1:], knots_in[:-1], knots_in[1:], strict=True)
    for a_out, b_out, a_in, b_in in segments:
        ratio = (b_in - a_in) / (b_out - a_out)  # input samples per output sample
        lo, hi = int(np.floor(a_in)) - ctx, int(np.ceil(b_in)) + ctx
        seg = np.zeros((hi - lo, x.shape[1]), np.float32)
        s0, s1 = max(lo, 0), min(hi, len(x))
        if s1 > s0:
            seg[s0 - lo : s1 - lo] = x[s0:s1]
        stretch.timeFactor = ratio
        y = stretch.process(np.ascontiguousarray(seg.T)).T  # (round((hi - lo) / ratio), ch)
        # output sample t plays y[(a_in - lo) / ratio + t - a_out]; linear crossfades just before each knot
        t = np.arange(max(int(round(a_out)) - fade, 0), min(int(round(b_out)), out_len))
        j = np.clip(np.round((a_in - lo) / ratio + t - a_out).astype(int), 0, len(y) - 1)
        gain = np.ones(len(t))
        if a_out > 0:
            gain = np.clip((t - (a_out - fade)) / fade, 0.0, 1.0)
        if b_out < out_len:
            gain = gain * np.clip((b_out - t) / fade, 0.0, 1.0)
        out[t] += y[j] * gain[:, None].astype(np.float32)
    return out
