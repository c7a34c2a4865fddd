"""Configure shows where the demo's company answers now: its sandbox gets a new address at each
start of the app, so the address saved by an earlier start is never shown."""

from __future__ import annotations

from connex_desktop.app import DEMO_CONNECTION_NAME, build_app
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.ui.configure import ConfigureDialog

LISTS_TIMEOUT_MS = 30_000


def test_after_a_restart_configure_shows_the_demos_current_address_not_the_old_one(
        qtbot, app, tmp_path):
    before = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    try:
        old = before.start_demo(orders=5).quickbooks.environment
    finally:
        before.close()      # the app quits: its sandbox ends with it
    assert old.startswith("http://127.0.0.1:")

    demo = app.connections.get(DEMO_CONNECTION_NAME)   # a new start: the demo not running
    assert demo.quickbooks.environment == old
    assert app.demo_address(demo) == ""
    # (The dialog starts reading the company's lists at once, which starts the demo's company
    # on a background thread: what it showed when it opened is in its label.)
    dialog = ConfigureDialog(app, demo)
    qtbot.addWidget(dialog)
    label = dialog.quickbooks.company_label
    assert old not in label.text()
    assert "the demo's sandbox on this computer, started when needed" in label.text()

    # Reading the company's lists starts the demo's company: its address of this start shows.
    # (The system may hand out the old port again: the address is whichever this start has.)
    qtbot.waitUntil(lambda: bool(app.demo_address(demo))
                    and f"({app.demo_address(demo)})" in label.text(), timeout=LISTS_TIMEOUT_MS)
    assert "Connected to <b>" in label.text()
    assert app.connections.get(DEMO_CONNECTION_NAME).quickbooks.environment == \
        app.demo_address(demo)
    # Any other connection shows its own saved address.
    assert app.demo_address(app.connections.duplicate(demo.name, "Shop")) is None
