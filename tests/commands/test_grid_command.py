"""`musicgen-bridge grid`: a recording fitted onto the grid, bar-exact, its hits on their grid samples.

Recordings are built here (tests/synth.py drum takes at 0.92-1.08x the tempo, leading silence, drift,
3/4, 7/8, stereo; a pad and noise), written as WAV files and fitted through `bridge.cli.main`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import SR, drum_take, measurable, measure_onsets, noise, pad

from bridge.audio.acid import read_acid
from bridge.audio.loops import integrated_loudness
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.cli import main
from bridge.names import grid_stem

BARS = 4
CASES = {
    "0.92x with leading silence": dict(bpm=120, tempo_factor=0.92, lead=0.7),
    "1.08x": dict(bpm=97, tempo_factor=1.08),
    "0.96x drifting 2%": dict(bpm=124, tempo_factor=0.96, drift=0.02),
    "3/4": dict(bpm=120, beats_per_bar=3, tempo_factor=0.95),
    "7/8": dict(bpm=140, beats_per_bar=7, beat_quarters=0.5, tempo_factor=0.97, lead=0.3),
    "stereo": dict(bpm=128, stereo=True, bass=True, tempo_factor=1.06),
}
MEASURED: dict[str, dict] = {}  # figures per case, printed with -s (the report's numbers)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own errors (e.g. --bpm abc)
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


@functools.cache
def take_of(name: str):
    kw = CASES[name]
    return drum_take(**kw, bars=BARS + 2, seed=20 + list(CASES).index(name))


def recording(tmp_path: Path, name: str, audio: np.ndarray, sr: int = SR, subtype: str = "PCM_24") -> Path:
    path = tmp_path / name
    sf.write(path, audio.T, sr, subtype=subtype)  # (channels, samples) => soundfile's (samples, channels)
    return path


def grid_json(capsys, path: Path, out: Path, *extra: str) -> dict:
    code, stdout, err = run(capsys, "grid", path, "--out", out, "--json", *extra)
    assert code == 0, err
    (line,) = stdout.splitlines()
    return json.loads(line)


def meter(kw: dict) -> tuple[int, float]:
    return kw.get("beats_per_bar", 4), kw.get("beat_quarters", 1.0)


def grid_errors_ms(take, y: np.ndarray, first_downbeat: float, bpm: float, beat: float, shift: float = 0.0):
    """Errors (ms) of the prominent measurable hits inside the loop, and the take's beat at first_downbeat;
    `beat` is quarter notes per beat.

    With `shift`, output sample 0 is `shift` beats after first_downbeat (the unshifted fit's bar line)."""
    times = np.array([h.time for h in take.hits]) * SR
    pos = np.array([h.position for h in take.hits])
    p0 = pos[np.argmin(np.abs(times - first_downbeat * SR))]
    grid = (pos - p0 - shift) * beat * 60 / bpm * SR
    # prominent: all but the quiet off-16th hats (in a snare's tail the meter can latch onto a splice ripple)
    prominent = np.array([h.kind != "hat" or (2 * h.position * beat).is_integer() for h in take.hits])
    keep = measurable(take) & prominent & (grid >= 0) & (grid < len(y) - 0.015 * SR)
    found = measure_onsets(y.T, grid[keep])  # y as read: (samples, channels)
    return np.abs(found - grid[keep]) / SR * 1000, p0


@pytest.mark.parametrize("name", list(CASES))
def test_a_recording_comes_back_bar_exact_with_every_hit_on_the_grid(capsys, tmp_path, name):
    kw = CASES[name]
    per_bar, beat = meter(kw)
    take = take_of(name)
    ts = TimeSignature(per_bar, int(round(4 / beat)))
    got = grid_json(capsys, recording(tmp_path, "My Jam.wav", take.audio), tmp_path / "out",
                    "--bpm", kw["bpm"], "--bars", BARS, "--time-signature", str(ts))
    path = Path(got["path"])
    assert path.name == f"my-jam_{kw['bpm']}bpm_{BARS}bars_grid.wav" and path.parent == tmp_path / "out"
    assert got["status"] == "on_grid" and got["message"] == f"on grid (played {got['played_bpm']:.1f} bpm)"
    assert (got["bars"], got["bpm"], got["time_signature"]) == (BARS, kw["bpm"], str(ts))
    y, sr = sf.read(path, always_2d=True)
    assert sr == SR and len(y) == loop_samples(BARS, kw["bpm"], ts, SR)
    assert y.shape[1] == (2 if kw.get("stereo") else 1)
    acid = read_acid(path.read_bytes())
    assert (acid.tempo, acid.numerator, acid.denominator) == (kw["bpm"], ts.numerator, ts.denominator)
    assert acid.beats == int(BARS * ts.bar_quarters + 0.5) and acid.root_note is None
    comment = sf.info(path).extra_info
    assert f"bpm={kw['bpm']} bars={BARS} time_signature={ts}" in comment and "grid=on_grid" in comment

    errors, p0 = grid_errors_ms(take, y, got["first_downbeat"], kw["bpm"], beat)
    at = {h.position: h.time for h in take.hits}  # the synth's clock: where each beat really is
    span = BARS * per_bar
    played = span * beat * 60 / (at[p0 + span] - at[p0])  # the true tempo over the fitted bars (drift too)
    tempo_error = abs(got["played_bpm"] / played - 1) * 100
    downbeat_error = abs(got["first_downbeat"] - at[p0]) * 1000
    MEASURED[name] = dict(tempo_pct=tempo_error, downbeat_ms=downbeat_error, hits=len(errors),
                          median_ms=float(np.median(errors)), max_ms=float(errors.max()))
    print(name, MEASURED[name])
    assert tempo_error <= 0.5 and downbeat_error <= 10.0 and p0 % per_bar == 0
    assert len(errors) >= BARS * per_bar and errors.max() <= 10.0 and np.median(errors) <= 3.0
    assert errors[0] <= 10.0  # the bar line on sample 0


def test_shift_moves_the_bar_line_by_exactly_that_many_beats(capsys, tmp_path):
    take = take_of("0.92x with leading silence")
    path = recording(tmp_path, "jam.wav", take.audio)
    base = grid_json(capsys, path, tmp_path / "a", "--bpm", 120, "--bars", BARS)
    for shift in (1.0, -1.0, 2.0):  # a beat later, a beat earlier, half a bar
        moved = grid_json(capsys, path, tmp_path / "b", "--bpm", 120, "--bars", BARS, "--shift", shift)
        assert moved["shift_beats"] == shift
        moved_by = moved["first_downbeat"] - base["first_downbeat"]
        assert moved_by == pytest.approx(shift * take.beat_period, abs=0.002)
        y, _ = sf.read(moved["path"], always_2d=True)
        errors, _ = grid_errors_ms(take, y, base["first_downbeat"], 120, 1.0, shift=shift)
        MEASURED[f"shift {shift:+g}"] = dict(moved_ms=(moved_by - shift * take.beat_period) * 1000,
                                             hits=len(errors), median_ms=float(np.median(errors)),
                                             max_ms=float(errors.max()))
        assert len(errors) >= 8 and errors.max() <= 10.0 and np.median(errors) <= 3.0
        assert f"shift_beats={shift:g}" in sf.info(moved["path"]).extra_info
    print({k: v for k, v in MEASURED.items() if k.startswith("shift")})


@functools.cache
def short_take(tempo_factor: float, beats_per_bar: int = 4):
    """~4 s: enough for a 2-bar loop."""
    return drum_take(120, beats_per_bar=beats_per_bar, bars=3, tempo_factor=tempo_factor, seed=7)


def test_strict_refuses_a_recording_too_far_off_and_writes_nothing(capsys, tmp_path):
    path = recording(tmp_path, "slow.wav", short_take(0.92).audio)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "grid", path, "--bpm", 120, "--bars", 2, "--grid", "strict", "--out", out)
    (line,) = error_lines(err)
    assert code == 1 and stdout == "" and line.startswith("error: ") and "played 110.4 bpm" in line
    assert not out.exists()
    code, stdout, err = run(capsys, "grid", path, "--bpm", 120, "--bars", 2, "--grid", "strict", "--out", out,
                            "--json")
    assert code == 1 and json.loads(stdout) == {**json.loads(stdout), "path": None, "status": "too_far"}
    got = grid_json(capsys, path, out, "--bpm", 120, "--bars", 2, "--grid", "strict", "--grid-tolerance", 10)
    assert got["status"] == "on_grid"


@pytest.mark.parametrize("material", ["pad", "noise"])
def test_a_beatless_recording_keeps_its_timing_and_level(capsys, tmp_path, material):
    x = pad(10.0) if material == "pad" else noise(10.0)
    path = recording(tmp_path, f"{material}.wav", x, subtype="FLOAT")
    code, stdout, err = run(capsys, "grid", path, "--bpm", 120, "--bars", BARS, "--out", tmp_path / "o")
    assert code == 0 and "beatless: kept the recording's timing" in err
    y, _ = sf.read(stdout.strip(), dtype="float32")
    loop = loop_samples(BARS, 120, TimeSignature(4, 4), SR)
    fade = int(0.05 * SR)
    assert len(y) == loop
    head = x[fade:loop] - x[fade:loop].mean()  # after the seam's crossfade: the recording from its start
    np.testing.assert_allclose(y[fade:] - y[fade:].mean(), head, atol=1e-4)
    got = grid_json(capsys, path, tmp_path / "o", "--bpm", 120, "--bars", BARS)
    assert got["status"] == "beatless" and got["played_bpm"] is None and got["first_downbeat"] is None


def test_the_level_is_kept_unless_it_would_clip_or_a_loudness_is_asked(capsys, tmp_path):
    take = short_take(1.04)
    quiet = take.audio / np.abs(take.audio).max() * 0.1
    args = ("--bpm", 120, "--bars", 2, "--out", tmp_path / "o")
    code, out, err = run(capsys, "grid", recording(tmp_path, "quiet.wav", quiet, subtype="FLOAT"), *args,
                         "--bit-depth", "float")
    y, _ = sf.read(out.strip())
    assert code == 0 and np.abs(y).max() == pytest.approx(0.1, rel=0.1)
    hot = recording(tmp_path, "hot.wav", quiet * 15, subtype="FLOAT")  # peaks at 1.5: would clip
    code, out, err = run(capsys, "grid", hot, *args, "--bit-depth", "float")
    y, _ = sf.read(out.strip())
    assert code == 0 and np.abs(y).max() == pytest.approx(10 ** (-1 / 20), abs=1e-4)
    code, out, err = run(capsys, "grid", hot, *args, "--loudness", -20)
    y, sr = sf.read(out.strip())
    assert code == 0 and integrated_loudness(y.T, sr) == pytest.approx(-20, abs=0.5)


def test_the_output_rate_is_the_inputs_unless_asked(capsys, tmp_path):
    take = short_take(0.96, beats_per_bar=3)
    path = recording(tmp_path, "waltz.flac", take.audio, subtype="PCM_16")
    ts = TimeSignature(3, 4)
    for extra, rate in (((), SR), (("--sample-rate", 44100), 44100)):
        code, out, err = run(capsys, "grid", path, "--bpm", 120, "--bars", 2, "--time-signature", "3/4",
                             "--out", tmp_path / "o", "--bit-depth", "16", *extra)
        info = sf.info(out.strip())
        assert code == 0 and info.samplerate == rate and info.frames == loop_samples(2, 120, ts, rate)
        assert info.subtype == "PCM_16"
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == ["waltz_120bpm_2bars_grid-2.wav", "waltz_120bpm_2bars_grid.wav"]  # never overwritten


def test_grid_stem_names_the_recording():
    assert grid_stem("/music/Jam Take 3.flac", 124.5, 4) == "jam-take-3_124.5bpm_4bars_grid"


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "text.wav"
    text.write_text("hello")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\xff" * 40)  # a WAV header, then garbage
    silent = recording(tmp_path, "silent.wav", np.zeros(10 * SR, np.float32))
    nan = recording(tmp_path, "nan.wav", np.full(SR, np.nan, np.float32), subtype="FLOAT")
    clip = recording(tmp_path, "clip.wav", drum_take(120, bars=2).audio[: int(0.2 * SR)])
    short = recording(tmp_path, "short.wav", drum_take(120, bars=2).audio)  # ~5 s
    ok = recording(tmp_path, "ok.wav", drum_take(120, bars=2).audio)
    files = dict(text=text, corrupt=corrupt, silent=silent, nan=nan, clip=clip, short=short, ok=ok)
    return {**files, "missing": tmp_path / "missing.wav", "folder": tmp_path}


@pytest.mark.parametrize(
    "case",
    [
        ["{missing}"],
        ["{folder}"],
        ["{text}"],
        ["{corrupt}"],
        ["{silent}"],
        ["{nan}"],
        ["{clip}"],
        ["{short}", "--bars", "8"],
        ["{ok}", "--bpm", "0"],
        ["{ok}", "--bpm", "10"],
        ["{ok}", "--bpm", "500"],
        ["{ok}", "--bpm", "nan"],
        ["{ok}", "--bpm", "abc"],
        ["{ok}", "--bars", "0"],
        ["{ok}", "--bars", "100000"],
        ["{ok}", "--bars", "300"],
        ["{ok}", "--time-signature", "5/3"],
        ["{ok}", "--time-signature", "four"],
        ["{ok}", "--shift", "100"],
        ["{ok}", "--grid-tolerance", "0"],
        ["{ok}", "--grid", "off"],
        ["{ok}", "--loudness", "10"],
        ["{ok}", "--sample-rate", "12345"],
        ["{ok}", "--out", "{text}"],  # the output folder is a file
    ],
)
def test_bad_input_exits_2_with_one_error_line(capsys, tmp_path, case):
    files = _bad_files(tmp_path)
    argv = ["grid", *(a.format(**files) for a in case)]
    if "--out" not in case:
        argv += ["--out", tmp_path / "o"]
    if "--bpm" not in case:
        argv += ["--bpm", "120"]
    if "--bars" not in case:
        argv += ["--bars", "1"]
    code, out, err = run(capsys, *argv)
    lines = error_lines(err)
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
