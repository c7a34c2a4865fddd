"""The query language: parsed properly, answered in the service's shapes, faults for bad ones."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from quickbooks.exceptions import ValidationException
from quickbooks.objects import Customer, Invoice, Item

from connex_desktop.sandbox import query
from connex_desktop.sandbox.faults import QBFault
from connex_desktop.sandbox.seed import CATALOG


def test_parser_reads_every_clause():
    parsed = query.parse(
        "select * from Invoice where DocNumber in ('A\\'1', 'B') and TotalAmt >= 10.5 "
        "And MetaData.LastUpdatedTime > '2025-06-01T00:00:00-07:00' and Active = True "
        "ORDER BY TxnDate DESC, DocNumber STARTPOSITION 11 MAXRESULTS 25")
    assert parsed.entity == "Invoice" and not parsed.count
    assert [(c.field, c.operator, c.values) for c in parsed.conditions] == [
        ("DocNumber", "IN", ("A'1", "B")), ("TotalAmt", ">=", (Decimal("10.5"),)),
        ("MetaData.LastUpdatedTime", ">", ("2025-06-01T00:00:00-07:00",)),
        ("Active", "=", (True,))]
    assert parsed.order_by == (("TxnDate", True), ("DocNumber", False))
    assert (parsed.start_position, parsed.max_results) == (11, 25)


def test_parser_accepts_the_forms_python_quickbooks_sends():
    assert query.parse("SELECT *, Sku FROM Item ORDER BY Name MAXRESULTS 100").entity == "Item"
    assert query.parse("SELECT * FROM Customer WHERE Active = true ORDERBY DisplayName "
                       "STARTPOSITION 1 MAXRESULTS 25").order_by == (("DisplayName", False),)
    assert query.parse("SELECT COUNT(*) FROM Customer WHERE Active = true").count
    # A LIKE value may contain keywords and quotes; the tokenizer keeps it one string.
    like = query.parse("SELECT * FROM Customer WHERE DisplayName LIKE '%and \\'where%'")
    assert like.conditions[0].values == ("%and 'where%",)


@pytest.mark.parametrize("text", [
    "SELECT * FROM Invoice WHERE DocNumber = '1' OR DocNumber = '2'",
    "SELECT * FROM Invoice WHERE",
    "SELECT FROM Invoice",
    "SELECT * FROM Invoice WHERE DocNumber = 'unterminated",
    "SELECT * FROM Invoice GROUP BY CustomerRef",
    "SELECT * FROM Invoice WHERE DocNumber != '1'",
    "SELECT * FROM Invoice WHERE DocNumber <> '1'",
    "SELECT * FROM Invoice WHERE NOT Active = true",
    "DELETE FROM Invoice",
])
def test_parser_rejects_what_the_language_does_not_have(text):
    with pytest.raises(QBFault) as raised:
        query.parse(text)
    assert raised.value.errors[0].code == "4000"


def test_maxresults_above_1000_is_4001(qb):
    with pytest.raises(ValidationException) as raised:
        Item.where("", max_results=1001, qb=qb)
    assert raised.value.error_code == 4001
    assert "Max allowed value is 1000" in raised.value.detail


def test_library_helpers_get_the_right_rows(qb):
    assert len(Item.all(max_results=1000, qb=qb)) == len(CATALOG)
    assert len(Item.all(qb=qb)) == 58  # default page of 100 is enough
    page = Item.where("Type = 'Inventory'", order_by="Sku DESC", start_position=3, max_results=5,
                      qb=qb)
    inventory = sorted((i.sku for i in CATALOG if i.type == "Inventory"), reverse=True)
    assert [i.Sku for i in page] == inventory[2:7]
    assert Item.count("Type = 'Service'", qb=qb) == sum(i.type == "Service" for i in CATALOG)
    chosen = Item.choose(["CND-PINE-8", "MUG-ENM-12", "NOPE"], field="Sku", qb=qb)
    assert sorted(i.Sku for i in chosen) == ["CND-PINE-8", "MUG-ENM-12"]
    assert [i.Sku for i in Item.where("Name LIKE 'Rain Jacket Women%'", qb=qb)] == [
        "JKT-RN-W-S", "JKT-RN-W-M"]
    cheap = Item.where("UnitPrice < '10' AND Active = True", qb=qb)
    assert {i.Sku for i in cheap} == {i.sku for i in CATALOG if i.price < 10}


def test_strings_with_quotes_and_accents(qb):
    customer = Customer()
    customer.DisplayName = "Siobhán O'Brien"
    customer.save(qb=qb)
    assert [c.DisplayName for c in Customer.filter(DisplayName="Siobhán O'Brien", qb=qb)] == [
        "Siobhán O'Brien"]
    assert Customer.filter(DisplayName="siobhán o'brien", qb=qb)  # case does not matter


def test_empty_results_and_paging_past_the_end(api):
    assert api.query("SELECT * FROM Invoice") == {}
    assert api.query("SELECT * FROM Item STARTPOSITION 200") == {}
    assert api.query("SELECT COUNT(*) FROM Invoice") == {"totalCount": 0}
    page = api.query("SELECT * FROM Item MAXRESULTS 10")
    assert page["startPosition"] == 1 and page["maxResults"] == 10 and len(page["Item"]) == 10


def test_post_with_application_text_and_get_with_query_parameter_agree(api):
    text = "select * from Item where Sku = 'HDL-400L'"
    posted = api.session.post(api.url("query"), data=text, timeout=5,
                              headers={"Content-Type": "application/text"})
    assert posted.status_code == 200
    assert posted.json()["QueryResponse"] == api.query(text)


def test_metadata_times_compare_as_moments(sandbox):
    sandbox.company.create("Customer", {"DisplayName": "Early Bird"})
    sandbox.advance_clock(3600)
    sandbox.company.create("Customer", {"DisplayName": "Late Arrival"})
    stamp = sandbox.company.all("Customer")[1]["MetaData"]["LastUpdatedTime"]
    assert stamp.endswith("-08:00")
    in_utc = datetime.fromisoformat(stamp).astimezone(UTC).isoformat()  # same moment, other zone
    found = sandbox.company.query(
        f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '{in_utc}'")
    assert [c["DisplayName"] for c in found] == ["Late Arrival"]
    found = sandbox.company.query(
        f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime < '{in_utc}'")
    assert [c["DisplayName"] for c in found] == ["Early Bird"]


def test_unfilterable_properties_and_unknown_entities_are_4001(api):
    for text in ("SELECT * FROM Invoice WHERE PrivateNote = 'x'",
                 "SELECT * FROM Payment WHERE DocNumber = '1'",
                 "SELECT * FROM SalesOrder"):
        response = api.get("query", query=text)
        assert response.status_code == 400, text
        assert response.json()["Fault"]["Error"][0]["code"] == "4001"


def test_queries_find_by_doc_number_quickly(qb, sandbox):
    customer = Customer()
    customer.DisplayName = "Bulk Buyer"
    customer_id = customer.save(qb=qb).Id
    for number in range(300):
        sandbox.company.create("Invoice", {
            "CustomerRef": {"value": customer_id}, "DocNumber": f"B-{number}",
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "5.00",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})
    assert [i.DocNumber for i in Invoice.filter(DocNumber="B-150", qb=qb)] == ["B-150"]
    found = Invoice.choose(["B-1", "B-299"], field="DocNumber", qb=qb)
    assert sorted(i.DocNumber for i in found) == ["B-1", "B-299"]


def test_change_data_capture_lists_changed_and_deleted_documents(sandbox, api):
    customer = sandbox.company.create("Customer", {"DisplayName": "Changing Chris"})
    sandbox.advance_clock(60)
    since = sandbox.company.timestamp()
    item = sandbox.company.query("SELECT * FROM Item WHERE Sku = 'SCK-WOOL-M'")[0]
    lines = [{"DetailType": "SalesItemLineDetail", "Amount": "22.00",
              "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}]
    kept = sandbox.company.create("Invoice", {"CustomerRef": {"value": customer["Id"]},
                                              "DocNumber": "CDC-1", "Line": lines})
    gone = sandbox.company.create("Invoice", {"CustomerRef": {"value": customer["Id"]},
                                              "DocNumber": "CDC-2", "Line": lines})
    sandbox.company.delete("Invoice", {"Id": gone["Id"], "SyncToken": "0"})
    response = api.get("cdc", entities="Invoice,Customer", changedSince=since)
    assert response.status_code == 200
    invoices, customers = response.json()["CDCResponse"][0]["QueryResponse"]
    assert [(i["Id"], i.get("status")) for i in invoices["Invoice"]] == [
        (kept["Id"], None), (gone["Id"], "Deleted")]
    assert customers == {}  # created a minute before `since`
    assert api.get("cdc", entities="Invoice").status_code == 400
