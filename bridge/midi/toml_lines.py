"""Where each table and key starts and ends in a TOML text, by line number.

tomllib gives values without positions; this light scan (enough for the mapping's schema) gives them
back, so parse errors name the line (`bridge.midi.mapping`) and MIDI learn can replace one [[binding]]
block in place, comments kept (`bridge.midi.learn`).
"""

from __future__ import annotations

import re

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*(?:\.[^=]*)?=""")


class LineIndex:
    """Where each table and key is in the source text (a light scan, enough for this schema):
    ("binding", 2) is the third [[binding]]; ("settings", 0) the [settings] table; ("", 0) the root."""

    def __init__(self, text: str):
        self.tables: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        self.ends: dict[tuple[str, int], int] = {}  # last line of a table's own content
        counts: dict[str, int] = {}
        current: tuple[str, int] = ("", 0)
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:  # inside a multi-line string
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            m = _ARRAY_HEADER.match(line)
            if m:
                name = m.group(1)
                current = (name, counts.get(name, 0))
                counts[name] = current[1] + 1
                self.tables[current] = self.ends[current] = number
                continue
            m = _TABLE_HEADER.match(line)
            if m:
                current = (m.group(1), 0)
                self.tables.setdefault(current, number)
                self.ends[current] = number
                continue
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                self.ends[current] = number
            m = _KEY.match(line)
            if m:
                self.keys.setdefault((*current, m.group(1).strip("\"'")), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
                    break

    def table(self, name: str, index: int = 0) -> int | None:
        return self.tables.get((name, index))

    def key(self, name: str, index: int, key: str) -> int | None:
        return self.keys.get((name, index, key)) or self.tables.get((name, index))
