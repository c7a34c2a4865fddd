"""The contract every ordering system's connector keeps, and the settings it declares."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.tz import tzlocal

from connex_desktop.core.errors import SetupError
from connex_desktop.core.model import CLOSED_STATUSES, Buyer, Order
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder


class FieldKind(enum.StrEnum):
    TEXT = "text"
    URL = "url"
    PATH = "path"
    CHOICE = "choice"
    BOOL = "bool"


@dataclass(frozen=True)
class SettingField:
    """One setting a connector needs; the configure form and the CLI are generated from these.

    A `secret` field is kept only in the keyring and shown masked.
    """

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    secret: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    default: str = ""

    @property
    def cli_option(self) -> str:
        """How the command line sets it: `--secret NAME` (read from standard input) or
        `--set NAME=VALUE`."""
        return f"--secret {self.name}" if self.secret else f"--set {self.name}=VALUE"


TIMEZONE_SETTING = SettingField(
    "timezone", "Store time zone", required=False,
    help="The store's time zone, e.g. America/Chicago; it decides the day each order is booked "
         "on. Blank: this computer's time zone.")


def store_timezone(name: str) -> tzinfo:
    """The zone a TIMEZONE_SETTING names, or this computer's (with its summer time) when blank."""
    if not name.strip():
        return tzlocal()
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SetupError(f"'{name.strip()}' is not a time zone name like America/Chicago.",
                         field="timezone") from None


@dataclass(frozen=True)
class OrderQuery:
    """Which orders to fetch. All bounds are optional; `numbers` wins over dates when given."""

    created_from: date | None = None
    created_to: date | None = None
    modified_since: datetime | None = None
    numbers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    # Orders wanted as well whatever the bounds above say (orders that failed before, tried
    # again). Set only by a source's own `fetch_orders_and_retries` for its `fetch_orders`.
    retry_numbers: tuple[str, ...] = ()
    # Where the store's own change feed stood after the last confirmed run, as the source left
    # it in `cursor_reached` (e.g. Lightspeed X's version); blank: none.
    source_cursor: str = ""

    def includes_day(self, day: date) -> bool:
        """Whether an order created on `day` (the store's own day) lies in the created range."""
        return ((self.created_from is None or day >= self.created_from)
                and (self.created_to is None or day <= self.created_to))


class Source(ABC):
    """An ordering system. Subclasses declare their settings and yield canonical orders."""

    kind: ClassVar[str]
    label: ClassVar[str]
    settings_fields: ClassVar[tuple[SettingField, ...]] = ()
    statuses: ClassVar[tuple[str, ...]] = ()
    # This store's own words for an order that is no sale (besides cancelled, voided, refunded):
    # such an order is skipped unless it was booked before.
    no_sale_statuses: ClassVar[tuple[str, ...]] = ()
    # Checkouts the buyer has not finished: not even fetched unless asked for by status.
    unfinished_statuses: ClassVar[tuple[str, ...]] = ()
    # Systems that keep their own purchase orders sync those instead of building them.
    keeps_own_purchase_orders: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, str], secrets: Mapping[str, str]) -> None:
        self.settings = dict(settings)
        self.secrets = dict(secrets)
        # Where a secret the store renews goes (app.py: the connection's keyring entry).
        self.secret_saver: Callable[[str, str], None] | None = None
        # Where a fetch left the store's change feed, for sources that keep a position of
        # their own (""): the engine keeps it once the run is confirmed.
        self.cursor_reached = ""

    def keep_secret(self, name: str, value: str) -> None:
        """Keep a secret the store renewed (a rotated refresh token), saved before it is used:
        the store may have revoked the old one already."""
        self.secrets[name] = value
        if self.secret_saver is not None:
            self.secret_saver(name, value)

    @property
    def timezone(self) -> tzinfo:
        """The zone of the store's days, for the sources that declare TIMEZONE_SETTING."""
        return store_timezone(self.settings.get(TIMEZONE_SETTING.name, ""))

    @abstractmethod
    def fetch_orders(
        self, query: OrderQuery, cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        """Yield the orders that match `query`, page by page, checking `cancel` between pages.

        A bad order raises nothing here: it is yielded as a `FailedOrder` so the run goes on.
        """

    def fetch_orders_and_retries(
        self, query: OrderQuery, retry_numbers: Sequence[str], cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        """The orders of `query`, then those numbered in `retry_numbers` it did not yield.

        The retries (orders that failed before, tried again) are fetched whatever `query`'s
        bounds say. A source that reads all its orders anyway overrides this to read them once.
        """
        yielded: set[str] = set()
        for item in self.fetch_orders(query, cancel):
            yielded.add(item.number)
            yield item
        again = tuple(number for number in retry_numbers if number not in yielded)
        if again and not cancel.cancelled:
            yield from self.fetch_orders(OrderQuery(numbers=again), cancel)

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The system's own purchase orders changed since `since` (None: all), and those with
        the store's `ids` whatever their time (one of them the system deleted since: a
        `deleted_purchase_order`); for the sources that keep and read them."""
        raise NotImplementedError(f"{self.label}'s purchase orders are not read.")

    def check(self) -> str:
        """Try the settings; return a plain-words success message or raise a ConnexError."""
        return "Connected."

    @classmethod
    def skipped_statuses(cls) -> tuple[str, ...]:
        """The statuses whose orders are skipped as no sale unless they were booked before."""
        generic = [status for status in cls.statuses if status.casefold() in CLOSED_STATUSES]
        return tuple(dict.fromkeys([*generic, *cls.no_sale_statuses]))

    @classmethod
    def normalized_settings(cls, settings: Mapping[str, str]) -> dict[str, str]:
        """The settings as they are best saved (e.g. one setting split out of another that a
        user pasted whole); raises SetupError for settings that contradict each other."""
        return dict(settings)

    @property
    def store_key(self) -> str:
        """Names the store, not the connection: connections on one store share its ledger rows.

        By default the kind and the non-secret settings; a source whose settings name one store
        in several ways (a path, a URL) says which store it is more precisely.
        """
        parts = [f"{setting.name}={self.settings.get(setting.name, '').strip()}"
                 for setting in self.settings_fields if not setting.secret]
        return "|".join([self.kind, *parts])


def missing_settings(kind: type[Source], settings: Mapping[str, str],
                     has_secret: Callable[[str], bool]) -> list[SettingField]:
    """The required settings of a `kind` store left blank: `settings` as the store reads them,
    secrets as `has_secret` says. Raises SetupError for settings that contradict each other."""
    readable = kind.normalized_settings(settings)
    return [setting for setting in kind.settings_fields if setting.required and not (
        has_secret(setting.name) if setting.secret else readable.get(setting.name, "").strip())]


@dataclass(frozen=True)
class FailedOrder:
    """An order the source could not read, with the reason (and line and field where known)."""

    number: str
    message: str
    field: str = ""
    line: int | None = None


def buyer_from_billing(billing: Mapping[str, Any]) -> Buyer:
    """The buyer named in a store's billing address (first and last name, email, company, phone)."""
    return Buyer(
        name=" ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p),
        email=str(billing.get("email") or ""), company=str(billing.get("company") or ""),
        phone=str(billing.get("phone") or ""))


def purchase_orders_unavailable(kind: type[Source] | None) -> str:
    """Why this kind of store offers no mode that builds purchase orders ("" when it does)."""
    if kind is None or not kind.keeps_own_purchase_orders:
        return ""
    return (f"{kind.label} keeps its own purchase orders, so building them from each item's "
            "default vendor is not offered.")


def purchase_order_sync_unavailable(kind: type[Source] | None) -> str:
    """Why this kind of store cannot sync its own purchase orders ("" when it can)."""
    if kind is None:
        return ""
    if not kind.keeps_own_purchase_orders:
        return (f"{kind.label} keeps no purchase orders of its own to sync; a mode with "
                "purchase orders builds them from each item's default vendor instead.")
    if kind.purchase_orders is Source.purchase_orders:
        return f"This app does not read {kind.label}'s purchase orders yet."
    return ""
