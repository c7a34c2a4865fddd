"""`demo --store pos`: the demo POS store's register sales and purchase orders in its company."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connex_desktop.__main__ import main
from connex_desktop.app import (
    DEMO_CONNECTION_NAME,
    DEMO_POS_CONNECTION_NAME,
    build_app,
    demo_company_file,
)
from connex_desktop.core.model import PaymentStatus
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.purchase_order import PurchaseOrderState
from connex_desktop.core.result import DocumentKind, RunStatus
from connex_desktop.sandbox.qbo_company import Company
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sources.demo_pos import pos_purchase_orders, pos_sales
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync.purchase_orders import FIRST_SYNC_DAYS

SALES = 120


def cli(data_dir: Path, *args: str) -> int:
    try:
        return main(["--data-dir", str(data_dir), *args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def run_pos_demo(data_dir: Path, capsys) -> dict:
    assert cli(data_dir, "demo", "--store", "pos", "--orders", str(SALES), "--json") == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_the_pos_demo_books_its_register_sales_and_returns_to_the_cent(tmp_path, capsys):
    data_dir = tmp_path / "data"
    result = run_pos_demo(data_dir, capsys)
    assert (result["connection"], result["status"], result["errors"]) == (
        DEMO_POS_CONNECTION_NAME, "succeeded", [])
    counts = result["orders"]
    # The sales and the purchase orders.
    assert counts["fetched"] >= SALES and counts["synced"] + counts["skipped"] == \
        counts["fetched"]
    sales = {s.number: s for s in pos_sales(datetime.now(UTC), SALES)}
    books = Company(data_dir / demo_company_file("us", False), kind="us")
    receipts = books.all("SalesReceipt")
    # Every sale is booked once, but one returned whole before the first sync: no sale.
    expected = {n for n, sale in sales.items() if sale.payment_status is not PaymentStatus.REFUNDED}
    assert sorted(r["DocNumber"] for r in receipts) == sorted(expected) == sorted(
        doc["order"] for doc in result["documents"] if doc["kind"] == "SalesReceipt")
    for receipt in receipts:
        sale = sales[receipt["DocNumber"]]
        assert Decimal(str(receipt["TotalAmt"])) == sale.total, sale.number
    refunds = sorted(Decimal(str(r["TotalAmt"])) for r in books.all("RefundReceipt"))
    booked = {r["DocNumber"] for r in receipts}
    assert refunds == sorted(refund.amount for s in sales.values() if s.number in booked
                             for refund in s.refunds)
    books.close()

    app = build_app(str(data_dir))
    try:
        connection = app.connections.get(DEMO_POS_CONNECTION_NAME)
        assert (connection.source_kind, connection.mode, connection.sync_purchase_orders) == (
            "demo-pos", TransactionMode.SALES_RECEIPTS, True)
        # The online demo shop is left as it is: not started, no connection.
        assert DEMO_CONNECTION_NAME not in {c.name for c in app.connections.list()}
    finally:
        app.close()
    # Synced again by name (its company starts in this process), nothing is booked twice.
    assert cli(data_dir, "sync", DEMO_POS_CONNECTION_NAME, "--json") == 0
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (again["documents"], again["errors"]) == ([], [])


def test_the_pos_demo_books_its_purchase_orders(tmp_path, capsys):
    data_dir = tmp_path / "data"
    run_pos_demo(data_dir, capsys)
    books = Company(data_dir / demo_company_file("us", False), kind="us")
    booked = {po["DocNumber"]: po for po in books.all("PurchaseOrder")}
    books.close()
    now = datetime.now(UTC)
    # A first sync reaches back as far as the engine says; of those, the ones cancelled before
    # they were ever booked and the drafts are not booked.
    reach = timedelta(days=FIRST_SYNC_DAYS)
    wanted = {p.number: p for p in pos_purchase_orders(now)
              if p.updated_at and p.updated_at >= now - reach
              and p.state not in (PurchaseOrderState.CANCELLED, PurchaseOrderState.DRAFT)}
    assert set(booked) == set(wanted)
    for number, po in booked.items():
        assert Decimal(str(po["TotalAmt"])) == wanted[number].total, number
        closed = wanted[number].state is PurchaseOrderState.RECEIVED
        assert (po.get("POStatus") == "Closed") == closed, number


def test_both_demo_stores_book_into_one_demo_company_in_one_process(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    try:
        web = app.start_demo(orders=4, mode=TransactionMode.INVOICES)
        pos = app.start_demo(orders=4, store="pos")
        # The online shop books after the POS demo started: its tokens are still held.
        for connection, kind in ((web, DocumentKind.INVOICE), (pos, DocumentKind.SALES_RECEIPT)):
            result = app.engine().run(connection, query=OrderQuery())
            # (the online shop's planted marketplace failures make a run partial)
            assert result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), connection.name
            assert any(doc.kind is kind for doc in result.documents), connection.name
    finally:
        app.close()
