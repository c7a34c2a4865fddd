"""When an automatic sync is due: a pure function of the policy, the last run and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from connex_desktop.core.connection import Schedule
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.result import RunStatus

# After a failed run the wait doubles per consecutive failure, up to this cap, so a store or
# QuickBooks that is down is not hammered, and a fix is picked up within a few hours at worst.
FIRST_RETRY_DELAY = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
# Past this many doublings every wait is capped anyway; bounding it keeps timedelta in range.
MAX_DOUBLINGS = 16
# Intuit does not say in which time zone its month turns; at noon UTC on the 1st it has turned
# in every US zone, so a sync then is past the reset of the monthly allowance of reads.
QUOTA_RESET_HOUR_UTC = 12


def parse_daily_at(text: str) -> time:
    """`HH:MM` (24-hour) as a time; raises ValueError with a plain message otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text!r} is not a time of day like 06:30")
    hour, minute = int(hours), int(minutes)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"{text!r} is not a time of day like 06:30")
    return time(hour, minute)


def backoff(consecutive_failures: int, regular_wait: timedelta) -> timedelta:
    """The wait after `consecutive_failures` failed runs in a row: the regular wait (at least
    FIRST_RETRY_DELAY) doubled per failure, capped at MAX_BACKOFF or the regular wait if longer."""
    base = max(regular_wait, FIRST_RETRY_DELAY)
    cap = max(MAX_BACKOFF, regular_wait)
    doublings = min(consecutive_failures, MAX_DOUBLINGS)
    return min(base * 2 ** doublings, cap)


def reads_allowed_again(failed_at: datetime) -> datetime:
    """When QuickBooks' monthly allowance of reads, used up at `failed_at`, is there again."""
    # Shifted back, so a failure just after midnight UTC on the 1st still counts in the month
    # that Intuit, counting in a US zone, had not finished yet.
    failed_at = failed_at.astimezone(UTC) - timedelta(hours=QUOTA_RESET_HOUR_UTC)
    year, month = (failed_at.year + 1, 1) if failed_at.month == 12 else (
        failed_at.year, failed_at.month + 1)
    return datetime(year, month, 1, QUOTA_RESET_HOUR_UTC, tzinfo=UTC)


def _latest_daily_slot(at: time, now: datetime) -> datetime:
    """The most recent moment at or before `now` when the clock showed `at` (in now's zone)."""
    slot = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return slot if slot <= now else slot - timedelta(days=1)


def next_due(schedule: Schedule, last_run_started: datetime | None,
             last_run_status: RunStatus | None, now: datetime,
             consecutive_failures: int = 0, last_failure_kind: str = "") -> datetime | None:
    """When the next automatic sync should start; None when automatic sync is off.

    A time in the past means "now": a run missed while the computer slept or the app was closed
    is caught up once (not once per missed slot). Any run, manual or automatic, counts as the
    last run. After failures the next attempt backs off (doubling, capped); after a run that
    found QuickBooks' monthly allowance of reads used up, until the next month. `now` and
    `last_run_started` must both be timezone-aware; a daily time is read in `now`'s zone.
    """
    if not schedule.enabled:
        return None
    if (last_run_started is not None and last_run_status is RunStatus.FAILED
            and last_failure_kind == ErrorKind.QUOTA.value):
        return reads_allowed_again(last_run_started)
    failures = max(consecutive_failures, 1) if last_run_status is RunStatus.FAILED else 0
    if schedule.every_minutes > 0:
        interval = timedelta(minutes=schedule.every_minutes)
        if last_run_started is None:
            return now
        wait = backoff(failures, interval) if failures else interval
        return last_run_started + wait
    at = parse_daily_at(schedule.daily_at)
    latest_slot = _latest_daily_slot(at, now)
    next_slot = latest_slot + timedelta(days=1)
    if last_run_started is None:
        # A schedule just switched on waits for its first time of day rather than running now.
        return next_slot
    if failures:
        # Retry a failed daily run with back-off, but never later than the next regular slot.
        return min(last_run_started + backoff(failures, timedelta(0)), next_slot)
    return latest_slot if last_run_started < latest_slot else next_slot


def is_due(schedule: Schedule, last_run_started: datetime | None,
           last_run_status: RunStatus | None, now: datetime, consecutive_failures: int = 0,
           *, running: bool = False, last_failure_kind: str = "") -> bool:
    """Whether an automatic sync should start now; never while one is already running."""
    if running:
        return False
    due = next_due(schedule, last_run_started, last_run_status, now, consecutive_failures,
                   last_failure_kind)
    return due is not None and due <= now
