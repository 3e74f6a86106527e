"""The server's answers that take more than one reply builder: daemon and job status pairs, a history
page that fits the datagram's reply budget, and what a remote client is told about its clip paths.

    pairs = job_status(job, position)             # {"job": ..., "state": ..., ...}
    dgrams = history_page("r1", records, budget)  # newest first; fewer than asked when the bytes run out

Plain functions over the job types and `bridge.protocol`: the server sends what they build.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from bridge import protocol
from bridge.daemon.journal import JobRecord
from bridge.daemon.types import Job

# Remote clients (--allow-remote) learn nothing about the daemon's file system from an error: not whether
# a path exists, is a folder or a FIFO, nor how big it is.
REMOTE_PATH_MESSAGE = "not a readable audio file"
REMOTE_IO_MESSAGE = protocol.ERRORS["io_error"]


def osc_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """str/int/float stay, bools become 0/1, None becomes '', anything else its str()."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, bool):
            value = int(value)
        elif value is None:
            value = ""
        elif not isinstance(value, (int, float, str)):
            value = str(value)
        out[str(key)] = value
    return out


def iso(t: float | None) -> str:
    if not t:
        return ""
    return datetime.datetime.fromtimestamp(t).isoformat(timespec="seconds")


def job_status(job: Job, position: int) -> dict[str, Any]:
    return {
        "job": job.job_id,
        "request": job.request_id,
        "state": job.state,
        "progress": float(job.progress),
        "position": position,
        "error_code": job.error_code,
        "error": job.error,
        "paths": len(job.paths),
    }


def history_page(request_id: str, records: Sequence[JobRecord], budget: int) -> list[bytes]:
    """One history reply per record, newest first, as many as fit `budget` bytes (at least one): each
    reply's `count` is the number actually sent, so a client pages on with offset += count until count 0."""
    if not records:
        return [protocol.history(request_id, 0, 0)]

    def build(count: int) -> list[bytes]:
        return [
            protocol.history(
                request_id,
                i,
                count,
                rec.job_id,
                rec.request_id,
                rec.state,
                iso(rec.created),
                rec.prompt,
                rec.error,
                rec.paths,
            )
            for i, rec in enumerate(records[:count])
        ]

    dgrams = build(len(records))
    fit, total = 0, 0
    for d in dgrams:
        if fit and total + len(d) > budget:
            break
        total += len(d)
        fit += 1
    return dgrams if fit == len(dgrams) else build(fit)  # the count is an int32: same sizes


def for_remote(code: str, message: str, field: str | None = None) -> str:
    """The error message a non-loopback client gets: path and file-system details replaced by one
    generic sentence (bad_path, io_error), a region error without the clip's length; others unchanged."""
    if code == "bad_path":
        return f"{field}: {REMOTE_PATH_MESSAGE}" if field else REMOTE_PATH_MESSAGE
    if code == "io_error":
        return REMOTE_IO_MESSAGE
    if field is not None and field.startswith("region"):  # measured against the clip: not its length
        return f"{field}: lies outside the clip"
    return message
