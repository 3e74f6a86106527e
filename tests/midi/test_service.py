"""MIDI triggers: the mapping file (every error names its line), the mapper fed with mido messages (and
a real MIDI file), MIDI learn, the trigger controller on a real job queue, pad lights, the service with
in-memory ports (a port that disappears and comes back), and the daemon end to end with the debug
model. Hardware and virtual-port tests are skipped where no MIDI system exists (CI, containers).
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import mido
import pytest
import soundfile as sf
from osc_client import FakeRenderer, OscTestClient

from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.cli import main
from bridge.daemon.jobs import JobError, JobQueue
from bridge.daemon.journal import Journal
from bridge.daemon.server import Server, ServerOptions
from bridge.midi.clock import PULSES_PER_QUARTER
from bridge.midi.mapping import (
    Action,
    Control,
    Feedback,
    Mapper,
    MidiMapError,
    default_mapping_text,
    learn_binding,
    load_mapping,
    parse_mapping,
    user_mapping_path,
)
from bridge.midi.service import (
    ORIGIN,
    DriverClock,
    LearnSession,
    MemoryBackend,
    MidiController,
    MidiError,
    MidiOptions,
    MidiService,
    PadLights,
    RtMidiBackend,
    attach,
    default_backend,
    describe_mapping,
    find_port,
    snap_tempo,
)
from bridge.midi.service import monitor as bridge_midi_monitor


def on(n: int, velocity: int = 100, channel: int = 9) -> mido.Message:
    return mido.Message("note_on", note=n, velocity=velocity, channel=channel)


def cc(n: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=n, value=value, channel=channel)


@pytest.fixture(autouse=True)
def no_user_mapping(tmp_path, monkeypatch):
    """Tests never read or write the user's own MIDI-learn file: the config folders point into tmp."""
    for var in ("HOME", "XDG_CONFIG_HOME", "APPDATA"):
        monkeypatch.setenv(var, str(tmp_path / "home" / var.lower()))


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


# ========================================================================= mapping files


def test_the_default_mapping_is_valid_and_documented():
    mapping = load_mapping(None)
    kinds = {b.action for b in mapping.bindings}
    assert kinds == {"generate", "continue", "variation", "cancel", "bars_up", "bars_down", "preset"}
    assert sorted(p.slot for p in mapping.presets) == list(range(1, 9))
    assert sorted(b.slot for b in mapping.bindings_for("preset")) == list(range(1, 9))
    text = default_mapping_text()
    for word in ("[[binding]]", "[[preset]]", "[feedback]", "cc_threshold", "bars_step", "tempo_snap"):
        assert word in text
    assert "midi_default.toml: 14 bindings, 8 presets" in describe_mapping(mapping)


def test_settings_apply_to_bindings_and_presets_carry_request_fields():
    m = parse_mapping(MINI, "mini.toml")
    gen = m.bindings_for("generate")[0]
    assert gen.control == Control("note", 36, 9) and gen.threshold == 1 and gen.line == 6
    assert m.settings.bpm == 100.0 and m.settings.bars == 2 and m.settings.bars_step is None
    assert m.preset(2).bars == 8 and m.preset(2).request_fields() == {"temperature": 0.8}
    assert m.feedback == Feedback()


BAD = [
    ("syntax", "[settings]\nbpm = 100\nbars = = 2\n", 3, "TOML syntax"),
    ("unterminated", '[[preset]]\nslot = 1\nprompt = "abc\n', 3, "TOML syntax"),
    ("unknown action", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "explode"\nnote = 36\n', 6,
     "unknown action 'explode'"),
    ("note out of range", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "generate"\nnote = 128\n',
     7, "`note` must be a whole number from 0 to 127"),
    ("negative cc", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "cancel"\ncc = -1\n', 7,
     "`cc` must be"),
    ("duplicate binding",
     '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "generate"\nnote = 36\nchannel = 10\n\n'
     '[[binding]]\naction = "cancel"\nnote = 36\n', 12, "duplicate binding: note 36 on any channel is already "
     "bound to 'generate' at line 5"),
    ("missing control", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "generate"\n', 5,
     "needs exactly one of `note` or `cc`"),
    ("both controls", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "generate"\nnote = 1\ncc = 2\n',
     8, "exactly one of `note` or `cc`"),
    ("missing action", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\nnote = 36\n', 5, "needs `action`"),
    ("missing prompt", "[[preset]]\nslot = 1\nname = 'x'\n", 1, "needs `prompt`"),
    ("missing slot", "[[preset]]\nprompt = 'x'\n", 1, "needs `slot`"),
    ("unknown key", '[[preset]]\nslot = 1\nprompt = "x"\n\n[[binding]]\naction = "generate"\nnot = 36\n', 7,
     "unknown key 'not'"),
    ("channel 17", '[settings]\nchannel = 17\n\n[[preset]]\nslot = 1\nprompt = "x"\n', 2, "1 to 16 or \"any\""),
    ("threshold 0", '[[preset]]\nslot = 1\nprompt = "x"\n[[binding]]\naction = "generate"\ncc = 1\n'
     "threshold = 0\n", 7, "`threshold` must be"),
    ("preset slot 9", '[[preset]]\nslot = 9\nprompt = "x"\n', 2, "`slot` must be a whole number from 1 to 8"),
    ("duplicate preset", '[[preset]]\nslot = 1\nprompt = "x"\n[[preset]]\nslot = 1\nprompt = "y"\n', 5,
     "preset slot 1 is already defined at line 1"),
    ("preset binding without slot", '[[preset]]\nslot = 1\nprompt = "x"\n[[binding]]\naction = "preset"\n'
     "note = 1\n", 4, "needs `slot`"),
    ("slot on generate", '[[preset]]\nslot = 1\nprompt = "x"\n[[binding]]\naction = "generate"\nnote = 1\n'
     "slot = 1\n", 7, "only for action \"preset\""),
    ("undefined preset", '[[preset]]\nslot = 1\nprompt = "x"\n[[binding]]\naction = "preset"\nslot = 3\n'
     "note = 1\n", 6, "no [[preset]] with slot = 3"),
    ("table not array", '[[preset]]\nslot = 1\nprompt = "x"\n\n[binding]\naction = "generate"\n', 5,
     "write [[binding]]"),
    ("start preset missing", '[settings]\npreset = 4\n[[preset]]\nslot = 1\nprompt = "x"\n', 2,
     "no [[preset]] with slot = 4"),
    ("bars_step", '[settings]\nbars_step = "triple"\n[[preset]]\nslot = 1\nprompt = "x"\n', 2, "bars_step"),
    ("time signature", '[[preset]]\nslot = 1\nprompt = "x"\ntime_signature = "four"\n', 4, "time signature"),
    ("feedback value", '[feedback]\nrunning = 300\n[[preset]]\nslot = 1\nprompt = "x"\n', 2, "`running`"),
    ("bpm type", '[settings]\nbpm = "fast"\n[[preset]]\nslot = 1\nprompt = "x"\n', 2, "`bpm` must be a number"),
    ("unknown table", '[setings]\nbpm = 100\n[[preset]]\nslot = 1\nprompt = "x"\n', 1, "unknown key 'setings'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_malformed_mapping_files_name_the_file_and_line(tmp_path, text, line, fragment):
    path = tmp_path / "bad-mapping.toml"
    path.write_text(text)
    with pytest.raises(MidiMapError) as err:
        load_mapping(path)
    message = str(err.value)
    assert f"bad-mapping.toml: line {line}:" in message, message
    assert fragment in message, message
    assert err.value.line == line


def test_a_mapping_without_presets_or_file_is_a_clear_error(tmp_path):
    with pytest.raises(MidiMapError, match=r"empty\.toml: no \[\[preset\]\]"):
        parse_mapping("", "empty.toml")
    with pytest.raises(MidiMapError, match=r"nope\.toml: no such file"):
        load_mapping(tmp_path / "nope.toml")


# ========================================================================= mapper


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        (on(36), Action("generate")),
        (on(37), Action("continue")),
        (on(38), Action("variation")),
        (on(39), Action("cancel")),
        (on(40), Action("bars_down")),
        (on(41), Action("bars_up")),
        *[(on(43 + slot), Action("preset", slot)) for slot in range(1, 9)],
        (on(42), None),  # unbound pad
        (on(36, velocity=0), None),  # note-on velocity 0 is a note-off
        (mido.Message("note_off", note=36, channel=9), None),
        (mido.Message("clock"), None),
        (mido.Message("sysex", data=[1, 2]), None),
        (mido.MetaMessage("set_tempo", tempo=500000), None),
        (mido.Message("program_change", program=3), None),
    ],
    ids=lambda v: str(v)[:40],
)
def test_every_default_action(msg, expected):
    action = Mapper(load_mapping(None)).handle(msg)
    assert action == expected
    if action is not None:
        assert action.control is not None and action.channel == msg.channel


def test_velocity_threshold_and_channel_filters():
    text = MINI.replace("note = 36\n", "note = 36\nthreshold = 64\n") + (
        '\n[[binding]]\naction = "cancel"\nnote = 36\nchannel = 1\n'
        '\n[[binding]]\naction = "variation"\nnote = 60\nchannel = "any"\n'
    )
    mapper = Mapper(parse_mapping(text, "t.toml"))
    assert mapper.handle(on(36, 63, channel=9)) is None  # under the threshold
    assert mapper.handle(on(36, 64, channel=9)) == Action("generate")
    assert mapper.handle(on(36, 127, channel=0)) == Action("cancel")  # same note, other channel
    assert mapper.handle(on(36, 127, channel=5)) is None  # channel 6: nobody listens
    assert mapper.handle(on(45, 1, channel=9)) == Action("preset", 2, generate=True)
    assert mapper.handle(on(45, 1, channel=8)) is None  # settings.channel = 10 applies
    for ch in range(16):
        assert mapper.handle(on(60, 10, channel=ch)) == Action("variation")


def test_cc_fires_once_per_crossing_of_its_threshold():
    text = MINI + '\n[[binding]]\naction = "bars_up"\ncc = 20\nchannel = 1\n'
    mapper = Mapper(parse_mapping(text, "t.toml"))
    values = [0, 30, 63, 64, 90, 127, 100, 64, 63, 10, 127, 127, 0, 80]
    fired = [v for v in values if mapper.handle(cc(20, v)) is not None]
    assert fired == [64, 127, 80]
    assert mapper.handle(cc(20, 127, channel=1)) is None  # channel 2
    assert mapper.handle(cc(20, 127)) is None  # still above since 80
    mapper.reset()  # the port was reopened: where the knob is, is unknown again
    assert mapper.handle(cc(20, 100)) == Action("bars_up")


def _midi_file() -> mido.MidiFile:
    """A type-1 file as a DAW would export a pad performance: tempo map, a program change, notes,
    velocity-0 note-offs, a sustain CC and pitch bend, on channel 10."""
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    meta, pads = mido.MidiTrack(), mido.MidiTrack()
    mf.tracks += [meta, pads]
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    events = [  # (delta ticks, message)
        (0, mido.Message("program_change", program=0, channel=9)),
        (0, on(46)),  # preset 3
        (120, mido.Message("note_off", note=46, channel=9)),
        (360, on(41, 90)),  # bars up
        (120, on(41, 0)),
        (360, on(36, 110)),  # generate
        (120, on(36, 0)),
        (0, mido.Message("control_change", control=64, value=127, channel=9)),  # sustain: unbound
        (0, mido.Message("pitchwheel", pitch=200, channel=9)),
        (840, on(38, 70)),  # variation
        (120, mido.Message("note_off", note=38, channel=9)),
        (360, on(42, 100)),  # unbound pad
        (120, on(37, 100)),  # continue
        (480, on(39, 127)),  # cancel
    ]
    for delta, msg in events:
        pads.append(msg.copy(time=delta))
    pads.append(mido.MetaMessage("end_of_track", time=0))
    buf = io.BytesIO()
    mf.save(file=buf)
    buf.seek(0)
    return mido.MidiFile(file=buf)  # read back: what a user's file gives


def test_a_real_midi_files_messages_played_into_the_mapper():
    mapper = Mapper(load_mapping(None))
    t, timeline = 0.0, []
    for msg in _midi_file():  # merged tracks, .time in seconds, meta messages included
        t += msg.time
        action = mapper.handle(msg)
        if action is not None:
            timeline.append((round(t, 3), action.kind, action.slot))
    assert timeline == [
        (0.0, "preset", 3),
        (0.5, "bars_up", None),
        (1.0, "generate", None),
        (2.0, "variation", None),
        (2.625, "continue", None),
        (3.125, "cancel", None),
    ]


# ========================================================================= learn


def test_learn_starts_from_the_default_keeps_comments_and_presets(tmp_path):
    path = tmp_path / "cfg" / "midi.toml"
    mapping = learn_binding(path, "generate", on(60, channel=1))
    text = path.read_text()
    assert text.startswith("# MusicGen Bridge — MIDI mapping")
    assert "# Top two rows (pads 9-16): prompt presets 1-8." in text
    assert [b.control for b in mapping.bindings_for("generate")] == [Control("note", 60, 1)]
    assert mapping.presets == load_mapping(None).presets
    assert Mapper(mapping).handle(on(36)) is None  # the old pad no longer generates
    assert Mapper(mapping).handle(on(60, channel=1)) == Action("generate")
    assert load_mapping(path) == mapping  # what was written is what was returned
    assert sorted(os.listdir(path.parent)) == ["midi.toml"]  # no temp file left behind
    # the binding was rewritten where it was: still the first [[binding]]
    assert text.index('action = "generate"') < text.index('action = "continue"')


def test_learning_a_control_in_use_moves_it_and_presets_take_ccs(tmp_path):
    path = tmp_path / "midi.toml"
    learn_binding(path, "generate", on(37))  # pad 37 was "continue"
    mapping = learn_binding(path, "preset", cc(20, 127, channel=3), slot=3)
    assert mapping.bindings_for("continue") == []
    assert mapping.bindings_for("generate")[0].control == Control("note", 37, 9)
    assert mapping.bindings_for("preset", 3)[0].control == Control("cc", 20, 3)
    assert mapping.bindings_for("preset", 3)[0].threshold == 64  # cc threshold from the settings
    assert "\n\n\n" not in path.read_text()
    assert Mapper(mapping).handle(cc(20, 100, channel=3)) == Action("preset", 3)
    added = learn_binding(path, "bars_up", cc(21, 1), replace_existing=False)
    assert len(added.bindings_for("bars_up")) == 2


def test_learn_refuses_what_it_cannot_bind_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "midi.toml"
    path.write_text(MINI)
    for msg, action, slot, fragment in [
        (mido.Message("note_off", note=1), "generate", None, "cannot learn from 'note_off'"),
        (on(36, 0), "generate", None, "cannot learn"),
        (on(1), "explode", None, "unknown action"),
        (on(1), "preset", None, "needs a slot"),
        (on(1), "generate", 1, "needs a slot"),
        (on(1), "preset", 5, "no [[preset]] with slot = 5"),
    ]:
        with pytest.raises(MidiMapError, match=re.escape(fragment)):
            learn_binding(path, action, msg, slot)
    assert path.read_text() == MINI
    path.write_text(MINI.replace("note = 36", "note = 360"))
    with pytest.raises(MidiMapError, match=r"midi\.toml: line 8"):
        learn_binding(path, "generate", on(1))


def test_learn_session_takes_the_first_pad_or_knob(tmp_path):
    path = tmp_path / "midi.toml"
    session = LearnSession("cancel", mapping_path=path)
    assert not session.offer(mido.Message("clock"))
    assert not session.offer(on(50, 0))
    assert session.offer(cc(7, 3, channel=2))
    assert not session.offer(on(51))
    assert session.wait(0)
    assert session.commit().bindings_for("cancel")[0].control == Control("cc", 7, 2)
    empty = LearnSession("generate", mapping_path=path)
    empty.cancel()
    assert not empty.wait(1)
    with pytest.raises(MidiMapError, match="nothing to learn"):
        empty.commit()


def test_learn_session_listens_on_a_port(tmp_path):
    backend = MemoryBackend()
    pads = backend.add_input("Pads MIDI 1")
    path = tmp_path / "midi.toml"
    session = LearnSession("variation", mapping_path=path)
    threading.Timer(0.1, lambda: (pads.send(mido.Message("clock")), pads.send(on(70)))).start()
    mapping = session.listen("pads", timeout=5, backend=backend)
    assert mapping.bindings_for("variation")[0].control == Control("note", 70, 9)
    assert pads.listeners == []  # the port was closed again
    assert LearnSession("cancel", mapping_path=path).listen("pads", timeout=0.05, backend=backend) is None


# ========================================================================= ports


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


# ========================================================================= controller


@pytest.fixture
def queue(tmp_path):
    journal = Journal.open(tmp_path, synchronous="NORMAL")
    made = []

    def make(renderer=None):
        q = JobQueue(renderer or FakeRenderer(steps=2, step_seconds=0.001), tmp_path, journal).start()
        made.append(q)
        return q

    yield make
    for q in made:
        q.close(5)
    journal.close()


class Lights:
    """A recording output port for PadLights."""

    def __init__(self):
        self.sent: list[mido.Message] = []

    def values(self, n: int) -> list[int]:
        return [m.velocity for m in self.sent if m.type == "note_on" and m.note == n]


def finish(controller: MidiController, job, timeout: float = 10.0) -> None:
    wait_until(lambda: not job.active, timeout, f"end of job {job.job_id}")
    controller.poll()


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
    from bridge.midi.clock import ClockFollower

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
    from bridge.daemon.jobs import Origin
    from bridge.request import GenerationRequest

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
    with caplog.at_level(logging.WARNING, logger="bridge.midi.service"):
        assert c.perform(Action("generate", control=pad, channel=9)) is None  # 64 bars at 20 bpm > 300 s
    assert "bars" in c.last_error and "300" in caplog.text
    assert lights.values(36) == [127]  # the error flash starts
    c.bars = 1
    running = c.perform(Action("generate", control=pad, channel=9))
    wait_until(lambda: running.state == "running", 5, "running job")
    with caplog.at_level(logging.WARNING, logger="bridge.midi.service"):
        assert c.perform(Action("generate", control=pad, channel=9)) is not None  # waits
        assert c.perform(Action("generate", control=pad, channel=9)) is None  # one too many
    assert "queue_full" in caplog.text
    c.perform(Action("cancel"))


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


# ========================================================================= service, in-memory ports


@pytest.fixture
def fake_daemon(tmp_path):
    made = []

    def make(renderer=None):
        journal = Journal.open(tmp_path, synchronous="NORMAL")
        server = Server(
            renderer or FakeRenderer(), tmp_path, journal, ServerOptions(port=0), model_name="fake"
        )
        thread = server.serve_in_thread()
        client = OscTestClient(("127.0.0.1", server.address[1]))
        client.hello("panel")
        made.append((server, thread, journal, client))
        return server, client

    yield make
    for server, thread, journal, client in made:
        client.close()
        server.close(timeout=5)
        thread.join(5)
        journal.close()


def test_a_pad_hit_is_an_ordinary_job_announced_to_registered_clients(fake_daemon, tmp_path):
    server, client = fake_daemon()
    backend = MemoryBackend()
    pads = backend.add_input("Pads 20:0")
    backend.add_output("Pads 20:0 out")
    mapping = tmp_path / "map.toml"
    mapping.write_text(MINI)
    service = MidiService(MidiOptions("pads", mapping=mapping, out_port="pads"), server.jobs, backend=backend)
    service.start()
    try:
        assert service.connected and service.output_name == "Pads 20:0 out"
        pads.send(mido.Message("note_on", note=36, velocity=100, channel=9))
        ack = client.wait(lambda r: r.verb == "ack", 10)
        request_id = ack.args[0]
        assert request_id.startswith("midi-")
        done = client.wait_for(request_id, {"done"}, 10)
        assert Path(done.args[1]).is_file()
        status = service.status()
        assert status["midi_connected"] is True and status["midi_preset"] == 1 and status["midi_bars"] == 2
        assert status["midi_map"] == str(mapping)
        sent = backend.outputs["Pads 20:0 out"].sent
        wait_until(lambda: [m.velocity for m in sent if m.note == 36][:2] == [127, 64], 5, "done light")
    finally:
        service.stop()
    assert [m.velocity for m in sent if m.note == 36][-1] == 0  # lights off at shutdown


def test_the_port_disappearing_leaves_osc_working_and_it_is_reopened(fake_daemon, caplog):
    server, client = fake_daemon()
    backend = MemoryBackend()
    backend.add_input("Pads 20:0")
    service = MidiService(MidiOptions("Pads", retry_seconds=0.1), server.jobs, backend=backend)
    with caplog.at_level(logging.INFO, logger="bridge.midi.service"):
        service.start()
        try:
            backend.remove("Pads 20:0")  # unplugged
            wait_until(lambda: not service.connected, 5, "disconnect")
            assert "disappeared" in caplog.text and "OSC keeps working" in caplog.text
            assert client.ping() < 5  # the daemon still answers
            assert service.status()["midi_connected"] is False
            pads = backend.add_input("Pads 24:0")  # plugged in again, with a new client number
            wait_until(lambda: service.connected, 5, "reconnect")
            assert service.input_name == "Pads 24:0" and "is back" in caplog.text
            pads.send(on(36))
            ack = client.wait(lambda r: r.verb == "ack", 10)
            client.wait_for(ack.args[0], {"done"}, 10)
        finally:
            service.stop()
    assert service.stats["reconnects"] == 1 and service.stats["errors"] == 0


def test_the_mapping_file_is_reloaded_after_midi_learn_and_a_broken_edit_is_ignored(
    fake_daemon, tmp_path, caplog
):
    server, client = fake_daemon()
    backend = MemoryBackend()
    pads = backend.add_input("Pads")
    path = tmp_path / "map.toml"
    path.write_text(MINI)
    service = MidiService(MidiOptions("Pads", mapping=path), server.jobs, backend=backend).start()
    try:
        learn_binding(path, "generate", on(60, channel=9))
        wait_until(lambda: service.mapping.bindings_for("generate")[0].control.number == 60, 5, "reload")
        pads.send(on(60))
        client.wait(lambda r: r.verb == "done", 10)
        with caplog.at_level(logging.ERROR, logger="bridge.midi.service"):
            path.write_text(MINI.replace("note = 36", "note = 999"))
            wait_until(lambda: "not reloaded" in caplog.text, 5, "reload error")
        assert "map.toml: line 8" in caplog.text
        assert service.mapping.bindings_for("generate")[0].control.number == 60  # the previous one stays
    finally:
        service.stop()


def test_midi_learn_without_a_file_creates_the_users_mapping_and_the_daemon_switches_to_it(fake_daemon):
    server, client = fake_daemon()
    backend = MemoryBackend()
    pads = backend.add_input("Pads")
    service = MidiService(MidiOptions("Pads"), server.jobs, backend=backend).start()
    try:
        assert service.mapping_path is None and service.status()["midi_map"] == ""  # the built-in one
        session = LearnSession("generate")  # what the panel does
        assert session.path == user_mapping_path() and not session.path.exists()
        session.offer(cc(30, 127, channel=2))
        session.commit()
        wait_until(lambda: service.mapping_path == user_mapping_path(), 5, "switch to the user's file")
        pads.send(cc(30, 100, channel=2))
        client.wait(lambda r: r.verb == "done", 10)
    finally:
        service.stop()


def test_attach_registers_status_fields_when_the_server_offers_them(fake_daemon):
    server, client = fake_daemon()
    backend = MemoryBackend()
    backend.add_input("Pads")
    service = attach(server, MidiOptions("Pads", clock=True), backend=backend)
    try:
        if not isinstance(getattr(server, "status_extras", None), list):
            pytest.skip("bridge.server.Server has no status_extras hook yet: MIDI fields are not in /status")
        client.send("status", "s1")
        reply = client.wait_for("s1", {"status"}, 5)
        fields = dict(zip(reply.args[1::2], reply.args[2::2], strict=True))
        assert fields["midi_connected"] == 1 and fields["clock_bpm"] == "" and fields["midi_preset"] == 1
    finally:
        service.stop()


# ========================================================================= CLI


def test_monitor_prints_messages_actions_and_the_clock_tempo():
    backend = MemoryBackend()
    pads = backend.add_input("Pads")
    lines: list[str] = []

    def play():
        time.sleep(0.1)
        pads.send(on(36))
        pads.send(on(42))
        t0 = time.monotonic() - 0.5
        pads.send(mido.Message("start"), t0 - 0.01)
        for k in range(PULSES_PER_QUARTER):
            pads.send(mido.Message("clock"), t0 + k * 0.02)  # 125 bpm

    threading.Thread(target=play, daemon=True).start()
    assert bridge_midi_monitor("pads", seconds=0.6, backend=backend, write=lines.append) == 0
    assert lines[0] == "listening to Pads with midi_default.toml"
    assert any(line.endswith("->  generate") for line in lines)
    assert any("note=42" in line and "->" not in line for line in lines)
    assert "start" in lines and "clock: 125.00 bpm (jitter 0.10 ms)" in lines, lines


def test_cli_midi_check_and_errors(tmp_path, capsys):
    assert main(["midi", "check"]) == 0
    assert "14 bindings, 8 presets" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(MINI.replace('action = "generate"', 'action = "launch"'))
    assert main(["midi", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: line 7: unknown action 'launch'" in err and "Traceback" not in err
    assert main(["serve", "--midi-clock", "--out", str(tmp_path)]) == 2
    assert "need --midi PORT" in capsys.readouterr().err


def test_cli_midi_list_and_serve_with_a_missing_port_fail_cleanly_before_loading_a_model(tmp_path, capsys):
    rc = main(["midi", "list"])
    out, err = capsys.readouterr()
    assert (rc == 0 and "inputs:" in out) or (rc == 2 and err.startswith("error: ")), (rc, out, err)
    t0 = time.monotonic()
    rc = main(["serve", "--model", "debug", "--port", "0", "--out", str(tmp_path), "--midi", "no such pads"])
    assert rc == 2 and time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_cli_serve_starts_midi_through_the_daemons_on_ready_hook(tmp_path, monkeypatch, capsys):
    """`serve --midi` as wired in bridge.cli, against the hook it asks bridge.server.serve for:
    on_ready(server) right after the Server is built, its return value called at shutdown."""
    import bridge.daemon.server
    import bridge.midi.service

    backend = MemoryBackend()
    pads = backend.add_input("Pads 20:0")
    backend.add_output("Pads 20:0 out")
    monkeypatch.setattr(bridge.midi.service, "default_backend", lambda: backend)
    seen = {}

    def serve(options, *, model, out_dir, on_ready=None, **kwargs):
        Path(out_dir).mkdir(exist_ok=True)
        journal = Journal.open(Path(out_dir), synchronous="NORMAL")
        server = Server(FakeRenderer(), Path(out_dir), journal, options, model_name="fake")
        stop = on_ready(server)
        service = pads.listeners[0].__self__  # the MidiService that opened the port
        seen.update(clock=service.clock is not None, out=service.output_name, map=service.mapping_path)
        pads.send(on(36))
        server.jobs.start()
        wait_until(lambda: server.jobs.history(1) and server.jobs.history(1)[0].state == "done", 10, "job")
        seen["client"] = server.jobs.history(1)[0].client
        stop()
        seen["closed"] = pads.listeners == []
        server.close(5)
        journal.close()
        return 0

    monkeypatch.setattr(bridge.daemon.server, "serve", serve)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MINI)
    args = ["serve", "--port", "0", "--out", str(tmp_path / "out"), "--midi", "pads", "--midi-clock"]
    assert main([*args, "--midi-map", str(mapping), "--midi-out", "pads"]) == 0, capsys.readouterr().err
    assert seen == {"clock": True, "out": "Pads 20:0 out", "map": mapping, "client": "midi", "closed": True}
    assert main([*args, "--midi-out", "nothing like it"]) == 2
    assert "no MIDI output port matches 'nothing like it'" in capsys.readouterr().err


# ========================================================================= end to end, debug model


def test_end_to_end_serve_with_midi_clock_and_the_debug_model(tmp_path, monkeypatch):
    """`musicgen-bridge serve --model debug --midi Pads --midi-clock --midi-map FILE`, run by the CLI in
    a thread, with an in-memory port standing in for the controller: a clock at 150 bpm and a pad hit
    give a 1-bar loop at 150 bpm through the daemon's queue and journal, announced over OSC to a client
    that only said hello; the clock tempo is in /status."""
    import bridge.midi.service

    backend = MemoryBackend()
    pads = backend.add_input("Pads 20:0")
    monkeypatch.setattr(bridge.midi.service, "default_backend", lambda: backend)
    servers: list[Server] = []
    real_attach = bridge.midi.service.attach

    def attach_and_keep(server, options, **kwargs):
        servers.append(server)
        return real_attach(server, options, **kwargs)

    monkeypatch.setattr(bridge.midi.service, "attach", attach_and_keep)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MINI.replace("bars = 2", "bars = 1"))
    out = tmp_path / "out"
    argv = ["serve", "--model", "debug", "--device", "cpu", "--port", "0", "--out", str(out), "--no-warmup"]
    argv += ["--engine", os.environ.get("MUSICGEN_TEST_ENGINE", "ours")]
    argv += ["--midi", "pads", "--midi-clock", "--midi-map", str(mapping)]
    rc: list[int] = []
    daemon = threading.Thread(target=lambda: rc.append(main(argv)), daemon=True)
    daemon.start()
    try:
        wait_until(lambda: servers and pads.listeners, 120, "daemon with its MIDI input")
        server = servers[0]
        with OscTestClient(("127.0.0.1", server.address[1])) as client:
            client.hello("live-device")
            now = time.monotonic()
            period = 60 / (PULSES_PER_QUARTER * 150)
            pads.send(mido.Message("start"), now - 2 * PULSES_PER_QUARTER * period - 0.001)
            for k in range(2 * PULSES_PER_QUARTER, 0, -1):  # two beats at 150 bpm, ending now
                pads.send(mido.Message("clock"), now - k * period)
            status: dict = {}
            for attempt in range(50):  # until the MIDI thread has read the clock
                client.send("status", f"st{attempt}")
                fields = client.wait_for(f"st{attempt}", {"status"}, 10).args
                status = dict(zip(fields[1::2], fields[2::2], strict=True))
                if status["clock_bpm"] != "":
                    break
                time.sleep(0.005)
            assert status["clock_bpm"] == 150.0 and status["midi_connected"] == 1, status
            assert (status["midi_bpm"], status["midi_bars"]) == (150.0, 1)
            # "last clock tempo" once the two beats of clock are older than the drop-out time
            assert status["midi_bpm_source"] in ("clock", "last clock tempo")
            pads.send(on(36, 100, channel=9))
            ack = client.wait(lambda r: r.verb == "ack", 30)
            done = client.wait_for(ack.args[0], {"done", "error"}, 120)
            assert done.verb == "done", done
            wav = Path(done.args[1])
            info = sf.info(wav)
            assert info.frames == loop_samples(1, 150, TimeSignature(4, 4), info.samplerate)
            assert "150bpm" in wav.name and wav.parent == out.resolve()
            record = server.jobs.history(1)[0]
            assert (record.client, record.state, record.request["bpm"]) == ("midi", "done", 150.0)
            assert record.request["prompt"] == "dusty drums"
    finally:
        if servers:
            servers[0].stop()
        daemon.join(60)
    assert rc == [0]
    assert pads.listeners == []  # the MIDI input was closed at shutdown
