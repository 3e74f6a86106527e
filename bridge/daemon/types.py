"""What the job queue shares with everything around it: a job, who asked for it, how it failed, the
renderer contract and the listener contract.

    OSC server ─┐                                   ┌─> Renderer.render ─> Rendered (files)
    MIDI pads  ─┴─> JobQueue.submit(request, Origin) ┤
                                                    └─> JobListener: accepted, started, progress, chunk, finished

Standard library only (and the protocol's job states), so the server, the MIDI service, the model adapter
(`bridge.daemon.renderer`) and test fakes import these at the top without loading the model.
"""

from __future__ import annotations

import contextlib
import errno
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.daemon.journal import JobRecord
from bridge.protocol import ACTIVE_STATES


class JobError(Exception):
    """A job cannot be queued or did not finish; `code` is a protocol error code (bridge.protocol.ERRORS)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Origin:
    """Who asked: `client` is a stable key (for OSC the reply address "ip:port"; "midi" for triggers);
    `reply_to` is where the job's news goes (None: broadcast to every registered client)."""

    client: str
    reply_to: tuple[str, int] | None = None
    name: str = ""


@dataclass(eq=False)
class Job:
    """One job; its mutable fields change only under the queue's lock."""

    job_id: str
    request_id: str
    origin: Origin
    request: Any  # bridge.request.GenerationRequest (a plain dict for jobs known only from the journal)
    fingerprint: str = ""
    state: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    progress: float = 0.0
    paths: tuple[str, ...] = ()
    error_code: str = ""
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    grid: tuple[Mapping[str, Any], ...] = ()  # per take, once done: the grid fit reports
    written: list[str] = field(default_factory=list, repr=False)  # takes published so far (on_file)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    cancel_reason: str = ""

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def prompt(self) -> str:
        r = self.request
        return str(r.get("prompt", "") if isinstance(r, Mapping) else getattr(r, "prompt", ""))

    @classmethod
    def from_record(cls, rec: JobRecord) -> Job:
        return cls(
            job_id=rec.job_id,
            request_id=rec.request_id,
            origin=Origin(rec.client),
            request=dict(rec.request),
            fingerprint=rec.fingerprint,
            state=rec.state,
            created=rec.created,
            started=rec.started,
            finished=rec.finished,
            progress=1.0 if rec.state == "done" else 0.0,
            paths=tuple(rec.paths),
            error_code=rec.error_code,
            error=rec.error,
            timings=dict(rec.timings),
        )


@dataclass(frozen=True)
class Submission:
    job: Job
    position: int  # jobs ahead of it (0: running or next)
    duplicate: bool = False  # a retransmission of a known request: nothing new was queued


# ----------------------------------------------------------------------------------------- renderers


@dataclass(frozen=True)
class Rendered:
    paths: tuple[Path, ...]
    timings: Mapping[str, float] = field(default_factory=dict)
    grid: tuple[Mapping[str, Any], ...] = ()  # per take: how it was fitted onto the grid (grid reply)


ProgressFn = Callable[[float], None]
FileFn = Callable[[Path], None]  # a complete take was published under its final name
ChunkFn = Callable[[Any], None]  # a bridge.engine.streaming.Chunk: index, start_sample, audio


class Renderer:
    """Template: turn one request into files in `out_dir`. Raise JobError('cancelled') when `cancel` is
    set, JobError(code) for known failures; anything else is reported as `internal`.
    `bridge.daemon.renderer.PipelineRenderer` is the real one; tests use in-memory fakes.

    A renderer with `reports_files = True` also takes `on_file`, called with each take's path as soon as
    it is published, so a job stopped between takes still lists (and the journal keeps) what it wrote."""

    name = "renderer"
    reports_files = False

    def render(
        self,
        request: Any,
        out_dir: Path,
        *,
        on_progress: ProgressFn,
        on_chunk: ChunkFn,
        cancel: threading.Event,
    ) -> Rendered:
        raise NotImplementedError


# ----------------------------------------------------------------------------------------- listener


class JobListener:
    """What the queue tells the world. The OSC server implements it; the default does nothing.
    `accepted` runs under the queue's lock, before the worker can start the job (so ack comes first)."""

    def accepted(self, job: Job, position: int) -> None: ...

    def started(self, job: Job) -> None: ...

    def progress(self, job: Job, fraction: float) -> None: ...

    def chunk(self, job: Job, index: int, path: Path, start_seconds: float) -> None: ...

    def finished(self, job: Job) -> None:
        """job.state is done (job.paths), or failed / cancelled / interrupted (job.error_code, job.error)."""


# ----------------------------------------------------------------------------------------- failures


# How running out of memory reads in the libraries we call: torch (CUDA, MPS, the CPU allocator), numpy
# ("Unable to allocate 3.86 GiB"), the C library's ENOMEM, C++'s bad_alloc, libsndfile's "Internal
# malloc () failed".
_OOM_WORDS = (
    "out of memory",
    "cannot allocate memory",
    "not enough memory",
    "unable to allocate",
    "bad_alloc",
    "malloc",
)


def is_out_of_memory(exc: BaseException) -> bool:
    """Any wording of "out of memory", in the exception or in what it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError):  # numpy's ArrayMemoryError too
            return True
        if type(current).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError, without torch
            return True
        if isinstance(current, OSError) and current.errno == errno.ENOMEM:
            return True
        text = str(current).lower()
        if any(word in text for word in _OOM_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


def free_accelerator_memory() -> None:
    torch = sys.modules.get("torch")  # only if the model loaded it: freeing memory never loads torch
    if torch is not None and torch.cuda.is_available():
        with contextlib.suppress(Exception):
            torch.cuda.empty_cache()


def out_of_memory_error(exc: BaseException) -> JobError | None:
    """JobError('out_of_memory') if `exc` is the accelerator (or the host) running out of memory, after
    freeing the accelerator's cache; None for any other failure. The one out-of-memory branch: the model
    adapter maps its failures with it, and the queue's worker with it for any other renderer."""
    if not is_out_of_memory(exc):
        return None
    free_accelerator_memory()
    return JobError("out_of_memory", f"out of memory: {first_line(exc)}")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 300 characters), else its type's name."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
