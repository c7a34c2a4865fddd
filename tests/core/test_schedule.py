"""The automatic-sync decisions, against a fake clock: due, caught up, backed off, never twice."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connex_desktop.core.connection import Schedule
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.result import RunStatus
from connex_desktop.core.schedule import (
    FIRST_RETRY_DELAY,
    MAX_BACKOFF,
    backoff,
    is_due,
    next_due,
    parse_daily_at,
    reads_allowed_again,
)

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
EVERY_15 = Schedule(every_minutes=15)
DAILY_6 = Schedule(daily_at="06:00")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def test_off_is_never_due():
    assert next_due(Schedule(), None, None, NOON) is None
    assert not is_due(Schedule(), NOON - timedelta(days=30), RunStatus.SUCCEEDED, NOON)


def test_interval_runs_at_once_when_never_run_then_every_interval():
    clock = FakeClock(NOON)
    assert is_due(EVERY_15, None, None, clock.now)
    started = clock.now
    clock.advance(minutes=14, seconds=59)
    assert not is_due(EVERY_15, started, RunStatus.SUCCEEDED, clock.now)
    clock.advance(seconds=1)
    assert is_due(EVERY_15, started, RunStatus.SUCCEEDED, clock.now)
    assert next_due(EVERY_15, started, RunStatus.SUCCEEDED, clock.now) == started + timedelta(
        minutes=15)


def test_missed_interval_runs_are_caught_up_once_after_sleep():
    started = NOON
    woke = NOON + timedelta(hours=9)   # the laptop slept through 35 slots
    assert is_due(EVERY_15, started, RunStatus.SUCCEEDED, woke)
    # The catch-up run resets the clock: the next is one interval later, not 35 runs in a row.
    assert not is_due(EVERY_15, woke, RunStatus.SUCCEEDED, woke + timedelta(minutes=1))


def test_a_running_sync_is_never_started_twice():
    assert not is_due(EVERY_15, None, None, NOON, running=True)
    assert not is_due(EVERY_15, NOON - timedelta(days=1), RunStatus.SUCCEEDED, NOON, running=True)


def test_partial_and_cancelled_runs_do_not_back_off():
    # A partial run failed on some orders' data: running again sooner or later changes nothing.
    for status in (RunStatus.PARTIAL, RunStatus.CANCELLED, RunStatus.SUCCEEDED):
        assert next_due(EVERY_15, NOON, status, NOON) == NOON + timedelta(minutes=15)


def test_failures_back_off_doubling_up_to_the_cap():
    waits = [next_due(EVERY_15, NOON, RunStatus.FAILED, NOON, failures) - NOON
             for failures in range(1, 9)]
    assert waits[:4] == [timedelta(minutes=m) for m in (30, 60, 120, 240)]
    assert waits[-1] == MAX_BACKOFF
    assert all(a <= b for a, b in itertools.pairwise(waits))
    # A failed last run counts as one failure even if the caller passes none.
    assert next_due(EVERY_15, NOON, RunStatus.FAILED, NOON, 0) == NOON + timedelta(minutes=30)


def test_backoff_never_shortens_a_long_interval_and_survives_huge_counts():
    weekly = timedelta(days=7)
    assert backoff(3, weekly) == weekly
    assert backoff(10_000, timedelta(minutes=1)) == MAX_BACKOFF
    assert backoff(1, timedelta(0)) == FIRST_RETRY_DELAY * 2


def test_daily_waits_for_its_time_when_newly_switched_on():
    morning = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    assert next_due(DAILY_6, None, None, morning) == morning.replace(hour=6)
    assert not is_due(DAILY_6, None, None, morning)


def test_daily_runs_at_its_time_and_then_tomorrow():
    clock = FakeClock(datetime(2026, 3, 10, 5, 59, tzinfo=UTC))
    yesterday = datetime(2026, 3, 9, 6, 0, 5, tzinfo=UTC)
    assert not is_due(DAILY_6, yesterday, RunStatus.SUCCEEDED, clock.now)
    clock.advance(minutes=1)
    assert is_due(DAILY_6, yesterday, RunStatus.SUCCEEDED, clock.now)
    ran = clock.advance(seconds=3)
    assert next_due(DAILY_6, ran, RunStatus.SUCCEEDED, clock.now) == datetime(
        2026, 3, 11, 6, 0, tzinfo=UTC)


def test_daily_missed_while_asleep_is_caught_up_once():
    last = datetime(2026, 3, 7, 6, 0, tzinfo=UTC)      # three mornings missed
    woke = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    assert is_due(DAILY_6, last, RunStatus.SUCCEEDED, woke)
    assert not is_due(DAILY_6, woke, RunStatus.SUCCEEDED, woke + timedelta(hours=1))


def test_daily_failure_retries_with_backoff_but_not_past_the_next_slot():
    failed_at = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert next_due(DAILY_6, failed_at, RunStatus.FAILED, failed_at, 1) == failed_at + timedelta(
        minutes=10)
    assert next_due(DAILY_6, failed_at, RunStatus.FAILED, failed_at, 2) == failed_at + timedelta(
        minutes=20)
    late = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)      # 6 h of back-off would pass 06:00
    assert next_due(DAILY_6, late, RunStatus.FAILED, late, 8) == datetime(
        2026, 3, 11, 6, 0, tzinfo=UTC)


def test_daily_time_is_read_in_the_local_zone_of_now():
    eastern = timezone(timedelta(hours=-5))
    now = datetime(2026, 3, 10, 6, 30, tzinfo=eastern)       # 11:30 UTC
    last = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)            # 07:00 yesterday, eastern
    assert next_due(DAILY_6, last, RunStatus.SUCCEEDED, now) == datetime(
        2026, 3, 10, 6, 0, tzinfo=eastern)


@pytest.mark.parametrize("text", ["6", "25:00", "06:60", "6:5", "ab:cd", ""])
def test_bad_daily_times_are_refused_plainly(text):
    with pytest.raises(ValueError, match="time of day"):
        parse_daily_at(text)


def test_good_daily_times_parse():
    assert parse_daily_at(" 6:30 ").hour == 6
    assert parse_daily_at("23:59").minute == 59


@pytest.mark.parametrize("schedule", [EVERY_15, DAILY_6])
def test_used_up_reads_wait_for_the_next_month_until_a_sync_by_hand_succeeds(schedule):
    failed_at = datetime(2026, 12, 6, 1, 15, tzinfo=UTC)
    resumes = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    assert reads_allowed_again(failed_at) == resumes
    assert reads_allowed_again(datetime(2026, 3, 31, 23, 0, tzinfo=timezone(
        timedelta(hours=-8)))) == datetime(2026, 4, 1, 12, tzinfo=UTC)   # April 1 in UTC
    quota = ErrorKind.QUOTA.value
    assert next_due(schedule, failed_at, RunStatus.FAILED, failed_at, 5, quota) == resumes
    for later in (timedelta(hours=6), timedelta(days=20), resumes - failed_at - timedelta(
            minutes=1)):
        assert not is_due(schedule, failed_at, RunStatus.FAILED, failed_at + later, 1,
                          last_failure_kind=quota)
    assert is_due(schedule, failed_at, RunStatus.FAILED, resumes, 1, last_failure_kind=quota)
    # Synced by hand and it went through: the regular schedule again.
    by_hand = failed_at + timedelta(days=2)
    assert next_due(schedule, by_hand, RunStatus.SUCCEEDED, by_hand) < by_hand + timedelta(days=2)
    # Other failures keep their short back-off.
    assert next_due(schedule, failed_at, RunStatus.FAILED, failed_at, 1,
                    ErrorKind.RETRY_LATER.value) < failed_at + timedelta(days=1)
