"""End-to-end rendering with the debug model: exact lengths, seamless wrap, seeds, variations, clips."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
import soundfile as sf
from signals import clicks
from synth import drum_take

from bridge import pipeline
from bridge.audio.acid import read_acid
from bridge.audio.loops import integrated_loudness, typical_step, wrap_discontinuity
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.engine.types import HOP, SAMPLE_RATE
from bridge.limits import GRID_MAX_ATTEMPTS
from bridge.pipeline import held_bars, loop_plan, render
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
    assert read_acid(out.read_bytes()).beats == 4 + 4  # the bar, and the 2 s prompt's 4 beats at 120 bpm


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
    # named and tagged as what it holds: 4 beats of prompt + 1 bar = 2 bars
    assert "_120bpm_2bars_" in out.name
    with sf.SoundFile(out) as f:
        comment = f.copy_metadata()["comment"]
    assert " bars=2 " in comment and " beats=8 " in comment and "kept_prompt_beats=4" in comment


def test_a_kept_prompt_of_whole_beats_names_fractional_bars():
    r = GenerationRequest(prompt="x", bpm=120.0, bars=2)
    assert held_bars(r, 0) == 2
    assert held_bars(r, 3 * r.sample_rate) == 3.5  # 3 s at 120 bpm = 6 beats = 1.5 bars of 4/4
    assert held_bars(replace(r, time_signature="7/8"), r.sample_rate // 2) == 2 + 1 / 3.5


def test_progress_is_monotonic_and_ends_at_one(debug_engine, tmp_path):
    seen: list[float] = []
    render(debug_engine, req(), tmp_path, backend=BACKEND, on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10


def test_40_second_loop_is_exact_through_sliding_windows(debug_engine, tmp_path, clip):
    steps: list[tuple[int, int]] = []
    r = req(
        bars=10, bpm=60.0, sample_rate=32000, melody=clip(440.0, 3.0, 32000), grid="off"
    )  # 10 bars of 4/4 at 60 = 40 s, cut as generated: exactly two windows
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
    n_frames = loop_plan(r).frames
    assert [c.index for c in chunks] == list(range(len(chunks))) and len(chunks) > 3
    starts = [c.start_sample for c in chunks]
    assert starts[0] == 0 and all(a.end_sample == b.start_sample for a, b in pairwise(chunks))
    assert chunks[-1].end_sample == n_frames * HOP  # the prompt is context, never re-emitted
    assert all(c.audio.shape[0] == 2 for c in chunks)  # every take streams
    assert progress_at_chunk[0] < 0.5  # the first chunk comes long before the loop is finished


# --------------------------------------------------------------------------------------------- the grid


@pytest.mark.parametrize("grid", ["off", "on", "strict"])
@pytest.mark.parametrize(
    "bpm,bars,ts,sr",
    [(120.0, 1, "4/4", 44100), (123.45, 2, "4/4", 32000), (240.0, 1, "6/8", 44100), (200.0, 2, "7/8", 32000)],
)
def test_every_grid_mode_gives_the_exact_length_and_reports_each_take(debug_engine, tmp_path, grid, bpm, bars, ts, sr):
    r = req(bpm=bpm, bars=bars, time_signature=ts, sample_rate=sr, grid=grid, variations=2)
    result = render(debug_engine, r, tmp_path, backend=BACKEND)
    expected = loop_samples(bars, bpm, TimeSignature.parse(ts), sr)
    assert [sf.info(p).frames for p in result.paths] == [expected, expected]
    assert [g["take"] for g in result.grid] == [1, 2]
    # the debug model's random weights play noise: no beat to fit, the generated timing is kept and said so
    assert {g["status"] for g in result.grid} == ({"off"} if grid == "off" else {"beatless"})
    assert all(g["attempts"] == 1 for g in result.grid)


def test_the_file_carries_its_tempo_and_beats(debug_engine, tmp_path):
    r = req(bpm=97.5, bars=2, time_signature="7/8", sample_rate=32000)
    (path,) = render(debug_engine, r, tmp_path, backend=BACKEND).paths
    acid = read_acid(path.read_bytes())
    assert acid is not None and acid.tempo == pytest.approx(97.5) and acid.beats == 7  # 2 x 3.5 quarters
    assert (acid.numerator, acid.denominator, acid.root_note, acid.one_shot) == (7, 8, None, False)
    comment = sf.SoundFile(path).comment
    assert "bpm=97.5 bars=2 time_signature=7/8 beats=7 " in comment and "grid=beatless" in comment


def _fake_takes(monkeypatch, factors: list[float], seeds: list[int]) -> None:
    """The model plays a drum loop at `factors[i]` x the requested tempo on attempt i."""
    played = iter(factors)

    def fake_generate(engine, request, cond, plan, batch, seed, *_):
        seeds.append(seed)
        take = drum_take(request.bpm, bars=plan.lead_bars + request.bars + plan.trail_bars + 2,
                         tempo_factor=next(played), bass=True, seed=5)
        n = plan.frames * HOP
        audio = np.zeros(n, np.float32)
        audio[: min(n, len(take.audio))] = take.audio[:n]
        return np.repeat(audio[None, None], batch, axis=0)  # as Engine.decode_codes: (batch, 1, samples)

    monkeypatch.setattr(pipeline, "_generate", fake_generate)


def test_on_fits_a_take_played_off_tempo(debug_engine, tmp_path, monkeypatch):
    seeds: list[int] = []
    _fake_takes(monkeypatch, [0.94], seeds)
    r = req(bpm=120.0, bars=2, sample_rate=32000, loudness_lufs=None)
    result = render(debug_engine, r, tmp_path, backend=BACKEND)
    (g,) = result.grid
    assert g["status"] == "on_grid" and g["played_bpm"] == pytest.approx(112.8, abs=0.5)
    assert g["ratio"] == pytest.approx(0.94, abs=0.005) and g["message"].startswith("on grid (played 112.")
    assert sf.info(result.paths[0]).frames == loop_samples(2, 120.0, TimeSignature(4, 4), 32000)


def test_strict_generates_a_take_again_until_it_plays_the_tempo(debug_engine, tmp_path, monkeypatch):
    seeds: list[int] = []
    _fake_takes(monkeypatch, [0.9, 1.0], seeds)
    r = req(bpm=120.0, bars=2, sample_rate=32000, grid="strict", grid_tolerance_pct=3.0)
    (g,) = render(debug_engine, r, tmp_path, backend=BACKEND).grid
    assert g["attempts"] == 2 and g["status"] == "on_grid" and g["played_bpm"] == pytest.approx(120, abs=0.5)
    assert len(seeds) == 2 and seeds[0] == r.seed != seeds[1]


def test_strict_keeps_the_closest_take_when_attempts_run_out(debug_engine, tmp_path, monkeypatch):
    seeds: list[int] = []
    _fake_takes(monkeypatch, [0.88, 0.9, 1.12], seeds)
    r = req(bpm=120.0, bars=2, sample_rate=32000, grid="strict", grid_tolerance_pct=3.0)
    result = render(debug_engine, r, tmp_path, backend=BACKEND)
    (g,) = result.grid
    assert g["attempts"] == GRID_MAX_ATTEMPTS == len(seeds) and g["status"] == "too_far"
    assert g["played_bpm"] == pytest.approx(108, abs=0.5)  # 0.9 x 120: the closest of the three
    assert sf.info(result.paths[0]).frames == loop_samples(2, 120.0, TimeSignature(4, 4), 32000)


def test_grid_shift_moves_the_bar_line_by_whole_beats(debug_engine, tmp_path, monkeypatch):
    firsts = []
    for shift in (0.0, 1.0, -2.0):
        _fake_takes(monkeypatch, [1.0], [])
        (g,) = render(debug_engine, req(bars=1, sample_rate=32000, grid_shift=shift), tmp_path / str(shift),
                      backend=BACKEND).grid
        firsts.append(g["first_downbeat"])
    assert firsts[1] - firsts[0] == pytest.approx(0.5, abs=0.003)  # one beat at 120 bpm
    assert firsts[2] - firsts[0] == pytest.approx(-1.0, abs=0.003)
