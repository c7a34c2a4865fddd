"""The words the window, the log and the tray use for runs, progress, times and stores."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath

from connex_desktop.core.progress import Progress
from connex_desktop.core.result import QuickBooksUsage, RunStatus
from connex_desktop.sources.base import FieldKind, Source
from connex_desktop.storage.repositories import RUNNING, RunRecord


def local_now() -> datetime:
    """The wall clock in the computer's time zone (what schedules and people go by)."""
    return datetime.now().astimezone()


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
    return f"{local.day} {local.strftime('%b')} {clock}"


def counts(booked: int, skipped: int, failed: int, *, dry_run: bool = False) -> str:
    """The counts that matter, e.g. "18 booked, 2 failed": zero skipped or failed left out."""
    parts = [f"{booked} {'to book' if dry_run else 'booked'}"]
    if skipped:
        parts.append(f"{skipped} skipped")
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts)


STATUS_WORDS = {
    RunStatus.SUCCEEDED.value: "Done",
    RunStatus.PARTIAL.value: "Some orders failed",
    RunStatus.FAILED.value: "Failed",
    RunStatus.CANCELLED.value: "Cancelled",
    RUNNING: "Running",
}
PREVIEW_WORDS = {
    RunStatus.SUCCEEDED.value: "Preview",
    RunStatus.PARTIAL.value: "Preview: some orders would fail",
    RunStatus.FAILED.value: "Preview failed",
    RunStatus.CANCELLED.value: "Preview cancelled",
    RUNNING: "Previewing",
}


def run_result(run: RunRecord) -> str:
    """A run's result in a word or two; a preview says it is one."""
    if run.undone_at is not None:
        return "Undone"
    if run.undo_message:
        return "Partly undone"
    words = PREVIEW_WORDS if run.dry_run else STATUS_WORDS
    return words.get(run.status, run.status)


def run_summary(run: RunRecord, breakdown: str = "") -> str:
    """One line for a finished or running run: what it did (and whether an undo took it back
    since), or why it did nothing; `breakdown`, what its orders became (the sync log's
    "9 booked, 1 already booked"), says it in place of the run's counts."""
    undone = (" (undone)" if run.undone_at is not None else
              " (partly undone)" if run.undo_message else "")
    if run.status == RunStatus.FAILED.value and run.message:
        return f"Failed: {run.message}{undone}"
    prefix = "Preview: " if run.dry_run else ""
    tally = breakdown or counts(run.synced, run.skipped, run.failed, dry_run=run.dry_run)
    if run.status == RunStatus.CANCELLED.value:
        return f"{prefix}Cancelled after {tally}{undone}"
    if run.status == RUNNING:
        return f"{prefix}Running"
    return prefix + tally + undone


def quickbooks_usage(usage: QuickBooksUsage) -> str:
    """What a run asked of QuickBooks, e.g. "QuickBooks: 7 reads, 12 writes in 9 requests"."""
    return (f"QuickBooks: {usage.reads} read{'s' if usage.reads != 1 else ''}, "
            f"{usage.writes} write{'s' if usage.writes != 1 else ''} in {usage.requests} "
            f"request{'s' if usage.requests != 1 else ''}")


def progress_line(progress: Progress, *, dry_run: bool = False) -> str:
    """A running sync's counts and current order, e.g. "12 fetched · 10 booked · … — order 1043"."""
    verb = "planned" if dry_run else "booked"
    line = (f"{progress.fetched} fetched · {progress.booked} {verb} · "
            f"{progress.skipped} skipped · {progress.failed} failed")
    if progress.current_order:
        line += f" — order {progress.current_order}"
    return line


def count_of(number: int, noun: str) -> str:
    """ "1 order", "3 orders": a count in words, not "3 order(s)"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def running_summary(progress: Progress, *, dry_run: bool = False) -> str:
    """A running sync in a few words, for the list and the tray: "Syncing… 120 of 300, 118
    booked", "Syncing… waiting for QuickBooks' limit", "Cancelling… 37 orders to finish"."""
    tally = counts(progress.booked, progress.skipped, progress.failed, dry_run=dry_run)
    if progress.cancelling:
        return f"Cancelling… {count_of(progress.partly_sent, 'order')} to finish, {tally}"
    verb = "Previewing" if dry_run else "Syncing"
    if progress.pause_s:
        return f"{verb}… waiting for {progress.paused_for}, {tally}"
    if progress.total:
        return f"{verb}… {progress.done} of {progress.total}, {tally}"
    return f"{verb}… {tally}"


def cancelling_line(partly_sent: int) -> str:
    """A cancel waiting for the orders already sent: "Cancelling — finishing 37 orders already
    sent"."""
    if partly_sent <= 0:
        return "Cancelling — no order is half sent; stopping now"
    orders = f"{partly_sent} order{'s' if partly_sent != 1 else ''}"
    return f"Cancelling — finishing {orders} already sent"


def quit_while_syncing_note(partly_sent: int) -> str:
    """What quitting does to the syncs running: the same as Cancel, which finishes the orders
    already sent and starts no other."""
    if partly_sent <= 0:
        stops = "Quitting stops the sync now: no order is half sent"
    else:
        orders = f"{partly_sent} order{'s' if partly_sent != 1 else ''}"
        stops = (f"Quitting first finishes the {orders} already sent to QuickBooks, then stops "
                 "before any other")
    return f"{stops}; nothing is booked twice, and the next sync goes on from there."


def time_left(seconds: float) -> str:
    """An estimate of the time a run still needs: "about 3 min left"."""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes / 60:.1f} h left".replace(".0 h", " h")


def store_address(source: type[Source], settings: Mapping[str, str]) -> str:
    """The store's kind and where it is: "Shopify · https://shop.example", "Order file · a.csv"."""
    for field in source.settings_fields:
        value = settings.get(field.name, "")
        if field.kind is FieldKind.URL and value:
            return f"{source.label} · {value}"
        if field.kind is FieldKind.PATH and value:
            return f"{source.label} · {PurePath(value).name}"
    return source.label
