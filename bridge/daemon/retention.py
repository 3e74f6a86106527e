"""What the daemon deletes, and when: its own leftovers only, never a finished loop.

    at start:  stale temp files (`.NAME.XXXXXXXX.part`, older than STALE_TEMP_SECONDS) in <out> and
               <out>/.jobs/*; preview folders of jobs that ended CHUNK_KEEP_SECONDS ago; journal rows of
               jobs that ended without a file JOURNAL_KEEP_DAYS ago, then the journal is compacted
    every SWEEP_SECONDS (from the worker, between jobs): the same for preview folders and rows

Finished loops in <out> are the user's: they are never touched. Preview chunks (<out>/.jobs/<job_id>/)
are only for listening while a job runs. Runs on the worker thread, never on the OSC thread.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bridge.daemon.journal import Journal, JournalError
from bridge.limits import (
    CHUNK_KEEP_SECONDS,
    JOURNAL_KEEP_DAYS,
    RETENTION_SWEEP_SECONDS,
    STALE_TEMP_SECONDS,
)

log = logging.getLogger(__name__)

JOBS_FOLDER = ".jobs"  # <out>/.jobs/<job_id>/chunk-0000.wav: streamed previews, one folder per job
# bridge.audio.io's temp names: "." + final name + "." + 8 hex digits + ".part"; nothing else is ours.
TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")
# bridge.daemon.jobs' job ids: YYYYmmdd-HHMMSS-xxxxxx; other folders under .jobs are left alone.
JOB_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


@dataclass
class Sweep:
    """What one pass deleted (for the log and the tests)."""

    temp_files: list[Path] = field(default_factory=list)
    chunk_dirs: list[Path] = field(default_factory=list)
    rows: int = 0

    def __bool__(self) -> bool:
        return bool(self.temp_files or self.chunk_dirs or self.rows)


@dataclass
class Retention:
    out_dir: Path
    journal: Journal
    chunk_keep_seconds: float = CHUNK_KEEP_SECONDS
    row_keep_seconds: float = JOURNAL_KEEP_DAYS * 86400.0
    temp_keep_seconds: float = STALE_TEMP_SECONDS
    sweep_seconds: float = RETENTION_SWEEP_SECONDS
    clock: Callable[[], float] = time.time
    _last: float | None = None

    @property
    def jobs_dir(self) -> Path:
        return Path(self.out_dir) / JOBS_FOLDER

    def at_start(self) -> Sweep:
        """Before the first job: temp files a crash left, old previews and rows; compact the journal."""
        done = Sweep()
        self._sweep(set(), done)  # old preview folders first: removing a temp file touches its folder
        done.temp_files = self._stale_temps()
        if done.rows:
            try:
                self.journal.compact()
            except JournalError as e:
                log.warning("%s", e)
        self._report("at start", done)
        return done

    def sweep_if_due(self, active: Iterable[str]) -> Sweep:
        """`sweep` if SWEEP_SECONDS have passed since the last one (the first call only starts the clock
        when `at_start` has not run)."""
        now = self.clock()
        if self._last is not None and now - self._last < self.sweep_seconds:
            return Sweep()
        if self._last is None:
            self._last = now
            return Sweep()
        return self.sweep(active)

    def sweep(self, active: Iterable[str] = ()) -> Sweep:
        done = Sweep()
        self._sweep(set(active), done)
        self._report("", done)
        return done

    # ------------------------------------------------------------------ the passes

    def _sweep(self, active: set[str], done: Sweep) -> None:
        now = self._last = self.clock()
        done.chunk_dirs = self._old_chunk_dirs(active, now)
        try:
            done.rows = self.journal.prune(now - self.row_keep_seconds)
        except JournalError as e:
            log.warning("%s", e)

    def _old_chunk_dirs(self, active: set[str], now: float) -> list[Path]:
        """Preview folders of jobs that ended chunk_keep_seconds ago (or whose files are that old)."""
        removed = []
        for folder in _listdir(self.jobs_dir):
            if not JOB_ID.match(folder.name) or folder.name in active or not folder.is_dir():
                continue
            if now - self._ended(folder) < self.chunk_keep_seconds:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
        return removed

    def _ended(self, folder: Path) -> float:
        """When the folder's job ended: the journal's time, else the newest file in it."""
        with contextlib.suppress(JournalError):
            rec = self.journal.get(folder.name)
            if rec is not None and rec.finished is not None:
                return rec.finished
        times = [p.stat().st_mtime for p in _listdir(folder)]
        return max([folder.stat().st_mtime, *times])

    def _stale_temps(self) -> list[Path]:
        """Our temp files (the exact naming pattern) not touched for temp_keep_seconds: a crash's
        leftovers. A younger one may be a `musicgen-bridge generate` writing into the same folder."""
        removed, now = [], self.clock()
        folders = [Path(self.out_dir), *(p for p in _listdir(self.jobs_dir) if p.is_dir())]
        for folder in folders:
            for path in _listdir(folder):
                if not TEMP_NAME.match(path.name):
                    continue
                try:
                    st = path.lstat()  # a symlink is not ours: never followed, never deleted
                    if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < self.temp_keep_seconds:
                        continue
                    path.unlink()
                except OSError:
                    continue
                removed.append(path)
        return removed

    def _report(self, when: str, done: Sweep) -> None:
        if done:
            log.info(
                "retention%s: removed %d temp file(s), %d preview folder(s), %d journal row(s)",
                f" {when}" if when else "",
                len(done.temp_files),
                len(done.chunk_dirs),
                done.rows,
            )


def _listdir(folder: Path) -> list[Path]:
    try:
        return list(Path(folder).iterdir())
    except OSError:
        return []
