"""Progress reports and the cancel token shared by the engine, the CLI and the GUI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """A snapshot of a run, sent to a plain callable after each order."""

    fetched: int = 0
    booked: int = 0
    skipped: int = 0
    failed: int = 0
    current_order: str = ""
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_progress: Progress) -> None:
    """The progress callback for runs nobody watches."""


class CancelToken:
    """Set from any thread; checked by the engine between orders and pages, never mid-write."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
