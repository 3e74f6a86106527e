"""bridge.audio.grid: every hit on its grid sample, exact lengths, beatless takes untouched, bar-line nudges."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from synth import SR, drum_take, measurable, measure_onsets, noise, pad

from bridge.audio.grid import GridError, closest_take, fit, loop_length, plain_cut

BARS = 4
TAIL = 1600  # samples: 50 ms for the later crossfade fold
CASES = {
    "0.92x with leading silence": dict(bpm=120, tempo_factor=0.92, lead=0.7),
    "1.08x": dict(bpm=97, tempo_factor=1.08),
    "0.96x drifting 2%": dict(bpm=124, tempo_factor=0.96, drift=0.02),
    "1.04x drifting 2% with a pickup": dict(bpm=110, tempo_factor=1.04, drift=-0.02, pickup=2, lead=0.2, bass=True),
    "swung 16ths": dict(bpm=100, swing=0.33, tempo_factor=1.03),
    "kicks on 1 and 3, bass on 1": dict(bpm=120, marker="bass", pickup=2, lead=0.25),
    "kicks on 1 and 3, crash on 1": dict(bpm=120, marker="crash", pickup=2, lead=0.25),
    "3/4": dict(bpm=120, beats_per_bar=3, tempo_factor=0.95),
    "6/8": dict(bpm=120, beats_per_bar=6, beat_quarters=0.5, tempo_factor=1.05),
    "7/8": dict(bpm=140, beats_per_bar=7, beat_quarters=0.5, tempo_factor=0.97),
    "half time": dict(bpm=90, feel="half", tempo_factor=1.02),
    "double time": dict(bpm=90, feel="double", tempo_factor=0.98),
    "stereo": dict(bpm=128, stereo=True, bass=True, tempo_factor=1.06),
}


def _meter(kw):
    return kw.get("beats_per_bar", 4), kw.get("beat_quarters", 1.0)


def _grid_errors(take, result, bpm, beat_quarters):
    """(errors in ms of every measurable hit inside the loop, mask of the prominent ones, first-downbeat beat).

    Prominent: kicks, snares, bass notes, crashes and hats on the beat or the half beat. Quiet off-16th
    hats in a snare's tail are measured too, but the independent meter can latch onto a splice ripple
    there, so they count towards the median and the 97 % share, not the maximum."""
    hits = np.array([h.time for h in take.hits]) * SR
    pos = np.array([h.position for h in take.hits])
    p0 = pos[np.argmin(np.abs(hits - result.first_downbeat * SR))]  # the take's beat that became sample 0
    grid = (pos - p0) * beat_quarters * 60 / bpm * SR
    keep = measurable(take) & (grid >= 0) & (grid < result.loop_samples - 0.015 * SR)
    prominent = np.array([h.kind != "hat" or (2 * h.position).is_integer() for h in take.hits])
    found = measure_onsets(result.audio, grid[keep])
    return np.abs(found - grid[keep]) / SR * 1000, prominent[keep], p0


@pytest.mark.parametrize("name", list(CASES))
def test_every_hit_lands_on_the_grid(name):
    kw = CASES[name]
    per_bar, beat = _meter(kw)
    take = drum_take(**kw, bars=BARS + 2, seed=list(CASES).index(name))
    result = fit(take.audio, SR, kw["bpm"], BARS, per_bar, beat, tail_samples=TAIL)
    assert result.status == "on_grid" and result.message.startswith("on grid (played ")
    assert result.audio.shape[-1] == loop_length(BARS, kw["bpm"], per_bar, beat, SR) + TAIL
    assert result.audio.shape[:-1] == take.audio.shape[:-1]  # stereo stays (2, samples)
    errors, prominent, p0 = _grid_errors(take, result, kw["bpm"], beat)
    assert p0 % per_bar == 0 and p0 > 0  # a real downbeat, after the intro bar
    assert len(errors) >= 2 * BARS * per_bar and np.median(errors) <= 3.0
    assert errors[prominent].max() <= 10.0 and np.mean(errors <= 10.0) >= 0.97
    assert errors[0] <= 10.0  # the first downbeat at sample 0
    assert result.played_bpm == pytest.approx(kw["bpm"] * kw.get("tempo_factor", 1.0), rel=0.01)


@pytest.mark.parametrize("bars, bpm, per_bar, beat", [(4, 123.45, 4, 1.0), (3, 97.0, 7, 0.5), (8, 174.0, 6, 0.5),
                                                      (1, 60.0, 3, 1.0)])
def test_loop_length_is_exact(bars, bpm, per_bar, beat):
    exact = bars * per_bar * Fraction(repr(beat)) * 60 / Fraction(repr(bpm)) * SR
    assert loop_length(bars, bpm, per_bar, beat, SR) == int(exact + Fraction(1, 2))


def test_half_samples_round_up():
    assert loop_length(1, 96, 4, 1.0, 1) == 3  # 2.5 samples -> 3, not round-half-even's 2


@pytest.mark.parametrize("material", ["pad", "noise"])
def test_beatless_takes_keep_the_generated_timing(material):
    x = pad(12.0) if material == "pad" else noise(12.0)
    result = fit(x, SR, 120, BARS, 4, 1.0, tail_samples=TAIL)
    margin = loop_length(1, 120, 4, 1.0, SR)
    assert result.status == "beatless" and result.message == "beatless: kept the generated timing"
    np.testing.assert_array_equal(result.audio, x[margin : margin + result.loop_samples + TAIL])


def test_silence_is_a_plain_cut_and_a_short_clip_a_clear_error():
    result = fit(np.zeros(SR * 12, np.float32), SR, 120, BARS, 4, 1.0, tail_samples=TAIL)
    assert result.status == "beatless" and not result.audio.any()
    assert len(result.audio) == result.loop_samples + TAIL
    with pytest.raises(GridError, match="at least"):
        fit(drum_take(120).audio[: int(0.2 * SR)], SR, 120, BARS, 4, 1.0)
    with pytest.raises(GridError):
        fit(np.zeros((10, 2, 2)), SR, 120, BARS, 4, 1.0)


@pytest.mark.parametrize("shift", [1.0, -1.0, 2.0, 0.5])
def test_shift_moves_the_bar_line_by_exactly_that_many_beats(shift):
    take = drum_take(120, bars=BARS + 3, tempo_factor=0.97, pickup=1, lead=0.4, seed=11)
    base = fit(take.audio, SR, 120, BARS, 4, 1.0)
    moved = fit(take.audio, SR, 120, BARS, 4, 1.0, shift_beats=shift)
    assert moved.shift_beats == shift and len(moved.audio) == len(base.audio)
    beat = 60 / 120 * SR
    # the input that base plays at output sample s * beat, moved plays at sample 0
    src_base = np.interp(shift * beat, base.dst_knots, base.src_knots)
    assert np.interp(0.0, moved.dst_knots, moved.src_knots) == pytest.approx(src_base, abs=0.5)
    hits = np.array([h.time for h in take.hits]) * SR
    expect = np.interp(hits, base.src_knots, base.dst_knots) - shift * beat
    keep = measurable(take) & (expect > 0.02 * SR) & (expect < len(moved.audio) - 0.02 * SR)
    errors = np.abs(measure_onsets(moved.audio, expect[keep]) - expect[keep]) / SR * 1000
    assert errors.max() <= 10.0 and np.median(errors) <= 3.0


def test_known_downbeat_keeps_the_prompt_phase():
    take = drum_take(120, bars=BARS + 2, tempo_factor=1.03, seed=4)
    known = take.downbeat + 5 * take.beat_period  # the song's bar line sits on the take's beat 2 of bar 2
    result = fit(take.audio, SR, 120, BARS, 4, 1.0, known_downbeat=known)
    phase = round((result.first_downbeat - known) / take.beat_period)
    assert result.status == "on_grid" and phase % 4 == 0


def test_modes_off_and_strict():
    take = drum_take(120, bars=BARS + 2, tempo_factor=0.92, seed=3)
    off = fit(take.audio, SR, 120, BARS, 4, 1.0, mode="off", tail_samples=TAIL)
    margin = loop_length(1, 120, 4, 1.0, SR)
    assert off.status == "off" and off.played_bpm is None
    np.testing.assert_array_equal(off.audio, plain_cut(take.audio, margin, off.loop_samples + TAIL))
    far = fit(take.audio, SR, 120, BARS, 4, 1.0, mode="strict", strict_tolerance_pct=5.0)
    near = fit(take.audio, SR, 120, BARS, 4, 1.0, mode="strict", strict_tolerance_pct=10.0)
    assert far.status == "too_far" and "110.4 bpm" in far.message and near.status == "on_grid"
    assert closest_take([far, off], 120) is far
    with pytest.raises(GridError):
        fit(take.audio, SR, 120, BARS, 4, 1.0, mode="sometimes")


def test_report_is_json_ready():
    take = drum_take(120, bars=BARS + 2, tempo_factor=1.05, seed=8)
    report = fit(take.audio, SR, 120, BARS, 4, 1.0).report()
    assert report["status"] == "on_grid" and report["played_bpm"] == pytest.approx(126, rel=0.01)
    assert report["ratio"] == pytest.approx(1.05, rel=0.01) and 0 < report["confidence"] <= 1
    assert isinstance(report["first_downbeat"], float)


@pytest.mark.parametrize("factor", [0.8, 0.85])
def test_a_take_far_outside_the_tempo_window_is_cut_not_mangled(factor):
    """Played 15-20 % slow, the tracker can only lock onto a 4/3 period inside its ±15 % window: its confidence
    stays low, so the take keeps its generated timing (a plain cut) instead of being warped by 4/3."""
    take = drum_take(120, bars=7, tempo_factor=factor, bass=True, seed=2)
    result = fit(take.audio, SR, 120, BARS, 4, 1.0, tail_samples=TAIL)
    assert result.status == "beatless" and result.played_bpm is None
    margin = loop_length(1, 120, 4, 1.0, SR)
    np.testing.assert_array_equal(result.audio, plain_cut(take.audio, margin, result.loop_samples + TAIL))
