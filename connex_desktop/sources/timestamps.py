"""Instants from the stores' APIs: ISO 8601 in UTC, with .NET's 0001-01-01 meaning "not set"."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

# .NET's DateTime.MinValue: what Linnworks and SkuVault send for a date never set.
UNSET_YEAR = 1


def utc_instant(value: object) -> datetime | None:
    """An API timestamp (UTC unless it names an offset); None when absent, unset or bad."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.year == UNSET_YEAR:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day(value: object, zone: tzinfo) -> date | None:
    """The store's own day of an API timestamp; None when it is absent or unset."""
    moment = utc_instant(value)
    return moment.astimezone(zone).date() if moment else None


def iso_utc(moment: datetime) -> str:
    """`moment` as the APIs take it: UTC, seconds, a Z (a naive moment is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
