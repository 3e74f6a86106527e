"""Pad lights: what each pad shows, sent as note-on / CC messages to the controller's output port.

    job news (running, done, error, idle) and the selected preset ─> PadLights ─> send(mido.Message)
    PadLights.tick(now), on the service thread: done lights time out, error flashes blink

The values come from the mapping's [feedback] table (`bridge.midi.mapping.Feedback`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.midi.mapping import Control, Feedback
from bridge.midi.ports import require_mido

FLASH_SECONDS = 0.15  # half-period of the error flash


class PadLights:
    """Pad feedback: a pad shows `running` while its job waits or runs, `done` for done_seconds when it
    finishes, flashes `error` when it fails, and otherwise its base light (`selected` for the current
    preset's pad, else `off`). Messages go through `send`; `tick(now)` runs the timed changes."""

    def __init__(self, style: Feedback, send: Callable[[Any], None]):
        self.style = style
        self.send = send
        self._base: dict[tuple[str, int, int], int] = {}  # pad -> its resting value
        self._timed: dict[tuple[str, int, int], tuple[float, int]] = {}  # pad -> (next change, steps left)
        self._shown: dict[tuple[str, int, int], int] = {}
        self._busy: set[tuple[str, int, int]] = set()  # pads showing a running job

    def _pad(self, control: Control, channel: int | None) -> tuple[str, int, int]:
        if self.style.channel is not None:
            ch = self.style.channel
        elif control.channel is not None:
            ch = control.channel
        else:
            ch = channel or 0
        return control.kind, control.number, ch

    def _show(self, pad: tuple[str, int, int], value: int) -> None:
        mido = require_mido()
        kind, number, ch = pad
        if kind == "note":
            msg = mido.Message("note_on", channel=ch, note=number, velocity=value)
        else:
            msg = mido.Message("control_change", channel=ch, control=number, value=value)
        self._shown[pad] = value
        self.send(msg)

    def set(self, control: Control, channel: int | None, state: str, now: float) -> None:
        """state: running, done, error, or idle (back to the pad's base light)."""
        pad = self._pad(control, channel)
        self._timed.pop(pad, None)
        self._busy.discard(pad)
        base = self._base.get(pad, self.style.off)
        if state == "running":
            self._busy.add(pad)
            self._show(pad, self.style.running)
        elif state == "done":
            self._show(pad, self.style.done)
            if self.style.done_seconds > 0:
                self._timed[pad] = (now + self.style.done_seconds, 0)
        elif state == "error" and self.style.flashes > 0:
            self._show(pad, self.style.error)
            self._timed[pad] = (now + FLASH_SECONDS, 2 * self.style.flashes - 1)
        else:
            self._show(pad, base)

    def select(
        self, controls: list[tuple[Control, int | None]], selected: list[tuple[Control, int | None]]
    ) -> None:
        """Base lights: `selected` pads show the selected value, the other `controls` are off."""
        chosen = {self._pad(c, ch) for c, ch in selected}
        for control, ch in controls:
            pad = self._pad(control, ch)
            value = self.style.selected if pad in chosen else self.style.off
            if self._base.get(pad) != value:
                self._base[pad] = value
                if pad not in self._timed and pad not in self._busy:
                    self._show(pad, value)

    def tick(self, now: float) -> None:
        for pad, (when, steps) in list(self._timed.items()):
            if now < when:
                continue
            base = self._base.get(pad, self.style.off)
            if steps <= 1:  # the last change: back to the pad's resting light
                del self._timed[pad]
                self._show(pad, base)
            else:
                self._show(pad, base if steps % 2 else self.style.error)
                self._timed[pad] = (now + FLASH_SECONDS, steps - 1)

    def refresh(self) -> None:
        """Send every pad's current value again (the output port was reopened)."""
        for pad, value in list(self._shown.items()):
            self._show(pad, value)

    def clear(self) -> None:
        """Every lit pad off (the daemon is stopping)."""
        self._timed.clear()
        self._busy.clear()
        for pad, value in list(self._shown.items()):
            if value != self.style.off:
                self._show(pad, self.style.off)
