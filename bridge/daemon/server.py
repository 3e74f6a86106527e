"""The OSC daemon: one UDP socket on loopback, the protocol table, the job queue, the journal.

    datagram ─> size/allow-list ─> OscPacket (bundles too) ─> protocol.parse_request ─> handler ─> reply
                                                                      generate ─> JobQueue ─> worker ─┘

Every handler runs inside one try/except: nothing a client sends can stop the loop. Replies go to the
sender's IP (never to a host a client names) at the port it declared: a `reply_port` key on the request,
else its hello's `reply_port` (same source port first, then the newest hello from that IP), else the
source address of the datagram itself. Garbage that is not OSC is answered only to a client known from
a hello, and logged. Audio travels only as paths; every reply is built by `bridge.protocol`, which
keeps it under 8 KB. The server takes any `Renderer`: it never imports the model (start-up, which does,
is `bridge.daemon.app`); where it listens and who may talk is `bridge.daemon.net`, who said hello and where replies
go is `bridge.daemon.clients`.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pythonosc.osc_packet import OscPacket

from bridge import __version__, protocol
from bridge.daemon.clients import Client, ClientRegistry, Context
from bridge.daemon.jobs import JobQueue
from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions, bind_socket
from bridge.daemon.types import Job, JobError, JobListener, Renderer, Submission
from bridge.protocol import MAX_DATAGRAM, ProtocolError, Request
from bridge.protocol.to_request import to_generation_request

log = logging.getLogger(__name__)

RECV_BUFFER = 65536  # bytes read per datagram; anything over MAX_DATAGRAM is refused as too_long
POLL_SECONDS = 0.2  # the loop checks for shutdown this often
SHUTDOWN_TIMEOUT = 30.0  # seconds to let the running job stop at its next step before exiting anyway
LOGS_PER_SECOND = 10  # per kind of complaint, so a flood of garbage cannot flood the log


# ------------------------------------------------------------------------------------------ helpers


class _LogLimiter:
    """At most `rate` log lines per second per kind; says how many were swallowed."""

    def __init__(self, rate: int = LOGS_PER_SECOND):
        self.rate = rate
        self._window: dict[str, tuple[int, int, int]] = {}  # kind -> (second, lines, suppressed)

    def __call__(self, kind: str, msg: str, *args: Any, level: int = logging.WARNING) -> None:
        now = int(time.monotonic())
        second, lines, suppressed = self._window.get(kind, (now, 0, 0))
        if second != now:
            if suppressed:
                log.log(level, "(%d more %s messages suppressed)", suppressed, kind)
            second, lines, suppressed = now, 0, 0
        if lines < self.rate:
            log.log(level, msg, *args)
            lines += 1
        else:
            suppressed += 1
        self._window[kind] = (second, lines, suppressed)


def _osc_values(fields: Mapping[str, Any]) -> dict[str, Any]:
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


def _iso(t: float | None) -> str:
    if not t:
        return ""
    return datetime.datetime.fromtimestamp(t).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------ server


class Server(JobListener):
    """Receives requests, answers them, and reports job news (it is the job queue's listener)."""

    def __init__(
        self,
        renderer: Renderer,
        out_dir: Path,
        journal: Journal,
        options: ServerOptions | None = None,
        *,
        model_name: str = "",
        sock: socket.socket | None = None,
        progress_interval: float | None = None,
    ):
        self.options = options or ServerOptions()
        self.out_dir = Path(out_dir)
        self.journal = journal
        self.model_name = model_name or getattr(renderer, "name", "")
        self.sock = sock or bind_socket(self.options.host, self.options.port)
        self.sock.settimeout(POLL_SECONDS)
        self._address: tuple[str, int] = tuple(self.sock.getsockname()[:2])  # type: ignore[assignment]
        kwargs = {} if progress_interval is None else {"progress_interval": progress_interval}
        self.jobs = JobQueue(
            renderer, self.out_dir, journal, self, max_queued=self.options.max_queued, **kwargs
        )
        self._clients = ClientRegistry()
        self._stop = threading.Event()
        self._complain = _LogLimiter()
        self.started_at = time.time()
        # more daemon-status fields from other parts (e.g. MIDI): callables returning {key: str/int/float}
        self.status_extras: list[Callable[[], Mapping[str, Any]]] = []
        self.stats = {"datagrams": 0, "messages": 0, "errors": 0, "replies": 0, "send_failures": 0}
        self._handlers: dict[str, Callable[[Request, Context], None]] = {
            "hello": self._hello,
            "ping": self._ping,
            "generate": self._generate,
            "cancel": self._cancel,
            "status": self._status,
            "history": self._history,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def address(self) -> tuple[str, int]:
        return self._address

    def serve_forever(self) -> None:
        """Receive until stop(); each datagram is handled in full before the next is read."""
        self.jobs.start()
        log.info("serving OSC on %s:%d (model %s, output %s)", *self.address, self.model_name, self.out_dir)
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(RECV_BUFFER)
            except TimeoutError:
                continue
            except OSError as e:  # e.g. Windows' WSAECONNRESET after a reply hit a closed port
                if self._stop.is_set():
                    break
                self._complain("recv", "receive failed: %s", e)
                continue
            try:
                self.handle_datagram(data, addr)
            except Exception:  # handlers catch their own; this is the last line of defence
                log.exception("unexpected error handling a datagram from %s", addr)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="musicgen-osc", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop receiving (from any thread or a signal handler); close() finishes the shutdown."""
        self._stop.set()

    def close(self, timeout: float = SHUTDOWN_TIMEOUT, forced: Callable[[], bool] = lambda: False) -> bool:
        """Cancel waiting jobs, stop the running one at its next step, wait for it (up to `timeout`, or
        until `forced()`), close the socket. True if the worker stopped in time."""
        self.stop()
        self.jobs.close(timeout=0)
        deadline = time.monotonic() + timeout
        stopped = self.jobs.join(0)
        while not stopped and time.monotonic() < deadline and not forced():
            stopped = self.jobs.join(0.1)
        if not stopped:
            self.jobs.abandon("the daemon stopped before this job finished")
        with contextlib.suppress(OSError):
            self.sock.close()
        return stopped

    # ------------------------------------------------------------------ receiving

    def handle_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        self.stats["datagrams"] += 1
        ip = addr[0]
        if not self.options.allowed(ip):
            self._complain("refused", "ignoring a datagram from %s: not in the --allow list", ip)
            return
        if len(data) > MAX_DATAGRAM:
            self._garbage(addr, "too_long", f"datagram of {len(data)} bytes exceeds {MAX_DATAGRAM}")
            return
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except Exception as e:  # python-osc raises ParseError, but also UnicodeDecodeError & co.
            self._garbage(addr, "bad_message", f"not an OSC message or bundle ({type(e).__name__})")
            return
        for message in messages:
            try:
                address, params = message.address, list(message.params)
            except Exception as e:
                self._garbage(addr, "bad_message", f"unreadable OSC message ({type(e).__name__})")
                continue
            self.handle_message(address, params, addr)

    def handle_message(self, address: str, args: Sequence[Any], addr: tuple[str, int]) -> None:
        """Parse, dispatch, answer. Never raises."""
        self.stats["messages"] += 1
        request_id = ""
        reply_to: tuple[str, int] | None = None
        try:
            try:
                request = protocol.parse_request(address, args)
            except ProtocolError as e:
                request_id = e.request_id
                reply_to = self._clients.reply_address(addr, e.reply_port)
                raise
            request_id = request.request_id
            reply_to = self._clients.reply_address(addr, request.reply_port)
            ctx = Context(addr, reply_to, self._clients.origin(addr, reply_to))
            log.debug("%s %s from %s", address, request_id, addr)
            self._handlers[request.verb](request, ctx)
        except ProtocolError as e:
            self._refuse(reply_to, request_id, e.code, str(e), address)
        except JobError as e:
            self._refuse(reply_to, request_id, e.code, e.message, address)
        except Exception as e:
            log.exception("error handling %r from %s", address, addr)
            self._refuse(
                reply_to, request_id, "internal", f"{type(e).__name__} (see the daemon's log)", address
            )

    def _refuse(
        self, reply_to: tuple[str, int] | None, request_id: str, code: str, message: str, address: Any
    ) -> None:
        self.stats["errors"] += 1
        self._complain(
            code,
            "refused %.80r (%s) from %s: %s: %.200s",
            address,
            request_id or "-",
            reply_to,
            code,
            message,
            level=logging.INFO,
        )
        if reply_to is not None:
            self._send(protocol.error(request_id, code, message), reply_to)

    def _garbage(self, addr: tuple[str, int], code: str, message: str) -> None:
        """A datagram we cannot read: answer the client if this socket said hello, else only log it."""
        self.stats["errors"] += 1
        client = self._clients.said_hello(addr)  # that very socket: loopback is shared by every app
        self._complain(code, "%s from %s: %s", code, addr, message)
        if client is not None:
            self._send(protocol.error("", code, message), client.reply_to)

    # ------------------------------------------------------------------ clients

    def clients(self) -> list[Client]:
        return self._clients.all()

    def _targets(self, job: Job) -> list[tuple[str, int]]:
        """The job's own client, plus clients that said hello with watch 1; everyone if it has no client."""
        targets: list[tuple[str, int]] = []
        if job.origin.reply_to is not None:
            targets.append(job.origin.reply_to)
        for client in self.clients():
            if (client.watch or job.origin.reply_to is None) and client.reply_to not in targets:
                targets.append(client.reply_to)
        return targets

    def _send(self, dgram: bytes, to: tuple[str, int]) -> None:
        if to[1] == self.address[1] and (
            to[0] == self.address[0] or ipaddress.ip_address(to[0].split("%", 1)[0]).is_loopback
        ):
            self._complain("loop", "not replying to %s: that is this daemon's own port", to)
            return
        try:
            self.sock.sendto(dgram, to)
            self.stats["replies"] += 1
        except OSError as e:
            self.stats["send_failures"] += 1
            self._complain("send", "cannot send a reply to %s: %s", to, e)

    def _broadcast(self, dgram: bytes, targets: Iterable[tuple[str, int]]) -> None:
        for to in targets:
            self._send(dgram, to)

    # ------------------------------------------------------------------ handlers

    def _hello(self, request: Request, ctx: Context) -> None:
        p = request.params
        client = Client(p["name"], ctx.reply_to, bool(p["watch"]), time.time())
        self._clients.register(ctx.source, client)
        log.info(
            "hello from %s at %s:%d, replies to port %d%s",
            client.name or "a client",
            *ctx.source,
            ctx.reply_to[1],
            ", watching all jobs" if client.watch else "",
        )
        self._send(protocol.welcome(request.request_id, __version__, self.model_name), ctx.reply_to)

    def _ping(self, request: Request, ctx: Context) -> None:
        self._send(protocol.pong(request.request_id), ctx.reply_to)

    def _generate(self, request: Request, ctx: Context) -> None:
        if self.jobs.closed:
            raise JobError("shutting_down", "the daemon is shutting down; no new jobs")
        # a retransmission is answered from what we know, before the clips are probed again
        sub = self.jobs.duplicate_of(ctx.origin, request.request_id, request.fingerprint())
        if sub is None:
            generation = to_generation_request(request)
            sub = self.jobs.submit(generation, ctx.origin, request.request_id, request.fingerprint())
        if sub.duplicate:
            self._replay(sub, ctx.reply_to)

    def _replay(self, sub: Submission, reply_to: tuple[str, int]) -> None:
        job = sub.job
        log.info("request %s is a retransmission of job %s (%s)", job.request_id, job.job_id, job.state)
        if job.active:
            self._send(protocol.ack(job.request_id, sub.position, job.job_id), reply_to)
        elif job.state == "done":
            self._send(self._done_dgram(job), reply_to)
        else:
            self._send(
                protocol.error(job.request_id, job.error_code or job.state, job.error or job.state), reply_to
            )

    def _cancel(self, request: Request, ctx: Context) -> None:
        target = request.params["job"]
        if target is None:
            jobs = self.jobs.active_jobs(ctx.origin)
        else:
            job = self.jobs.find(target, ctx.origin)
            if job is None:
                raise ProtocolError(
                    "not_found", f"no job {target!r} (request id of yours, or a job id)", field="job"
                )
            jobs = [job]
        count = sum(self.jobs.cancel(j) for j in jobs)
        self._send(protocol.ok(request.request_id, "cancel", count), ctx.reply_to)

    def _status(self, request: Request, ctx: Context) -> None:
        target = request.params["job"]
        if target is None:
            pairs: dict[str, Any] = dict(self.jobs.status())
            pairs.update(
                model=self.model_name,
                version=__version__,
                protocol=protocol.PROTOCOL_VERSION,
                clients=len(self.clients()),
                uptime=round(time.time() - self.started_at, 1),
                out=str(self.out_dir),
            )
            for extra in list(self.status_extras):
                try:
                    pairs.update(_osc_values(extra()))
                except Exception:
                    log.exception("a status_extras callable failed")
            self._send(protocol.status(request.request_id, pairs), ctx.reply_to)
            return
        job = self.jobs.find(target, ctx.origin)
        if job is None:
            raise ProtocolError("not_found", f"no job {target!r}", field="job")
        pairs = {
            "job": job.job_id,
            "request": job.request_id,
            "state": job.state,
            "progress": float(job.progress),
            "position": self.jobs.position(job) if job.active else -1,
            "error_code": job.error_code,
            "error": job.error,
            "paths": len(job.paths),
        }
        self._send(protocol.status(request.request_id, pairs), ctx.reply_to)

    def _history(self, request: Request, ctx: Context) -> None:
        records = self.jobs.history(request.params["limit"], request.params["offset"])
        rid = request.request_id
        if not records:
            self._send(protocol.history(rid, 0, 0), ctx.reply_to)
            return
        for i, rec in enumerate(records):
            self._send(
                protocol.history(
                    rid,
                    i,
                    len(records),
                    rec.job_id,
                    rec.request_id,
                    rec.state,
                    _iso(rec.created),
                    rec.prompt,
                    rec.error,
                    rec.paths,
                ),
                ctx.reply_to,
            )

    # ------------------------------------------------------------------ job news (JobListener)

    def accepted(self, job: Job, position: int) -> None:
        self._broadcast(protocol.ack(job.request_id, position, job.job_id), self._targets(job))

    def progress(self, job: Job, fraction: float) -> None:
        self._broadcast(protocol.progress(job.request_id, fraction), self._targets(job))

    def chunk(self, job: Job, index: int, path: Path, start_seconds: float) -> None:
        self._broadcast(protocol.chunk(job.request_id, index, str(path), start_seconds), self._targets(job))

    def finished(self, job: Job) -> None:
        if job.state == "done":
            for report in job.grid:  # one grid reply per take, then done
                self._broadcast(protocol.grid(job.request_id, report), self._targets(job))
            dgram = self._done_dgram(job)
        else:
            dgram = protocol.error(job.request_id, job.error_code or job.state, job.error or job.state)
        self._broadcast(dgram, self._targets(job))

    def _done_dgram(self, job: Job) -> bytes:
        try:
            return protocol.done(job.request_id, job.paths)
        except ProtocolError as e:  # unreachable with app.MAX_OUT_DIR_CHARS, but never silent
            log.error("job %s: %s", job.job_id, e)
            return protocol.error(job.request_id, "internal", f"the output paths do not fit a reply: {e}")
