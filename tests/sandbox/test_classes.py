"""Classes and locations (Department) on documents: kept where the company tracks them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from connex_desktop.sandbox.faults import QBFault
from connex_desktop.sandbox.kinds import CLASS_PER_LINE, CLASS_PER_TRANSACTION, CLASSES_OFF
from connex_desktop.sandbox.qbo_company import Company


@pytest.fixture
def company() -> Iterator[Company]:
    company = Company(kind="us-tracked")
    yield company
    company.close()


def _id(company: Company, entity: str, name: str) -> str:
    return next(str(r["Id"]) for r in company.all(entity) if r["Name"] == name)


def _invoice(company: Company, **header: Any) -> dict[str, Any]:
    customer = company.create("Customer", {"DisplayName": f"Buyer {len(company.all('Invoice'))}"})
    tent = next(i["Id"] for i in company.all("Item") if i.get("Sku") == "TNT-2P-GRN")
    detail = {"ItemRef": {"value": tent}, "Qty": 1, "UnitPrice": "349.00",
              "ClassRef": {"value": _id(company, "Class", "Wholesale")}}
    return company.create("Invoice", {
        "CustomerRef": {"value": customer["Id"]}, **header,
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "349.00",
                  "SalesItemLineDetail": detail}]})


def test_the_kind_says_what_the_company_tracks_and_what_it_calls_locations(company):
    accounting = company.preferences()["AccountingInfoPrefs"]
    assert accounting["ClassTrackingPerTxn"] is True
    assert accounting["ClassTrackingPerTxnLine"] is False
    assert accounting["TrackDepartments"] is True
    assert accounting["DepartmentTerminology"] == "Store"
    assert {d["Name"] for d in company.all("Department")} >= {"Portland", "Web"}
    plain = Company()
    try:
        prefs = plain.preferences()["AccountingInfoPrefs"]
        assert not (prefs["ClassTrackingPerTxn"] or prefs["ClassTrackingPerTxnLine"]
                    or prefs["TrackDepartments"])
    finally:
        plain.close()


@pytest.mark.parametrize(("tracking", "on_document", "on_line"), [
    (CLASS_PER_TRANSACTION, "Retail Shop", None),
    (CLASS_PER_LINE, None, "Wholesale"),
    (CLASSES_OFF, None, None),
], ids=["per-transaction", "per-line", "off"])
def test_a_class_where_the_company_does_not_track_it_is_ignored(company, tracking,
                                                                on_document, on_line):
    company.set_preference(class_tracking=tracking)
    invoice = _invoice(company, ClassRef={"value": _id(company, "Class", "Retail Shop")})
    assert (invoice.get("ClassRef") or {}).get("name") == on_document
    line = invoice["Line"][0]["SalesItemLineDetail"]
    assert (line.get("ClassRef") or {}).get("name") == on_line
    assert invoice["TotalAmt"] == Decimal("349.00")


def test_a_location_is_kept_only_while_locations_are_tracked(company):
    portland = {"value": _id(company, "Department", "Portland")}
    assert _invoice(company, DepartmentRef=portland)["DepartmentRef"]["name"] == "Portland"
    company.set_preference(track_locations=False)
    assert "DepartmentRef" not in _invoice(company, DepartmentRef=portland)


@pytest.mark.parametrize("header", [{"ClassRef": {"value": "999"}},
                                   {"DepartmentRef": {"value": "999"}}], ids=["class", "location"])
def test_an_unknown_class_or_location_is_refused(company, header):
    with pytest.raises(QBFault) as raised:
        _invoice(company, **header)
    (error,) = raised.value.errors
    assert error.code == "610" and error.element == next(iter(header))
