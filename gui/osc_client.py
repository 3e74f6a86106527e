"""The panel's side of the OSC protocol: one UDP socket owned by a QObject, replies turned into Qt signals.

    client = OscClient(name="panel")
    client.set_target("127.0.0.1", 9000)            # binds a local reply port, starts pinging
    client.ack.connect(...); client.progress.connect(...); client.done.connect(...)
    rid = client.generate({"prompt": "dub techno", "bpm": 124.0, "bars": 8})

Nothing here blocks: the socket is a QUdpSocket read on `readyRead`, pings and retransmissions run on
QTimers. Every request carries our `reply_port`, so a daemon that restarted (and forgot our hello) still
answers us. Request ids are made here (`panel-<session>-<n>`). Addresses, argument encoding and reply
decoding (by name, `bridge.protocol.decode`) come from `bridge.protocol`; nothing else of the daemon is
imported (no torch, no numpy).
"""

from __future__ import annotations

import itertools
import logging
import secrets
import socket
import time
from collections.abc import Mapping
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtNetwork import QAbstractSocket, QHostAddress, QUdpSocket
from pythonosc.osc_packet import OscPacket

from bridge.protocol import ProtocolError
from bridge.protocol.decode import DecodedReply, decode_reply
from gui.osc_messages import (
    HistoryEntry,
    HistoryParts,
    Pending,
    build_request,
    grid_report,
    is_loopback,
    resolve_host,
)

log = logging.getLogger(__name__)

PING_INTERVAL_MS = 250  # how often the daemon is pinged (and a dead one noticed: see _probe)
DOWN_AFTER_S = 3.0  # no reply for this long => down (a hung daemon, or a remote one that sends no ICMP)
RETRY_INTERVAL_MS = 100  # how often unanswered requests are checked
RETRY_AFTER_S = 0.5  # a request without its answer after this long is sent again (same id: idempotent)
GIVE_UP_S = 5.0  # a request unanswered this long fails with NO_REPLY
RETRANSMIT_BURST = 8  # requests sent again per check at most: a burst must not overflow the daemon again
HISTORY_TIMEOUT_S = GIVE_UP_S  # a history answer with missing parts is delivered as it is after this long
RECV_LIMIT = 65536  # bytes read per datagram (the daemon keeps replies under protocol.MAX_DATAGRAM)
NO_REPLY = "no_reply"  # the error code of a request the daemon never answered (gui.messages words it)

# which replies answer a request (and stop its retransmission); an error answers any of them
_ANSWERS = {"generate": ("ack", "done"), "cancel": ("ok",), "status": ("status",), "history": ()}
_ASKED_AGAIN = ("status", "history")  # verbs a reconnect sends again rather than fails
_IGNORED = ("unknown_address", "missing_argument")  # not a reply, or one without its request id


class OscClient(QObject):
    """Talks to one daemon. Signals carry the request id first, like the replies."""

    connection_changed = pyqtSignal(bool)
    welcome = pyqtSignal(str, str)  # daemon version, model
    pong = pyqtSignal(float)  # round trip, milliseconds
    ack = pyqtSignal(str, int, str)  # request id, queue position, job id
    progress = pyqtSignal(str, float)
    chunk = pyqtSignal(str, int, str, float)  # request id, index, path, start seconds
    grid = pyqtSignal(str, object)  # request id, GridReport (one per take, just before done)
    done = pyqtSignal(str, list)  # request id, paths
    error = pyqtSignal(str, str, str)  # request id, code, message
    ok = pyqtSignal(str, str, int)  # request id, verb, count
    status = pyqtSignal(str, dict)
    history = pyqtSignal(str, list)  # request id, [HistoryEntry]
    history_page = pyqtSignal(str, list, int)  # request id, [HistoryEntry], jobs the daemon answered (0: end)

    def __init__(self, name: str = "panel", parent: QObject | None = None, *, watch: bool = True):
        super().__init__(parent)
        self.name = name
        self.watch = watch  # hello ... watch 1: other clients' jobs' news come to us too
        self._session = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._sock: QUdpSocket | None = None
        self._probe: socket.socket | None = None
        self._host: QHostAddress | None = None
        self._host_text = ""
        self._port = 0
        self._connected = False
        self._welcomed = False  # our hello was answered by the daemon now running
        self._last_heard = 0.0
        self.down_reason = ""  # why the daemon is considered down, in words ('' while connected)
        self._pings: dict[str, float] = {}
        self._pending: dict[str, Pending] = {}
        self._histories: dict[str, HistoryParts] = {}
        self.retransmissions = 0  # requests sent again because no answer came in time
        self.model = ""
        self.daemon_version = ""
        self._ping_timer = QTimer(self)
        self._ping_timer.setInterval(PING_INTERVAL_MS)
        self._ping_timer.timeout.connect(self._tick)
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(RETRY_INTERVAL_MS)
        self._retry_timer.timeout.connect(self._retry)

    # ------------------------------------------------------------------ connection

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def target(self) -> tuple[str, int]:
        return self._host_text, self._port

    @property
    def reply_port(self) -> int:
        return int(self._sock.localPort()) if self._sock is not None else 0

    def set_target(self, host: str, port: int) -> None:
        """Point at a daemon (ValueError for an unknown host or a bad port) and start pinging it."""
        address = resolve_host(host)
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"the port must be a number from 1 to 65535, not {port}")
        self._host, self._host_text, self._port = address, host, int(port)
        self._open_socket(address)
        self._open_probe(address, int(port))
        self._set_connected(False, "no answer yet")
        # the panel's own questions (status, history pages) are asked again on the new socket with the same
        # ids; a job the old target never answered is failed, not silently moved to another daemon
        again = [(rid, p) for rid, p in self._pending.items() if p.verb in _ASKED_AGAIN]
        for rid, _ in again:
            self._pending.pop(rid)
            self._histories.pop(rid, None)
        self._fail_pending("the panel reconnected before the daemon answered")
        self._ping_timer.start()
        self._retry_timer.start()
        self.hello()
        self.ping()
        for rid, p in again:
            self._send(p.verb, p.params, rid)

    def _open_socket(self, target: QHostAddress) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock.deleteLater()
        sock = QUdpSocket(self)
        v6 = target.protocol() == QAbstractSocket.NetworkLayerProtocol.IPv6Protocol
        if is_loopback(target):
            local = QHostAddress.SpecialAddress.LocalHostIPv6 if v6 else QHostAddress.SpecialAddress.LocalHost
        else:
            local = QHostAddress.SpecialAddress.AnyIPv6 if v6 else QHostAddress.SpecialAddress.AnyIPv4
        if not sock.bind(QHostAddress(local), 0):
            raise OSError(f"cannot open a UDP reply port: {sock.errorString()}")
        sock.readyRead.connect(self._read)
        self._sock = sock

    def _open_probe(self, target: QHostAddress, port: int) -> None:
        """A second, *connected* socket that sends the pings: when nothing listens on the daemon's port,
        the kernel's ICMP 'port unreachable' comes back to it as ConnectionRefusedError, so a daemon that
        died is noticed at the next ping (a quarter of a second) instead of after a silence."""
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        host = target.toString().split("%", 1)[0]
        try:
            family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            probe = socket.socket(family, socket.SOCK_DGRAM)
            probe.setblocking(False)
            probe.connect(sockaddr)
        except OSError as e:  # pings then go through the reply socket; silence alone tells down
            log.info("no ping socket for %s:%d: %s", host, port, e)
            return
        self._probe = probe

    def close(self) -> None:
        self._ping_timer.stop()
        self._retry_timer.stop()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        self._pending.clear()
        self._set_connected(False, "the panel closed the connection")

    def mark_down(self, reason: str) -> None:
        """The daemon is known to be gone (e.g. the process the panel started exited): say so now."""
        self._set_connected(False, reason)

    def _set_connected(self, value: bool, reason: str = "") -> None:
        if not value:
            self._welcomed = False
            self.down_reason = reason or self.down_reason or "no answer"
        else:
            self.down_reason = ""
        if value != self._connected:
            self._connected = value
            log.info("daemon at %s:%d is %s", self._host_text, self._port, "up" if value else "down")
            self.connection_changed.emit(value)

    def _tick(self) -> None:
        refused = self._probe_refused()
        if self._connected and refused:
            self._set_connected(False, "nothing listens on that port any more")
        elif self._connected and time.monotonic() - self._last_heard > DOWN_AFTER_S:
            self._set_connected(False, f"no answer for {DOWN_AFTER_S:g} s")
        if self._connected and not self._welcomed:
            self.hello()  # a restarted daemon forgot us: register again (for other clients' news)
        self.ping()
        now = time.monotonic()
        for rid in [r for r, h in self._histories.items() if now - h.started > HISTORY_TIMEOUT_S]:
            self._deliver_history(rid)

    def _probe_refused(self) -> bool:
        """Whether an ICMP 'port unreachable' came back for a ping since the last look."""
        probe, refused = self._probe, False
        for _ in range(64 if probe is not None else 0):  # bounded: a datagram here is nothing to wait on
            try:
                probe.recv(RECV_LIMIT)  # the daemon answers the reply socket: this is only ever errors
            except (ConnectionRefusedError, ConnectionResetError):  # Linux/macOS, Windows' WSAECONNRESET
                refused = True
            except OSError:  # BlockingIOError: nothing (more) waiting
                break
        return refused

    # ------------------------------------------------------------------ requests

    def new_id(self, kind: str = "r") -> str:
        return f"panel-{self._session}-{kind}{next(self._ids)}"

    def _send(self, verb: str, params: Mapping[str, Any] | None = None, request_id: str | None = None) -> str:
        rid = request_id or self.new_id(verb[0])
        if self._sock is None or self._host is None:
            return rid
        dgram = build_request(verb, rid, params or {}, self.reply_port)
        self._sock.writeDatagram(dgram, self._host, self._port)
        if verb in _ANSWERS:
            now = time.monotonic()
            self._pending[rid] = Pending(verb, dgram, now, now, params=dict(params or {}))
        return rid

    def hello(self) -> str:
        return self._send("hello", {"name": self.name, "watch": self.watch})

    def ping(self) -> str:
        rid = self.new_id("p")
        if self._sock is None or self._host is None:
            return rid
        dgram = build_request("ping", rid, {}, self.reply_port)
        self._pings[rid] = time.monotonic()
        if len(self._pings) > 32:
            self._pings.pop(next(iter(self._pings)))
        if self._probe is not None:
            try:
                self._probe.send(dgram)
                return rid
            except (ConnectionRefusedError, ConnectionResetError):  # an earlier ping's ICMP answer
                if self._connected:
                    self._set_connected(False, "nothing listens on that port any more")
                return rid
            except OSError as e:
                log.debug("ping socket: %s", e)
        self._sock.writeDatagram(dgram, self._host, self._port)
        return rid

    def generate(self, params: Mapping[str, Any]) -> str:
        """Queue a loop; returns the request id. Raises ProtocolError if the daemon would refuse it."""
        return self._send("generate", params, self.new_id("g"))

    def cancel(self, job: str | None = None) -> str:
        """Cancel one job (request id or job id) or, without one, all of this panel's jobs."""
        return self._send("cancel", {"job": job})

    def request_status(self, job: str | None = None) -> str:
        return self._send("status", {"job": job})

    def request_history(self, limit: int = 50, offset: int = 0) -> str:
        """Ask for up to `limit` jobs after the newest `offset` (the daemon may answer fewer, to keep
        within its byte budget: page on with offset + the count `history_page` reports, until 0)."""
        rid = self._send("history", {"limit": int(limit), "offset": int(offset)})
        self._histories[rid] = HistoryParts(time.monotonic())
        return rid

    def pending_ids(self) -> list[str]:
        """Requests sent and not answered yet (they are being retransmitted)."""
        return list(self._pending)

    def _retry(self) -> None:
        """Send every unanswered request again, with the same id (the daemon runs a generate once per
        id and answers a repeat from what it knows), until its answer or GIVE_UP_S."""
        now = time.monotonic()
        budget = RETRANSMIT_BURST
        for rid, p in sorted(self._pending.items(), key=lambda item: item[1].sent_at):
            if now - p.first_sent >= GIVE_UP_S or self._sock is None or self._host is None:
                del self._pending[rid]
                self._give_up(rid, p)
                continue
            if now - p.sent_at < RETRY_AFTER_S or budget <= 0:
                continue
            budget -= 1
            log.info("no answer to %s %s yet; sending it again", p.verb, rid)
            self._sock.writeDatagram(p.dgram, self._host, self._port)
            p.sent_at, p.sends = now, p.sends + 1
            self.retransmissions += 1

    def _give_up(self, rid: str, p: Pending) -> None:
        parts = self._histories.get(rid)
        if parts is not None and parts.count is not None:
            self._deliver_history(rid)  # what came of it
            return
        self._histories.pop(rid, None)
        where = f"{self._host_text}:{self._port}"
        self.error.emit(rid, NO_REPLY, f"nothing came back from {where} within {GIVE_UP_S:g} seconds")

    def _fail_pending(self, reason: str) -> None:
        for rid in list(self._pending):
            self._pending.pop(rid)
            self._histories.pop(rid, None)
            self.error.emit(rid, NO_REPLY, reason)

    # ------------------------------------------------------------------ replies

    def _read(self) -> None:
        sock = self._sock
        while sock is not None and sock.hasPendingDatagrams():
            datagram = sock.receiveDatagram(RECV_LIMIT)
            if datagram.senderPort() != self._port:
                continue  # only the daemon's socket answers us
            try:
                messages = [m.message for m in OscPacket(bytes(datagram.data())).messages]
            except Exception as e:  # python-osc raises ParseError, but also UnicodeDecodeError & co.
                log.warning("unreadable datagram from the daemon: %s", e)
                continue
            self._last_heard = time.monotonic()
            self._set_connected(True)
            for message in messages:
                try:
                    self.handle_reply(message.address, list(message.params))
                except Exception:
                    log.exception("cannot handle reply %r", message.address)

    def handle_reply(self, address: str, args: list[Any]) -> None:
        """Turn one reply into a signal (public so tests can feed replies without a socket)."""
        try:
            reply = decode_reply(address, args)
        except ProtocolError as e:
            if e.code not in _IGNORED:
                raise
            log.debug("ignoring %r %r", address, args[:4])
            return
        verb, rid = reply.verb, reply.request_id
        pending = self._pending.get(rid)
        if pending is not None and (verb == "error" or verb in _ANSWERS[pending.verb]):
            del self._pending[rid]
        if verb == "welcome":
            self._welcomed = True
            self.daemon_version, self.model = reply["version"], reply["model"]
            self.welcome.emit(self.daemon_version, self.model)
        elif verb == "pong":
            sent = self._pings.pop(rid, None)
            if sent is not None:
                self.pong.emit((time.monotonic() - sent) * 1000.0)
        elif verb == "ack":
            self.ack.emit(rid, reply["queue_position"], reply["job"])
        elif verb == "progress":
            self.progress.emit(rid, reply["fraction"])
        elif verb == "chunk":
            self.chunk.emit(rid, reply["index"], reply["path"], reply["start_seconds"])
        elif verb == "grid":
            self.grid.emit(rid, grid_report(reply))
        elif verb == "done":
            self.done.emit(rid, list(reply.repeated))
        elif verb == "error":
            self._histories.pop(rid, None)
            self.error.emit(rid, reply["code"], reply.get("message", ""))
        elif verb == "ok":
            self.ok.emit(rid, reply["verb"], reply["count"])
        elif verb == "status":
            self.status.emit(rid, dict(reply.pairs))
        elif verb == "history":
            self._history_part(rid, reply)

    def _history_part(self, rid: str, reply: DecodedReply) -> None:
        parts = self._histories.setdefault(rid, HistoryParts(time.monotonic()))
        index, count = reply["index"], reply["count"]
        parts.count = count
        if count > 0 and "error" in reply:  # every job field came (the paths may be none)
            parts.entries[index] = HistoryEntry(
                job=reply["job"],
                request=reply["request"],
                state=reply["state"],
                created=reply["created"],
                prompt=reply["prompt"],
                error=reply["error"],
                paths=reply.repeated,
            )
        if len(parts.entries) >= count:
            self._deliver_history(rid)

    def _deliver_history(self, rid: str) -> None:
        self._pending.pop(rid, None)
        parts = self._histories.pop(rid, None)
        if parts is not None:
            entries = [parts.entries[i] for i in sorted(parts.entries)]
            self.history_page.emit(rid, entries, parts.count or 0)
            self.history.emit(rid, entries)


__all__ = [
    "NO_REPLY",
    "HistoryEntry",
    "OscClient",
    "ProtocolError",
    "build_request",
    "grid_report",
    "is_loopback",
    "resolve_host",
]
