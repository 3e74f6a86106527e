"""`musicgen-bridge protocol [--json|--markdown]`: the OSC protocol table. Light: no numpy, no torch."""

from __future__ import annotations

import argparse
import sys

from bridge import protocol


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(protocol.to_json() + "\n" if args.json else protocol.to_markdown())
    return 0
