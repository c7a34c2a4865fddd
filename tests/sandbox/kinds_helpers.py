"""Helpers for driving sandbox companies of every kind over raw HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import requests

from connex_desktop.sandbox.server import SandboxServer
from tests.sandbox.conftest import RawApi


@contextlib.contextmanager
def company(kind: str | None, *, multicurrency: bool = False) -> Iterator[RawApi]:
    """A running sandbox company of `kind` (None: the default company), driven over HTTP."""
    options = {"kind": kind, "multicurrency": multicurrency} if kind else {}
    with SandboxServer(rate_limits=False, **options) as server:  # type: ignore[arg-type]
        yield RawApi(server)


def names(api: RawApi, entity: str, field: str = "Name") -> dict[str, str]:
    """Name → Id of every active `entity`, as a client reads them."""
    found = api.query(f"SELECT * FROM {entity} MAXRESULTS 1000").get(entity, [])
    return {str(e[field]): str(e["Id"]) for e in found}


def item_id(api: RawApi, sku: str) -> str:
    return str(api.query(f"SELECT * FROM Item WHERE Sku = '{sku}'")["Item"][0]["Id"])


def customer(api: RawApi, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("customer", {"DisplayName": name, **fields})
    assert response.status_code == 200, response.text
    return response.json()["Customer"]  # type: ignore[no-any-return]


def line(item: str, qty: str, price: str, code: str | None = None,
         **detail: Any) -> dict[str, Any]:
    """A sales item line; `code` is its TaxCodeRef value."""
    body: dict[str, Any] = {"ItemRef": {"value": item}, "Qty": qty, "UnitPrice": price, **detail}
    if code is not None:
        body["TaxCodeRef"] = {"value": code}
    amount = str(Decimal(qty) * Decimal(price))
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": body}


def shipping(amount: str, code: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": "SHIPPING_ITEM_ID"}}
    if code is not None:
        detail["TaxCodeRef"] = {"value": code}
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}


def invoice(api: RawApi, customer_id: str, *lines: dict[str, Any],
            **fields: Any) -> requests.Response:
    return api.post("invoice", {"CustomerRef": {"value": customer_id}, "Line": list(lines),
                                **fields})


def created(response: requests.Response, entity: str = "Invoice") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()[entity]  # type: ignore[no-any-return]


def fault(response: requests.Response) -> tuple[str, str]:
    """(code, detail) of the fault a write answered with."""
    assert response.status_code == 400, response.text
    error = response.json()["Fault"]["Error"][0]
    return error["code"], error["Detail"]


def amount(value: object) -> Decimal:
    return Decimal(str(value))
