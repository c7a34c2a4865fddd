"""The demo store: a deterministic, realistic stream of orders for the demo company."""

from __future__ import annotations

import dataclasses
import functools
import random
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from connex_desktop.core.errors import Cancelled, ErrorKind, SetupError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import ZERO, allocate, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.sandbox.kinds import DEFAULT_KIND
from connex_desktop.sandbox.seed import CATALOG, VENDORS
from connex_desktop.sources.base import FailedOrder, FieldKind, OrderQuery, SettingField, Source
from connex_desktop.sources.demo_markets import (
    AU_MARKET,
    CA_MARKET,
    UK_MARKET,
    DemoCustomer,
    LineTax,
    Market,
    demo_customer,
    local_price,
)

DEFAULT_ORDER_COUNT = 300
MAX_ORDER_COUNT = 20_000
DEFAULT_SEED = "1"
WINDOW_DAYS = 60
PAGE_SIZE_ORDERS = 50
# Order numbers count up from here, one per order since EPOCH, so a day's orders keep their
# numbers as the 60-day window slides.
EPOCH = date(2024, 1, 1)
FIRST_ORDER_NUMBER = 100_001
# Every MARKETPLACE_EVERY-th order comes from a marketplace whose numbers are longer than the
# 21 characters QuickBooks allows in DocNumber: failures planted to show how they are reported.
MARKETPLACE_EVERY = 97
MARKETPLACE_PREFIX = "AMZ-"
CA_SALES_TAX_RATE = Decimal("0.0825")  # California 7.25 % + Marin County 1.00 % (kinds.US)
PURCHASE_ORDER_METHOD = "Purchase order"
COMPANY_SETTING = "company"   # set by the demo, not the user: see DemoSource.company
MULTICURRENCY = "multicurrency"

STATUS_PENDING = "pending"
STATUS_PROCESSING = "processing"
STATUS_COMPLETED = "completed"
STATUS_ON_HOLD = "on-hold"
STATUS_CANCELLED = "cancelled"
STATUS_REFUNDED = "refunded"


@dataclass(frozen=True)
class DemoItem:
    sku: str
    name: str
    price: Decimal
    taxable: bool


def _catalog_item(sku: str, name: str, price: Decimal) -> DemoItem:
    # Gift cards and labour are not taxable in California.
    return DemoItem(sku, name, price, taxable=not sku.startswith(("GFT-CARD", "SVC-")))


KNOWN_ITEMS: tuple[DemoItem, ...] = tuple(
    _catalog_item(item.sku, item.name, item.price) for item in CATALOG
)
# Products the store sells that the QuickBooks company does not know (yet).
UNKNOWN_ITEMS: tuple[DemoItem, ...] = (
    DemoItem("LTD-MUG-AURORA", "Limited Edition Aurora Mug", Decimal("32.00"), True),
    DemoItem("BNDL-WKND-CAMP", "Weekend Camp Bundle", Decimal("399.00"), True),
    DemoItem("SMPL-COF-3", "Coffee Sampler (3)", Decimal("9.00"), True),
    DemoItem("HAT-SUN-OLV", "Sun Hat - Olive", Decimal("36.50"), True),
)
UNKNOWN_ITEM_SHARE = 0.04


CUSTOMERS: tuple[DemoCustomer, ...] = (
    demo_customer("José Álvarez", "jose.alvarez@example.com", "1450 Mission St", "San Francisco",
                  "CA", "94103"),
    demo_customer("Zoë Brontë", "zoe.bronte@example.co.uk", "3 Haworth Lane", "Keighley",
                  "West Yorkshire", "BD22 8DR", "United Kingdom"),
    demo_customer("山田太郎", "taro.yamada@example.jp", "2-3-1 Nishi-Shinjuku", "Shinjuku-ku",
                  "Tokyo", "163-8001", "Japan"),
    demo_customer("Дмитрий Иванов", "d.ivanov@example.ru", "88 Lakeshore Dr", "Chicago", "IL",
                  "60611"),
    demo_customer("Ελένη Παπαδοπούλου", "eleni.p@example.gr", "210 Grand Ave", "Oakland", "CA",
                  "94610"),
    demo_customer("François Lefèvre", "f.lefevre@example.fr", "77 Rue de Rivoli", "Paris", "",
                  "75001", "France"),
    demo_customer("Søren Østergaard", "soren@example.dk", "901 Pine St", "Seattle", "WA", "98101",
                  company="Østergaard Design ApS"),
    demo_customer("Chloé Dubois-Nguyễn", "chloe.dn@example.com", "455 Sutter St", "San Francisco",
                  "CA", "94108"),
    demo_customer("Björn Müller", "bjorn.mueller@example.de", "12 Alpine Way", "Boulder", "CO",
                  "80302", company="Bäckerei Müller GmbH"),
    demo_customer("Siobhán O'Connor", "siobhan.oconnor@example.ie", "18 Harbor View", "Sausalito",
                  "CA", "94965"),
    demo_customer("김민준", "minjun.kim@example.kr", "3200 Wilshire Blvd", "Los Angeles", "CA",
                  "90010"),
    demo_customer("محمد الأحمد", "m.alahmad@example.com", "640 Main St", "Dearborn", "MI", "48126"),
    demo_customer("Emily Carter", "emily.carter@example.com", "22 Sequoia Ct", "Mill Valley", "CA",
                  "94941"),
    demo_customer("Michael Chen", "mchen@example.com", "1010 El Camino Real", "Palo Alto", "CA",
                  "94301"),
    demo_customer("Sarah Johnson", "sarah.j@example.com", "77 Oak St", "Austin", "TX", "78701"),
    demo_customer("David Okafor", "d.okafor@example.com", "5 Peachtree Pl", "Atlanta", "GA",
                  "30303"),
    demo_customer("Priya Raman", "priya.raman@example.com", "940 Market St", "San Jose", "CA",
                  "95113"),
    demo_customer("Lucas Silva", "lucas.silva@example.com.br", "300 Ocean Ave", "Santa Cruz", "CA",
                  "95060"),
    demo_customer("Anna Kowalska", "anna.kowalska@example.pl", "14 Maple Rd", "Portland", "OR",
                  "97205"),
    demo_customer("Tom Becker", "tom@example.com", "55 Summit Rd", "Denver", "CO", "80203",
                  company="Trailhead Adventures LLC"),
    demo_customer("Rachel Green", "purchasing@example-scouts.org", "400 Camp Ln", "Santa Rosa",
                  "CA", "95404", company="Redwood Scout Troop 42"),
    demo_customer("Hiroshi Tanaka", "h.tanaka@example.com", "2100 Bay St", "San Francisco", "CA",
                  "94123", company="Golden Gate Guides Inc."),
    demo_customer("Marisol Vega", "marisol@example.com", "55 Harbor Drive", "Monterey", "CA",
                  "93940", company=VENDORS[3].name),  # a supplier that also buys from the store
    demo_customer("Nikolai Petrov", "nikolai.petrov@example.com", "19 Birch Lane", "Duluth", "MN",
                  "55802"),
    demo_customer("Grace Liu", "grace.liu@example.com", "800 Broadway", "New York", "NY", "10003"),
    demo_customer("Mateo Rossi", "mateo.rossi@example.it", "Via Roma 12", "Milano", "MI", "20121",
                  "Italy"),
)

US_MARKET = Market(country="USA", currency="USD", customers=CUSTOMERS,
                   shipping=(Decimal("6.95"), Decimal("9.95"), Decimal("14.50")),
                   free_shipping_from=Decimal("150.00"))
# The market the store sells into for each company kind (sandbox/kinds.py).
MARKETS = {"us": US_MARKET, "us-ast": US_MARKET, "uk": UK_MARKET, "ca": CA_MARKET,
           "au": AU_MARKET, "us-tracked": US_MARKET, "us-line-classes": US_MARKET}

# (method, share of card/online payments); names are the seed company's payment methods.
CHECKOUT_METHODS: tuple[tuple[str, int], ...] = (
    ("Visa", 40), ("MasterCard", 25), ("American Express", 10), ("Discover", 5),
    ("PayPal", 18), ("Gift card", 2),
)
LATER_PAYMENT_METHODS = ("Bank transfer", "Check", "PayPal")


@dataclass(frozen=True)
class _State:
    """What the store says about an order from `at` on."""

    at: datetime
    status: str
    payment_status: PaymentStatus
    payments: tuple[Payment, ...]
    refunds: tuple[Refund, ...] = ()


@dataclass(frozen=True)
class _Plan:
    """An order's fixed parts and the states it passes through as time goes on."""

    sequence: int
    number: str
    created_at: datetime
    buyer: Buyer
    address: Address
    lines: tuple[OrderLine, ...]
    shipping: Decimal
    discount: Decimal
    tax: Decimal
    notes: str
    states: tuple[_State, ...]
    raw: dict[str, Any]
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    prices_include_tax: bool = False
    shipping_tax_rate: Decimal | None = None

    def order_at(self, now: datetime) -> Order:
        state = [s for s in self.states if s.at <= now][-1]
        subtotal = sum((line.amount for line in self.lines), ZERO)
        added_tax = ZERO if self.prices_include_tax else self.tax
        return Order(
            source=DemoSource.kind,
            source_id=f"demo-{self.sequence}",
            number=self.number,
            order_date=self.created_at.date(),
            status=state.status,
            payment_status=state.payment_status,
            currency=self.currency,
            buyer=self.buyer,
            lines=self.lines,
            total=subtotal - self.discount + self.shipping + added_tax,
            billing_address=self.address,
            shipping_address=self.address,
            shipping=self.shipping,
            discount=self.discount,
            tax=self.tax,
            payments=state.payments,
            refunds=state.refunds,
            notes=self.notes,
            updated_at=state.at,
            raw={**self.raw, "created_at": self.created_at.isoformat()},
            exchange_rate=self.exchange_rate,
            prices_include_tax=self.prices_include_tax,
            shipping_tax_rate=self.shipping_tax_rate,
        )


def orders_on(day: date, order_count: int) -> int:
    """How many orders `day` has: any WINDOW_DAYS consecutive days hold `order_count` in all."""
    per_day, extra = divmod(order_count, WINDOW_DAYS)
    return per_day + (1 if day.toordinal() % WINDOW_DAYS < extra else 0)


def _first_sequence(day: date, order_count: int) -> int:
    """The number of orders placed from EPOCH up to (not including) `day`."""
    per_day, extra = divmod(order_count, WINDOW_DAYS)

    def residue_days_before(ordinal: int) -> int:
        return (ordinal // WINDOW_DAYS) * extra + min(ordinal % WINDOW_DAYS, extra)

    days = day.toordinal() - EPOCH.toordinal()
    return days * per_day + residue_days_before(day.toordinal()) - residue_days_before(
        EPOCH.toordinal())


def _token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _gateway_reference(rng: random.Random, method: str) -> str:
    if method == "PayPal":
        return _token(rng, string.ascii_uppercase + string.digits, 17)
    if method == "Gift card":
        return f"GC-{_token(rng, string.ascii_uppercase + string.digits, 8)}"
    if method == "Bank transfer":
        return f"TRF{_token(rng, string.digits, 12)}"
    if method == "Check":
        return f"Check {rng.randint(1001, 9999)}"
    return f"ch_3{_token(rng, string.ascii_letters + string.digits, 23)}"  # a Stripe charge


@functools.cache
def _priced(currency: str) -> tuple[tuple[DemoItem, ...], tuple[DemoItem, ...]]:
    """The known and unknown items at the shop's prices in `currency`."""
    def priced(items: tuple[DemoItem, ...]) -> tuple[DemoItem, ...]:
        return tuple(dataclasses.replace(item, price=local_price(item.price, currency))
                     for item in items)

    return priced(KNOWN_ITEMS), priced(UNKNOWN_ITEMS)


def _lines(rng: random.Random, currency: str) -> tuple[OrderLine, ...]:
    count = rng.choices((1, 2, 3, 4, 5), weights=(25, 30, 22, 14, 9))[0]
    known, unknown = _priced(currency)
    items: list[DemoItem] = []
    while len(items) < count:
        pool = unknown if rng.random() < UNKNOWN_ITEM_SHARE else known
        item = rng.choice(pool)
        if item not in items:
            items.append(item)
    lines = []
    for item in items:
        if item.sku == "SVC-REPAIR":
            quantity = rng.choice((Decimal("1"), Decimal("1.5"), Decimal("2.25")))  # hours
        elif item.price < 30:
            quantity = Decimal(rng.choices((1, 2, 3, 4, 6), weights=(40, 25, 15, 10, 10))[0])
        else:
            quantity = Decimal(rng.choices((1, 2, 3), weights=(80, 15, 5))[0])
        gross = money(quantity * item.price)
        discount = money(gross * rng.choice((Decimal("0.10"), Decimal("0.15")))) \
            if rng.random() < 0.12 else ZERO
        lines.append(OrderLine(sku=item.sku, name=item.name, quantity=quantity,
                               unit_price=item.price, discount=discount, taxable=item.taxable))
    return tuple(lines)


def _order_discount(rng: random.Random, subtotal: Decimal) -> tuple[Decimal, str]:
    roll = rng.random()
    if roll < 0.06:
        return money(subtotal * Decimal("0.10")), "WELCOME10"
    if roll < 0.10 and subtotal > Decimal("60.00"):
        return Decimal("15.00"), "TRAIL15"
    return ZERO, ""


def _shipping(rng: random.Random, subtotal: Decimal, address: Address, market: Market,
              currency: str) -> Decimal:
    if address.country != market.country:
        return market.international_shipping(currency)
    if subtotal >= market.free_shipping_from:
        return ZERO
    return rng.choices(market.shipping, weights=(60, 30, 10))[0]


def _sales_tax(lines: tuple[OrderLine, ...], discount: Decimal, address: Address) -> Decimal:
    """California sales tax on the taxable lines less the order discount, rounded per order."""
    if address.region != "CA" or address.country != "USA":
        return ZERO
    taxable = sum((line.amount for line in lines if line.taxable), ZERO)
    return money(max(taxable - discount, ZERO) * CA_SALES_TAX_RATE)


def _vat(lines: tuple[OrderLine, ...], taxes: list[LineTax], discount: Decimal,
         shipping: tuple[Decimal, LineTax], inclusive: bool) -> Decimal:
    """VAT/GST line by line, each rounded to the cent (as QuickBooks computes it), the order's
    discount spread over the lines first."""
    shares = allocate(discount, [line.amount for line in lines])
    taxed = [*((line.amount - share, tax) for line, share, tax in zip(lines, shares, taxes,
                                                                      strict=True)), shipping]
    if inclusive:
        return sum((money(amount * tax.rate / (100 + tax.rate)) for amount, tax in taxed), ZERO)
    return sum((money(amount * part / 100) for amount, tax in taxed for part in tax.parts), ZERO)


def _taxed_lines(lines: tuple[OrderLine, ...], market: Market, address: Address,
                 ) -> tuple[tuple[OrderLine, ...], list[LineTax]]:
    taxes = [market.line_tax(line.sku, address) for line in lines]
    return tuple(dataclasses.replace(line, taxable=bool(tax.rate), tax_rate=tax.rate,
                                     tax_code=tax.code)
                 for line, tax in zip(lines, taxes, strict=True)), taxes


# An outcome's states and notes; the purchase-order outcome also records itself in `raw`.
_Life = tuple[tuple[_State, ...], str]
OUTCOME_WEIGHTS = {"checkout": 56, "later": 9, "never": 5, "po": 8, "partial": 8, "refunded": 7,
                   "cancelled": 7}
ON_ACCOUNT_PO_WEIGHT = 40


@dataclass(frozen=True)
class _Timeline:
    """One order's random source, creation moment, total and checkout method."""

    rng: random.Random
    created_at: datetime
    total: Decimal
    method: str

    def later(self, min_hours: float, max_hours: float) -> datetime:
        hours = self.rng.uniform(min_hours, max_hours)
        return self.created_at + timedelta(seconds=int(hours * 3600))

    def paid(self, amount: Decimal, method: str, at: datetime) -> Payment:
        return Payment(amount=amount, method=method,
                       reference=_gateway_reference(self.rng, method), paid_on=at.date())

    def opened(self) -> _State:
        return _State(self.created_at, STATUS_PENDING, PaymentStatus.UNPAID, ())


def _states(rng: random.Random, created_at: datetime, total: Decimal, customer: DemoCustomer,
            ) -> tuple[tuple[_State, ...], str, dict[str, Any]]:
    """The order's life: paid at checkout, later, partly, on a purchase order, or not at all."""
    method = rng.choices([m for m, _ in CHECKOUT_METHODS],
                         weights=[w for _, w in CHECKOUT_METHODS])[0]
    weights = dict(OUTCOME_WEIGHTS)
    if customer.buys_on_account:
        weights["po"] = ON_ACCOUNT_PO_WEIGHT
    outcome = rng.choices(list(weights), weights=list(weights.values()))[0]
    raw: dict[str, Any] = {"outcome": outcome}
    states, notes = _OUTCOMES[outcome](_Timeline(rng, created_at, total, method), raw)
    return states, notes, raw


def _paid_at_checkout(life: _Timeline, raw: dict[str, Any]) -> _Life:
    payment = life.paid(life.total, life.method, life.created_at)
    return (_State(life.created_at, STATUS_PROCESSING, PaymentStatus.PAID, (payment,)),
            _State(life.later(20, 96), STATUS_COMPLETED, PaymentStatus.PAID, (payment,))), ""


def _paid_later(life: _Timeline, raw: dict[str, Any]) -> _Life:
    paid_at = life.later(24, 10 * 24)
    payment = life.paid(life.total, life.rng.choice(LATER_PAYMENT_METHODS), paid_at)
    return (life.opened(), _State(paid_at, STATUS_PROCESSING, PaymentStatus.PAID, (payment,))), ""


def _never_paid(life: _Timeline, raw: dict[str, Any]) -> _Life:
    return (life.opened(),), ""


def _on_purchase_order(life: _Timeline, raw: dict[str, Any]) -> _Life:
    po_number = f"PO-{life.rng.randint(10000, 99999)}"
    raw.update(payment_method=PURCHASE_ORDER_METHOD, purchase_order=po_number)
    states: tuple[_State, ...] = (
        _State(life.created_at, STATUS_ON_HOLD, PaymentStatus.UNPAID, ()),)
    if life.rng.random() < 0.6:
        paid_at = life.later(12 * 24, 30 * 24)
        payment = Payment(life.total, life.rng.choice(("Check", "Bank transfer")), po_number,
                          paid_at.date())
        states += (_State(paid_at, STATUS_COMPLETED, PaymentStatus.PAID, (payment,)),)
    return states, f"Paid by purchase order {po_number} (Net 30)."


def _partly_paid(life: _Timeline, raw: dict[str, Any]) -> _Life:
    deposit = money(life.total * life.rng.choice((Decimal("0.3"), Decimal("0.5"))))
    first = life.paid(deposit, life.method, life.created_at)
    states: tuple[_State, ...] = (
        _State(life.created_at, STATUS_PROCESSING, PaymentStatus.PARTIALLY_PAID, (first,)),)
    if life.rng.random() < 0.5:
        paid_at = life.later(3 * 24, 14 * 24)
        second = life.paid(life.total - deposit, life.rng.choice(LATER_PAYMENT_METHODS), paid_at)
        states += (_State(paid_at, STATUS_COMPLETED, PaymentStatus.PAID, (first, second)),)
    return states, f"Deposit of {deposit} taken at checkout; balance due before shipping."


def _refunded(life: _Timeline, raw: dict[str, Any]) -> _Life:
    payment = life.paid(life.total, life.method, life.created_at)
    refunded_at = life.later(2 * 24, 12 * 24)
    refund = Refund(life.total,
                    f"re_3{_token(life.rng, string.ascii_letters + string.digits, 23)}",
                    refunded_at.date())
    return (_State(life.created_at, STATUS_PROCESSING, PaymentStatus.PAID, (payment,)),
            _State(refunded_at, STATUS_REFUNDED, PaymentStatus.REFUNDED, (payment,),
                   (refund,))), ""


def _cancelled(life: _Timeline, raw: dict[str, Any]) -> _Life:
    notes = life.rng.choice(("Customer asked to cancel.", "Payment not received in time."))
    return (life.opened(),
            _State(life.later(2, 72), STATUS_CANCELLED, PaymentStatus.CANCELLED, ())), notes


_OUTCOMES: dict[str, Callable[[_Timeline, dict[str, Any]], _Life]] = {
    "checkout": _paid_at_checkout, "later": _paid_later, "never": _never_paid,
    "po": _on_purchase_order, "partial": _partly_paid, "refunded": _refunded,
    "cancelled": _cancelled}


def planted_failures(result: SyncResult) -> list[str]:
    """The failed orders of a demo store's run that the demo plants: its marketplace orders,
    whose numbers QuickBooks refuses as too long for a document."""
    return [error.order for error in result.errors
            if error.order.startswith(MARKETPLACE_PREFIX) and error.kind is ErrorKind.FIX_DATA]


def only_planted_failures(result: SyncResult) -> bool:
    """Whether the run went as the demo intends: what failed is what it plants."""
    return (result.status is RunStatus.PARTIAL and not result.dry_run
            and len(planted_failures(result)) == result.failed)


def _plan(seed: str, sequence: int, created_at: datetime, market: Market = US_MARKET,
          multicurrency: bool = False) -> _Plan:
    rng = random.Random(f"connex-demo:{seed}:{sequence}")
    customer = rng.choice(market.customers)
    currency = market.currency_for(customer.address, multicurrency)
    number = str(FIRST_ORDER_NUMBER + sequence)
    raw: dict[str, Any] = {"channel": "web"}
    if sequence % MARKETPLACE_EVERY == MARKETPLACE_EVERY // 2:
        number = (f"{MARKETPLACE_PREFIX}{rng.randint(111, 999)}-"
                  f"{rng.randint(1, 9_999_999):07d}-{sequence:07d}")
        raw["channel"] = "amazon"
    lines = _lines(rng, currency)
    subtotal = sum((line.amount for line in lines), ZERO)
    discount, coupon = _order_discount(rng, subtotal)
    shipping = _shipping(rng, subtotal, customer.address, market, currency)
    inclusive, shipping_rate = False, None
    if market.regional is None:
        tax = _sales_tax(lines, discount, customer.address)
    else:
        lines, taxes = _taxed_lines(lines, market, customer.address)
        # The engine cannot state a discounted tax-inclusive sale's tax to the cent, and
        # businesses are quoted net: those orders are priced without tax.
        inclusive = (market.inclusive and not customer.buys_on_account and not discount
                     and not any(line.discount for line in lines))
        shipping_tax = max(taxes, key=lambda tax: tax.rate)   # delivery follows the goods
        shipping_rate = shipping_tax.rate
        tax = _vat(lines, taxes, discount, (shipping, shipping_tax), inclusive)
    total = subtotal - discount + shipping + (ZERO if inclusive else tax)
    states, notes, outcome = _states(rng, created_at, total, customer)
    if coupon:
        raw["coupon"] = coupon
    return _Plan(sequence=sequence, number=number, created_at=created_at, buyer=customer.buyer,
                 address=customer.address, lines=lines, shipping=shipping, discount=discount,
                 tax=tax, notes=notes, states=states, raw={**raw, **outcome}, currency=currency,
                 exchange_rate=market.exchange_rate(currency), prices_include_tax=inclusive,
                 shipping_tax_rate=shipping_rate)


def _day_plans(seed: str, day: date, order_count: int, market: Market,
               multicurrency: bool) -> Iterator[_Plan]:
    count = orders_on(day, order_count)
    first = _first_sequence(day, order_count)
    start = datetime.combine(day, time(), UTC)
    for index in range(count):
        # Spread over the day in order, so numbers rise with time.
        seconds = int((index + random.Random(f"{seed}:{first + index}:t").random())
                      * 86_400 / count)
        yield _plan(seed, first + index, start + timedelta(seconds=seconds), market,
                    multicurrency)


def demo_orders(now: datetime, order_count: int = DEFAULT_ORDER_COUNT,
                seed: str = DEFAULT_SEED, company: str = DEFAULT_KIND,
                multicurrency: bool = False) -> list[Order]:
    """The store's orders of the WINDOW_DAYS full days before `now`, as they stand at `now`,
    as it sells into a company of kind `company` (sandbox/kinds.py)."""
    market = MARKETS[company]
    today = now.date()
    days = (today - timedelta(days=offset) for offset in range(WINDOW_DAYS, 0, -1))
    return [plan.order_at(now) for day in days
            for plan in _day_plans(seed, day, order_count, market, multicurrency)]


def demo_company_setting(kind: str, multicurrency: bool) -> str:
    """How the demo company's kind is written down: "uk", "uk+multicurrency"."""
    return kind + (f"+{MULTICURRENCY}" if multicurrency else "")


def parse_demo_company(text: str) -> tuple[str, bool]:
    kind, _, extra = (text.strip() or DEFAULT_KIND).partition("+")
    return kind, extra == MULTICURRENCY


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _wanted(order: Order, query: OrderQuery, modified_since: datetime | None) -> bool:
    if query.numbers:
        if order.number not in query.numbers:
            return False
    else:
        if not query.includes_day(order.order_date):
            return False
        if modified_since and order.updated_at and order.updated_at < modified_since:
            return False
    statuses = {status.casefold() for status in query.statuses}
    return not statuses or order.status.casefold() in statuses


class DemoSource(Source):
    """A made-up online store selling the demo company's catalogue; needs no account.

    Paid by purchase order: status "on-hold", payment status unpaid, no payments, the PO
    number in the notes and `raw["payment_method"] == "Purchase order"`; when the buyer pays,
    the order turns completed and paid with a payment referencing the PO number.
    """

    kind: ClassVar[str] = "demo"
    label: ClassVar[str] = "Demo store"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("orders", "Orders in the last 60 days", FieldKind.TEXT, required=False,
                     default=str(DEFAULT_ORDER_COUNT),
                     help=f"How many orders the demo store holds (1 to {MAX_ORDER_COUNT})."),
        SettingField("seed", "Seed", FieldKind.TEXT, required=False, default=DEFAULT_SEED,
                     help="Another seed makes another store; the same seed the same orders."),
    )
    statuses: ClassVar[tuple[str, ...]] = (
        STATUS_PENDING, STATUS_PROCESSING, STATUS_COMPLETED, STATUS_ON_HOLD, STATUS_CANCELLED,
        STATUS_REFUNDED,
    )

    def __init__(self, settings: Mapping[str, str], secrets: Mapping[str, str], *,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        super().__init__(settings, secrets)
        self._clock = clock

    @property
    def order_count(self) -> int:
        text = self.settings.get("orders", "").strip() or str(DEFAULT_ORDER_COUNT)
        if not text.isdigit() or not 1 <= int(text) <= MAX_ORDER_COUNT:
            raise SetupError(f"Orders must be a whole number from 1 to {MAX_ORDER_COUNT}, "
                             f"not {text!r}.", field="orders")
        return int(text)

    @property
    def seed(self) -> str:
        return self.settings.get("seed", "").strip() or DEFAULT_SEED

    @property
    def company(self) -> tuple[str, bool]:
        """The kind of company the demo books into and whether it has multicurrency: the
        demo sets "company" as "uk" or "uk+multicurrency" when it starts (app.start_demo)."""
        kind, multicurrency = parse_demo_company(self.settings.get(COMPANY_SETTING, ""))
        if kind not in MARKETS:
            raise SetupError(f"The demo company must be one of {', '.join(MARKETS)}, "
                             f"not {kind!r}.", field=COMPANY_SETTING)
        return kind, multicurrency

    @property
    def store_key(self) -> str:
        # The seed makes the store; how many orders it shows does not (a larger demo is the
        # same store, so its orders are not booked a second time).
        return f"{self.kind}|seed={self.seed}"

    def check(self) -> str:
        return f"Demo store ready: {self.order_count} orders over the last {WINDOW_DAYS} days."

    def orders_at(self, now: datetime, count: int) -> list[Order]:
        """The store's orders of the last WINDOW_DAYS days as they stand at `now`."""
        kind, multicurrency = self.company
        return demo_orders(now, count, self.seed, kind, multicurrency)

    def fetch_orders(
        self, query: OrderQuery, cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        count = self.order_count
        now = self._clock()
        since = query.modified_since
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        orders = [order for order in self.orders_at(now, count) if _wanted(order, query, since)]
        cancel.expect_orders(len(orders))
        for start in range(0, len(orders), PAGE_SIZE_ORDERS):
            if cancel.cancelled:
                raise Cancelled()
            yield from orders[start:start + PAGE_SIZE_ORDERS]
