"""Daemon start-up and shutdown: the output folder and its lock, the model, the warm-up, the signals.

    serve(options) ─> prepare_out_dir ─> OutDirLock ─> Journal.open ─> bind_socket (fail fast)
                   ─> load_engine ─> warm_up ─> Server(PipelineRenderer(engine)) ─> on_ready (MIDI)
                   ─> "listening on HOST:PORT" ─> serve_forever ... SIGINT/SIGTERM ─> close

The one daemon module that loads the model; `bridge.cli serve` calls `serve`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerError, ServerOptions, bind_socket
from bridge.daemon.renderer import PipelineRenderer
from bridge.daemon.server import SHUTDOWN_TIMEOUT, Server
from bridge.engine.loading import load_engine

if os.name == "nt":  # the OS file lock that keeps one daemon per output folder
    import msvcrt
else:
    import fcntl

log = logging.getLogger(__name__)

MAX_OUT_DIR_CHARS = 512  # so `done` with 8 paths always fits in one datagram
FORCED_GRACE_SECONDS = 3.0  # after a second SIGINT/SIGTERM: how long the running job may still take to stop


def prepare_out_dir(out_dir: Path) -> Path:
    """The absolute output folder, created; short enough that replies with 8 paths fit a datagram."""
    out = Path(out_dir).expanduser().resolve()
    if len(str(out)) > MAX_OUT_DIR_CHARS:
        raise ServerError(f"--out path is {len(str(out))} characters; keep it under {MAX_OUT_DIR_CHARS}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ServerError(f"cannot create the output folder {out}: {e.strerror or e}") from None
    if not out.is_dir():
        raise ServerError(f"--out {out} is not a folder")
    return out


class OutDirLock:
    """One daemon per output folder: a second one would mark the first one's running jobs interrupted.
    An OS file lock, released by the OS when the process dies (even by SIGKILL)."""

    NAME = ".musicgen-bridge.lock"

    def __init__(self, out: Path):
        self.path = out / self.NAME
        self._file = open(self.path, "a+")  # noqa: SIM115 (held for the daemon's lifetime)
        try:
            if os.name == "nt":
                msvcrt.locking(self._file.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            raise ServerError(
                f"another musicgen-bridge daemon is using {out}; stop it or pass another --out"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        self._file.close()  # closing drops the lock; the file stays (deleting it would race a new daemon)


def _exit_now() -> None:
    """Exit 0 after a clean stop (jobs recorded, journal closed, lock released), skipping interpreter
    finalisation: its garbage collection over the model's objects took 20-30 s on a loaded machine, and
    with the worker still inside torch (a job abandoned after a second signal) it aborts the process
    (SIGABRT, "terminate called without an active exception"). Flush what we wrote, then leave."""
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


def warm_up(engine: Any, backend: str) -> float:
    """One tiny generation and decode, so the first request does not pay for lazy initialisation."""
    t0 = time.perf_counter()
    codes = engine.generate("warm up", n_frames=4, backend=backend, seed=0)
    engine.decode_codes(codes)
    return time.perf_counter() - t0


def serve(
    options: ServerOptions,
    *,
    model: str,
    out_dir: Path,
    device: str | None = None,
    dtype: str | None = None,
    backend: str = "ours",
    warmup: bool = True,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    announce: Callable[[str], None] | None = None,
    on_ready: Callable[[Server], Callable[[], None] | None] | None = None,
) -> int:
    """Run the daemon until SIGINT/SIGTERM: bind first (fail fast), load and warm the model, announce
    `listening on HOST:PORT`, serve; then stop cleanly. Returns the exit status.

    `on_ready(server)` runs once the Server exists, before the announcement (e.g. to attach MIDI to
    `server.jobs` and `server.status_extras`); the callable it returns, if any, runs at shutdown."""
    if not options.loopback:
        log.warning(
            "listening on %s, which is not loopback: only %s (and this machine) may send requests",
            options.host,
            ", ".join(options.allow),
        )
    out = prepare_out_dir(out_dir)
    lock = OutDirLock(out)
    journal: Journal | None = None
    try:
        journal = Journal.open(out)
        sock = bind_socket(options.host, options.port, options.recv_buffer)
    except BaseException:
        if journal is not None:
            journal.close()
        lock.release()
        raise
    server: Server | None = None
    on_stop: Callable[[], None] | None = None
    finished = False  # a clean stop: everything below is closed, the process may leave at once
    try:
        t0 = time.perf_counter()
        engine = load_engine(model, device=device, dtype=dtype)
        log.info("loaded %r in %.1f s", engine, time.perf_counter() - t0)
        if warmup:
            try:
                log.info("warmed up in %.1f s", warm_up(engine, backend))
            except Exception as e:
                log.debug("warm-up failed", exc_info=True)
                raise ServerError(f"the model failed its warm-up generation: {type(e).__name__}: {e}") from e
        server = Server(
            PipelineRenderer(engine, backend), out, journal, options, model_name=engine.name, sock=sock
        )
        server.status_extras.append(
            lambda: {
                "device": str(engine.device),
                "dtype": str(engine.dtype).removeprefix("torch."),
                "engine": backend,
            }
        )
        if on_ready is not None:
            on_stop = on_ready(server)
        signals = {"count": 0, "again": 0.0}

        def on_signal(signum: int, _frame: Any) -> None:
            signals["count"] += 1
            if signals["count"] == 2:
                signals["again"] = time.monotonic()
            log.warning(
                "%s: shutting down%s",
                signal.Signals(signum).name,
                " now" if signals["count"] > 1 else " after the current step",
            )
            server.stop()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
        host, port = server.address
        line = f"listening on {host}:{port}"
        (announce or (lambda s: print(s, flush=True)))(line)
        server.serve_forever()
        if on_stop is not None:
            stop, on_stop = on_stop, None
            stop()
        # A second signal shortens the wait to FORCED_GRACE_SECONDS: the job stops at its next step (the
        # final decode and the writes check the cancel flag too), which is almost always sooner.
        stopped = server.close(
            shutdown_timeout,
            forced=lambda: signals["count"] > 1 and time.monotonic() - signals["again"] > FORCED_GRACE_SECONDS,
        )
        log.info(
            "stopped%s; %s",
            "" if stopped else " (the running job was abandoned)",
            ", ".join(f"{k} {v}" for k, v in server.stats.items()),
        )
        finished = True
        return 0
    finally:
        if on_stop is not None:
            with contextlib.suppress(Exception):
                on_stop()
        if server is not None:
            server.close(0)
        with contextlib.suppress(OSError):
            sock.close()
        journal.close()
        lock.release()
        if finished and threading.current_thread() is threading.main_thread():
            _exit_now()
