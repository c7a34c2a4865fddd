"""A connection: one store into one QuickBooks company, and how its orders are booked."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

from connex_desktop.core.modes import ModeInfo, TransactionMode
from connex_desktop.core.products import QuickBooksProduct
from connex_desktop.core.rules import CustomerChoice, Rule


class CustomerPolicy(enum.StrEnum):
    GENERIC = "generic"        # every order to one customer, named per connection
    PER_BUYER = "per-buyer"    # matched by email, then display name; created when missing


class MissingItemPolicy(enum.StrEnum):
    CREATE = "create"          # create a non-inventory item with the order line's SKU and name
    FAIL = "fail"              # fail the order, saying which SKU is unknown
    FALLBACK = "fallback"      # book the line against one chosen item


class DesktopTransport(enum.StrEnum):
    WEB_CONNECTOR = "web-connector"   # Intuit's Web Connector calls this app (any computer)
    THIS_COMPUTER = "this-computer"   # the QBXMLRP2 request processor over COM (Windows)


class TaxPolicy(enum.StrEnum):
    TAX_CODE = "tax-code"      # the order's total tax, with the chosen tax code
    LINE_ITEM = "line-item"    # the order's tax as a line against a "Sales tax" item


@dataclass(frozen=True)
class QuickBooksMapping:
    """How an order's parts map onto the QuickBooks company's lists."""

    customer_policy: CustomerPolicy = CustomerPolicy.PER_BUYER
    generic_customer: str = "Online store customer"
    missing_items: MissingItemPolicy = MissingItemPolicy.CREATE
    fallback_item: str = ""
    tax_policy: TaxPolicy = TaxPolicy.TAX_CODE
    tax_code: str = ""          # TaxCode name; blank: the company's default taxable code
    tax_item: str = "Sales tax"
    shipping_item: str = ""     # blank: QuickBooks' own shipping line (SHIPPING_ITEM_ID)
    discount_account: str = ""  # blank: the company's default discount account
    payment_method: str = ""    # blank: the order's own method, matched by name when known
    deposit_account: str = ""   # blank: Undeposited Funds (refunds are paid from it too)
    refund_item: str = ""       # partial refunds; blank: the item "Refunds", made if missing
    # VAT/GST: a store's tax rate ("20") or tax name → the QuickBooks tax code to book it with;
    # a rate not listed takes the company's sales code of that rate.
    tax_codes: dict[str, str] = field(default_factory=dict)
    # A store's SKU → the QuickBooks item (by name) its lines book to, whatever the item's SKU.
    item_map: dict[str, str] = field(default_factory=dict)
    # QuickBooks' class and location (Department in the API; a "location" to the user) to tag
    # documents with; blank: none. Sent only when the company tracks them.
    class_name: str = ""
    location_name: str = ""


@dataclass(frozen=True)
class Schedule:
    """Automatic sync: off (interval 0), every N minutes, or daily at HH:MM."""

    every_minutes: int = 0
    daily_at: str = ""

    @property
    def enabled(self) -> bool:
        return self.every_minutes > 0 or bool(self.daily_at)


@dataclass(frozen=True)
class QuickBooksCompany:
    """Where the connection books: environment (production, sandbox or a base URL) and realm.

    The client secret and the tokens are secrets and live in the keyring, never here.
    """

    environment: str = ""
    client_id: str = ""
    realm_id: str = ""
    company_name: str = ""
    redirect_uri: str = "http://localhost:8765/callback"
    # The connect service it signed in through (refresh and revoke go there); empty when the
    # user's own Intuit app keys (client id here, secret in the keyring) signed it in.
    connect_service: str = ""
    # When a sign-in gave the tokens (ISO 8601, UTC): their five-year maximum life counts from
    # it, unless Intuit said when it ends (`authorisation_ends_at`, from its token answers'
    # x_refresh_token_hard_expires_in). `needs_reconnect`: QuickBooks refused the refresh
    # token; set until the next sign-in.
    signed_in_at: str = ""
    authorisation_ends_at: str = ""
    needs_reconnect: bool = False
    # Which QuickBooks, and for Desktop how this app reaches it: the company file's full path
    # (blank: the file open in QuickBooks) and the transport.
    product: QuickBooksProduct = QuickBooksProduct.ONLINE
    company_file: str = ""
    desktop_transport: DesktopTransport = DesktopTransport.WEB_CONNECTOR

    @property
    def connected(self) -> bool:
        return bool(self.environment and self.realm_id)


@dataclass(frozen=True)
class Connection:
    """Everything needed to run a sync, except the secrets."""

    name: str
    source_kind: str
    mode: TransactionMode
    id: int | None = None
    source_settings: dict[str, str] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()          # empty: every status
    use_qb_numbering: bool = False
    prefix: str = ""
    mapping: QuickBooksMapping = field(default_factory=QuickBooksMapping)
    schedule: Schedule = field(default_factory=Schedule)
    quickbooks: QuickBooksCompany = field(default_factory=QuickBooksCompany)
    # Sources that keep their own purchase orders (Erply, Lightspeed, Linnworks, SkuVault):
    # book those too, as a second kind of sync item beside the orders.
    sync_purchase_orders: bool = False
    # Rules decide per order, in turn, the first whose conditions an order meets; an order
    # none takes is booked with the settings above.
    rules: tuple[Rule, ...] = ()

    @property
    def modes(self) -> frozenset[TransactionMode]:
        """Every transaction mode the connection may book an order as, its rules' included."""
        return frozenset({self.mode, *(rule.mode for rule in self.rules
                                       if rule.mode is not None and not rule.skip)})

    @property
    def mode_info(self) -> ModeInfo:
        """The connection's mode in its QuickBooks' words."""
        return self.mode.info_in(self.quickbooks.product)

    def under_rule(self, rule: Rule) -> Connection:
        """The connection as it books the rule's orders: its settings with the rule's actions."""
        overrides: dict[str, Any] = {name: value for name, value in (
            ("payment_method", rule.payment_method), ("deposit_account", rule.deposit_account),
            ("class_name", rule.class_name), ("location_name", rule.location_name)) if value}
        if rule.customer is not None:
            overrides["customer_policy"] = (CustomerPolicy.PER_BUYER
                                            if rule.customer is CustomerChoice.PER_BUYER
                                            else CustomerPolicy.GENERIC)
        if rule.customer is CustomerChoice.NAMED:
            overrides["generic_customer"] = rule.customer_name
        return dataclasses.replace(
            self, mode=rule.mode or self.mode,
            prefix=self.prefix if rule.prefix is None else rule.prefix,
            mapping=dataclasses.replace(self.mapping, **overrides))
