"""The composition root: where state lives, how sources get their secrets, the demo."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connex_desktop.__main__ import MEASURE_STARTUP_ENV, build_parser
from connex_desktop.app import DEMO_CONNECTION_NAME, DEMO_MODE, SOURCE_KINDS, App, build_app
from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind, RunStatus, RunTrigger
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.storage.repositories import INTERRUPTED_MESSAGE


def test_state_goes_to_the_data_dir_or_connex_desktop_home(tmp_path, monkeypatch):
    app = build_app(str(tmp_path / "chosen"), secrets=MemorySecretStore())
    assert app.paths.database == tmp_path / "chosen" / "connex.sqlite3"
    assert app.paths.database.exists()
    app.close()
    monkeypatch.setenv("CONNEX_DESKTOP_HOME", str(tmp_path / "home"))
    app = build_app(secrets=MemorySecretStore())
    assert app.paths.data == tmp_path / "home"
    app.close()


def test_sources_get_their_declared_secrets_and_defaults(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    assert set(SOURCE_KINDS) >= {"csv", "demo"}
    connection = app.connections.add(Connection(
        name="Woo", source_kind="woocommerce", mode=TransactionMode.INVOICES,
        source_settings={"store_url": "https://shop.example.com"}))
    assert connection.id is not None
    app.secrets.set(connection_secret_key(connection.id, "consumer_key"), "ck_1")
    source = app.source_for(connection)
    assert source.secrets == {"consumer_key": "ck_1"}
    assert source.settings["keys_in_query"] == "false"    # the declared default
    assert "ck_1" not in source.store_key
    app.close()


def test_demo_books_into_a_company_kept_in_the_data_dir_and_never_twice(tmp_path):
    keyring = MemorySecretStore()
    app = build_app(str(tmp_path), secrets=keyring)
    connection = app.start_demo(orders=8, mode=TransactionMode.INVOICES)
    assert connection.name == DEMO_CONNECTION_NAME
    assert connection.quickbooks.connected
    first = app.engine().run(connection, query=OrderQuery())
    assert first.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    invoices = [doc for doc in first.documents if doc.kind is DocumentKind.INVOICE]
    assert invoices
    # Signed in through the connect service: its tokens in the keyring, no client secret.
    kept = keyring.keys()
    assert sorted(key.rsplit("/", 1)[1] for key in kept) == ["qb_access_token", "qb_refresh_token"]
    app.close()
    assert (tmp_path / "demo-company.sqlite3").exists()

    # Next launch: the same company, ledger and sign-in, on a fresh sandbox and service port.
    app = build_app(str(tmp_path), secrets=keyring)
    signed_in = connection.quickbooks.signed_in_at
    connection = app.start_demo(orders=8, mode=TransactionMode.INVOICES)
    assert connection.quickbooks.signed_in_at == signed_in
    again = app.engine().run(connection, query=OrderQuery())
    assert again.documents == []
    with app.quickbooks_client(connection) as client:
        assert client.count("Invoice") == len(invoices)
    assert [c.name for c in app.connections.list()] == [DEMO_CONNECTION_NAME]
    app.close()


def test_a_larger_demo_is_the_same_store_and_pays_nothing_twice(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    mode = TransactionMode.INVOICES_WITH_PAYMENTS
    app.engine().run(app.start_demo(orders=8, mode=mode), query=OrderQuery())
    app.engine().run(app.start_demo(orders=12, mode=mode), query=OrderQuery())
    assert app._demo is not None
    with app._demo.server.books() as company:
        invoice_list, payments = company.all("Invoice"), company.all("Payment")
    numbers = [invoice["DocNumber"] for invoice in invoice_list]
    assert len(numbers) == len(set(numbers))
    invoices = {invoice["Id"]: invoice for invoice in invoice_list}
    applied = dict.fromkeys(invoices, Decimal("0"))
    for payment in payments:
        for line in payment["Line"]:
            applied[line["LinkedTxn"][0]["TxnId"]] += Decimal(str(line["Amount"]))
    for invoice_id, amount in applied.items():   # split payments may be two; never too many
        assert amount + Decimal(str(invoices[invoice_id]["Balance"])) == Decimal(
            str(invoices[invoice_id]["TotalAmt"]))
    app.close()


# ---- the demo keeps the user's choices -----------------------------------------------------

def test_the_demo_starts_the_company_kind_asked_for_and_keeps_it(tmp_path):
    assert build_parser().parse_args(["demo", "--company", "uk"]).company == "uk"
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    connection = app.start_demo(orders=2, company_kind="uk", multicurrency=True)
    with app.quickbooks_client(connection) as client:
        assert client.company_info()["Country"] == "GB"
    app.close()
    assert (tmp_path / "demo-company-uk-multicurrency.sqlite3").exists()
    assert not (tmp_path / "demo-company.sqlite3").exists()

    app = build_app(str(tmp_path), secrets=MemorySecretStore())    # `sync` or the window
    app.start_demo()
    assert app._demo is not None
    with app._demo.server.books() as company:
        assert company.preferences()["CurrencyPrefs"] == {
            "MultiCurrencyEnabled": True, "HomeCurrency": {"value": "GBP"}}
    app.close()
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    app.start_demo(company_kind="us")
    assert app._demo is not None
    with app._demo.server.books() as company:
        assert company.kind.key == "us"
    app.close()
    assert (tmp_path / "demo-company.sqlite3").exists()


def test_the_demo_mode_is_chosen_when_created_and_then_left_to_the_user(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    assert app.start_demo(orders=4).mode is DEMO_MODE
    chosen = dataclasses.replace(app.connections.get(DEMO_CONNECTION_NAME),
                                 mode=TransactionMode.SALES_RECEIPTS)
    app.connections.update(chosen)
    app.close()

    app = build_app(str(tmp_path), secrets=MemorySecretStore())    # the next launch
    assert app.start_demo().mode is TransactionMode.SALES_RECEIPTS
    assert app.connections.get(DEMO_CONNECTION_NAME).mode is TransactionMode.SALES_RECEIPTS
    # `demo --mode` asks for a mode: that one it gets.
    assert app.start_demo(mode=TransactionMode.INVOICES).mode is TransactionMode.INVOICES
    assert app.connections.get(DEMO_CONNECTION_NAME).mode is TransactionMode.INVOICES
    app.close()


def test_starting_the_demos_company_keeps_what_was_saved_since_it_was_read(tmp_path):
    """Configure starts the demo's company with the connection as the dialog opened it; a
    Save meanwhile (a new mode) must not be undone by that start."""
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    opened = app.start_demo(orders=4)
    assert opened.mode is not TransactionMode.SALES_RECEIPTS
    app.connections.update(dataclasses.replace(opened, mode=TransactionMode.SALES_RECEIPTS))
    app.with_demo_running(opened)
    assert app.connections.get(DEMO_CONNECTION_NAME).mode is TransactionMode.SALES_RECEIPTS
    app.close()


# ---- runs left "running" by a process that died --------------------------------------------

# Another process (a command line sync) holding a connection's sync lock until told to stop.
HOLD_LOCK = """
import sys
from pathlib import Path
from connex_desktop.storage.sync_locks import SyncLocks

with SyncLocks(Path(sys.argv[1])).hold(int(sys.argv[2])) as held:
    print("held" if held else "busy", flush=True)
    sys.stdin.readline()
"""


@contextlib.contextmanager
def syncing_elsewhere(app: App, connection_id: int) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(app.sync_locks.folder), str(connection_id)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def connection_named(app: App, name: str) -> Connection:
    return app.connections.add(Connection(name=name, source_kind="csv",
                                          mode=TransactionMode.INVOICES))


def test_only_runs_no_live_process_is_doing_are_marked_interrupted(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    crashed, busy = connection_named(app, "Crashed"), connection_named(app, "Busy")
    assert crashed.id is not None and busy.id is not None
    left_running = app.runs.start(crashed.id, RunTrigger.SCHEDULE)
    in_progress = app.runs.start(busy.id, RunTrigger.CLI)
    with syncing_elsewhere(app, busy.id) as other:
        assert app.mark_interrupted_runs() == 1
        assert app.runs.get(left_running).message == INTERRUPTED_MESSAGE
        assert app.runs.get(in_progress).running
        # The engine will not start a second run of it meanwhile, nor record one.
        refused = app.engine().run(busy)
        assert refused.status is RunStatus.FAILED and refused.run_id is None
        assert refused.failure_kind is ErrorKind.RETRY_LATER
        assert "right now" in refused.message
        assert [run.id for run in app.runs.list(busy.id)] == [in_progress]
        other.kill()        # the command line sync is killed mid-run
    assert app.mark_interrupted_runs() == 1
    assert app.runs.get(in_progress).status == RunStatus.FAILED.value
    app.close()


def test_a_sync_first_closes_the_runs_of_its_connection_a_dead_process_left(app_with_demo):
    app, connection = app_with_demo
    left_running = app.runs.start(connection.id, RunTrigger.CLI)
    result = app.engine().run(connection)
    assert result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert app.runs.get(left_running).message == INTERRUPTED_MESSAGE
    assert not any(run.running for run in app.runs.list(connection.id))


@pytest.fixture
def app_with_demo(tmp_path: Path) -> Iterator[tuple[App, Connection]]:
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    connection = app.start_demo(orders=3)
    yield app, connection
    app.close()


# ---- the window's start ----------------------------------------------------------------------

# Needed only to talk to QuickBooks: the window must show without them.
QUICKBOOKS_ONLY = ("intuitlib.", "quickbooks", "requests_oauthlib", "oauthlib", "jwt",
                   "cryptography", "connex_desktop.sync.engine", "connex_desktop.quickbooks.client")
# Prints the modules loaded once the named modules are imported, or once `main` returns.
LOADED = """
import importlib, json, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
code = None
if sys.argv[1]:   # the GUI as a user starts it, quitting once its window is first painted
    from connex_desktop.__main__ import main
    code = main(["--data-dir", sys.argv[1]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
LOADED_TIMEOUT_S = 60


def quickbooks_modules_after(data_dir: Path | None, *modules: str) -> list[str]:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", MEASURE_STARTUP_ENV: "1"}
    done = subprocess.run([sys.executable, "-c", LOADED, str(data_dir or ""), *modules],
                          capture_output=True, text=True, env=environment,
                          timeout=LOADED_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] in (None, 0)
    # The bare `intuitlib` is put in place by its installer's .pth file at every start.
    return [name for name in report["modules"]
            if any(name.startswith(prefix) if prefix.endswith(".")
                   else name == prefix or name.startswith(prefix + ".")
                   for prefix in QUICKBOOKS_ONLY)]


def test_the_app_and_the_sync_controls_load_without_the_quickbooks_libraries():
    assert quickbooks_modules_after(
        None, "connex_desktop.app", "connex_desktop.ui.controller", "connex_desktop.ui.worker",
        "connex_desktop.ui.connect_dialog", "connex_desktop.ui.configure",
        "connex_desktop.ui.tray", "connex_desktop.ui.scheduler") == []


def test_the_gui_does_not_import_the_cli_commands():
    """app.py is the one composition root: the window gets its undoer there, not from the CLI."""
    check = ("import sys, connex_desktop.ui.main_window, connex_desktop.ui.application; "
             "print('connex_desktop.commands' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                          timeout=LOADED_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


def test_the_window_shows_without_the_quickbooks_libraries(tmp_path):
    assert quickbooks_modules_after(tmp_path) == []


def test_starting_the_window_closes_the_runs_a_crash_left_running(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    connection = connection_named(app, "Shop")
    assert connection.id is not None
    left_running = app.runs.start(connection.id, RunTrigger.SCHEDULE)
    app.close()
    quickbooks_modules_after(tmp_path)     # the window starts, and quits once painted
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    assert app.runs.get(left_running).message == INTERRUPTED_MESSAGE
    app.close()
