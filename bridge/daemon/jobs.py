"""The job queue: a bounded queue of generation requests, one GPU worker, idempotent request ids, cancel.

    submit(request, origin) ─> [queued ... ] ─> worker ─> Renderer.render ─> files in out_dir
                                   │                │
                                   └─ cancel        └─ listener: accepted, started, progress, chunk, finished

Nothing here knows OSC: the server is one `JobListener`, and MIDI triggers can `submit` directly. The
queue takes any `Renderer` (`bridge.daemon.types`); `bridge.daemon.renderer.PipelineRenderer` wraps
`bridge.pipeline.render`, and tests use an in-memory fake that sleeps per step and honours cancel.
The worker loop is `bridge.daemon.worker`; streamed chunks are written by `bridge.audio.chunks`. Every
state change is written to the journal before it is announced. No torch, no pipeline: the model is only reached through the renderer.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bridge.daemon.journal import JobRecord, Journal, JournalError
from bridge.daemon.retention import Retention
from bridge.daemon.types import (
    Job,
    JobError,
    JobListener,
    Origin,
    Renderer,
    Submission,
)
from bridge.daemon.worker import Worker
from bridge.protocol import FINAL_STATES

log = logging.getLogger(__name__)

MAX_QUEUED = 32  # jobs waiting (the running one not counted); one more => queue_full
IDEMPOTENCY_SECONDS = 600.0  # a request id re-sent within this window is the same request
PROGRESS_INTERVAL = 0.05  # seconds between progress messages of one job (<= 20/s)
MAX_REMEMBERED_JOBS = 2000  # finished jobs kept in memory for status/retransmissions (the journal has all)


# ----------------------------------------------------------------------------------------- queue


class JobQueue(Worker):
    """Bounded FIFO + one worker thread. Thread-safe: submit/cancel/status from any thread."""

    def __init__(
        self,
        renderer: Renderer,
        out_dir: Path,
        journal: Journal,
        listener: JobListener | None = None,
        *,
        max_queued: int = MAX_QUEUED,
        idempotency_seconds: float = IDEMPOTENCY_SECONDS,
        progress_interval: float = PROGRESS_INTERVAL,
    ):
        self.renderer = renderer
        self.out_dir = Path(out_dir)
        self.journal = journal
        self.listener = listener or JobListener()
        self.max_queued = max_queued
        self.idempotency_seconds = idempotency_seconds
        self.progress_interval = progress_interval
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()  # job_id -> job, oldest first
        self._by_request: dict[tuple[str, str], Job] = {}
        self._closed = False
        self._unrecorded: list[Job] = []  # ended, but the journal could not take it yet (disk full)
        self.retention = Retention(self.out_dir, journal)  # the worker runs it: at start, then when due
        self._worker: threading.Thread | None = None
        self.started_at = time.time()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> JobQueue:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="musicgen-worker", daemon=True)
            self._worker.start()
        return self

    def close(self, timeout: float | None = 60.0, reason: str = "the daemon is shutting down") -> bool:
        """Accept nothing more, cancel the waiting jobs, stop the running one at its next step (a file
        being written is finished: writes are atomic) and wait for the worker. True if it stopped."""
        with self._lock:
            self._closed = True
            while self._queue:
                self._cancel_queued(self._queue[0], reason)
            if self._running is not None:
                self._running.cancel_reason = reason
                self._running.cancel_event.set()
            self._wake.notify_all()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to exit (after close); True if it has."""
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                return False
        self.record_pending()  # a final state the journal refused earlier gets another try
        return True

    def abandon(self, reason: str) -> None:
        """At exit, with the worker still busy: record the running job as interrupted."""
        with self._lock:
            job = self._running
            if job is not None and job.active:
                self._finish(job, "interrupted", error_code="interrupted", error=reason)

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ submit

    def submit(
        self, request: Any, origin: Origin, request_id: str | None = None, fingerprint: str = ""
    ) -> Submission:
        """Queue `request` (a validated GenerationRequest). A request id this client used within the
        idempotency window returns the existing job (duplicate=True) if the request is the same, and
        raises JobError('duplicate_id') if it differs. Full queue: JobError('queue_full')."""
        with self._lock:
            if self._closed:
                raise JobError("shutting_down", "the daemon is shutting down; no new jobs")
            if request_id is not None:
                previous = self.duplicate_of(origin, request_id, fingerprint)
                if previous is not None:
                    return previous
            if len(self._queue) >= self.max_queued:
                raise JobError(
                    "queue_full", f"{len(self._queue)} jobs are waiting (the limit); try again later"
                )
            job = Job(self._new_job_id(), "", origin, request, fingerprint)
            job.request_id = request_id or job.job_id
            try:
                self.journal.add(
                    job.job_id,
                    job.request_id,
                    origin.client,
                    _request_dict(request),
                    fingerprint=fingerprint,
                    created=job.created,
                )
            except JournalError as e:
                log.error("%s", e)
                raise JobError(e.code, f"cannot record the job: {e}") from e
            self._remember(job)
            position = len(self._queue) + (1 if self._running is not None else 0)
            self._queue.append(job)
            self._emit("accepted", job, position)
            self._wake.notify_all()
            log.info(
                "job %s (%s from %s) queued at position %d",
                job.job_id,
                job.request_id,
                origin.name or origin.client,
                position,
            )
            return Submission(job, position)

    def duplicate_of(self, origin: Origin, request_id: str, fingerprint: str = "") -> Submission | None:
        """The job this client already sent under `request_id` (within the idempotency window, this
        session or the journal) as a duplicate Submission; JobError('duplicate_id') if it asked for
        something else; None if the id is new."""
        with self._lock:
            previous = self._previous(origin.client, request_id)
            if previous is None:
                return None
            if fingerprint and previous.fingerprint and previous.fingerprint != fingerprint:
                raise JobError(
                    "duplicate_id",
                    f"request id {request_id!r} was already used for a different request "
                    f"(job {previous.job_id}, {previous.state}); use a new id",
                )
            return Submission(previous, self._position(previous), duplicate=True)

    def _previous(self, client: str, request_id: str) -> Job | None:
        since = time.time() - self.idempotency_seconds
        job = self._by_request.get((client, request_id))
        if job is not None and (job.active or job.created >= since):
            return job
        try:
            rec = self.journal.find(client, request_id, since)
        except JournalError as e:
            log.error("%s", e)
            return None
        return None if rec is None else Job.from_record(rec)

    def _new_job_id(self) -> str:
        while True:
            job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
            if job_id not in self._jobs:
                return job_id

    def _remember(self, job: Job) -> None:
        self._jobs[job.job_id] = job
        self._by_request[(job.origin.client, job.request_id)] = job
        while len(self._jobs) > MAX_REMEMBERED_JOBS:
            oldest = next(iter(self._jobs.values()))
            if oldest.active:
                break
            del self._jobs[oldest.job_id]
            key = (oldest.origin.client, oldest.request_id)
            if self._by_request.get(key) is oldest:
                del self._by_request[key]

    # ------------------------------------------------------------------ queries

    def _position(self, job: Job) -> int:
        if job is self._running:
            return 0
        try:
            return self._queue.index(job) + (1 if self._running is not None else 0)
        except ValueError:
            return 0

    def position(self, job: Job) -> int:
        with self._lock:
            return self._position(job)

    def find(self, target: str, origin: Origin | None = None) -> Job | None:
        """A job by this client's request id, else by job id (this session, then the journal)."""
        with self._lock:
            if origin is not None:
                job = self._by_request.get((origin.client, target))
                if job is not None:
                    return job
            job = self._jobs.get(target)
            if job is not None:
                return job
        try:
            rec = self.journal.find(origin.client, target) if origin is not None else None
            rec = rec or self.journal.get(target)
        except JournalError:
            rec = None
        return None if rec is None else Job.from_record(rec)

    def active_jobs(self, origin: Origin | None = None) -> list[Job]:
        with self._lock:
            jobs = ([self._running] if self._running is not None else []) + list(self._queue)
            return [j for j in jobs if origin is None or j.origin.client == origin.client]

    def status(self) -> dict[str, Any]:
        with self._lock:
            running = self._running
            return {
                "state": "stopping" if self._closed else ("busy" if running or self._queue else "idle"),
                "queued": len(self._queue),
                "running": running.request_id if running else "",
                "running_job": running.job_id if running else "",
                "max_queued": self.max_queued,
            }

    def history(self, limit: int = 20, offset: int = 0) -> list[JobRecord]:
        return self.journal.recent(limit, offset)

    # ------------------------------------------------------------------ cancel

    def cancel(self, job: Job, reason: str = "cancelled by request") -> bool:
        """Cancel a queued job now, or a running one at its next decoder step. False if it already ended."""
        with self._lock:
            if job.state == "queued" and job in self._queue:
                self._cancel_queued(job, reason)
                return True
            if job.state == "running" and job is self._running:
                job.cancel_reason = reason
                job.cancel_event.set()
                log.info("job %s: cancel requested while running", job.job_id)
                return True
            return False

    def _cancel_queued(self, job: Job, reason: str) -> None:
        self._queue.remove(job)
        job.cancel_event.set()
        self._finish(job, "cancelled", error_code="cancelled", error=reason)

    def _finish(
        self,
        job: Job,
        state: str,
        *,
        paths: tuple[str, ...] = (),
        error_code: str = "",
        error: str = "",
        timings: Mapping[str, float] | None = None,
    ) -> None:
        """Record the final state (journal first), then announce it. Caller holds the lock. A job that
        ends without its files (cancelled or interrupted between takes) still lists the takes it wrote.
        A final state the journal could not take is kept and written again (`record_pending`)."""
        assert state in FINAL_STATES
        job.state, job.finished = state, time.time()
        job.paths, job.error_code, job.error = paths or tuple(job.written), error_code, error
        job.timings = dict(timings or {})
        if job is self._running:
            self._running = None
        self._unrecorded.append(job)
        self.record_pending()
        log.info("job %s: %s%s", job.job_id, state, f" ({error_code}: {error})" if error_code else "")
        self._emit("finished", job)

    def record_pending(self) -> bool:
        """Write the final states the journal has not taken yet (it failed: disk full); True if none is
        left. Retried at every job's end and at close, so a clean stop leaves no job `running`."""
        with self._lock:
            while self._unrecorded:
                job = self._unrecorded[0]
                try:
                    self.journal.finish(
                        job.job_id,
                        job.state,
                        paths=job.paths,
                        error_code=job.error_code,
                        error=job.error,
                        timings=job.timings,
                        finished=job.finished,
                    )
                except JournalError as e:
                    log.error("job %s: its end (%s) is not recorded yet: %s", job.job_id, job.state, e)
                    return False
                self._unrecorded.pop(0)
            return True

    def _emit(self, event: str, *args: Any) -> None:
        try:
            getattr(self.listener, event)(*args)
        except Exception:
            log.exception("listener failed on %s", event)


def _request_dict(request: Any) -> dict[str, Any]:
    if hasattr(request, "to_dict"):
        return request.to_dict()
    return dict(request) if isinstance(request, Mapping) else {"request": repr(request)}
