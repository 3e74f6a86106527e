"""The job queue's worker: takes the next job, runs the renderer, streams its chunks, records the end.

`bridge.daemon.jobs.JobQueue` mixes this in; it owns the lock, the queue, the journal and `_finish`.
Nothing here knows OSC or loads the model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from bridge.audio.chunks import write_chunk
from bridge.daemon.journal import JournalError
from bridge.daemon.retention import JOBS_FOLDER
from bridge.daemon.types import Job, JobError, first_line, out_of_memory_error

log = logging.getLogger(__name__)



class Throttle:
    """Monotonic, rate-limited progress: at most one value per `interval`, always the final 1.0."""

    def __init__(self, interval: float):
        self.interval = interval
        self.last_value = -1.0
        self.last_time = 0.0

    def __call__(self, fraction: float) -> float | None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction <= self.last_value:
            return None
        now = time.monotonic()
        if fraction < 1.0 and now - self.last_time < self.interval:
            return None
        self.last_value, self.last_time = fraction, now
        return fraction


class Worker:
    """The worker half of `JobQueue` (a mixin: the attributes are the queue's)."""

    out_dir: Path

    def _next(self) -> Job | None:
        while True:
            with self._lock:
                if self._queue or self._closed:
                    break
                self._wake.wait(self.retention.sweep_seconds)
            self._tidy()  # outside the lock: deleting files never holds up a submit
        with self._lock:
            if self._closed and not self._queue:
                return None
            job = self._queue.popleft()
            job.state, job.started = "running", time.time()
            self._running = job
            try:
                self.journal.mark_running(job.job_id, job.started)
            except JournalError as e:
                log.error("%s", e)
            return job

    def _work(self) -> None:
        try:
            self.retention.at_start()
        except Exception:
            log.exception("retention at start failed")
        while True:
            job = self._next()
            if job is None:
                return
            try:
                self._execute(job)
                self._tidy()
            except BaseException:  # never let the worker die: the daemon keeps serving
                log.exception("job %s: unexpected error in the worker", job.job_id)
                with self._lock:
                    if job.active:
                        self._finish(job, "failed", error_code="internal", error="unexpected worker error")
            finally:
                with self._lock:
                    self._running = None

    def _execute(self, job: Job) -> None:
        log.info("job %s: running %r", job.job_id, job.prompt[:80])
        self._emit("started", job)
        throttle = Throttle(self.progress_interval)
        first = throttle(0.0)
        if first is not None:
            job.progress = first
            self._emit("progress", job, first)

        def on_progress(fraction: float) -> None:
            value = throttle(fraction)
            if value is not None:
                job.progress = value
                self._emit("progress", job, value)

        def on_chunk(chunk: Any) -> None:
            self._announce_chunk(job, chunk)

        def on_file(path: Path) -> None:
            self._record_file(job, path)

        extra = {"on_file": on_file} if getattr(self.renderer, "reports_files", False) else {}

        if job.cancel_event.is_set():
            self._end(job, "cancelled", error_code="cancelled", error=job.cancel_reason or "cancelled")
            return
        t0 = time.perf_counter()
        try:
            rendered = self.renderer.render(
                job.request,
                self.out_dir,
                on_progress=on_progress,
                on_chunk=on_chunk,
                cancel=job.cancel_event,
                **extra,
            )
        except JobError as e:
            if e.code == "cancelled":
                self._end(job, "cancelled", error_code="cancelled", error=job.cancel_reason or "cancelled")
            else:
                log.warning("job %s failed (%s): %s", job.job_id, e.code, e.message)
                self._end(job, "failed", error_code=e.code, error=e.message)
            return
        except Exception as e:
            oom = out_of_memory_error(e)
            if oom is not None:
                log.error("job %s: %s", job.job_id, oom.message)
                self._end(job, "failed", error_code=oom.code, error=oom.message)
            else:
                log.exception("job %s: unexpected error", job.job_id)
                self._end(job, "failed", error_code="internal", error=f"{type(e).__name__}: {first_line(e)}")
            return
        last = throttle(1.0)
        if last is not None:
            job.progress = last
            self._emit("progress", job, last)
        timings = {**dict(rendered.timings), "total_s": time.perf_counter() - t0}
        job.grid = tuple(rendered.grid)
        self._end(job, "done", paths=tuple(str(p) for p in rendered.paths), timings=timings)

    def _end(self, job: Job, state: str, **kw: Any) -> None:
        """`_finish`, unless the job already ended (abandoned at exit: recorded interrupted)."""
        with self._lock:
            if job.active:
                self._finish(job, state, **kw)

    def _record_file(self, job: Job, path: Path) -> None:
        """A take is published: the job (and the journal, at once) lists it, whatever happens next."""
        with self._lock:
            job.written.append(str(path))
        try:
            self.journal.add_path(job.job_id, str(path))
        except JournalError as e:
            log.error("job %s: %s", job.job_id, e)

    def _tidy(self) -> None:
        """Retention (`bridge.daemon.retention`) when due; never fails the worker."""
        try:
            self.retention.sweep_if_due(self._active_ids())
        except Exception:
            log.exception("retention sweep failed")

    def _active_ids(self) -> set[str]:
        with self._lock:
            running = [self._running] if self._running is not None else []
            return {j.job_id for j in (*running, *self._queue)}

    def _announce_chunk(self, job: Job, chunk: Any) -> None:
        """Write a streamed chunk and tell the client; a failed preview never fails the job."""
        try:
            path, start = write_chunk(self.job_dir(job), chunk)
        except Exception as e:
            log.warning("job %s: could not write preview chunk: %s", job.job_id, e)
            return
        self._emit("chunk", job, int(chunk.index), path, start)

    def job_dir(self, job: Job) -> Path:
        """<out>/.jobs/<job_id>: named by the daemon's own job id, never by anything a client sent."""
        return self.out_dir / JOBS_FOLDER / job.job_id
