"""Pad lights driven by the controller: running, done, error flashes, the selected preset."""

from __future__ import annotations

from midi_helpers import MINI, Lights, finish
from osc_client import FakeRenderer

from bridge.daemon.types import JobError
from bridge.midi.controller import MidiController
from bridge.midi.lights import PadLights
from bridge.midi.mapping import Action, Control, parse_mapping


def test_pad_lights_follow_the_job(queue):
    mapping = parse_mapping(MINI + "\n[feedback]\ndone_seconds = 0.2\nflashes = 2\n", "m.toml")
    out = Lights()
    now = [0.0]
    lights = PadLights(mapping.feedback, out.sent.append)
    c = MidiController(mapping, queue(), lights=lights, now=lambda: now[0])
    c.show_selection()
    assert out.values(45) == [0]  # preset 2's pad: not selected
    pad = Control("note", 36, 9)
    job = c.perform(Action("generate", control=pad, channel=9))
    assert out.values(36) == [127]
    finish(c, job)
    assert out.values(36) == [127, 64]  # done
    now[0] = 0.25
    c.poll()
    assert out.values(36) == [127, 64, 0]  # done_seconds later: off
    c.perform(Action("preset", 2, control=Control("note", 45, 9), channel=9))
    assert out.values(45) == [0, 32]  # selected
    assert {m.channel for m in out.sent} == {9}


def test_a_failed_job_flashes_its_pad(queue):
    mapping = parse_mapping(MINI, "m.toml")
    out = Lights()
    now = [0.0]
    lights = PadLights(mapping.feedback, out.sent.append)
    failing = queue(FakeRenderer(fail=JobError("model_error", "boom")))
    c = MidiController(mapping, failing, lights=lights, now=lambda: now[0])
    job = c.perform(Action("generate", control=Control("note", 36, None), channel=4))
    finish(c, job)
    assert job.state == "failed" and "boom" in c.last_error
    for step in range(1, 8):
        now[0] = step * 0.16
        c.poll()
    assert out.values(36) == [127, 127, 0, 127, 0, 127, 0]  # running, then 3 flashes, then off
    assert {m.channel for m in out.sent} == {4}  # an "any" binding lights on the channel it was hit on
