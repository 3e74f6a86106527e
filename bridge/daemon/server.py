"""The OSC daemon: one UDP socket on loopback, the protocol table, the job queue, the journal.

    datagram ─> size/allow-list ─> read_packet (a bundle: all or nothing) ─> one ReplyBudget
             ─> per message: reply address? drop ─> protocol.parse_request ─> handler ─> reply
                                                                generate ─> JobQueue ─> worker ─┘

Every handler runs inside one try/except: nothing a client sends can stop the loop. Where replies go is
`bridge.daemon.clients` (the sender's IP, at its declared port; never a host a client names); sending,
the datagram's reply budget and the error rate limit are `bridge.daemon.outbox`. No reflector: a message
at a reply address is never answered. Garbage is answered only to a socket that said hello, and logged
(`bridge.daemon.logs`). A remote client is not told what its paths are on disk. At shutdown what is left
in the socket is answered before it closes. The server takes any `Renderer`: it never imports the model
(start-up, which does, is `bridge.daemon.app`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bridge import __version__, protocol
from bridge.daemon import answers
from bridge.daemon.budget import RateLimits
from bridge.daemon.clients import Address, Client, ClientRegistry, Context
from bridge.daemon.jobs import JobQueue
from bridge.daemon.journal import Journal
from bridge.daemon.logs import LogLimiter, escape, route_library_warnings
from bridge.daemon.net import ServerOptions, bind_socket, is_loopback_ip, recv_buffer_size
from bridge.daemon.outbox import Outbox
from bridge.daemon.packets import BadPacket, read_packet
from bridge.daemon.types import Job, JobError, JobListener, Renderer, Submission
from bridge.protocol import MAX_DATAGRAM, ProtocolError, Request
from bridge.protocol.to_request import to_generation_request

log = logging.getLogger(__name__)

RECV_BUFFER = 65536  # bytes read per datagram; anything over MAX_DATAGRAM is refused as too_long
POLL_SECONDS = 0.2  # the loop checks for shutdown this often
SHUTDOWN_TIMEOUT = 30.0  # seconds to let the running job stop at its next step before exiting anyway
# addresses only the daemon sends: never answered (status and history are requests too)
REPLY_ONLY = frozenset(r.address for verb, r in protocol.REPLIES.items() if verb not in protocol.REQUESTS)
HEAVY = frozenset({"status", "history"})  # requests that read the journal or answer with many bytes
# errors answering a request that was understood (short, fixed text): not under the error rate limit, so a
# burst is answered in full (each is as big as an ack)
REFUSALS = frozenset({"queue_full", "rate_limited", "shutting_down", "duplicate_id"})


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
        limits: RateLimits | None = None,
    ):
        self.options = options or ServerOptions()
        self.out_dir = Path(out_dir)
        self.journal = journal
        self.model_name = model_name or getattr(renderer, "name", "")
        self.sock = sock or bind_socket(self.options.host, self.options.port, self.options.recv_buffer)
        self.sock.settimeout(POLL_SECONDS)
        self.recv_buffer = recv_buffer_size(self.sock)
        self._address: tuple[str, int] = tuple(self.sock.getsockname()[:2])  # type: ignore[assignment]
        kwargs = {} if progress_interval is None else {"progress_interval": progress_interval}
        self.jobs = JobQueue(
            renderer, self.out_dir, journal, self, max_queued=self.options.max_queued, **kwargs
        )
        self._clients = ClientRegistry()
        self._limits = limits or RateLimits()
        self._stop = threading.Event()
        self._loop_done = threading.Event()
        self._loop_done.set()  # no loop running yet
        self._complain = LogLimiter(log)
        self.started_at = time.time()
        # more daemon-status fields from other parts (e.g. MIDI): callables returning {key: str/int/float}
        self.status_extras: list[Callable[[], Mapping[str, Any]]] = []
        self.stats = {
            "datagrams": 0,
            "messages": 0,
            "errors": 0,
            "replies": 0,
            "send_failures": 0,
            "ignored_replies": 0,  # messages at a reply address (another daemon's pong, error, ...)
            "errors_unsent": 0,  # error replies over the per-address rate limit
            "rate_limited": 0,  # status/history/generate refused as rate_limited
            "over_budget": 0,  # replies or bundle messages past their datagram's reply budget
        }
        self.outbox = Outbox(self.sock, self._clients, self._limits, self.stats, self._complain)
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
        self._loop_done.clear()
        unroute = route_library_warnings(self._complain)
        try:
            self.jobs.start()
            log.info(
                "serving OSC on %s:%d (model %s, output %s)", *self.address, self.model_name, self.out_dir
            )
            while not self._stop.is_set():
                self._receive_one()
        finally:
            unroute()
            self._loop_done.set()

    def _receive_one(self) -> bool:
        """Read and handle one datagram (waiting up to the socket's timeout); False if none came."""
        try:
            data, addr = self.sock.recvfrom(RECV_BUFFER)
        except (TimeoutError, BlockingIOError):
            return False
        except OSError as e:  # e.g. Windows' WSAECONNRESET after a reply hit a closed port
            if not self._stop.is_set():
                self._complain("recv", "receive failed: %s", e)
            return False
        try:
            self.handle_datagram(data, addr)
        except Exception:  # handlers catch their own; this is the last line of defence
            log.exception("unexpected error handling a datagram from %s", addr)
        return True

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="musicgen-osc", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop receiving (from any thread or a signal handler); close() finishes the shutdown."""
        self._stop.set()

    def close(self, timeout: float = SHUTDOWN_TIMEOUT, forced: Callable[[], bool] = lambda: False) -> bool:
        """Cancel waiting jobs, stop the running one at its next step, wait for it (up to `timeout`, or
        until `forced()`), close the socket. Requests arriving meanwhile, and those still in the socket's
        buffer at the end, are answered (generate: shutting_down), so no request is dropped unanswered.
        True if the worker stopped in time."""
        self.stop()
        self._loop_done.wait(2 * POLL_SECONDS + 1.0)  # the receive loop, if any, has let go of the socket
        self.jobs.close(timeout=0)
        deadline = time.monotonic() + timeout
        stopped = self.jobs.join(0)
        while not stopped and time.monotonic() < deadline and not forced():
            self._drain(0.1)
            stopped = self.jobs.join(0)
        if not stopped:
            self.jobs.abandon("the daemon stopped before this job finished")
        self._drain(0.0)
        with contextlib.suppress(OSError):
            self.sock.close()
        return stopped

    def _drain(self, seconds: float) -> None:
        """Answer datagrams for `seconds` (0: only those already waiting in the socket's buffer)."""
        if self.sock.fileno() < 0:
            return
        deadline = time.monotonic() + seconds
        unroute = route_library_warnings(self._complain)  # the receive loop's filter is gone by now
        try:
            while True:
                left = deadline - time.monotonic()
                self.sock.settimeout(max(left, 0.0))  # 0: non-blocking
                if not self._receive_one() and left <= 0:
                    return
        except OSError:
            return
        finally:
            unroute()
            with contextlib.suppress(OSError):
                self.sock.settimeout(POLL_SECONDS)

    # ------------------------------------------------------------------ receiving

    def handle_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        """One datagram, a bundle included, is one unit of work with one reply budget."""
        self.stats["datagrams"] += 1
        ip = addr[0]
        if not self.options.allowed(ip):
            self._complain("refused", "ignoring a datagram from %s: not in the --allow list", ip)
            return
        budget = self.outbox.begin()
        try:
            if len(data) > MAX_DATAGRAM:
                self._garbage(addr, "too_long", f"datagram of {len(data)} bytes exceeds {MAX_DATAGRAM}")
                return
            try:
                messages = read_packet(data)
            except BadPacket as e:
                self._garbage(addr, "bad_message", str(e))
                return
            for i, message in enumerate(messages):
                if i and budget.left < MAX_DATAGRAM:  # each further message may need one full reply
                    self.stats["over_budget"] += len(messages) - i
                    self._complain(
                        "budget",
                        "%d of %d messages of a bundle from %s not run: its reply budget is spent",
                        len(messages) - i,
                        len(messages),
                        addr,
                    )
                    break
                self.handle_message(message.address, list(message.params), addr)
        finally:
            self.outbox.end()

    def handle_message(self, address: str, args: Sequence[Any], addr: tuple[str, int]) -> None:
        """Parse, dispatch, answer. Never raises."""
        self.stats["messages"] += 1
        if address in REPLY_ONLY:  # never answer a reply: that is how two daemons ping-pong forever
            self.stats["ignored_replies"] += 1
            self._complain("reply", "ignoring %.40s from %s: a reply address", address, addr, level=logging.DEBUG)
            return
        request_id = ""
        reply_to: Address | None = None
        try:
            try:
                request = protocol.parse_request(address, args)
            except ProtocolError as e:
                request_id = e.request_id
                reply_to = self._clients.reply_address(addr, e.reply_port)
                raise
            request_id = request.request_id
            reply_to = self._clients.reply_address(addr, request.reply_port)
            ctx = Context(addr, reply_to, self._clients.origin(reply_to))
            if request.verb in HEAVY:
                self._rate("heavy", ctx, "status and history requests")
            log.debug("%s %s from %s", address, request_id, addr)
            self._handlers[request.verb](request, ctx)
        except ProtocolError as e:
            self._refuse(addr, reply_to, request_id, e.code, str(e), address, e.field)
        except JobError as e:
            self._refuse(addr, reply_to, request_id, e.code, e.message, address)
        except Exception as e:
            log.exception("error handling %r from %s", escape(address), addr)
            self._refuse(
                addr, reply_to, request_id, "internal", f"{type(e).__name__} (see the daemon's log)", address
            )

    def _rate(self, kind: str, ctx: Context, what: str) -> None:
        if not self._limits.allow(kind, ctx.reply_to):
            self.stats["rate_limited"] += 1
            raise JobError("rate_limited", f"too many {what} from this client; wait a moment and retry")

    def _refuse(
        self,
        source: tuple[str, int],
        reply_to: Address | None,
        request_id: str,
        code: str,
        message: str,
        address: Any,
        field: str | None = None,
    ) -> None:
        self.stats["errors"] += 1
        self._complain(
            code,
            "refused %.80s (%s) from %s: %s: %.200s",
            str(address),
            request_id or "-",
            reply_to,
            code,
            message,
            level=logging.INFO,
        )
        if reply_to is None:
            return
        if not is_loopback_ip(source[0]):
            message = answers.for_remote(code, message, field)
        dgram = protocol.error(request_id, code, message)
        if code in REFUSALS:  # a well-formed request refused: one short answer each, as for an ack
            self._send(dgram, reply_to)
        else:
            self.outbox.send_error(dgram, reply_to)

    def _garbage(self, addr: tuple[str, int], code: str, message: str) -> None:
        """A datagram we cannot read: answer the client if this socket said hello, else only log it."""
        self.stats["errors"] += 1
        client = self._clients.said_hello(addr)  # that very socket: loopback is shared by every app
        self._complain(code, "%s from %s: %s", code, addr, message)
        if client is not None:
            self.outbox.send_error(protocol.error("", code, message), client.reply_to)

    def clients(self) -> list[Client]:
        return self._clients.all()

    def _send(self, dgram: bytes, to: Address) -> None:
        self.outbox.send(dgram, to)

    # ------------------------------------------------------------------ handlers

    def _hello(self, request: Request, ctx: Context) -> None:
        p = request.params
        client = Client(escape(p["name"]), ctx.reply_to, bool(p["watch"]), time.time())  # logged by the queue too
        self._clients.register(ctx.source, client)
        log.info(
            "hello from %s at %s:%d, replies to port %d%s",
            client.name or "a client",
            *ctx.source[:2],
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
            self._rate("submit", ctx, "generate requests")
            try:
                generation = to_generation_request(request)
                sub = self.jobs.submit(generation, ctx.origin, request.request_id, request.fingerprint())
            except JobError as e:
                if e.code == "queue_full":  # nothing was queued: it costs no submit token
                    self._limits.give_back("submit", ctx.reply_to)
                raise
        if sub.duplicate:
            self._replay(sub, ctx.reply_to)

    def _replay(self, sub: Submission, reply_to: Address) -> None:
        job = sub.job
        log.info("request %s is a retransmission of job %s (%s)", job.request_id, job.job_id, job.state)
        if job.active:
            self._send(protocol.ack(job.request_id, sub.position, job.job_id), reply_to)
        elif job.state == "done":
            self._send(self._done_dgram(job), reply_to)
        else:
            self._send(self._error_dgram(job), reply_to)

    def _cancel(self, request: Request, ctx: Context) -> None:
        target = request.params["job"]
        if target is None:
            jobs = self.jobs.active_jobs(ctx.origin)  # this client's own: its reply address
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
                recv_buffer=self.recv_buffer,
            )
            pairs.update({k: v for k, v in self.stats.items() if k not in ("replies", "send_failures")})
            for extra in list(self.status_extras):
                try:
                    pairs.update(answers.osc_values(extra()))
                except Exception:
                    log.exception("a status_extras callable failed")
            self._send(protocol.status(request.request_id, pairs), ctx.reply_to)
            return
        job = self.jobs.find(target, ctx.origin)
        if job is None:
            raise ProtocolError("not_found", f"no job {target!r}", field="job")
        pairs = answers.job_status(job, self.jobs.position(job) if job.active else -1)
        if not is_loopback_ip(ctx.source[0]) and job.error_code:
            pairs["error"] = answers.for_remote(job.error_code, job.error)
        self._send(protocol.status(request.request_id, pairs), ctx.reply_to)

    def _history(self, request: Request, ctx: Context) -> None:
        """At most `limit` jobs, newest first, fewer when the datagram's reply budget runs out."""
        records = self.jobs.history(request.params["limit"], request.params["offset"])
        budget = self.outbox.budget.left if self.outbox.budget is not None else MAX_DATAGRAM
        for dgram in answers.history_page(request.request_id, records, budget):
            self._send(dgram, ctx.reply_to)

    # ------------------------------------------------------------------ job news (JobListener)

    def accepted(self, job: Job, position: int) -> None:
        self.outbox.broadcast(protocol.ack(job.request_id, position, job.job_id), job)

    def progress(self, job: Job, fraction: float) -> None:
        self.outbox.broadcast(protocol.progress(job.request_id, fraction), job)

    def chunk(self, job: Job, index: int, path: Path, start_seconds: float) -> None:
        self.outbox.broadcast(protocol.chunk(job.request_id, index, str(path), start_seconds), job)

    def finished(self, job: Job) -> None:
        if job.state == "done":
            for report in job.grid:  # one grid reply per take, then done
                self.outbox.broadcast(protocol.grid(job.request_id, report), job)
            dgram = self._done_dgram(job)
        else:
            dgram = self._error_dgram(job)
        self.outbox.broadcast(dgram, job)

    def _error_dgram(self, job: Job) -> bytes:
        code, message = job.error_code or job.state, job.error or job.state
        reply_to = job.origin.reply_to
        if reply_to is not None and not is_loopback_ip(reply_to[0]):
            message = answers.for_remote(code, message)
        return protocol.error(job.request_id, code, message)

    def _done_dgram(self, job: Job) -> bytes:
        try:
            return protocol.done(job.request_id, job.paths)
        except ProtocolError as e:  # unreachable with app.MAX_OUT_DIR_CHARS, but never silent
            log.error("job %s: %s", job.job_id, e)
            return protocol.error(job.request_id, "internal", f"the output paths do not fit a reply: {e}")
