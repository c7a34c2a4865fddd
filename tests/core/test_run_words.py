"""The words the window, the tray and the command line share for moments and a run's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from connex_desktop.core.moments import day_and_time, when
from connex_desktop.core.progress import Progress
from connex_desktop.core.run_words import counts, progress_line

NEW_YORK_WINTER = timezone(timedelta(hours=-5))
NOW = datetime(2026, 12, 6, 9, 30, tzinfo=NEW_YORK_WINTER)


def test_moments_are_said_in_the_computers_time_as_people_say_them():
    assert when(datetime(2026, 12, 6, 13, 3, tzinfo=UTC), NOW) == "today 08:03"
    assert when(datetime(2026, 12, 6, 3, 3, tzinfo=UTC), NOW) == "yesterday 22:03"
    assert when(datetime(2026, 12, 7, 15, 0, tzinfo=UTC), NOW) == "tomorrow 10:00"
    assert when(datetime(2026, 3, 3, 14, 15, tzinfo=UTC), NOW) == "3 Mar 09:15"
    # A saved note is read on later days: it names the day, whenever it is read.
    assert day_and_time(datetime(2026, 12, 6, 13, 3, tzinfo=UTC), NEW_YORK_WINTER) == (
        "6 Dec 08:03")


def test_a_runs_counts_leave_out_the_zeros_and_a_preview_books_nothing():
    assert counts(18, 0, 0) == "18 booked"
    assert counts(18, 2, 1) == "18 booked, 2 skipped, 1 failed"
    assert counts(3, 0, 2, dry_run=True) == "3 to book, 2 failed"


def test_a_running_syncs_line_names_the_order_it_is_on():
    progress = Progress(fetched=12, booked=10, skipped=1, failed=1, current_order="1043")
    assert progress_line(progress) == (
        "12 fetched · 10 booked · 1 skipped · 1 failed — order 1043")
    assert progress_line(Progress(fetched=4, booked=4), dry_run=True) == (
        "4 fetched · 4 planned · 0 skipped · 0 failed")
