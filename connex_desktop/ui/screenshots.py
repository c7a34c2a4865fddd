"""README screenshots of the real window, on a 1440x900 screen:
`xvfb-run -s "-screen 0 1440x900x24" python -m connex_desktop.ui.screenshots`."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from connex_desktop.app import build_app
from connex_desktop.core.connection import Connection, Schedule
from connex_desktop.core.modes import TransactionMode
from connex_desktop.resources import resources_dir
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.storage.sync_log import Shown
from connex_desktop.ui.application import Desktop
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.connect_dialog import ConnectDialog

OUT = resources_dir() / "screenshots"
SETTLE_MS = 400
DEMO_ORDERS = 300


def wait(milliseconds: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def wait_until(condition, timeout_ms: int = 120_000) -> None:
    waited = 0
    while not condition():
        wait(100)
        waited += 100
        if waited > timeout_ms:
            raise TimeoutError("the screen never got there")


def shoot(widget: QWidget, name: str) -> None:
    widget.show()
    widget.raise_()
    wait(SETTLE_MS)
    widget.grab().save(str(OUT / f"{name}.png"))
    print(OUT / f"{name}.png")


def main() -> int:
    # The demo company is a sandbox on this computer, served over plain http on loopback.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    qt_app = QApplication(sys.argv[:1])
    app = build_app(tempfile.mkdtemp(prefix="connex-shots-"), secrets=MemorySecretStore())
    desktop = Desktop(app, tray=False, demo_orders=DEMO_ORDERS)
    window = desktop.window
    shoot(window, "first-run")

    demo = window.try_demo()
    assert demo is not None and demo.id is not None
    app.connections.update(dataclasses.replace(demo, schedule=Schedule(every_minutes=30),
                                               prefix="WEB-STORE-"))
    orders = Path.home() / "Documents" / "wholesale-orders.csv"
    app.connections.add(Connection(
        name="Wholesale orders (file)", source_kind="csv", mode=TransactionMode.INVOICES,
        source_settings={"path": str(orders)}, statuses=("completed", "processing")))
    window.reload(select_id=demo.id)
    finished = []
    desktop.controller.run_finished.connect(lambda *args: finished.append(args))
    shot_while_syncing: list[bool] = []

    def on_progress(_cid, progress):
        if progress.booked >= DEMO_ORDERS // 3 and not shot_while_syncing:
            shot_while_syncing.append(True)
            window.grab().save(str(OUT / "main-window-syncing.png"))

    desktop.controller.run_progressed.connect(on_progress)
    window.sync_selected()
    wait_until(lambda: finished)
    window.reload(select_id=demo.id)
    wait_until(lambda: window.detail.overview is not None)
    shoot(window, "main-window")

    log = window.show_log(demo.id)
    log.resize(1100, 700)
    wait_until(lambda: not log.loading and log.selected_order() is not None)
    # The failed orders only, the first (one the demo planted) explained in full.
    log.orders.filter_combo.setCurrentIndex(log.orders.filter_combo.findData(Shown.FAILED))
    log.select_order(app.runs.failed_orders(demo.id)[0].order_number)
    shoot(log, "sync-log")
    log.hide()

    dialog = ConfigureDialog(app, app.connections.get_by_id(demo.id), parent=window)
    dialog.tabs.setCurrentIndex(2)
    shoot(dialog, "configure-transactions")
    wait_until(lambda: "are the lists of" in dialog.mapping.lists_label.text())
    dialog.tabs.setCurrentIndex(3)
    shoot(dialog, "configure-mapping")
    dialog.tabs.setCurrentIndex(0)
    shoot(dialog, "configure-store")
    dialog.close()

    connect = ConnectDialog(app, app.connections.get_by_id(demo.id), parent=window)
    shoot(connect, "connect")
    connect.close()
    desktop.shutdown()
    app.close()
    qt_app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
