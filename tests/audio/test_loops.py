"""Tempo/loop math: exact lengths, seamless wrap, loudness."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

from bridge.audio import loops
from bridge.audio.loops import (
    LoopError,
    TimeSignature,
    apply_peak_ceiling,
    beat_seconds,
    equal_power_gains,
    fold_tail,
    integrated_loudness,
    loop_samples,
    loop_seconds,
    normalize_loudness,
    remove_dc,
    round_half_up,
    seconds_to_samples,
    typical_step,
    whole_beats_seconds,
    wrap_discontinuity,
)

FOUR_FOUR = TimeSignature(4, 4)


def _exact_samples(bars: int, bpm: Fraction, num: int, den: int, sr: int) -> Fraction:
    return bars * Fraction(num * 4, den) * 60 / bpm * sr


# --------------------------------------------------------------------------------- time signatures


@pytest.mark.parametrize(
    ("text", "num", "den", "quarters"),
    [
        ("4/4", 4, 4, Fraction(4)),
        ("3/4", 3, 4, Fraction(3)),
        ("6/8", 6, 8, Fraction(3)),
        ("7/8", 7, 8, Fraction(7, 2)),
        ("5/4", 5, 4, Fraction(5)),
        ("12/8", 12, 8, Fraction(6)),
        (" 2 / 2 ", 2, 2, Fraction(4)),
        ("32/32", 32, 32, Fraction(4)),
        ("1/1", 1, 1, Fraction(4)),
    ],
)
def test_time_signature_parse(text: str, num: int, den: int, quarters: Fraction) -> None:
    ts = TimeSignature.parse(text)
    assert (ts.numerator, ts.denominator) == (num, den)
    assert ts.bar_quarters == quarters


@pytest.mark.parametrize(
    "text", ["4/3", "0/4", "33/4", "4/64", "4/0", "abc", "4/4/4", "", "4", "-4/4", "4.0/4"]
)
def test_time_signature_parse_errors(text: str) -> None:
    with pytest.raises(LoopError) as info:
        TimeSignature.parse(text)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_time_signature_is_frozen_and_validated() -> None:
    ts = TimeSignature(7, 8)
    with pytest.raises(AttributeError):
        ts.numerator = 4  # type: ignore[misc]
    with pytest.raises(LoopError):
        TimeSignature(4, 3)
    assert str(ts) == "7/8"


# --------------------------------------------------------------------------------- exact lengths


@pytest.mark.parametrize("sr", [44100, 32000, 48000])
@pytest.mark.parametrize("bpm", [120, 90.0, 123.45, 174, 71.3, 140.123])
@pytest.mark.parametrize(("num", "den"), [(4, 4), (3, 4), (6, 8), (7, 8), (5, 4)])
@pytest.mark.parametrize("bars", [1, 2, 4, 8, 64])
def test_loop_samples_match_exact_fraction(bars: int, bpm: float, num: int, den: int, sr: int) -> None:
    exact = _exact_samples(bars, Fraction(str(bpm)), num, den, sr)
    got = loop_samples(bars, bpm, TimeSignature(num, den), sr)
    assert got == math.floor(exact + Fraction(1, 2))
    assert abs(got - exact) <= Fraction(1, 2)


@pytest.mark.parametrize(
    ("bars", "bpm", "ts", "sr", "expected"),
    [
        (1, 120, "4/4", 44100, 88200),
        (4, 120, "4/4", 32000, 256000),
        (2, 120, "6/8", 44100, 132300),  # a 6/8 bar is 3 quarter notes = 1.5 s
        (1, 120, "7/8", 44100, 77175),  # 3.5 quarter notes = 1.75 s
        (1, 120, "7/8", 32000, 56000),
        (8, 124, "4/4", 44100, 682839),  # 15.48387... s -> 682838.7 samples
        (3, 100, "3/4", 32000, 172800),
    ],
)
def test_loop_samples_known_values(bars: int, bpm: float, ts: str, sr: int, expected: int) -> None:
    assert loop_samples(bars, bpm, TimeSignature.parse(ts), sr) == expected


def test_float_bpm_is_its_decimal_value() -> None:
    assert beat_seconds(123.45) == Fraction(60 * 100, 12345)
    assert loops.exact(123.45) == Fraction(12345, 100)
    assert loops.exact(np.float64(0.1)) == Fraction(1, 10)


def test_64_bars_at_123_45_do_not_drift() -> None:
    sr = 44100
    one_bar = loop_seconds(1, 123.45, FOUR_FOUR)
    assert one_bar == Fraction(4 * 60 * 100, 12345)
    # The 64-bar length is exactly 64 one-bar lengths: nothing accumulates before the single rounding.
    assert sum(loop_seconds(1, 123.45, FOUR_FOUR) for _ in range(64)) == loop_seconds(64, 123.45, FOUR_FOUR)
    exact_total = 64 * one_bar * sr
    total = loop_samples(64, 123.45, FOUR_FOUR, sr)
    assert total == round_half_up(exact_total)
    assert abs(total - exact_total) <= Fraction(1, 2)
    assert total == 5487047  # 64 * 4 * 60 / 123.45 * 44100 = 5487047.39
    # Rounding each bar and summing would drift (64 * 85735 = 5487040): the design rounds only once.
    assert 64 * loop_samples(1, 123.45, FOUR_FOUR, sr) != total


def test_rounding_is_half_up() -> None:
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(7, 2)) == 4
    assert round_half_up(Fraction(249, 100)) == 2
    # Exact halves: 5/6 s at 3 Hz is 2.5 samples -> 3 (half-even would give 2); 0.5 s -> 1.5 -> 2.
    assert seconds_to_samples(Fraction(5, 6), 3) == 3
    assert seconds_to_samples(0.5, 3) == 2


def test_seconds_to_samples_is_exact() -> None:
    assert seconds_to_samples(0.1, 44100) == 4410
    assert seconds_to_samples(Fraction(1, 3), 32000) == 10667
    assert seconds_to_samples(0, 44100) == 0
    with pytest.raises(LoopError):
        seconds_to_samples(-1.0, 44100)


@pytest.mark.parametrize(
    ("bars", "bpm", "sr"),
    [
        (0, 120, 44100),
        (-1, 120, 44100),
        (1.5, 120, 44100),
        (1, 0, 44100),
        (1, -120, 44100),
        (1, float("nan"), 44100),
        (1, float("inf"), 44100),
        (1, 120, 0),
        (1, "120", 44100),
        (True, 120, 44100),
    ],
)
def test_loop_samples_rejects_bad_input(bars: object, bpm: object, sr: object) -> None:
    with pytest.raises(LoopError):
        loop_samples(bars, bpm, FOUR_FOUR, sr)


def test_whole_beats_seconds() -> None:
    beat = Fraction(1, 2)  # 120 bpm
    assert whole_beats_seconds(2.0, 120) == 4 * beat
    assert whole_beats_seconds(2.49, 120) == 4 * beat
    assert whole_beats_seconds(0.5, 120) == beat
    assert whole_beats_seconds(10.0, 123.45) == 20 * beat_seconds(123.45)  # 20.5 beats -> 20
    assert whole_beats_seconds(10.0, 123.45) <= 10
    with pytest.raises(LoopError, match="shorter than one beat"):
        whole_beats_seconds(0.49, 120)
    with pytest.raises(LoopError):
        whole_beats_seconds(-1.0, 120)


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
