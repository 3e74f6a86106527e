"""What the panel knows about one finished loop, from the daemon's history, its file name and its metadata.

    entry = ResultEntry.from_path("/out/dub-techno_124bpm_8bars_s7_v2.wav", prompt="dub techno")
    entry.describe()  -> "124 bpm · 8 bars · seed 7 · take 2"
    entry.update_from_metadata({"title": "dub techno", "comment": "bpm=124 bars=8 time_signature=4/4 ..."})
    entry.set_grid(GridReport(take=2, status="on_grid", message="on grid (played 121.7 bpm)", ...))
    nudge_blocked(entry)       -> "" when the bar line can be moved, else why not
    nudged_request(entry, 1.0) -> the same generate keys, the bar line one beat later

A loop's grid fit comes from the daemon's `grid` reply (its message is shown as it is) or, for a file
read back from disk, from the `grid=` and `played_bpm=` words of its comment. Nudging regenerates the
loop from the request that made it (same seed, same keys: the same audio), with only `grid_shift`
changed, so it needs the request: the panel knows it for the jobs it sent itself.

Pure data and parsing: no Qt, no numpy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.names import DISPLAY_BPM_DECIMALS, format_bpm, parse_stem

DEFAULT_BEATS_PER_BAR = 4  # for half a bar when a time signature cannot be read
# a file's `grid=` status => what its row says (the daemon's own message wins when the panel heard it)
GRID_TEXTS = {
    "on_grid": "on grid",
    "beatless": "beatless: kept the generated timing",
    "off": "grid off: kept the generated timing",
    "too_far": "too far off the tempo",
}
NO_BAR_LINE = {  # grid statuses whose takes were cut as generated: a nudge would move nothing
    "beatless": "No beat was found in this take, so it has no bar line to move.",
    "off": "This take was cut as generated (grid off), so it has no bar line to move.",
}
UNKNOWN_REQUEST = (
    "The panel does not know the request that made this loop (it was not sent from this panel "
    "since it started), so it cannot make the same loop again."
)


@dataclass(frozen=True)
class GridReport:
    """One take's `grid` reply: how it was fitted onto the song's bars."""

    take: int
    status: str  # on_grid, beatless, off or too_far
    message: str  # one line for the user, e.g. "on grid (played 121.7 bpm)"
    played_bpm: float | None = None  # None: not measured
    ratio: float = 1.0  # played / song tempo
    downbeat: float | None = None  # seconds into the generated take where the bar line was found
    confidence: float = 0.0  # 0..1


def grid_text(status: str, played_bpm: float | None = None) -> str:
    """A file's grid fit from its comment: 'on grid (played 121.7 bpm)'; '' for no or unknown status."""
    text = GRID_TEXTS.get(status, "")
    if text and played_bpm is not None and status in ("on_grid", "too_far"):
        text += f" (played {played_bpm:.1f} bpm)"
    return text


def half_bar_beats(time_signature: str) -> float:
    """Half a bar in the meter's beats (the unit of grid_shift): 2 in 4/4, 3 in 6/8, 3.5 in 7/8."""
    try:
        beats = int(time_signature.split("/", 1)[0])
    except ValueError:
        beats = DEFAULT_BEATS_PER_BAR
    return (beats if beats > 0 else DEFAULT_BEATS_PER_BAR) / 2


def parse_comment(comment: str) -> dict[str, str]:
    """'bpm=124 bars=8 time_signature=4/4 seed=7 model=debug take=2' -> {'bpm': '124', ...}."""
    pairs = {}
    for word in (comment or "").split():
        key, sep, value = word.partition("=")
        if sep and key:
            pairs[key] = value
    return pairs


@dataclass
class ResultEntry:
    path: str
    prompt: str = ""
    bpm: float | None = None
    bars: int | None = None
    time_signature: str = ""
    seed: int | None = None
    take: int | None = None
    model: str = ""
    created: str = ""  # ISO 8601, local time
    job: str = ""
    duration: float = 0.0  # seconds, once the file was read
    grid_status: str = ""  # how the take was fitted onto the grid ('' = not known)
    grid_text: str = ""  # e.g. "on grid (played 121.7 bpm)"
    request: dict[str, Any] | None = None  # the generate keys that made it, when this panel sent them

    @classmethod
    def from_path(cls, path: str, prompt: str = "", created: str = "", job: str = "") -> ResultEntry:
        info = parse_stem(path)
        entry = cls(path=str(path), prompt=prompt, created=created, job=job)
        entry.bpm = info.get("bpm")  # type: ignore[assignment]
        entry.bars = info.get("bars")  # type: ignore[assignment]
        entry.seed = info.get("seed")  # type: ignore[assignment]
        entry.take = info.get("take")  # type: ignore[assignment]
        if not entry.prompt and info.get("slug"):
            entry.prompt = str(info["slug"]).replace("-", " ")
        return entry

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def update_from_metadata(self, metadata: Mapping[str, str]) -> None:
        """The file's own tags win over what the file name says (the name's prompt is a slug)."""
        title = metadata.get("title", "")
        if title:
            self.prompt = title
        pairs = parse_comment(metadata.get("comment", ""))
        try:
            if "bpm" in pairs:
                self.bpm = float(pairs["bpm"])
            if "bars" in pairs:
                self.bars = int(pairs["bars"])
            if "seed" in pairs:
                self.seed = int(pairs["seed"])
            if "take" in pairs:
                self.take = int(pairs["take"])
        except ValueError:
            pass
        self.time_signature = pairs.get("time_signature", self.time_signature)
        self.model = pairs.get("model", self.model)
        if not self.grid_status and pairs.get("grid"):  # the daemon's grid reply, when heard, wins
            try:
                played = float(pairs["played_bpm"]) if "played_bpm" in pairs else None
            except ValueError:
                played = None
            self.grid_status, self.grid_text = pairs["grid"], grid_text(pairs["grid"], played)

    def set_grid(self, report: GridReport) -> None:
        self.grid_status = report.status
        self.grid_text = report.message or grid_text(report.status, report.played_bpm)

    def describe(self, with_seed: bool = True) -> str:
        parts = []
        if self.bpm is not None:
            parts.append(f"{format_bpm(self.bpm, DISPLAY_BPM_DECIMALS)} bpm")
        if self.bars is not None:
            parts.append(f"{self.bars} bar" + ("s" if self.bars != 1 else ""))
        if self.time_signature:
            parts.append(self.time_signature)
        if self.take is not None:
            parts.append(f"take {self.take}")
        if self.seed is not None and with_seed:
            parts.append(f"seed {self.seed}")
        if self.duration:
            parts.append(f"{self.duration:.1f} s")
        return " · ".join(parts)


def nudge_blocked(entry: ResultEntry) -> str:
    """Why the bar line of this loop cannot be nudged; '' when it can."""
    if entry.request is None:
        return UNKNOWN_REQUEST
    return NO_BAR_LINE.get(entry.grid_status, "")


def nudged_request(entry: ResultEntry, beats: float) -> dict[str, Any]:
    """The generate keys that made `entry`, with the bar line moved `beats` further (ValueError if the
    panel does not know them)."""
    if entry.request is None:
        raise ValueError(UNKNOWN_REQUEST)
    params = dict(entry.request)
    params["grid_shift"] = round(float(params.get("grid_shift", 0.0)) + float(beats), 6)
    return params


def entries_from_history(history: Iterable, include_states: tuple[str, ...] = ("done",)) -> list[ResultEntry]:
    """ResultEntry per file of the jobs in a history answer (newest first), finished jobs only."""
    entries = []
    for job in history:
        if job.state not in include_states:
            continue
        for path in job.paths:
            entries.append(ResultEntry.from_path(path, prompt=job.prompt, created=job.created, job=job.job))
    return entries
