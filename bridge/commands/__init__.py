"""The CLI's commands, one module each: `bridge/commands/<name>.py` exposes `run(args) -> int`.

`bridge.cli` parses the command line and imports the one module the command needs (its COMMANDS table
is the project's lazy-import boundary; see that module's docstring). What the parser and the command
modules share lives here, standard library only so that importing it costs nothing: `CliError` and
`generate_values` and `writable_folder`. A command module may also name `INPUT_ERRORS`, the exceptions of the modules it uses
that mean bad input: `bridge.cli` reports those like `CliError`, with exit status 2 and one line.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

MIN_FREE_BYTES = 64 * 1024 * 1024  # an output folder with less free space is refused before the model loads


class CliError(Exception):
    """A one-line message for the user; exit status 2."""


def generate_values(args: argparse.Namespace) -> dict[str, Any]:
    """The generate options named like their protocol keys, for the protocol's field table."""
    region_start, region_end = args.region or (None, None)
    return {**vars(args), "region_start": region_start, "region_end": region_end}


def writable_folder(path: Path, option: str) -> Path:
    """`path` (with `~` expanded: `--out=~/x` reaches us unexpanded) made and proven writable, or a
    CliError naming `option` and the reason in words. Run before the model loads, so a typo or a full
    disk costs no generation and never leaves a temporary file behind under the user's name."""
    path = Path(os.path.expanduser(str(path)))
    if path.exists() and not path.is_dir():
        raise CliError(f"{option} {path}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".musicgen-bridge-") as f:  # creating is not writing
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
        free = shutil.disk_usage(path).free
    except OSError as e:
        raise CliError(f"{option} {path}: cannot write there: {os_reason(e)}") from e
    if free < MIN_FREE_BYTES:
        raise CliError(f"{option} {path}: only {free / 2**20:.0f} MiB free; no space left for loops")
    return path


def os_reason(e: OSError) -> str:
    """An OSError in words: 'no space left on device', 'permission denied', ... (errno's own text)."""
    code = e.errno
    text = os.strerror(code) if code is not None else (e.strerror or str(e))
    if code == errno.ENOSPC:
        text = "no space left on device"
    return text[:1].lower() + text[1:]
