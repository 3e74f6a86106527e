"""The CLI as a new user meets it: every mistake is one `error:` line naming the option typed, exit 2,
found before the model loads; nothing is left half-done or silently ignored."""

from __future__ import annotations

import errno

import numpy as np
import pytest
import soundfile as sf

import bridge.commands
import bridge.commands.generate
import bridge.commands.serve
import bridge.pipeline
from bridge.audio.io import AudioError
from bridge.cli import build_parser, main

ONE_BAR = ("generate", "x", "--bpm", "120", "--bars", "1", "--model", "debug", "--quiet")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_model(monkeypatch):
    """Fails the test if a command gets as far as loading a model."""

    def refuse(*a, **k):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(bridge.commands.generate, "load_engine", refuse)
    monkeypatch.setattr(bridge.commands.serve.app, "serve", refuse)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_out_naming_a_file_is_one_line_before_loading(capsys, tmp_path, no_model):
    target = tmp_path / "afile"
    target.write_text("mine")
    for argv in ([*ONE_BAR, "--out", str(target)], ["serve", "--model", "debug", "--out", str(target)]):
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert one_error_line(err) == f"error: --out {target}: is a file, not a folder"
    assert target.read_text() == "mine"


@pytest.mark.parametrize("command", ["generate", "serve"])
def test_a_full_disk_is_said_in_words_before_loading(capsys, tmp_path, monkeypatch, no_model, command):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bridge.commands.tempfile, "TemporaryFile", full)
    argv = [*ONE_BAR] if command == "generate" else ["serve", "--model", "debug"]
    code, _, err = run(capsys, *argv, "--out", str(tmp_path / "o"))
    assert code == 2
    assert one_error_line(err).endswith("cannot write there: no space left on device")
    assert "Traceback" not in err


def test_an_unwritable_folder_is_found_before_loading(capsys, tmp_path, monkeypatch, no_model):
    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(bridge.commands.tempfile, "TemporaryFile", read_only)
    code, _, err = run(capsys, *ONE_BAR, "--out", str(tmp_path))
    assert code == 2 and one_error_line(err).endswith("cannot write there: read-only file system")
    assert list(tmp_path.iterdir()) == []  # no temp file left under any name


def test_tilde_in_out_is_the_home_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, *ONE_BAR, "--out=~/loops")
    assert code == 0
    assert out.strip().startswith(str(tmp_path / "loops"))
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (["--melody-bpm", "90"], "error: --melody-bpm: needs a melody or a clip to continue"),
        (["--keep-prompt"], "error: --keep-prompt: needs a clip to continue"),
        (["--region", "0", "1"], "error: --region: needs a melody or a clip to continue"),
        (["--loudness", "5"], "error: --loudness: must be a number from -60 to 0, got 5.0"),
        (["--grid-margin", "99"], "error: --grid-margin: "),
        (["--continue", "{missing}"], "error: --continue: "),
        (["--melody", "{missing}"], "error: --melody: "),
    ],
)
def test_errors_name_the_option_the_user_typed(capsys, tmp_path, no_model, extra, line):
    argv = [a.format(missing=tmp_path / "missing.wav") for a in extra]
    code, _, err = run(capsys, *ONE_BAR, "--out", str(tmp_path), *argv)
    assert code == 2
    assert one_error_line(err).startswith(line)


def test_seed_minus_one_picks_a_seed_as_the_protocol_does(capsys, tmp_path):
    code, out, _ = run(capsys, *ONE_BAR, "--out", str(tmp_path), "--seed", "-1")
    assert code == 0
    assert "_s" in out and "_s-1" not in out


def test_m4l_check_says_so_when_the_device_is_up_to_date(capsys):
    code, out, err = run(capsys, "m4l", "build", "--check")
    assert (code, err) == (0, "")
    assert out.startswith("up to date: ") and "protocol.json" in out


def test_generate_and_serve_default_to_auto_like_the_demo():
    parser = build_parser()
    assert parser.parse_args(["generate", "x", "--bpm", "120", "--bars", "1"]).model == "auto"
    assert parser.parse_args(["serve"]).model == "auto"


@pytest.mark.parametrize("frames", [1, 160])  # one sample; 5 ms, what a truncated download leaves
def test_a_clip_too_short_to_use_is_refused(capsys, tmp_path, no_model, frames):
    clip = tmp_path / "short.wav"
    sf.write(clip, np.full(frames, 0.5, dtype=np.float32), 32000)
    for option in ("--melody", "--continue"):
        code, _, err = run(capsys, *ONE_BAR, "--out", str(tmp_path / "o"), option, str(clip))
        assert code == 2
        line = one_error_line(err)
        assert line.startswith(f"error: {option}: short.wav holds only ") and "at least 250 ms" in line


def test_a_full_disk_at_take_3_prints_the_two_complete_takes_then_the_error(capsys, tmp_path, monkeypatch):
    real, calls = bridge.pipeline.write_wav_unique, []

    def fill_up(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise AudioError("take 3: cannot write audio: no space left on device")
        return real(*a, **k)

    monkeypatch.setattr(bridge.pipeline, "write_wav_unique", fill_up)
    code, out, err = run(capsys, *ONE_BAR, "--out", str(tmp_path), "--variations", "4")
    assert code == 2
    printed = out.split()
    assert len(printed) == 2 and all(p.endswith(f"_v{i}.wav") for p, i in zip(printed, (1, 2), strict=True))
    assert all(sf.info(p).frames > 0 for p in printed)
    assert one_error_line(err) == "error: take 3: cannot write audio: no space left on device"


def test_the_loudness_reached_is_reported_per_take(capsys, tmp_path):
    code, _, err = run(capsys, *ONE_BAR, "--out", str(tmp_path), "--variations", "2")
    assert code == 0
    levels = [line for line in err.splitlines() if line.startswith("level: ")]
    assert [line.split(":")[1] for line in levels] == [" take 1", " take 2"]
    assert all(" LUFS, peak " in line for line in levels), levels
