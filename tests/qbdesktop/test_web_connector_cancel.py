"""Cancel reaches a run that waits for the QuickBooks Web Connector: the wait ends at once, the
run is recorded as cancelled, the service stops listening, and the next sync books every order
once. The wait itself is said in the run's progress."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from connex_desktop.app import App
from connex_desktop.connections import WEB_CONNECTOR_PASSWORD, web_connector_user
from connex_desktop.core.errors import Cancelled, ErrorKind
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.progress import UNTIL_ANSWERED, CancelToken, Progress
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.qbdesktop.fake.connector import RunningWebConnector, ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.qbdesktop.transport import (
    TELL_WAIT_AFTER_S,
    WEB_CONNECTOR_TO_CALL,
    WEB_CONNECTOR_WAIT,
    WebConnectorTransport,
)
from tests.qbdesktop.conftest import Desktop
from tests.qbdesktop.test_desktop_cli import add_desktop_shop, environment  # noqa: F401  (a fixture)
from tests.qbdesktop.test_desktop_engine import (
    ORDERS,
    PASSWORD,
    booked_as_ordered,
    desktop_connection,
    sync,
)
from tests.sync.conftest import write_orders

# "Promptly": a cancel ends the wait, and the run, well within this.
PROMPT_S = 1.5
WAIT_SAID_TIMEOUT_S = 10


@dataclass
class WebConnectors:
    """What each run's service is met by: none (`calls` off: nobody presses Update Selected),
    or the scripted Web Connector; `lose_answer_to` makes it stop, for good, once QuickBooks
    booked the first such request, before its answer reaches the app."""

    quickbooks: FakeQuickBooks
    calls: bool = False
    lose_answer_to: str = ""
    servers: list[WebConnectorServer] = field(default_factory=list)
    running: list[RunningWebConnector] = field(default_factory=list)

    def started(self, server: WebConnectorServer) -> None:
        self.servers.append(server)
        if self.calls:
            connector = ScriptedWebConnector(server.url, web_connector_user(1), PASSWORD,
                                             self.quickbooks, lose_answer_to=self.lose_answer_to)
            self.running.append(RunningWebConnector(connector, restart=False).start())


@pytest.fixture
def connectors(app: App, quickbooks: FakeQuickBooks) -> Iterator[WebConnectors]:
    connectors = WebConnectors(quickbooks)
    app.desktop_processor_for = None
    app.web_connector_port = 0
    app.web_connector_started = connectors.started
    app.secrets.set(connection_secret_key(1, WEB_CONNECTOR_PASSWORD), PASSWORD)
    yield connectors
    for connector in connectors.running:
        connector.stop()


class BackgroundRun:
    """A sync in a thread, its progress kept, cancelled through its token."""

    def __init__(self, app: App, mode: TransactionMode, tmp_path) -> None:
        self.shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS), mode)
        self.cancel = CancelToken()
        self.seen: list[Progress] = []
        self.result: SyncResult | None = None
        self._thread = threading.Thread(target=self._run, args=(app,), daemon=True)
        self._thread.start()

    def _run(self, app: App) -> None:
        self.result = app.engine().run(self.shop, progress=self.seen.append,
                                       cancel=self.cancel)

    def waits_for_the_web_connector(self) -> bool:
        return soon(lambda: any(seen.pause_s == UNTIL_ANSWERED for seen in list(self.seen)))

    def cancelled_within(self) -> float:
        """Cancel; the seconds until the run ended."""
        started = time.monotonic()
        self.cancel.cancel()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive()
        return time.monotonic() - started


def soon(condition: Callable[[], object]) -> bool:
    deadline = time.monotonic() + WAIT_SAID_TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def listening(server: WebConnectorServer) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", server.port)) == 0


def test_a_cancel_ends_the_wait_for_the_web_connector_at_once(app, quickbooks, connectors,
                                                              tmp_path):
    run = BackgroundRun(app, TransactionMode.SALES_ORDERS_INVOICES_POS, tmp_path)
    assert run.waits_for_the_web_connector()
    # The progress says whom the run waits for, and what to do: no countdown, there is none.
    wait = next(seen for seen in run.seen if seen.pause_s == UNTIL_ANSWERED)
    assert wait.paused_for == WEB_CONNECTOR_WAIT
    (server,) = connectors.servers
    assert listening(server)

    assert run.cancelled_within() < PROMPT_S
    assert run.result is not None and run.result.status is RunStatus.CANCELLED
    assert run.result.message == ("The sync was cancelled; the next sync goes on where it "
                                  "stopped.")
    assert app.runs.get(run.result.run_id).status == RunStatus.CANCELLED.value
    assert quickbooks.company.txns == {}, "nothing is booked"
    assert not listening(server), "the service stopped listening"

    connectors.calls = True     # Update Selected, this time
    sync(app, run.shop)
    booked_as_ordered(quickbooks)


def test_a_cancel_while_the_web_connector_holds_an_answer_books_each_order_once(
        app, quickbooks, connectors, tmp_path):
    """The Web Connector stops after QuickBooks booked the first invoice, before its answer
    reaches the app (a closed laptop): the run waits for it, and the user cancels."""
    connectors.calls, connectors.lose_answer_to = True, "<InvoiceAdd>"
    run = BackgroundRun(app, TransactionMode.SALES_ORDERS_INVOICES_POS, tmp_path)
    assert soon(lambda: connectors.running)
    assert connectors.running[0].stopped(WAIT_SAID_TIMEOUT_S)
    assert run.waits_for_the_web_connector()
    invoices = [txn for txn in quickbooks.company.txns.values() if txn.kind == "Invoice"]
    assert len(invoices) == 1

    assert run.cancelled_within() < PROMPT_S
    assert run.result is not None and run.result.status is RunStatus.CANCELLED
    assert not listening(connectors.servers[0])
    # The invoice QuickBooks booked is unconfirmed, and said so: the next sync looks first.
    (unconfirmed,) = [failure for failure in run.result.errors if failure.order == "1001"]
    assert unconfirmed.kind is ErrorKind.RETRY_LATER
    assert unconfirmed.message.startswith("QuickBooks did not confirm its Invoice: The sync "
                                          "was cancelled while it waited for the QuickBooks "
                                          "Web Connector")

    connectors.lose_answer_to = ""
    sync(app, run.shop)
    booked_as_ordered(quickbooks)     # the invoice QuickBooks kept is not booked again


def test_a_cancelled_wait_leaves_nothing_for_the_web_connector_to_take(desktop: Desktop):
    transport = WebConnectorTransport(desktop.queue, wait_s=60)
    cancel = transport.cancel
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled, match="waited for the QuickBooks Web Connector"):
        transport.process("<QBXML/>")
    assert time.monotonic() - started < PROMPT_S
    assert len(desktop.queue) == 0, "withdrawn: a Web Connector calling later finds nothing"
    with pytest.raises(Cancelled):      # and nothing more is queued for the cancelled run
        transport.process("<QBXML/>")
    assert len(desktop.queue) == 0


def test_ctrl_c_ends_a_command_line_sync_waiting_for_the_web_connector(
        environment, tmp_path):  # noqa: F811
    data_dir = tmp_path / "data"
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    add_desktop_shop(environment, data_dir, orders, tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "connex_desktop", "--data-dir",
                                str(data_dir), "sync", "Shop", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment)
    assert process.stderr is not None
    said = process.stderr.readline()
    assert said.startswith(f"Waiting for {WEB_CONNECTOR_TO_CALL} http://localhost:")
    time.sleep(TELL_WAIT_AFTER_S)      # the run is waiting for the Web Connector's call
    pressed = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, _stderr = process.communicate(timeout=60)
    assert time.monotonic() - pressed < PROMPT_S
    assert process.returncode == 1
    assert json.loads(stdout)["status"] == "cancelled"
    port = int(environment["CONNEX_WEB_CONNECTOR_PORT"])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the service stopped listening"
