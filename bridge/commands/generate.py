"""`musicgen-bridge generate`: one request from the command line to WAV files, paths on stdout.

    options ─> generate_values ─> protocol field table ─> GenerationRequest ─> load_engine ─> render
            ─> one grid summary line per take on stderr, one path per line on stdout
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bridge.audio.beats import GridError
from bridge.audio.chunks import write_chunk
from bridge.audio.grid import summary_line
from bridge.audio.io import AudioError
from bridge.audio.loops import level_line
from bridge.audio.tempo import LoopError
from bridge.commands import CliError, generate_values, writable_folder
from bridge.commands.model import resolve_model_name
from bridge.engine.chroma import ChromaError
from bridge.engine.loading import load_engine
from bridge.engine.streaming import Chunk
from bridge.engine.types import ModelError
from bridge.pipeline import render
from bridge.protocol import key_of, request_kwargs
from bridge.request import GenerationRequest, RequestError

INPUT_ERRORS = (AudioError, ChromaError, ModelError, LoopError, GridError)
PROGRESS_WIDTH = 30  # characters of the progress bar
PROGRESS_STEP = 0.01  # redraw at most every 1 % (and at 100 %)

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    try:
        request = GenerationRequest(**request_kwargs(generate_values(args)))
    except RequestError as e:
        raise CliError(f"{option_of(e.field)}: {e.message}") from e

    args.out = writable_folder(args.out, "--out")
    on_chunk = chunk_writer(args.stream_dir, request.variations) if args.stream_dir else None
    engine = load_engine(resolve_model_name(args.model), device=args.device, dtype=args.dtype)
    log.info("loaded %r", engine)
    written: list[Path] = []  # takes published so far: printed even when a later one fails
    try:
        result = render(
            engine,
            request,
            args.out,
            backend=args.engine,
            on_progress=progress_bar(not args.quiet),
            on_chunk=on_chunk,
            cancel=threading.Event(),
            on_file=written.append,
        )
    except BaseException:  # e.g. the disk filled up at take 3 of 4: takes 1 and 2 are complete files
        for path in written:
            print(path)
        raise
    for report in result.grid:
        print(f"grid: {summary_line(report)}", file=sys.stderr)
    for report in result.grid:  # the loudness reached, and when the peak ceiling won over the target
        line = level_line(report, request.loudness_lufs, request.peak_dbfs)
        print(f"level: take {report['take']}: {line}", file=sys.stderr)
    for path in result.paths:
        print(path)
    return 0


# generate keys whose option is not `--<key>`: the flags that clear a default, and the two region keys
_OPTIONS = {"normalize": "--no-normalize", "bpm_in_prompt": "--no-bpm-in-prompt", "region_start/region_end": "--region"}


def option_of(field: str) -> str:
    """The option a user typed for a GenerationRequest field: `continue_from` => `--continue`."""
    key = key_of(field)
    return _OPTIONS.get(key, "--" + key.replace("_", "-"))


def progress_bar(enabled: bool) -> Callable[[float], None]:
    """An on_progress that draws `[####....]  42.0%   3.1s` on stderr (nothing when not `enabled`)."""
    state = {"last": -1.0, "t0": time.monotonic()}

    def show(fraction: float) -> None:
        if not enabled or (fraction - state["last"] < PROGRESS_STEP and fraction < 1.0):
            return
        state["last"] = fraction
        filled = int(round(PROGRESS_WIDTH * fraction))
        elapsed = time.monotonic() - state["t0"]
        end = "\n" if fraction >= 1.0 else ""
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (PROGRESS_WIDTH - filled)}] {fraction * 100:5.1f}% {elapsed:5.1f}s{end}"
        )
        sys.stderr.flush()

    return show


def chunk_writer(folder: Path, takes: int) -> Callable[[Chunk], None]:
    """`--stream-dir`: an on_chunk that writes every take of each chunk into `folder` as it arrives.

    Checked before the model loads: the folder must not hold chunks of an earlier run (they would be
    mistaken for this one's, and chunk files are never overwritten). If a chunk cannot be written, that
    is reported and streaming to the folder stops: the preview never costs the loop."""
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--stream-dir {folder}: not a folder")
    if folder.is_dir() and any(folder.glob("chunk-*.wav")):
        raise CliError(
            f"--stream-dir {folder} already holds chunk-*.wav files from an earlier run; use an empty folder"
        )
    stopped = False

    def on_chunk(chunk: Chunk) -> None:
        nonlocal stopped
        for take in range(takes):
            if stopped:
                return
            try:
                write_chunk(folder, chunk, take, f"-take{take + 1}" if takes > 1 else "")
            except Exception as e:  # disk full, folder removed: say so once, keep generating the loop
                print(f"warning: --stream-dir: {e}; no more chunks are written", file=sys.stderr)
                stopped = True

    return on_chunk
