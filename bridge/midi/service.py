"""MIDI for the daemon: pads trigger jobs, the MIDI clock sets their tempo, pads light up with job news.

    MIDI input port ─(driver thread)─> events queue ─> MidiService thread ─┬─ clock/transport ─> ClockFollower
                                                                          └─ Mapper ─> Action ─> MidiController
    MidiController ─> GenerationRequest ─> JobQueue.submit(origin "midi") ─> same worker, journal and OSC
                                                                            announcements as any client
    MidiService thread, every POLL_SECONDS: job states ─> PadLights ─> MIDI output port (optional)

Triggers are ordinary jobs: queued, journaled and announced (ack, progress, done, error) to every client
registered with hello, because a MIDI job has no reply address of its own. The service thread never
dies and never stops the daemon: a port that disappears is logged and reopened when it comes back, a
mapping file that turns invalid is logged and the previous mapping kept. The parts: ports and their
backends (`bridge.midi.ports`), the mapping (`mapping`, `mapfile`, `mapper`), the controller and pad
lights (`controller`, `lights`), the clock follower (`clock`); MIDI learn for the panel is
`bridge.midi.learn`. Nothing here imports torch; mido is optional (see `bridge.midi.ports`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.daemon.server import Server
from bridge.midi.clock import CLOCK_TYPES, ClockFollower
from bridge.midi.controller import MidiController
from bridge.midi.lights import PadLights
from bridge.midi.mapfile import load_mapping, resolve_mapping_path
from bridge.midi.mapper import Mapper
from bridge.midi.mapping import MidiMapError
from bridge.midi.ports import (
    InputHandle,
    MidiError,
    OutputHandle,
    PortBackend,
    default_backend,
    find_port,
    one_line,
)

log = logging.getLogger(__name__)

POLL_SECONDS = 0.02  # the service thread checks job states and lights at least this often
RETRY_SECONDS = 2.0  # a missing port is looked for again this often
HEALTH_SECONDS = 1.0  # how often the open ports are checked for having disappeared
RELOAD_SECONDS = 1.0  # how often the mapping file is checked for changes (MIDI learn)
EVENT_BACKLOG = 4096  # messages waiting for the service thread; beyond this they are dropped (counted)
MAX_DRAIN = 512  # messages handled per loop pass before job states and lights get a look
CLOCK_LOG_BPM = 0.5  # the clock tempo is logged again when it moves this much


@dataclass(frozen=True)
class MidiOptions:
    """`port`: an input port name or a unique part of one. `mapping`: the mapping file (None: the
    user's file from MIDI learn if it exists, else the packaged default). `out_port`: pad lights."""

    port: str
    clock: bool = False
    mapping: Path | None = None
    out_port: str | None = None
    retry_seconds: float = RETRY_SECONDS


class MidiService:
    """The MIDI thread: reads the input, follows the clock, maps and performs actions, lights pads,
    reloads the mapping when its file changes, and reopens ports that disappear."""

    def __init__(
        self,
        options: MidiOptions,
        jobs: Any,
        *,
        backend: PortBackend | None = None,
        now: Callable[[], float] = time.monotonic,
    ):
        self.options = options
        self.backend = backend or default_backend()
        self._now = now
        self.mapping_path = resolve_mapping_path(options.mapping)
        self.mapping = load_mapping(self.mapping_path)
        self._map_signature = _signature(self.mapping_path)
        self.mapper = Mapper(self.mapping)
        self.clock = ClockFollower(now) if options.clock else None
        self.lights = PadLights(self.mapping.feedback, self._send) if options.out_port else None
        self.controller = MidiController(self.mapping, jobs, clock=self.clock, lights=self.lights, now=now)
        self._events: queue.Queue[tuple[Any, float]] = queue.Queue(maxsize=EVENT_BACKLOG)
        self._input: InputHandle | None = None
        self._output: OutputHandle | None = None
        self.input_name = ""
        self.output_name = ""
        self._next_in_retry = 0.0
        self._next_out_retry = 0.0
        self._in_outage_logged = False
        self._out_outage_logged = False
        self._bad_map_logged: object = None
        self._logged_bpm: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = {"messages": 0, "actions": 0, "dropped": 0, "reconnects": 0, "errors": 0}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> MidiService:
        self._connect_input(self._now())
        if self.options.out_port:
            self._connect_output(self._now())
        self.controller.show_selection()
        self._thread = threading.Thread(target=self._run, name="musicgen-midi", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_input()
        if self._output is not None:
            if self.lights is not None:
                with contextlib.suppress(Exception):
                    self.lights.clear()
            with contextlib.suppress(Exception):
                self._output.close()
            self._output = None

    @property
    def connected(self) -> bool:
        return self._input is not None

    def status(self) -> dict[str, Any]:
        """Flat OSC-friendly fields for the daemon's status reply."""
        out: dict[str, Any] = {
            "midi_port": self.input_name or self.options.port,
            "midi_connected": self.connected,
            "midi_out": self.output_name if self._output is not None else "",
            "midi_map": str(self.mapping_path) if self.mapping_path else "",
            "midi_clock": self.clock is not None,
        }
        # the clock first: the MIDI thread may lock onto the clock between the two reads, and this order
        # keeps the reply coherent (a clock_bpm in it means midi_bpm already follows the clock)
        clock = self.clock.snapshot() if self.clock is not None else {}
        out.update(self.controller.snapshot())
        out.update(clock)
        return out

    # ------------------------------------------------------------------ ports

    def _deliver(self, msg: Any, t: float) -> None:
        """Called on the driver's thread: hand over and return at once."""
        try:
            self._events.put_nowait((msg, t))
        except queue.Full:
            self.stats["dropped"] += 1

    def _connect_input(self, now: float) -> None:
        try:
            name = find_port(self.backend.input_names(), self.options.port, "input")
            handle = self.backend.open_input(name, self._deliver)
        except MidiError as e:
            self._next_in_retry = now + self.options.retry_seconds
            if not self._in_outage_logged:
                log.error(
                    "MIDI input unavailable: %s; OSC keeps working, retrying every %g s",
                    e,
                    self.options.retry_seconds,
                )
                self._in_outage_logged = True
            return
        if self._in_outage_logged:
            self.stats["reconnects"] += 1
            log.info("MIDI input %r is back", name)
        else:
            log.info("MIDI input: %s (%s backend)", name, self.backend.name)
        self._in_outage_logged = False
        self._input, self.input_name = handle, name
        if self.clock is not None:
            self.clock.reset()
        self.mapper.reset()

    def _close_input(self) -> None:
        if self._input is not None:
            with contextlib.suppress(Exception):
                self._input.close()
        self._input = None

    def _connect_output(self, now: float) -> None:
        try:
            name = find_port(self.backend.output_names(), self.options.out_port or "", "output")
            handle = self.backend.open_output(name)
        except MidiError as e:
            self._next_out_retry = now + self.options.retry_seconds
            if not self._out_outage_logged:
                log.error(
                    "MIDI output (pad lights) unavailable: %s; retrying every %g s",
                    e,
                    self.options.retry_seconds,
                )
                self._out_outage_logged = True
            return
        log.info("MIDI output (pad lights): %s", name)
        self._out_outage_logged = False
        self._output, self.output_name = handle, name
        if self.lights is not None:
            self.lights.refresh()

    def _send(self, msg: Any) -> None:
        if self._output is None:
            return
        try:
            self._output.send(msg)
        except Exception as e:
            self._output_lost(f"failed ({one_line(e)})")

    def _check_ports(self, now: float) -> None:
        if self._input is not None:
            try:
                present = self.input_name in self.backend.input_names()
            except MidiError as e:
                present, why = False, str(e)
            else:
                why = "it is no longer listed"
            if not present:
                log.error(
                    "MIDI input %r disappeared (%s); OSC keeps working, retrying every %g s",
                    self.input_name,
                    why,
                    self.options.retry_seconds,
                )
                self._in_outage_logged = True
                self._close_input()
                self._next_in_retry = now + self.options.retry_seconds
                if self.clock is not None:
                    self.clock.reset()
        if self._output is not None:
            with contextlib.suppress(MidiError):
                if self.output_name not in self.backend.output_names():
                    self._output_lost("disappeared")

    def _output_lost(self, why: str) -> None:
        log.error("MIDI output %r %s; retrying every %g s", self.output_name, why, self.options.retry_seconds)
        self._out_outage_logged = True
        with contextlib.suppress(Exception):
            self._output.close()  # type: ignore[union-attr]
        self._output = None
        self._next_out_retry = self._now() + self.options.retry_seconds

    # ------------------------------------------------------------------ mapping

    def _reload(self) -> None:
        path = resolve_mapping_path(self.options.mapping)
        signature = _signature(path)
        if signature == self._map_signature:
            return
        try:
            mapping = load_mapping(path)
        except MidiMapError as e:
            if self._bad_map_logged != signature:
                log.error("MIDI mapping not reloaded, keeping the previous one: %s", e)
                self._bad_map_logged = signature
            return
        self._map_signature = signature
        self.mapping_path, self.mapping = path, mapping
        self.mapper = Mapper(mapping)
        self.controller.set_mapping(mapping)
        log.info("MIDI mapping reloaded from %s", path or "the default")

    # ------------------------------------------------------------------ loop

    def _run(self) -> None:
        next_health = next_reload = 0.0
        failures = 0
        while not self._stop.is_set():
            try:
                now = self._now()
                if self._input is None and now >= self._next_in_retry:
                    self._connect_input(now)
                if self.options.out_port and self._output is None and now >= self._next_out_retry:
                    self._connect_output(now)
                self._drain()
                now = self._now()
                self.controller.poll(now)
                self._log_clock()
                if now >= next_health:
                    next_health = now + HEALTH_SECONDS
                    self._check_ports(now)
                if now >= next_reload:
                    next_reload = now + RELOAD_SECONDS
                    self._reload()
                failures = 0
            except Exception:  # the MIDI thread never dies: log (not too often) and go on
                self.stats["errors"] += 1
                failures += 1
                if failures <= 3 or failures % 100 == 0:
                    log.exception("error in the MIDI thread (it keeps running)")
                self._stop.wait(POLL_SECONDS)

    def _log_clock(self) -> None:
        """Log when the clock locks, unlocks, or moves by CLOCK_LOG_BPM."""
        if self.clock is None:
            return
        bpm = self.clock.bpm
        last = self._logged_bpm
        if bpm is None and last is not None:
            log.info("MIDI clock: no tempo (the clock stopped coming)")
        elif bpm is not None and (last is None or abs(bpm - last) >= CLOCK_LOG_BPM):
            log.info("MIDI clock: %.2f bpm", bpm)
        else:
            return
        self._logged_bpm = bpm

    def _drain(self) -> None:
        try:
            msg, t = self._events.get(timeout=POLL_SECONDS)
        except queue.Empty:
            return
        self._handle(msg, t)
        for _ in range(MAX_DRAIN):
            try:
                msg, t = self._events.get_nowait()
            except queue.Empty:
                return
            self._handle(msg, t)

    def _handle(self, msg: Any, t: float) -> None:
        self.stats["messages"] += 1
        if getattr(msg, "type", None) in CLOCK_TYPES:
            if self.clock is not None:
                self.clock.feed_message(msg, t)
            return
        action = self.mapper.handle(msg)
        if action is None:
            return
        self.stats["actions"] += 1
        log.debug("MIDI %s -> %s", msg, action.kind)
        self.controller.perform(action, self._now())


def _signature(path: Path | None) -> object:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), st.st_mtime_ns, st.st_size)


def attach(server: Server, options: MidiOptions, *, backend: PortBackend | None = None) -> MidiService:
    """Start MIDI for a running `bridge.daemon.server.Server`: jobs go to its queue, and its status
    reply carries the MIDI fields (through `Server.status_extras`)."""
    service = MidiService(options, server.jobs, backend=backend)
    server.status_extras.append(service.status)
    return service.start()
