"""End-to-end rendering with the debug model: exact lengths, seamless wrap, seeds, variations, clips."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import soundfile as sf
from signals import clicks

from bridge.audio.loops import integrated_loudness, typical_step, wrap_discontinuity
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.engine.types import HOP, SAMPLE_RATE
from bridge.pipeline import loop_plan, render
from bridge.request import GenerationRequest

BACKEND = "ours"


def req(**kw) -> GenerationRequest:
    base = dict(prompt="test loop", bpm=120.0, bars=1, seed=1)
    base.update(kw)
    return GenerationRequest(**base)


@pytest.mark.parametrize(
    "bpm,bars,ts,sr",
    [
        (120.0, 1, "4/4", 44100),
        (123.45, 2, "4/4", 32000),
        (240.0, 1, "6/8", 44100),
        (200.0, 2, "7/8", 32000),
        (97.0, 1, "3/4", 48000),
    ],
)
def test_output_is_exactly_n_bars(debug_engine, tmp_path, bpm, bars, ts, sr):
    r = req(bpm=bpm, bars=bars, time_signature=ts, sample_rate=sr)
    result = render(debug_engine, r, tmp_path, backend=BACKEND)
    (path,) = result.paths
    info = sf.info(path)
    assert info.samplerate == sr
    assert info.frames == loop_samples(bars, bpm, TimeSignature.parse(ts), sr)
    assert info.subtype == "PCM_24"
    assert path.parent == tmp_path and path.name.startswith("test-loop_")


def test_loop_wraps_without_a_click(debug_engine, tmp_path):
    (path,) = render(debug_engine, req(bars=2), tmp_path, backend=BACKEND).paths
    audio, _ = sf.read(path, always_2d=True)
    x = audio.T
    assert wrap_discontinuity(x) <= typical_step(x)


def test_loudness_and_metadata(debug_engine, tmp_path):
    (path,) = render(debug_engine, req(bars=2), tmp_path, backend=BACKEND).paths
    audio, sr = sf.read(path, always_2d=True)
    assert np.abs(audio).max() <= 10 ** (-1 / 20) + 1e-4  # peak ceiling -1 dBFS
    loud = integrated_loudness(audio.T, sr)
    assert loud <= -14.0 + 0.5
    with sf.SoundFile(path) as f:
        assert f.title == "test loop"
        assert "bpm=120 bars=2" in f.comment and "seed=1" in f.comment and "model=debug" in f.comment


def test_same_seed_same_audio_different_seed_different(debug_engine, tmp_path):
    a = render(debug_engine, req(seed=7), tmp_path / "a", backend=BACKEND).paths[0]
    b = render(debug_engine, req(seed=7), tmp_path / "b", backend=BACKEND).paths[0]
    c = render(debug_engine, req(seed=8), tmp_path / "c", backend=BACKEND).paths[0]
    xa, xb, xc = (sf.read(p)[0] for p in (a, b, c))
    assert np.array_equal(xa, xb)
    assert not np.array_equal(xa, xc)


def test_variations_give_distinct_files(debug_engine, tmp_path):
    paths = render(debug_engine, req(variations=3), tmp_path, backend=BACKEND).paths
    assert len(paths) == 3 and len(set(paths)) == 3
    assert [p.stem.rsplit("_", 1)[1] for p in paths] == ["v1", "v2", "v3"]
    data = [sf.read(p)[0] for p in paths]
    assert not np.array_equal(data[0], data[1]) and not np.array_equal(data[1], data[2])


def test_never_overwrites_an_existing_result(debug_engine, tmp_path):
    first = render(debug_engine, req(seed=3), tmp_path, backend=BACKEND).paths[0]
    before = first.read_bytes()
    second = render(debug_engine, req(seed=3), tmp_path, backend=BACKEND).paths[0]
    assert second != first and second.name.endswith("-2.wav")
    assert first.read_bytes() == before


@pytest.mark.parametrize("fmt,sr,channels", [("wav", 48000, 2), ("flac", 22050, 1), ("ogg", 44100, 2)])
def test_melody_from_any_format(debug_engine, tmp_path, clip, fmt, sr, channels):
    path = clip(440.0, 3.0, sr, channels, fmt)
    r = req(melody=path, melody_bpm=100.0, bars=1)
    (out,) = render(debug_engine, r, tmp_path / "out", backend=BACKEND).paths
    assert sf.info(out).frames == loop_samples(1, 120.0, TimeSignature(4, 4), 44100)


def test_stretched_continuation_renders_with_its_prompt(debug_engine, tmp_path):
    path = tmp_path / "clicks100.wav"
    sf.write(path, clicks(100, 10), SAMPLE_RATE)
    r = req(continue_from=path, melody_bpm=100.0, prompt_seconds=2.0, keep_prompt=True, sample_rate=32000)
    (out,) = render(debug_engine, r, tmp_path / "out", backend=BACKEND).paths
    assert sf.info(out).frames == 2 * SAMPLE_RATE + loop_samples(1, 120.0, TimeSignature(4, 4), 32000)


def test_continuation_and_melody_render(debug_engine, tmp_path, clip):
    path = clip(330.0, 4.0, 32000)
    r = req(continue_from=path, melody=path, prompt_seconds=2.0, bars=1)
    (out,) = render(debug_engine, r, tmp_path, backend=BACKEND).paths
    assert sf.info(out).frames == loop_samples(1, 120.0, TimeSignature(4, 4), 44100)


def test_keep_prompt_prepends_the_prompt_audio(debug_engine, tmp_path, clip):
    path = clip(330.0, 4.0, 32000)
    r = req(continue_from=path, prompt_seconds=2.0, bars=1, keep_prompt=True, sample_rate=32000)
    (out,) = render(debug_engine, r, tmp_path, backend=BACKEND).paths
    assert sf.info(out).frames == 2 * SAMPLE_RATE + loop_samples(1, 120.0, TimeSignature(4, 4), 32000)


def test_progress_is_monotonic_and_ends_at_one(debug_engine, tmp_path):
    seen: list[float] = []
    render(debug_engine, req(), tmp_path, backend=BACKEND, on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10


def test_40_second_loop_is_exact_through_sliding_windows(debug_engine, tmp_path, clip):
    steps: list[tuple[int, int]] = []
    r = req(
        bars=10, bpm=60.0, sample_rate=32000, melody=clip(440.0, 3.0, 32000)
    )  # 10 bars of 4/4 at 60 = 40 s
    cond_calls = []
    original = debug_engine.generate

    def spy(*args, **kw):
        cond_calls.append((kw["n_frames"], None if kw["prompt_codes"] is None else kw["prompt_codes"].shape))
        return original(*args, **kw)

    debug_engine.generate = spy
    try:
        (path,) = render(
            debug_engine, r, tmp_path, backend=BACKEND, on_progress=lambda f: steps.append(f)
        ).paths
    finally:
        del debug_engine.generate
    assert sf.info(path).frames == 40 * 32000
    assert len(cond_calls) == 2 and cond_calls[0][0] == 1500 and cond_calls[1][1][-1] == 600
    assert steps == sorted(steps) and steps[-1] == 1.0


def test_streamed_chunks_arrive_during_generation_and_cover_the_new_audio(debug_engine, tmp_path, clip):
    r = req(bars=2, continue_from=clip(330.0, 3.0, 32000), prompt_seconds=1.0, variations=2)
    chunks, progress_at_chunk, progress = [], [], [0.0]

    def on_progress(f: float) -> None:
        progress[0] = f

    def on_chunk(c) -> None:
        chunks.append(c)
        progress_at_chunk.append(progress[0])

    render(debug_engine, r, tmp_path, backend=BACKEND, on_progress=on_progress, on_chunk=on_chunk)
    _, _, n_frames = loop_plan(r)
    assert [c.index for c in chunks] == list(range(len(chunks))) and len(chunks) > 3
    starts = [c.start_sample for c in chunks]
    assert starts[0] == 0 and all(a.end_sample == b.start_sample for a, b in pairwise(chunks))
    assert chunks[-1].end_sample == n_frames * HOP  # the prompt is context, never re-emitted
    assert all(c.audio.shape[0] == 2 for c in chunks)  # every take streams
    assert progress_at_chunk[0] < 0.5  # the first chunk comes long before the loop is finished
