"""The mapper fed with mido messages (and a real MIDI file): thresholds, channel filters, CC edges."""

from __future__ import annotations

import io

import mido
import pytest
from midi_helpers import MINI, cc, on

from bridge.midi.mapfile import load_mapping
from bridge.midi.mapper import Mapper
from bridge.midi.mapping import Action, parse_mapping


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
