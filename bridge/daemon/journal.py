"""Durable job journal: one SQLite row per job, beside the outputs (standard library, and the job states
from `bridge.protocol`).

Every job's request, state (queued, running, done, failed, cancelled, interrupted), output paths,
timings and error survive a crash: the database runs in WAL mode with synchronous=FULL, and each
change is its own committed transaction. One connection, guarded by a lock, is shared by the OSC
thread and the GPU worker. On open, jobs left `queued` or `running` by a daemon that died are marked
`interrupted` (`Journal.open(...).recovered` lists them). Rows of jobs that ended without a file
(cancelled, failed, interrupted) are deleted by `prune` once they are old (`bridge.daemon.retention`);
rows that list files are kept, like the files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.protocol import ACTIVE_STATES, FINAL_STATES

log = logging.getLogger(__name__)

JOURNAL_NAME = ".musicgen-journal.sqlite3"
SCHEMA_VERSION = 1
PRUNED_STATES = ("cancelled", "failed", "interrupted")  # rows `prune` may delete (if they list no files)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT NOT NULL UNIQUE,
    request_id  TEXT NOT NULL,
    client      TEXT NOT NULL,
    request     TEXT NOT NULL,           -- JSON: GenerationRequest.to_dict()
    fingerprint TEXT NOT NULL DEFAULT '',-- what the client sent, to recognise a retransmission
    state       TEXT NOT NULL,
    paths       TEXT NOT NULL DEFAULT '[]',
    error_code  TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created     REAL NOT NULL,           -- unix seconds
    started     REAL,
    finished    REAL,
    timings     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS jobs_client_request ON jobs (client, request_id);
"""


class JournalError(RuntimeError):
    """The journal cannot be opened or written. `code` is the protocol error code for the client:
    io_error when SQLite could not read or write the file (disk full, read-only, I/O error)."""

    def __init__(self, message: str, *, io: bool = False):
        super().__init__(message)
        self.code = "io_error" if io else "internal"


def _error(path: Path, e: sqlite3.Error) -> JournalError:
    return JournalError(f"journal {path}: {e}", io=isinstance(e, sqlite3.OperationalError))


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    request_id: str
    client: str
    request: Mapping[str, Any]
    state: str
    paths: tuple[str, ...] = ()
    error_code: str = ""
    error: str = ""
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def prompt(self) -> str:
        return str(self.request.get("prompt", ""))


class Journal:
    """Thread-safe; every method is one committed transaction."""

    def __init__(self, path: Path, *, synchronous: str = "FULL"):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.recovered: list[JobRecord] = []
        try:
            self._db = sqlite3.connect(
                str(self.path), timeout=10.0, check_same_thread=False, isolation_level=None
            )
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("journal %s: WAL mode unavailable here (got %s)", self.path, mode)
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"{self.path} was written by a newer musicgen-bridge (schema {version}); upgrade"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as e:
            raise JournalError(f"cannot open the job journal {self.path}: {e}", io=True) from e

    @classmethod
    def open(cls, out_dir: Path, **kwargs: Any) -> Journal:
        """Open (or create) the journal in `out_dir` and mark jobs a dead daemon left unfinished."""
        journal = cls(Path(out_dir) / JOURNAL_NAME, **kwargs)
        journal.recovered = journal.mark_interrupted()
        for rec in journal.recovered:
            log.warning(
                "job %s (%s) was %s when the daemon stopped: now interrupted",
                rec.job_id,
                rec.request_id,
                rec.state,
            )
        return journal

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    # ------------------------------------------------------------------ writes

    def _write(self, sql: str, params: Sequence[Any]) -> int:
        with self._lock:
            try:
                cur = self._db.execute(sql, params)
                return cur.rowcount
            except sqlite3.Error as e:
                raise _error(self.path, e) from e

    def add(
        self,
        job_id: str,
        request_id: str,
        client: str,
        request: Mapping[str, Any],
        *,
        fingerprint: str = "",
        created: float | None = None,
    ) -> None:
        self._write(
            "INSERT INTO jobs (job_id, request_id, client, request, fingerprint, state, created) "
            "VALUES (?, ?, ?, ?, ?, 'queued', ?)",
            (
                job_id,
                request_id,
                client,
                json.dumps(dict(request), default=str),
                fingerprint,
                time.time() if created is None else created,
            ),
        )

    def mark_running(self, job_id: str, started: float | None = None) -> None:
        self._write(
            "UPDATE jobs SET state='running', started=? WHERE job_id=?",
            (time.time() if started is None else started, job_id),
        )

    def finish(
        self,
        job_id: str,
        state: str,
        *,
        paths: Sequence[str] = (),
        error_code: str = "",
        error: str = "",
        timings: Mapping[str, float] | None = None,
        finished: float | None = None,
    ) -> None:
        if state not in FINAL_STATES:
            raise ValueError(f"not a final state: {state!r}")
        self._write(
            "UPDATE jobs SET state=?, paths=?, error_code=?, error=?, timings=?, finished=? WHERE job_id=?",
            (
                state,
                json.dumps([str(p) for p in paths]),
                error_code,
                error,
                json.dumps(dict(timings or {})),
                time.time() if finished is None else finished,
                job_id,
            ),
        )

    def add_path(self, job_id: str, path: str) -> None:
        """A file the job has published (a complete take), recorded at once: a job that never finishes
        (killed, interrupted, cancelled between takes) still lists what it wrote."""
        with self._lock:
            try:
                row = self._db.execute("SELECT paths FROM jobs WHERE job_id=?", (job_id,)).fetchone()
                if row is None:
                    return
                paths = [*_loads(row[0], []), str(path)]
                self._db.execute("UPDATE jobs SET paths=? WHERE job_id=?", (json.dumps(paths), job_id))
            except sqlite3.Error as e:
                raise _error(self.path, e) from e

    def prune(self, before: float, states: Sequence[str] = PRUNED_STATES) -> int:
        """Delete the rows of jobs in `states` that finished before `before` and list no files; the
        freed pages are reused (and given back to the disk by `compact`). Returns the rows deleted."""
        marks = ", ".join("?" * len(states))
        return self._write(
            f"DELETE FROM jobs WHERE state IN ({marks}) AND finished IS NOT NULL AND finished < ? "
            "AND paths = '[]'",
            (*states, before),
        )

    def compact(self) -> None:
        """Give the pages of deleted rows back to the disk: VACUUM, then truncate the WAL."""
        with self._lock:
            try:
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as e:
                raise _error(self.path, e) from e

    def mark_interrupted(self) -> list[JobRecord]:
        """Jobs still queued or running (their daemon died): mark them interrupted, return them as they were."""
        with self._lock:
            try:
                rows = self._db.execute(
                    f"{_SELECT} WHERE state IN ({', '.join('?' * len(ACTIVE_STATES))}) ORDER BY seq",
                    ACTIVE_STATES,
                ).fetchall()
                now = time.time()
                for row in rows:
                    was = row[_COLUMNS.index("state")]
                    self._db.execute(
                        "UPDATE jobs SET state='interrupted', error_code='interrupted', error=?, finished=? "
                        "WHERE job_id=?",
                        (
                            f"the daemon stopped while this job was {was}; send it again with a new id",
                            now,
                            row[_COLUMNS.index("job_id")],
                        ),
                    )
            except sqlite3.Error as e:
                raise _error(self.path, e) from e
        return [_record(row) for row in rows]

    # ------------------------------------------------------------------ reads

    def _read(self, sql: str, params: Sequence[Any]) -> list[JobRecord]:
        with self._lock:
            try:
                return [_record(row) for row in self._db.execute(sql, params).fetchall()]
            except sqlite3.Error as e:
                raise _error(self.path, e) from e

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._read(f"{_SELECT} WHERE job_id=?", (job_id,))
        return rows[0] if rows else None

    def find(self, client: str, request_id: str, since: float = 0.0) -> JobRecord | None:
        """The newest job this client sent under `request_id` at or after `since`."""
        rows = self._read(
            f"{_SELECT} WHERE client=? AND request_id=? AND created>=? ORDER BY seq DESC LIMIT 1",
            (client, request_id, since),
        )
        return rows[0] if rows else None

    def recent(self, limit: int = 20, offset: int = 0) -> list[JobRecord]:
        """Newest first."""
        return self._read(f"{_SELECT} ORDER BY seq DESC LIMIT ? OFFSET ?", (int(limit), int(offset)))

    def count(self, state: str | None = None) -> int:
        with self._lock:
            if state is None:
                return self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            return self._db.execute("SELECT COUNT(*) FROM jobs WHERE state=?", (state,)).fetchone()[0]


_COLUMNS = (
    "seq",
    "job_id",
    "request_id",
    "client",
    "request",
    "fingerprint",
    "state",
    "paths",
    "error_code",
    "error",
    "created",
    "started",
    "finished",
    "timings",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM jobs"


def _loads(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _record(row: Sequence[Any]) -> JobRecord:
    r = dict(zip(_COLUMNS, row, strict=True))
    return JobRecord(
        job_id=r["job_id"],
        request_id=r["request_id"],
        client=r["client"],
        request=_loads(r["request"], {}),
        state=r["state"],
        paths=tuple(_loads(r["paths"], [])),
        error_code=r["error_code"],
        error=r["error"],
        created=r["created"],
        started=r["started"],
        finished=r["finished"],
        timings=_loads(r["timings"], {}),
        fingerprint=r["fingerprint"],
    )
