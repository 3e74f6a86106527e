"""The SQLite job journal: WAL, round trips, recovery after a crash, thread safety."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bridge.daemon.journal import JOURNAL_NAME, Journal, JournalError
from bridge.protocol import ACTIVE_STATES, FINAL_STATES, JOB_STATES


def test_a_job_round_trips_through_its_states(tmp_path):
    j = Journal.open(tmp_path)
    j.add("j1", "r1", "127.0.0.1:9001", {"prompt": "dub", "bpm": 120}, fingerprint="fp", created=100.0)
    assert j.get("j1").state == "queued"
    j.mark_running("j1", started=101.0)
    assert j.get("j1").state == "running"
    j.finish("j1", "done", paths=["/o/a.wav", "/o/b.wav"], timings={"generate_s": 1.5}, finished=103.0)
    rec = j.get("j1")
    assert (rec.state, rec.paths, rec.timings, rec.prompt) == (
        "done",
        ("/o/a.wav", "/o/b.wav"),
        {"generate_s": 1.5},
        "dub",
    )
    assert (rec.created, rec.started, rec.finished, rec.fingerprint) == (100.0, 101.0, 103.0, "fp")
    with pytest.raises(ValueError):
        j.finish("j1", "running")
    j.close()


def test_wal_mode_and_the_file_lives_beside_the_outputs(tmp_path):
    Journal.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / JOURNAL_NAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_recent_is_newest_first_and_find_respects_the_window(tmp_path):
    j = Journal.open(tmp_path)
    for i in range(5):
        j.add(f"j{i}", "same", "c", {"prompt": str(i)}, created=float(i))
    assert [r.job_id for r in j.recent(3)] == ["j4", "j3", "j2"]
    assert [r.job_id for r in j.recent(3, offset=3)] == ["j1", "j0"]
    assert j.find("c", "same").job_id == "j4"
    assert j.find("c", "same", since=10.0) is None and j.find("other", "same") is None
    j.close()


def test_unfinished_jobs_become_interrupted_on_reopen(tmp_path):
    j = Journal.open(tmp_path)
    j.add("done", "r0", "c", {})
    j.finish("done", "done", paths=["/o/x.wav"])
    j.add("run", "r1", "c", {})
    j.mark_running("run")
    j.add("wait", "r2", "c", {})
    # no close(): as if the daemon was killed
    j2 = Journal.open(tmp_path)
    assert sorted((r.job_id, r.state) for r in j2.recovered) == [("run", "running"), ("wait", "queued")]
    states = {r.job_id: (r.state, r.error_code) for r in j2.recent()}
    assert states == {
        "done": ("done", ""),
        "run": ("interrupted", "interrupted"),
        "wait": ("interrupted", "interrupted"),
    }
    assert j2.get("done").paths == ("/o/x.wav",)
    assert "running" in j2.get("run").error
    j2.close()
    j.close()


def test_concurrent_writers_are_serialised(tmp_path):
    j = Journal.open(tmp_path, synchronous="NORMAL")

    def write(t: int) -> None:
        for i in range(50):
            j.add(f"{t}-{i}", f"r{i}", f"c{t}", {"i": i})
            j.mark_running(f"{t}-{i}")
            j.finish(f"{t}-{i}", "done")

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert j.count() == 200 and j.count("done") == 200
    j.close()


def test_unusable_journals_are_refused_clearly(tmp_path):
    (tmp_path / JOURNAL_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="journal"):
        Journal.open(tmp_path)
    newer = tmp_path / "newer"
    newer.mkdir()
    db = sqlite3.connect(newer / JOURNAL_NAME)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(JournalError, match="newer"):
        Journal.open(newer)


def test_job_states_are_the_protocols():
    """Active then final, in the protocol's order: the journal, the queue and the panel read these."""
    assert ACTIVE_STATES == ("queued", "running")
    assert ACTIVE_STATES + FINAL_STATES == JOB_STATES and not set(ACTIVE_STATES) & set(FINAL_STATES)
