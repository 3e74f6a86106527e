"""Shared by the MIDI tests: message builders, a small mapping, a recording output port, waiting."""

from __future__ import annotations

import time

import mido

from bridge.midi.controller import MidiController


def on(n: int, velocity: int = 100, channel: int = 9) -> mido.Message:
    return mido.Message("note_on", note=n, velocity=velocity, channel=channel)


def cc(n: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=n, value=value, channel=channel)


def wait_until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout} s")
        time.sleep(0.01)


MINI = """\
[settings]
channel = 10
bpm = 100
bars = 2

[[binding]]
action = "generate"
note = 36

[[binding]]
action = "preset"
slot = 2
note = 45
generate = true

[[preset]]
slot = 1
prompt = "dusty drums"

[[preset]]
slot = 2
prompt = "warm bass"
bars = 8
temperature = 0.8
"""


class Lights:
    """A recording output port for PadLights."""

    def __init__(self):
        self.sent: list[mido.Message] = []

    def values(self, n: int) -> list[int]:
        return [m.velocity for m in self.sent if m.type == "note_on" and m.note == n]


def finish(controller: MidiController, job, timeout: float = 10.0) -> None:
    wait_until(lambda: not job.active, timeout, f"end of job {job.job_id}")
    controller.poll()
