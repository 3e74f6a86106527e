"""MIDI learn: the mapping file edited in place (comments and presets kept), refusals that leave it
alone, and the learn session the panel uses.
"""

from __future__ import annotations

import os
import re
import threading

import mido
import pytest
from midi_helpers import MINI, cc, on

from bridge.midi import learn
from bridge.midi.learn import LearnSession, learn_binding
from bridge.midi.mapfile import load_mapping
from bridge.midi.mapper import Mapper
from bridge.midi.mapping import Action, Control, MidiMapError
from bridge.midi.ports import MemoryBackend


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


def test_learn_offers_the_panel_its_whole_api():
    """gui/midi_learn.py imports bridge.midi.learn by name and uses these three."""
    assert {"list_ports", "LearnSession", "control_of"} <= set(learn.__all__)
    assert all(callable(getattr(learn, name)) for name in learn.__all__)
