"""bridge.audio.tempo: time signatures and exact bar lengths."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from bridge.audio import tempo
from bridge.audio.tempo import (
    LoopError,
    TimeSignature,
    beat_seconds,
    loop_samples,
    loop_seconds,
    round_half_up,
    seconds_to_samples,
    whole_beats_seconds,
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
    "text", ["4/3", "0/4", "33/4", "4/64", "4/0", "abc", "4/4/4", "", "4", "-4/4", "4.0/4", "٤/٤", "４/４"]
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
    assert tempo.exact(123.45) == Fraction(12345, 100)
    assert tempo.exact(np.float64(0.1)) == Fraction(1, 10)


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


