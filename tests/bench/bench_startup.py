"""Benchmark: launch → main window first painted, from source and from the bundle, vs. bare Qt.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/pytest -m bench -s tests/bench -k startup`
(set CONNEX_BUNDLE=dist/connex-desktop/connex-desktop to time an existing bundle instead of
building one). Each figure is the median wall time from process launch to the marker line the
app prints when its main window first paints (CONNEX_MEASURE_STARTUP=1); the runs of the
different launchers alternate so that load on the machine hits them alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connex_desktop.__main__ import MEASURE_STARTUP_ENV
from connex_desktop.ui.probe import STARTUP_MARKER
from tests.bundle import build_bundle

pytestmark = pytest.mark.bench

RUNS = 7
RUN_TIMEOUT_S = 60
BUNDLE_ENV = "CONNEX_BUNDLE"

# The floor any PySide6 app pays: the same window class painted once, with nothing of ours.
BARE_QT_WINDOW = f"""
import sys
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class Window(QMainWindow):
    def event(self, event):
        if event.type() == QEvent.Type.Paint:
            print({STARTUP_MARKER!r}, flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return super().event(event)

app = QApplication(sys.argv[:1])
window = Window()
window.resize(1180, 560)
window.show()
app.exec()
"""


def time_launch(command: list[str], env: dict[str, str], *, until_marker: bool) -> float:
    """Seconds from launch until the process prints the marker, or until it exits."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    assert process.stdout is not None
    elapsed = None
    for line in process.stdout:
        if until_marker and elapsed is None and STARTUP_MARKER in line:
            elapsed = time.perf_counter() - started
    process.wait(timeout=RUN_TIMEOUT_S)
    if not until_marker:
        elapsed = time.perf_counter() - started
    assert process.returncode == 0, f"{command[:3]} failed ({process.returncode})"
    assert elapsed is not None, f"{command[:3]} never printed {STARTUP_MARKER!r}"
    return elapsed


@pytest.fixture(scope="module")
def bundle_executable(tmp_path_factory) -> Path:
    existing = os.environ.get(BUNDLE_ENV)
    if existing:
        return Path(existing).resolve()
    built = build_bundle(tmp_path_factory.mktemp("startup-bundle"))
    print(f"\nbundle built in {built.build_s:.0f} s, {built.size_bytes / 1e6:.0f} MB")
    return built.executable


def test_startup_to_first_window(bundle_executable, tmp_path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           MEASURE_STARTUP_ENV: "1"}
    # name: (command, whether it prints the marker; if not, timed to its exit)
    launchers = {
        "python -c 'import PySide6.QtWidgets'":
            ([sys.executable, "-c", "import PySide6.QtWidgets"], False),
        "bare PySide6 window": ([sys.executable, "-c", BARE_QT_WINDOW], True),
        "connex-desktop from source":
            ([sys.executable, "-m", "connex_desktop", "--data-dir", str(data_dir)], True),
        "connex-desktop bundle": ([str(bundle_executable), "--data-dir", str(data_dir)], True),
    }
    # A first launch creates the database and warms the disk cache; it is not counted.
    for command, until_marker in launchers.values():
        time_launch(command, env, until_marker=until_marker)
    samples: dict[str, list[float]] = {name: [] for name in launchers}
    for _ in range(RUNS):
        for name, (command, until_marker) in launchers.items():
            samples[name].append(time_launch(command, env, until_marker=until_marker))

    medians_ms = {name: statistics.median(times) * 1000 for name, times in samples.items()}
    baseline_ms = medians_ms["bare PySide6 window"]
    print(f"\nlaunch → main window first painted, median of {RUNS} runs "
          f"({env['QT_QPA_PLATFORM']} platform):")
    for name, median_ms in medians_ms.items():
        spread = ", ".join(f"{t * 1000:.0f}" for t in sorted(samples[name]))
        print(f"  {name:<36} {median_ms:7.0f} ms  ×{median_ms / baseline_ms:4.2f} bare window"
              f"  [{spread}]")
    print(json.dumps({"startup_median_ms": {k: round(v) for k, v in medians_ms.items()}}))
