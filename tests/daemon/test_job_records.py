"""The journal under a full disk, and what a job that stops between takes leaves on record."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from bridge.audio.io import write_wav_unique
from bridge.daemon.jobs import JobQueue
from bridge.daemon.journal import Journal
from bridge.daemon.types import JobError, JobListener, Origin, Rendered, Renderer
from bridge.request import GenerationRequest

ORIGIN = Origin("127.0.0.1:9001", ("127.0.0.1", 9001), "test")


def req(seed: int = 1, **kw) -> GenerationRequest:
    return GenerationRequest(prompt="test", bpm=120, bars=1, seed=seed, **kw)


class FullDisk:
    """Stands in for the journal's SQLite connection: statements matching `fails` hit a full disk."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.fails: tuple[str, ...] = ()

    def execute(self, sql: str, params=()):
        if any(sql.startswith(prefix) for prefix in self.fails):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, params)

    def __getattr__(self, name):
        return getattr(self.db, name)


class Ends(JobListener):
    def __init__(self):
        self.ended = threading.Event()
        self.jobs = []

    def finished(self, job):
        self.jobs.append(job)
        self.ended.set()


class Takes(Renderer):
    """Writes take after take, reporting each (on_file); a cancel set after `cancel_after` takes stops it."""

    reports_files = True

    def __init__(self, takes: int = 3, cancel_after: int | None = None):
        self.takes, self.cancel_after = takes, cancel_after

    def render(self, request, out_dir, *, on_progress, on_chunk, cancel, on_file=None) -> Rendered:
        paths = []
        for i in range(self.takes):
            if cancel.is_set():
                raise JobError("cancelled", "cancelled")
            path = write_wav_unique(Path(out_dir), f"take_v{i + 1}", np.zeros((1, 320), np.float32), 32000)
            paths.append(path)
            on_file(path)
            if self.cancel_after == i + 1:
                cancel.set()
        return Rendered(tuple(paths))


@pytest.fixture
def journal(tmp_path):
    j = Journal.open(tmp_path)
    j._db = FullDisk(j._db)
    yield j
    j.close()


def test_a_full_disk_at_submit_is_an_io_error(tmp_path, journal):
    queue = JobQueue(Takes(), tmp_path, journal).start()
    journal._db.fails = ("INSERT",)
    with pytest.raises(JobError) as err:
        queue.submit(req(), ORIGIN, "r1")
    assert err.value.code == "io_error" and "disk is full" in err.value.message
    assert queue.close(5)


def test_an_end_the_journal_refused_is_written_at_a_clean_stop(tmp_path, journal):
    ends = Ends()
    queue = JobQueue(Takes(takes=1), tmp_path, journal, ends).start()
    journal._db.fails = ("UPDATE jobs SET state=?",)  # the final write only
    job = queue.submit(req(), ORIGIN, "r1").job
    assert ends.ended.wait(10) and job.state == "done"
    assert journal.get(job.job_id).state == "running"  # the disk was full when it ended
    journal._db.fails = ()  # space again (the failed write's temp file is gone, say)
    assert queue.close(5)
    rec = journal.get(job.job_id)
    assert rec.state == "done" and rec.paths == job.paths and len(rec.paths) == 1


def test_takes_written_before_a_cancel_are_listed_and_recorded(tmp_path, journal):
    ends = Ends()
    queue = JobQueue(Takes(takes=3, cancel_after=2), tmp_path, journal, ends).start()
    job = queue.submit(req(), ORIGIN, "r1").job
    assert ends.ended.wait(10) and job.state == "cancelled"
    written = sorted(str(p) for p in tmp_path.glob("take_v*.wav"))
    assert len(written) == 2 and sorted(job.paths) == written
    assert sorted(journal.get(job.job_id).paths) == written
    assert queue.close(5)


def test_takes_are_in_the_journal_while_the_job_still_runs(tmp_path, journal):
    """A SIGKILL between takes: the row says interrupted at the next start, with the complete takes."""
    gate, seen = threading.Event(), threading.Event()

    class Stuck(Takes):
        def render(self, request, out_dir, *, on_progress, on_chunk, cancel, on_file=None):
            path = write_wav_unique(Path(out_dir), "take_v1", np.zeros((1, 320), np.float32), 32000)
            on_file(path)
            seen.set()
            gate.wait(10)
            raise JobError("cancelled", "cancelled")

    queue = JobQueue(Stuck(), tmp_path, journal).start()
    job = queue.submit(req(), ORIGIN, "r1").job
    assert seen.wait(10)
    assert journal.get(job.job_id).paths == (str(tmp_path / "take_v1.wav"),)
    (rec,) = Journal(journal.path).mark_interrupted()  # what the next daemon does at start
    assert rec.paths == (str(tmp_path / "take_v1.wav"),)
    gate.set()
    assert queue.close(5)
