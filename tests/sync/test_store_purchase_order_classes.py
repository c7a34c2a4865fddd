"""A store's own purchase orders carry the connection's class where the company tracks classes,
on the form or on its item lines; never a location (Intuit documents none on a purchase order);
to the cent. (QuickBooks Desktop: tests/qbdesktop/test_desktop_classes.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from connex_desktop.sandbox.server import SandboxServer
from tests.fakes.linnworks import FakeLinnworks
from tests.sources.store_cli import amount, cli_fixture, documents  # noqa: F401
from tests.sync.test_store_purchase_orders import add_linnworks, linnworks_po

D = Decimal
TRACKED = ("--map", "class_name=Retail Shop", "--map", "location_name=Portland")


@pytest.fixture
def sandbox(request) -> Iterator[SandboxServer]:
    """A sandbox company of the kind the test names."""
    with SandboxServer(kind=request.param) as server:
        yield server


def ordered() -> dict:
    return linnworks_po("PO-7", [("TEE-BLK-M", 100, "5.00"), ("MUG-1", 3, "2.333")],
                        shipping="12.00")


@pytest.mark.parametrize("sandbox", ["us-tracked"], indirect=True)
def test_online_a_class_per_transaction_goes_on_the_purchase_order(cli, sandbox):
    with FakeLinnworks([], purchases=[ordered()]) as store:
        add_linnworks(cli, sandbox, store, "--sync-purchase-orders", *TRACKED)
        assert cli.sync("lw")["status"] == "succeeded"
    (po,) = documents(sandbox, "PurchaseOrder")
    assert po["ClassRef"]["name"] == "Retail Shop"
    assert "DepartmentRef" not in po
    assert amount(po["TotalAmt"]) == D("519.00")


@pytest.mark.parametrize("sandbox", ["us-line-classes"], indirect=True)
def test_online_a_class_per_line_goes_on_each_item_line(cli, sandbox):
    with FakeLinnworks([], purchases=[ordered()]) as store:
        add_linnworks(cli, sandbox, store, "--sync-purchase-orders", *TRACKED[:2])
        assert cli.sync("lw")["status"] == "succeeded"
    (po,) = documents(sandbox, "PurchaseOrder")
    items = [line["ItemBasedExpenseLineDetail"] for line in po["Line"]
             if line["DetailType"] == "ItemBasedExpenseLineDetail"]
    assert len(items) == 2 and all(item["ClassRef"]["name"] == "Retail Shop" for item in items)
    assert "ClassRef" not in po
    assert amount(po["TotalAmt"]) == D("519.00")
