"""How a connection is doing: its health in a word, the failures still standing, recent runs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from connex_desktop.core.connection import Connection
from connex_desktop.core.result import RunStatus
from connex_desktop.storage.repositories import RunOrderRecord, RunRecord, RunRepository

RECENT_RUNS = 5


class Tone(Enum):
    """How a health reads at a glance, from fine to needing the user."""

    GOOD = "good"
    QUIET = "quiet"           # nothing to judge yet, or a run going on
    ATTENTION = "attention"   # some orders need the user; the rest is booking
    PROBLEM = "problem"       # nothing books until the user acts


@dataclass(frozen=True)
class Health:
    tone: Tone
    words: str


@dataclass(frozen=True)
class ConnectionOverview:
    """What the database says of one connection; read it off the GUI thread."""

    recent_runs: tuple[RunRecord, ...]       # newest first, previews too
    failures: tuple[RunOrderRecord, ...]     # orders whose latest real outcome is a failure

    @property
    def last_sync(self) -> RunRecord | None:
        """The latest real (not preview) run."""
        return next((run for run in self.recent_runs if not run.dry_run), None)


def read_overview(runs: RunRepository, connection_id: int) -> ConnectionOverview:
    return ConnectionOverview(tuple(runs.list(connection_id, limit=RECENT_RUNS)),
                              tuple(runs.failed_orders(connection_id)))


def health(connection: Connection, overview: ConnectionOverview, *, needs_reconnect: bool,
           running: bool = False, previewing: bool = False) -> Health:
    """The one thing most worth knowing about the connection now; `running`: a run of it is
    going on (a preview, with `previewing`), which its records may not show yet."""
    last = overview.last_sync
    failures = len(overview.failures)
    if not connection.quickbooks.connected:
        return Health(Tone.PROBLEM, "Not connected to QuickBooks")
    if needs_reconnect:
        return Health(Tone.PROBLEM, "Reconnect to QuickBooks")
    if running or (last is not None and last.running):
        return Health(Tone.QUIET, "Previewing" if previewing else "Syncing")
    if last is not None and last.status == RunStatus.FAILED.value:
        return Health(Tone.PROBLEM, "Last sync failed")
    if failures:
        return Health(Tone.ATTENTION,
                      f"{failures} order{'s' if failures != 1 else ''} need"
                      f"{'' if failures != 1 else 's'} attention")
    if last is None:
        return Health(Tone.QUIET, "Not synced yet")
    if last.undone_at is not None:   # its documents deleted: the next sync books its orders
        return Health(Tone.QUIET, "Last sync undone")
    return Health(Tone.GOOD, "All orders booked")
