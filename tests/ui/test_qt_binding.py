"""The Qt binding itself: a long session's signals do not crash the interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

# A long session in miniature: every job start and end, every pause and progress update is an
# emit from Python. PySide6 6.12.0's SignalInstance.emit() returns True without taking a
# reference to it, so each emit takes one from the interpreter's True until it is freed and
# Python aborts with "Fatal Python error: bool_dealloc" (while running, or at exit).
EMITS = 10_000
LONG_SESSION = f"""
import sys
from PySide6.QtWidgets import QApplication
from connex_desktop.app import build_app
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.ui.controller import SyncController

qt_app = QApplication([])
app = build_app(sys.argv[1], secrets=MemorySecretStore())
controller = SyncController(app)
seen = []
controller.running_changed.connect(seen.append)
for _ in range({EMITS} // 2):
    controller.running_changed.emit(True)
    controller.running_changed.emit(False)
app.close()
print(len(seen), seen.count(True))
"""


def test_ten_thousand_signal_emits_leave_python_alive_through_exit(tmp_path):
    done = subprocess.run([sys.executable, "-c", LONG_SESSION, str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=120,
                          env=os.environ | {"QT_QPA_PLATFORM": "offscreen"})
    assert "bool_dealloc" not in done.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(EMITS), str(EMITS // 2)]
