"""What the panel knows about one finished loop, from the daemon's history, its file name and its metadata.

    entry = ResultEntry.from_path("/out/dub-techno_124bpm_8bars_s7_v2.wav", prompt="dub techno")
    entry.describe()  -> "124 bpm · 8 bars · seed 7 · take 2"
    entry.update_from_metadata({"title": "dub techno", "comment": "bpm=124 bars=8 time_signature=4/4 ..."})

Pure data and parsing: no Qt, no numpy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bridge.names import DISPLAY_BPM_DECIMALS, format_bpm, parse_stem


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

    def describe(self) -> str:
        parts = []
        if self.bpm is not None:
            parts.append(f"{format_bpm(self.bpm, DISPLAY_BPM_DECIMALS)} bpm")
        if self.bars is not None:
            parts.append(f"{self.bars} bar" + ("s" if self.bars != 1 else ""))
        if self.time_signature:
            parts.append(self.time_signature)
        if self.take is not None:
            parts.append(f"take {self.take}")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.duration:
            parts.append(f"{self.duration:.1f} s")
        return " · ".join(parts)


def entries_from_history(history: Iterable, include_states: tuple[str, ...] = ("done",)) -> list[ResultEntry]:
    """ResultEntry per file of the jobs in a history answer (newest first), finished jobs only."""
    entries = []
    for job in history:
        if job.state not in include_states:
            continue
        for path in job.paths:
            entries.append(ResultEntry.from_path(path, prompt=job.prompt, created=job.created, job=job.job))
    return entries
