"""bridge.audio.beats: beats on the real hits, the played tempo, the right downbeat, beatless material."""

from __future__ import annotations

import numpy as np
import pytest
from synth import SR, drum_take, noise, pad

from bridge.audio.beats import GridError, analyze

CASES = {
    "slow 0.92 with leading silence": dict(bpm=120, tempo_factor=0.92, lead=0.7),
    "fast 1.08": dict(bpm=97, tempo_factor=1.08),
    "drift 2%": dict(bpm=124, drift=0.02),
    "swung 16ths": dict(bpm=100, swing=0.33),
    "3/4": dict(bpm=120, beats_per_bar=3),
    "6/8": dict(bpm=120, beats_per_bar=6, beat_quarters=0.5),
    "7/8": dict(bpm=140, beats_per_bar=7, beat_quarters=0.5),
    "half time": dict(bpm=90, feel="half"),
    "double time": dict(bpm=90, feel="double"),
    "stereo with bass": dict(bpm=128, stereo=True, bass=True),
}


def _meter(kw):
    return kw.get("beats_per_bar", 4), kw.get("beat_quarters", 1.0)


def _true_beats(take, per_bar, downbeats_only=False):
    return np.array(sorted({h.time for h in take.hits if float(h.position).is_integer()
                            and (not downbeats_only or h.position % per_bar == 0)}))


@pytest.mark.parametrize("name", list(CASES))
def test_beats_tempo_and_downbeat(name):
    kw = CASES[name]
    per_bar, beat = _meter(kw)
    take = drum_take(**kw, seed=list(CASES).index(name))
    a = analyze(take.audio, SR, kw["bpm"], per_bar, beat)
    truth = _true_beats(take, per_bar)
    found = np.array(a.beat_times)
    assert not a.beatless and a.confidence > 0.5
    assert len(found) >= len(truth) - 2
    assert max(np.min(np.abs(truth - b)) for b in found) < 0.002  # every beat on a real hit, within 2 ms
    assert a.played_bpm == pytest.approx(kw["bpm"] * kw.get("tempo_factor", 1.0), rel=0.01)
    bars = _true_beats(take, per_bar, downbeats_only=True)
    assert all(np.min(np.abs(bars - t)) < 0.002 for t in a.downbeat_times)


@pytest.mark.parametrize("marker", ["bass", "crash"])
@pytest.mark.parametrize("pickup", [0, 2])
def test_kicks_alike_on_1_and_3_the_marker_chooses_beat_1(marker, pickup):
    take = drum_take(120, marker=marker, pickup=pickup, lead=0.3, seed=5)
    a = analyze(take.audio, SR, 120, 4, 1.0)
    bars = _true_beats(take, 4, downbeats_only=True)
    assert all(np.min(np.abs(bars - t)) < 0.002 for t in a.downbeat_times)


def test_known_downbeat_sets_the_phase():
    take = drum_take(120, seed=2)
    known = take.downbeat + 2 * take.beat_period  # the song's bar starts on the take's beat 3
    a = analyze(take.audio, SR, 120, 4, 1.0, known_downbeat=known)
    assert min(abs(t - known) for t in a.downbeat_times) < 0.002


@pytest.mark.parametrize("material", ["pad", "noise"])
def test_beatless_material_is_reported(material):
    x = pad(8.0) if material == "pad" else noise(8.0)
    a = analyze(x, SR, 120, 4, 1.0)
    assert a.beatless and a.confidence < 0.35


@pytest.mark.parametrize("audio", [np.zeros(SR * 4, np.float32), np.full(int(0.2 * SR), 0.3, np.float32),
                                   np.zeros((0,), np.float32), np.full(SR * 2, np.nan, np.float32)])
def test_unanalysable_audio_raises_a_clear_error(audio):
    with pytest.raises(GridError):
        analyze(audio, SR, 120, 4, 1.0)
