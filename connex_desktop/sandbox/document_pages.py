"""Stand-ins for QuickBooks Online's document pages, so "Open in QuickBooks" opens something."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from connex_desktop.core.money import money, money_text
from connex_desktop.core.result import QBO_PAGES

SUBTOTAL_LINE = "SubTotalLineDetail"
ENTITY_BY_PAGE = {page: kind.value for kind, page in QBO_PAGES.items()}


def _amount(value: object) -> str:
    return money_text(money(str(value)))


def document_page(entity: str, document: Mapping[str, Any]) -> str:
    """A plain page with what a bookkeeper checks on a document: number, date, customer or
    vendor, lines and total."""
    party = document.get("CustomerRef") or document.get("VendorRef") or {}
    facts = [("Number", document.get("DocNumber", "")), ("Date", document.get("TxnDate", "")),
             ("Customer" if "CustomerRef" in document else "Vendor", party.get("name", "")),
             ("Total", _amount(document.get("TotalAmt", 0))),
             ("Memo", document.get("PrivateNote", ""))]
    lines = [(line.get("Description", "") or line.get("DetailType", ""),
              _amount(line.get("Amount", 0)))
             for line in document.get("Line", []) if line.get("DetailType") != SUBTOTAL_LINE]
    rows = "".join(f"<tr><th>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
                   for name, value in facts if value != "")
    items = "".join(f"<tr><td>{escape(str(what))}</td><td>{escape(str(amount))}</td></tr>"
                    for what, amount in lines)
    title = f"{entity} {document.get('DocNumber') or document.get('Id')}"
    return (f"<!doctype html><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<h1>{escape(title)}</h1><p>Local QuickBooks sandbox</p><table>{rows}</table>"
            f"<h2>Lines</h2><table>{items}</table>")
