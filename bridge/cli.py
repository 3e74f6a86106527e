"""`musicgen-bridge`: generate loops, fit recordings onto the grid, run the daemon, and the tools.

This module is the parser and the dispatch, and the project's one lazy-import boundary. The parser
imports only light modules (`bridge.protocol`, `bridge.limits`, the architecture table and the
checkpoint config check, which refuses a model we cannot run before anything heavy loads), so
`musicgen-bridge --help` and `musicgen-bridge protocol --json` start in a blink, without numpy or torch.
`COMMANDS` names, for each command, the module under `bridge/commands/` that runs it; `main` imports
that one module with importlib once the command line is parsed. Everything else in the project imports
at the top of the module (see docs/ARCHITECTURE.md, "How to add …").

Bad input exits with status 2 and one `error: ...` line on stderr, never a traceback: `CliError`, and
the exceptions a command module lists in `INPUT_ERRORS` (AudioError, ChromaError, ModelError,
LoopError, GridError, ...).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from bridge import __version__, protocol
from bridge.commands import CliError, generate_values
from bridge.engine.archs import ARCHS, DEFAULT_MODEL
from bridge.engine.checkpoint import preflight
from bridge.engine.types import ModelError
from bridge.limits import BIT_DEPTHS, DEFAULT_BIT_DEPTH, SAMPLE_RATES, SOCKET_BUFFER
from bridge.protocol import REQUESTS

__all__ = ["COMMANDS", "CliError", "build_parser", "generate_values", "main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
DEFAULT_OUT = Path("out")
GENERATE = REQUESTS["generate"]  # the generate options' keys, defaults and ranges
GRID_COMMAND_MODES = ("on", "strict")  # `grid` always fits; there is no plain cut to ask for

# command => the module that runs it: imported only when that command runs (the lazy-import boundary)
COMMANDS = {
    "generate": "bridge.commands.generate",
    "grid": "bridge.commands.grid",
    "serve": "bridge.commands.serve",
    "protocol": "bridge.commands.protocol",
    "bench": "bridge.commands.bench",
    "m4l": "bridge.commands.m4l",
    "midi": "bridge.commands.midi",
}


# ------------------------------------------------------------------------------------------ parser


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default="auto",  # as `make demo` and `make serve`: the README's commands work right after the demo
        help=f"hub id, local directory, 'debug' / 'debug-stereo' (tiny random weights, no download) or 'auto' "
        f"({DEFAULT_MODEL} if downloaded, else the first downloaded release in the README's order, else "
        "debug, with a warning) [default: auto]",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps [default: auto]")
    p.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or float16 [default: auto]")


def _key_help(name: str, text: str) -> str:
    """An option's help with the generate key's range and default, read from the protocol table."""
    key = GENERATE.field(name)
    assert key is not None, name
    extra = []
    if key.low is not None and key.high is not None:
        low = f"more than {_num(key.low)}" if key.low_open else _num(key.low)
        extra.append(f"{low} to {_num(key.high)}")
    if key.default is not None:
        extra.append(f"default: {key.default}")
    return f"{text} [{'; '.join(extra)}]" if extra else text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _key_default(name: str):
    key = GENERATE.field(name)
    assert key is not None, name
    return key.default


def _add_generate_args(p: argparse.ArgumentParser) -> None:
    """The generate options. Each is named like its protocol key (`--continue` is `continue`,
    `--no-normalize` clears `normalize`; `--region` gives both region keys) so that `bridge.commands.generate` maps
    them onto the request through the protocol's one field table; defaults and ranges come from it too."""
    p.add_argument("prompt", help="text description of the loop, e.g. 'dusty boom bap drums'")
    p.add_argument(
        "--bpm", type=float, required=True, help=_key_help("bpm", "song tempo in quarter notes per minute")
    )
    p.add_argument("--bars", type=int, required=True, help=_key_help("bars", "loop length in bars"))
    p.add_argument(
        "--time-signature",
        default=_key_default("time_signature"),
        help=_key_help("time_signature", "e.g. 4/4, 3/4, 6/8, 7/8"),
    )
    p.add_argument("--melody", type=Path, help="audio clip whose melody (chroma) steers the generation")
    p.add_argument(
        "--melody-bpm",
        type=float,
        help=_key_help(
            "melody_bpm",
            "the clip's own tempo, if it differs from --bpm (melody and --continue clips are brought to --bpm)",
        ),
    )
    p.add_argument(
        "--continue",
        dest="continue",
        type=Path,
        metavar="PATH",
        help="audio clip to continue: its last --prompt-seconds (whole beats) prompt the model",
    )
    p.add_argument(
        "--prompt-seconds",
        type=float,
        default=_key_default("prompt_seconds"),
        help=_key_help(
            "prompt_seconds",
            "continuation prompt length in seconds at the song tempo, whole beats of the clip's end",
        ),
    )
    p.add_argument(
        "--keep-prompt",
        action="store_true",
        help="with --continue: write the prompt audio before the new bars",
    )
    p.add_argument(
        "--region",
        type=float,
        nargs=2,
        metavar=("START", "END"),
        help="use only this part of the clip(s), in seconds",
    )
    p.add_argument(
        "--variations",
        type=int,
        default=_key_default("variations"),
        help=_key_help("variations", "takes generated in one batched pass"),
    )
    p.add_argument(
        "--seed",
        type=int,
        default=_key_default("seed"),
        help=_key_help("seed", "random seed (same seed + same request => same audio); -1 = pick one"),
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=_key_default("temperature"),
        help=_key_help("temperature", "0 = greedy"),
    )
    p.add_argument("--top-k", type=int, default=_key_default("top_k"), help=_key_help("top_k", "0 = off"))
    p.add_argument("--top-p", type=float, default=_key_default("top_p"), help=_key_help("top_p", "0 = off"))
    p.add_argument(
        "--cfg",
        type=float,
        default=_key_default("cfg"),
        help=_key_help("cfg", "classifier-free guidance scale"),
    )
    p.add_argument(
        "--no-bpm-in-prompt",
        dest="bpm_in_prompt",
        action="store_false",
        help="do not append '<bpm> bpm' to the text prompt",
    )
    p.add_argument(
        "--loudness",
        type=float,
        default=_key_default("loudness"),
        metavar="LUFS",
        help=_key_help("loudness", "integrated loudness target"),
    )
    p.add_argument(
        "--no-normalize", dest="normalize", action="store_false", help="skip loudness normalisation"
    )
    p.add_argument(
        "--sample-rate",
        type=int,
        default=_key_default("sample_rate"),
        help=_key_help("sample_rate", "output rate; 32000 is native"),
    )
    p.add_argument(
        "--bit-depth",
        choices=GENERATE.field("bit_depth").choices,
        default=_key_default("bit_depth"),
        help=_key_help("bit_depth", "WAV sample format"),
    )
    p.add_argument(
        "--channels",
        type=int,
        choices=GENERATE.field("channels").choices,
        default=_key_default("channels"),
        help=_key_help("channels", "0 = the model's (stereo checkpoints write stereo), 1 = mono downmix, "
                       "2 = stereo (a mono model's take in both channels)"),
    )
    modes = GENERATE.field("grid").choices
    _add_grid_args(p, "--grid-shift", modes, "off: cut as generated; on: fit onto the grid; strict: reject takes too far off")
    p.add_argument(
        "--grid-margin",
        type=int,
        default=_key_default("grid_margin"),
        metavar="BARS",
        help=_key_help("grid_margin", "bars generated before and after the loop for the grid fit"),
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder [default: ./out]")
    p.add_argument(
        "--engine",
        choices=("ours", "transformers"),
        default="ours",
        help="decode loop: ours (static cache) or transformers' generate() [default: ours]",
    )
    p.add_argument(
        "--stream-dir",
        type=Path,
        metavar="DIR",
        help="also write the audio as it is generated: ~0.5 s chunk-NNNN.wav files (32 kHz, before tail "
        "folding and loudness; chunk-NNNN-takeT.wav with --variations), each as soon as it is ready",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model_args(p)


def _add_grid_args(p: argparse.ArgumentParser, shift_flag: str, modes: tuple[str, ...], text: str) -> None:
    """--grid, --grid-shift (grid's --shift) and --grid-tolerance, shared by generate and grid."""
    p.add_argument("--grid", choices=modes, default=_key_default("grid"), help=_key_help("grid", text))
    p.add_argument(
        shift_flag,
        dest="grid_shift",
        type=float,
        default=_key_default("grid_shift"),
        metavar="BEATS",
        help=_key_help("grid_shift", "move the bar line by this many beats (e.g. -1, 1, 2 for half a 4/4 bar)"),
    )
    p.add_argument(
        "--grid-tolerance",
        type=float,
        default=_key_default("grid_tolerance"),
        metavar="PCT",
        help=_key_help("grid_tolerance", "strict: how far off the tempo a take may play, percent"),
    )


def _add_grid_command_args(p: argparse.ArgumentParser) -> None:
    """`grid INPUT`: the loop's tempo, length and meter like generate's; the output keeps the input's
    rate and level unless asked."""
    p.add_argument("input", type=Path, help="the recording: any file libsndfile reads (wav, aiff, flac, ogg, mp3)")
    p.add_argument("--bpm", type=float, required=True, help=_key_help("bpm", "the song tempo, quarter notes/minute"))
    p.add_argument("--bars", type=int, required=True, help=_key_help("bars", "loop length in bars"))
    p.add_argument(
        "--time-signature",
        default=_key_default("time_signature"),
        help=_key_help("time_signature", "e.g. 4/4, 3/4, 6/8, 7/8"),
    )
    text = "on: fit whatever tempo was played; strict: refuse a recording more than --grid-tolerance off"
    _add_grid_args(p, "--shift", GRID_COMMAND_MODES, text)
    p.add_argument(
        "--loudness",
        type=float,
        metavar="LUFS",
        help="normalise to this integrated loudness [default: keep the recording's level; "
        "the peak is only lowered where it would clip]",
    )
    p.add_argument(
        "--sample-rate",
        type=int,
        choices=SAMPLE_RATES,
        metavar="N",
        help=f"output rate: {', '.join(map(str, SAMPLE_RATES))} [default: the input's rate]",
    )
    p.add_argument(
        "--bit-depth",
        choices=tuple(BIT_DEPTHS),
        default=DEFAULT_BIT_DEPTH,
        help=f"WAV sample format [default: {DEFAULT_BIT_DEPTH}]",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder [default: ./out]")
    p.add_argument("--json", action="store_true", help="print one JSON object (path and the fit) instead of the path")


def _add_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        default=protocol.DEFAULT_HOST,
        help=f"address to listen on; non-loopback needs --allow-remote [default: {protocol.DEFAULT_HOST}]",
    )
    p.add_argument(
        "--port",
        type=int,
        default=protocol.DEFAULT_PORT,
        help=f"UDP port; 0 picks a free one (printed) [default: {protocol.DEFAULT_PORT}]",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder [default: ./out]")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="permit a non-loopback --host (clients are then limited to --allow)",
    )
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="CLIENT_IP",
        help="client address or network allowed with --allow-remote (repeatable)",
    )
    p.add_argument("--queue-size", type=int, default=32, help="jobs that may wait [default: 32]")
    p.add_argument(
        "--recv-buffer",
        type=int,
        default=SOCKET_BUFFER,
        metavar="BYTES",
        help="UDP receive buffer to ask the kernel for; what it grants is logged [default: 4 MiB]",
    )
    p.add_argument(
        "--engine",
        choices=("ours", "transformers"),
        default="ours",
        help="decode loop: ours (static cache) or transformers' generate() [default: ours]",
    )
    p.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the warm-up generation")
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="log detail on stderr [default: info]",
    )
    p.add_argument(
        "--midi",
        metavar="PORT",
        help="MIDI input port (its name or a unique part of it; see `midi list`): pads trigger jobs",
    )
    p.add_argument(
        "--midi-clock",
        action="store_true",
        help="with --midi: the tempo of triggered jobs follows the MIDI clock",
    )
    p.add_argument(
        "--midi-map",
        type=Path,
        metavar="FILE",
        help="with --midi: mapping file [default: your MIDI-learn file if any, else the built-in one]",
    )
    p.add_argument("--midi-out", metavar="PORT", help="with --midi: MIDI output port for pad lights")
    _add_model_args(p)


def _add_midi_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="midi_command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the MIDI input and output ports")
    check = sub.add_parser("check", help="validate a mapping file and print its bindings and presets")
    check.add_argument("file", nargs="?", type=Path, help="[default: the file `serve --midi` would use]")
    monitor = sub.add_parser("monitor", help="print what a port sends: messages, actions, clock tempo")
    monitor.add_argument("port", help="input port (its name or a unique part of it)")
    monitor.add_argument("--midi-map", type=Path, metavar="FILE", help="mapping file [default: as serve]")
    monitor.add_argument("--seconds", type=float, default=0.0, help="stop after this long [default: Ctrl-C]")


def _add_protocol_args(p: argparse.ArgumentParser) -> None:
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable (for the Max device and panel)")
    fmt.add_argument("--markdown", action="store_true", help="tables for the README (the default)")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are the same one-line `error: ...` (status 2) as every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="musicgen-bridge", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"musicgen-bridge {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_generate_args(sub.add_parser("generate", help="generate loop(s) and print the WAV path(s)"))
    _add_grid_command_args(
        sub.add_parser("grid", help="fit a recording onto the grid: a bar-exact loop, its path printed")
    )
    _add_serve_args(sub.add_parser("serve", help="run the OSC daemon (loads the model once)"))
    _add_protocol_args(sub.add_parser("protocol", help="print the OSC protocol (table or JSON)"))
    _add_bench_args(sub.add_parser("bench", help="benchmark our decode loop against transformers' generate"))
    m4l = sub.add_parser("m4l", help="build the Max for Live device in max_for_live/ from its source")
    m4l.add_argument("action", choices=("build",), help="build the .amxd, JS protocol block, protocol.json")
    m4l.add_argument("--check", action="store_true", help="write nothing; exit 1 if a built file is stale")
    _add_midi_args(sub.add_parser("midi", help="MIDI ports and mapping files (for serve --midi)"))
    return parser


def _add_bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arch",
        choices=list(ARCHS),
        default="debug",
        help="architecture built with random weights (no download) [default: debug]",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda [default: auto]")
    p.add_argument("--dtype", default="auto", help="auto (cuda: bf16, cpu: fp32), float32, bfloat16, float16")
    p.add_argument("--seconds", type=float, default=5.0, help="audio generated per run [default: 5]")
    p.add_argument("--repeats", type=int, default=3, help="alternating timed runs per engine [default: 3]")
    p.add_argument(
        "--stream-seconds",
        type=float,
        default=30.0,
        help="codes decoded for the streaming vs full-decode figures [default: 30]",
    )
    p.add_argument("--json", type=Path, help="also write the results as JSON here")


# ------------------------------------------------------------------------------------------ dispatch


def main(argv: list[str] | None = None) -> int:
    """Parse, import the command's module (the lazy-import boundary) and run it; bad input => 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # before transformers is imported
    try:
        if getattr(args, "model", "auto") not in ("auto", *ARCHS):
            preflight(args.model)  # a checkpoint we cannot run is refused in a blink, not after importing torch
        command = importlib.import_module(COMMANDS[args.command])
        input_errors = (CliError, *getattr(command, "INPUT_ERRORS", ()))
        try:
            return command.run(args)
        except input_errors as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
    except ModelError as e:  # from the preflight; the command's own are among its input errors
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
