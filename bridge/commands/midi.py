"""`musicgen-bridge midi list|check|monitor`: the MIDI ports, a mapping file, what a port sends."""

from __future__ import annotations

import argparse
import sys

from bridge.commands import CliError
from bridge.midi import mapfile, monitor, ports
from bridge.midi.mapping import MidiMapError


def run(args: argparse.Namespace) -> int:
    try:
        if args.midi_command == "list":
            inputs, outputs = ports.list_ports()
            for title, names in (("inputs", inputs), ("outputs", outputs)):
                print(f"{title}:" + ("" if names else " (none)"))
                for name in names:
                    print(f"  {name}")
            return 0
        if args.midi_command == "check":
            path = args.file if args.file is not None else mapfile.resolve_mapping_path(None)
            try:
                mapping = mapfile.load_mapping(path)
            except MidiMapError as e:  # every mistake of the file, one line each
                for problem in e.problems:
                    print(f"error: {problem.where}", file=sys.stderr)
                return 2
            print(monitor.describe_mapping(mapping), end="")
            return 0
        return monitor.monitor(args.port, args.midi_map, seconds=args.seconds)
    except (ports.MidiError, MidiMapError) as e:
        raise CliError(str(e)) from e
