"""Progress reports and the cancel token shared by the engine, the CLI and the GUI."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Shorter pauses (pacing within a second) pass before anyone could read about them.
PAUSE_WORTH_TELLING_S = 2.0
# An estimate of the time left needs this share of the orders done, and this long running, so
# the first slow requests (reading the company's lists) do not make it wild.
ESTIMATE_AFTER_SHARE = 0.05
ESTIMATE_AFTER_S = 10.0
# A pause no clock ends: the run waits until someone else acts (the QuickBooks Web Connector
# calls), so its reason says what to do instead of when it resumes.
UNTIL_ANSWERED = math.inf


@dataclass(frozen=True)
class Progress:
    """A snapshot of a run, sent to a plain callable after each order and when something
    worth saying happens (the number of orders becomes known, a pause, a cancel)."""

    fetched: int = 0
    booked: int = 0
    skipped: int = 0
    failed: int = 0
    current_order: str = ""
    message: str = ""
    # The orders this run goes through, once the store has counted them or all are fetched;
    # None while nobody knows.
    total: int | None = None
    # A pause for someone's limit began, this long (0: nothing is waited for), and whose.
    pause_s: float = 0.0
    paused_for: str = ""
    # Orders with documents sent and others still to send: what a cancel waits for.
    partly_sent: int = 0
    cancelling: bool = False

    @property
    def done(self) -> int:
        return self.booked + self.skipped + self.failed

    def news_since(self, earlier: Progress) -> bool:
        """Whether this says more than new counts: a total, a pause begun or ended, a cancel.
        Such a report is never dropped by whoever thins out the reports."""
        return ((self.total, self.pause_s, self.paused_for, self.cancelling)
                != (earlier.total, earlier.pause_s, earlier.paused_for, earlier.cancelling))


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_progress: Progress) -> None:
    """The progress callback for runs nobody watches."""


def pause_line(paused_for: str, resumes_in_s: float) -> str:
    """A pause for a limit, counting down: "Waiting for QuickBooks' limit — resumes in 42 s";
    one UNTIL_ANSWERED says only its reason."""
    if math.isinf(resumes_in_s):
        return f"Waiting for {paused_for}"
    seconds = math.ceil(resumes_in_s)
    if seconds <= 0:
        return f"Waiting for {paused_for} — resuming now"
    return f"Waiting for {paused_for} — resumes in {seconds} s"


def time_left_s(done: int, total: int | None, elapsed_s: float) -> float | None:
    """The seconds a run still needs at the pace it has kept, once enough is done to say."""
    if not total or done <= 0 or done >= total:
        return None
    if done < total * ESTIMATE_AFTER_SHARE or elapsed_s < ESTIMATE_AFTER_S:
        return None
    return elapsed_s / done * (total - done)


class RunWatcher(Protocol):
    """Who hears what the fetch and the requests tell along the way (the engine's run)."""

    def expect_orders(self, count: int) -> None: ...

    def pausing(self, seconds: float, reason: str) -> None: ...

    def cancelling(self) -> None: ...


class CancelToken:
    """Set from any thread; checked by the engine between orders and pages, never mid-write.

    It is the run's one line to the code that fetches and sends, so it also carries back what
    they learn on the way: how many orders a query yields, and the pauses for a limit.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._watcher: RunWatcher | None = None
        self._pause_told = False

    def cancel(self) -> None:
        if self._event.is_set():
            return
        self._event.set()
        if self._watcher is not None:
            self._watcher.cancelling()   # from the caller's thread, so it is said at once

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def watch(self, watcher: RunWatcher) -> None:
        self._watcher = watcher
        if self.cancelled:
            watcher.cancelling()

    def expect_orders(self, count: int) -> None:
        """A source: the query being fetched yields `count` orders (its pages all known, or
        the store counted them)."""
        if self._watcher is not None:
            self._watcher.expect_orders(count)

    def pausing(self, seconds: float, reason: str) -> None:
        """A pause of `seconds` for `reason` ("QuickBooks' limit") begins; 0: it ended."""
        worth_telling = seconds >= PAUSE_WORTH_TELLING_S if seconds else self._pause_told
        if self._watcher is not None and worth_telling:
            self._pause_told = seconds > 0
            self._watcher.pausing(seconds, reason)


class RunClock:
    """A watched run's times, from its reports as they arrive: how long it has run, and when
    the pause it reported ends. `now` values are any steady clock's seconds."""

    def __init__(self, started_s: float) -> None:
        self.started_s = started_s
        self._pause: tuple[float, str] = (0.0, "")
        self._resumes_at_s: float | None = None

    def heard(self, progress: Progress, now_s: float) -> None:
        pause = (progress.pause_s, progress.paused_for)
        if pause != self._pause:    # a pause begun (its seconds count from now) or ended
            self._pause = pause
            self._resumes_at_s = now_s + progress.pause_s if progress.pause_s else None

    def resumes_in_s(self, now_s: float) -> float | None:
        """Seconds until the reported pause ends (0 once due); None when none is going on."""
        return None if self._resumes_at_s is None else max(0.0, self._resumes_at_s - now_s)

    def time_left_s(self, progress: Progress, now_s: float) -> float | None:
        return time_left_s(progress.done, progress.total, now_s - self.started_s)
