"""`connex-desktop undo`: dry run, JSON, exit codes, and the run marked undone in the history."""

from __future__ import annotations

import json

from tests.sync.conftest import by_number, docs, row, write_orders
from tests.test_cli import (  # noqa: F401  (fixtures: a private keyring, data folder, sandbox)
    cli,
    connect_csv,
    data_dir,
    memory_keyring,
    sandbox,
)

ORDERS = [
    row("C-1", "MUG-ENM-12", "2", "18.00", payment_status="paid", payment_method="Visa"),
    row("C-2", "HDL-400L", "1", "39.99", status="on-hold"),
]
UNDO_KEYS = {"connection", "run_id", "dry_run", "status", "message", "documents"}


def synced(data_dir, sandbox, monkeypatch, capsys, tmp_path) -> int:  # noqa: F811
    connect_csv(data_dir, sandbox, monkeypatch, write_orders(tmp_path / "orders.csv", ORDERS))
    capsys.readouterr()
    assert cli(data_dir, "sync", "Shop", "--json") == 0
    return int(json.loads(capsys.readouterr().out)["run_id"])


def test_undo_dry_run_then_undo_then_sync_again(data_dir, sandbox, monkeypatch,  # noqa: F811
                                                capsys, tmp_path):
    run_id = synced(data_dir, sandbox, monkeypatch, capsys, tmp_path)
    assert cli(data_dir, "undo", str(run_id), "--dry-run", "--json") == 0
    preview = json.loads(capsys.readouterr().out)
    assert set(preview) == UNDO_KEYS and preview["dry_run"] is True
    assert sorted((d["order"], d["kind"], d["outcome"]) for d in preview["documents"]) == [
        ("C-1", "Invoice", "would_delete"), ("C-1", "Payment", "would_delete"),
        ("C-2", "Invoice", "would_delete")]
    assert len(docs(sandbox, "Invoice")) == 2 and len(docs(sandbox, "Payment")) == 1

    assert cli(data_dir, "undo", str(run_id), "--json") == 0
    done = json.loads(capsys.readouterr().out)
    assert done["status"] == "undone" and "3 documents deleted" in done["message"]
    assert {d["outcome"] for d in done["documents"]} == {"deleted"}
    assert docs(sandbox, "Invoice") == [] and docs(sandbox, "Payment") == []

    assert cli(data_dir, "history", "Shop", "--json") == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["undone_at"] and run["undo_message"].startswith("Undone on")
    assert cli(data_dir, "history", "Shop") == 0
    assert "3 documents deleted" in capsys.readouterr().out

    assert cli(data_dir, "sync", "Shop", "--json") == 0
    assert json.loads(capsys.readouterr().out)["orders"]["synced"] == 2
    assert sorted(by_number(sandbox, "Invoice")) == ["C-1", "C-2"]
    assert len(docs(sandbox, "Payment")) == 1


def test_undo_exits_1_when_a_document_is_kept_and_says_why(data_dir, sandbox,  # noqa: F811
                                                           monkeypatch, capsys, tmp_path):
    run_id = synced(data_dir, sandbox, monkeypatch, capsys, tmp_path)
    invoice = by_number(sandbox, "Invoice")["C-2"]
    sandbox.company.create("Payment", {   # paid by hand in QuickBooks
        "CustomerRef": invoice["CustomerRef"], "TotalAmt": "39.99",
        "Line": [{"Amount": "39.99", "LinkedTxn": [{"TxnId": invoice["Id"],
                                                     "TxnType": "Invoice"}]}]})
    assert cli(data_dir, "undo", str(run_id)) == 1
    out = capsys.readouterr().out
    assert f"undo of run #{run_id} partial" in out
    assert "kept Invoice C-2 of order C-2: 39.99 — it has a payment" in out
    assert "deleted Invoice C-1" in out
    assert list(by_number(sandbox, "Invoice")) == ["C-2"]


def test_undo_usage_errors_exit_2(data_dir, sandbox, monkeypatch, capsys,  # noqa: F811
                                  tmp_path):
    connect_csv(data_dir, sandbox, monkeypatch, write_orders(tmp_path / "orders.csv", ORDERS))
    assert cli(data_dir, "undo", "42") == 2
    assert "No sync run with id 42" in capsys.readouterr().err
    assert cli(data_dir, "sync", "Shop", "--dry-run", "--json") == 0
    preview_id = json.loads(capsys.readouterr().out)["run_id"]
    assert cli(data_dir, "undo", str(preview_id)) == 2
    assert "was a preview" in capsys.readouterr().err
    assert cli(data_dir, "undo", "not-a-number") == 2
    assert docs(sandbox, "Invoice") == []


def test_the_command_line_says_booked_and_names_documents_as_the_window_does(
        data_dir, sandbox, monkeypatch, capsys, tmp_path):  # noqa: F811
    """One word for one thing: "booked" (not "synced") and "Payment 237" (not "Payment (Id
    237)"), on the command line as in the window's log and undo question."""
    connect_csv(data_dir, sandbox, monkeypatch, write_orders(tmp_path / "orders.csv", ORDERS))
    capsys.readouterr()
    assert cli(data_dir, "sync", "Shop") == 0
    out = capsys.readouterr().out
    (payment,) = docs(sandbox, "Payment")
    assert "Shop: succeeded — 2 fetched, 2 booked\n" in out
    assert f"  booked Payment {payment['Id']} for order C-1: 36.00\n" in out
    assert cli(data_dir, "history", "Shop") == 0
    assert "fetched, 2 booked\n" in capsys.readouterr().out
    assert cli(data_dir, "undo", "1", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"Payment {payment['Id']} of order C-1: 36.00" in out
    assert "synced" not in out and "(Id" not in out
