"""bridge.audio.warp: exact lengths, pitch and level kept, attacks where the time map puts them."""

from __future__ import annotations

import numpy as np
import pytest
from synth import SR, drum_take, measurable, measure_onsets, noise

from bridge.audio.warp import time_map, warp


def _drifting_map(beats_in: np.ndarray, ratio: float, drift: float) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(len(beats_in))
    periods = 0.5 * SR * ratio * (1 + drift * np.sin(k / 3.0))
    return beats_in * SR, np.concatenate([[0.0], np.cumsum(periods[:-1])])


@pytest.mark.parametrize("out_len", [0, 1, 999, 32001])
@pytest.mark.parametrize("channels", [1, 2])
def test_length_is_exact(out_len, channels):
    x = noise(1.5) if channels == 1 else np.stack([noise(1.5), noise(1.5, 1)])
    y = warp(x, np.array([0.0, 20000.0]), np.array([0.0, 21000.0]), out_len, SR)
    assert y.shape == x.shape[:-1] + (out_len,) and y.dtype == np.float32 and np.isfinite(y).all()


def test_identity_map_gives_the_input_back():
    x = drum_take(120, bars=1).audio
    y = warp(x, np.array([0.0, 1000.0]), np.array([0.0, 1000.0]), len(x), SR)
    np.testing.assert_allclose(y, x, atol=1e-5)


@pytest.mark.parametrize("ratio, drift", [(0.92, 0.0), (1.08, 0.0), (0.96, 0.02), (1.04, 0.02)])
def test_attacks_land_where_the_map_puts_them(ratio, drift):
    take = drum_take(120, bars=3, bass=True, seed=3)
    beats = np.array(sorted({h.time for h in take.hits if float(h.position).is_integer()}))
    src, dst = _drifting_map(beats, ratio, drift)
    y = warp(take.audio, src, dst, int(dst[-1]), SR)
    hits = np.array([h.time for h in take.hits])[measurable(take)] * SR
    expect = time_map(src, dst, hits)
    expect = expect[(expect > 0.02 * SR) & (expect < len(y) - 0.02 * SR)]
    errors = np.abs(measure_onsets(y, expect) - expect) / SR * 1000
    assert np.median(errors) <= 0.5 and np.percentile(errors, 90) <= 1.0 and errors.max() <= 10.0


@pytest.mark.parametrize("freq", [55.0, 440.0, 2500.0])
def test_pitch_and_level_are_kept_under_a_drifting_ratio(freq):
    t = np.arange(3 * SR) / SR
    x = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    src = np.array([0.0, SR, 2 * SR, 3 * SR])
    dst = np.array([0.0, 0.95 * SR, 2.0 * SR, 3.1 * SR])
    y = warp(x, src, dst, int(3.1 * SR), SR)
    mid = y[int(0.3 * SR) : int(2.8 * SR)]
    spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid)), 8 * len(mid)))
    assert np.argmax(spec) * SR / (8 * len(mid)) == pytest.approx(freq, rel=0.002)
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


def test_bad_maps_are_refused():
    x = noise(1.0)
    with pytest.raises(ValueError):
        warp(x, np.array([0.0, 10.0, 5.0]), np.array([0.0, 10.0, 20.0]), 100, SR)
    with pytest.raises(ValueError):
        warp(x, np.array([0.0, 10.0]), np.array([0.0]), 100, SR)
    with pytest.raises(ValueError):
        warp(x, np.array([0.0, 10.0]), np.array([0.0, 10.0]), 100, SR, method="rubberband")


def test_signalsmith_alternative_gives_exact_lengths():
    pytest.importorskip("python_stretch")
    x = np.stack([noise(2.0), noise(2.0, 1)])
    y = warp(x, np.array([0.0, SR, 2 * SR]), np.array([0.0, 1.05 * SR, 2.0 * SR]), 64123, SR, "signalsmith")
    assert y.shape == (2, 64123) and np.isfinite(y).all()
