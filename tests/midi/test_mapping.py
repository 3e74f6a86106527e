"""The MIDI mapping file: the packaged default is valid and documented, settings and presets carry
over, and every error names the file and the line.
"""

from __future__ import annotations

import pytest
from midi_helpers import MINI

from bridge.midi.mapfile import default_mapping_text, load_mapping
from bridge.midi.mapping import Control, Feedback, MidiMapError, parse_mapping
from bridge.midi.monitor import describe_mapping


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
