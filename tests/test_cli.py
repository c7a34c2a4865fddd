"""The command line: connections, QuickBooks, sync, history and the demo, with exit codes."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring.core
import pytest
from keyring.errors import KeyringLocked

from connex_desktop.__main__ import main
from connex_desktop.app import SOURCE_KINDS, build_app, demo_company_file
from connex_desktop.core.app_settings import KEYRING_FOLDER_ID
from connex_desktop.logs import LOG_FILE_NAME
from connex_desktop.paths import AppPaths
from connex_desktop.sandbox.qbo_company import Company
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.demo_store import demo_orders
from connex_desktop.sources.http import RetryPolicy
from connex_desktop.storage.database import NOTHING_LOST, Database
from connex_desktop.storage.keyring_secrets import BACKEND_ENV, SERVICE
from connex_desktop.storage.repositories import SettingsRepository
from tests.fakes.full_disk import fill_disk_after
from tests.fakes.memory_keyring import MemoryKeyring
from tests.fakes.stores import FakeServer, Reply
from tests.sync.conftest import row, write_orders

SYNC_KEYS = {"connection", "run_id", "status", "orders", "documents", "errors", "quickbooks",
             "rules"}


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch):
    """The keyring the CLI uses: a real backend, in memory, chosen the way a user would."""
    monkeypatch.setattr(MemoryKeyring, "passwords", {})
    monkeypatch.setenv(BACKEND_ENV, "tests.fakes.memory_keyring.MemoryKeyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    return MemoryKeyring.passwords


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


def folder_key(data_dir: Path, key: str) -> str:
    """The keyring name of a secret: under the data folder's own id, kept in its database."""
    with Database.open(AppPaths.resolve(data_dir).database) as db:
        return f"{SettingsRepository(db).get(KEYRING_FOLDER_ID)}/{key}"


def cli(data_dir: Path, *args: str, stdin: str = "", monkeypatch=None) -> int:
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        return main(["--data-dir", str(data_dir), *args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def connect_quickbooks(data_dir, sandbox, monkeypatch, name: str) -> None:
    grant = sandbox.new_grant()
    assert cli(data_dir, "qb", "connect", name, "--environment", sandbox.base_url,
               "--client-id", sandbox.client_id, "--realm-id", sandbox.realm_id,
               "--token-stdin", stdin=f"{sandbox.client_secret}\n{grant['refresh_token']}\n",
               monkeypatch=monkeypatch) == 0


def connect_csv(data_dir, sandbox, monkeypatch, orders: Path, *extra: str) -> None:
    assert cli(data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
               f"path={orders}", "--mode", "invoices-with-payments", *extra) == 0
    connect_quickbooks(data_dir, sandbox, monkeypatch, "Shop")


def connect_woocommerce(data_dir, sandbox, monkeypatch, store_url: str) -> None:
    assert cli(data_dir, "connection", "add", "Woo", "--source", "woocommerce", "--set",
               f"store_url={store_url}", "--secret", "consumer_key", "--secret",
               "consumer_secret", "--mode", "invoices", stdin="ck_test_key_1\ncs_test_secret_2\n",
               monkeypatch=monkeypatch) == 0
    connect_quickbooks(data_dir, sandbox, monkeypatch, "Woo")


def test_connection_add_show_set_and_remove(data_dir, monkeypatch, capsys, memory_keyring):
    assert cli(data_dir, "connection", "add", "Woo", "--source", "woocommerce", "--set",
               "store_url=https://shop.example.com", "--secret", "consumer_key", "--secret",
               "consumer_secret", "--mode", "sales-receipts", "--status", "completed",
               "--prefix", "WC-", "--map", "customer_policy=generic", "--map",
               "generic_customer=Web Store", stdin="ck_abc123\ncs_def456\n",
               monkeypatch=monkeypatch) == 0
    assert memory_keyring[(SERVICE, folder_key(data_dir, "connection-1/consumer_key"))] == \
        "ck_abc123"
    capsys.readouterr()
    assert cli(data_dir, "connection", "show", "Woo", "--json") == 0
    shown = capsys.readouterr().out
    assert "ck_abc123" not in shown and "cs_def456" not in shown
    summary = json.loads(shown)
    assert summary["secrets"] == {"consumer_key": True, "consumer_secret": True}
    assert summary["mode"] == "sales-receipts" and summary["prefix"] == "WC-"
    assert summary["statuses"] == ["completed"]
    assert summary["mapping"]["customer_policy"] == "generic"
    assert summary["mapping"]["generic_customer"] == "Web Store"

    assert cli(data_dir, "connection", "set", "Woo", "--map",
               "tax_codes=20=20.0% S; standard rate = 20.0% S; 0=Exempt") == 0
    capsys.readouterr()
    assert cli(data_dir, "connection", "show", "Woo", "--json") == 0
    assert json.loads(capsys.readouterr().out)["mapping"]["tax_codes"] == {
        "20": "20.0% S", "standard rate": "20.0% S", "0": "Exempt"}

    assert cli(data_dir, "connection", "set", "Woo", "--use-qb-numbering", "--mode",
               "invoices") == 0
    capsys.readouterr()
    assert cli(data_dir, "connection", "list", "--json") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["mode"] == "invoices" and listed["quickbooks"]["connected"] is False

    assert cli(data_dir, "connection", "remove", "Woo") == 0
    assert memory_keyring == {}
    assert cli(data_dir, "connection", "show", "Woo") == 2


def test_usage_errors_exit_2_with_a_plain_message(data_dir, monkeypatch, capsys):
    assert cli(data_dir, "connection", "add", "X", "--source", "nope", "--mode",
               "invoices") == 2
    assert "Unknown store kind 'nope'" in capsys.readouterr().err
    assert cli(data_dir, "connection", "add", "X", "--source", "csv", "--mode", "invoices",
               "--map", "missing_items=sometimes") == 2
    assert "create, fail, fallback" in capsys.readouterr().err
    assert cli(data_dir, "sync", "Nobody") == 2
    assert cli(data_dir, "sync") == 2
    assert "--all" in capsys.readouterr().err


def test_qb_connect_stores_the_company_and_keeps_tokens_out_of_output(
        data_dir, sandbox, monkeypatch, capsys, tmp_path, memory_keyring):
    orders = write_orders(tmp_path / "orders.csv", [row("1", "MUG-ENM-12")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    out = capsys.readouterr().out
    assert "Maple & Pine Outfitters" in out
    assert sandbox.client_secret not in out
    stored = memory_keyring[(SERVICE, folder_key(data_dir, "connection-1/qb_refresh_token"))]
    assert stored and stored not in out
    assert cli(data_dir, "connection", "show", "Shop", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["quickbooks"]["company"] == "Maple & Pine Outfitters"
    assert summary["quickbooks"]["realm_id"] == sandbox.realm_id


def test_qb_connect_with_a_bad_token_fails_and_keeps_the_working_one(
        data_dir, sandbox, monkeypatch, capsys, tmp_path, memory_keyring):
    orders = write_orders(tmp_path / "orders.csv", [row("1", "MUG-ENM-12")])
    assert cli(data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
               f"path={orders}", "--mode", "invoices") == 0
    connect = ("qb", "connect", "Shop", "--environment", sandbox.base_url, "--client-id",
               sandbox.client_id, "--realm-id", sandbox.realm_id, "--token-stdin")
    assert cli(data_dir, *connect, stdin=f"{sandbox.client_secret}\nnot-a-token\n",
               monkeypatch=monkeypatch) == 2
    assert "Reconnect to QuickBooks" in capsys.readouterr().err
    assert cli(data_dir, "connection", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["quickbooks"]["connected"] is False
    assert memory_keyring == {}     # nothing of the failed attempt was kept

    grant = sandbox.new_grant()
    assert cli(data_dir, *connect, stdin=f"{sandbox.client_secret}\n{grant['refresh_token']}\n",
               monkeypatch=monkeypatch) == 0
    working = dict(memory_keyring)
    assert cli(data_dir, *connect, stdin=f"{sandbox.client_secret}\nnot-a-token\n",
               monkeypatch=monkeypatch) == 2
    assert memory_keyring == working
    capsys.readouterr()
    assert cli(data_dir, "sync", "Shop", "--json") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "succeeded"


def test_sync_json_exit_codes_and_history(data_dir, sandbox, monkeypatch, capsys, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row("101", "MUG-ENM-12", "2", "18.00", payment_status="paid"),
        row("102", "MUG-ENM-12", "x", "18.00"),
    ])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    capsys.readouterr()

    assert cli(data_dir, "sync", "Shop", "--dry-run", "--json") == 1
    dry = json.loads(capsys.readouterr().out)
    assert set(dry) == SYNC_KEYS
    assert sandbox.company.all("Invoice") == []

    metered_before = sandbox.usage()
    assert cli(data_dir, "sync", "Shop", "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert set(result) == SYNC_KEYS
    metered = sandbox.usage()      # what the run cost, as the metering sandbox counted it
    assert result["quickbooks"] == {"reads": metered.reads - metered_before.reads,
                                    "writes": metered.writes - metered_before.writes,
                                    "requests": metered.requests - metered_before.requests}
    assert result["quickbooks"]["writes"] == 3     # the customer, the invoice, the payment
    assert result["status"] == "partial"
    assert result["orders"] == {"fetched": 2, "synced": 1, "skipped": 0, "failed": 1}
    assert [(d["order"], d["kind"], d["doc_number"], d["total"])
            for d in result["documents"]] == [("101", "Invoice", "101", "36.00"),
                                              ("101", "Payment", "", "36.00")]
    assert result["errors"][0]["order"] == "102" and "Quantity" in result["errors"][0]["message"]

    assert cli(data_dir, "sync", "Shop", "--order", "101", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["status"] == "succeeded" and again["documents"] == []
    assert again["orders"]["skipped"] == 1
    assert len(sandbox.company.all("Invoice")) == 1

    assert cli(data_dir, "history", "Shop", "--json") == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [run["status"] for run in runs] == ["succeeded", "partial", "partial"]
    assert runs[-1]["dry_run"] is True
    assert runs[1]["quickbooks"] == result["quickbooks"]
    assert cli(data_dir, "history", "Shop") == 0
    human = capsys.readouterr().out
    assert "order 102 failed" in human

    assert cli(data_dir, "sync", "Shop", "--since", "June") == 2


def test_sync_of_an_unconnected_connection_exits_2(data_dir, tmp_path, capsys):
    orders = write_orders(tmp_path / "orders.csv", [row("1", "MUG-ENM-12")])
    assert cli(data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
               f"path={orders}", "--mode", "invoices") == 0
    capsys.readouterr()
    assert cli(data_dir, "sync", "--all") == 2
    assert "not connected to QuickBooks" in capsys.readouterr().out


def test_demo_runs_headless_in_a_subprocess_without_a_keyring(tmp_path):
    """The demo needs no keyring at all: its tokens stay in memory."""
    env = {"PATH": "/usr/bin:/bin", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "OAUTHLIB_INSECURE_TRANSPORT": "1", "HOME": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-m", "connex_desktop", "--data-dir", str(tmp_path / "data"), "demo",
         "--orders", "12", "--json"], capture_output=True, text=True, env=env, timeout=120,
        check=False)
    assert completed.returncode in (0, 1), completed.stderr
    result = json.loads(completed.stdout)
    assert set(result) == SYNC_KEYS and result["connection"] == "Demo store"
    assert result["orders"]["fetched"] == 12
    assert any(doc["kind"] == "Invoice" for doc in result["documents"])
    assert (tmp_path / "data" / "demo-company.sqlite3").exists()
    assert (tmp_path / "data" / "connex.sqlite3").exists()

    # The demo connection syncs like any other, its sandbox started on the way.
    again = subprocess.run(
        [sys.executable, "-m", "connex_desktop", "--data-dir", str(tmp_path / "data"), "sync",
         "Demo store", "--order", result["documents"][0]["order"], "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["documents"] == [] and rerun["orders"]["skipped"] == 1


def test_demo_keeps_the_transaction_type_the_user_chose(data_dir, capsys):
    assert cli(data_dir, "demo", "--orders", "3", "--mode", "sales-receipts", "--json") in (0, 1)
    assert json.loads(capsys.readouterr().out)["connection"] == "Demo store"
    assert cli(data_dir, "demo", "--orders", "3", "--json") in (0, 1)
    capsys.readouterr()
    assert cli(data_dir, "connection", "show", "Demo store", "--json") == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "sales-receipts"


def test_connection_show_tells_the_company_reads_this_month(data_dir, capsys):
    reads = 0
    for _ in range(2):
        assert cli(data_dir, "demo", "--orders", "3", "--json") in (0, 1)
        reads += json.loads(capsys.readouterr().out)["quickbooks"]["reads"]
    assert reads > 0
    assert cli(data_dir, "connection", "show", "Demo store", "--json") == 0
    quickbooks = json.loads(capsys.readouterr().out)["quickbooks"]
    assert quickbooks["reads_this_month"] == reads
    since = datetime.fromisoformat(quickbooks["reads_counted_since"])
    assert since.utcoffset() == timedelta(0) and since.day == 1 and since.hour == 0
    assert cli(data_dir, "connection", "show", "Demo store") == 0
    assert (f"UTC): {reads:,} by this app on this computer, for this company. Intuit's free "
            "tier allows 500,000 a month") in capsys.readouterr().out


def test_the_demo_says_its_failures_were_planted_and_exits_0(data_dir, capsys):
    assert cli(data_dir, "demo") == 0
    out = capsys.readouterr().out
    failed = [line.split()[1].rstrip(":") for line in out.splitlines()
              if line.startswith("  order AMZ-") and "at most 21" in line]
    assert len(failed) == 3
    assert "The 3 failed orders above were planted by the demo" in out

    # Done as the note says, the planted orders book.
    assert "connection set 'Demo store' --use-qb-numbering" in out
    assert "sync 'Demo store' --retry-failed" in out
    assert cli(data_dir, "connection", "set", "Demo store", "--use-qb-numbering") == 0
    assert cli(data_dir, "sync", "Demo store", "--retry-failed", "--json") == 0
    retried = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert retried["orders"]["failed"] == 0
    assert {doc["order"] for doc in retried["documents"]} == set(failed)


def test_a_prefixed_marketplace_number_is_shown_in_its_failure_not_redacted(data_dir, capsys):
    assert cli(data_dir, "demo") == 0
    assert cli(data_dir, "connection", "set", "Demo store", "--prefix", "WEB-STORE-") == 0
    capsys.readouterr()
    cli(data_dir, "sync", "Demo store", "--retry-failed")
    out = capsys.readouterr().out
    assert re.search(r"the document number 'WEB-STORE-AMZ-\d{3}-\d{7}-\d{7}' is 33 characters",
                     out), out
    assert "[redacted]" not in out


SALE_DOCUMENTS = ("Invoice", "SalesReceipt")


@pytest.mark.parametrize("company", [("us-ast",), ("uk",), ("ca",), ("au",),
                                     ("uk", "--multicurrency")])
def test_the_demo_books_every_order_into_each_kind_of_company(data_dir, capsys, company):
    kind, multicurrency = company[0], len(company) > 1
    assert cli(data_dir, "demo", "--company", *company, "--orders", "150", "--json") == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    failed = [error["order"] for error in result["errors"]]
    assert failed and all(n.startswith("AMZ-") and len(n) > 21 for n in failed), failed
    counts = result["orders"]
    assert counts["synced"] + counts["skipped"] + len(failed) == counts["fetched"] == 150
    booked = {doc["order"] for doc in result["documents"] if doc["kind"] in SALE_DOCUMENTS}
    assert len(booked) == counts["synced"]
    orders = {o.number: o for o in demo_orders(datetime.now(UTC), 150, company=kind,
                                                multicurrency=multicurrency)}

    assert cli(data_dir, "demo", "--json") == 0     # the same company again: nothing new
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert again["documents"] == [] and len(again["errors"]) == len(failed)

    books = Company(data_dir / demo_company_file(kind, multicurrency), kind=kind,
                    multicurrency=multicurrency)
    codes = {code["Id"] for code in books.all("TaxCode")}
    documents = [doc for entity in SALE_DOCUMENTS for doc in books.all(entity)]
    assert sorted(doc["DocNumber"] for doc in documents) == sorted(booked)
    for document in documents:
        order = orders[document["DocNumber"]]
        assert document["TotalAmt"] == order.total, order.number
        assert document["CurrencyRef"]["value"] == order.currency
        if order.exchange_rate is not None:
            assert document["ExchangeRate"] == order.exchange_rate
        for line in document["Line"]:
            if line["DetailType"] == "SalesItemLineDetail":
                assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] in codes, order.number
    currencies = {document["CurrencyRef"]["value"] for document in documents}
    assert currencies == ({"GBP", "EUR", "USD"} if multicurrency else {orders[n].currency
                                                                      for n in orders})
    books.close()


def test_the_demo_exits_1_for_a_failure_it_did_not_plant(data_dir, capsys):
    app = build_app(str(data_dir))
    try:    # the store's own order numbers made too long by the user's prefix
        demo = app.start_demo()
        app.connections.update(dataclasses.replace(demo, prefix="WEB-STORE-ORDER-"))
    finally:
        app.close()
    assert cli(data_dir, "demo", "--orders", "12") == 1
    out = capsys.readouterr().out
    assert "WEB-STORE-ORDER-1" in out and "planted" not in out


def test_exit_codes_follow_what_the_user_can_do():
    from connex_desktop.commands import _exit_code
    from connex_desktop.core.errors import ErrorKind
    from connex_desktop.core.result import RunStatus, SyncResult

    def result(status, *, failed=0, kind=None):
        return SyncResult("Shop", 1, status, failed=failed, failure_kind=kind)

    assert _exit_code([result(RunStatus.SUCCEEDED)]) == 0
    assert _exit_code([result(RunStatus.SUCCEEDED), result(RunStatus.PARTIAL, failed=2)]) == 1
    assert _exit_code([result(RunStatus.CANCELLED)]) == 1
    assert _exit_code([result(RunStatus.FAILED, kind=ErrorKind.RETRY_LATER)]) == 1
    assert _exit_code([result(RunStatus.FAILED, kind=ErrorKind.QUOTA)]) == 1
    assert _exit_code([result(RunStatus.FAILED, kind=ErrorKind.RECONNECT)]) == 2
    assert _exit_code([result(RunStatus.FAILED, kind=ErrorKind.FIX_SETUP),
                       result(RunStatus.SUCCEEDED)]) == 2


def test_a_relative_order_file_is_saved_as_an_absolute_path(data_dir, tmp_path, monkeypatch,
                                                           capsys):
    write_orders(tmp_path / "orders.csv", [row("1", "MUG-ENM-12")])
    monkeypatch.chdir(tmp_path)
    assert cli(data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
               "path=orders.csv", "--mode", "invoices") == 0
    capsys.readouterr()
    assert cli(data_dir, "connection", "show", "Shop", "--json") == 0
    saved = json.loads(capsys.readouterr().out)["settings"]["path"]
    assert saved == str((tmp_path / "orders.csv").resolve())


def test_a_moved_order_file_is_the_same_store_until_the_user_says_it_is_new(
        data_dir, sandbox, monkeypatch, capsys, tmp_path):
    rows = [row("301", "MUG-ENM-12", "1", "18.00", payment_status="paid")]
    connect_csv(data_dir, sandbox, monkeypatch, write_orders(tmp_path / "june.csv", rows),
                "--use-qb-numbering")
    assert cli(data_dir, "sync", "Shop") == 0
    moved = write_orders(tmp_path / "july.csv", rows)
    assert cli(data_dir, "connection", "set", "Shop", "--set", f"path={moved}") == 0
    assert cli(data_dir, "sync", "Shop") == 0
    assert len(sandbox.company.all("Invoice")) == len(sandbox.company.all("Payment")) == 1

    capsys.readouterr()
    assert cli(data_dir, "connection", "set", "Shop", "--new-store") == 0
    assert "different store" in capsys.readouterr().out
    assert cli(data_dir, "sync", "Shop", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert [(d["order"], d["kind"], d["total"]) for d in result["documents"]] == [
        ("301", "Invoice", "18.00"), ("301", "Payment", "18.00")]
    assert len(sandbox.company.all("Invoice")) == len(sandbox.company.all("Payment")) == 2


@pytest.fixture
def root_log_level():
    """The root logger's level as it was before the test (main() sets it for its run)."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


def test_commands_log_to_the_log_folder_masked_and_verbose_adds_detail(
        data_dir, sandbox, monkeypatch, capsys, tmp_path, memory_keyring, root_log_level):
    orders = write_orders(tmp_path / "orders.csv",
                          [row("101", "MUG-ENM-12", payment_status="paid")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    assert cli(data_dir, "sync", "Shop") == 0
    log_file = data_dir / "logs" / LOG_FILE_NAME
    logged = log_file.read_text(encoding="utf-8")
    assert "sync of Shop (run 1) succeeded: 1 fetched, 1 synced" in logged
    assert " DEBUG " not in logged
    assert " DEBUG " not in capsys.readouterr().err   # without --verbose stderr stays quiet

    write_orders(orders, [row("101", "MUG-ENM-12", payment_status="paid"),
                          row("102", "MUG-ENM-12", payment_status="paid")])
    # One to book: a sync with nothing to book makes no request to log.
    assert cli(data_dir, "--verbose", "sync", "Shop", "--order", "102") == 0
    shown = capsys.readouterr().err
    logged = log_file.read_text(encoding="utf-8")
    assert " DEBUG " in logged and " DEBUG " in shown
    assert "sync of Shop (run 2) succeeded" in logged and "sync of Shop (run 2)" in shown
    secrets = [sandbox.client_secret, *memory_keyring.values()]
    assert all(secret not in logged and secret not in shown for secret in secrets)
    # Every handler is closed when the command ends: nothing holds the file open.
    assert not [h for h in logging.getLogger().handlers
                if getattr(h, "baseFilename", "") == str(log_file)]


def test_the_window_logs_to_the_log_folder_too(data_dir, monkeypatch, capsys, root_log_level):
    import connex_desktop.ui.application as application

    def window(args):
        logging.getLogger("connex_desktop.ui").debug("window shown")
        return 0

    monkeypatch.setattr(application, "run", window)
    assert main(["--data-dir", str(data_dir), "--verbose"]) == 0
    logged = (data_dir / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "connex-desktop" in logged and "gui" in logged and "window shown" in logged
    assert "window shown" not in capsys.readouterr().err   # the window has no console


def test_a_full_disk_mid_sync_is_said_plainly_and_nothing_is_booked_twice(
        data_dir, monkeypatch, capsys, tmp_path):
    """The disk fills at different points of the run (before anything is sent, and after
    QuickBooks took documents the ledger could not confirm); the next sync books the rest."""
    orders = write_orders(tmp_path / "orders.csv", [
        row(str(100 + n), f"SKU-{n}", payment_status="paid") for n in range(20)])
    sent_unconfirmed = 0
    # The company's reference lists, kept in the database, take about 20 pages before
    # anything is sent.
    for spare_pages in (0, 3, 6, 30, 32):
        folder = tmp_path / f"data-{spare_pages}"
        with SandboxServer() as sandbox:
            connect_csv(folder, sandbox, monkeypatch, orders)
            capsys.readouterr()
            with monkeypatch.context() as disk:
                fill_disk_after(disk, spare_pages)
                assert cli(folder, "sync", "Shop") == 2
            said = capsys.readouterr()
            assert "Traceback" not in said.out + said.err
            assert f"The disk holding Connex Desktop's data folder ({folder}) is full" in said.out
            assert NOTHING_LOST in said.out
            sent_unconfirmed += bool(sandbox.company.all("Invoice"))

            assert cli(folder, "sync", "Shop") == 0   # space freed
            invoices = sandbox.company.all("Invoice")
            assert sorted(invoice["DocNumber"] for invoice in invoices) == [
                str(100 + n) for n in range(20)]
            assert len(sandbox.company.all("Payment")) == 20
    assert sent_unconfirmed   # at least one run filled the disk after QuickBooks took documents


def _as_a_user_who_cannot_write(command: list[str]) -> list[str]:
    """Root writes to read-only folders; without the capabilities to override file modes it
    cannot, as any other user."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]


@pytest.mark.parametrize("read_only", ["folder", "database file"])
def test_a_read_only_data_folder_is_said_plainly_and_left_intact(data_dir, tmp_path, read_only):
    orders = write_orders(tmp_path / "orders.csv", [row("1", "MUG-ENM-12")])
    assert cli(data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
               f"path={orders}", "--mode", "invoices") == 0
    database = data_dir / "connex.sqlite3"
    before = database.read_bytes()
    database.chmod(0o444)
    if read_only == "folder":
        data_dir.chmod(0o555)
    env = {"PATH": "/usr/bin:/bin", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "HOME": str(tmp_path)}
    try:
        completed = subprocess.run(_as_a_user_who_cannot_write(
            [sys.executable, "-m", "connex_desktop", "--data-dir", str(data_dir),
             "connection", "add", "Other", "--source", "csv", "--set", f"path={orders}",
             "--mode", "invoices"]), capture_output=True, text=True, env=env, timeout=60)
    finally:
        data_dir.chmod(0o755)
        database.chmod(0o644)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "not a Connex Desktop database" not in completed.stderr
    assert f"cannot write to its data folder ({data_dir}): it is read-only" in completed.stderr
    assert NOTHING_LOST in completed.stderr
    assert database.read_bytes() == before


def test_a_store_answering_a_web_page_is_retried_then_retry_later_exit_1(
        data_dir, sandbox, monkeypatch, capsys):
    monkeypatch.setattr(RetryPolicy, "backoff_s", lambda _policy, _attempt: 0.0)
    page = Reply(200, raw=b"<html><body>Be right back</body></html>",
                 headers={"Content-Type": "text/html"})
    with FakeServer(lambda _request: page) as store:
        connect_woocommerce(data_dir, sandbox, monkeypatch, store.url)
        capsys.readouterr()
        assert cli(data_dir, "sync", "Woo") == 1
        said = capsys.readouterr().out
    assert len(store.received) == RetryPolicy().attempts
    assert "answered with a web page instead of order data" in said
    assert "try again later" in said.lower() and "Traceback" not in said


def test_connection_add_help_lists_every_store_its_settings_secrets_and_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["connection", "add", "--help"])
    shown = " ".join(capsys.readouterr().out.split())   # as words, whatever the wrapping
    for kind in SOURCE_KINDS.values():
        assert f"{kind.kind}: {kind.label}" in shown
        for setting in kind.settings_fields:
            assert f"{setting.cli_option} {'required' if setting.required else 'optional'}" \
                in shown
        assert f"--status values: {', '.join(kind.statuses)}" in shown
    assert "skipped as no sale unless booked before: cancelled, refunded, failed, trash, " \
        "checkout-draft" in shown
    assert "read only when named by --status: Incomplete, Pending" in shown
    with pytest.raises(SystemExit):
        main(["sync", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "changed in the store since the last successful sync, less an hour" in shown
    assert "--since and --until pick orders by the day they were created" in shown


def test_connection_add_refuses_missing_settings_naming_the_options(data_dir, monkeypatch,
                                                                    capsys, memory_keyring):
    assert cli(data_dir, "connection", "add", "Shop", "--source", "shopify", "--mode",
               "invoices") == 2
    said = capsys.readouterr().err
    assert "The Shopify store needs --set store_url=VALUE (Shop address) and --secret " \
        "access_token (Admin API access token)" in said
    assert cli(data_dir, "connection", "add", "Shop", "--source", "shopify", "--mode",
               "invoices", "--set", "store_url=https://shop.example.com") == 2
    said = capsys.readouterr().err
    assert "--secret access_token" in said and "store_url" not in said
    assert cli(data_dir, "connection", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []   # nothing half-added
    assert cli(data_dir, "connection", "add", "Shop", "--source", "shopify", "--mode",
               "invoices", "--set", "store_url=https://shop.example.com", "--secret",
               "access_token", stdin="shpat_x\n", monkeypatch=monkeypatch) == 0
    # Blanking a required setting later is refused too.
    assert cli(data_dir, "connection", "set", "Shop", "--set", "store_url=") == 2
    assert "--set store_url=VALUE" in capsys.readouterr().err


def test_a_keyring_that_refuses_the_secrets_leaves_no_connection_half_added(
        data_dir, monkeypatch, capsys):
    def locked(*_args: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    monkeypatch.setattr(MemoryKeyring, "set_password", locked)
    assert cli(data_dir, "connection", "add", "Shop", "--source", "shopify", "--mode",
               "invoices", "--set", "store_url=https://shop.example.com", "--secret",
               "access_token", stdin="shpat_x\n", monkeypatch=monkeypatch) == 2
    assert "the keyring is locked" in capsys.readouterr().err
    assert cli(data_dir, "connection", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_pasted_bigcommerce_api_path_is_saved_as_the_api_and_the_store_hash(
        data_dir, monkeypatch, capsys):
    assert cli(data_dir, "connection", "add", "BC", "--source", "bigcommerce", "--mode",
               "invoices", "--set", "api_url=https://api.bigcommerce.com/stores/abc123/v3/",
               "--secret", "access_token", stdin="bc-secret-5f4e3d\n", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert cli(data_dir, "connection", "show", "BC", "--json") == 0
    assert json.loads(capsys.readouterr().out)["settings"] == {
        "api_url": "https://api.bigcommerce.com", "store_hash": "abc123"}


def test_a_store_secret_gone_from_the_keyring_is_named_by_its_option_at_sync(
        data_dir, sandbox, monkeypatch, capsys, memory_keyring):
    connect_woocommerce(data_dir, sandbox, monkeypatch, "https://shop.example.com")
    del memory_keyring[(SERVICE, folder_key(data_dir, "connection-1/consumer_secret"))]
    capsys.readouterr()
    assert cli(data_dir, "sync", "Woo") == 2
    assert "The store setting 'Consumer secret' (consumer_secret) is missing; set it first " \
        "(command line: --secret consumer_secret)." in capsys.readouterr().out


def test_a_class_and_location_set_with_map_reach_the_demo_companys_documents(data_dir,
                                                                            capsys):
    assert cli(data_dir, "demo", "--company", "us-tracked", "--orders", "3", "--json") in (0, 1)
    assert cli(data_dir, "connection", "set", "Demo store", "--map", "class_name=Wholesale",
               "--map", "location_name=Web") == 0
    assert cli(data_dir, "demo", "--orders", "8", "--json") in (0, 1)   # nothing new yet
    capsys.readouterr()
    assert cli(data_dir, "sync", "Demo store", "--since", "2000-01-01", "--json") in (0, 1)
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    later = {doc["order"] for doc in result["documents"] if doc["kind"] in SALE_DOCUMENTS}
    assert len(later) >= 3
    books = Company(data_dir / demo_company_file("us-tracked", False), kind="us-tracked")
    documents = [doc for entity in SALE_DOCUMENTS for doc in books.all(entity)]
    books.close()
    tagged = {doc["DocNumber"] for doc in documents
              if doc.get("ClassRef", {}).get("name") == "Wholesale"
              and doc.get("DepartmentRef", {}).get("name") == "Web"}
    assert tagged == later      # the first three were booked before the class was chosen
