"""The trigger controller on a real job queue: presets, bars, tempo sources, continue and variation
from the journal, cancel, and bad requests logged rather than raised.
"""

from __future__ import annotations

import logging
from pathlib import Path

from midi_helpers import MINI, Lights, finish, wait_until
from osc_client import FakeRenderer

from bridge.daemon.types import Origin
from bridge.midi.clock import PULSES_PER_QUARTER, ClockFollower
from bridge.midi.controller import ORIGIN, MidiController, snap_tempo
from bridge.midi.lights import PadLights
from bridge.midi.mapping import Action, Control, parse_mapping
from bridge.request import GenerationRequest


def test_generate_uses_the_preset_bars_and_mapping_tempo(queue):
    q = queue()
    c = MidiController(parse_mapping(MINI, "mini.toml"), q)
    job = c.perform(Action("generate"))
    finish(c, job)
    assert job.state == "done" and job.origin == ORIGIN and job.request_id.startswith("midi-")
    r = job.request
    assert (r.prompt, r.bars, r.bpm, r.time_signature) == ("dusty drums", 2, 100.0, "4/4")
    assert q.journal.get(job.job_id).client == "midi"
    # without a clock the last request's tempo wins over the mapping's (here: the same job)
    assert c.tempo() == (100.0, "last request")


def test_preset_selection_bars_and_generate_on_select(queue):
    c = MidiController(parse_mapping(MINI, "mini.toml"), queue())
    job = c.perform(Action("preset", 2, generate=True))
    finish(c, job)
    assert c.preset == 2 and c.bars == 8
    assert (job.request.prompt, job.request.bars, job.request.temperature) == ("warm bass", 8, 0.8)
    for action, bars in [
        ("bars_up", 16),
        ("bars_up", 32),
        ("bars_up", 64),
        ("bars_up", 64),
        ("bars_down", 32),
    ]:
        c.perform(Action(action))
        assert c.bars == bars
    for _ in range(8):
        c.perform(Action("bars_down"))
    assert c.bars == 1
    stepped = MidiController(parse_mapping("[settings]\nbars_step = 3\n" + MINI[10:], "s.toml"), queue())
    stepped.perform(Action("bars_up"))
    assert stepped.bars == 5
    stepped.perform(Action("bars_down"))
    stepped.perform(Action("bars_down"))
    assert stepped.bars == 1


def test_continue_and_variation_build_on_the_journal(queue):
    c = MidiController(parse_mapping(MINI, "mini.toml"), queue())
    assert c.perform(Action("continue")) is None and "nothing to continue" in c.last_error
    assert c.perform(Action("variation")) is None and "nothing to vary" in c.last_error
    first = c.perform(Action("generate"))
    finish(c, first)
    cont = c.perform(Action("continue"))
    finish(c, cont)
    assert cont.request.continue_from == Path(first.paths[0])
    assert cont.request.prompt == "dusty drums" and cont.request.melody_bpm is None
    var = c.perform(Action("variation"))
    finish(c, var)
    assert var.request.continue_from == cont.request.continue_from
    assert var.request.seed != cont.request.seed
    assert {**var.request.to_dict(), "seed": 0} == {**cont.request.to_dict(), "seed": 0}


def test_the_clock_sets_the_tempo_and_a_tempo_change_is_carried_into_continuations(queue):
    now = [50.0]
    clock = ClockFollower(now=lambda: now[0])
    c = MidiController(parse_mapping(MINI, "mini.toml"), queue(), clock=clock, now=lambda: now[0])

    def play(bpm: float, beats: int) -> None:
        for _ in range(beats * PULSES_PER_QUARTER):
            now[0] += 60 / (PULSES_PER_QUARTER * bpm)
            clock.feed("clock", now[0])

    play(126.02, 2)
    first = c.perform(Action("generate"))
    assert first.request.bpm == 126.0  # snapped: within tempo_snap of a whole number
    finish(c, first)
    play(93.37, 2)
    assert c.tempo() == (93.37, "clock")
    cont = c.perform(Action("continue"))
    finish(c, cont)
    assert (cont.request.bpm, cont.request.melody_bpm) == (93.37, 126.0)  # the clip's own tempo
    now[0] += 2.0  # the clock stops: its last tempo stays in use
    assert c.tempo() == (93.37, "last clock tempo")
    assert snap_tempo(119.96, 0.05) == 120.0 and snap_tempo(119.9, 0.05) == 119.9
    assert snap_tempo(120.004, 0) == 120.0 and snap_tempo(120.456, 0) == 120.46


def test_cancel_stops_midi_jobs_first_then_whatever_runs(queue):
    q = queue(FakeRenderer(steps=400, step_seconds=0.01))
    c = MidiController(parse_mapping(MINI, "mini.toml"), q)
    jobs = [c.perform(Action("generate")) for _ in range(3)]
    wait_until(lambda: jobs[0].state == "running", 5, "running job")
    c.perform(Action("cancel"))
    for job in jobs:
        finish(c, job)
        assert job.state == "cancelled"
    other = q.submit(GenerationRequest(prompt="from the panel", bpm=90, bars=1), Origin("127.0.0.1:9001"))
    other = other.job
    wait_until(lambda: other.state == "running", 5, "panel job running")
    c.perform(Action("cancel"))
    finish(c, other)
    assert other.state == "cancelled"


def test_bad_requests_and_a_full_queue_are_logged_not_raised(queue, caplog):
    q = queue(FakeRenderer(steps=400, step_seconds=0.01))
    q.max_queued = 1
    lights = Lights()
    mapping = parse_mapping(MINI.replace("bars = 2", "bars = 64").replace("bpm = 100", "bpm = 20"), "m.toml")
    c = MidiController(mapping, q, lights=PadLights(mapping.feedback, lights.sent.append))
    pad = Control("note", 36, 9)
    with caplog.at_level(logging.WARNING, logger="bridge.midi.controller"):
        assert c.perform(Action("generate", control=pad, channel=9)) is None  # 64 bars at 20 bpm > 300 s
    assert "bars" in c.last_error and "300" in caplog.text
    assert lights.values(36) == [127]  # the error flash starts
    c.bars = 1
    running = c.perform(Action("generate", control=pad, channel=9))
    wait_until(lambda: running.state == "running", 5, "running job")
    with caplog.at_level(logging.WARNING, logger="bridge.midi.controller"):
        assert c.perform(Action("generate", control=pad, channel=9)) is not None  # waits
        assert c.perform(Action("generate", control=pad, channel=9)) is None  # one too many
    assert "queue_full" in caplog.text
    c.perform(Action("cancel"))
