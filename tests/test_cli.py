"""The one-shot CLI: paths on stdout, exit 0; bad input => exit 2 and one `error:` line, no traceback.
The dispatch: every command has its module, and the light commands start without numpy or torch."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import bridge.commands.generate
from bridge import pipeline
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.cli import COMMANDS, build_parser, main
from bridge.engine.streaming import snr_db
from bridge.engine.types import HOP
from bridge.pipeline import loop_plan
from bridge.request import GenerationRequest

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


def test_stream_dir_gets_every_chunk_before_the_loop_is_finished(capsys, tmp_path, monkeypatch):
    """--stream-dir: chunk-NNNN.wav files at 32 kHz, all written while generating (before the loop is
    written; the streamed audio is the take, not decoded a second time), tiling exactly the generated
    audio, which they match."""
    stream = tmp_path / "stream"
    seen: dict = {}
    generate_codes, write_wav_unique = pipeline.generate_codes, pipeline.write_wav_unique

    def watching_generate(engine, *args, **kwargs):
        seen["engine"], seen["codes"] = engine, generate_codes(engine, *args, **kwargs)
        return seen["codes"]

    def watching_write(*args, **kwargs):
        seen["chunks"] = sorted(p.name for p in stream.glob("*.wav"))
        return write_wav_unique(*args, **kwargs)

    monkeypatch.setattr(pipeline, "generate_codes", watching_generate)
    monkeypatch.setattr(pipeline, "write_wav_unique", watching_write)
    code, out, err = run(capsys, *ONE_BAR, "--out", str(tmp_path / "out"), "--stream-dir", str(stream))
    assert code == 0, err
    names = sorted(p.name for p in stream.iterdir())
    assert names == seen["chunks"] == [f"chunk-{i:04d}.wav" for i in range(len(names))]
    assert len(names) >= 3
    parts = [sf.read(stream / n, dtype="float32") for n in names]
    assert {sr for _, sr in parts} == {32000}
    streamed = np.concatenate([a for a, _ in parts])
    n_frames = loop_plan(GenerationRequest(prompt="x", bpm=120, bars=1)).frames
    assert len(streamed) == n_frames * HOP
    full = np.asarray(seen["engine"].decode_codes(seen["codes"])).reshape(-1)  # one full decode, mono
    assert snr_db(full, streamed) > 60  # 16-bit previews of the same audio (~89 dB here)


def test_stream_dir_writes_every_take(capsys, tmp_path):
    stream = tmp_path / "stream"
    code, _, err = run(
        capsys, *ONE_BAR, "--out", str(tmp_path), "--variations", "2", "--stream-dir", str(stream)
    )
    assert code == 0, err
    takes = [sorted(stream.glob(f"chunk-*-take{t}.wav")) for t in (1, 2)]
    assert len(takes[0]) == len(takes[1]) >= 3 and len(list(stream.iterdir())) == 2 * len(takes[0])
    assert not np.array_equal(sf.read(takes[0][1])[0], sf.read(takes[1][1])[0])


def test_stream_dir_with_old_chunks_is_refused_before_loading(capsys, tmp_path, monkeypatch):
    def no_loading(*a, **k):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(bridge.commands.generate, "load_engine", no_loading)
    stream = tmp_path / "stream"
    stream.mkdir()
    (stream / "chunk-0000.wav").write_bytes(b"an earlier run's chunk")
    code, _, err = run(capsys, *ONE_BAR, "--out", str(tmp_path), "--stream-dir", str(stream))
    assert code == 2 and err.startswith("error: --stream-dir") and "already holds" in err
    assert (stream / "chunk-0000.wav").read_bytes() == b"an earlier run's chunk"
    code, _, err = run(
        capsys, *ONE_BAR, "--out", str(tmp_path), "--stream-dir", str(stream / "chunk-0000.wav")
    )
    assert code == 2 and "not a folder" in err


def test_a_chunk_that_cannot_be_written_stops_the_preview_not_the_loop(capsys, tmp_path, monkeypatch):
    calls = []

    def full_disk(*args, **kwargs):
        calls.append(args)
        raise OSError("No space left on device")

    monkeypatch.setattr(bridge.commands.generate, "write_chunk", full_disk)
    code, out, err = run(
        capsys, *ONE_BAR, "--out", str(tmp_path / "out"), "--stream-dir", str(tmp_path / "s")
    )
    assert code == 0 and sf.info(out.strip()).frames == loop_samples(1, 120, TimeSignature(4, 4), 44100)
    assert err.count("warning: --stream-dir: No space left on device") == 1 and len(calls) == 1


# ------------------------------------------------------------------------------------------ dispatch

HEAVY = ("numpy", "torch", "soundfile", "transformers", "soxr", "scipy")
LIGHT_START = """
import json, sys
from bridge.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:  # --help
    code = e.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["protocol", "--json"], ["protocol"], ["--help"], ["grid", "--help"]])
def test_light_commands_start_without_numpy_or_torch(argv):
    """The COMMANDS table is the lazy-import boundary: parsing and `protocol` import no audio or model stack."""
    done = subprocess.run([sys.executable, "-c", LIGHT_START, *argv], capture_output=True, text=True, timeout=60)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result["code"] == 0 and not set(HEAVY) & set(result["modules"]), done.stderr
    assert done.stdout.strip()


def test_every_command_has_a_module_that_runs_it():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)
    for name, module in COMMANDS.items():
        command = importlib.import_module(module)
        assert module == f"bridge.commands.{name}" and callable(command.run)
        assert all(issubclass(e, Exception) for e in getattr(command, "INPUT_ERRORS", ()))
