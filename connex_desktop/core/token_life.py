"""When a QuickBooks authorisation ends, and the warning shown as that end comes near."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connex_desktop.core.connection import QuickBooksCompany

# Intuit's refresh tokens expire at most five years after the original authorisation, however
# often they are refreshed (../shared/reference/quickbooks-online-api.md §5.3 and §6); their
# rolling 100 days are renewed by every sync's refresh, so only this end asks for a new sign-in.
# Asked with HARD_EXPIRY_HEADER, Intuit's token answers say how many seconds are left of it
# (HARD_EXPIRY_FIELD); the five years from the sign-in stand in until one does.
REFRESH_TOKEN_MAX_LIFE_YEARS = 5
RECONNECT_WARNING = timedelta(days=30)
RECONNECT_WORDS = "Reconnect to QuickBooks"
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
HARD_EXPIRY_FIELD = "x_refresh_token_hard_expires_in"


def authorisation_ends(signed_in_at: datetime) -> datetime:
    """The end of the refresh token's maximum life, for a sign-in at `signed_in_at`."""
    year = signed_in_at.year + REFRESH_TOKEN_MAX_LIFE_YEARS
    try:
        return signed_in_at.replace(year=year)
    except ValueError:   # signed in on 29 February: that day is missing five years later
        return signed_in_at.replace(year=year, day=28)


def authorisation_end(company: QuickBooksCompany) -> datetime | None:
    """When the company's authorisation ends: as Intuit last said, else five years from its
    sign-in; None when neither is known."""
    if company.authorisation_ends_at:
        return datetime.fromisoformat(company.authorisation_ends_at)
    if company.signed_in_at:
        return authorisation_ends(datetime.fromisoformat(company.signed_in_at))
    return None


def end_after(seconds: float, now: datetime) -> str:
    """The end Intuit gives as x_refresh_token_hard_expires_in (seconds from `now`), as kept
    in QuickBooksCompany.authorisation_ends_at (ISO 8601, UTC, whole seconds)."""
    end = now.astimezone(UTC) + timedelta(seconds=seconds)
    return end.replace(microsecond=0).isoformat()


def reconnect_warning(company: QuickBooksCompany, now: datetime) -> str:
    """"Reconnect to QuickBooks before 3 Mar 2031" within RECONNECT_WARNING of the end, else ""."""
    ends = authorisation_end(company) if company.connected else None
    if ends is None or now.astimezone(UTC) < ends - RECONNECT_WARNING:
        return ""
    local = ends.astimezone(now.tzinfo)
    return f"{RECONNECT_WORDS} before {local.day} {local.strftime('%b %Y')}"
