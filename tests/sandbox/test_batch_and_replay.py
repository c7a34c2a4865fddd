"""Batch operations and requestid replay, through python-quickbooks and raw HTTP."""

from __future__ import annotations

from decimal import Decimal

from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.objects import Customer, Invoice, SalesItemLine, SalesItemLineDetail
from quickbooks.objects.base import Ref

from tests.sandbox.conftest import first_id


def _invoice_body(customer_id: str, item_id: str, doc_number: str, amount: str = "22.00"):
    return {"CustomerRef": {"value": customer_id}, "DocNumber": doc_number,
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": amount,
                      "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1,
                                              "UnitPrice": amount}}]}


def test_batch_create_update_delete_through_python_quickbooks(qb, sandbox):
    customers = []
    for name in ("Ada", "Grace", "Vendor Clash"):
        customer = Customer()
        customer.DisplayName = name
        customers.append(customer)
    customers[2].DisplayName = "Cascade Outdoor Supply"  # a vendor's name: 6240 for this item
    result = batch_create(customers, qb=qb)
    assert sorted(c.DisplayName for c in result.successes) == ["Ada", "Grace"]
    assert len(result.faults) == 1
    assert result.faults[0].Error[0].code == "6240"
    assert result.faults[0].original_object.DisplayName == "Cascade Outdoor Supply"
    for customer in result.successes:
        customer.Notes = "from batch"
    updated = batch_update(result.successes, qb=qb)
    assert {c.Notes for c in updated.successes} == {"from batch"}
    assert {c.SyncToken for c in updated.successes} == {"1"}

    item = first_id(sandbox, "Item", "Sku = 'SCK-WOOL-M'")
    invoices = []
    for number in ("B-1", "B-2"):
        invoice = Invoice()
        invoice.CustomerRef = Ref()
        invoice.CustomerRef.value = result.successes[0].Id
        invoice.DocNumber = number
        line = SalesItemLine()
        line.Amount = Decimal("22.00")
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.ItemRef = Ref()
        line.SalesItemLineDetail.ItemRef.value = item
        invoice.Line = [line]
        invoices.append(invoice)
    created = batch_create(invoices, qb=qb).successes
    assert sorted(i.DocNumber for i in created) == ["B-1", "B-2"]
    deleted = batch_delete(created, qb=qb)
    assert not deleted.faults
    assert sandbox.company.all("Invoice") == []


def test_batch_over_30_items_is_1040(api):
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"C{n}"}}
             for n in range(31)]
    response = api.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert error["code"] == "1040" and error["Message"] == "Batch size exceeds allowed limit"
    assert api.post("batch", {"BatchItemRequest": items[:30]}).status_code == 200


def test_batch_items_query_void_and_faults_by_bid(api, sandbox):
    customer = sandbox.company.create("Customer", {"DisplayName": "Batch Buyer"})
    item = first_id(sandbox, "Item", "Sku = 'SCK-WOOL-M'")
    receipt = sandbox.company.create("SalesReceipt", {
        "CustomerRef": {"value": customer["Id"]}, "DocNumber": "SR-9",
        "Line": _invoice_body(customer["Id"], item, "x")["Line"]})
    response = api.post("batch", {"BatchItemRequest": [
        {"bId": "q1", "Query": "select * from Item where Sku = 'SCK-WOOL-M'"},
        {"bId": "i1", "operation": "create",
         "Invoice": _invoice_body(customer["Id"], item, "SR-DUP-" + "X" * 20)},
        {"bId": "i2", "operation": "create", "Invoice": _invoice_body(customer["Id"], item, "I-2")},
        {"bId": "v1", "operation": "update", "optionsData": "void",
         "SalesReceipt": {"Id": receipt["Id"], "SyncToken": "0", "sparse": True}},
    ]})
    assert response.status_code == 200
    answers = {a["bId"]: a for a in response.json()["BatchItemResponse"]}
    assert answers["q1"]["QueryResponse"]["Item"][0]["Sku"] == "SCK-WOOL-M"
    assert answers["i1"]["Fault"]["Error"][0]["code"] == "2050"
    assert answers["i2"]["Invoice"]["TotalAmt"] == 22.0
    assert answers["v1"]["SalesReceipt"]["TotalAmt"] == 0


def test_requestid_returns_the_first_answer_for_a_repeat(qb, sandbox, api):
    customer = sandbox.company.create("Customer", {"DisplayName": "Repeat Rita"})
    item = first_id(sandbox, "Item", "Sku = 'SCK-WOOL-M'")
    body = _invoice_body(customer["Id"], item, "RID-1")
    first = api.post("invoice", body, requestid="order-1-invoice")
    again = api.post("invoice", body, requestid="order-1-invoice")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content  # byte for byte, the same "time" included
    assert len(sandbox.company.all("Invoice")) == 1
    # python-quickbooks' request_id takes the same path.
    invoice = Invoice.from_json(body)
    assert invoice.save(qb=qb, request_id="order-1-invoice").Id == first.json()["Invoice"]["Id"]
    # A fault is remembered too: the repeat does not try again.
    clash = api.post("invoice", body, requestid="order-2-invoice")
    assert clash.status_code == 400 and "6140" in clash.text
    assert api.post("invoice", {**body, "DocNumber": "RID-2"},
                    requestid="order-2-invoice").content == clash.content
    too_long = api.post("invoice", body, requestid="x" * 51)
    assert too_long.status_code == 400 and "50 characters" in too_long.text


def test_batch_requestid_replays_the_whole_batch(api, sandbox):
    items = [{"bId": f"c{n}", "operation": "create", "Customer": {"DisplayName": f"Batch {n}"}}
             for n in range(3)]
    first = api.post("batch", {"BatchItemRequest": items}, requestid="batch-0001")
    again = api.post("batch", {"BatchItemRequest": items}, requestid="batch-0001")
    assert first.status_code == 200 and first.content == again.content
    assert len(sandbox.company.all("Customer")) == 3
    assert api.post("batch", {"BatchItemRequest": items}, requestid="b" * 37).status_code == 400
    long_bid = [{"bId": "b" * 11, "operation": "create", "Customer": {"DisplayName": "Z"}}]
    response = api.post("batch", {"BatchItemRequest": long_bid}, requestid="batch-0002")
    assert response.status_code == 400


def test_batch_items_cannot_see_what_earlier_items_created(api, sandbox):
    item = first_id(sandbox, "Item", "Sku = 'SCK-WOOL-M'")
    next_customer_id = str(int(max((c["Id"] for c in sandbox.company.all("Customer")),
                                   default="0")) + 1)
    response = api.post("batch", {"BatchItemRequest": [
        {"bId": "c", "operation": "create", "Customer": {"DisplayName": "New In Batch"}},
        {"bId": "i", "operation": "create",
         "Invoice": _invoice_body(next_customer_id, item, "DEP-1")},
        {"bId": "q", "Query": "select * from Customer where DisplayName = 'New In Batch'"},
    ]})
    answers = {a["bId"]: a for a in response.json()["BatchItemResponse"]}
    assert answers["c"]["Customer"]["Id"] == next_customer_id
    assert answers["i"]["Fault"]["Error"][0]["code"] == "610"
    assert answers["q"]["QueryResponse"] == {}
    # Once the batch is done, the customer is there for everyone.
    assert api.post("invoice", _invoice_body(next_customer_id, item, "DEP-1")).status_code == 200
