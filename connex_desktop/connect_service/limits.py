"""Per-address rate limiting for the connect service: one token bucket per client address."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# Buckets idle this long are full again and forgotten, so memory stays bounded.
IDLE_FORGET_S = 600.0


class TokenBuckets:
    """`per_minute` requests a minute per address on average, in bursts of up to that many."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("the rate limit must be at least one request a minute")
        self._capacity = float(per_minute)
        self._refill_per_s = per_minute / 60.0
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}   # address -> (tokens, updated at)

    def take(self, address: str) -> float:
        """0 when this address may go on; else the seconds until it may (for Retry-After)."""
        now = self._clock()
        with self._lock:
            if len(self._buckets) > 10_000:
                self._forget_idle(now)
            tokens, updated = self._buckets.get(address, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - updated) * self._refill_per_s)
            if tokens < 1:
                self._buckets[address] = (tokens, now)
                return math.ceil((1 - tokens) / self._refill_per_s)
            self._buckets[address] = (tokens - 1, now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        for address, (_tokens, updated) in list(self._buckets.items()):
            if now - updated > IDLE_FORGET_S:
                del self._buckets[address]
