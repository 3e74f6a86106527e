"""Where the daemon's replies go out: one socket, the reply budget of the datagram being handled, the
error rate limit, and who hears a job's news.

    outbox.begin()                                 # a fresh ReplyBudget for this thread's datagram
    outbox.send(dgram, ("127.0.0.1", 9001))        # charged to it; dropped (counted) past it
    outbox.broadcast(dgram, job)                   # the job's client (charged), then its watchers

Only the OSC thread has a budget: job news sent by the worker (progress, chunk, done) is paced by the
job itself. A reply is never sent to this daemon's own port.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable

from bridge.daemon.budget import RateLimits, ReplyBudget
from bridge.daemon.clients import Address, ClientRegistry
from bridge.daemon.types import Job
from bridge.limits import MAX_WATCHERS


class Outbox:
    def __init__(
        self,
        sock: socket.socket,
        clients: ClientRegistry,
        limits: RateLimits,
        stats: dict[str, int],
        complain: Callable[..., None],
    ):
        self.sock = sock
        self.address: tuple[str, int] = tuple(sock.getsockname()[:2])  # type: ignore[assignment]
        self.clients = clients
        self.limits = limits
        self.stats = stats
        self.complain = complain
        self._local = threading.local()

    # ------------------------------------------------------------------ the datagram's budget

    def begin(self) -> ReplyBudget:
        self._local.budget = ReplyBudget()
        return self._local.budget

    def end(self) -> None:
        self._local.budget = None

    @property
    def budget(self) -> ReplyBudget | None:
        return getattr(self._local, "budget", None)

    # ------------------------------------------------------------------ sending

    def send(self, dgram: bytes, to: Address, *, charged: bool = True) -> None:
        if to[1] == self.address[1] and (
            to[0] == self.address[0] or ipaddress.ip_address(to[0].split("%", 1)[0]).is_loopback
        ):
            self.complain("loop", "not replying to %s: that is this daemon's own port", to)
            return
        budget = self.budget if charged else None
        if budget is not None and not budget.charge(len(dgram)):
            self.stats["over_budget"] += 1
            self.complain("budget", "not sending %d more bytes to %s: over the datagram's budget", len(dgram), to)
            return
        try:
            self.sock.sendto(dgram, to)
            self.stats["replies"] += 1
        except OSError as e:
            self.stats["send_failures"] += 1
            self.complain("send", "cannot send a reply to %s: %s", to, e)

    def send_error(self, dgram: bytes, to: Address) -> None:
        """An error reply, within the per-address error rate; past it only counted."""
        if self.limits.allow("error", to):
            self.send(dgram, to)
        else:
            self.stats["errors_unsent"] += 1
            self.complain("error-limit", "not sending more errors to %s for now (rate limit)", to)

    def targets(self, job: Job) -> list[Address]:
        """The job's own client first, plus (up to MAX_WATCHERS) clients that said hello with watch 1;
        every client if the job has none (e.g. a MIDI trigger)."""
        targets: list[Address] = []
        if job.origin.reply_to is not None:
            targets.append(job.origin.reply_to)
        watchers = 0
        for client in reversed(self.clients.all()):  # most recently seen first
            if client.reply_to in targets:
                continue
            if job.origin.reply_to is None:
                targets.append(client.reply_to)
            elif client.watch and watchers < MAX_WATCHERS:
                targets.append(client.reply_to)
                watchers += 1
        return targets

    def broadcast(self, dgram: bytes, job: Job) -> None:
        """To the job's targets; only the first (the job's own client) is charged to the budget."""
        for i, to in enumerate(self.targets(job)):
            self.send(dgram, to, charged=i == 0)
