"""bridge.audio.channels and stereo loop finishing: the file's channel count, downmix and duplicate, and a
stereo loop folded per channel, measured on both channels, capped on both."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from bridge.audio.channels import match_channels, output_channels
from bridge.audio.loops import fade_samples, finish_loop, fold_tail, integrated_loudness, typical_step
from bridge.audio.tempo import TimeSignature, loop_samples


def _pair(n: int, sr: int) -> np.ndarray:
    """(2, n): unrelated material in each channel (different tones and levels), so a mix-up shows."""
    t = np.arange(n) / sr
    left = 0.4 * np.sin(2 * np.pi * 110.3 * t) + 0.1 * np.sin(2 * np.pi * 1234.5 * t)
    right = 0.2 * np.sin(2 * np.pi * 173.9 * t + 1.0) + 0.05 * np.random.default_rng(3).standard_normal(n)
    return np.stack([left, right]).astype(np.float32)


# ------------------------------------------------------------------------------------------ channels


@pytest.mark.parametrize("requested, model, out", [(0, 1, 1), (0, 2, 2), (1, 2, 1), (2, 1, 2), (1, 1, 1)])
def test_the_files_channels_are_the_request_or_the_models(requested, model, out):
    assert output_channels(requested, model) == out


@pytest.mark.parametrize("requested, model", [(3, 1), (-1, 2), (1, 0), (2, 4)])
def test_impossible_channel_counts_are_refused(requested, model):
    with pytest.raises(ValueError):
        output_channels(requested, model)


def test_mono_to_stereo_duplicates_and_stereo_to_mono_downmixes():
    x = _pair(1000, 32000)
    dup = match_channels(x[0], 2)
    assert dup.shape == (2, 1000) and np.array_equal(dup[0], x[0]) and np.array_equal(dup[1], x[0])
    down = match_channels(x, 1)
    assert down.shape == (1, 1000)
    np.testing.assert_allclose(down[0], (x[0] + x[1]) / 2, atol=1e-7)
    same = match_channels(x, 2)
    assert np.array_equal(same, x) and same is not x


def test_batches_of_takes_keep_their_leading_axes():
    takes = np.stack([_pair(500, 32000), 0.5 * _pair(500, 32000)])  # (takes, 2, n), as streamed chunks
    down = match_channels(takes, 1)
    assert down.shape == (2, 1, 500)
    np.testing.assert_allclose(down[1], 0.5 * down[0], atol=1e-7)
    assert match_channels(takes[:, :1], 2).shape == (2, 2, 500)


def test_a_surround_clip_gives_its_front_pair_or_its_mean():
    x = np.arange(6 * 10, dtype=np.float32).reshape(6, 10)
    assert np.array_equal(match_channels(x, 2), x[:2])
    np.testing.assert_allclose(match_channels(x, 1)[0], x.mean(axis=0))
    with pytest.raises(ValueError):
        match_channels(x, 3)


# --------------------------------------------------------------------------------- stereo loops


@pytest.mark.parametrize(
    "bars, bpm, ts, sr",
    [(1, 120.0, "4/4", 44100), (2, 123.45, "4/4", 32000), (3, 97.0, "3/4", 48000), (2, 200.0, "7/8", 22050),
     (1, 240.0, "6/8", 96000)],
)
def test_a_stereo_loop_is_exactly_n_bars(bars, bpm, ts, sr):
    loop_len = loop_samples(bars, bpm, TimeSignature.parse(ts), sr)
    fade = fade_samples(loop_len, sr)
    y = finish_loop(_pair(loop_len + fade, sr), loop_len, fade, sr, -14.0)
    assert y.shape == (2, loop_len) and y.dtype == np.float32


def test_each_channel_folds_its_own_tail():
    sr = 32000
    loop_len = loop_samples(1, 120.0, TimeSignature(4, 4), sr)
    fade = fade_samples(loop_len, sr)
    x = _pair(loop_len + fade + 100, sr)
    folded = fold_tail(x, loop_len, fade)
    for c in range(2):  # the same as folding the channel alone: nothing crosses between channels
        np.testing.assert_array_equal(folded[c], fold_tail(x[c], loop_len, fade))
        seam = abs(float(folded[c, -1]) - float(folded[c, 0]))
        assert seam <= typical_step(folded[c])  # each channel wraps without a click
    plain = x[:, :loop_len]
    assert abs(float(plain[0, -1]) - float(plain[0, 0])) > 5 * typical_step(plain[0])  # a cut would click


def test_loudness_is_measured_on_both_channels_and_one_gain_applies():
    sr = 44100
    loop_len = 3 * sr
    x = _pair(loop_len, sr)
    meter = pyloudnorm.Meter(sr)
    assert integrated_loudness(x, sr) == pytest.approx(meter.integrated_loudness(x.T.astype(np.float64)))
    mono = x[0]
    both = np.stack([mono, mono])  # BS.1770 sums the channels' power: a duplicate is 3 dB louder
    assert integrated_loudness(both, sr) - integrated_loudness(mono, sr) == pytest.approx(3.01, abs=0.02)
    y = finish_loop(x, loop_len, 0, sr, -20.0)
    assert integrated_loudness(y, sr) == pytest.approx(-20.0, abs=0.1)
    gains = [np.std(y[c]) / np.std(x[c] - x[c].mean()) for c in range(2)]
    assert gains[0] == pytest.approx(gains[1], rel=1e-4)  # the balance between the channels is kept


def test_the_peak_ceiling_holds_on_both_channels():
    sr = 32000
    x = _pair(2 * sr, sr)
    x[1, 1000] = 3.0  # one hot sample in the right channel only
    y = finish_loop(x, 2 * sr, 0, sr, -6.0, peak_dbfs=-1.0)
    assert np.abs(y).max() == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert np.abs(y[1]).max() > np.abs(y[0]).max()  # the right channel's peak set the ceiling for both
    kept = finish_loop(x, 2 * sr, 0, sr, None, peak_dbfs=-1.0)  # level kept: capped only where it clips
    assert np.abs(kept).max() == pytest.approx(10 ** (-1 / 20), rel=1e-4)
