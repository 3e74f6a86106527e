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

import ipaddress
import itertools
import logging
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtNetwork import QAbstractSocket, QHostAddress, QUdpSocket
from pythonosc.osc_packet import OscPacket

from bridge import protocol
from bridge.protocol import ProtocolError
from bridge.protocol.decode import DecodedReply, decode_reply
from gui.results import GridReport

log = logging.getLogger(__name__)

PING_INTERVAL_MS = 1000  # how often the daemon is pinged
DOWN_AFTER_S = 3.5  # no reply for this long => the daemon is considered down
RETRY_INTERVAL_MS = 250  # how often unanswered generate requests are checked
RETRY_AFTER_S = 1.0  # a generate without ack/error after this long is sent again (same id: idempotent)
MAX_SENDS = 4  # sends of one generate request before giving up with `no_reply`
HISTORY_TIMEOUT_S = 3.0  # a history answer with missing parts is delivered as it is after this long
RECV_LIMIT = 65536  # bytes read per datagram (the daemon keeps replies under protocol.MAX_DATAGRAM)

_FINAL_REPLIES = ("done", "error")
_IGNORED = ("unknown_address", "missing_argument")  # not a reply, or one without its request id


@dataclass(frozen=True)
class HistoryEntry:
    """One job of a `history` answer (newest first)."""

    job: str
    request: str
    state: str
    created: str
    prompt: str
    error: str
    paths: tuple[str, ...] = ()


@dataclass
class _Pending:
    dgram: bytes
    sent_at: float
    sends: int = 1


@dataclass
class _HistoryParts:
    started: float
    count: int | None = None
    entries: dict[int, HistoryEntry] = field(default_factory=dict)


def resolve_host(host: str) -> QHostAddress:
    """An IP literal as is; a name through the resolver (instant for 'localhost'). ValueError if none."""
    address = QHostAddress(host)
    if not address.isNull():
        return address
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError as e:
        raise ValueError(f"cannot resolve host {host!r}: {e}") from None
    return QHostAddress(infos[0][4][0])


def is_loopback(address: QHostAddress) -> bool:
    try:
        return ipaddress.ip_address(address.toString().split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def build_request(verb: str, request_id: str, params: Mapping[str, Any], reply_port: int) -> bytes:
    """`/musicgen/<verb> <id> key value ... reply_port P`, checked against the protocol table first
    (raises ProtocolError, so a bad form never reaches the daemon)."""
    args: list[Any] = [request_id]
    for key, value in params.items():
        if value is None:
            continue
        args += [key, int(value) if isinstance(value, bool) else value]
    args += ["reply_port", int(reply_port)]
    message = protocol.REQUESTS[verb]
    request = protocol.parse_request(message.address, args)
    if verb == "generate":
        protocol.generation_kwargs(request)  # region_start/region_end pairing
    return protocol.encode(message.address, args)


def grid_report(reply: DecodedReply) -> GridReport:
    """A `grid` reply as a GridReport: 0 bpm means not measured, a downbeat of -1 none found."""
    played, downbeat = reply["played_bpm"], reply["downbeat"]
    return GridReport(
        take=reply["take"],
        status=reply["status"],
        message=reply.get("message", ""),
        played_bpm=played if played > 0 else None,
        ratio=reply["ratio"],
        downbeat=downbeat if downbeat >= 0 else None,
        confidence=reply["confidence"],
    )


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

    def __init__(self, name: str = "panel", parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._session = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._sock: QUdpSocket | None = None
        self._host: QHostAddress | None = None
        self._host_text = ""
        self._port = 0
        self._connected = False
        self._welcomed = False  # our hello was answered by the daemon now running
        self._last_heard = 0.0
        self._pings: dict[str, float] = {}
        self._pending: dict[str, _Pending] = {}
        self._histories: dict[str, _HistoryParts] = {}
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
        """Point at a daemon (ValueError for an unknown host) and start pinging it."""
        address = resolve_host(host)
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"port must be 1..65535, got {port}")
        self._host, self._host_text, self._port = address, host, int(port)
        self._open_socket(address)
        self._set_connected(False)
        self._pending.clear()
        self._ping_timer.start()
        self._retry_timer.start()
        self.hello()
        self.ping()

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

    def close(self) -> None:
        self._ping_timer.stop()
        self._retry_timer.stop()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._set_connected(False)

    def _set_connected(self, value: bool) -> None:
        if not value:
            self._welcomed = False
        if value != self._connected:
            self._connected = value
            log.info("daemon at %s:%d is %s", self._host_text, self._port, "up" if value else "down")
            self.connection_changed.emit(value)

    def _tick(self) -> None:
        if self._connected and time.monotonic() - self._last_heard > DOWN_AFTER_S:
            self._set_connected(False)
        if self._connected and not self._welcomed:
            self.hello()  # a restarted daemon forgot us: register again (for MIDI jobs' news)
        self.ping()
        now = time.monotonic()
        for rid in [r for r, h in self._histories.items() if now - h.started > HISTORY_TIMEOUT_S]:
            self._deliver_history(rid)

    # ------------------------------------------------------------------ requests

    def new_id(self, kind: str = "r") -> str:
        return f"panel-{self._session}-{kind}{next(self._ids)}"

    def _send(self, verb: str, params: Mapping[str, Any] | None = None, request_id: str | None = None) -> str:
        rid = request_id or self.new_id(verb[0])
        if self._sock is None or self._host is None:
            return rid
        dgram = build_request(verb, rid, params or {}, self.reply_port)
        self._sock.writeDatagram(dgram, self._host, self._port)
        if verb == "generate":
            self._pending[rid] = _Pending(dgram, time.monotonic())
        return rid

    def hello(self) -> str:
        return self._send("hello", {"name": self.name})

    def ping(self) -> str:
        rid = self._send("ping", request_id=self.new_id("p"))
        self._pings[rid] = time.monotonic()
        if len(self._pings) > 32:
            self._pings.pop(next(iter(self._pings)))
        return rid

    def generate(self, params: Mapping[str, Any]) -> str:
        """Queue a loop; returns the request id. Raises ProtocolError if the daemon would refuse it."""
        return self._send("generate", params, self.new_id("g"))

    def cancel(self, job: str | None = None) -> str:
        """Cancel one job (request id or job id) or, without one, all of this panel's jobs."""
        return self._send("cancel", {"job": job})

    def request_status(self, job: str | None = None) -> str:
        return self._send("status", {"job": job})

    def request_history(self, limit: int = 50) -> str:
        rid = self._send("history", {"limit": int(limit)})
        self._histories[rid] = _HistoryParts(time.monotonic())
        return rid

    def _retry(self) -> None:
        now = time.monotonic()
        for rid, p in list(self._pending.items()):
            if now - p.sent_at < RETRY_AFTER_S:
                continue
            if p.sends >= MAX_SENDS or self._sock is None or self._host is None:
                del self._pending[rid]
                self.error.emit(rid, "no_reply", f"no answer from {self._host_text}:{self._port}")
                continue
            log.info("no ack for %s yet; sending it again", rid)
            self._sock.writeDatagram(p.dgram, self._host, self._port)
            p.sent_at, p.sends = now, p.sends + 1

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
        if verb in ("ack", *_FINAL_REPLIES):
            self._pending.pop(rid, None)
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
        parts = self._histories.setdefault(rid, _HistoryParts(time.monotonic()))
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
        parts = self._histories.pop(rid, None)
        if parts is not None:
            self.history.emit(rid, [parts.entries[i] for i in sorted(parts.entries)])


__all__ = [
    "HistoryEntry",
    "OscClient",
    "ProtocolError",
    "build_request",
    "grid_report",
    "is_loopback",
    "resolve_host",
]
