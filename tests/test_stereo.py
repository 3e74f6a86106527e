"""Stereo through the pipeline: debug-stereo writes 2-channel loops of the exact length whose channels
differ, streams stereo chunks, continues stereo clips per channel; `channels` 2 duplicates a mono model's
take and `channels` 1 downmixes a stereo one. Pipeline-level length checks use synthetic stereo takes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from signals import clicks

from bridge.audio.loops import integrated_loudness, typical_step, wrap_discontinuity
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.engine.conditioning import load_melody, prompt_clip
from bridge.engine.loading import load_engine
from bridge.engine.types import HOP, SAMPLE_RATE
from bridge.pipeline import finish_take, fit_take, loop_plan, render
from bridge.request import GenerationRequest

FAST = dict(bpm=240.0, bars=1, grid="off", sample_rate=32000)  # 1 s of loop, no margin bars: quick renders


@pytest.fixture(scope="module")
def stereo_engine():
    return load_engine("debug-stereo", device="cpu")


def req(**kw) -> GenerationRequest:
    base = dict(prompt="test loop", bpm=120.0, bars=1, seed=1)
    base.update(kw)
    return GenerationRequest(**base)


def _stereo_take(n: int, sr: int) -> np.ndarray:
    """(2, n): different tones left and right, so a channel mix-up or a downmix shows."""
    t = np.arange(n) / sr
    return np.stack([0.3 * np.sin(2 * np.pi * 220.0 * t), 0.2 * np.sin(2 * np.pi * 331.0 * t + 1.0)]).astype(
        np.float32
    )


# ------------------------------------------------------------------------------- lengths, no model


@pytest.mark.parametrize(
    "bpm, bars, ts, sr",
    [(120.0, 1, "4/4", 44100), (123.45, 2, "4/4", 32000), (240.0, 1, "6/8", 48000), (200.0, 2, "7/8", 22050),
     (97.0, 1, "3/4", 96000)],
)
@pytest.mark.parametrize("grid", ["off", "on"])
def test_a_stereo_take_is_finished_to_exactly_n_bars(bpm, bars, ts, sr, grid):
    r = req(bpm=bpm, bars=bars, time_signature=ts, sample_rate=sr, grid=grid, loudness_lufs=-14.0)
    plan = loop_plan(r)
    x = _stereo_take(round(plan.frames * HOP * sr / SAMPLE_RATE), sr)
    fitted = fit_take(x, r, plan)  # a tone has no beat: beatless, the generated timing kept
    assert fitted.audio.shape == (2, plan.loop_len + plan.fade_len)
    y = finish_take(fitted.audio, r, plan, channels=2)
    assert y.shape == (2, loop_samples(bars, bpm, TimeSignature.parse(ts), sr)) and y.dtype == np.float32
    assert integrated_loudness(y, sr) == pytest.approx(-14.0, abs=0.2)  # BS.1770 over both channels
    for c in range(2):  # each channel wraps into its own head
        assert abs(float(y[c, -1] - y[c, 0])) <= 2 * typical_step(y[c])
    assert not np.allclose(y[0], y[1])


def test_a_kept_stereo_prompt_comes_first_in_both_channels():
    r = req(sample_rate=48000, loudness_lufs=None)
    plan = loop_plan(r)
    prefix = _stereo_take(2 * SAMPLE_RATE, SAMPLE_RATE)  # 2 s of prompt at 32 kHz
    fitted = _stereo_take(plan.loop_len + plan.fade_len, 48000)
    y = finish_take(fitted, r, plan, prefix, channels=2)
    assert y.shape == (2, 2 * 48000 + plan.loop_len)
    mono = finish_take(fitted, r, plan, prefix, channels=1)  # the downmix of the same, prompt included
    assert mono.shape == (1, 2 * 48000 + plan.loop_len)
    np.testing.assert_allclose(mono[0, 5000:90000], y[:, 5000:90000].mean(axis=0), atol=1e-4)


# ------------------------------------------------------------------------------- debug-stereo renders


def test_debug_stereo_writes_stereo_loops_and_streams_stereo_chunks(stereo_engine, tmp_path):
    r = req(**FAST, variations=2)
    chunks = []
    result = render(stereo_engine, r, tmp_path, on_chunk=chunks.append)
    expected = loop_samples(1, 240.0, TimeSignature(4, 4), 32000)
    for path in result.paths:
        y, sr = sf.read(path, always_2d=True)
        assert sr == 32000 and y.shape == (expected, 2)
        assert np.abs(y[:, 0] - y[:, 1]).max() > 1e-3  # two channels, not one copied
        assert np.abs(y).max() <= 10 ** (-1 / 20) + 1e-4 and integrated_loudness(y.T, sr) <= -13.5
        for c in range(2):  # each channel wraps seamlessly into its own head
            assert wrap_discontinuity(y[:, c]) <= typical_step(y[:, c])
    assert chunks and all(c.audio.shape[:2] == (2, 2) for c in chunks)  # (takes, channels, n)
    streamed = np.concatenate([c.audio for c in chunks], axis=-1)
    assert streamed.shape[-1] == loop_plan(r).frames * HOP
    assert np.abs(streamed[:, 0] - streamed[:, 1]).max() > 1e-3


def test_channels_1_downmixes_a_stereo_model(stereo_engine, tmp_path):
    chunks = []
    (path,) = render(stereo_engine, req(**FAST, channels=1), tmp_path, on_chunk=chunks.append).paths
    info = sf.info(path)
    assert info.channels == 1 and info.frames == loop_samples(1, 240.0, TimeSignature(4, 4), 32000)
    assert all(c.audio.shape[1] == 1 for c in chunks)  # the preview is the downmix too


def test_channels_2_duplicates_a_mono_model_and_0_keeps_it_mono(debug_engine, tmp_path):
    mono, dup = (
        render(debug_engine, req(**FAST, channels=c, seed=4), tmp_path / str(c)).paths[0] for c in (0, 2)
    )
    x, _ = sf.read(mono, always_2d=True)
    y, sr = sf.read(dup, always_2d=True)
    assert x.shape[1] == 1 and y.shape == (x.shape[0], 2)
    np.testing.assert_array_equal(y[:, 0], y[:, 1])
    assert integrated_loudness(y.T, sr) == pytest.approx(integrated_loudness(x.T, sr), abs=0.3)  # both -14


def test_a_stereo_clip_is_continued_per_channel(stereo_engine, tmp_path):
    path = tmp_path / "pair.wav"
    left, right = clicks(120, 8), 0.5 * np.roll(clicks(120, 8), 4000)
    sf.write(path, np.stack([left, right], axis=1), SAMPLE_RATE)
    r = req(**FAST, continue_from=path, prompt_seconds=1.0, keep_prompt=True)
    seen = []
    encode = stereo_engine.encode_audio

    def spy(wav):
        seen.append(np.asarray(wav).shape)
        return encode(wav)

    stereo_engine.encode_audio = spy
    try:
        (out,) = render(stereo_engine, r, tmp_path / "out").paths
    finally:
        del stereo_engine.encode_audio
    assert seen == [(2, SAMPLE_RATE)]  # the clip's two channels reached the codec, 1 s = 50 frames each
    y, _ = sf.read(out, always_2d=True)
    assert y.shape == (SAMPLE_RATE + loop_samples(1, 240.0, TimeSignature(4, 4), 32000), 2)


def test_prompt_clips_take_the_models_channels(tmp_path):
    path = tmp_path / "pair.wav"
    pair = np.stack([clicks(120, 8), 0.25 * clicks(120, 8)], axis=1)  # (samples, 2) as soundfile writes
    sf.write(path, pair, 44100)
    r = req(continue_from=path, prompt_seconds=2.0)
    stereo, mono = prompt_clip(r, 2), prompt_clip(r, 1)
    assert stereo.shape == (2, 2 * SAMPLE_RATE) and mono.shape == (2 * SAMPLE_RATE,)
    np.testing.assert_allclose(stereo[1], 0.25 * stereo[0], atol=1e-4)  # each channel kept
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-5)  # a mono model hears the downmix
    one = tmp_path / "one.wav"
    sf.write(one, clicks(120, 8), 44100)
    fed = prompt_clip(req(continue_from=one, prompt_seconds=2.0), 2)
    np.testing.assert_array_equal(fed[0], fed[1])  # a mono clip feeds both channels


def test_melody_chroma_comes_from_the_downmix(tmp_path):
    t = np.arange(3 * 44100) / 44100
    left, right = 0.5 * np.sin(2 * np.pi * 220.0 * t), 0.3 * np.sin(2 * np.pi * 329.63 * t)
    sf.write(tmp_path / "pair.wav", np.stack([left, right], axis=1), 44100, subtype="FLOAT")
    sf.write(tmp_path / "mix.wav", (left + right) / 2, 44100, subtype="FLOAT")
    pair = load_melody(req(melody=tmp_path / "pair.wav"), 0.0).chroma
    mix = load_melody(req(melody=tmp_path / "mix.wav"), 0.0).chroma
    assert pair.shape == mix.shape and bool((pair == mix).all())
