"""The MIDI mapping: a TOML file of bindings (note or CC -> action) and prompt presets, as frozen data.

    text ─> tomllib ─> parse_mapping (validated once; every error names the file and line) ─> Mapping

Where the file lives and how it is read: `bridge.midi.mapfile`; messages -> actions:
`bridge.midi.mapper`; MIDI learn's edits of the file: `bridge.midi.learn`. The format is documented at
the top of `midi_default.toml` (shipped in the package). No mido import is needed to parse a file.
Channels are 1-16 in the file and 0-15 here (mido's numbering).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Any

from bridge.audio.tempo import LoopError, TimeSignature
from bridge.limits import (
    CFG_RANGE,
    MAX_BPM,
    MAX_PROMPT_CHARS,
    MAX_VARIATIONS,
    MIN_BPM,
    TEMPERATURE_RANGE,
    TOP_K_RANGE,
)
from bridge.midi.toml_lines import LineIndex

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with tomli (the `midi` extra installs it)
    import tomli as tomllib

ACTIONS = ("generate", "continue", "variation", "cancel", "bars_up", "bars_down", "preset")
JOB_ACTIONS = frozenset({"generate", "continue", "variation"})  # actions that submit a job
CONTROL_KINDS = ("note", "cc")
MIDI_MAX = 127  # notes, CC numbers, velocities and values are 0..127
CHANNELS = 16
PRESET_SLOTS = 8
MIN_BARS, MAX_BARS = 1, 64  # bar counts a controller can step through


class MidiMapError(ValueError):
    """A mapping file is unreadable or invalid; the message names the file and the line.

    `problems` holds every mistake found in the file, this one first (`midi check` lists them all); the
    message adds how many more there are."""

    def __init__(self, source: str, line: int | None, message: str, more: tuple[MidiMapError, ...] = ()):
        where = f"{source}: line {line}" if line else source
        extra = f" (and {len(more)} more mistake{'s' if len(more) > 1 else ''})" if more else ""
        super().__init__(f"{where}: {message}{extra}")
        self.source = source
        self.line = line
        self.detail = message
        self.problems: tuple[MidiMapError, ...] = (self, *more)

    @property
    def where(self) -> str:
        """This one mistake, without the count of the others."""
        return f"{self.source}: line {self.line}: {self.detail}" if self.line else f"{self.source}: {self.detail}"


# ------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Control:
    """A note (note-on) or a CC on one channel (0-15) or any channel (None)."""

    kind: str  # "note" | "cc"
    number: int  # 0..127
    channel: int | None = None

    def overlaps(self, other: Control) -> bool:
        return (
            self.kind == other.kind
            and self.number == other.number
            and (self.channel is None or other.channel is None or self.channel == other.channel)
        )

    def listens_to(self, channel: int) -> bool:
        return self.channel is None or self.channel == channel

    def describe(self) -> str:
        ch = "any channel" if self.channel is None else f"channel {self.channel + 1}"
        return f"{'note' if self.kind == 'note' else 'CC'} {self.number} on {ch}"


@dataclass(frozen=True)
class Binding:
    action: str
    control: Control
    threshold: int  # velocity (note) or value (cc), 1..127
    slot: int | None = None  # preset bindings only
    generate: bool = False  # preset bindings only: select and generate at once
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Preset:
    slot: int
    prompt: str
    name: str = ""
    bars: int | None = None
    time_signature: str | None = None
    temperature: float | None = None
    top_k: int | None = None
    cfg: float | None = None
    variations: int | None = None
    line: int = field(default=0, compare=False)

    @property
    def label(self) -> str:
        return self.name or self.prompt[:24]

    def request_fields(self) -> dict[str, Any]:
        """The GenerationRequest fields this preset sets (bars is handled by the controller)."""
        names = ("time_signature", "temperature", "top_k", "cfg", "variations")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True)
class Settings:
    channel: int | None = None  # 0..15, None = any
    velocity: int = 1
    cc_threshold: int = 64
    bpm: float = 120.0
    tempo_snap: float = 0.05  # bpm
    bars: int = 4
    bars_step: int | None = None  # None = double/halve
    time_signature: str = "4/4"
    preset: int = 1


@dataclass(frozen=True)
class Feedback:
    channel: int | None = None  # 0..15; None = the binding's channel (channel 1 for "any")
    running: int = 127
    done: int = 64
    error: int = 127
    selected: int = 32
    off: int = 0
    done_seconds: float = 2.0
    flashes: int = 3


@dataclass(frozen=True)
class Mapping:
    settings: Settings
    feedback: Feedback
    bindings: tuple[Binding, ...]
    presets: tuple[Preset, ...]
    source: str = "<mapping>"

    def preset(self, slot: int) -> Preset | None:
        return next((p for p in self.presets if p.slot == slot), None)

    def bindings_for(self, action: str, slot: int | None = None) -> list[Binding]:
        return [b for b in self.bindings if b.action == action and (slot is None or b.slot == slot)]


@dataclass(frozen=True)
class Action:
    """What a message asks for; `control` and `channel` say which pad sent it (the pad to light)."""

    kind: str
    slot: int | None = None
    generate: bool = False
    control: Control | None = field(default=None, compare=False)
    channel: int | None = field(default=None, compare=False)  # the message's channel, 0-15


# ------------------------------------------------------------------------------------------ parsing


class _Table:
    """One table of the file with its location, for validated reads that name the line."""

    def __init__(self, data: MappingABC[str, Any], name: str, index: int, lines: LineIndex, source: str):
        self.data, self.name, self.index, self.lines, self.source = data, name, index, lines, source
        self.title = (
            f"[[{name}]]" if name in ("binding", "preset") else (f"[{name}]" if name else "the top level")
        )

    @property
    def line(self) -> int | None:
        return self.lines.table(self.name, self.index)

    def error(self, key: str | None, message: str) -> MidiMapError:
        line = self.lines.key(self.name, self.index, key) if key else self.line
        if key and not self.name:  # at the top level a "key" may be a table: [setings]
            line = line or self.lines.table(key)
        line = line or self.lines.keys.get(("", 0, self.name))  # binding = [{...}] written inline
        return MidiMapError(self.source, line, message)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown key {key!r} in {self.title} (known: {', '.join(allowed)})")

    def int(self, key: str, low: int, high: int, default: Any = None, required: bool = False) -> Any:
        if key not in self.data:
            if required:
                raise self.error(None, f"{self.title} needs `{key}` (a whole number {low}-{high})")
            return default
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.error(key, f"`{key}` must be a whole number from {low} to {high}, got {value!r}")
        return value

    def number(self, key: str, low: float, high: float, default: Any = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            raise self.error(key, f"`{key}` must be a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    def text(self, key: str, default: Any = None, required: bool = False, max_chars: int = 500) -> Any:
        if key not in self.data:
            if required:
                raise self.error(None, f"{self.title} needs `{key}` (text)")
            return default
        value = self.data[key]
        if not isinstance(value, str) or len(value) > max_chars:
            raise self.error(key, f"`{key}` must be text of at most {max_chars} characters, got {value!r}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"`{key}` must be true or false, got {value!r}")
        return value

    def channel(self, key: str, default: int | None) -> int | None:
        """1..16 or "any" in the file; 0..15 or None here."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, str) and value.strip().lower() == "any":
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= CHANNELS:
            raise self.error(key, f'`{key}` must be 1 to {CHANNELS} or "any", got {value!r}')
        return value - 1


def _tables(doc: MappingABC[str, Any], name: str, lines: LineIndex, source: str) -> list[_Table]:
    value = doc.get(name, [])
    if isinstance(value, MappingABC):  # [binding] written instead of [[binding]]
        raise MidiMapError(source, lines.table(name), f"write [[{name}]] (one per {name}), not [{name}]")
    if not isinstance(value, list) or not all(isinstance(v, MappingABC) for v in value):
        raise MidiMapError(source, lines.key("", 0, name), f"`{name}` must be a list of [[{name}]] tables")
    return [_Table(v, name, i, lines, source) for i, v in enumerate(value)]


def _time_signature(table: _Table, key: str, default: Any) -> Any:
    value = table.text(key, default)
    if value is None:
        return None
    try:
        TimeSignature.parse(value)
    except LoopError as e:
        raise table.error(key, f"`{key}`: {e}") from None
    return value


def _parse_settings(t: _Table) -> Settings:
    t.check_keys(
        ("channel", "velocity", "cc_threshold", "bpm", "tempo_snap", "bars", "bars_step", "time_signature")
        + ("preset",)
    )
    d = Settings()
    step = t.data.get("bars_step", "double")
    if step != "double" and (not isinstance(step, int) or isinstance(step, bool) or not 1 <= step < MAX_BARS):
        raise t.error("bars_step", f'`bars_step` must be "double" or 1 to {MAX_BARS - 1}, got {step!r}')
    return Settings(
        channel=t.channel("channel", d.channel),
        velocity=t.int("velocity", 1, MIDI_MAX, d.velocity),
        cc_threshold=t.int("cc_threshold", 1, MIDI_MAX, d.cc_threshold),
        bpm=t.number("bpm", MIN_BPM, MAX_BPM, d.bpm),
        tempo_snap=t.number("tempo_snap", 0.0, 0.5, d.tempo_snap),
        bars=t.int("bars", MIN_BARS, MAX_BARS, d.bars),
        bars_step=None if step == "double" else step,
        time_signature=_time_signature(t, "time_signature", d.time_signature),
        preset=t.int("preset", 1, PRESET_SLOTS, d.preset),
    )


def _parse_feedback(t: _Table) -> Feedback:
    t.check_keys(("channel", "running", "done", "error", "selected", "off", "done_seconds", "flashes"))
    d = Feedback()
    return Feedback(
        channel=t.channel("channel", d.channel),
        running=t.int("running", 0, MIDI_MAX, d.running),
        done=t.int("done", 0, MIDI_MAX, d.done),
        error=t.int("error", 0, MIDI_MAX, d.error),
        selected=t.int("selected", 0, MIDI_MAX, d.selected),
        off=t.int("off", 0, MIDI_MAX, d.off),
        done_seconds=t.number("done_seconds", 0.0, 3600.0, d.done_seconds),
        flashes=t.int("flashes", 0, 20, d.flashes),
    )


def _parse_binding(t: _Table, settings: Settings) -> Binding:
    t.check_keys(("action", "note", "cc", "channel", "threshold", "slot", "generate"))
    action = t.text("action", required=True)
    if action not in ACTIONS:
        raise t.error("action", f"unknown action {action!r} (one of: {', '.join(ACTIONS)})")
    kinds = [k for k in CONTROL_KINDS if k in t.data]
    if len(kinds) != 1:
        raise t.error(
            kinds[1] if kinds else None,
            f"{t.title} needs exactly one of `note` or `cc` (the control that triggers {action!r})",
        )
    kind = kinds[0]
    number = t.int(kind, 0, MIDI_MAX)
    control = Control(kind, number, t.channel("channel", settings.channel))
    default_threshold = settings.velocity if kind == "note" else settings.cc_threshold
    threshold = t.int("threshold", 1, MIDI_MAX, default_threshold)
    if action == "preset":
        slot = t.int("slot", 1, PRESET_SLOTS, required=True)
    else:
        for key in ("slot", "generate"):
            if key in t.data:
                raise t.error(key, f'`{key}` is only for action "preset"')
        slot = None
    return Binding(action, control, threshold, slot, t.flag("generate"), line=t.line or 0)


def _parse_preset(t: _Table, settings: Settings) -> Preset:
    t.check_keys(
        ("slot", "prompt", "name", "bars", "time_signature", "temperature", "top_k", "cfg", "variations")
    )
    prompt = t.text("prompt", required=True, max_chars=MAX_PROMPT_CHARS)
    if not prompt.strip():
        raise t.error("prompt", "`prompt` is empty")
    return Preset(
        slot=t.int("slot", 1, PRESET_SLOTS, required=True),
        prompt=prompt,
        name=t.text("name", "", max_chars=40),
        bars=t.int("bars", MIN_BARS, MAX_BARS),
        time_signature=_time_signature(t, "time_signature", None),
        temperature=t.number("temperature", *TEMPERATURE_RANGE),
        top_k=t.int("top_k", *TOP_K_RANGE),
        cfg=t.number("cfg", *CFG_RANGE),
        variations=t.int("variations", 1, MAX_VARIATIONS),
        line=t.line or 0,
    )


def parse_mapping(text: str, source: str = "<mapping>") -> Mapping:
    """Parse and validate a mapping. MidiMapError names `source` and the line of the first problem; its
    `problems` hold every problem of the file (a table with a mistake is skipped, the others still checked;
    a TOML syntax error or an unknown top-level key stops at once)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _syntax_error(e, text, source) from None
    lines = LineIndex(text)
    root = _Table(doc, "", 0, lines, source)
    root.check_keys(("settings", "feedback", "binding", "preset"))
    problems: list[MidiMapError] = []

    def checked(parse: Callable[[], Any], fallback: Any = None) -> Any:
        try:
            return parse()
        except MidiMapError as e:
            problems.append(e)
            return fallback

    for name in ("settings", "feedback"):
        if name in doc and not isinstance(doc[name], MappingABC):
            problems.append(root.error(name, f"`{name}` must be a table: [{name}]"))
    table = {name: doc.get(name) if isinstance(doc.get(name), MappingABC) else {} for name in ("settings", "feedback")}
    settings = checked(
        lambda: _parse_settings(_Table(table["settings"], "settings", 0, lines, source)),
        _parse_settings(_Table({}, "settings", 0, lines, source)),
    )
    feedback = checked(
        lambda: _parse_feedback(_Table(table["feedback"], "feedback", 0, lines, source)),
        _parse_feedback(_Table({}, "feedback", 0, lines, source)),
    )

    presets: list[Preset] = []
    for t in checked(lambda: _tables(doc, "preset", lines, source), []):
        preset = checked(lambda t=t: _parse_preset(t, settings))
        if preset is None:
            continue
        twin = next((p for p in presets if p.slot == preset.slot), None)
        if twin is not None:
            problems.append(t.error("slot", f"preset slot {preset.slot} is already defined at line {twin.line}"))
            continue
        presets.append(preset)
    if not presets and not problems:
        problems.append(MidiMapError(source, None, "no [[preset]]: at least one prompt preset is needed"))
    elif presets and not any(p.slot == settings.preset for p in presets):
        problems.append(
            MidiMapError(
                source,
                lines.key("settings", 0, "preset"),
                f"settings.preset is {settings.preset} but there is no [[preset]] with slot = {settings.preset}",
            )
        )

    bindings: list[Binding] = []
    for t in checked(lambda: _tables(doc, "binding", lines, source), []):
        binding = checked(lambda t=t: _parse_binding(t, settings))
        if binding is None:
            continue
        twin = next((b for b in bindings if b.control.overlaps(binding.control)), None)
        if twin is not None:
            problems.append(
                t.error(
                    binding.control.kind,
                    f"duplicate binding: {binding.control.describe()} is already bound to "
                    f"{twin.action!r} at line {twin.line}",
                )
            )
            continue
        if binding.slot is not None and presets and not any(p.slot == binding.slot for p in presets):
            problems.append(t.error("slot", f"there is no [[preset]] with slot = {binding.slot}"))
            continue
        bindings.append(binding)
    if problems:
        problems.sort(key=lambda e: e.line or 0)  # in the file's order, as an editor shows them
        first = problems[0]
        raise MidiMapError(first.source, first.line, first.detail, tuple(problems[1:]))
    return Mapping(settings, feedback, tuple(bindings), tuple(presets), source)


_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def _syntax_error(e: Exception, text: str, source: str) -> MidiMapError:
    """tomllib says '... (at line 3, column 9)' or '... (at end of document)'."""
    message = str(e)
    m = _WHERE.search(message)
    if m:
        return MidiMapError(
            source, int(m.group(1)), f"TOML syntax: {message[: m.start()].strip()} (column {m.group(2)})"
        )
    line = max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)
    return MidiMapError(source, line, f"TOML syntax: {re.sub(r' ?[(]at end of document[)]', '', message)}")
