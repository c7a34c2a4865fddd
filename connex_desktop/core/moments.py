"""Moments in the computer's time zone, as people say them: the window's and the CLI's words."""

from __future__ import annotations

from datetime import datetime, tzinfo


def local_now() -> datetime:
    """The wall clock in the computer's time zone (what schedules and people go by)."""
    return datetime.now().astimezone()


def day_and_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """A moment in `zone` (the computer's by default), true whenever it is read: "6 Dec 08:03"."""
    local = moment.astimezone(zone)
    return f"{local.day} {local.strftime('%b %H:%M')}"


def when(moment: datetime, now: datetime) -> str:
    """A moment as people say it: "today 10:42", "yesterday 18:03", "3 Mar 09:15"."""
    local = moment.astimezone(now.tzinfo)
    days = (now.date() - local.date()).days
    clock = local.strftime("%H:%M")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if days == -1:
        return f"tomorrow {clock}"
    return day_and_time(local, now.tzinfo)
