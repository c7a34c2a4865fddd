"""The demo POS store: register sales and the supplier purchase orders it keeps itself."""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import ClassVar

from connex_desktop.core.errors import Cancelled
from connex_desktop.core.model import Address, Buyer, Order, Payment, PaymentStatus, Refund
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    revision_of,
)
from connex_desktop.sandbox.seed import CATALOG, SeedItem
from connex_desktop.sources.base import FailedOrder, FieldKind, SettingField
from connex_desktop.sources.demo_markets import PRICE_FACTORS, Market
from connex_desktop.sources.demo_store import (
    DEFAULT_ORDER_COUNT,
    DEFAULT_SEED,
    EPOCH,
    MARKETS,
    MAX_ORDER_COUNT,
    WINDOW_DAYS,
    DemoSource,
    _first_sequence,
    _lines,
    _Plan,
    _sales_tax,
    _State,
    _taxed_lines,
    _vat,
    orders_on,
)

KIND = "demo-pos"
CLOSED = "CLOSED"              # a sale paid and closed at the register (Lightspeed's word)
FIRST_SALE_NUMBER = 10_001
FIRST_PO_NUMBER = 2_001
PO_EVERY_DAYS = 3
WALK_IN = Buyer(name="Walk-in customer")
# (tender, share of sales); names are the seed company's payment methods.
TENDERS: tuple[tuple[str, int], ...] = (
    ("Cash", 30), ("Visa", 34), ("MasterCard", 20), ("American Express", 10), ("Gift card", 6))
SPLIT_TENDER_SHARE = 0.08      # part cash, the rest by card
RETURN_SHARE = 0.08            # sales brought back to the counter later


@dataclass(frozen=True)
class Shop:
    """Where the register stands in the country of each kind of demo company."""

    code: str
    address: Address


SHOPS = {"USA": Shop("SF", Address("1450 Mission St", "", "San Francisco", "CA", "94103",
                                   "USA")),
         "United Kingdom": Shop("LDN", Address("140 Kensington High St", "", "London", "",
                                               "W8 7RL", "United Kingdom")),
         "Canada": Shop("TOR", Address("88 Queen St W", "", "Toronto", "ON", "M5H 2N2",
                                       "Canada")),
         "Australia": Shop("SYD", Address("12 Crown St", "", "Surry Hills", "NSW", "2010",
                                          "Australia"))}


# ---- register sales -------------------------------------------------------------------------

def _tender(rng: random.Random, method: str, amount: Decimal, at: datetime) -> Payment:
    reference = "" if method == "Cash" else f"Auth {rng.randint(100_000, 999_999)}"
    return Payment(amount, method, reference, at.date())


def _tenders(rng: random.Random, total: Decimal, at: datetime) -> tuple[Payment, ...]:
    if total > 20 and rng.random() < SPLIT_TENDER_SHARE:
        cash = money(total * Decimal("0.4"))
        return (_tender(rng, "Cash", cash, at), _tender(rng, "Visa", total - cash, at))
    method = rng.choices([m for m, _ in TENDERS], weights=[w for _, w in TENDERS])[0]
    return (_tender(rng, method, total, at),)


def _return(rng: random.Random, sale: _Plan, total: Decimal, number: str) -> _State:
    """A return at the counter, days later: the whole sale, or one line with its share of the
    tax (the sale's total in proportion to the line)."""
    at = sale.created_at + timedelta(hours=rng.uniform(24, 10 * 24))
    subtotal = sum((line.amount for line in sale.lines), ZERO)
    line = rng.choice(sale.lines)
    whole = len(sale.lines) == 1 or rng.random() < 0.4
    amount = total if whole or not subtotal else money(total * line.amount / subtotal)
    refund = Refund(amount, f"Return {number}-R", at.date())
    paid = PaymentStatus.REFUNDED if whole else PaymentStatus.PAID
    return _State(at, CLOSED, paid, sale.states[0].payments, (refund,))


def _sale(seed: str, sequence: int, created_at: datetime, market: Market) -> _Plan:
    rng = random.Random(f"connex-demo-pos:{seed}:{sequence}")
    shop = SHOPS[market.country]
    number = f"{shop.code}{rng.choice((1, 2))}-{FIRST_SALE_NUMBER + sequence}"
    members = [c for c in market.customers
               if c.address.country == market.country and not c.buys_on_account]
    member = rng.choice(members) if rng.random() < 0.3 else None
    lines = _lines(rng, market.currency)
    inclusive = False
    if market.regional is None:    # US sales tax where the register stands
        tax = _sales_tax(lines, ZERO, shop.address)
    else:
        lines, taxes = _taxed_lines(lines, market, shop.address)
        inclusive = market.inclusive and not any(line.discount for line in lines)
        tax = _vat(lines, taxes, ZERO, (ZERO, taxes[0]), inclusive)
    total = sum((line.amount for line in lines), ZERO) + (ZERO if inclusive else tax)
    sale = _Plan(sequence=sequence, number=number, created_at=created_at,
                 buyer=member.buyer if member else WALK_IN,
                 address=member.address if member else Address(), lines=lines,
                 shipping=ZERO, discount=ZERO, tax=tax, notes="",
                 states=(_State(created_at, CLOSED, PaymentStatus.PAID,
                                _tenders(rng, total, created_at)),),
                 raw={"channel": "pos", "register": number.split("-")[0]},
                 currency=market.currency, prices_include_tax=inclusive)
    if rng.random() < RETURN_SHARE:
        sale = dataclasses.replace(sale, states=(*sale.states,
                                                 _return(rng, sale, total, number)))
    return sale


def pos_sales(now: datetime, count: int = DEFAULT_ORDER_COUNT, seed: str = DEFAULT_SEED,
              market: Market = MARKETS["us"]) -> list[Order]:
    """The register's sales of the WINDOW_DAYS full days before `now`, as they stand at `now`:
    `count` sales in all, in the shop's opening hours (9:00 to 19:00)."""
    sales = []
    for offset in range(WINDOW_DAYS, 0, -1):
        day = now.date() - timedelta(days=offset)
        per_day, first = orders_on(day, count), _first_sequence(day, count)
        opening = datetime.combine(day, time(9), UTC)
        for index in range(per_day):
            at = opening + timedelta(seconds=int((index + 0.5) * 36_000 / per_day))
            sales.append(dataclasses.replace(
                _sale(seed, first + index, at, market).order_at(now), source=KIND))
    return sales


# ---- supplier purchase orders ---------------------------------------------------------------

# Lightspeed's supplier order workflow, with a partial delivery between; CANCELLED at any time
# before the goods arrive.
PO_STATES = {"OPEN": PurchaseOrderState.DRAFT, "SENT": PurchaseOrderState.OPEN,
             "DISPATCHED": PurchaseOrderState.OPEN,
             "PARTIALLY_RECEIVED": PurchaseOrderState.PARTLY_RECEIVED,
             "RECEIVED": PurchaseOrderState.RECEIVED, "CANCELLED": PurchaseOrderState.CANCELLED}
PO_ID_PREFIX = "demo-po-"
FREIGHT = (Decimal("35.00"), Decimal("45.00"), Decimal("60.00"))


@functools.cache
def _suppliers() -> dict[str, tuple[SeedItem, ...]]:
    """The seed company's vendors and the stock items each supplies, with their costs."""
    by_vendor: dict[str, list[SeedItem]] = {}
    for item in CATALOG:
        if item.type == "Inventory" and item.vendor and item.purchase_cost is not None:
            by_vendor.setdefault(item.vendor, []).append(item)
    return {vendor: tuple(items) for vendor, items in by_vendor.items()}


@dataclass(frozen=True)
class _Stage:
    """What a purchase order says from `at` on."""

    at: datetime
    status: str
    lines: tuple[PurchaseOrderLine, ...]


def _ordered_lines(rng: random.Random, items: Sequence[SeedItem], currency: str
                   ) -> tuple[PurchaseOrderLine, ...]:
    factor = PRICE_FACTORS[currency]
    lines = []
    for item in rng.sample(list(items), k=min(len(items), rng.randint(2, 4))):
        assert item.purchase_cost is not None
        cases = (2, 4, 6) if item.purchase_cost > 50 else (6, 12, 24, 36)
        lines.append(PurchaseOrderLine(item.sku, item.name, Decimal(rng.choice(cases)),
                                       money(item.purchase_cost * factor)))
    return tuple(lines)


def _received(lines: tuple[PurchaseOrderLine, ...], *, all_of_it: bool
              ) -> tuple[PurchaseOrderLine, ...]:
    """The lines with what arrived: all of it, or the first line whole and half of the rest."""
    return tuple(dataclasses.replace(
        line, received=line.quantity if all_of_it or index == 0 else line.quantity // 2)
        for index, line in enumerate(lines))


def _stages(rng: random.Random, created_at: datetime, lines: tuple[PurchaseOrderLine, ...]
            ) -> tuple[_Stage, ...]:
    """Written (OPEN), sent to the supplier, maybe changed, then cancelled or delivered (in
    one go or two)."""
    def after(at: datetime, low_hours: float, high_hours: float) -> datetime:
        return at + timedelta(seconds=int(rng.uniform(low_hours, high_hours) * 3600))

    sent = after(created_at, 1, 20)
    stages = [_Stage(created_at, "OPEN", lines), _Stage(sent, "SENT", lines)]
    if rng.random() < 0.3:         # the supplier is asked for another case of the first line
        first = lines[0]
        lines = (dataclasses.replace(first, quantity=first.quantity * 2), *lines[1:])
        stages.append(_Stage(after(sent, 24, 72), "SENT", lines))
    if rng.random() < 0.12:
        return (*stages, _Stage(after(stages[-1].at, 24, 96), "CANCELLED", lines))
    dispatched = after(stages[-1].at, 48, 120)
    stages.append(_Stage(dispatched, "DISPATCHED", lines))
    if rng.random() < 0.35:
        dispatched = after(dispatched, 24, 48)
        stages.append(_Stage(dispatched, "PARTIALLY_RECEIVED", _received(lines, all_of_it=False)))
    stages.append(_Stage(after(dispatched, 24, 96), "RECEIVED", _received(lines, all_of_it=True)))
    return tuple(stages)


@dataclass(frozen=True)
class _PoPlan:
    sequence: int
    vendor: str
    created_at: datetime
    expected: date
    currency: str
    freight: Decimal
    ship_to: Address
    stages: tuple[_Stage, ...]

    def at(self, now: datetime) -> PurchaseOrder:
        stage = [s for s in self.stages if s.at <= now][-1]
        number = f"PO-{FIRST_PO_NUMBER + self.sequence}"
        subtotal = sum((line.amount for line in stage.lines), ZERO)
        return PurchaseOrder(
            source=KIND, source_id=f"{PO_ID_PREFIX}{self.sequence}", number=number,
            vendor=self.vendor, order_date=self.created_at.date(),
            state=PO_STATES[stage.status], status=stage.status, currency=self.currency,
            lines=stage.lines, total=subtotal + self.freight, expected_date=self.expected,
            other_costs=self.freight, ship_to=self.ship_to,
            memo=f"Demo POS purchase order {number}", updated_at=stage.at,
            revision=revision_of(stage.status, self.freight, [
                (line.sku, line.quantity, line.unit_cost, line.received)
                for line in stage.lines]))


def _po_plan(seed: str, sequence: int, market: Market) -> _PoPlan:
    """The `sequence`-th purchase order since EPOCH, one every PO_EVERY_DAYS days."""
    rng = random.Random(f"connex-demo-po:{seed}:{sequence}")
    created_at = datetime.combine(EPOCH + timedelta(days=sequence * PO_EVERY_DAYS), time(8),
                                  UTC) + timedelta(minutes=rng.randint(0, 300))
    vendor, items = rng.choice(sorted(_suppliers().items()))
    lines = _ordered_lines(rng, items, market.currency)
    small = sum((line.amount for line in lines), ZERO) < 1000
    freight = money(rng.choice(FREIGHT) * PRICE_FACTORS[market.currency]) if small else ZERO
    return _PoPlan(sequence, vendor, created_at,
                   (created_at + timedelta(days=rng.randint(7, 12))).date(), market.currency,
                   freight, SHOPS[market.country].address, _stages(rng, created_at, lines))


def pos_purchase_orders(now: datetime, seed: str = DEFAULT_SEED,
                        market: Market = MARKETS["us"]) -> list[PurchaseOrder]:
    """The purchase orders written in the WINDOW_DAYS full days before `now`, as at `now`."""
    first_day = now.date() - timedelta(days=WINDOW_DAYS)
    # The first on or after that day (none before EPOCH), to the last before today.
    first = max(0, -(-(first_day - EPOCH).days // PO_EVERY_DAYS))
    last = ((now.date() - EPOCH).days - 1) // PO_EVERY_DAYS
    return [_po_plan(seed, sequence, market).at(now) for sequence in range(first, last + 1)]


# ---- the source -----------------------------------------------------------------------------

class DemoPosSource(DemoSource):
    """A made-up shop with a point of sale, Lightspeed-like: register sales (cash, cards, split
    tenders, returns at the counter as refunds of the sale) and the purchase orders it writes
    to its suppliers, which move from OPEN through SENT and DISPATCHED to RECEIVED (sometimes
    in two deliveries), may change before they arrive, or are CANCELLED. Needs no account."""

    kind: ClassVar[str] = KIND
    label: ClassVar[str] = "Demo POS store"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("orders", "Register sales in the last 60 days", FieldKind.TEXT,
                     required=False, default=str(DEFAULT_ORDER_COUNT),
                     help=f"How many sales the demo register holds (1 to {MAX_ORDER_COUNT})."),
        *DemoSource.settings_fields[1:],
    )
    statuses: ClassVar[tuple[str, ...]] = (CLOSED,)
    keeps_own_purchase_orders: ClassVar[bool] = True

    @property
    def market(self) -> Market:
        return MARKETS[self.company[0]]

    def check(self) -> str:
        return (f"Demo POS store ready: {self.order_count} register sales and a purchase order "
                f"every {PO_EVERY_DAYS} days over the last {WINDOW_DAYS} days.")

    def orders_at(self, now: datetime, count: int) -> list[Order]:
        return pos_sales(now, count, self.seed, self.market)

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The purchase orders written or changed since `since` (None: all of the window),
        then those with the given ids, whatever their time."""
        now, market = self._clock(), self.market
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        yielded: set[str] = set()
        for purchase in pos_purchase_orders(now, self.seed, market):
            if since is None or (purchase.updated_at and purchase.updated_at >= since):
                yielded.add(purchase.source_id)
                yield purchase
        for source_id in dict.fromkeys(ids):
            if cancel.cancelled:
                raise Cancelled()
            if source_id in yielded:
                continue
            sequence = source_id.removeprefix(PO_ID_PREFIX)
            plan = _po_plan(self.seed, int(sequence), market) if sequence.isdigit() else None
            if plan is None or plan.created_at > now:
                yield FailedOrder(source_id, "The demo POS store has no such purchase order.",
                                  field="id")
            else:
                yield plan.at(now)
