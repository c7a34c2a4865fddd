"""The five-year end of a QuickBooks authorisation, and the month of warning before it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.core.token_life import authorisation_ends, end_after, reconnect_warning

SIGNED_IN = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
COMPANY = QuickBooksCompany(environment="production", realm_id="9130", company_name="Shop",
                            signed_in_at=SIGNED_IN.isoformat())


def test_the_authorisation_ends_five_years_after_the_sign_in():
    assert authorisation_ends(SIGNED_IN) == datetime(2031, 3, 9, 14, 30, tzinfo=UTC)
    leap_day = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)
    assert authorisation_ends(leap_day) == datetime(2033, 2, 28, 9, 0, tzinfo=UTC)


def test_the_warning_comes_thirty_days_ahead_with_the_date_in_the_users_zone():
    ends = datetime(2031, 3, 9, 14, 30, tzinfo=UTC)
    assert reconnect_warning(COMPANY, ends - timedelta(days=30, seconds=1)) == ""
    assert reconnect_warning(COMPANY, ends - timedelta(days=30)) == \
        "Reconnect to QuickBooks before 9 Mar 2031"
    tokyo = timezone(timedelta(hours=10))     # already the 10th there when it ends
    assert reconnect_warning(COMPANY, (ends + timedelta(days=2)).astimezone(tokyo)) == \
        "Reconnect to QuickBooks before 10 Mar 2031"


def test_no_warning_without_a_sign_in_on_record_or_a_company():
    late = datetime(2040, 1, 1, tzinfo=UTC)
    assert reconnect_warning(QuickBooksCompany(environment="production", realm_id="9130"),
                             late) == ""
    assert reconnect_warning(QuickBooksCompany(signed_in_at=SIGNED_IN.isoformat()), late) == ""


def test_the_end_intuit_gives_stands_before_the_five_years_from_the_sign_in():
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    told = dataclasses.replace(COMPANY, authorisation_ends_at=end_after(
        timedelta(days=29).total_seconds(), now))
    assert told.authorisation_ends_at == "2026-06-30T08:00:00+00:00"
    assert reconnect_warning(told, now) == "Reconnect to QuickBooks before 30 Jun 2026"
    assert reconnect_warning(COMPANY, now) == ""          # not told: five years on
