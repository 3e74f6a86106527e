"""bridge.audio.stretch: WSOLA keeps pitch and level, moves beats to the new tempo, and gives exact lengths."""

from __future__ import annotations

import numpy as np
import pytest
from signals import SR, clicks, onsets, sine

from bridge.audio.stretch import time_stretch


@pytest.mark.parametrize("ratio", [0.25, 0.5, 100 / 120, 1.1, 1.25, 2.0, 3.3])
@pytest.mark.parametrize("n", [0, 1, 700, 32001])
def test_length_is_exact(ratio, n):
    y = time_stretch(np.random.default_rng(0).standard_normal(n).astype(np.float32), ratio)
    assert y.shape == (int(round(n * ratio)),) and y.dtype == np.float32 and np.isfinite(y).all()


@pytest.mark.parametrize("ratio", [0.5, 100 / 120, 1.25, 2.0])
@pytest.mark.parametrize("freq", [55.0, 440.0, 2500.0])
def test_pitch_and_level_stay(ratio, freq):
    y = time_stretch(sine(freq, 3.0), ratio)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    peak = np.argmax(spectrum) * SR / len(y)
    assert abs(peak - freq) <= SR / len(y)  # within one FFT bin
    middle = y[len(y) // 8 : -len(y) // 8]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)  # phase-coherent OLA


@pytest.mark.parametrize("clip_bpm,song_bpm", [(100, 120), (128, 93), (90, 90.5)])
def test_beats_land_on_the_new_tempo(clip_bpm, song_bpm):
    beats = 8
    y = time_stretch(clicks(clip_bpm, beats), clip_bpm / song_bpm)
    found = onsets(y)
    expected = np.arange(beats) * 60 / song_bpm
    assert len(found) == beats, found
    # WSOLA moves a transient by up to about (ratio x half a frame); measured 5 ms at 100 -> 120, 11.5 ms
    # at 128 -> 93, 0.2 ms at 90 -> 90.5
    assert np.abs(found - expected).max() < 0.015


def test_ratio_one_and_silence_are_untouched():
    x = np.random.default_rng(1).standard_normal(5000).astype(np.float32)
    assert np.array_equal(time_stretch(x, 1.0), x)
    assert not np.any(time_stretch(np.zeros(9000, np.float32), 0.7))


@pytest.mark.parametrize("ratio", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_ratio_is_refused(ratio):
    with pytest.raises(ValueError, match="ratio"):
        time_stretch(np.zeros(100, np.float32), ratio)


@pytest.mark.parametrize("ratio", [100 / 120, 1.25])
def test_stereo_channels_share_the_frames(ratio):
    """A stereo prompt: each channel is read at the same places, so the image and phase relation stay."""
    x = clicks(100, 8)
    x = x + 0.3 * sine(110.0, len(x) / SR)[: len(x)]
    mono = time_stretch(x, ratio)
    y = time_stretch(np.stack([x, 0.5 * x]), ratio)  # the right channel 6 dB down
    assert y.shape == (2, len(mono)) and y.dtype == np.float32
    assert len(onsets(y[0])) == len(onsets(mono)) == 8  # the left channel stretched like the mono clip
    np.testing.assert_allclose(y[1], 0.5 * y[0], atol=1e-6)  # the pan survives, sample for sample
    wide = time_stretch(np.stack([x, sine(440.0, len(x) / SR)[: len(x)]]), ratio)  # unrelated channels
    assert len(onsets(wide[0])) == 8 and np.isfinite(wide).all()


def test_more_than_two_dimensions_is_refused():
    with pytest.raises(ValueError, match="channels"):
        time_stretch(np.zeros((1, 2, 100), np.float32), 1.2)
