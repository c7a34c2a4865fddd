"""When to send a request again: the statuses worth retrying, and how long Retry-After asks."""

from __future__ import annotations

import email.utils
from datetime import UTC

# HTTP statuses after which the same request may simply be sent again: throttled (429) or the
# service failing for now (5xx). QuickBooks writes carry a requestid, so a resend books once.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_s(value: str | None, now_s: float) -> float | None:
    """Seconds to wait per a Retry-After header: delay-seconds or an HTTP-date; None if absent
    or unreadable. `now_s` is the wall-clock time (epoch seconds) to measure an HTTP-date from."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:   # a "-0000" zone: the time is UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now_s)
