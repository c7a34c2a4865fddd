"""Every entity the app uses: batch-created, queried, updated and read with python-quickbooks."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from quickbooks.batch import batch_create, batch_update
from quickbooks.objects import (
    Account,
    Class,
    CreditMemo,
    Customer,
    Estimate,
    Invoice,
    Item,
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    LinkedTxn,
    Payment,
    PaymentLine,
    PaymentMethod,
    PurchaseOrder,
    RefundReceipt,
    SalesItemLine,
    SalesItemLineDetail,
    SalesReceipt,
    Term,
    Vendor,
)

from connex_desktop.sandbox.server import SandboxServer
from tests.sandbox.conftest import first_id, ref


class Company:
    """Ids of what the builders refer to."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.customer = sandbox.company.create("Customer", {"DisplayName": "Every Entity"})["Id"]
        self.item = first_id(sandbox, "Item", "Sku = 'HDL-400L'")
        self.vendor = first_id(sandbox, "Vendor", "DisplayName = 'Ridgeline Gear Wholesale'")
        self.income = first_id(sandbox, "Account", "Name = 'Sales of Product Income'")
        self.checking = first_id(sandbox, "Account", "Name = 'Checking'")

    def sale_line(self) -> SalesItemLine:
        line = SalesItemLine()
        line.Amount = Decimal("79.98")
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.ItemRef = ref(self.item)
        line.SalesItemLineDetail.Qty = 2
        line.SalesItemLineDetail.UnitPrice = Decimal("39.99")
        return line

    def invoice_id(self, number: str) -> str:
        return str(self.sandbox.company.create("Invoice", {
            "CustomerRef": {"value": self.customer}, "DocNumber": number,
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "79.98",
                      "SalesItemLineDetail": {"ItemRef": {"value": self.item}}}]})["Id"])


def _fill(obj: Any, company: Company, fields: dict[str, Any]) -> None:
    """Set each field, calling the ones given as functions of the company (ids known later)."""
    for key, value in fields.items():
        setattr(obj, key, value(company) if callable(value) else value)


def _named(cls: type, field: str, **fields: Any) -> Callable[[Company, int], Any]:
    def build(company: Company, n: int) -> Any:
        obj = cls()
        setattr(obj, field, f"{cls.__name__} number {n}")
        _fill(obj, company, fields)
        return obj
    return build


def _sale(cls: type, **fields: Any) -> Callable[[Company, int], Any]:
    def build(company: Company, n: int) -> Any:
        obj = cls()
        obj.CustomerRef = ref(company.customer)
        obj.DocNumber = f"{cls.__name__[:4].upper()}-{n}"
        obj.Line = [company.sale_line()]
        _fill(obj, company, fields)
        return obj
    return build


def _purchase_order(company: Company, n: int) -> PurchaseOrder:
    order = PurchaseOrder()
    order.VendorRef, order.DocNumber = ref(company.vendor), f"PO-{n}"
    line = ItemBasedExpenseLine()
    line.Amount = Decimal("33.50")
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = ref(company.item)
    line.ItemBasedExpenseLineDetail.Qty = 2
    line.ItemBasedExpenseLineDetail.UnitPrice = Decimal("16.75")
    order.Line = [line]
    return order


def _payment(company: Company, n: int) -> Payment:
    payment = Payment()
    payment.CustomerRef, payment.TotalAmt = ref(company.customer), Decimal("79.98")
    line = PaymentLine()
    line.Amount = Decimal("79.98")
    link = LinkedTxn()
    link.TxnId, link.TxnType = company.invoice_id(f"FOR-PAY-{n}"), "Invoice"
    line.LinkedTxn = [link]
    payment.Line = [line]
    return payment


BUILDERS: dict[type, tuple[Callable[[Company, int], Any], str]] = {
    # class: (builder, the field a query finds it by)
    Customer: (_named(Customer, "DisplayName"), "DisplayName"),
    Vendor: (_named(Vendor, "DisplayName"), "DisplayName"),
    Item: (_named(Item, "Name", Type="Service",
                  IncomeAccountRef=lambda c: ref(c.income)), "Name"),
    Account: (_named(Account, "Name", AccountType="Income"), "Name"),
    Class: (_named(Class, "Name"), "Name"),
    Term: (_named(Term, "Name", DueDays=10), "Name"),
    PaymentMethod: (_named(PaymentMethod, "Name"), "Name"),
    Invoice: (_sale(Invoice), "DocNumber"),
    SalesReceipt: (_sale(SalesReceipt), "DocNumber"),
    Estimate: (_sale(Estimate), "DocNumber"),
    CreditMemo: (_sale(CreditMemo), "DocNumber"),
    RefundReceipt: (_sale(RefundReceipt, DepositToAccountRef=lambda c: ref(c.checking)),
                    "DocNumber"),
    PurchaseOrder: (_purchase_order, "DocNumber"),
    Payment: (_payment, "Id"),
}


@pytest.mark.parametrize("cls", list(BUILDERS), ids=lambda cls: cls.__name__)
def test_batch_create_query_update_and_read(qb, sandbox, cls):
    build, key = BUILDERS[cls]
    company = Company(sandbox)
    created = batch_create([build(company, 1), build(company, 2)], qb=qb)
    assert not created.faults, [e.Message + e.Detail for f in created.faults for e in f.Error]
    assert len(created.successes) == 2
    first = created.successes[0]
    found = cls.filter(**{key: getattr(first, key)}, qb=qb)
    assert [o.Id for o in found] == [first.Id]
    assert cls.count(qb=qb) >= 2

    first.PrivateNote = "changed in a batch"  # transactions keep it; lists take it as a field
    updated = batch_update([first], qb=qb)
    assert not updated.faults
    assert updated.successes[0].SyncToken == "1"
    single = cls.get(first.Id, qb=qb)
    single.PrivateNote = "changed alone"
    saved = single.save(qb=qb)
    assert saved.SyncToken == "2"
    stored = sandbox.company.read(cls.qbo_object_name, first.Id)
    assert stored["SyncToken"] == "2" and stored["PrivateNote"] == "changed alone"
