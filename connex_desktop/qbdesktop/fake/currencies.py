"""The fake company file's multicurrency, as QuickBooks Desktop keeps it: a currency list, one
currency per customer and vendor, A/R accounts each in one currency, and exchange rates."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import TYPE_CHECKING

from connex_desktop.qbdesktop.fake.records import (
    OtherListRecord,
    StatusError,
    Txn,
    feature_not_enabled,
    invalid_reference,
    ref_words,
)
from connex_desktop.qbdesktop.responses import WRONG_CURRENCY

if TYPE_CHECKING:
    from connex_desktop.qbdesktop.fake.company import FakeCompanyFile

# The currencies the fake's list has active: QuickBooks' name, the code, and the list's rate
# (US dollars a unit, as of the file's last rate update).
STARTING_CURRENCIES = (("US Dollar", "USD", "1"), ("Euro", "EUR", "1.08"),
                       ("British Pound Sterling", "GBP", "1.27"),
                       ("Canadian Dollar", "CAD", "0.73"), ("Australian Dollar", "AUD", "0.66"),
                       ("New Zealand Dollar", "NZD", "0.60"))
# Accounts that keep a currency of their own; every other account is in the home currency.
CURRENCY_ACCOUNT_TYPES = ("AccountsReceivable", "AccountsPayable", "Bank", "CreditCard")
RECEIVABLE_KINDS = ("Invoice", "CreditMemo", "ReceivePayment", "ARRefundCreditCard")


def turn_on(company: FakeCompanyFile, home: str = "USD") -> None:
    """Edit, Preferences, Multiple Currencies: what the file had is in the home currency from
    then on (QuickBooks cannot turn it off again)."""
    for name, code, rate in STARTING_CURRENCIES:
        company.add_other("Currency", name, {"CurrencyCode": code, "ExchangeRate": rate})
    company.home_currency = currency(company, home)
    company.multicurrency = True
    for record in company.names.values():
        record.currency = company.home_currency
    for account in company.other("Account"):
        if account.fields.get("AccountType") in CURRENCY_ACCOUNT_TYPES:
            account.currency = company.home_currency


def currency(company: FakeCompanyFile, code: str) -> OtherListRecord:
    return next(record for record in company.other("Currency")
                if record.fields["CurrencyCode"] == code)


def add_receivable(company: FakeCompanyFile, code: str) -> OtherListRecord:
    """An A/R account in `code`, named as QuickBooks names the one it makes for a currency."""
    account = company.add_other("Account", f"Accounts Receivable - {code}",
                                {"FullName": f"Accounts Receivable - {code}",
                                 "AccountType": "AccountsReceivable"})
    account.currency = currency(company, code)
    return account


def multicurrency_preferences(company: FakeCompanyFile) -> ET.Element:
    """PreferencesRet's MultiCurrencyPreferences: on or off, and the home currency."""
    preferences = ET.Element("MultiCurrencyPreferences")
    ET.SubElement(preferences, "IsMultiCurrencyOn").text = (
        "true" if company.multicurrency else "false")
    if company.home_currency is not None:
        home = ET.SubElement(preferences, "HomeCurrencyRef")
        ET.SubElement(home, "ListID").text = company.home_currency.list_id
        ET.SubElement(home, "FullName").text = company.home_currency.name
    return preferences


def currency_of_new(company: FakeCompanyFile, ref: ET.Element | None,
                    where: str) -> OtherListRecord | None:
    """A new customer's or vendor's currency: the one its CurrencyRef names, else home."""
    if ref is None:
        return company.home_currency
    if not company.multicurrency:
        raise feature_not_enabled("multicurrency")
    found = company.find_other("Currency", ref)
    if found is None:
        raise invalid_reference("Currency", ref_words(ref), where)
    return found


def book_in_currency(company: FakeCompanyFile, txn: Txn, add: ET.Element) -> None:
    """A transaction is in its customer's or vendor's currency, at the rate sent (else the
    currency list's); its A/R account must be in that currency, any other account in it or in
    the home currency, or QuickBooks refuses it (3140)."""
    if not company.multicurrency:
        return
    txn.currency = txn.entity.currency or company.home_currency
    if txn.currency is not company.home_currency and txn.currency is not None:
        txn.exchange_rate = Decimal(add.findtext("ExchangeRate")
                                    or txn.currency.fields["ExchangeRate"])
    if txn.kind in RECEIVABLE_KINDS:
        txn.ar_account = _receivable(company, txn, add.find("ARAccountRef"))
        if txn.ar_account.currency is not txn.currency:
            raise _wrong_currency("AR Account", txn.ar_account, txn)
    for tag in ("DepositToAccountRef", "RefundFromAccountRef"):
        account = company.find_other("Account", add.find(tag))
        if account is not None and account.currency not in (None, company.home_currency,
                                                            txn.currency):
            raise _wrong_currency("Account", account, txn)


def _receivable(company: FakeCompanyFile, txn: Txn, ref: ET.Element | None) -> OtherListRecord:
    """The A/R account named, else the one the last transaction of the kind used (as
    QuickBooks does when none is named), else the first."""
    accounts = [account for account in company.other("Account")
                if account.fields.get("AccountType") == "AccountsReceivable"]
    if ref is not None:
        found = company.find_other("Account", ref)
        if found is None or found not in accounts:
            raise invalid_reference("AR Account", ref_words(ref), txn.kind)
        return found
    used = {other.number: other.ar_account for other in company.txns.values()
            if other.kind == txn.kind and other.ar_account is not None}
    return used[max(used)] if used else accounts[0]


def _wrong_currency(what: str, account: OtherListRecord, txn: Txn) -> StatusError:
    return invalid_reference(what, account.name, txn.kind,
                             f" QuickBooks error message: {WRONG_CURRENCY}")
