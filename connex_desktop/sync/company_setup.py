"""What a run needs to know about the QuickBooks company, and the connection's mapping resolved."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from connex_desktop.core.connection import (
    Connection,
    MissingItemPolicy,
    QuickBooksProduct,
    TaxPolicy,
)
from connex_desktop.core.errors import SetupError
from connex_desktop.core.quickbooks_rules import (
    DESKTOP_LIMITS,
    ONLINE_LIMITS,
    PURCHASE_ORDER_PLANS,
)
from connex_desktop.core.rules import Rule
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sync.planner import ClassTracking, CompanySetup, tracking
from connex_desktop.sync.tax import CompanyTax, TaxModel, read_company_tax


def numbering_problem(connection: Connection, preferences: Mapping[str, Any]) -> str | None:
    """Why the company's preferences rule out this connection's numbering (or mode)."""
    sales_forms = preferences.get("SalesFormsPrefs") or {}
    if not connection.use_qb_numbering and sales_forms.get("CustomTxnNumbers") is False:
        return ("Custom transaction numbers are off in QuickBooks, so it would not keep the "
                "order numbers. Turn on 'Custom transaction numbers' in QuickBooks (Account and "
                "settings, Sales), or choose 'Use QuickBooks numbering' for this connection.")
    if (any(mode.books_estimate for mode in connection.modes)
            and sales_forms.get("AllowEstimates") is False):
        if connection.quickbooks.product is QuickBooksProduct.DESKTOP:
            return ("QuickBooks Desktop Pro has no sales orders (Premier and Enterprise have "
                    "them), and this connection books sales orders. Choose a mode without "
                    "sales orders for it.")
        return ("Estimates are turned off in QuickBooks, and this connection books sales orders "
                "as estimates. Turn on estimates in QuickBooks (Account and settings, Sales).")
    return None


def company_problem(connection: Connection, refs: ReferenceCache,
                    preferences: Mapping[str, Any]) -> str | None:
    """Why the company's settings or plan rule out this connection; CompanyInfo is read only
    when the connection books purchase orders."""
    return numbering_problem(connection, preferences) or (
        purchase_order_problem(connection, refs.company_info())
        if books_purchase_orders(connection) else None)


def purchase_order_problem(connection: Connection,
                           company_info: Mapping[str, Any]) -> str | None:
    """Why the company's QuickBooks plan rules out this connection's purchase orders."""
    if not books_purchase_orders(connection):
        return None
    plan = next((str(pair.get("Value") or "") for pair in company_info.get("NameValue") or []
                 if pair.get("Name") == "OfferingSku"), "")
    if not plan or any(word in plan.split() for word in PURCHASE_ORDER_PLANS):
        return None   # a company that does not say is given the benefit of the doubt
    return (f"This connection books purchase orders, which only QuickBooks Online Plus and "
            f"Advanced have; this company is on {plan}. Choose a mode without purchase orders "
            "(and do not sync the store's own), or upgrade the QuickBooks plan.")


def books_purchase_orders(connection: Connection) -> bool:
    """Whether the connection writes purchase orders: built from sales (by itself or one of its
    rules), or the store's own."""
    return (any(mode.books_purchase_orders for mode in connection.modes)
            or connection.sync_purchase_orders)


def company_setup(connection: Connection, preferences: Mapping[str, Any],
                  refs: ReferenceCache, *, store_label: str = "",
                  company_info: Mapping[str, Any] | None = None) -> CompanySetup:
    """The company's facts and the mapping's names as QuickBooks refs; SetupError names what is
    missing."""
    mapping = connection.mapping
    sales_forms = preferences.get("SalesFormsPrefs") or {}
    tax_prefs = preferences.get("TaxPrefs") or {}

    fallback = (named("fallback item", mapping.fallback_item, refs.item_by_name, "fallback_item")
                if mapping.missing_items is MissingItemPolicy.FALLBACK else None)
    if mapping.missing_items is MissingItemPolicy.FALLBACK and fallback is None:
        raise SetupError("Missing items map to a fallback item, but none is chosen.",
                         field="fallback_item")
    # A missing tax item is created with the first order that has tax, as missing items are.
    tax_item = (refs.item_by_name(mapping.tax_item)
                if mapping.tax_policy is TaxPolicy.LINE_ITEM else None)
    tax = company_tax(preferences, company_info or {}, refs)
    unknown = unknown_tax_codes(mapping.tax_codes, tax)
    if unknown:
        raise SetupError(unknown, field="tax_codes")
    income = (refs.account_by_type("Income", "SalesOfProductIncome")
              or refs.account_by_type("Income"))
    setup = CompanySetup(
        custom_txn_numbers=sales_forms.get("CustomTxnNumbers") is not False,
        using_sales_tax=tax_prefs.get("UsingSalesTax") is not False,
        allow_shipping=sales_forms.get("AllowShipping") is not False,
        allow_discount=sales_forms.get("AllowDiscount") is not False,
        home_currency=home_currency(preferences),
        multicurrency=multicurrency(preferences),
        income_account=ref(income),
        expense_account=ref(refs.account_by_type("Cost of Goods Sold")),
        ap_account=ref(refs.account_by_type("Accounts Payable")),
        tax_code=ref(named("tax code", mapping.tax_code, refs.tax_code_by_name, "tax_code")
                     or legacy_tax_code(connection, preferences, tax, refs)),
        discount_account=ref(named("discount account", mapping.discount_account,
                                   refs.account_by_name, "discount_account")),
        deposit_account=ref(named("deposit account", mapping.deposit_account,
                                  refs.account_by_name, "deposit_account")),
        undeposited_funds=ref(refs.account_by_type("Other Current Asset", "UndepositedFunds")),
        refund_item=named("refund item", mapping.refund_item, refs.item_by_name, "refund_item"),
        payment_method=ref(named("payment method", mapping.payment_method,
                                 refs.payment_method_by_name, "payment_method")),
        fallback_item=fallback,
        shipping_item=named("shipping item", mapping.shipping_item, refs.item_by_name,
                            "shipping_item"),
        tax_item=tax_item,
        store_label=store_label,
        limits=(DESKTOP_LIMITS if connection.quickbooks.product is QuickBooksProduct.DESKTOP
                else ONLINE_LIMITS),
        tax=tax,
        class_tracking=class_tracking(preferences),
        track_locations=tracks_locations(preferences),
        location_label=location_label(preferences),
    )
    tracking(mapping, setup, refs)    # the mapping's class and location are the company's
    return dataclasses.replace(setup, by_rule={
        rule.name: found for rule in connection.rules
        if (found := rule_refs(rule, connection, setup, refs))})


def named(kind: str, name: str, find: Any, setting: str,
          where: str = "chosen for this connection",
          fix: str = "choose another in the mapping") -> dict[str, Any] | None:
    """The record `find` finds by `name` ("": None); SetupError when QuickBooks has none."""
    if not name.strip():
        return None
    record = find(name)
    if record is None:
        raise SetupError(f"The {kind} '{name}' {where} is not in QuickBooks (or is "
                         f"inactive); {fix}.", field=setting)
    return dict(record)


def rule_refs(rule: Rule, connection: Connection, setup: CompanySetup,
              refs: ReferenceCache) -> dict[str, Any]:
    """The refs a rule's actions name in place of the mapping's, by CompanySetup field; its
    class and location are checked here, so one QuickBooks lacks stops the run naming it."""
    where, fix = f"of the rule '{rule.name}'", "choose another in the rule"
    found = {"payment_method": named("payment method", rule.payment_method,
                                     refs.payment_method_by_name, "rules", where, fix),
             "deposit_account": named("deposit account", rule.deposit_account,
                                      refs.account_by_name, "rules", where, fix)}
    tracking(connection.under_rule(rule).mapping, setup, refs, rule=rule.name)
    return {key: ref(record) for key, record in found.items() if record is not None}


def ref(record: Mapping[str, Any] | None) -> dict[str, str] | None:
    if record is None:
        return None
    return {"value": str(record["Id"]), "name": str(record.get("Name", ""))}


def class_tracking(preferences: Mapping[str, Any]) -> ClassTracking:
    accounting = preferences.get("AccountingInfoPrefs") or {}
    if accounting.get("ClassTrackingPerTxn") is True:
        return ClassTracking.PER_TRANSACTION
    if accounting.get("ClassTrackingPerTxnLine") is True:
        return ClassTracking.PER_LINE
    return ClassTracking.OFF


def tracks_locations(preferences: Mapping[str, Any]) -> bool:
    return (preferences.get("AccountingInfoPrefs") or {}).get("TrackDepartments") is True


def location_label(preferences: Mapping[str, Any]) -> str:
    """What the company calls its locations ("Store", "Division"…): DepartmentTerminology."""
    accounting = preferences.get("AccountingInfoPrefs") or {}
    return str(accounting.get("DepartmentTerminology") or "").strip() or "Location"


def home_currency(preferences: Mapping[str, Any]) -> str:
    currency_prefs = preferences.get("CurrencyPrefs") or {}
    return str((currency_prefs.get("HomeCurrency") or {}).get("value") or "USD")


def multicurrency(preferences: Mapping[str, Any]) -> bool:
    return bool((preferences.get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled"))


def unknown_tax_codes(table: Mapping[str, str], tax: CompanyTax,
                      company_name: str = "") -> str | None:
    """Why the connection's rate → tax code table cannot be booked with: the codes it names
    that are not sales tax codes of a VAT/GST company."""
    if tax.model is not TaxModel.VAT:
        return None
    unknown = [code for code in dict.fromkeys(table.values()) if tax.named(code) is None]
    if not unknown:
        return None
    names = ", ".join(f"'{code}'" for code in unknown)
    return (f"{company_name or 'The company'} has no sales tax code {names} in QuickBooks "
            f"(its codes: {tax.listing}); choose one of them in the connection's tax codes.")


def company_tax(preferences: Mapping[str, Any], company_info: Mapping[str, Any],
                refs: ReferenceCache) -> CompanyTax:
    """The company's tax model and its sales tax codes with their rates."""
    return read_company_tax(preferences, company_info, refs.all("TaxCode"), refs.all("TaxRate"))


def legacy_tax_code(connection: Connection, preferences: Mapping[str, Any], tax: CompanyTax,
                    refs: ReferenceCache) -> dict[str, Any] | None:
    """A US legacy company states tax with a tax code or QuickBooks ignores it: the company's
    default sales tax code, or its only one; SetupError when it has several and none is chosen."""
    tax_prefs = preferences.get("TaxPrefs") or {}
    if (tax.model is not TaxModel.LEGACY or tax_prefs.get("UsingSalesTax") is False
            or connection.mapping.tax_policy is not TaxPolicy.TAX_CODE):
        return None
    default = refs.get("TaxCode", str((tax_prefs.get("TaxGroupCodeRef") or {}).get("value")))
    if default is not None:
        return dict(default)
    sales_codes = [code for code in tax.codes if code.rates]
    if len(sales_codes) == 1:
        return dict(refs.get("TaxCode", sales_codes[0].id) or {})
    listed = ", ".join(code.name for code in sales_codes) or "none"
    raise SetupError(
        "QuickBooks ignores a sales tax amount sent without a tax code, and this company has no "
        f"default sales tax code (its codes: {listed}). Choose the sales tax code in the "
        "connection's mapping (Tax code), or book tax as a line item.", field="tax_code")
