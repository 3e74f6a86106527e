"""The daemon's log under a flood: a per-kind line limit, client text escaped, library warnings routed.

    complain = LogLimiter(log)                     # at most 10 lines a second per kind
    complain("bad_message", "from %s: %s", addr, text)   # str arguments are escaped
    undo = route_library_warnings(complain)        # python-osc's `WARNING root:` lines go through it too

A client's strings (names, keys, paths, addresses) reach the log only escaped: a newline or an ANSI escape
in them cannot start a forged log line or recolour the terminal. python-osc logs through the root logger
(`logging.warning(...)`, one line per unknown type tag), which would bypass the limit: a filter on the root
logger hands those records to the limiter instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

LOGS_PER_SECOND = 10  # per kind of complaint, so a flood of garbage cannot flood the log
LIBRARY_KIND = "osc-library"  # the limiter's kind for python-osc's own warnings


def escape(value: Any) -> str:
    """str(value) with every non-printable character (newlines, ESC, other controls, bidi marks) written
    as a Python escape, so it stays on one log line and cannot drive the terminal."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class LogLimiter:
    """At most `rate` log lines per second per kind; says how many were swallowed. String arguments are
    escaped (they may come from a client)."""

    def __init__(self, logger: logging.Logger, rate: int = LOGS_PER_SECOND):
        self.logger = logger
        self.rate = rate
        self._window: dict[str, tuple[int, int, int]] = {}  # kind -> (second, lines, suppressed)

    def __call__(self, kind: str, msg: str, *args: Any, level: int = logging.WARNING) -> None:
        now = int(time.monotonic())
        second, lines, suppressed = self._window.get(kind, (now, 0, 0))
        if second != now:
            if suppressed:
                self.logger.log(level, "(%d more %s messages suppressed)", suppressed, kind)
            second, lines, suppressed = now, 0, 0
        if lines < self.rate:
            self.logger.log(level, msg, *(escape(a) if isinstance(a, str) else a for a in args))
            lines += 1
        else:
            suppressed += 1
        self._window[kind] = (second, lines, suppressed)


class _LibraryWarnings(logging.Filter):
    """On the root logger: records python-osc logs there go to the limiter instead of the handlers."""

    def __init__(self, complain: LogLimiter):
        super().__init__()
        self.complain = complain

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "root" or "pythonosc" not in record.pathname.replace("\\", "/"):
            return True
        try:
            text = record.getMessage()
        except Exception:  # a malformed record must not break logging
            text = str(record.msg)
        self.complain(LIBRARY_KIND, "python-osc: %s", text, level=record.levelno)
        return False


def route_library_warnings(complain: LogLimiter) -> Callable[[], None]:
    """Install the root-logger filter; returns the callable that removes it."""
    root = logging.getLogger()
    flt = _LibraryWarnings(complain)
    root.addFilter(flt)
    return lambda: root.removeFilter(flt)
