"""QuickBooks Desktop Pro has no sales orders: once a run has found the company file to be Pro,
a connection to it is not saved in a mode that books them, from the window or the command
line; before any run (nothing known) every mode is offered."""

from __future__ import annotations

import dataclasses

import pytest

from connex_desktop.connections import ConnectionProblems
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import Rule
from tests.qbdesktop.test_desktop_engine import ORDERS, desktop_connection, sync, txns
from tests.sources.store_cli import cli_fixture  # noqa: F401  (the fixture is used by name)
from tests.sync.conftest import write_orders

PRO_REASON = "QuickBooks Pro has no sales orders: Premier or Enterprise has them."


def test_a_company_file_a_run_found_to_be_pro_refuses_the_sales_order_modes(
        app, quickbooks, tmp_path, cli):
    quickbooks.product = "QuickBooks Pro 2024"
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES)
    service = app.connection_service()
    # Never synced: which QuickBooks it is is not known, so nothing is refused.
    assert service.problems(dataclasses.replace(shop, mode=TransactionMode.SALES_ORDERS), {}) \
        == []

    sync(app, shop)
    assert len(txns(quickbooks, "Invoice")) == 2
    for mode in (TransactionMode.SALES_ORDERS, TransactionMode.SALES_ORDERS_INVOICES,
                 TransactionMode.SALES_ORDERS_INVOICES_POS):
        with pytest.raises(ConnectionProblems) as refused:
            service.update(dataclasses.replace(shop, mode=mode), {})
        assert refused.value.field == "mode"
        assert str(refused.value) == (f"{PRO_REASON} This company file is QuickBooks Pro "
                                      "2024: choose a mode without sales orders.")
    drop_ship = Rule("Drop ship", mode=TransactionMode.SALES_ORDERS)
    with pytest.raises(ConnectionProblems) as refused:
        service.update(dataclasses.replace(shop, rules=(drop_ship,)), {})
    assert (refused.value.field, str(refused.value)) == ("rules", (
        f"{PRO_REASON} This company file is QuickBooks Pro 2024: the rule 'Drop ship' books "
        "sales orders; choose another mode for it."))
    service.update(dataclasses.replace(shop, mode=TransactionMode.SALES_RECEIPTS), {})

    _, said = cli("connection", "set", "Shop", "--mode", "sales-orders-invoices", expect=2)
    assert PRO_REASON in said
    assert app.connections.get_by_id(shop.id).mode is TransactionMode.SALES_RECEIPTS
    assert txns(quickbooks, "SalesOrder") == {}


def test_premier_keeps_the_sales_order_modes(app, quickbooks, tmp_path, cli):
    quickbooks.product = "QuickBooks Premier Edition 2024"
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES)
    sync(app, shop)
    cli("connection", "set", "Shop", "--mode", "sales-orders-invoices")
    assert app.connections.get_by_id(shop.id).mode is TransactionMode.SALES_ORDERS_INVOICES
