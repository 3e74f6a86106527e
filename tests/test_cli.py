"""The one-shot CLI: paths on stdout, exit 0; bad input => exit 2 and one `error:` line, no traceback."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from bridge.cli import main
from bridge.loops import TimeSignature, loop_samples

ONE_BAR = ("generate", "x", "--bpm", "120", "--bars", "1", "--model", "debug", "--quiet")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own errors (e.g. --bpm abc)
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_generate_prints_the_written_path(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "generate",
        "test",
        "--bpm",
        "120",
        "--bars",
        "2",
        "--model",
        "debug",
        "--out",
        str(tmp_path),
        "--seed",
        "4",
        "--quiet",
    )
    assert code == 0, err
    (line,) = out.splitlines()
    info = sf.info(line)
    assert info.frames == loop_samples(2, 120, TimeSignature(4, 4), 44100) and info.samplerate == 44100


def test_variations_print_one_path_per_line(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "generate",
        "test",
        "--bpm",
        "140",
        "--bars",
        "1",
        "--model",
        "debug",
        "--out",
        str(tmp_path),
        "--variations",
        "2",
        "--sample-rate",
        "32000",
        "--quiet",
    )
    assert code == 0 and len(out.splitlines()) == 2


def _bad_files(tmp_path):
    text = tmp_path / "text.wav"
    text.write_text("hello")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(44100, dtype=np.float32), 44100)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(44100, np.nan, dtype=np.float32), 44100, subtype="FLOAT")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1), dtype=np.float32), 44100)
    return {"text": text, "silent": silent, "nan": nan, "empty": empty, "missing": tmp_path / "missing.wav"}


@pytest.mark.parametrize(
    "case",
    [
        ["--bpm", "0"],
        ["--bpm", "-5"],
        ["--bpm", "10000"],
        ["--bars", "0"],
        ["--time-signature", "5/3"],
        ["--model", "no-such/model"],
        ["--model", "/no/such/dir"],
        ["--bpm", "abc"],
        ["--melody", "{missing}"],
        ["--melody", "{text}"],
        ["--continue", "{silent}"],
        ["--melody", "{nan}"],
        ["--melody", "{empty}"],
        ["--melody", "{silent}"],
        ["--melody", "{text}", "--region", "0", "1"],
        ["--region", "0", "1"],
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, case):
    files = _bad_files(tmp_path)
    argv = [*ONE_BAR, "--out", str(tmp_path / "o"), *(a.format(**files) for a in case)]
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_silent_and_nan_clips_name_the_problem(capsys, tmp_path):
    files = _bad_files(tmp_path)
    for key, word in (("silent", "silent"), ("nan", "NaN")):
        code, _, err = run(capsys, *ONE_BAR, "--out", str(tmp_path / "o"), "--melody", str(files[key]))
        assert code == 2 and word in err
