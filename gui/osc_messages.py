"""The panel's requests and replies as data, without sockets: resolving the daemon's host, building a
checked request datagram, a history answer's jobs, a grid reply as a GridReport. `gui.osc_client` sends
and receives them."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtNetwork import QHostAddress

from bridge import protocol
from bridge.protocol.decode import DecodedReply
from gui.results import GridReport


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
class Pending:
    verb: str
    dgram: bytes
    first_sent: float
    sent_at: float
    sends: int = 1
    params: Mapping[str, Any] = field(default_factory=dict)  # to build it again for another reply port


@dataclass
class HistoryParts:
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


__all__ = [
    "HistoryEntry",
    "HistoryParts",
    "Pending",
    "build_request",
    "grid_report",
    "is_loopback",
    "resolve_host",
]
