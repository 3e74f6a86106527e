"""The output file-name format: what the daemon writes, the panel reads back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge import names
from bridge.names import (
    DISPLAY_BPM_DECIMALS,
    InvalidName,
    check_bpm,
    format_bpm,
    numbered_name,
    output_stem,
    parse_stem,
)

REPO = Path(__file__).resolve().parents[1]


def test_format_bpm_drops_trailing_zeros_at_the_chosen_precision():
    assert format_bpm(120) == "120"
    assert format_bpm(123.45) == "123.45"
    assert format_bpm(123.456789) == "123.456789"
    assert format_bpm(123.456789, DISPLAY_BPM_DECIMALS) == "123.46"
    assert format_bpm(99.5, DISPLAY_BPM_DECIMALS) == "99.5"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_a_tempo_that_is_not_positive_cannot_name_a_file(bad):
    with pytest.raises(InvalidName):
        check_bpm(bad)
    with pytest.raises(ValueError):
        output_stem("x", bad, 1, 0)


@pytest.mark.parametrize(
    "prompt, bpm, bars, seed, take",
    [
        ("Deep House Groove", 124, 8, 1234, None),
        ("Déjà vu — 7/8!", 123.45, 2, 7, 2),
        ("", 90.5, 1, 0, 8),
        ("kept prompt", 120, 3.5, 5, None),  # 6 beats of prompt before 2 bars of 4/4
    ],
)
@pytest.mark.parametrize("index", [1, 3])
def test_parse_stem_reads_back_what_output_stem_and_numbered_name_write(prompt, bpm, bars, seed, take, index):
    name = numbered_name(output_stem(prompt, bpm, bars, seed, take), index)
    info = parse_stem(f"/out/{name}")
    expected = {"slug": names.slugify(prompt), "bpm": float(bpm), "bars": bars, "seed": seed}
    if take is not None:
        expected["take"] = take
    assert info == expected


def test_numbered_names():
    assert numbered_name("a_120bpm_1bars_s0", 1) == "a_120bpm_1bars_s0.wav"
    assert numbered_name("a_120bpm_1bars_s0", 2) == "a_120bpm_1bars_s0-2.wav"
    assert parse_stem("/somewhere/my song.wav") == {}


def test_names_needs_only_the_standard_library():
    code = "import bridge.names, sys; assert not {'numpy', 'soundfile', 'torch', 'PyQt6'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_a_kept_prompt_names_the_bars_the_file_holds():
    assert output_stem("x", 120, 3.5, 1) == "x_120bpm_3.5bars_s1"
    assert output_stem("x", 120, 2.0, 1) == "x_120bpm_2bars_s1"
    assert parse_stem("x_120bpm_2.333bars_s1.wav")["bars"] == 2.333
