"""The CLI's commands, one module each: `bridge/commands/<name>.py` exposes `run(args) -> int`.

`bridge.cli` parses the command line and imports the one module the command needs (its COMMANDS table
is the project's lazy-import boundary; see that module's docstring). What the parser and the command
modules share lives here, standard library only so that importing it costs nothing: `CliError` and
`generate_values`. A command module may also name `INPUT_ERRORS`, the exceptions of the modules it uses
that mean bad input: `bridge.cli` reports those like `CliError`, with exit status 2 and one line.
"""

from __future__ import annotations

import argparse
from typing import Any


class CliError(Exception):
    """A one-line message for the user; exit status 2."""


def generate_values(args: argparse.Namespace) -> dict[str, Any]:
    """The generate options named like their protocol keys, for the protocol's field table."""
    region_start, region_end = args.region or (None, None)
    return {**vars(args), "region_start": region_start, "region_end": region_end}
