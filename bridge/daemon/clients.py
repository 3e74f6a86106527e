"""Who the daemon's clients are and where their replies go: hello registrations and reply addressing.

    datagram from (ip, port) ─> reply_port on the request?  ─> (ip, reply_port)
                             ─> a hello from this socket?   ─> its reply_to
                             ─> a hello from this IP?       ─> the newest one's reply_to
                             ─> else                        ─> (ip, port), the datagram's source

Replies always go to the sender's IP, never to a host a client names. Thread-safe: the OSC thread
registers clients, the worker's job news reads them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from bridge.daemon.types import Origin

MAX_CLIENTS = 64  # hello registrations kept (least recently seen dropped first)


@dataclass(frozen=True)
class Context:
    """Where a request came from and where its answers go."""

    source: tuple[str, int]  # the datagram's (ip, port)
    reply_to: tuple[str, int]
    origin: Origin


@dataclass
class Client:
    name: str
    reply_to: tuple[str, int]
    watch: bool = False
    last_seen: float = 0.0


class ClientRegistry:
    """The clients that said hello, keyed by their sending socket, at most `limit` of them."""

    def __init__(self, limit: int = MAX_CLIENTS):
        self.limit = limit
        self._clients: OrderedDict[tuple[str, int], Client] = OrderedDict()
        self._lock = threading.Lock()

    def register(self, source: tuple[str, int], client: Client) -> None:
        """A hello from `source`: it replaces any registration of that socket or that reply address."""
        with self._lock:  # keyed by the sending socket; found by IP when that socket changes
            for key, c in list(self._clients.items()):
                if c.reply_to == client.reply_to or key == source:
                    del self._clients[key]
            self._clients[source] = client
            while len(self._clients) > self.limit:
                self._clients.popitem(last=False)

    def said_hello(self, addr: tuple[str, int]) -> Client | None:
        """The client registered by this very socket (loopback is shared by every app: not by IP)."""
        with self._lock:
            return self._clients.get((addr[0], addr[1]))

    def known(self, addr: tuple[str, int]) -> Client | None:
        key = (addr[0], addr[1])
        with self._lock:
            client = self._clients.get(key)
            if client is None:  # a client whose sending socket changed: its newest hello from this IP
                client = next((c for (ip, _), c in reversed(self._clients.items()) if ip == addr[0]), None)
            return client

    def reply_address(self, addr: tuple[str, int], reply_port: int | None) -> tuple[str, int]:
        if reply_port is not None:
            return addr[0], reply_port
        client = self.known(addr)
        return client.reply_to if client is not None else (addr[0], addr[1])

    def origin(self, addr: tuple[str, int], reply_to: tuple[str, int]) -> Origin:
        client = self.known(addr)
        name = client.name if client is not None and client.reply_to == reply_to else ""
        return Origin(f"{reply_to[0]}:{reply_to[1]}", reply_to, name)

    def all(self) -> list[Client]:
        with self._lock:
            return list(self._clients.values())
