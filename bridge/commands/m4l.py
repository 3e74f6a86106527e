"""`musicgen-bridge m4l build [--check]`: the Max for Live device built from its source (bridge.tools.m4l)."""

from __future__ import annotations

import argparse
import sys

from bridge.commands import CliError
from bridge.tools import m4l


def run(args: argparse.Namespace) -> int:
    try:
        if args.check:
            stale = m4l.check()
            for line in stale:
                print(f"stale: {line} (run `musicgen-bridge m4l build`)", file=sys.stderr)
            if stale:
                return 1
            names = ", ".join(path.name for path in m4l.build(write=False))
            print(f"up to date: {names}")
            return 0
        for path in m4l.build(write=True):
            print(path)
        return 0
    except m4l.M4lError as e:
        raise CliError(str(e)) from e
