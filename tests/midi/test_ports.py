"""MIDI ports: finding a port by part of its name, the python-rtmidi backend with the driver's
timestamps, and the real backend where a MIDI system exists (skipped in CI and containers).
"""

from __future__ import annotations

from types import SimpleNamespace

import mido
import pytest
from midi_helpers import on, wait_until

from bridge.midi.ports import DriverClock, MidiError, RtMidiBackend, default_backend, find_port


def test_find_port_matches_exactly_then_uniquely():
    names = ["MPD218 Port A 20:0", "MPD218 Port B 20:1", "Launchpad X 24:0"]
    assert find_port(names, "Launchpad X 24:0") == "Launchpad X 24:0"
    assert find_port(names, "launchpad") == "Launchpad X 24:0"
    assert find_port(names, "port a") == "MPD218 Port A 20:0"
    with pytest.raises(MidiError, match="matches several ports"):
        find_port(names, "MPD218")
    with pytest.raises(MidiError, match="no MIDI input port matches 'Keystep'.*Launchpad X 24:0"):
        find_port(names, "Keystep")
    assert find_port(names, "Launchpad X 20:0") == "Launchpad X 24:0"  # plugged in again: new numbers


class FakeRtMidiIn:
    """The part of python-rtmidi's MidiIn that the backend uses."""

    ports = ["Fake Pads 20:0"]
    last: FakeRtMidiIn | None = None

    def __init__(self):
        self.callback = self.ignored = self.opened = None
        FakeRtMidiIn.last = self

    def get_ports(self):
        return list(self.ports)

    def open_port(self, index):
        self.opened = index

    def ignore_types(self, sysex=True, timing=True, active_sense=True):
        self.ignored = (sysex, timing, active_sense)

    def set_callback(self, func, data=None):
        self.callback = func

    def cancel_callback(self):
        self.callback = None

    def close_port(self):
        self.opened = None

    def delete(self):
        pass


def test_rtmidi_backend_uses_the_drivers_timestamps_and_keeps_clock_messages():
    fake = SimpleNamespace(MidiIn=FakeRtMidiIn, MidiOut=FakeRtMidiIn)
    now = [10.0]
    backend = RtMidiBackend(fake, now=lambda: now[0])
    assert backend.input_names() == ["Fake Pads 20:0"]
    got = []
    handle = backend.open_input("Fake Pads 20:0", lambda m, t: got.append((m, t)))
    rt = FakeRtMidiIn.last
    assert rt.opened == 0 and rt.ignored == (True, False, True)  # timing (clock) messages pass
    rt.callback(([0xF8], 0.0))
    now[0] = 10.05  # Python was busy for 50 ms; then three messages at once: the deltas space them
    for data, delta in [([0xF8], 0.02), ([0x99, 36, 100], 0.005), ([0xF8], 0.015), ([0xF9], 0)]:
        rt.callback((data, delta))
    assert [m.type for m, _ in got] == ["clock", "clock", "note_on", "clock"]  # 0xF9 is no message
    assert [round(t, 6) for _, t in got] == [10.0, 10.02, 10.025, 10.04]
    handle.close()
    assert rt.callback is None


def test_rtmidi_backend_without_a_midi_system_is_a_clear_error():
    def broken():
        raise RuntimeError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")

    backend = RtMidiBackend(SimpleNamespace(MidiIn=broken, MidiOut=broken))
    with pytest.raises(MidiError, match="no MIDI system available.*ALSA sequencer"):
        backend.input_names()


def test_driver_clock_is_anchored_to_monotonic_and_never_runs_ahead():
    now = [100.0]
    stamp = DriverClock(lambda: now[0])
    assert stamp(0.0) == 100.0
    now[0] = 100.5
    assert stamp(0.25) == 100.25  # delivered late: the driver's time counts
    assert stamp(1.0) == 100.5  # would run ahead of now: re-anchored
    now[0] = 103.0
    assert stamp(0.01) == 103.0  # drifted more than RESYNC_SECONDS behind: re-anchored


def _backend_or_skip():
    try:
        backend = default_backend()
        backend.input_names()
        return backend
    except MidiError as e:
        pytest.skip(f"no MIDI backend here (virtual and hardware ports untestable): {e}")


def test_virtual_port_round_trip_with_the_real_backend():
    backend = _backend_or_skip()
    try:
        source = mido.open_output("musicgen-bridge-test", virtual=True)
    except Exception as e:  # e.g. Windows: no virtual ports
        pytest.skip(f"this MIDI system cannot create virtual ports: {e}")
    got = []
    try:
        name = find_port(backend.input_names(), "musicgen-bridge-test")
        handle = backend.open_input(name, lambda m, t: got.append((m, t)))
        source.send(on(36))
        wait_until(lambda: got, 2.0, "message through the virtual port")
        handle.close()
    finally:
        source.close()
    assert got[0][0] == on(36)


def test_hardware_ports_are_listed_when_a_backend_exists():
    backend = _backend_or_skip()
    inputs, outputs = backend.input_names(), backend.output_names()
    assert isinstance(inputs, list) and isinstance(outputs, list)
