"""MIDI ports: list them, open them, and stamp each incoming message with its arrival time.

    PortBackend ─┬─ RtMidiBackend   python-rtmidi directly: the driver's timestamps (DriverClock)
                 ├─ MidoBackend     any mido backend (MIDO_BACKEND=...): stamped when the callback runs
                 └─ MemoryBackend   in-memory ports for tests and demos (a port can be unplugged)
    open_input(name, deliver) ─> deliver(mido.Message, t) on the driver's thread, t on time.monotonic's base

`find_port` picks a port from a name or a unique part of one. mido and python-rtmidi are optional (the
`midi` extra): this module imports without them, and what needs them raises MidiError saying how to
install them. Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

try:  # optional (the `midi` extra): without it MIDI is unavailable and says so when asked for
    import mido
except ImportError:
    mido = None

try:  # optional: python-rtmidi, for the driver's timestamps; without it any mido backend is used
    import rtmidi as _rtmidi
except ImportError:
    _rtmidi = None

RESYNC_SECONDS = 1.0  # driver timestamps further than this from time.monotonic are re-anchored


class MidiError(RuntimeError):
    """No MIDI backend, a port that cannot be found or opened, or an action that cannot be done now."""


def backend_missing() -> str:
    """'' when a MIDI backend is installed; else what to install (for a disabled button's tooltip)."""
    if mido is None and _rtmidi is None:
        return "no MIDI backend: pip install -e .[midi] (mido, python-rtmidi)"
    return ""


def require_mido() -> Any:
    """The mido module; MidiError saying how to install it when it is missing."""
    if mido is None:
        raise MidiError("MIDI needs mido and python-rtmidi: pip install 'musicgen-bridge[midi]'")
    return mido


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
            rtmidi = _rtmidi
        if rtmidi is None:
            raise MidiError("python-rtmidi is not installed: pip install 'musicgen-bridge[midi]'")
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
            raise MidiError(f"no MIDI system available ({type(e).__name__}: {one_line(e)})") from None

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
            raise MidiError(f"cannot open MIDI {kind} {name!r}: {one_line(e)}") from None
        return client

    def open_input(self, name: str, deliver: Deliver) -> InputHandle:
        mido = require_mido()
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
        self.mido = require_mido()

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except MidiError:
            raise
        except ImportError as e:  # mido's backend module (python-rtmidi by default) is not installed
            raise MidiError(
                f"{what} failed: mido's backend {self.mido.backend.name} is missing ({one_line(e)}); "
                "pip install 'musicgen-bridge[midi]'"
            ) from None
        except Exception as e:  # the backend's system errors, IOError
            raise MidiError(f"{what} failed with mido's {self.mido.backend.name} ({one_line(e)})") from None

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
    if not os.environ.get("MIDO_BACKEND") and _rtmidi is not None:
        return RtMidiBackend(_rtmidi)
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


def one_line(e: BaseException) -> str:
    """The first line of an error's message (at most 300 characters), for a log line."""
    lines = str(e).strip().splitlines()
    return lines[0][:300] if lines else type(e).__name__


def list_ports(backend: PortBackend | None = None) -> tuple[list[str], list[str]]:
    """(input names, output names). MidiError when there is no MIDI system."""
    backend = backend or default_backend()
    return backend.input_names(), backend.output_names()
