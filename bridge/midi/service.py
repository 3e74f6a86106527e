"""MIDI for the daemon: pads trigger jobs, the MIDI clock sets their tempo, pads light up with job news.

    MIDI input port ─(driver thread)─> events queue ─> MidiService thread ─┬─ clock/transport ─> ClockFollower
                                                                          └─ Mapper ─> Action ─> MidiController
    MidiController ─> GenerationRequest ─> JobQueue.submit(origin "midi") ─> same worker, journal and OSC
                                                                            announcements as any client
    MidiService thread, every POLL_SECONDS: job states ─> PadLights ─> MIDI output port (optional)

Triggers are ordinary jobs: queued, journaled and announced (ack, progress, done, error) to every client
registered with hello, because a MIDI job has no reply address of its own. The service thread never
dies and never stops the daemon: a port that disappears is logged and reopened when it comes back, a
mapping file that turns invalid is logged and the previous mapping kept. Port backends are a small
template (`PortBackend`): python-rtmidi directly (the driver's timestamps, which the clock follower
wants), any mido backend, or in-memory ports for tests (`MemoryBackend`). MIDI learn for the panel:
`LearnSession` / `bridge.midi_map.learn_binding`. Nothing here imports torch; mido is imported lazily.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.daemon.jobs import Job, JobError, Origin
from bridge.midi.clock import CLOCK_TYPES, ClockFollower
from bridge.midi.mapping import (
    JOB_ACTIONS,
    MAX_BARS,
    MIN_BARS,
    Action,
    Control,
    Feedback,
    Mapper,
    Mapping,
    MidiMapError,
    control_of,
    learn_binding,
    load_mapping,
    resolve_mapping_path,
    user_mapping_path,
)

log = logging.getLogger(__name__)

MIDI_CLIENT = "midi"  # the journal's client column for MIDI jobs
ORIGIN = Origin(MIDI_CLIENT, None, "MIDI controller")  # reply_to None: announced to every client
POLL_SECONDS = 0.02  # the service thread checks job states and lights at least this often
RETRY_SECONDS = 2.0  # a missing port is looked for again this often
HEALTH_SECONDS = 1.0  # how often the open ports are checked for having disappeared
RELOAD_SECONDS = 1.0  # how often the mapping file is checked for changes (MIDI learn)
FLASH_SECONDS = 0.15  # half-period of the error flash
HISTORY_LOOKBACK = 50  # journal records searched for the last request / result
EVENT_BACKLOG = 4096  # messages waiting for the service thread; beyond this they are dropped (counted)
RESYNC_SECONDS = 1.0  # driver timestamps further than this from time.monotonic are re-anchored
MAX_DRAIN = 512  # messages handled per loop pass before job states and lights get a look
CLOCK_LOG_BPM = 0.5  # the clock tempo is logged again when it moves this much


class MidiError(RuntimeError):
    """No MIDI backend, a port that cannot be found or opened, or an action that cannot be done now."""


def _mido() -> Any:
    try:
        import mido
    except ImportError:
        raise MidiError("MIDI needs mido and python-rtmidi: pip install 'musicgen-bridge[midi]'") from None
    return mido


# ------------------------------------------------------------------------------------------ ports


class InputHandle:
    """An open input: messages arrive through the callback given to open_input."""

    def close(self) -> None: ...


class OutputHandle:
    def send(self, msg: Any) -> None:
        raise NotImplementedError

    def close(self) -> None: ...


Deliver = Callable[[Any, float], None]  # (mido.Message, arrival time on time.monotonic's base)


class PortBackend:
    """Template: list ports and open them. `deliver` may be called from any thread."""

    name = "backend"

    def input_names(self) -> list[str]:
        raise NotImplementedError

    def output_names(self) -> list[str]:
        raise NotImplementedError

    def open_input(self, name: str, deliver: Deliver) -> InputHandle:
        raise NotImplementedError

    def open_output(self, name: str) -> OutputHandle:
        raise NotImplementedError


class DriverClock:
    """Arrival times from the driver's inter-message deltas, anchored to time.monotonic: immune to the
    delay before Python runs the callback (the GIL, a busy worker thread). The anchor is the latest
    that keeps every time at or before its delivery; re-anchored if it falls RESYNC_SECONDS behind."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._t: float | None = None

    def __call__(self, delta: float) -> float:
        now = self._now()
        if self._t is None:
            self._t = now
        else:
            self._t += max(float(delta), 0.0)
        if self._t > now or now - self._t > RESYNC_SECONDS:
            self._t = now
        return self._t


class RtMidiBackend(PortBackend):
    """python-rtmidi directly (ALSA, CoreMIDI, WinMM, JACK): timestamps from the driver."""

    name = "rtmidi"

    def __init__(self, rtmidi: Any = None, now: Callable[[], float] = time.monotonic):
        self._now = now
        if rtmidi is None:
            try:
                import rtmidi
            except ImportError:
                raise MidiError(
                    "python-rtmidi is not installed: pip install 'musicgen-bridge[midi]'"
                ) from None
        self.rtmidi = rtmidi
        self._lock = threading.Lock()
        self._listers: dict[str, Any] = {}

    def _lister(self, kind: str) -> Any:
        with self._lock:
            if kind not in self._listers:
                self._listers[kind] = self._client(kind)
            return self._listers[kind]

    def _client(self, kind: str) -> Any:
        cls = self.rtmidi.MidiIn if kind == "input" else self.rtmidi.MidiOut
        try:
            return cls()
        except Exception as e:  # rtmidi.SystemError: no ALSA sequencer / CoreMIDI server
            raise MidiError(f"no MIDI system available ({type(e).__name__}: {_one_line(e)})") from None

    def input_names(self) -> list[str]:
        return list(self._lister("input").get_ports())

    def output_names(self) -> list[str]:
        return list(self._lister("output").get_ports())

    def _open(self, kind: str, name: str) -> Any:
        client = self._client(kind)
        ports = list(client.get_ports())
        if name not in ports:
            client.delete()
            raise MidiError(f"MIDI {kind} port {name!r} is gone")
        try:
            client.open_port(ports.index(name))
        except Exception as e:
            client.delete()
            raise MidiError(f"cannot open MIDI {kind} {name!r}: {_one_line(e)}") from None
        return client

    def open_input(self, name: str, deliver: Deliver) -> InputHandle:
        mido = _mido()
        client = self._open("input", name)
        client.ignore_types(sysex=True, timing=False, active_sense=True)
        stamp = DriverClock(self._now)

        def callback(event: Any, _data: Any = None) -> None:
            data, delta = event
            t = stamp(delta)
            try:
                msg = mido.Message.from_bytes(data)
            except (ValueError, TypeError):
                return
            deliver(msg, t)

        client.set_callback(callback)
        return _RtInput(client)

    def open_output(self, name: str) -> OutputHandle:
        return _RtOutput(self._open("output", name))


class _RtInput(InputHandle):
    def __init__(self, client: Any):
        self.client = client

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel_callback()
            self.client.close_port()
            self.client.delete()


class _RtOutput(OutputHandle):
    def __init__(self, client: Any):
        self.client = client

    def send(self, msg: Any) -> None:
        self.client.send_message(msg.bytes())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close_port()
            self.client.delete()


class MidoBackend(PortBackend):
    """Any mido backend (MIDO_BACKEND=...); arrival times are taken when the callback runs."""

    name = "mido"

    def __init__(self) -> None:
        self.mido = _mido()

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except MidiError:
            raise
        except ImportError as e:  # mido's backend module (python-rtmidi by default) is not installed
            raise MidiError(
                f"{what} failed: mido's backend {self.mido.backend.name} is missing ({_one_line(e)}); "
                "pip install 'musicgen-bridge[midi]'"
            ) from None
        except Exception as e:  # the backend's system errors, IOError
            raise MidiError(f"{what} failed with mido's {self.mido.backend.name} ({_one_line(e)})") from None

    def input_names(self) -> list[str]:
        return list(self._call("listing MIDI inputs", self.mido.get_input_names))

    def output_names(self) -> list[str]:
        return list(self._call("listing MIDI outputs", self.mido.get_output_names))

    def open_input(self, name: str, deliver: Deliver) -> InputHandle:
        port = self._call(
            f"opening {name!r}",
            lambda: self.mido.open_input(name, callback=lambda m: deliver(m, time.monotonic())),
        )
        return _MidoPort(port)

    def open_output(self, name: str) -> OutputHandle:
        return _MidoPort(self._call(f"opening {name!r}", lambda: self.mido.open_output(name)))


class _MidoPort(InputHandle, OutputHandle):
    def __init__(self, port: Any):
        self.port = port

    def send(self, msg: Any) -> None:
        self.port.send(msg)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.port.close()


class MemoryBackend(PortBackend):
    """In-memory ports (tests, demos): `add_input(name).send(msg)` delivers to whoever opened it;
    outputs record what they were sent; `remove(name)` makes a port disappear, as an unplugged device
    does (it is no longer listed, its open handles go silent, sends to it fail)."""

    name = "memory"

    def __init__(self) -> None:
        self.inputs: dict[str, MemoryInput] = {}
        self.outputs: dict[str, MemoryOutput] = {}

    def add_input(self, name: str) -> MemoryInput:
        self.inputs[name] = MemoryInput(name)
        return self.inputs[name]

    def add_output(self, name: str) -> MemoryOutput:
        self.outputs[name] = MemoryOutput(name)
        return self.outputs[name]

    def remove(self, name: str) -> None:
        port = self.inputs.pop(name, None)
        if port is not None:
            port.listeners.clear()
        out = self.outputs.pop(name, None)
        if out is not None:
            out.gone = True

    def input_names(self) -> list[str]:
        return list(self.inputs)

    def output_names(self) -> list[str]:
        return list(self.outputs)

    def open_input(self, name: str, deliver: Deliver) -> InputHandle:
        if name not in self.inputs:
            raise MidiError(f"MIDI input port {name!r} is gone")
        return self.inputs[name].attach(deliver)

    def open_output(self, name: str) -> OutputHandle:
        if name not in self.outputs:
            raise MidiError(f"MIDI output port {name!r} is gone")
        return self.outputs[name]


class MemoryInput:
    def __init__(self, name: str):
        self.name = name
        self.listeners: list[Deliver] = []

    def attach(self, deliver: Deliver) -> InputHandle:
        self.listeners.append(deliver)
        port = self

        class Handle(InputHandle):
            def close(self) -> None:
                with contextlib.suppress(ValueError):
                    port.listeners.remove(deliver)

        return Handle()

    def send(self, msg: Any, t: float | None = None) -> None:
        t = time.monotonic() if t is None else t
        for deliver in list(self.listeners):
            deliver(msg, t)


class MemoryOutput(OutputHandle):
    def __init__(self, name: str):
        self.name = name
        self.sent: list[Any] = []
        self.gone = False

    def send(self, msg: Any) -> None:
        if self.gone:
            raise MidiError(f"MIDI output port {self.name!r} is gone")
        self.sent.append(msg)


def default_backend() -> PortBackend:
    """python-rtmidi directly when installed (and no other mido backend was asked for), else mido."""
    if not os.environ.get("MIDO_BACKEND"):
        try:
            import rtmidi
        except ImportError:
            pass
        else:
            return RtMidiBackend(rtmidi)
    return MidoBackend()


def find_port(names: list[str], wanted: str, kind: str = "input") -> str:
    """`wanted` exactly, else the one port whose name contains it (case-insensitive): port names carry
    client numbers that change when a device is plugged in again."""
    if wanted in names:
        return wanted
    low = wanted.strip().lower()
    exact = [n for n in names if n.lower() == low]
    if len(exact) == 1:
        return exact[0]
    matches = [n for n in names if low and low in n.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:  # "Pads 20:0" asked for, "Pads 24:0" there: the same device plugged in again
        base = _CLIENT_NUMBERS.sub("", low)
        matches = [n for n in names if base and _CLIENT_NUMBERS.sub("", n.lower()) == base]
        if len(matches) == 1:
            return matches[0]
    if matches:
        raise MidiError(
            f"MIDI {kind} {wanted!r} matches several ports: {', '.join(matches)}; be more specific"
        )
    available = ", ".join(repr(n) for n in names) or "none"
    raise MidiError(
        f"no MIDI {kind} port matches {wanted!r} (available: {available}; see `musicgen-bridge midi list`)"
    )


_CLIENT_NUMBERS = re.compile(r"\s+\d+:\d+$")  # ALSA's "client:port" suffix of a port name


def _one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:300] if lines else type(e).__name__


# ------------------------------------------------------------------------------------------ lights


class PadLights:
    """Pad feedback: a pad shows `running` while its job waits or runs, `done` for done_seconds when it
    finishes, flashes `error` when it fails, and otherwise its base light (`selected` for the current
    preset's pad, else `off`). Messages go through `send`; `tick(now)` runs the timed changes."""

    def __init__(self, style: Feedback, send: Callable[[Any], None]):
        self.style = style
        self.send = send
        self._base: dict[tuple[str, int, int], int] = {}  # pad -> its resting value
        self._timed: dict[tuple[str, int, int], tuple[float, int]] = {}  # pad -> (next change, steps left)
        self._shown: dict[tuple[str, int, int], int] = {}
        self._busy: set[tuple[str, int, int]] = set()  # pads showing a running job

    def _pad(self, control: Control, channel: int | None) -> tuple[str, int, int]:
        if self.style.channel is not None:
            ch = self.style.channel
        elif control.channel is not None:
            ch = control.channel
        else:
            ch = channel or 0
        return control.kind, control.number, ch

    def _show(self, pad: tuple[str, int, int], value: int) -> None:
        mido = _mido()
        kind, number, ch = pad
        if kind == "note":
            msg = mido.Message("note_on", channel=ch, note=number, velocity=value)
        else:
            msg = mido.Message("control_change", channel=ch, control=number, value=value)
        self._shown[pad] = value
        self.send(msg)

    def set(self, control: Control, channel: int | None, state: str, now: float) -> None:
        """state: running, done, error, or idle (back to the pad's base light)."""
        pad = self._pad(control, channel)
        self._timed.pop(pad, None)
        self._busy.discard(pad)
        base = self._base.get(pad, self.style.off)
        if state == "running":
            self._busy.add(pad)
            self._show(pad, self.style.running)
        elif state == "done":
            self._show(pad, self.style.done)
            if self.style.done_seconds > 0:
                self._timed[pad] = (now + self.style.done_seconds, 0)
        elif state == "error" and self.style.flashes > 0:
            self._show(pad, self.style.error)
            self._timed[pad] = (now + FLASH_SECONDS, 2 * self.style.flashes - 1)
        else:
            self._show(pad, base)

    def select(
        self, controls: list[tuple[Control, int | None]], selected: list[tuple[Control, int | None]]
    ) -> None:
        """Base lights: `selected` pads show the selected value, the other `controls` are off."""
        chosen = {self._pad(c, ch) for c, ch in selected}
        for control, ch in controls:
            pad = self._pad(control, ch)
            value = self.style.selected if pad in chosen else self.style.off
            if self._base.get(pad) != value:
                self._base[pad] = value
                if pad not in self._timed and pad not in self._busy:
                    self._show(pad, value)

    def tick(self, now: float) -> None:
        for pad, (when, steps) in list(self._timed.items()):
            if now < when:
                continue
            base = self._base.get(pad, self.style.off)
            if steps <= 1:  # the last change: back to the pad's resting light
                del self._timed[pad]
                self._show(pad, base)
            else:
                self._show(pad, base if steps % 2 else self.style.error)
                self._timed[pad] = (now + FLASH_SECONDS, steps - 1)

    def refresh(self) -> None:
        """Send every pad's current value again (the output port was reopened)."""
        for pad, value in list(self._shown.items()):
            self._show(pad, value)

    def clear(self) -> None:
        """Every lit pad off (the daemon is stopping)."""
        self._timed.clear()
        self._busy.clear()
        for pad, value in list(self._shown.items()):
            if value != self.style.off:
                self._show(pad, self.style.off)


# ------------------------------------------------------------------------------------------ controller


def snap_tempo(bpm: float, tolerance: float) -> float:
    """A tempo within `tolerance` of a whole number becomes it; otherwise two decimals."""
    whole = round(bpm)
    if tolerance > 0 and abs(bpm - whole) <= tolerance:
        return float(whole)
    return round(bpm, 2)


class MidiController:
    """Actions -> jobs, with the performer's state: preset slot, bar count, jobs in flight.

    Tempo of a new request: the MIDI clock when followed and locked; else the last locked clock tempo;
    else the tempo of the last request in the journal (from any client: the Live device's song tempo);
    else the mapping's `bpm`. Runs on one thread (the service's); `snapshot()` may be read from any."""

    def __init__(
        self,
        mapping: Mapping,
        jobs: Any,
        *,
        clock: ClockFollower | None = None,
        lights: PadLights | None = None,
        origin: Origin = ORIGIN,
        now: Callable[[], float] = time.monotonic,
    ):
        self.mapping = mapping
        self.jobs = jobs  # bridge.jobs.JobQueue: submit, cancel, active_jobs, history
        self.clock = clock
        self.lights = lights
        self.origin = origin
        self._now = now
        self.preset = mapping.settings.preset
        self.bars = mapping.settings.bars
        self._inflight: list[tuple[Job, Control | None, int | None]] = []
        self.last_job: Job | None = None
        self.last_error = ""
        self._channel: int | None = None  # the channel the controller last spoke on

    # ------------------------------------------------------------------ state

    def set_mapping(self, mapping: Mapping) -> None:
        """A new mapping (the file changed): keep the preset and bars if they still make sense."""
        self.mapping = mapping
        if mapping.preset(self.preset) is None:
            self.preset = mapping.settings.preset
        if self.lights is not None:
            self.lights.style = mapping.feedback
        self.show_selection()

    def show_selection(self) -> None:
        if self.lights is None:
            return
        pads = [(b.control, self._channel) for b in self.mapping.bindings if b.action == "preset"]
        chosen = [(b.control, self._channel) for b in self.mapping.bindings_for("preset", self.preset)]
        self.lights.select(pads, chosen)

    def tempo(self) -> tuple[float, str]:
        """(bpm, where it came from) for the next request."""
        snap = self.mapping.settings.tempo_snap
        if self.clock is not None:
            bpm = self.clock.bpm
            if bpm is not None:
                return snap_tempo(bpm, snap), "clock"
            last = self.clock.last_bpm  # the clock stopped or dropped out: keep its tempo
            if last is not None:
                return snap_tempo(last, snap), "last clock tempo"
        for rec in self._history():
            bpm = rec.request.get("bpm") if isinstance(rec.request, dict) else None
            if isinstance(bpm, (int, float)) and not isinstance(bpm, bool):
                return float(bpm), "last request"
        return self.mapping.settings.bpm, "mapping"

    def snapshot(self) -> dict[str, Any]:
        preset = self.mapping.preset(self.preset)
        out: dict[str, Any] = {
            "midi_preset": self.preset,
            "midi_preset_name": preset.label if preset else "",
            "midi_bars": self.bars,
            "midi_jobs": len(self._inflight),
            "midi_error": self.last_error,
        }
        try:
            bpm, source = self.tempo()
            out.update(midi_bpm=bpm, midi_bpm_source=source)
        except Exception as e:  # a journal read failed: status still answers
            log.debug("tempo for status: %s", e)
        return out

    def _history(self) -> list[Any]:
        try:
            return list(self.jobs.history(HISTORY_LOOKBACK))
        except Exception as e:
            log.warning("cannot read the job journal: %s", e)
            return []

    # ------------------------------------------------------------------ actions

    def perform(self, action: Action, now: float | None = None) -> Job | None:
        """Do what the action says; returns the job it queued, if any. Never raises for bad requests."""
        now = self._now() if now is None else now
        if action.channel is not None:
            self._channel = action.channel
        try:
            if action.kind == "preset":
                self._select(action.slot or 1)
                return self._submit(action, self._generate_request(), now) if action.generate else None
            if action.kind in ("bars_up", "bars_down"):
                self._step_bars(+1 if action.kind == "bars_up" else -1)
                return None
            if action.kind == "cancel":
                self._cancel()
                return None
            if action.kind in JOB_ACTIONS:
                build = {
                    "generate": self._generate_request,
                    "continue": self._continue_request,
                    "variation": self._variation_request,
                }[action.kind]
                return self._submit(action, build(), now)
            raise MidiError(f"unknown action {action.kind!r}")
        except Exception as e:
            self._failed(action, e, now)
            return None

    def _failed(self, action: Action, e: Exception, now: float) -> None:
        code = getattr(e, "code", "")
        message = getattr(e, "message", None) or str(e)
        self.last_error = f"{action.kind}: {message}"
        if isinstance(e, (MidiError, JobError, ValueError)):  # ValueError: RequestError
            log.warning("MIDI %s: %s%s", action.kind, f"{code}: " if code else "", message)
        else:
            log.exception("MIDI %s failed", action.kind)
        if self.lights is not None and action.control is not None:
            self.lights.set(action.control, action.channel, "error", now)

    def _select(self, slot: int) -> None:
        preset = self.mapping.preset(slot)
        if preset is None:
            raise MidiError(f"there is no preset {slot}")
        self.preset = slot
        if preset.bars is not None:
            self.bars = preset.bars
        log.info("MIDI preset %d: %s (%d bars)", slot, preset.label, self.bars)
        self.show_selection()

    def _step_bars(self, direction: int) -> None:
        step = self.mapping.settings.bars_step
        if step is None:
            bars = self.bars * 2 if direction > 0 else self.bars // 2
        else:
            bars = self.bars + direction * step
        self.bars = min(max(bars, MIN_BARS), MAX_BARS)
        log.info("MIDI bars: %d", self.bars)

    def _cancel(self) -> None:
        targets = list(self.jobs.active_jobs(self.origin))
        if not targets:  # nothing of ours: stop whatever runs on the GPU now
            targets = [j for j in self.jobs.active_jobs() if j.state == "running"]
        count = sum(bool(self.jobs.cancel(j, "cancelled from the MIDI controller")) for j in targets)
        log.info("MIDI cancel: %d job(s)", count)

    # ------------------------------------------------------------------ requests

    def _base_fields(self) -> dict[str, Any]:
        preset = self.mapping.preset(self.preset)
        if preset is None:
            raise MidiError(f"there is no preset {self.preset}")
        bpm, source = self.tempo()
        fields: dict[str, Any] = {
            "prompt": preset.prompt,
            "bpm": bpm,
            "bars": self.bars,
            "time_signature": self.mapping.settings.time_signature,
        }
        fields.update(preset.request_fields())
        fields["_source"] = source
        return fields

    def _generate_request(self) -> Any:
        return _request(self._base_fields())

    def _continue_request(self) -> Any:
        for rec in self._history():
            if rec.state != "done":
                continue
            path = next((Path(p) for p in rec.paths if Path(p).is_file()), None)
            if path is None:
                continue
            fields = self._base_fields()
            clip_bpm = rec.request.get("bpm") if isinstance(rec.request, dict) else None
            fields["continue_from"] = path
            if isinstance(clip_bpm, (int, float)) and float(clip_bpm) != fields["bpm"]:
                fields["melody_bpm"] = float(clip_bpm)
            return _request(fields)
        raise MidiError("nothing to continue yet: no finished loop in the journal")

    def _variation_request(self) -> Any:
        from bridge.request import GenerationRequest

        history = self._history()
        if not history:
            raise MidiError("nothing to vary yet: generate a loop first")
        data = dict(history[0].request)
        data["seed"] = None
        if self.clock is not None and self.clock.bpm is not None:
            bpm, _ = self.tempo()
            if bpm != data.get("bpm"):
                if (data.get("melody") or data.get("continue_from")) and data.get("melody_bpm") is None:
                    data["melody_bpm"] = data.get("bpm")  # the clip keeps the tempo it was made at
                data["bpm"] = bpm
        request = GenerationRequest.from_dict(data)
        return _Built(request, f"variation of job {history[0].job_id}")

    def _submit(self, action: Action, built: _Built, now: float) -> Job:
        request_id = f"midi-{secrets.token_hex(4)}"  # unique across restarts (the journal remembers ids)
        sub = self.jobs.submit(built.request, self.origin, request_id)
        job = sub.job
        self.last_job = job
        self.last_error = ""
        self._inflight.append((job, action.control, action.channel))
        r = built.request
        log.info(
            "MIDI %s -> job %s: %r, %d bars at %g bpm (%s)",
            action.kind,
            job.job_id,
            r.prompt[:60],
            r.bars,
            r.bpm,
            built.note,
        )
        if self.lights is not None and action.control is not None:
            self.lights.set(action.control, action.channel, "running", now)
        return job

    # ------------------------------------------------------------------ job news

    def poll(self, now: float | None = None) -> None:
        """Look at the jobs in flight; light pads for those that ended; run the lights' timers."""
        now = self._now() if now is None else now
        ended = [entry for entry in self._inflight if not entry[0].active]
        for entry in ended:
            self._inflight.remove(entry)
            job, control, channel = entry
            if job.state == "done":
                log.info("MIDI job %s done: %s", job.job_id, job.paths[0] if job.paths else "")
                state = "done"
            elif job.state == "cancelled":
                state = "idle"
            else:
                log.warning("MIDI job %s %s: %s", job.job_id, job.state, job.error or job.error_code)
                self.last_error = f"job {job.job_id}: {job.error or job.state}"
                state = "error"
            busy = any(c == control for _, c, _ in self._inflight)
            if self.lights is not None and control is not None and not busy:
                self.lights.set(control, channel, state, now)
        if self.lights is not None:
            self.lights.tick(now)


@dataclass(frozen=True)
class _Built:
    request: Any  # GenerationRequest
    note: str  # where the tempo came from, for the log


def _request(fields: dict[str, Any]) -> _Built:
    from bridge.request import GenerationRequest

    source = fields.pop("_source")
    return _Built(GenerationRequest(**fields), f"tempo from {source}")


# ------------------------------------------------------------------------------------------ service


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
            self._output_lost(f"failed ({_one_line(e)})")

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


def attach(server: Any, options: MidiOptions, *, backend: PortBackend | None = None) -> MidiService:
    """Start MIDI for a running `bridge.server.Server`: jobs go to its queue; its status shows the MIDI
    fields when the server offers `status_extras` (a list of callables returning dicts)."""
    service = MidiService(options, server.jobs, backend=backend)
    extras = getattr(server, "status_extras", None)
    if isinstance(extras, list):
        extras.append(service.status)
    else:
        log.info("this daemon's status reply has no MIDI fields (Server.status_extras is missing)")
    return service.start()


# ------------------------------------------------------------------------------------------ learn


class LearnSession:
    """MIDI learn, for the panel: wait for the next pad hit or knob move, then save it as the binding
    of `action` (and `slot` for presets) in the mapping file. Either feed messages yourself (`offer`),
    or let `listen` open the port. The daemon notices the changed file within RELOAD_SECONDS."""

    def __init__(self, action: str, slot: int | None = None, mapping_path: Path | None = None):
        self.action, self.slot = action, slot
        self.path = (
            Path(mapping_path) if mapping_path else (resolve_mapping_path(None) or user_mapping_path())
        )
        self.message: Any = None
        self._event = threading.Event()

    def offer(self, msg: Any) -> bool:
        """True if this message was taken (the first note-on or CC); the rest are ignored."""
        if self.message is None and control_of(msg) is not None:
            self.message = msg
            self._event.set()
            return True
        return False

    def cancel(self) -> None:
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once a message was taken; False on timeout or cancel."""
        self._event.wait(timeout)
        return self.message is not None

    def commit(self) -> Mapping:
        """Write the binding (MidiMapError if nothing was taken or the file is invalid)."""
        if self.message is None:
            raise MidiMapError(str(self.path), None, "nothing to learn: no pad or knob was touched")
        return learn_binding(self.path, self.action, self.message, self.slot)

    def listen(self, port: str, timeout: float, backend: PortBackend | None = None) -> Mapping | None:
        """Open `port`, take the next note-on/CC, save it; None on timeout or cancel."""
        backend = backend or default_backend()
        handle = backend.open_input(find_port(backend.input_names(), port), lambda m, _t: self.offer(m))
        try:
            taken = self.wait(timeout)
        finally:
            handle.close()
        return self.commit() if taken else None


def list_ports(backend: PortBackend | None = None) -> tuple[list[str], list[str]]:
    """(input names, output names). MidiError when there is no MIDI system."""
    backend = backend or default_backend()
    return backend.input_names(), backend.output_names()


# ------------------------------------------------------------------------------------------ CLI helpers


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
