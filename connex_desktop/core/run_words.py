"""A run's counts as the window, the tray and the command line all say them: "18 booked"."""

from __future__ import annotations

from connex_desktop.core.progress import Progress


def counts(booked: int, skipped: int, failed: int, *, dry_run: bool = False) -> str:
    """The counts that matter, e.g. "18 booked, 2 failed": zero skipped or failed left out."""
    parts = [f"{booked} {'to book' if dry_run else 'booked'}"]
    if skipped:
        parts.append(f"{skipped} skipped")
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts)


def progress_line(progress: Progress, *, dry_run: bool = False) -> str:
    """A running sync's counts and current order, e.g. "12 fetched · 10 booked · … — order 1043"."""
    verb = "planned" if dry_run else "booked"
    line = (f"{progress.fetched} fetched · {progress.booked} {verb} · "
            f"{progress.skipped} skipped · {progress.failed} failed")
    if progress.current_order:
        line += f" — order {progress.current_order}"
    return line
