"""The results as a producer's library: favourites, hidden loops, a search over prompt, bpm and bars, and
"again like this" (a loop's prompt, tempo, length and seed back into the form).

    marks = Marks.load(settings)                  # favourites and hidden loops, by file path
    query = Query(text="dub", bpm="120-126", bars="4")
    shown = matches(entry, query, marks)          # False: the row is filtered out (never deleted)
    values = recalled(form.values(), entry)       # the form's values with this loop's prompt, bpm, bars, seed

Hiding a loop only takes it off the list (its file stays where it is; "Show hidden" lists it again).
Pure data: no widgets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from PyQt6.QtCore import QSettings

from gui.form import FormValues
from gui.results import ResultEntry

SETTINGS_GROUP = "library"
BPM_TOLERANCE = 0.5  # a typed tempo matches loops within half a bpm of it ("120" finds 119.8)


@dataclass
class Marks:
    """Favourites and hidden loops, kept by file path in the panel's settings."""

    favourites: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, settings: QSettings) -> Marks:
        def paths(key: str) -> set[str]:
            value = settings.value(f"{SETTINGS_GROUP}/{key}", []) or []
            return {str(v) for v in ([value] if isinstance(value, str) else value)}

        return cls(paths("favourites"), paths("hidden"))

    def save(self, settings: QSettings) -> None:
        settings.setValue(f"{SETTINGS_GROUP}/favourites", sorted(self.favourites))
        settings.setValue(f"{SETTINGS_GROUP}/hidden", sorted(self.hidden))

    def toggle(self, kind: str, path: str) -> bool:
        """Flip `path` in favourites or hidden; returns whether it is marked now."""
        marked = self.favourites if kind == "favourite" else self.hidden
        if path in marked:
            marked.discard(path)
            return False
        marked.add(path)
        return True


def parse_span(text: str) -> tuple[float, float] | None:
    """'120' -> (120, 120), '118-124' or '118..124' -> (118, 124); None for '' (any). ValueError for text
    that is not a number or a range."""
    text = text.strip().replace("..", "-").replace("–", "-")
    if not text:
        return None
    low, sep, high = text.partition("-")
    if not sep:
        value = float(low)
        return value, value
    a, b = float(low), float(high)
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Query:
    """What the filter bar asks for: words of the prompt (all must appear), a bpm and a bars span."""

    text: str = ""
    bpm: str = ""
    bars: str = ""
    favourites_only: bool = False
    show_hidden: bool = False

    @property
    def active(self) -> bool:
        return bool(self.text.strip() or self.bpm.strip() or self.bars.strip() or self.favourites_only)


def _in_span(value: float | None, span: tuple[float, float] | None, tolerance: float) -> bool:
    if span is None:
        return True
    return value is not None and span[0] - tolerance <= value <= span[1] + tolerance


def matches(entry: ResultEntry, query: Query, marks: Marks) -> bool:
    """Whether the row of `entry` is shown. An unreadable bpm or bars span filters nothing by it."""
    if entry.path in marks.hidden and not query.show_hidden:
        return False
    if query.favourites_only and entry.path not in marks.favourites:
        return False
    haystack = f"{entry.prompt} {entry.name}".lower()
    if any(word not in haystack for word in query.text.lower().split()):
        return False
    try:
        bpm = parse_span(query.bpm)
    except ValueError:
        bpm = None
    try:
        bars = parse_span(query.bars)
    except ValueError:
        bars = None
    return _in_span(entry.bpm, bpm, BPM_TOLERANCE) and _in_span(
        float(entry.bars) if entry.bars is not None else None, bars, 0.0
    )


def recalled(current: FormValues, entry: ResultEntry) -> FormValues:
    """The form's values with `entry`'s prompt, bpm, bars, time signature and seed (locked, so the next
    Generate uses it: same seed and settings make the same loop). What the loop does not tell is kept."""
    request = entry.request or {}
    changes: dict = {"prompt": entry.prompt or current.prompt}
    if entry.bpm is not None:
        changes["bpm"] = float(entry.bpm)
    if entry.bars is not None:
        changes["bars"] = int(entry.bars)
    time_signature = entry.time_signature or str(request.get("time_signature", ""))
    if time_signature:
        changes["time_signature"] = time_signature
    if entry.seed is not None:
        changes["seed"], changes["seed_locked"] = int(entry.seed), True
    known = {f.name for f in dataclasses.fields(FormValues)}
    for key in ("temperature", "top_k", "top_p", "cfg", "grid", "grid_shift"):  # when the panel sent it
        if key in request and key in known:
            changes[key] = type(getattr(current, key))(request[key])
    return dataclasses.replace(current, **{k: v for k, v in changes.items() if k in known})
