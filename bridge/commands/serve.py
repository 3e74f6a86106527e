"""`musicgen-bridge serve`: the OSC daemon, and MIDI on it with `--midi`.

The mapping file and the MIDI ports are checked before the model loads, so a typo costs no start-up.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from bridge.audio.beats import GridError
from bridge.audio.io import AudioError
from bridge.audio.tempo import LoopError
from bridge.commands import CliError, writable_folder
from bridge.commands.model import resolve_model_name
from bridge.daemon import app
from bridge.daemon.journal import JournalError
from bridge.daemon.net import ServerError, ServerOptions
from bridge.daemon.server import Server
from bridge.engine.chroma import ChromaError
from bridge.engine.types import ModelError
from bridge.midi import mapfile, ports, service
from bridge.midi.mapping import MidiMapError

INPUT_ERRORS = (AudioError, ChromaError, ModelError, LoopError, GridError)

MidiHook = Callable[[Server], Callable[[], None]]  # starts MIDI on the running server, returns its stop


def run(args: argparse.Namespace) -> int:
    logging.getLogger("bridge").setLevel(
        logging.DEBUG if args.verbose > 1 else getattr(logging, args.log_level.upper())
    )
    out_dir = writable_folder(args.out, "--out")  # before the model loads, like the MIDI checks below
    midi_hook = _midi_hook(args)  # checks the mapping and ports before the model loads
    try:
        options = ServerOptions(
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            allow=tuple(args.allow),
            max_queued=args.queue_size,
            recv_buffer=args.recv_buffer,
        )
        return app.serve(
            options,
            model=resolve_model_name(args.model),
            out_dir=out_dir,
            device=args.device,
            dtype=args.dtype,
            backend=args.engine,
            warmup=args.warmup,
            on_ready=midi_hook,
        )
    except (ServerError, JournalError) as e:
        raise CliError(str(e)) from e


def _midi_hook(args: argparse.Namespace) -> MidiHook | None:
    """None without --midi; else a callable that starts MIDI on the running server and returns its stop."""
    if not (args.midi or args.midi_clock or args.midi_map or args.midi_out):
        return None
    if not args.midi:
        raise CliError("--midi-clock, --midi-map and --midi-out need --midi PORT")
    options = service.MidiOptions(args.midi, args.midi_clock, args.midi_map, args.midi_out)
    try:
        mapfile.load_mapping(mapfile.resolve_mapping_path(options.mapping))
        backend = ports.default_backend()
        ports.find_port(backend.input_names(), options.port, "input")
        if options.out_port:
            ports.find_port(backend.output_names(), options.out_port, "output")
    except (ports.MidiError, MidiMapError) as e:
        raise CliError(str(e)) from e

    def start(server: Server) -> Callable[[], None]:
        try:
            return service.attach(server, options, backend=backend).stop
        except (ports.MidiError, MidiMapError) as e:  # the file changed since it was checked
            raise ServerError(f"MIDI: {e}") from e

    return start
