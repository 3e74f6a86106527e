"""bridge.audio.loops: seamless wrap and loudness."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bridge.audio import loops
from bridge.audio.loops import (
    apply_peak_ceiling,
    equal_power_gains,
    fold_tail,
    integrated_loudness,
    level_line,
    level_report,
    normalize_loudness,
    remove_dc,
    typical_step,
    wrap_discontinuity,
)
from bridge.audio.tempo import LoopError, TimeSignature, loop_samples

FOUR_FOUR = TimeSignature(4, 4)


# --------------------------------------------------------------------------------- seamless wrap


def _smooth_signal(n: int, sr: int = 32000, channels: int = 2) -> np.ndarray:
    t = np.arange(n) / sr
    rows = [
        0.4 * np.sin(2 * np.pi * 110.3 * t + c) + 0.2 * np.sin(2 * np.pi * 331.7 * t + 0.5 * c)
        for c in range(channels)
    ]
    return np.stack(rows).astype(np.float32)


def test_equal_power_gains_sum_to_one() -> None:
    fade_in, fade_out = equal_power_gains(1600)
    np.testing.assert_allclose(fade_in**2 + fade_out**2, 1.0, atol=1e-12)
    assert np.all(np.diff(fade_in) > 0) and np.all(np.diff(fade_out) < 0)
    assert fade_in[0] < 0.001 and fade_out[-1] < 0.001
    np.testing.assert_allclose(fade_in, fade_out[::-1], atol=1e-12)  # symmetric


def test_fold_tail_makes_the_wrap_seamless() -> None:
    sr = 32000
    loop_len, fade_len = loop_samples(1, 120, FOUR_FOUR, sr), int(loops.DEFAULT_FADE_SECONDS * sr)
    audio = _smooth_signal(loop_len + fade_len + 500, sr)
    step = typical_step(audio)

    cut = audio[..., :loop_len]
    assert wrap_discontinuity(cut) > 20 * step  # the known discontinuity: a plain cut clicks

    folded = fold_tail(audio, loop_len, fade_len)
    assert folded.shape == (2, loop_len)
    assert folded.dtype == np.float32
    assert wrap_discontinuity(folded) <= step
    # The wrap goes audio[loop_len - 1] -> ~audio[loop_len], the signal's own continuation.
    np.testing.assert_array_equal(folded[..., -1], audio[..., loop_len - 1])
    np.testing.assert_allclose(folded[..., 0], audio[..., loop_len], atol=step)
    # Away from the fade the loop is untouched.
    np.testing.assert_array_equal(folded[..., fade_len:], audio[..., fade_len:loop_len])


def test_fold_tail_formula_and_1d() -> None:
    rng = np.random.default_rng(0)
    audio = rng.standard_normal(100)
    out = fold_tail(audio, 60, 10)
    t = (np.arange(10) + 0.5) / 10
    expected = audio[:10] * np.sin(np.pi / 2 * t) + audio[60:70] * np.cos(np.pi / 2 * t)
    np.testing.assert_allclose(out[:10], expected)
    np.testing.assert_array_equal(out[10:], audio[10:60])
    assert audio.shape == (100,)  # input untouched


def test_fold_tail_zero_fade_is_plain_cut() -> None:
    audio = _smooth_signal(1000)
    np.testing.assert_array_equal(fold_tail(audio, 700, 0), audio[..., :700])


def test_fold_tail_errors() -> None:
    audio = _smooth_signal(1000)
    with pytest.raises(LoopError, match="need loop_len"):
        fold_tail(audio, 990, 20)
    with pytest.raises(LoopError):
        fold_tail(audio, 0, 0)
    with pytest.raises(LoopError):
        fold_tail(audio, 100, -1)
    with pytest.raises(LoopError):
        fold_tail(audio, 100, 200)


def test_remove_dc() -> None:
    audio = _smooth_signal(32000) + np.array([[0.3], [-0.2]], dtype=np.float32)
    out = remove_dc(audio)
    assert out.dtype == np.float32 and out.shape == audio.shape
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-6)
    np.testing.assert_allclose(remove_dc(np.full(10, 0.5)), 0.0)


def test_wrap_metrics() -> None:
    audio = np.array([[0.0, 0.1, 0.2, 0.9]])
    assert wrap_discontinuity(audio) == pytest.approx(0.9)
    assert typical_step(audio, percentile=50) == pytest.approx(0.1)


# --------------------------------------------------------------------------------- loudness


def _noise(seconds: float, sr: int, level: float = 0.05, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(1)
    return (level * rng.standard_normal((channels, int(seconds * sr)))).astype(np.float32)


def _sine(seconds: float, sr: int, amp: float = 0.01) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * 997 * t)).astype(np.float32)


@pytest.mark.parametrize(
    "make", [lambda sr: _noise(3.0, sr), lambda sr: _sine(3.0, sr), lambda sr: _noise(3.0, sr, 0.001, 1)]
)
def test_normalize_hits_target(make: Callable[[int], np.ndarray]) -> None:
    sr = 44100
    out = normalize_loudness(make(sr), sr, target_lufs=-14.0, peak_dbfs=0.0)
    assert out.dtype == np.float32
    assert integrated_loudness(out, sr) == pytest.approx(-14.0, abs=0.5)


def test_normalize_respects_peak_ceiling() -> None:
    sr = 32000
    audio = _noise(2.0, sr, 0.3)  # Gaussian noise at -14 LUFS peaks well above -1 dBFS
    out = normalize_loudness(audio, sr, target_lufs=-6.0, peak_dbfs=-1.0)
    assert np.max(np.abs(out)) == pytest.approx(10 ** (-1 / 20), rel=1e-5)
    assert integrated_loudness(out, sr) < -6.0  # the ceiling wins over the target


def test_normalize_leaves_silence_and_short_audio_alone() -> None:
    sr = 44100
    silence = np.zeros((2, sr), dtype=np.float32)
    np.testing.assert_array_equal(normalize_loudness(silence, sr), silence)
    short = _noise(0.2, sr, 0.001)  # shorter than the 0.4 s gating block: no gain
    np.testing.assert_array_equal(normalize_loudness(short, sr), short)
    loud_short = _noise(0.2, sr, 0.9)  # but the peak ceiling still applies
    assert np.max(np.abs(normalize_loudness(loud_short, sr))) <= 10 ** (loops.DEFAULT_PEAK_DBFS / 20) + 1e-6


def test_normalize_does_not_modify_input_and_is_optional() -> None:
    sr = 44100
    audio = _noise(1.0, sr)
    before = audio.copy()
    normalize_loudness(audio, sr)
    np.testing.assert_array_equal(audio, before)  # not calling it is how you disable it


def test_apply_peak_ceiling() -> None:
    audio = np.array([[0.5, -2.0], [1.0, 0.0]], dtype=np.float32)
    out = apply_peak_ceiling(audio, -6.0)
    assert np.max(np.abs(out)) == pytest.approx(10 ** (-6 / 20), rel=1e-6)
    quiet = audio * 0.1
    np.testing.assert_array_equal(apply_peak_ceiling(quiet, 0.0), quiet)  # never scales up
    with pytest.raises(LoopError, match="NaN"):
        apply_peak_ceiling(np.array([np.nan]), 0.0)


def test_level_report_says_when_the_peak_ceiling_won_over_the_loudness_target():
    sr = 44100
    clicks = np.zeros((2, 4 * sr), dtype=np.float32)
    clicks[:, :: sr // 4] = 0.9  # sparse full-scale clicks: -14 LUFS would put their peaks far over 0 dBFS
    quiet = normalize_loudness(clicks, sr, -14.0, -1.0)
    report = level_report(quiet, sr, -14.0)
    assert report["ceiling_won"] and report["lufs"] < -20 and abs(report["peak_dbfs"] + 1.0) < 0.01
    assert "peak ceiling held it under the -14 LUFS target" in level_line(report, -14.0, -1.0)
    noise = np.random.default_rng(0).normal(0, 0.05, (2, 4 * sr)).astype(np.float32)
    fine = level_report(normalize_loudness(noise, sr, -14.0, -1.0), sr, -14.0)
    assert not fine["ceiling_won"] and abs(fine["lufs"] + 14.0) < 0.1
    assert level_line(fine, -14.0, -1.0).startswith("-14.0 LUFS, peak ")
    assert level_report(np.zeros((1, sr)), sr, -14.0) == {"lufs": None, "peak_dbfs": None, "ceiling_won": False}
