"""QuickBooks Desktop from the command line: a connection added for it, its .qwc file and
password, and syncs through the Web Connector (the scripted one, with the fake company file in
this process) that book every order once, though the app is killed in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from connex_desktop.qbdesktop.fake.connector import RunningWebConnector, ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from tests.fakes.file_keyring import FILE_ENV
from tests.loopback import free_port
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import ORDERS, booked_as_ordered, txns
from tests.sync.conftest import write_orders

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(REPO_ROOT),
                "PYTHON_KEYRING_BACKEND": "tests.fakes.file_keyring.FileKeyring",
                FILE_ENV: str(tmp_path / "keyring.json"),
                "CONNEX_WEB_CONNECTOR_PORT": str(free_port())})
    return env


def cli(environment: dict[str, str], data_dir: Path,
        *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connex_desktop", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, env=environment,
                          timeout=TIMEOUT_S, check=False)


def add_desktop_shop(environment: dict[str, str], data_dir: Path, orders: Path,
                     tmp_path: Path) -> tuple[str, ET.Element]:
    """`connection add` for QuickBooks Desktop; its password and .qwc file, as the user reads
    them to set up the Web Connector."""
    added = cli(environment, data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
                f"path={orders}", "--mode", "sales-orders-invoices-pos", "--quickbooks",
                "desktop", "--company-file", r"C:\Books\Outdoor Co.qbw")
    assert added.returncode == 0, added.stderr
    assert "qb web-connector Shop --qwc FOLDER --show-password" in added.stdout
    shown = cli(environment, data_dir, "connection", "show", "Shop")
    assert "QuickBooks Desktop: C:\\Books\\Outdoor Co.qbw" in shown.stdout
    assert "Web Connector, user connex-1" in shown.stdout
    written = cli(environment, data_dir, "qb", "web-connector", "Shop", "--qwc", str(tmp_path),
                  "--show-password")
    assert written.returncode == 0, written.stderr
    password = written.stdout.split("Web Connector password: ")[1].strip()
    refused = cli(environment, data_dir, "qb", "connect", "Shop")
    assert refused.returncode == 2 and "needs no sign-in" in refused.stderr
    again = cli(environment, data_dir, "qb", "web-connector", "Shop", "--show-password")
    assert again.stdout.split("Web Connector password: ")[1].strip() == password   # made once
    qwc = ET.parse(tmp_path / "Connex Desktop - Shop.qwc").getroot()
    return password, qwc


def test_synced_from_the_command_line_once_though_the_app_is_killed(environment, tmp_path):
    data_dir = tmp_path / "data"
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    password, qwc = add_desktop_shop(environment, data_dir, orders, tmp_path)
    port = environment["CONNEX_WEB_CONNECTOR_PORT"]
    assert qwc.findtext("AppURL") == f"http://localhost:{port}/qbwc"
    assert password not in ET.tostring(qwc, encoding="unicode")
    quickbooks = FakeQuickBooks(seeded_company(), validator=schema_errors)

    def web_connector(**fault: object) -> RunningWebConnector:
        connector = ScriptedWebConnector(f"http://127.0.0.1:{port}/qbwc",
                                         qwc.findtext("UserName", ""), password, quickbooks,
                                         **fault)  # type: ignore[arg-type]
        return RunningWebConnector(connector, restart=False).start()

    # The Web Connector stops as soon as QuickBooks has booked the first invoice, before its
    # answer reaches the app; the app, waiting for it, is killed.
    stopping = web_connector(lose_answer_to="<InvoiceAdd>")
    process = subprocess.Popen([sys.executable, "-m", "connex_desktop", "--data-dir",
                                str(data_dir), "sync", "Shop", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment)
    assert stopping.stopped(TIMEOUT_S)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=TIMEOUT_S)
    assert len(txns(quickbooks, "Invoice")) == 1

    running = web_connector()
    try:
        synced = cli(environment, data_dir, "sync", "Shop", "--json")
    finally:
        running.stop()
    assert synced.returncode == 0, (synced.stdout, synced.stderr)
    assert json.loads(synced.stdout)["status"] == "succeeded"
    assert "Waiting for the QuickBooks Web Connector" in synced.stderr
    booked_as_ordered(quickbooks)
