"""MIDI learn: the next pad hit or knob move becomes a binding in the mapping file.

    mido.Message ─> control_of ─> Control
    learn_binding(path, action, msg) ─> the file, edited in place (comments kept), written atomically
    LearnSession: wait for that message (fed by the caller, or read from a port), then learn_binding

This module is the panel's whole learn API (`gui/midi_learn.py` imports it by name): `list_ports`,
`LearnSession`, `control_of`. It needs no daemon; the daemon notices the changed file on its own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bridge.midi.mapfile import (
    default_mapping_text,
    resolve_mapping_path,
    user_mapping_path,
    write_text_atomic,
)
from bridge.midi.mapping import ACTIONS, Binding, Control, Mapping, MidiMapError, Settings, parse_mapping
from bridge.midi.ports import PortBackend, default_backend, find_port, list_ports
from bridge.midi.toml_lines import LineIndex

__all__ = ["LearnSession", "control_of", "format_binding", "learn_binding", "list_ports"]


def control_of(msg: Any) -> Control | None:
    """The control a message comes from, if it can be learned: a note-on (velocity > 0) or a CC."""
    kind = getattr(msg, "type", None)
    if kind == "note_on" and msg.velocity > 0:
        return Control("note", msg.note, msg.channel)
    if kind == "control_change":
        return Control("cc", msg.control, msg.channel)
    return None


def format_binding(binding: Binding, settings: Settings) -> str:
    """A [[binding]] table as TOML text (only what differs from the settings' defaults)."""
    c = binding.control
    lines = ["[[binding]]", f"action = {_toml_str(binding.action)}"]
    if binding.slot is not None:
        lines.append(f"slot = {binding.slot}")
    lines.append(f"{c.kind} = {c.number}")
    lines.append(f"channel = {_toml_str('any') if c.channel is None else c.channel + 1}")
    default = settings.velocity if c.kind == "note" else settings.cc_threshold
    if binding.threshold != default:
        lines.append(f"threshold = {binding.threshold}")
    if binding.generate:
        lines.append("generate = true")
    return "\n".join(lines) + "\n"


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def learn_binding(
    path: Path, action: str, msg: Any, slot: int | None = None, *, replace_existing: bool = True
) -> Mapping:
    """Bind the control `msg` came from to `action` (preset: `slot`) in the mapping file at `path`, and
    return the new mapping. The file is edited in place — presets, settings and comments are kept —
    validated, and written atomically; a missing file starts as a copy of the default. The control
    leaves any binding it had; with `replace_existing` the action's (slot's) old bindings go too.
    MidiMapError if the message is not a note-on/CC, the action or slot is unknown, or the file is
    invalid (then nothing is written)."""
    path = Path(path).expanduser()
    source = str(path)
    control = control_of(msg)
    if control is None:
        kind = getattr(msg, "type", msg)
        raise MidiMapError(
            source, None, f"cannot learn from {kind!r}: press a pad or move a knob (note-on or CC)"
        )
    if action not in ACTIONS:
        raise MidiMapError(source, None, f"unknown action {action!r} (one of: {', '.join(ACTIONS)})")
    if (slot is None) != (action != "preset"):
        raise MidiMapError(source, None, "a preset binding needs a slot (1-8); other actions take none")
    text = path.read_text(encoding="utf-8") if path.exists() else default_mapping_text()
    mapping = parse_mapping(text, source)
    if slot is not None and mapping.preset(slot) is None:
        raise MidiMapError(source, None, f"there is no [[preset]] with slot = {slot}")

    lines = LineIndex(text)
    mine = [i for i, b in enumerate(mapping.bindings) if b.action == action and b.slot == slot]
    taken = [i for i, b in enumerate(mapping.bindings) if b.control.overlaps(control)]
    old = mapping.bindings[mine[0]] if mine else None
    keep_generate = old is not None and old.generate
    threshold = (
        old.threshold
        if old is not None and old.control.kind == control.kind
        else (mapping.settings.velocity if control.kind == "note" else mapping.settings.cc_threshold)
    )
    new = Binding(action, control, threshold, slot, keep_generate)
    block = format_binding(new, mapping.settings)

    text_lines = text.splitlines(keepends=True)
    remove = set(taken) | (set(mine) if replace_existing else set())
    in_place = mine[0] if mine and replace_existing else None
    for i in sorted(remove | ({in_place} if in_place is not None else set()), reverse=True):
        start = lines.table("binding", i)
        if start is None:  # e.g. binding = [{...}, ...] written inline
            raise MidiMapError(source, None, "MIDI learn edits [[binding]] tables; this file has none")
        end = lines.ends[("binding", i)]
        text_lines[start - 1 : end] = [block] if i == in_place else []
        gap = i != in_place and 2 <= start <= len(text_lines)
        if gap and not text_lines[start - 2].strip() and not text_lines[start - 1].strip():
            del text_lines[start - 1]  # no double blank line where the block was
    new_text = "".join(text_lines)
    if in_place is None:
        new_text = new_text.rstrip("\n") + "\n\n" + block
    result = parse_mapping(new_text, source)
    write_text_atomic(path, new_text)
    return result


class LearnSession:
    """MIDI learn, for the panel: wait for the next pad hit or knob move, then save it as the binding
    of `action` (and `slot` for presets) in the mapping file. Either feed messages yourself (`offer`),
    or let `listen` open the port. The daemon notices the changed file within a second
    (`bridge.midi.service.RELOAD_SECONDS`)."""

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
