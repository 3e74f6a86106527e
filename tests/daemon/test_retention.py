"""Retention: preview chunks and the journal rows of jobs that left nothing go when they are old, stale
temp files go at start, finished loops (and anything not ours) stay."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from osc_client import FakeRenderer

from bridge import limits
from bridge.daemon.jobs import JobQueue
from bridge.daemon.journal import JOURNAL_NAME, Journal
from bridge.daemon.retention import JOBS_FOLDER, Retention
from bridge.daemon.types import JobListener, Origin
from bridge.request import GenerationRequest

ORIGIN = Origin("127.0.0.1:9001", ("127.0.0.1", 9001), "test")


def req(seed: int) -> GenerationRequest:
    return GenerationRequest(prompt="keep me", bpm=120, bars=1, seed=seed)


class Ends(JobListener):
    def __init__(self):
        self.done: dict[str, str] = {}
        self.cond = threading.Condition()

    def finished(self, job):
        with self.cond:
            self.done[job.request_id] = job.state
            self.cond.notify_all()

    def wait(self, n: int, timeout: float = 20.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.done) >= n, timeout), self.done


def _wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "retention did not run"
        time.sleep(0.02)


def test_defaults_are_documented_in_limits():
    r = Retention(Path("."), journal=None)  # type: ignore[arg-type]
    assert r.chunk_keep_seconds == limits.CHUNK_KEEP_SECONDS == 600.0
    assert r.row_keep_seconds == limits.JOURNAL_KEEP_DAYS * 86400 and limits.JOURNAL_KEEP_DAYS == 7


def test_chunks_and_rows_go_when_old_finished_loops_stay(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    journal = Journal.open(out)
    ends = Ends()
    renderer = FakeRenderer(steps=3, chunks=2)
    queue = JobQueue(renderer, out, journal, ends)
    now = [time.time()]
    queue.retention.clock = lambda: now[0]
    queue.retention.sweep_seconds = 0.05  # the idle worker wakes up this often (real seconds)
    queue.start()
    for i in range(3):
        queue.submit(req(i), ORIGIN, f"done-{i}")
    ends.wait(3)
    renderer.steps, renderer.step_seconds = 200, 0.01  # slow, so the next ones can be cancelled queued
    running = queue.submit(req(10), ORIGIN, "busy").job
    cancelled = [queue.submit(req(11 + i), ORIGIN, f"cancel-{i}").job for i in range(4)]
    for job in cancelled:
        assert queue.cancel(job)
    queue.cancel(running)
    ends.wait(8)
    loops = sorted(p for p in out.glob("*.wav"))
    chunk_dirs = sorted((out / JOBS_FOLDER).iterdir())
    assert len(loops) == 3 and len(chunk_dirs) >= 3 and all(any(d.iterdir()) for d in chunk_dirs)
    assert journal.count() == 8

    now[0] += limits.CHUNK_KEEP_SECONDS - 60  # not yet: a client may still be playing the previews
    time.sleep(0.3)  # a few wake-ups of the idle worker
    assert sorted((out / JOBS_FOLDER).iterdir()) == chunk_dirs

    now[0] += 120  # 11 minutes after the jobs ended: the previews go, nothing else
    _wait_until(lambda: not any((out / JOBS_FOLDER).iterdir()))
    assert sorted(out.glob("*.wav")) == loops and journal.count() == 8

    now[0] += limits.JOURNAL_KEEP_DAYS * 86400  # a week later: the rows of jobs that left nothing go
    _wait_until(lambda: journal.count() == 3)
    assert {r.request_id for r in journal.recent(50)} == {"done-0", "done-1", "done-2"}
    assert sorted(out.glob("*.wav")) == loops and all(p.stat().st_size > 0 for p in loops)
    assert queue.close(5)
    journal.close()


def test_at_start_stale_temp_files_go_user_files_and_young_temps_stay(tmp_path):
    out = tmp_path / "out"
    old_job, young_job = out / JOBS_FOLDER / "20260101-000000-abcdef", out / JOBS_FOLDER / "20260101-000001-abcdef"
    young_job.mkdir(parents=True)
    old_job.mkdir()
    old = time.time() - 2 * limits.STALE_TEMP_SECONDS
    stale = [out / ".loop_120bpm_1bars.wav.0123abcd.part", young_job / ".chunk-0001.wav.deadbeef.part"]
    kept = [
        out / ".loop.wav.89abcdef.part",  # ours, but young: a `generate` may be writing it right now
        out / "take.part",  # not our pattern
        out / ".notes.part",
        out / ".x.wav.XYZ12345.part",
        out / "song.wav",
        young_job / "chunk-0000.wav",
    ]
    for p in [*stale, *kept, old_job / "chunk-0000.wav"]:
        p.write_bytes(b"x" * 100)
    for p in [*stale, *kept[1:5], old_job / "chunk-0000.wav", old_job]:
        os.utime(p, (old, old))
    (out / ".link.wav.00000000.part").symlink_to(out / "song.wav")
    os.utime(out / ".link.wav.00000000.part", (old, old), follow_symlinks=False)
    journal = Journal.open(out)
    done = Retention(out, journal).at_start()
    assert sorted(done.temp_files) == sorted(stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)
    assert (out / ".link.wav.00000000.part").is_symlink() and (out / "song.wav").read_bytes() == b"x" * 100
    # a job folder nobody has touched for 2 h (the journal does not know it): its previews are old
    assert done.chunk_dirs == [old_job] and not old_job.exists() and young_job.is_dir()
    journal.close()


def test_at_start_old_rows_are_pruned_and_the_journal_compacted(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    bulk = Journal(out / JOURNAL_NAME, synchronous="OFF")
    old = time.time() - 8 * 86400
    for i in range(3000):  # ~900 rows/s of submit + cancel for a few seconds, a week ago
        bulk.add(f"20260101-000000-{i:06x}", f"r{i}", "127.0.0.1:9", {"prompt": "x" * 200}, created=old)
        bulk.finish(f"20260101-000000-{i:06x}", "cancelled", error_code="cancelled", finished=old)
    bulk.add("20260101-000001-000001", "kept", "127.0.0.1:9", {"prompt": "x"}, created=old)
    bulk.finish("20260101-000001-000001", "done", paths=["/out/a.wav"], finished=old)
    bulk.close()
    path = out / JOURNAL_NAME
    before = path.stat().st_size
    journal = Journal.open(out)
    done = Retention(out, journal).at_start()
    assert done.rows == 3000 and journal.count() == 1 and journal.get("20260101-000001-000001").paths
    assert path.stat().st_size < before / 4, (before, path.stat().st_size)
    journal.close()


@pytest.mark.parametrize("state", ["failed", "interrupted"])
def test_rows_that_list_files_are_kept(tmp_path, state):
    journal = Journal.open(tmp_path)
    old = time.time() - 30 * 86400
    journal.add("j1", "r1", "c", {}, created=old)
    journal.finish("j1", state, paths=["/out/take1.wav"], finished=old)
    journal.add("j2", "r2", "c", {}, created=old)
    journal.finish("j2", state, finished=old)
    assert journal.prune(time.time()) == 1 and [r.job_id for r in journal.recent()] == ["j1"]
    journal.close()
