"""QuickBooks Desktop's multicurrency in the engine's terms: the preference, currency codes for
Desktop's currency refs and back, and the A/R account a document in a currency is booked on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

from connex_desktop.core.errors import OrderDataError
from connex_desktop.qbdesktop.records import ref_of
from connex_desktop.qbdesktop.requests import ADDS, RECEIVABLE_ADDS

# A file's home currency by HostQuery's Country, for a file without multicurrency (whose
# preferences name none).
HOME_CURRENCIES = {"US": "USD", "CA": "CAD", "UK": "GBP"}
# The documents QuickBooks Desktop books on an A/R account, which must be in the customer's
# currency (invoices, payments, and refunds' credit memos; sales orders and receipts have none).
RECEIVABLE_KINDS = frozenset(kind.value for kind, (add, _) in ADDS.items()
                             if add in RECEIVABLE_ADDS)
RECEIVABLE_TYPE = "Accounts Receivable"     # as list_record words AccountsReceivable

Query = Callable[[str], list[ET.Element]]
Record = dict[str, Any]


class DesktopCurrencies:
    """The company file's currency list (`query`) and A/R accounts (of the engine's account
    list, `accounts`), each read once, when first needed."""

    def __init__(self, query: Query, accounts: Callable[[], list[Record]]) -> None:
        self._query = query
        self._accounts = accounts
        self._currencies: list[tuple[str, str, str]] | None = None
        self._codes: dict[str, str] = {}     # a listed currency's code by ListID and by name
        self._receivables: list[Record] | None = None
        # The customers and vendors read or made this run: name and currency by ListID.
        self._parties: dict[str, tuple[str, str]] = {}

    def preferences(self, preferences_ret: ET.Element | None, country: str) -> dict[str, Any]:
        """Online's CurrencyPrefs, from PreferencesQuery's MultiCurrencyPreferences."""
        preferences = (preferences_ret.find("MultiCurrencyPreferences")
                       if preferences_ret is not None else None)
        enabled = (preferences is not None
                   and preferences.findtext("IsMultiCurrencyOn") == "true")
        home = preferences.find("HomeCurrencyRef") if preferences is not None else None
        code = self.code(ref_of(home)) if enabled and home is not None else ""
        return {"HomeCurrency": {"value": code or HOME_CURRENCIES.get(country, "USD")},
                "MultiCurrencyEnabled": enabled}

    def coded(self, record: dict[str, Any]) -> dict[str, Any]:
        """A customer, vendor or account whose CurrencyRef names its currency by code, as
        Online's do ({"value": "EUR", "name": "Euro"})."""
        ref = record.get("CurrencyRef")
        if ref:
            # A currency the list no longer has active keeps its name: never taken for another.
            code = self.code(ref) or ref.get("name") or ref.get("value")
            record["CurrencyRef"] = {"value": code, "name": ref.get("name", "")}
            if record.get("DisplayName"):     # a customer or vendor
                self._parties[str(record["Id"])] = (str(record["DisplayName"]), str(code))
        return record

    def code(self, ref: Mapping[str, Any]) -> str:
        """The code of the currency a Desktop ref names, by ListID else name ("" if none)."""
        self._listed()
        return (self._codes.get(str(ref.get("value") or ""))
                or self._codes.get(str(ref.get("name") or ""), ""))

    def in_desktop_terms(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A planned body as Desktop books it: a new customer's or vendor's currency as
        Desktop's ref; on a document booked on A/R, the A/R account in its currency (Desktop
        documents take their customer's currency, so none names it)."""
        body = dict(body)
        code = str((body.get("CurrencyRef") or {}).get("value") or "")
        if not code:
            return body
        if entity in ("Customer", "Vendor"):
            body["CurrencyRef"] = self._currency_ref(code)
            return body
        self._check_party(body, code)
        if entity in RECEIVABLE_KINDS:
            body["ARAccountRef"] = self._receivable(code)
        return body

    def _check_party(self, body: Mapping[str, Any], code: str) -> None:
        """A document goes in its customer's or vendor's currency, whatever it says: one on a
        record of another currency (an order whose sale was booked before the store said its
        currency, or before multicurrency) would book foreign amounts as that currency's."""
        field = "CustomerRef" if "CustomerRef" in body else "VendorRef"
        ref = body.get(field)
        known = self._parties.get(str(ref.get("value"))) if isinstance(ref, Mapping) else None
        if known is None or known[1] == code:
            return
        name, theirs = known
        if field == "CustomerRef":
            advice = (f"undo the order's earlier documents and sync again, to book it all on a "
                      f"customer in {code}.")
        else:
            advice = (f"rename that vendor in QuickBooks, and the next sync makes one in "
                      f"{code}.")
        what = "customer" if field == "CustomerRef" else "vendor"
        raise OrderDataError(f'it is in {code}, but its QuickBooks {what} "{name}" is in '
                             f"{theirs}, and keeps it once it has transactions: {advice}",
                             field="Currency")

    def _currency_ref(self, code: str) -> dict[str, str]:
        for list_id, name, listed_code in self._listed():
            if listed_code == code:
                return {"value": list_id, "name": name}
        raise OrderDataError(
            f"it is in {code}, which QuickBooks Desktop's currency list does not have active: "
            f"turn {code} on in QuickBooks (Lists, Currency List), then sync again.",
            field="Currency")

    def _receivable(self, code: str) -> dict[str, str]:
        """The first active A/R account in `code`: QuickBooks, told none, would take the one
        its last document of the kind used, whatever its currency."""
        if self._receivables is None:
            self._receivables = [account for account in self._accounts()
                                 if account["AccountType"] == RECEIVABLE_TYPE
                                 and account["Active"]]
        for account in self._receivables:
            # Its CurrencyRef names its currency by code already (`coded`).
            if (account.get("CurrencyRef") or {}).get("value") == code:
                return {"value": str(account["Id"]),
                        "name": str(account["FullyQualifiedName"])}
        raise OrderDataError(
            f"it is in {code}, and QuickBooks Desktop has no Accounts Receivable account in "
            f"{code} to book it on: add one in QuickBooks (Lists, Chart of Accounts, an "
            f"Accounts Receivable account in {code}), then sync again.", field="Currency")

    def _listed(self) -> list[tuple[str, str, str]]:
        """The currency list: each active currency's ListID, name and code."""
        if self._currencies is None:
            self._currencies = [(ret.findtext("ListID", ""), ret.findtext("Name", ""),
                                 ret.findtext("CurrencyCode", ""))
                                for ret in self._query("Currency")]
            self._codes = {key: code for list_id, name, code in self._currencies
                           for key in (list_id, name) if key}
        return self._currencies
