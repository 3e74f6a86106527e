"""Where the daemon listens and who may talk to it: the bind address, the allow-list, the UDP socket.

    --host/--port/--allow-remote/--allow ─> ServerOptions (checked) ─> bind_socket ─> Server
                                                   └─ allowed(ip): loopback, or in an --allow network

Loopback only unless asked otherwise: a non-loopback host needs --allow-remote and at least one --allow
address or network, because anyone who reaches the port can use the GPU and read audio files.

The socket asks for a roomy receive buffer (`recv_buffer`, 4 MiB) so bursts queue instead of being dropped
by the kernel; what it got is logged, with a warning when it is less (stock Linux caps it at
net.core.rmem_max, 212,992 bytes: a burst of a few hundred requests then loses some, which the clients'
retransmissions recover). Linux reports twice the size set (its bookkeeping overhead).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from typing import Any

from bridge import protocol
from bridge.daemon.jobs import MAX_QUEUED
from bridge.limits import SOCKET_BUFFER

log = logging.getLogger(__name__)

MIN_RECV_BUFFER = 1024  # bytes: the smallest recv_buffer an option may ask for (tests use small ones)


class ServerError(RuntimeError):
    """The daemon cannot start (bad bind address, port in use, output folder unusable)."""


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


@dataclass(frozen=True)
class ServerOptions:
    """Where to listen and who may talk. A non-loopback host needs allow_remote and an allow-list
    (addresses or networks such as 192.168.1.0/24); loopback clients are always allowed."""

    host: str = protocol.DEFAULT_HOST
    port: int = protocol.DEFAULT_PORT
    allow_remote: bool = False
    allow: tuple[str, ...] = ()
    max_queued: int = MAX_QUEUED
    recv_buffer: int = SOCKET_BUFFER  # bytes asked for SO_RCVBUF (the kernel may give less; it is logged)
    networks: tuple[Any, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ServerError(f"port must be 0..65535 (0 = any free port), got {self.port!r}")
        if not 1 <= self.max_queued <= 10_000:
            raise ServerError(f"queue size must be 1..10000, got {self.max_queued}")
        if not isinstance(self.recv_buffer, int) or not MIN_RECV_BUFFER <= self.recv_buffer <= 1 << 30:
            raise ServerError(f"receive buffer must be {MIN_RECV_BUFFER}..{1 << 30} bytes, got {self.recv_buffer!r}")
        nets = []
        for entry in self.allow:
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ServerError(f"--allow {entry!r} is not an IP address or network") from None
        object.__setattr__(self, "networks", tuple(nets))
        if not self.loopback:
            if not self.allow_remote:
                raise ServerError(
                    f"--host {self.host} is not a loopback address: anyone on that network could use the "
                    "GPU and read audio files. Add --allow-remote and --allow CLIENT_IP to do it anyway"
                )
            if not nets:
                raise ServerError("--allow-remote needs at least one --allow CLIENT_IP (or network)")

    @property
    def loopback(self) -> bool:
        return _is_loopback_host(self.host)

    def allowed(self, ip: str) -> bool:
        addr = _ip(ip)
        return addr is not None and (addr.is_loopback or any(addr in net for net in self.networks))


def _ip(ip: str) -> Any:
    """The address of a datagram's source (IPv4-mapped IPv6 as IPv4, any %scope dropped); None if unreadable."""
    try:
        addr = ipaddress.ip_address(str(ip).split("%", 1)[0])
    except ValueError:
        return None
    if getattr(addr, "ipv4_mapped", None) is not None:
        addr = addr.ipv4_mapped
    return addr


def is_loopback_ip(ip: str) -> bool:
    """True for a source on this machine (127.0.0.0/8, ::1, ::ffff:127.x)."""
    addr = _ip(ip)
    return addr is not None and addr.is_loopback


def bind_socket(host: str, port: int, recv_buffer: int = SOCKET_BUFFER) -> socket.socket:
    """A UDP socket bound to (host, port), with roomy buffers (the receive buffer obtained is logged).
    ServerError if that is impossible."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as e:
        raise ServerError(f"cannot resolve --host {host!r}: {e}") from None
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    for opt, size in ((socket.SO_RCVBUF, recv_buffer), (socket.SO_SNDBUF, SOCKET_BUFFER)):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, opt, size)
    report_recv_buffer(sock, recv_buffer)
    try:
        sock.bind(sockaddr)
    except OSError as e:
        sock.close()
        hint = " (is another musicgen-bridge running? pick another --port)" if port else ""
        raise ServerError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}") from None
    return sock


def recv_buffer_size(sock: socket.socket) -> int:
    """SO_RCVBUF as the kernel reports it (Linux: twice the usable size); 0 if it cannot be read."""
    try:
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    except OSError:
        return 0


def report_recv_buffer(sock: socket.socket, asked: int) -> int:
    """Log the receive buffer obtained; warn when it is less than `asked`. Returns the size obtained."""
    got = recv_buffer_size(sock)
    if got < asked:
        log.warning(
            "UDP receive buffer is %d bytes (asked for %d): a burst of requests may be dropped by the "
            "kernel before the daemon reads it (clients retransmit; on Linux raise net.core.rmem_max)",
            got,
            asked,
        )
    else:
        log.info("UDP receive buffer %d bytes (asked for %d)", got, asked)
    return got
