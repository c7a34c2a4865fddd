"""The Configure dialog's mapping tab: an order's parts onto the company's own lists."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from connex_desktop.app import App
from connex_desktop.core.connection import (
    Connection,
    CustomerPolicy,
    MissingItemPolicy,
    QuickBooksMapping,
    QuickBooksProduct,
    TaxPolicy,
)
from connex_desktop.core.errors import SetupError
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sync.company_kind import CompanyKind, company_kind, untracked_for
from connex_desktop.sync.tax import TaxModel
from connex_desktop.ui.configure.tax_codes import TaxCodesTable

DEFAULT_CHOICE = "(QuickBooks default)"
CUSTOMER_WORDS = {CustomerPolicy.PER_BUYER: "One customer per buyer (matched by email, then name)",
                  CustomerPolicy.GENERIC: "One customer for every order"}
MISSING_ITEM_WORDS = {
    MissingItemPolicy.CREATE: "Create it in QuickBooks (non-inventory item)",
    MissingItemPolicy.FAIL: "Fail the order, naming the unknown SKU",
    MissingItemPolicy.FALLBACK: "Book the line against one chosen item"}
AUTOMATED_TAX_NOTE = ("This company has automated sales tax: every document states the store's "
                      "tax, so QuickBooks computes nothing over it. There is no tax code to "
                      "choose.")
TAX_WORDS = {TaxPolicy.TAX_CODE: "The order's tax with a tax code",
             TaxPolicy.LINE_ITEM: "The order's tax as a line item"}
# The company's lists that fill the mapping fields: (key, entity, WHERE clause).
COMPANY_LISTS = (
    ("customers", "Customer", "Active = true"),
    ("items", "Item", "Active = true"),
    ("tax_codes", "TaxCode", "Active = true"),
    ("payment_methods", "PaymentMethod", "Active = true"),
    ("accounts", "Account", "Active = true"),
    ("classes", "Class", "Active = true"),
    ("locations", "Department", "Active = true"),
)
DEPOSIT_ACCOUNT_TYPES = ("Bank", "Other Current Asset")
# The mapping fields filled from the company's lists: field -> (list, what it holds). A name
# typed in one must be in its list (QuickBooks would refuse the sync), except where the engine
# makes the missing one (what: ""): the generic customer, and the tax item.
COMPANY_CHOICES = {
    "generic_customer": ("customers", ""),
    "fallback_item": ("items", "item"),
    "tax_code": ("tax_codes", "tax code"),
    "tax_item": ("items", ""),
    "shipping_item": ("items", "item"),
    "refund_item": ("items", "item"),
    "discount_account": ("discount_accounts", "income or expense account"),
    "payment_method": ("payment_methods", "payment method"),
    "deposit_account": ("deposit_accounts", "bank or current asset account"),
    "class_name": ("classes", "class"),
    "location_name": ("locations", "location"),
}
NO_CHOICE = "(none)"
UNDEPOSITED_FUNDS = "Undeposited Funds"   # the account payments go to when none is chosen
DISCOUNT_ACCOUNT_TYPES = ("Income", "Other Income", "Expense")


def company_lists(app: App, connection: Connection) -> dict[str, list[str]]:
    """Names from the connected company's own lists (run in the background): QuickBooks
    Online's as it has them; QuickBooks Desktop's as its last sync kept them, since asking
    the file would wait for the Web Connector."""
    company = connection.quickbooks
    if company.product is QuickBooksProduct.DESKTOP:
        kept = {entity: [record for record in app.references.records(company.realm_id, entity)
                         if record.get("Active", True)]
                for _key, entity, _where in COMPANY_LISTS}
        if not any(kept.values()):
            raise SetupError("no sync has read this company file yet; sync once to choose "
                             "from its lists")
        return _names(lambda entity, _where: kept[entity])
    with app.quickbooks_client(connection) as client:
        return _names(client.query_all)


def _names(read: Callable[[str, str], list[dict[str, Any]]]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for key, entity, where in COMPANY_LISTS:
        records = read(entity, where)
        if key == "accounts":
            lists["deposit_accounts"] = sorted(
                str(r["Name"]) for r in records if r.get("AccountType")
                in DEPOSIT_ACCOUNT_TYPES)
            lists["discount_accounts"] = sorted(
                str(r["Name"]) for r in records if r.get("AccountType")
                in DISCOUNT_ACCOUNT_TYPES)
        else:
            field = "DisplayName" if entity == "Customer" else "Name"
            lists[key] = sorted(str(r[field]) for r in records if r.get(field))
    return lists


def read_company_kind(app: App, connection: Connection) -> CompanyKind:
    """The connected company's kind, from the lists a sync run reads (run in the background)."""
    with app.quickbooks_client(connection) as client:
        return company_kind(ReferenceCache(client, app.references,
                                           realm_id=connection.quickbooks.realm_id))


# The dialog's labelled row: (form, label, input, field key, help text).
AddField = Callable[..., None]


class MappingTab(QWidget):
    """How an order's customer, items, tax, shipping, refunds and payments map onto the
    company's lists: chosen from those lists once they are loaded, typed until then."""

    def __init__(self, field: AddField) -> None:
        super().__init__()
        # Names in the company's lists that a mapping field must be one of: casefolded -> spelt.
        self._company_names: dict[QComboBox, dict[str, str]] = {}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        layout.addStretch(1)
        self.lists_label = QLabel()
        self.lists_label.setWordWrap(True)
        form.addRow(self.lists_label)
        self.customer_policy = self._policy_combo(CUSTOMER_WORDS)
        field(form, "Customers", self.customer_policy, "customer_policy")
        self.generic_customer = self._list_combo()
        field(form, "Generic customer", self.generic_customer, "generic_customer")
        self.missing_items = self._policy_combo(MISSING_ITEM_WORDS)
        field(form, "SKU not in QuickBooks", self.missing_items, "missing_items")
        self.fallback_item = self._list_combo()
        field(form, "Fallback item", self.fallback_item, "fallback_item")
        self.tax_policy = self._policy_combo(TAX_WORDS)
        field(form, "Sales tax", self.tax_policy, "tax_policy")
        self.tax_code = self._list_combo(DEFAULT_CHOICE)
        field(form, "Tax code", self.tax_code, "tax_code")
        self.tax_note = QLabel(AUTOMATED_TAX_NOTE)
        self.tax_note.setWordWrap(True)
        form.addRow(self.tax_note)
        self.tax_codes = TaxCodesTable()
        field(form, "Tax codes", self.tax_codes, "tax_codes",
              "The company's code for each rate the store charges; a rate not listed takes the "
              "company's code of that rate.")
        self._form = form
        self.kind: CompanyKind | None = None   # the company's, once read
        self.tax_item = self._list_combo()
        field(form, "Tax item", self.tax_item, "tax_item")
        self.shipping_item = self._list_combo("(QuickBooks' shipping line)")
        field(form, "Shipping", self.shipping_item, "shipping_item")
        self.refund_item = self._list_combo("(an item 'Refunds', made if missing)")
        field(form, "Partial refunds", self.refund_item, "refund_item")
        self.discount_account = self._list_combo(DEFAULT_CHOICE)
        field(form, "Discount account", self.discount_account, "discount_account")
        self.payment_method = self._list_combo("(the order's own method)")
        field(form, "Payment method", self.payment_method, "payment_method")
        self.deposit_account = self._list_combo(f"({UNDEPOSITED_FUNDS})", UNDEPOSITED_FUNDS)
        field(form, "Deposit payments to", self.deposit_account, "deposit_account")
        self.class_name = self._list_combo(NO_CHOICE)
        field(form, "Class", self.class_name, "class_name",
              "The class every document of this connection carries.")
        self.location_name = self._list_combo(NO_CHOICE)
        field(form, "Location", self.location_name, "location_name",
              "Every document of this connection is booked to it.")
        self.tracking_note = QLabel()
        self.tracking_note.setWordWrap(True)
        form.addRow(self.tracking_note)
        self.product: Callable[[], QuickBooksProduct] = lambda: QuickBooksProduct.ONLINE
        self.show_tracking_rows()
        for policy in (self.customer_policy, self.missing_items, self.tax_policy):
            policy.currentIndexChanged.connect(lambda _i: self._on_policies_changed())

    def load(self, mapping: QuickBooksMapping) -> None:
        self._set_combo_data(self.customer_policy, mapping.customer_policy.value)
        self._set_list_value(self.generic_customer, mapping.generic_customer)
        self._set_combo_data(self.missing_items, mapping.missing_items.value)
        self._set_list_value(self.fallback_item, mapping.fallback_item)
        self._set_combo_data(self.tax_policy, mapping.tax_policy.value)
        self._set_list_value(self.tax_code, mapping.tax_code)
        self._set_list_value(self.tax_item, mapping.tax_item)
        self.tax_codes.load(mapping.tax_codes)
        self._set_list_value(self.shipping_item, mapping.shipping_item)
        self._set_list_value(self.refund_item, mapping.refund_item)
        self._set_list_value(self.discount_account, mapping.discount_account)
        self._set_list_value(self.payment_method, mapping.payment_method)
        self._set_list_value(self.deposit_account, mapping.deposit_account)
        self._set_list_value(self.class_name, mapping.class_name)
        self._set_list_value(self.location_name, mapping.location_name)
        self._on_policies_changed()
        self.show_tracking_rows()

    def read(self, base: QuickBooksMapping,
             company_name: str) -> tuple[QuickBooksMapping, dict[str, str]]:
        """The mapping chosen (on top of `base`, so choices not shown are kept), and the
        problems by field key."""
        problems: dict[str, str] = {}
        policy = CustomerPolicy(self.customer_policy.currentData())
        generic = self._list_value(self.generic_customer)
        if policy is CustomerPolicy.GENERIC and not generic:
            problems["generic_customer"] = "Name the customer every order is booked to."
        missing = MissingItemPolicy(self.missing_items.currentData())
        fallback = self._list_value(self.fallback_item)
        if missing is MissingItemPolicy.FALLBACK and not fallback:
            problems["fallback_item"] = "Choose the item unknown SKUs are booked against."
        tax_policy = TaxPolicy(self.tax_policy.currentData())
        tax_item = self._list_value(self.tax_item)
        if tax_policy is TaxPolicy.LINE_ITEM and not tax_item:
            problems["tax_item"] = "Choose the item the tax line is booked against."
        problems.update(self._names_not_in_the_company(company_name))
        tax_codes_problem = self.tax_codes.problems(self.kind, company_name)
        if tax_codes_problem:
            problems["tax_codes"] = tax_codes_problem
        # replace(), not a new QuickBooksMapping: choices this form does not show are kept.
        mapping = dataclasses.replace(
            base,
            customer_policy=policy,
            generic_customer=generic or QuickBooksMapping.generic_customer,
            missing_items=missing, fallback_item=fallback, tax_policy=tax_policy,
            tax_code=self._list_value(self.tax_code), tax_codes=self.tax_codes.table(),
            tax_item=tax_item or QuickBooksMapping.tax_item,
            shipping_item=self._list_value(self.shipping_item),
            refund_item=self._list_value(self.refund_item),
            discount_account=self._list_value(self.discount_account),
            payment_method=self._list_value(self.payment_method),
            deposit_account=self._list_value(self.deposit_account),
            class_name=self._list_value(self.class_name),
            location_name=self._list_value(self.location_name))
        return mapping, problems

    def _names_not_in_the_company(self, company_name: str) -> dict[str, str]:
        """Mapping fields in use naming what the company's lists (once loaded) do not have."""
        name = company_name or "The company"
        problems: dict[str, str] = {}
        for field, (_key, what) in COMPANY_CHOICES.items():
            combo: QComboBox = getattr(self, field)
            value = self._list_value(combo)
            names = self._company_names.get(combo)
            if names is not None and combo.isEnabled() and value \
                    and value.casefold() not in names:
                problems[field] = (f"{name} has no {what} named '{value}' in QuickBooks. "
                                   "Choose one from the list.")
        return problems

    @staticmethod
    def _policy_combo(words: dict) -> QComboBox:
        combo = QComboBox()
        for value, label in words.items():
            combo.addItem(label, value.value)
        return combo

    @staticmethod
    def _list_combo(default_label: str = "", stands_for: str = "") -> QComboBox:
        """An editable choice from a company list; `default_label` stands for "" if given, and
        so does the name `stands_for` (the list's own entry for the default, not offered twice)."""
        combo = QComboBox()
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.setProperty("default_label", default_label)
        combo.setProperty("stands_for", stands_for)
        if default_label:
            combo.addItem(default_label)
        # Typing any part of a name offers the names that contain it.
        completer = combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        return combo

    def _on_policies_changed(self) -> None:
        self.generic_customer.setEnabled(
            self.customer_policy.currentData() == CustomerPolicy.GENERIC.value)
        self.fallback_item.setEnabled(
            self.missing_items.currentData() == MissingItemPolicy.FALLBACK.value)
        by_line = self.tax_policy.currentData() == TaxPolicy.LINE_ITEM.value
        self.tax_item.setEnabled(by_line)
        self.tax_code.setEnabled(not by_line)
        self._show_tax_rows()

    def show_kind(self, kind: CompanyKind) -> None:
        """The tax mapping that fits the company: a US legacy company's tax code, nothing to
        choose under automated sales tax, a VAT/GST company's rate → code table (pre-filled
        from its codes when the connection has none)."""
        self.kind = kind
        if kind.tax.model is TaxModel.VAT and not self.tax_codes.table():
            self.tax_codes.load(kind.rate_table())
        self._show_tax_rows()
        self.show_tracking_rows()

    def show_tracking_rows(self) -> None:
        """Class and location only where the company tracks them, the location under the
        company's own word for it, else why not and how to turn tracking on; before the kind
        is known, where the connection has one. One the company cannot take stays shown, to
        be cleared."""
        kind = self.kind
        label = kind.location_label if kind else "Location"
        caption = self._form.labelForField(self.location_name.parentWidget())
        if isinstance(caption, QLabel):
            caption.setText(label)
        self.location_name.setAccessibleName(label)
        untracked = untracked_for(kind, self.product())
        for combo, key in ((self.class_name, "class_name"), (self.location_name, "location_name")):
            shown = bool(self._list_value(combo)) or (kind is not None and key not in untracked)
            self._form.setRowVisible(combo.parentWidget(), shown)
            combo.setEnabled(shown)   # a hidden choice is kept as it is, never checked
        self.tracking_note.setText(" ".join(untracked.values()))
        self.tracking_note.setVisible(bool(untracked))

    def _show_tax_rows(self) -> None:
        """Before the kind is known: the tax code, and the table if the connection has one."""
        model = self.kind.tax.model if self.kind else None
        by_code = self.tax_policy.currentData() == TaxPolicy.TAX_CODE.value
        self._form.setRowVisible(self.tax_code.parentWidget(),
                                 model in (None, TaxModel.LEGACY))
        self.tax_note.setVisible(by_code and model is TaxModel.AUTOMATED)
        self._form.setRowVisible(self.tax_codes.parentWidget(), model is TaxModel.VAT or (
            model is None and bool(self.tax_codes.table())))

    @staticmethod
    def _set_combo_data(combo: QComboBox, value: str) -> None:
        combo.setCurrentIndex(max(0, combo.findData(value)))

    @staticmethod
    def _set_list_value(combo: QComboBox, value: str) -> None:
        default_label = combo.property("default_label")
        combo.setCurrentText(value or default_label or "")

    def _list_value(self, combo: QComboBox) -> str:
        """The name chosen, spelt as the company spells it; "" for the default."""
        value = combo.currentText().strip()
        if value and value.casefold() in (combo.property("default_label").casefold(),
                                          combo.property("stands_for").casefold()):
            return ""
        return self._company_names.get(combo, {}).get(value.casefold(), value)

    def fill(self, lists: dict[str, list[str]], company_name: str) -> None:
        """Offer the names of the company's lists (fetched in the background)."""
        for field, (key, what) in COMPANY_CHOICES.items():
            combo: QComboBox = getattr(self, field)
            current = combo.currentText()
            default_label = combo.property("default_label")
            stands_for = combo.property("stands_for").casefold()
            names = [name for name in lists.get(key, []) if name.casefold() != stands_for]
            combo.setModel(QStringListModel([default_label] * bool(default_label) + names, combo))
            combo.setCurrentText(current)
            if what:
                self._company_names[combo] = {name.casefold(): name for name in names}
        self.lists_label.setText(f"The choices are the lists of {company_name or 'the company'}"
                                 " in QuickBooks.")

    def lists_failed(self, error: Exception) -> None:
        self.lists_label.setText(f"The company's lists could not be loaded: "
                                 f"{str(error).rstrip('.')}. Type the names instead.")

