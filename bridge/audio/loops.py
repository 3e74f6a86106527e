"""Loop rendering on numpy audio: a seamless wrap (tail folded into the head), DC removal, loudness.

Pure functions over numpy arrays; no torch. Audio layout for the whole project: float32 arrays shaped
(channels, samples); functions here also accept 1-D (samples,) where noted. Lengths come from
`bridge.audio.tempo`; see docs/ARCHITECTURE.md for where this sits in the data path.
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm

from bridge.audio.tempo import LoopError, positive_int
from bridge.limits import DEFAULT_LOUDNESS_LUFS, DEFAULT_PEAK_DBFS

DEFAULT_FADE_SECONDS = 0.05  # seconds of equal-power crossfade at the loop seam
LOUDNESS_BLOCK_SECONDS = 0.4  # seconds: pyloudnorm's gating block; shorter audio has no loudness
LEVEL_TOLERANCE_DB = 0.5  # a loop this far under its loudness target was held down by the peak ceiling


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
    loop_len = positive_int(loop_len, "loop_len")
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
    """Integrated loudness in LUFS of all channels together (BS.1770 sums the channels' power, so a mono
    signal in both channels reads 3 dB louder than alone); -inf for silence or audio shorter than one 0.4 s
    gating block."""
    array = _float_array(audio)
    _require_finite(array)
    if array.ndim not in (1, 2):
        raise LoopError(f"audio must be (samples,) or (channels, samples), got shape {array.shape}")
    sr = positive_int(sr, "sr")
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


def fade_samples(loop_len: int, sr: int) -> int:
    """The seam's crossfade for a loop of `loop_len` samples: DEFAULT_FADE_SECONDS, at most a quarter loop."""
    return int(round(min(DEFAULT_FADE_SECONDS, loop_len / sr / 4) * sr))


def finish_loop(
    audio: np.ndarray,
    loop_len: int,
    fade_len: int,
    sr: int,
    loudness_lufs: float | None,
    peak_dbfs: float = DEFAULT_PEAK_DBFS,
) -> np.ndarray:
    """(channels, loop_len + fade_len) => (channels, loop_len): the tail folded into the head, DC removed,
    then normalised to `loudness_lufs` (None: the level is kept, capped at the peak ceiling only where it
    would clip)."""
    y = remove_dc(fold_tail(audio, loop_len, fade_len))
    if loudness_lufs is not None:
        return normalize_loudness(y, sr, loudness_lufs, peak_dbfs)
    return apply_peak_ceiling(y, peak_dbfs) if np.abs(y).max() > 1.0 else y


def level_report(audio: np.ndarray, sr: int, target_lufs: float | None) -> dict[str, float | bool | None]:
    """A finished loop's level: `lufs` (None for silence or audio too short to measure), its sample
    `peak_dbfs`, and `ceiling_won`: the loop stayed under `target_lufs` because the peak ceiling capped the
    gain (loud or noisy takes: -14 LUFS would clip, so the file comes out quieter)."""
    array = _float_array(audio)
    lufs = integrated_loudness(array, sr)
    peak = float(np.max(np.abs(array))) if array.size else 0.0
    measured = math.isfinite(lufs)
    return {
        "lufs": lufs if measured else None,
        "peak_dbfs": 20.0 * math.log10(peak) if peak > 0 else None,
        "ceiling_won": bool(target_lufs is not None and measured and lufs < target_lufs - LEVEL_TOLERANCE_DB),
    }


def level_line(report: dict, target_lufs: float | None, peak_dbfs: float) -> str:
    """`level_report` in words: '-14.0 LUFS, peak -3.2 dBFS', and why when the target was not reached."""
    lufs, peak = report.get("lufs"), report.get("peak_dbfs")
    text = "silent or too short to measure" if lufs is None else f"{lufs:.1f} LUFS"
    if peak is not None:
        text += f", peak {peak:.1f} dBFS"
    if report.get("ceiling_won"):
        text += f": the {peak_dbfs:g} dBFS peak ceiling held it under the {target_lufs:g} LUFS target"
    elif target_lufs is None:
        text += " (not normalised)"
    return text
