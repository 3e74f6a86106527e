"""Who the daemon's clients are and where their replies go: hello registrations and reply addressing.

    datagram from (ip, port) ─> reply_port on the request?       ─> (ip, reply_port)
                             ─> this (ip, port) sent a hello?    ─> that hello's reply_to
                             ─> else                             ─> (ip, port), the datagram's source

Every app on one machine shares 127.0.0.1, so a client is never found by its IP alone: a datagram is
routed to a hello's reply port only when it comes from a socket that sent a hello (every hello's sending
address is remembered, so a client that re-registered from a new socket is still found from the old one).
The client a job belongs to (`Origin.client`) is its reply address: each (ip, port) that did not say
hello, and each hello'd reply port, is its own client, with its own request ids and its own cancel-all.
Replies always go to the sender's IP, never to a host a client names. Thread-safe: the OSC thread
registers clients, the worker's job news reads them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from bridge.daemon.types import Origin
from bridge.limits import MAX_CLIENTS

Address = tuple[str, int]


@dataclass(frozen=True)
class Context:
    """Where a request came from and where its answers go."""

    source: Address  # the datagram's (ip, port)
    reply_to: Address
    origin: Origin


@dataclass
class Client:
    name: str
    reply_to: Address
    watch: bool = False
    last_seen: float = 0.0
    source: Address | None = None  # the socket its latest hello came from


def _addr(addr: tuple) -> Address:
    return str(addr[0]), int(addr[1])  # IPv6 sources are (host, port, flowinfo, scope_id)


class ClientRegistry:
    """The clients that said hello, one per reply address, at most `limit` (least recently seen dropped
    first); and each hello's sending socket, pointing at the client it registered."""

    def __init__(self, limit: int = MAX_CLIENTS):
        self.limit = limit
        self._clients: OrderedDict[Address, Client] = OrderedDict()  # reply_to -> client
        self._sources: OrderedDict[Address, Address] = OrderedDict()  # hello's source -> reply_to
        self._lock = threading.Lock()

    def register(self, source: tuple, client: Client) -> None:
        """A hello from `source`. It replaces the registration at the same reply address, and the one this
        socket made before for another reply address (that app moved its listening port)."""
        source = _addr(source)
        client.source = source
        with self._lock:
            before = self._sources.get(source)
            if before is not None and before != client.reply_to:
                old = self._clients.get(before)
                if old is not None and old.source == source:
                    del self._clients[before]
            self._clients[client.reply_to] = client
            self._clients.move_to_end(client.reply_to)
            self._sources[source] = client.reply_to
            self._sources.move_to_end(source)
            while len(self._clients) > self.limit:
                self._clients.popitem(last=False)
            while len(self._sources) > 2 * self.limit:
                self._sources.popitem(last=False)

    def said_hello(self, addr: tuple) -> Client | None:
        """The client a hello from this very socket registered (not found by IP: loopback is shared)."""
        with self._lock:
            reply_to = self._sources.get(_addr(addr))
            return None if reply_to is None else self._clients.get(reply_to)

    def reply_address(self, addr: tuple, reply_port: int | None) -> Address:
        if reply_port is not None:
            return str(addr[0]), int(reply_port)
        client = self.said_hello(addr)
        return client.reply_to if client is not None else _addr(addr)

    def origin(self, reply_to: Address) -> Origin:
        """The job owner: its reply address (named after the hello that registered it, if any)."""
        with self._lock:
            client = self._clients.get(reply_to)
            if client is not None:
                self._clients.move_to_end(reply_to)  # recently seen: evicted last
        name = client.name if client is not None else ""
        return Origin(f"{reply_to[0]}:{reply_to[1]}", reply_to, name)

    def all(self) -> list[Client]:
        with self._lock:
            return list(self._clients.values())
