"""How much one client may make the daemon do: token buckets per reply address, and the reply budget of
one datagram.

    limits = RateLimits()                          # bridge.limits.RATE_LIMITS, per reply address + daemon-wide
    limits.allow("heavy", ("127.0.0.1", 9001))     # False once that address (or everyone) used its burst
    budget = ReplyBudget()                         # one per incoming datagram, a bundle included
    budget.charge(len(dgram))                      # False: this reply would exceed the datagram's budget

A datagram is one unit of work: every message of a bundle shares its reply budget, so neither a bundle of
history requests nor one `history limit 100` can make the daemon send more than REPLY_BUDGET_BYTES. The
buckets bound what repeating a request can do (errors sent, status/history answered, jobs queued per
second); keyed by the reply address (the one that receives the bytes), with one daemon-wide bucket per
kind so that rotating ports does not escape them. Standard library only.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping

from bridge.limits import RATE_GLOBAL_FACTOR, RATE_KEYS, RATE_LIMITS, REPLY_BUDGET_BYTES


class TokenBucket:
    """`rate` tokens per second up to `burst`; take() spends one if there is one."""

    def __init__(self, rate: float, burst: float, now: float):
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.stamp = float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def give_back(self) -> None:
        self.tokens = min(self.burst, self.tokens + 1.0)


class RateLimits:
    """Token buckets per (kind, key), at most `keys` keys remembered (least recently used dropped, which
    hands a forgotten key a full bucket: the daemon-wide bucket still bounds the total)."""

    def __init__(
        self,
        limits: Mapping[str, tuple[float, float]] = RATE_LIMITS,
        *,
        global_factor: float = RATE_GLOBAL_FACTOR,
        keys: int = RATE_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limits = dict(limits)
        self.global_factor = global_factor
        self.keys = keys
        self._clock = clock
        now = clock()
        self._global = {k: TokenBucket(r * global_factor, b * global_factor, now) for k, (r, b) in self.limits.items()}
        self._buckets: OrderedDict[tuple[str, Hashable], TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, kind: str, key: Hashable) -> bool:
        """Spend one token of `key`'s `kind` bucket and of the daemon-wide one; False if either is empty."""
        with self._lock:
            now = self._clock()
            bucket = self._bucket(kind, key, now)
            if not bucket.take(now):
                return False
            if not self._global[kind].take(now):
                bucket.give_back()
                return False
            return True

    def give_back(self, kind: str, key: Hashable) -> None:
        """Undo one allow() (e.g. a submit the queue refused as full: it cost nothing)."""
        with self._lock:
            bucket = self._buckets.get((kind, key))
            if bucket is not None:
                bucket.give_back()
            self._global[kind].give_back()

    def _bucket(self, kind: str, key: Hashable, now: float) -> TokenBucket:
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            rate, burst = self.limits[kind]
            bucket = self._buckets[(kind, key)] = TokenBucket(rate, burst, now)
            while len(self._buckets) > self.keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end((kind, key))
        return bucket


class ReplyBudget:
    """The reply bytes one incoming datagram may still cause. Used by the OSC thread only."""

    def __init__(self, limit: int = REPLY_BUDGET_BYTES):
        self.limit = limit
        self.spent = 0

    @property
    def left(self) -> int:
        return max(self.limit - self.spent, 0)

    def charge(self, size: int) -> bool:
        """Spend `size` bytes if they fit; False (nothing spent) if they do not."""
        if size > self.left:
            return False
        self.spent += size
        return True
