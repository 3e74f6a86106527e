"""`musicgen-bridge bench`: our decode loop against transformers' generate (bridge.tools.bench)."""

from __future__ import annotations

import argparse

from bridge.audio.beats import GridError
from bridge.audio.io import AudioError
from bridge.audio.tempo import LoopError
from bridge.commands import CliError
from bridge.engine.chroma import ChromaError
from bridge.engine.types import ModelError
from bridge.tools import bench

INPUT_ERRORS = (AudioError, ChromaError, ModelError, LoopError, GridError)


def run(args: argparse.Namespace) -> int:
    if args.seconds <= 0 or args.repeats < 1 or args.stream_seconds <= 0:
        raise CliError("--seconds and --stream-seconds must be > 0 and --repeats >= 1")
    return bench.main(args)
