"""Where the daemon listens and who may talk to it: the bind address, the allow-list, the UDP socket.

    --host/--port/--allow-remote/--allow ─> ServerOptions (checked) ─> bind_socket ─> Server
                                                   └─ allowed(ip): loopback, or in an --allow network

Loopback only unless asked otherwise: a non-loopback host needs --allow-remote and at least one --allow
address or network, because anyone who reaches the port can use the GPU and read audio files.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from bridge import protocol
from bridge.daemon.jobs import MAX_QUEUED

SOCKET_BUFFER = 4 << 20  # bytes asked for SO_RCVBUF/SO_SNDBUF, so bursts queue instead of dropping


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
    networks: tuple[Any, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ServerError(f"port must be 0..65535 (0 = any free port), got {self.port!r}")
        if not 1 <= self.max_queued <= 10_000:
            raise ServerError(f"queue size must be 1..10000, got {self.max_queued}")
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
        try:
            addr = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return False
        if getattr(addr, "ipv4_mapped", None) is not None:
            addr = addr.ipv4_mapped
        return addr.is_loopback or any(addr in net for net in self.networks)


def bind_socket(host: str, port: int) -> socket.socket:
    """A UDP socket bound to (host, port), with roomy buffers. ServerError if that is impossible."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as e:
        raise ServerError(f"cannot resolve --host {host!r}: {e}") from None
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
    try:
        sock.bind(sockaddr)
    except OSError as e:
        sock.close()
        hint = " (is another musicgen-bridge running? pick another --port)" if port else ""
        raise ServerError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}") from None
    return sock
