"""`musicgen-bridge generate … --model debug-stereo` end to end: a 2-channel WAV of the exact length whose
channels differ, stereo chunks in --stream-dir; --channels 2 on a mono model, and the option's bounds."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.cli import main

ARGS = ("--bpm", "240", "--bars", "1", "--sample-rate", "44100", "--grid", "off", "--seed", "7", "--quiet")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_debug_stereo_writes_a_stereo_loop_and_stereo_chunks(capsys, tmp_path):
    code, out, err = run(capsys, "generate", "dub techno", *ARGS, "--model", "debug-stereo", "--out",
                         tmp_path / "out", "--stream-dir", tmp_path / "chunks")
    assert code == 0, err
    (line,) = out.splitlines()
    y, sr = sf.read(line, always_2d=True)
    assert sr == 44100 and y.shape == (loop_samples(1, 240.0, TimeSignature(4, 4), 44100), 2)
    assert np.abs(y[:, 0] - y[:, 1]).max() > 1e-3  # two channels, not one copied
    chunks = sorted((tmp_path / "chunks").glob("chunk-*.wav"))
    assert chunks and all(sf.info(c).channels == 2 and sf.info(c).samplerate == 32000 for c in chunks)


def test_channels_2_makes_a_mono_models_loop_stereo(capsys, tmp_path):
    code, out, err = run(capsys, "generate", "x", *ARGS, "--model", "debug", "--channels", "2", "--out", tmp_path)
    assert code == 0, err
    y, _ = sf.read(out.strip(), always_2d=True)
    assert y.shape[1] == 2 and np.array_equal(y[:, 0], y[:, 1])


@pytest.mark.parametrize("value", ["3", "-1", "stereo"])
def test_channels_outside_0_1_2_are_refused(capsys, tmp_path, value):
    code, _, err = run(capsys, "generate", "x", *ARGS, "--model", "debug", "--channels", value, "--out", tmp_path)
    assert code == 2 and "--channels" in err
