"""Messages -> actions, by a mapping's bindings.

    mido.Message ─> Mapper.handle ─> Action | None          (thresholds, channel filters, CC edges)

`Mapper` only reads message attributes, so anything shaped like a mido message works (no mido import).
"""

from __future__ import annotations

from typing import Any

from bridge.midi.mapping import Action, Binding, Mapping


class Mapper:
    """Messages -> actions. Note-on at or above the velocity threshold (velocity 0 is a note-off and is
    ignored); CC when its value rises to or past the threshold (once per crossing). Anything else —
    note-offs, clock, sysex, meta messages from a MIDI file — gives None."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self._by_control: dict[tuple[str, int], list[Binding]] = {}
        for b in mapping.bindings:
            self._by_control.setdefault((b.control.kind, b.control.number), []).append(b)
        self._above: set[tuple[int, int]] = set()  # (channel, cc) currently at/over its threshold

    def reset(self) -> None:
        """Forget CC positions (the port was reopened)."""
        self._above.clear()

    def handle(self, msg: Any) -> Action | None:
        kind = getattr(msg, "type", None)
        if kind == "note_on":
            key, value = ("note", msg.note), msg.velocity
            if value == 0:
                return None
        elif kind == "control_change":
            key, value = ("cc", msg.control), msg.value
        else:
            return None
        channel = msg.channel
        binding = next((b for b in self._by_control.get(key, ()) if b.control.listens_to(channel)), None)
        if binding is None:
            return None
        if kind == "control_change":
            edge = (channel, msg.control)
            if value < binding.threshold:
                self._above.discard(edge)
                return None
            if edge in self._above:
                return None
            self._above.add(edge)
        elif value < binding.threshold:
            return None
        return Action(binding.action, binding.slot, binding.generate, binding.control, channel)
