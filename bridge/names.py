"""The output file-name format, written and read back in one place.

    output_stem("Deep House Groove", 124, 8, 1234, take=2)  -> "deep-house-groove_124bpm_8bars_s1234_v2"
    numbered_name("deep-house-groove_124bpm_8bars_s1234", 3) -> "deep-house-groove_124bpm_8bars_s1234-3.wav"
    grid_stem("Jam Take 3.flac", 124, 4)                    -> "jam-take-3_124bpm_4bars_grid"
    parse_stem("/out/deep-house-groove_124bpm_8bars_s1234_v2-3.wav")
        -> {"slug": "deep-house-groove", "bpm": 124.0, "bars": 8, "seed": 1234, "take": 2}

The daemon names its loops with `output_stem` (through `bridge.audio.io`), `musicgen-bridge grid` names a
fitted recording with `grid_stem`, the panel lists loops with `parse_stem`, and all show tempos with
`format_bpm`. Standard library only: the panel imports this.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata

SLUG_MAX_CHARS = 40  # characters of the prompt kept in file names
SLUG_FALLBACK = "loop"
WAV_EXT = ".wav"
NAME_BPM_DECIMALS = 6  # a file name keeps the tempo to the micro-BPM (trailing zeros dropped)
DISPLAY_BPM_DECIMALS = 2  # what the panel's labels show

# `<slug>_<bpm>bpm_<bars>bars_s<seed>[_v<take>][-<n>].wav`: the inverse of `output_stem` + `numbered_name`
STEM_PATTERN = re.compile(
    r"^(?P<slug>.*?)_(?P<bpm>\d+(?:\.\d+)?)bpm_(?P<bars>\d+(?:\.\d+)?)bars_s(?P<seed>\d+)(?:_v(?P<take>\d+))?(?:-\d+)?$"
)


class InvalidName(ValueError):
    """A value cannot become part of an output file name."""


def slugify(text: str, max_len: int = SLUG_MAX_CHARS) -> str:
    """A file-name-safe slug: lowercase ASCII, runs of anything else become one '-', 'loop' if empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:max_len].rstrip("-")
    return slug or SLUG_FALLBACK


def check_bpm(bpm: float) -> float:
    """The tempo as a float; InvalidName unless it is a positive, finite number."""
    value = float(bpm)
    if not math.isfinite(value) or value <= 0:
        raise InvalidName(f"bpm must be a positive number, got {bpm!r}")
    return value


def format_bpm(bpm: float, decimals: int = NAME_BPM_DECIMALS) -> str:
    """Tempo without trailing zeros: 120 -> "120", 123.45 -> "123.45" (no check: see `check_bpm`)."""
    return f"{float(bpm):.{decimals}f}".rstrip("0").rstrip(".")


def output_stem(prompt: str, bpm: float, bars: float, seed: int, take: int | None = None) -> str:
    """File stem such as `deep-house-groove_124bpm_8bars_s1234_v2` (no extension, no folders). `bars`
    is what the file holds: a kept continuation prompt of 6 beats before 2 bars of 4/4 is `3.5bars`."""
    stem = f"{slugify(prompt)}_{format_bpm(check_bpm(bpm))}bpm_{format_bars(bars)}bars_s{int(seed)}"
    return stem if take is None else f"{stem}_v{int(take)}"


def format_bars(bars: float) -> str:
    """A bar count for a name: 8 -> "8", 3.5 -> "3.5" (beats of a kept prompt make fractions)."""
    return format_bpm(bars, 3)


def grid_stem(source: str, bpm: float, bars: int) -> str:
    """File stem of a recording fitted onto the grid, from its file name: `jam-take-3_124bpm_4bars_grid`."""
    slug = slugify(os.path.splitext(os.path.basename(source))[0])
    return f"{slug}_{format_bpm(check_bpm(bpm))}bpm_{int(bars)}bars_grid"


def numbered_name(stem: str, index: int, ext: str = WAV_EXT) -> str:
    """The index-th candidate name for a stem: stem.wav, stem-2.wav, stem-3.wav, ..."""
    return f"{stem}{ext}" if index == 1 else f"{stem}-{index}{ext}"


def parse_stem(path: str) -> dict[str, object]:
    """bpm, bars, seed, take (and the slug) from a daemon-made file name; {} for any other name."""
    stem = os.path.splitext(os.path.basename(path))[0]
    m = STEM_PATTERN.match(stem)
    if m is None:
        return {}
    out: dict[str, object] = {
        "slug": m["slug"],
        "bpm": float(m["bpm"]),
        "bars": int(m["bars"]) if m["bars"].isdigit() else float(m["bars"]),
        "seed": int(m["seed"]),
    }
    if m["take"] is not None:
        out["take"] = int(m["take"])
    return out
