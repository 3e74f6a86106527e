"""What the `musicgen-bridge midi` commands print: a mapping described, a port monitored.

mapping ─> describe_mapping ─> text                                   (`midi check`)
input port ─> Mapper / ClockFollower ─> one line per message, the clock tempo once a beat  (`midi monitor`)
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.midi.clock import ClockFollower
from bridge.midi.mapfile import load_mapping, resolve_mapping_path
from bridge.midi.mapper import Mapper
from bridge.midi.mapping import Mapping
from bridge.midi.ports import PortBackend, default_backend, find_port


def describe_mapping(mapping: Mapping) -> str:
    """A mapping as text: what `musicgen-bridge midi check` prints."""
    s = mapping.settings
    step = "double/halve" if s.bars_step is None else f"±{s.bars_step}"
    channel = "any" if s.channel is None else str(s.channel + 1)
    lines = [
        f"{mapping.source}: {len(mapping.bindings)} bindings, {len(mapping.presets)} presets",
        f"  channel {channel}, velocity >= {s.velocity}, CC >= {s.cc_threshold}, {s.bpm:g} bpm without clock,"
        f" {s.bars} bars (bars up/down: {step}), {s.time_signature}, preset {s.preset} at start",
    ]
    for b in mapping.bindings:
        what = f"{b.action} {b.slot}" if b.slot is not None else b.action
        extra = " + generate" if b.generate else ""
        lines.append(f"  line {b.line:>3}: {b.control.describe():<24} >= {b.threshold:<3} -> {what}{extra}")
    for p in mapping.presets:
        bars = f" ({p.bars} bars)" if p.bars else ""
        lines.append(f"  preset {p.slot}: {p.label}{bars}: {p.prompt}")
    return "\n".join(lines) + "\n"


def monitor(
    port: str,
    mapping_path: Path | None = None,
    *,
    seconds: float = 0.0,
    backend: PortBackend | None = None,
    write: Callable[[str], None] = print,
) -> int:
    """Print what a port sends, the action each message maps to, and the clock tempo once a beat."""
    mapping = load_mapping(resolve_mapping_path(mapping_path))
    mapper, clock = Mapper(mapping), ClockFollower()
    backend = backend or default_backend()
    name = find_port(backend.input_names(), port)
    events: queue.Queue[tuple[Any, float]] = queue.Queue()
    handle = backend.open_input(name, lambda m, t: events.put((m, t)))
    write(f"listening to {name} with {mapping.source}" + ("" if seconds > 0 else " (Ctrl-C to stop)"))
    deadline = time.monotonic() + seconds if seconds > 0 else None
    pulses = 0
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                msg, t = events.get(timeout=0.1)
            except queue.Empty:
                continue
            if clock.feed_message(msg, t):
                if msg.type != "clock":
                    write(f"{msg.type}" + (f" {msg.pos}" if msg.type == "songpos" else ""))
                    continue
                pulses += 1
                if pulses % 24 == 0:
                    bpm, jitter = clock.bpm, clock.jitter
                    write(
                        "clock: locking"
                        if bpm is None
                        else f"clock: {bpm:.2f} bpm (jitter {1000 * (jitter or 0):.2f} ms)"
                    )
                continue
            action = mapper.handle(msg)
            if action is None:
                write(str(msg))
            else:
                write(f"{msg}  ->  {action.kind}" + (f" {action.slot}" if action.slot else ""))
    except KeyboardInterrupt:
        pass
    finally:
        handle.close()
    return 0
