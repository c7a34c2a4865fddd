"""A 5 ms timer on the GUI thread: the gaps between its ticks are how long the window stalled."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer

PROBE_INTERVAL_MS = 5
SETTLE_S = 0.5            # probed on after each step, to catch the layout and paint it causes
STEP_TIMEOUT_S = 60
CHECK_INTERVAL_MS = 20      # how often the step is asked whether it is done


class StallProbe(QObject):
    """A timer ticking every 5 ms on the GUI thread; the gaps between ticks, in ms."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(PROBE_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def measure(self, step: Callable[[], object], done: Callable[[], bool], *,
                timeout_s: float = STEP_TIMEOUT_S) -> dict[str, float]:
        """Run `step` with the probe on, until `done()` and SETTLE_S more; its figures.

        Qt's own event loop runs meanwhile, as under the window: it waits for events without
        the GIL. (A Python loop calling processEvents() and sleeping takes the GIL back after
        every sleep, and with a busy sync thread each time may wait its turn for it: stalls
        of its own, not the window's.)
        """
        self.gaps = []
        loop = QEventLoop()
        deadline = time.perf_counter() + timeout_s
        finished: list[bool] = []

        def check() -> None:
            if not finished and len(self.gaps) > 1 and done():
                finished.append(True)
                QTimer.singleShot(int(SETTLE_S * 1000), loop.quit)
            elif time.perf_counter() > deadline:
                loop.quit()

        checker = QTimer()
        checker.setInterval(CHECK_INTERVAL_MS)
        checker.timeout.connect(check)
        self._last = time.perf_counter()
        self._timer.start()
        checker.start()
        QTimer.singleShot(0, step)    # from the event loop, as a click would run it
        loop.exec()
        checker.stop()
        self._timer.stop()
        assert finished, "the step did not finish"
        return figures(self.gaps)


def figures(gaps: list[float]) -> dict[str, float]:
    return {"longest_ms": round(max(gaps), 1),
            "p99_ms": round(statistics.quantiles(gaps, n=100)[98], 1),
            "ticks": len(gaps)}
