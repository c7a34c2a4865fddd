"""Pacing QuickBooks requests: per-company rate and concurrency limits, back-off for retries."""

from __future__ import annotations

import bisect
import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from connex_desktop.core.quickbooks_rules import (
    BATCH_REQUESTS_PER_MINUTE,
    MAX_CONCURRENT_REQUESTS,
    REQUESTS_PER_MINUTE,
    REQUESTS_PER_SECOND,
)
from connex_desktop.core.retry_after import retry_after_s

MINUTE_S = 60.0
# After a 429, wait at least this long before retrying ("API call limits and throttles").
THROTTLED_WAIT_S = 60.0
SECOND_S = 1.0


class RateLimiter:
    """Sliding-window rate limits plus a concurrency cap, shared by every client of one realm.

    `slot()` blocks until a request may be sent and holds a concurrency slot while it runs.
    The windows count requests, each from its sending and, once answered, from its answer: a
    request is admitted only when fewer than `per_minute` were counted in the last 60 s and
    fewer than `per_second` in the last second, and a batch only when fewer than
    `batches_per_minute` batches were sent in the last 60 s. `clock` and `sleep` are
    injectable so tests run on a fake clock.
    """

    def __init__(self, *, per_minute: int = REQUESTS_PER_MINUTE,
                 per_second: int = REQUESTS_PER_SECOND,
                 batches_per_minute: int = BATCH_REQUESTS_PER_MINUTE,
                 max_concurrent: int = MAX_CONCURRENT_REQUESTS,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if min(per_minute, per_second, batches_per_minute, max_concurrent) < 1:
            raise ValueError("rate limits must be at least 1")
        self.per_minute = per_minute
        self.per_second = per_second
        self.batches_per_minute = batches_per_minute
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._concurrency = threading.BoundedSemaphore(max_concurrent)
        self._sent: list[float] = []           # send times within the last minute, ascending
        self._batches_sent: list[float] = []   # the same, for batch requests only
        self.waited_s = 0.0                    # total time callers spent waiting for the windows

    @contextlib.contextmanager
    def slot(self, *, batch: bool = False,
             on_pause: Callable[[float], None] | None = None) -> Iterator[None]:
        """Hold one request's place: within the concurrency cap and the rate windows.
        `on_pause` hears of each wait for the windows: its seconds as it begins, 0 as it ends."""
        self._concurrency.acquire()
        try:
            sent_s = self._admit(batch, on_pause)
            try:
                yield
            finally:
                self._answered(sent_s)
        finally:
            self._concurrency.release()

    def _answered(self, sent_s: float) -> None:
        """Count the request from when its answer came, not when it was sent. QuickBooks counts
        it as it arrives, somewhere in between, later on a busy PC or network: counted from
        its sending, the next second's tenth request could be QuickBooks' eleventh (429, and a
        minute's wait)."""
        with self._lock:
            index = bisect.bisect_left(self._sent, sent_s)
            if index < len(self._sent) and self._sent[index] == sent_s:
                del self._sent[index]
            bisect.insort(self._sent, self._clock())

    def count_sent_elsewhere(self) -> None:
        """Count a request to the company that this process did not send but that draws on
        the same allowance (the connect service reading the company's name at a sign-in)."""
        with self._lock:
            bisect.insort(self._sent, self._clock())

    def in_last_minute(self) -> int:
        with self._lock:
            self._forget_older_than(self._clock() - MINUTE_S)
            return len(self._sent)

    def _admit(self, batch: bool, on_pause: Callable[[float], None] | None) -> float:
        """Wait until the windows have room; the time the request is sent."""
        while True:
            with self._lock:
                now = self._clock()
                wait_s = self._wait_needed(now, batch)
                if wait_s <= 0:
                    self._sent.append(now)
                    if batch:
                        self._batches_sent.append(now)
                    return now
                self.waited_s += wait_s
            if on_pause is not None:
                on_pause(wait_s)
            self._sleep(wait_s)
            if on_pause is not None:
                on_pause(0)

    def _wait_needed(self, now: float, batch: bool) -> float:
        """Seconds until every window has room (0 when they have room now)."""
        self._forget_older_than(now - MINUTE_S)
        waits = [0.0]
        if len(self._sent) >= self.per_minute:
            waits.append(self._sent[-self.per_minute] + MINUTE_S - now)
        in_last_second = len(self._sent) - bisect.bisect_right(self._sent, now - SECOND_S)
        if in_last_second >= self.per_second:
            waits.append(self._sent[-self.per_second] + SECOND_S - now)
        if batch and len(self._batches_sent) >= self.batches_per_minute:
            waits.append(self._batches_sent[-self.batches_per_minute] + MINUTE_S - now)
        return max(waits)

    def _forget_older_than(self, cutoff: float) -> None:
        del self._sent[:bisect.bisect_right(self._sent, cutoff)]
        del self._batches_sent[:bisect.bisect_right(self._batches_sent, cutoff)]


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for_realm(realm_id: str) -> RateLimiter:
    """The process-wide limiter of one QuickBooks company, created on first use."""
    with _registry_lock:
        limiter = _registry.get(realm_id)
        if limiter is None:
            limiter = _registry[realm_id] = RateLimiter()
        return limiter


@dataclass(frozen=True)
class BackoffPolicy:
    """How long to wait before retry number `retry` (0-based): exponential with jitter, or
    what the server asked for in Retry-After (capped, so a wild header cannot stall a run);
    after a throttled request (429) at least `throttled_s`, as Intuit asks."""

    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 300.0
    throttled_s: float = THROTTLED_WAIT_S

    def delay_s(self, retry: int, retry_after_s: float | None = None,
                rand: Callable[[], float] = random.random, *, throttled: bool = False) -> float:
        floor = self.throttled_s if throttled else 0.0
        if retry_after_s is not None:
            return max(floor, min(retry_after_s, self.max_retry_after_s))
        ceiling = min(self.cap_s, self.base_s * 2 ** retry)
        # "Equal jitter": at least half the exponential step, so retries never bunch at zero,
        # spread over the other half, so workers that failed together do not retry together.
        return max(floor, ceiling / 2 + rand() * ceiling / 2)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (see `retry_after_s`), measured from `now`
    (epoch seconds), the wall clock unless given."""
    return retry_after_s(value, time.time() if now is None else now)
