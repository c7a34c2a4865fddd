"""When a QuickBooks authorisation ends, and the warning shown as that end comes near."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connex_desktop.core.connection import QuickBooksCompany

# Intuit's refresh tokens expire at most five years after the original authorisation, however
# often they are refreshed (../shared/reference/quickbooks-online-api.md §5.3 and §6); their
# rolling 100 days are renewed by every sync's refresh, so only this end asks for a new sign-in.
REFRESH_TOKEN_MAX_LIFE_YEARS = 5
RECONNECT_WARNING = timedelta(days=30)
RECONNECT_WORDS = "Reconnect to QuickBooks"


def authorisation_ends(signed_in_at: datetime) -> datetime:
    """The end of the refresh token's maximum life, for a sign-in at `signed_in_at`."""
    year = signed_in_at.year + REFRESH_TOKEN_MAX_LIFE_YEARS
    try:
        return signed_in_at.replace(year=year)
    except ValueError:   # signed in on 29 February: that day is missing five years later
        return signed_in_at.replace(year=year, day=28)


def reconnect_warning(company: QuickBooksCompany, now: datetime) -> str:
    """"Reconnect to QuickBooks before 3 Mar 2031" within RECONNECT_WARNING of the end, else ""."""
    if not company.connected or not company.signed_in_at:
        return ""
    ends = authorisation_ends(datetime.fromisoformat(company.signed_in_at))
    if now.astimezone(UTC) < ends - RECONNECT_WARNING:
        return ""
    local = ends.astimezone(now.tzinfo)
    return f"{RECONNECT_WORDS} before {local.day} {local.strftime('%b %Y')}"

