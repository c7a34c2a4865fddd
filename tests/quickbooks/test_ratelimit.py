"""Rate limits, concurrency, back-off and Retry-After, on a fake clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from connex_desktop.quickbooks.ratelimit import (
    BackoffPolicy,
    RateLimiter,
    limiter_for_realm,
    parse_retry_after,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def send_times(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        with limiter.slot():
            times.append(clock.now)
    return times


def test_no_more_than_500_requests_in_any_minute():
    clock = FakeClock()
    limiter = RateLimiter(per_minute=500, per_second=1000, clock=clock, sleep=clock.sleep)
    times = send_times(limiter, clock, 1200)
    assert times[499] == 1000.0                 # the first 500 go at once
    assert times[500] == pytest.approx(1060.0)  # the 501st waits for the first to age out
    assert times[1000] == pytest.approx(1120.0)
    for i in range(len(times) - 500):
        assert times[i + 500] - times[i] >= 60.0 - 1e-9


def test_no_more_than_10_requests_in_any_second():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    times = send_times(limiter, clock, 35)
    assert times[:10] == [1000.0] * 10
    assert times[10] == pytest.approx(1001.0)
    assert times[30] == pytest.approx(1003.0)
    for i in range(len(times) - 10):
        assert times[i + 10] - times[i] >= 1.0 - 1e-9
    assert limiter.waited_s == pytest.approx(3.0)


def test_a_request_counts_from_its_answer_as_quickbooks_may_count_it_on_arrival():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    with limiter.slot():
        clock.now += 0.4        # sent at 1000.0; it may reach QuickBooks as late as 1000.4
    times = send_times(limiter, clock, 10)
    assert times[:9] == [1000.4] * 9
    # Counted from its sending, the tenth would go at 1001.0: QuickBooks' eleventh request in
    # the second from 1000.4 if the first arrived late.
    assert times[9] == pytest.approx(1001.4)


def test_requests_spread_over_time_are_not_delayed():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(50):
        with limiter.slot():
            pass
        clock.now += 0.2
    assert clock.slept == []
    assert limiter.in_last_minute() == 50


def test_at_most_max_concurrent_requests_at_once():
    limiter = RateLimiter(max_concurrent=3, per_second=1000)
    active = 0
    peak = 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal active, peak
        with limiter.slot():
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.02)
            with lock:
                active -= 1

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 3


def test_one_limiter_per_realm_shared_in_the_process():
    assert limiter_for_realm("realm-a") is limiter_for_realm("realm-a")
    assert limiter_for_realm("realm-a") is not limiter_for_realm("realm-b")
    assert limiter_for_realm("realm-a").per_minute == 500
    assert limiter_for_realm("realm-a").max_concurrent == 10


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        RateLimiter(max_concurrent=0)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    policy = BackoffPolicy(base_s=1.0, cap_s=8.0)
    assert policy.delay_s(0, rand=lambda: 0.0) == 0.5
    assert policy.delay_s(0, rand=lambda: 1.0) == 1.0
    assert policy.delay_s(2, rand=lambda: 0.0) == 2.0
    assert policy.delay_s(2, rand=lambda: 1.0) == 4.0
    assert policy.delay_s(10, rand=lambda: 1.0) == 8.0
    delays = {policy.delay_s(1) for _ in range(20)}
    assert len(delays) > 1 and all(1.0 <= d <= 2.0 for d in delays)


def test_backoff_honours_retry_after_within_a_ceiling():
    policy = BackoffPolicy(max_retry_after_s=120.0)
    assert policy.delay_s(0, retry_after_s=7.0) == 7.0
    assert policy.delay_s(4, retry_after_s=0.0) == 0.0
    assert policy.delay_s(0, retry_after_s=3600.0) == 120.0


def test_retry_after_in_seconds_or_as_an_http_date():
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 1, 1, 12, 0, 45, tzinfo=UTC), usegmt=True)
    assert later == "Thu, 01 Jan 2026 12:00:45 GMT"
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(45.0)
    assert parse_retry_after(later, now=now.timestamp() + 100) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


def test_no_more_than_40_batches_in_any_minute_and_other_requests_go_on():
    clock = FakeClock()
    limiter = RateLimiter(per_second=1000, clock=clock, sleep=clock.sleep)
    for _ in range(40):
        with limiter.slot(batch=True):
            pass
    with limiter.slot():      # a plain request is not held back by the full batch window
        pass
    assert clock.now == 1000.0
    with limiter.slot(batch=True):
        assert clock.now == pytest.approx(1060.0)
