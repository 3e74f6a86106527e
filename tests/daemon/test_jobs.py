"""The job queue with an in-memory fake renderer: order of events, bounds, cancel, idempotency, failures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from osc_client import FakeRenderer

from bridge.daemon.jobs import JobQueue
from bridge.daemon.journal import Journal
from bridge.daemon.types import JobError, JobListener, Origin
from bridge.request import GenerationRequest

ORIGIN = Origin("127.0.0.1:9001", ("127.0.0.1", 9001), "test")


class Recorder(JobListener):
    def __init__(self):
        self.events: list[tuple] = []
        self.finished_event = threading.Condition()

    def accepted(self, job, position):
        self.events.append(("accepted", job.request_id, position))

    def started(self, job):
        self.events.append(("started", job.request_id))

    def progress(self, job, fraction):
        self.events.append(("progress", job.request_id, fraction, time.monotonic()))

    def chunk(self, job, index, path, start_seconds):
        self.events.append(("chunk", job.request_id, index, path, start_seconds))

    def finished(self, job):
        with self.finished_event:
            self.events.append(("finished", job.request_id, job.state, job.error_code))
            self.finished_event.notify_all()

    def of(self, rid, kind=None):
        return [e for e in self.events if e[1] == rid and (kind is None or e[0] == kind)]

    def wait_finished(self, rid, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.finished_event:
            while not self.of(rid, "finished"):
                left = deadline - time.monotonic()
                assert left > 0, f"{rid} did not finish: {self.events[-5:]}"
                self.finished_event.wait(left)
        return self.of(rid, "finished")[0]


def req(seed: int = 1, **kw) -> GenerationRequest:
    return GenerationRequest(prompt="test", bpm=120, bars=1, seed=seed, **kw)


@pytest.fixture
def make_queue(tmp_path):
    made = []

    def make(renderer=None, **kw):
        rec = Recorder()
        journal = Journal.open(tmp_path, synchronous="NORMAL")
        q = JobQueue(renderer or FakeRenderer(), tmp_path, journal, rec, **kw).start()
        made.append((q, journal))
        return q, rec, journal

    yield make
    for q, journal in made:
        q.close(timeout=5)
        journal.close()


def test_a_job_reports_in_order_and_is_journaled(make_queue, tmp_path):
    q, rec, journal = make_queue(FakeRenderer(steps=10, step_seconds=0.01, chunks=2), progress_interval=0)
    sub = q.submit(req(variations=2), ORIGIN, "r1", "fp1")
    assert sub.position == 0 and not sub.duplicate
    assert rec.wait_finished("r1")[2:] == ("done", "")
    kinds = [e[0] for e in rec.of("r1")]
    assert kinds[0] == "accepted" and kinds[1] == "started" and kinds[-1] == "finished"
    fractions = [e[2] for e in rec.of("r1", "progress")]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(set(fractions))
    chunks = rec.of("r1", "chunk")
    assert [c[2] for c in chunks] == [0, 1] and [c[4] for c in chunks] == [0.0, 0.1]
    job_dir = tmp_path / ".jobs" / sub.job.job_id
    assert all(Path(c[3]).parent == job_dir for c in chunks)
    row = journal.get(sub.job.job_id)
    assert row.state == "done" and len(row.paths) == 2 and all(Path(p).is_file() for p in row.paths)
    assert row.request["prompt"] == "test" and row.timings["total_s"] > 0


def test_progress_is_throttled(make_queue):
    q, rec, _ = make_queue(FakeRenderer(steps=300, step_seconds=0.001), progress_interval=0.05)
    q.submit(req(), ORIGIN, "r1")
    rec.wait_finished("r1")
    times = [e[3] for e in rec.of("r1", "progress")]
    gaps = np.diff(times[:-1])  # the final 1.0 is always sent
    assert len(times) < 30 and (len(gaps) == 0 or gaps.min() >= 0.045)


def test_the_queue_is_bounded_and_positions_count_up(make_queue):
    renderer = FakeRenderer(steps=1000, step_seconds=0.01)
    q, rec, _ = make_queue(renderer, max_queued=3)
    first = q.submit(req(0), ORIGIN, "r0")
    assert renderer.running.wait(5)
    positions = [q.submit(req(i), ORIGIN, f"r{i}").position for i in range(1, 4)]
    assert first.position == 0 and positions == [1, 2, 3]
    with pytest.raises(JobError) as e:
        q.submit(req(9), ORIGIN, "r9")
    assert e.value.code == "queue_full"
    assert q.status()["queued"] == 3 and q.status()["running"] == "r0"


def test_cancel_a_queued_job_at_once_and_a_running_one_within_a_step(make_queue):
    renderer = FakeRenderer(steps=1000, step_seconds=0.02)
    q, rec, journal = make_queue(renderer)
    running = q.submit(req(0), ORIGIN, "run").job
    queued = q.submit(req(1), ORIGIN, "wait").job
    assert renderer.running.wait(5)
    assert q.cancel(queued)
    assert rec.of("wait", "finished") == [("finished", "wait", "cancelled", "cancelled")]  # synchronously
    t0 = time.monotonic()
    assert q.cancel(running)
    rec.wait_finished("run")
    assert time.monotonic() - t0 < 0.5  # one fake step is 0.02 s
    assert (
        journal.get(running.job_id).state == "cancelled" and journal.get(queued.job_id).state == "cancelled"
    )
    assert not q.cancel(running)  # already over
    assert not renderer.rendered and not rec.of("wait", "started")


def test_request_ids_are_idempotent(make_queue, tmp_path):
    renderer = FakeRenderer(steps=3)
    q, rec, journal = make_queue(renderer)
    a = q.submit(req(1), ORIGIN, "same", "fp")
    b = q.submit(req(1), ORIGIN, "same", "fp")
    assert b.duplicate and b.job is a.job
    with pytest.raises(JobError) as e:
        q.submit(req(2), ORIGIN, "same", "other")
    assert e.value.code == "duplicate_id"
    other = Origin("127.0.0.1:9002", ("127.0.0.1", 9002))
    assert not q.submit(req(1), other, "same", "fp").duplicate  # ids are per client
    rec.wait_finished("same")
    time.sleep(0.2)
    assert len(renderer.rendered) == 2 and journal.count() == 2
    # a new queue on the same journal (a restart) still knows the id
    q2 = JobQueue(FakeRenderer(), tmp_path, journal)
    dup = q2.duplicate_of(ORIGIN, "same", "fp")
    assert dup is not None and dup.job.state == "done" and dup.job.paths


@pytest.mark.parametrize(
    "error,code",
    [
        (JobError("model_error", "melody needs a melody model"), "model_error"),
        (MemoryError(), "out_of_memory"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "out_of_memory"),
        (ZeroDivisionError("bug"), "internal"),
    ],
)
def test_failures_fail_the_job_and_the_worker_carries_on(make_queue, error, code):
    renderer = FakeRenderer(steps=1, fail=error)
    q, rec, journal = make_queue(renderer)
    job = q.submit(req(1), ORIGIN, "bad").job
    assert rec.wait_finished("bad")[2:] == ("failed", code)
    assert journal.get(job.job_id).error_code == code
    renderer.fail = None
    q.submit(req(2), ORIGIN, "good")
    assert rec.wait_finished("good")[2] == "done"


def test_close_cancels_waiting_jobs_and_stops_the_running_one(make_queue):
    renderer = FakeRenderer(steps=1000, step_seconds=0.02)
    q, rec, journal = make_queue(renderer)
    q.submit(req(0), ORIGIN, "run")
    q.submit(req(1), ORIGIN, "wait")
    assert renderer.running.wait(5)
    assert q.close(timeout=5)
    assert rec.of("wait", "finished")[0][2] == "cancelled" and rec.of("run", "finished")[0][2] == "cancelled"
    with pytest.raises(JobError) as e:
        q.submit(req(2), ORIGIN, "late")
    assert e.value.code == "shutting_down"


def test_out_of_memory_is_reported_by_its_first_line(make_queue):
    renderer = FakeRenderer(
        steps=1, fail=RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nat ...")
    )
    q, rec, journal = make_queue(renderer)
    job = q.submit(req(1), ORIGIN, "oom").job
    assert rec.wait_finished("oom")[2:] == ("failed", "out_of_memory")
    assert journal.get(job.job_id).error == "out of memory: CUDA out of memory. Tried to allocate 2.00 GiB"
