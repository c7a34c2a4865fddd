"""`connex-desktop sync` says on standard error when it waits out QuickBooks' limit."""

from __future__ import annotations

import json

from connex_desktop.quickbooks.client import QuickBooksClient
from tests.sync.conftest import row, write_orders
from tests.test_cli import (  # noqa: F401  (fixtures: a private keyring, data folder, sandbox)
    cli,
    connect_csv,
    data_dir,
    memory_keyring,
    sandbox,
)

LIMIT_WAIT_S = 60     # what QuickBooks' client waits after a 429


def test_a_wait_for_quickbooks_limit_is_said_on_stderr(data_dir, sandbox, monkeypatch,  # noqa: F811
                                                       capsys, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row("W-1", "MUG-ENM-12", "2", "18.00", payment_status="paid")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    slept: list[float] = []
    monkeypatch.setitem(QuickBooksClient.__init__.__kwdefaults__, "sleep", slept.append)
    capsys.readouterr()
    sandbox.inject("429")

    assert cli(data_dir, "sync", "Shop", "--json") == 0
    out, err = capsys.readouterr()
    assert slept == [LIMIT_WAIT_S]
    assert err.splitlines() == [
        f"Waiting for QuickBooks' limit — resumes in {LIMIT_WAIT_S} s"]
    assert json.loads(out)["orders"]["synced"] == 1     # stdout stays JSON
    assert len(sandbox.company.all("Invoice")) == 1


def test_no_line_is_said_when_nothing_is_waited_for(data_dir, sandbox, monkeypatch,  # noqa: F811
                                                    capsys, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [row("W-2", "MUG-ENM-12", "1", "18.00")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    capsys.readouterr()
    assert cli(data_dir, "sync", "Shop", "--json") == 0
    assert capsys.readouterr().err == ""
