"""Order files (CSV): one row per order line, grouped into orders by their order number."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from connex_desktop.core.errors import Cancelled, OrderDataError, SetupError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import (
    TOO_LARGE_FOR_QUICKBOOKS,
    ZERO,
    MoneyError,
    fits_quickbooks,
    money,
    percent,
)
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import within_quickbooks_rules
from connex_desktop.sources.base import FailedOrder, FieldKind, OrderQuery, SettingField, Source
from connex_desktop.sources.csv_rows import Record, order_file_records

ORDER_NUMBER = "Order Number"
ORDER_DATE = "Order Date"
STATUS = "Status"
PAYMENT_STATUS = "Payment Status"
AMOUNT_PAID = "Amount Paid"
PAYMENT_METHOD = "Payment Method"
PAYMENT_REFERENCE = "Payment Reference"
CURRENCY = "Currency"
CUSTOMER_NAME = "Customer Name"
CUSTOMER_EMAIL = "Customer Email"
COMPANY = "Company"
BILLING_STREET = "Billing Street"
BILLING_CITY = "Billing City"
BILLING_STATE = "Billing State"
BILLING_POSTAL_CODE = "Billing Postal Code"
BILLING_COUNTRY = "Billing Country"
SHIPPING_STREET = "Shipping Street"
SHIPPING_CITY = "Shipping City"
SHIPPING_STATE = "Shipping State"
SHIPPING_POSTAL_CODE = "Shipping Postal Code"
SHIPPING_COUNTRY = "Shipping Country"
SKU = "SKU"
PRODUCT_NAME = "Product Name"
QUANTITY = "Quantity"
UNIT_PRICE = "Unit Price"
LINE_DISCOUNT = "Line Discount"
SHIPPING_AMOUNT = "Shipping Amount"
ORDER_DISCOUNT = "Order Discount"
TAX_AMOUNT = "Tax Amount"
NOTES = "Notes"
EXCHANGE_RATE = "Exchange Rate"   # optional: home-currency units per unit of the currency
# Optional: a line's VAT/GST rate or QuickBooks tax code, and tax-inclusive prices.
TAX_RATE = "Tax Rate"
TAX_CODE = "Tax Code"
PRICES_INCLUDE_TAX = "Prices Include Tax"
# Optional, for the connection's rules: the order's tags (separated by commas) and its sales
# channel.
TAGS = "Tags"
CHANNEL = "Channel"

# The order file's columns, in their order, one row per order line; headers are matched
# ignoring case, spaces and punctuation.
COLUMNS: tuple[str, ...] = (
    ORDER_NUMBER, ORDER_DATE, STATUS, PAYMENT_STATUS, AMOUNT_PAID, PAYMENT_METHOD,
    PAYMENT_REFERENCE, CURRENCY, CUSTOMER_NAME, CUSTOMER_EMAIL, COMPANY, BILLING_STREET,
    BILLING_CITY, BILLING_STATE, BILLING_POSTAL_CODE, BILLING_COUNTRY, SHIPPING_STREET,
    SHIPPING_CITY, SHIPPING_STATE, SHIPPING_POSTAL_CODE, SHIPPING_COUNTRY, SKU, PRODUCT_NAME,
    QUANTITY, UNIT_PRICE, LINE_DISCOUNT, SHIPPING_AMOUNT, ORDER_DISCOUNT, TAX_AMOUNT, NOTES,
    EXCHANGE_RATE, TAX_RATE, TAX_CODE, PRICES_INCLUDE_TAX, TAGS, CHANNEL,
)
REQUIRED_COLUMNS: tuple[str, ...] = (ORDER_NUMBER, ORDER_DATE, QUANTITY, UNIT_PRICE)
LINE_COLUMNS: frozenset[str] = frozenset({SKU, PRODUCT_NAME, QUANTITY, UNIT_PRICE, LINE_DISCOUNT,
                                          TAX_RATE, TAX_CODE})
# Given once per order (on any of its rows) or repeated identically on several.
ORDER_COLUMNS: tuple[str, ...] = tuple(
    name for name in COLUMNS if name not in LINE_COLUMNS and name != ORDER_NUMBER
)

DEFAULT_CURRENCY = "USD"
PAGE_SIZE_ORDERS = 100

_PAYMENT_STATUS_WORDS: dict[str, PaymentStatus] = {
    "paid": PaymentStatus.PAID,
    "unpaid": PaymentStatus.UNPAID,
    "notpaid": PaymentStatus.UNPAID,
    "partiallypaid": PaymentStatus.PARTIALLY_PAID,
    "partpaid": PaymentStatus.PARTIALLY_PAID,
    "partial": PaymentStatus.PARTIALLY_PAID,
    "refunded": PaymentStatus.REFUNDED,
    "voided": PaymentStatus.VOIDED,
    "void": PaymentStatus.VOIDED,
    "cancelled": PaymentStatus.CANCELLED,
    "canceled": PaymentStatus.CANCELLED,
}
# Thousands separators are allowed only in groups of three, so a decimal comma ("12,50") from a
# semicolon-separated European file is refused instead of being read as 1250.
_NUMBER_PATTERN = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d*)(\.\d+)?")
_CURRENCY_SYMBOLS = "$€£"
_YES_NO = {"yes": True, "y": True, "true": True, "1": True,
           "no": False, "n": False, "false": False, "0": False}


def _header_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


_COLUMN_BY_KEY = {_header_key(name): name for name in COLUMNS}


class _RowError(Exception):
    """A value on one line of the file that cannot be used; fails that line's order."""

    def __init__(self, line: int, column: str, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.column = column
        self.problem = problem

    def message(self) -> str:
        where = f"Line {self.line}, {self.column}" if self.column else f"Line {self.line}"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, str]
    raw: dict[str, str]
    problem: _RowError | None = None   # what makes the row unusable; it fails its order

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class _Group:
    number: str
    rows: list[_Row] = field(default_factory=list)
    # For an order whose rows are apart: the rows that come after rows of other orders (each
    # must repeat the order's fields), and the position of the last row read.
    rejoining: list[_Row] = field(default_factory=list)
    last_position: int = -1


@dataclass(frozen=True)
class _Entry:
    """One order of the file, read or failed, with what the filters need to know of it."""

    result: Order | FailedOrder
    order_date: date | None
    status: str | None


def _decimal(text: str) -> Decimal:
    cleaned = text.strip().lstrip(_CURRENCY_SYMBOLS).strip()
    if not cleaned or not _NUMBER_PATTERN.fullmatch(cleaned) or not any(
            c.isdigit() for c in cleaned):
        raise ValueError(f"{text!r} is not a number")
    value = Decimal(cleaned.replace(",", ""))
    if not fits_quickbooks(value):
        raise ValueError(f"{text!r} is {TOO_LARGE_FOR_QUICKBOOKS}")
    return value


def _amount(text: str) -> Decimal:
    value = money(_decimal(text))
    if value < ZERO:
        raise ValueError(f"{text!r} is negative")
    return value


def _percent(text: str) -> Decimal:
    try:
        return percent(text)
    except MoneyError:
        raise ValueError(f"{text!r} is not a tax rate in percent, such as 20 or 8.25%") from None


def _yes_no(text: str) -> bool:
    answer = _YES_NO.get(text.strip().casefold())
    if answer is None:
        raise ValueError(f"{text!r} is not yes or no")
    return answer


def _order_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)"
        ) from None


def _payment_status(text: str) -> PaymentStatus:
    status = _PAYMENT_STATUS_WORDS.get(_header_key(text))
    if status is None:
        raise ValueError(
            f"{text!r} is not a payment status; use paid, unpaid, partially_paid, refunded or "
            "voided"
        )
    return status


def _currency(text: str) -> str:
    code = text.upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{text!r} is not a three-letter currency code such as USD")
    return code


def _exchange_rate(text: str) -> Decimal:
    value = _decimal(text)
    if value <= ZERO:
        raise ValueError(f"{text!r} is not an exchange rate above 0")
    return value


_ORDER_PARSERS: dict[str, Callable[[str], object]] = {
    ORDER_DATE: _order_date,
    PAYMENT_STATUS: _payment_status,
    AMOUNT_PAID: _amount,
    CURRENCY: _currency,
    SHIPPING_AMOUNT: _amount,
    ORDER_DISCOUNT: _amount,
    TAX_AMOUNT: _amount,
    EXCHANGE_RATE: _exchange_rate,
    PRICES_INCLUDE_TAX: _yes_no,
}


def _parse(row: _Row, column: str, parser: Callable[[str], object]) -> object:
    try:
        return parser(row.get(column))
    except ValueError as exc:
        raise _RowError(row.line, column, f"{exc}.") from None


def _order_values(rows: list[_Row]) -> dict[str, tuple[object, int]]:
    """Each order-level value with the line it came from; a conflicting repeat is an error."""
    values: dict[str, tuple[object, int]] = {}
    texts: dict[str, str] = {}
    for row in rows:
        for column in ORDER_COLUMNS:
            text = row.get(column)
            if not text or texts.get(column) == text:   # given once, or repeated as it was
                continue
            texts.setdefault(column, text)
            value = _parse(row, column, _ORDER_PARSERS.get(column, str))
            if column not in values:
                values[column] = (value, row.line)
            elif values[column][0] != value:
                first, first_line = values[column]
                raise _RowError(
                    row.line, column,
                    f"{row.get(column)!r} differs from {str(first)!r} on line {first_line}; an "
                    "order-level value must be given once or repeated identically.",
                )
    return values


def _line(row: _Row) -> OrderLine:
    sku, name = row.get(SKU), row.get(PRODUCT_NAME)
    if not sku and not name:
        raise _RowError(row.line, SKU, "the line needs a SKU or a Product Name.")
    for column in (QUANTITY, UNIT_PRICE):
        if not row.get(column):
            raise _RowError(row.line, column, f"{column} is empty.")
    qty = _parse(row, QUANTITY, _decimal)
    unit_price = _parse(row, UNIT_PRICE, _decimal)
    assert isinstance(qty, Decimal) and isinstance(unit_price, Decimal)
    if qty < 0:
        raise _RowError(row.line, QUANTITY, f"{row.get(QUANTITY)!r} is negative.")
    if unit_price < 0:
        raise _RowError(row.line, UNIT_PRICE,
                        f"{row.get(UNIT_PRICE)!r} is negative; give discounts as Line Discount "
                        "or Order Discount.")
    if not fits_quickbooks(qty * unit_price):
        raise _RowError(row.line, QUANTITY,
                        f"{qty} × {unit_price} is {TOO_LARGE_FOR_QUICKBOOKS}.")
    discount = _parse(row, LINE_DISCOUNT, _amount) if row.get(LINE_DISCOUNT) else ZERO
    assert isinstance(discount, Decimal)
    rate = _parse(row, TAX_RATE, _percent) if row.get(TAX_RATE) else None
    assert rate is None or isinstance(rate, Decimal)
    line = OrderLine(sku=sku, name=name or sku, quantity=qty, unit_price=unit_price,
                     discount=discount, tax_rate=rate, tax_code=row.get(TAX_CODE))
    if discount > line.gross:
        raise _RowError(row.line, LINE_DISCOUNT,
                        f"{discount} is more than the line's {qty} × {unit_price} = {line.gross}.")
    return line


def _address(values: dict[str, tuple[object, int]], street: str, city: str, state: str,
             postal_code: str, country: str) -> Address:
    def text(column: str) -> str:
        return str(values[column][0]) if column in values else ""

    # A quoted street may span two lines in the file: keep them as the address's two lines.
    line1, _, line2 = text(street).partition("\n")
    return Address(line1=line1.strip(), line2=line2.strip(), city=text(city),
                   region=text(state), postal_code=text(postal_code), country=text(country))


def _payments(values: dict[str, tuple[object, int]], rows: list[_Row], status: PaymentStatus,
              total: Decimal, paid_on: date) -> tuple[Payment, ...]:
    """What the buyer paid, checked against the payment status and the total."""
    given = values.get(AMOUNT_PAID)
    where = given[1] if given else rows[0].line
    column = AMOUNT_PAID if given else PAYMENT_STATUS
    amount_paid = given[0] if given else None
    assert amount_paid is None or isinstance(amount_paid, Decimal)
    if amount_paid is not None and amount_paid > total:
        raise _RowError(where, AMOUNT_PAID,
                        f"{amount_paid} is more than the order total {total}.")
    if status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        # A refunded order was paid first; the refund is told by the status, not a payment.
        if amount_paid is None:
            amount_paid = total
        elif status is PaymentStatus.PAID and amount_paid != total:
            raise _RowError(where, AMOUNT_PAID,
                            f"the order is paid but {amount_paid} is not its total {total}; "
                            "use partially_paid.")
    elif status is PaymentStatus.PARTIALLY_PAID:
        if amount_paid is None or not ZERO < amount_paid < total:
            raise _RowError(where, column,
                            f"a partially paid order needs an Amount Paid above 0 and below its "
                            f"total {total}.")
    elif amount_paid:
        raise _RowError(where, AMOUNT_PAID,
                        f"the order is {status.value} but Amount Paid is {amount_paid}.")
    if not amount_paid:
        return ()
    method = values.get(PAYMENT_METHOD, ("", 0))[0]
    reference = values.get(PAYMENT_REFERENCE, ("", 0))[0]
    return (Payment(amount=amount_paid, method=str(method), reference=str(reference),
                    paid_on=paid_on),)


def _order_amount(values: dict[str, tuple[object, int]], column: str) -> Decimal:
    value = values.get(column, (ZERO, 0))[0]
    assert isinstance(value, Decimal)
    return value


def _order_total(values: dict[str, tuple[object, int]], lines: tuple[OrderLine, ...],
                 inclusive: bool) -> Decimal:
    """Lines less the order discount, plus shipping and (unless prices hold it) tax."""
    shipping, discount, tax = (_order_amount(values, column)
                               for column in (SHIPPING_AMOUNT, ORDER_DISCOUNT, TAX_AMOUNT))
    subtotal = sum((line.amount for line in lines), ZERO)
    added_tax = ZERO if inclusive else tax   # tax-inclusive prices hold the tax already
    total = subtotal - discount + shipping + added_tax
    if total < ZERO:
        raise _RowError(values[ORDER_DISCOUNT][1], ORDER_DISCOUNT,
                        f"{discount} is more than the order's lines, shipping and tax "
                        f"({subtotal + shipping + added_tax}).")
    return total


def _build_order(group: _Group, file_name: str, modified_at: datetime) -> Order:
    values = _order_values(group.rows)
    if ORDER_DATE not in values:
        raise _RowError(group.rows[0].line, ORDER_DATE, "the order has no date.")
    order_date = values[ORDER_DATE][0]
    assert isinstance(order_date, date)
    lines = tuple(_line(row) for row in group.rows)
    shipping, discount, tax = (_order_amount(values, column)
                               for column in (SHIPPING_AMOUNT, ORDER_DISCOUNT, TAX_AMOUNT))
    inclusive = bool(values.get(PRICES_INCLUDE_TAX, (False, 0))[0])
    total = _order_total(values, lines, inclusive)
    payment_status = values.get(PAYMENT_STATUS, (PaymentStatus.UNPAID, 0))[0]
    assert isinstance(payment_status, PaymentStatus)

    def text(column: str) -> str:
        return str(values[column][0]) if column in values else ""

    payments = _payments(values, group.rows, payment_status, total, order_date)
    rate = values.get(EXCHANGE_RATE, (None, 0))[0]
    assert rate is None or isinstance(rate, Decimal)
    # The file tells that the order was refunded, not when: the refund's date stays unknown.
    refunds = tuple(Refund(payment.amount) for payment in payments
                    if payment_status is PaymentStatus.REFUNDED)
    order = Order(
        source=CsvSource.kind,
        source_id=group.number,
        number=group.number,
        order_date=order_date,
        status=text(STATUS),
        payment_status=payment_status,
        currency=text(CURRENCY) or DEFAULT_CURRENCY,
        buyer=Buyer(name=text(CUSTOMER_NAME), email=text(CUSTOMER_EMAIL), company=text(COMPANY)),
        lines=lines,
        total=total,
        billing_address=_address(values, BILLING_STREET, BILLING_CITY, BILLING_STATE,
                                 BILLING_POSTAL_CODE, BILLING_COUNTRY),
        shipping_address=_address(values, SHIPPING_STREET, SHIPPING_CITY, SHIPPING_STATE,
                                  SHIPPING_POSTAL_CODE, SHIPPING_COUNTRY),
        shipping=shipping,
        discount=discount,
        tax=tax,
        prices_include_tax=inclusive,
        payments=payments,
        refunds=refunds,
        notes=text(NOTES),
        updated_at=modified_at,
        exchange_rate=rate,
        tags=tuple(tag.strip() for tag in text(TAGS).split(",") if tag.strip()),
        channel=text(CHANNEL),
        raw={"file": file_name, "lines": [row.line for row in group.rows],
             "rows": [row.raw for row in group.rows]},
    )
    try:
        return within_quickbooks_rules(order)
    except OrderDataError as error:
        raise _RowError(group.rows[0].line, "", f"{error.message}") from None


def _columns(path: Path, header: list[str]) -> dict[int, str]:
    """Map cell positions to the layout's columns; refuse a file that lacks a required one."""
    positions: dict[int, str] = {}
    seen: dict[str, int] = {}
    for position, title in enumerate(header):
        column = _COLUMN_BY_KEY.get(_header_key(title))
        if column is None:
            continue
        if column in seen:
            raise SetupError(f"{path.name} has two {column} columns (columns {seen[column] + 1} "
                             f"and {position + 1}).", field="path")
        seen[column] = position
        positions[position] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if SKU not in seen and PRODUCT_NAME not in seen:
        missing.append(f"{SKU} or {PRODUCT_NAME}")
    if missing:
        found = ", ".join(title for title in header if title.strip()) or "none"
        raise SetupError(f"{path.name} has no {', '.join(missing)} column; the first line must "
                         f"name the columns (found: {found}).", field="path")
    return positions


def _row(record: Record, header: list[str], positions: dict[int, str]) -> _Row:
    def title(position: int) -> str:
        return header[position] if position < len(header) else f"column {position + 1}"

    cells = record.cells
    raw = {title(i): cell for i, cell in enumerate(cells)}
    values = {positions[i]: cell.strip() for i, cell in enumerate(cells) if i in positions}
    problem = None
    if record.problem:
        at = record.problem_cell if record.problem_cell is not None else -1
        problem = _RowError(record.line, positions.get(at, title(at)) if at >= 0 else "",
                            record.problem)
    elif any(cell.strip() for cell in cells[len(header):]):
        # Most likely an unquoted separator inside a value: every column after it is shifted.
        problem = _RowError(record.line, "", "the row has more cells than the header has "
                            "columns; quote values that contain the separator.")
    return _Row(record.line, values, raw, problem)


def _split_orders(path: Path) -> dict[str, int]:
    """The orders whose rows are not all next to each other, each with its last row's position.

    A first, cheap pass over the file: only the rows of these orders are held in memory while
    the file is read again, so memory stays flat whatever the file's size.
    """
    last: dict[str, int] = {}
    split: set[str] = set()
    with order_file_records(path) as (header, records):
        number_at = next(i for i, c in _columns(path, header).items() if c == ORDER_NUMBER)
        for position, record in enumerate(records):
            number = record.cells[number_at].strip() if number_at < len(record.cells) else ""
            if not number:
                continue
            if last.get(number, position - 1) != position - 1:
                split.add(number)
            last[number] = position
    return {number: last[number] for number in split}


def read_order_entries(path: Path, modified_at: datetime) -> Iterator[_Entry]:
    """Each order of `path` (read or failed) and each row that belongs to none, in file order.

    Streamed: an order is yielded once its last row is read. Raises SetupError if the file
    itself is unusable.
    """
    split_last = _split_orders(path)
    split: dict[str, _Group] = {}
    group: _Group | None = None
    with order_file_records(path) as (header, records):
        positions = _columns(path, header)
        for position, record in enumerate(records):
            row = _row(record, header, positions)
            number = row.get(ORDER_NUMBER)
            if group is not None and number != group.number:
                yield _read_group(group, path.name, modified_at)
                group = None
            if not number:
                yield _orphan(row)
            elif number in split_last:
                yield from _rejoin(split, number, row, position, split_last[number],
                                   path.name, modified_at)
            else:
                group = group or _Group(number)
                group.rows.append(row)
    if group is not None:
        yield _read_group(group, path.name, modified_at)
    # Only if the file changed between the two passes.
    for unfinished in split.values():
        yield _read_group(unfinished, path.name, modified_at)


def _rejoin(split: dict[str, _Group], number: str, row: _Row, position: int, last: int,
            file_name: str, modified_at: datetime) -> Iterator[_Entry]:
    """Hold a row of an order whose rows are apart; yield the order with its last row."""
    group = split.setdefault(number, _Group(number))
    if group.rows and group.last_position != position - 1:
        group.rejoining.append(row)
    group.rows.append(row)
    group.last_position = position
    if position == last:
        yield _read_group(split.pop(number), file_name, modified_at)


def _orphan(row: _Row) -> _Entry:
    error = row.problem or _RowError(row.line, ORDER_NUMBER,
                                     "Order Number is empty; the row belongs to no order.")
    return _Entry(FailedOrder("", error.message(), error.column, row.line), None, None)


def _read_group(group: _Group, file_name: str, modified_at: datetime) -> _Entry:
    try:
        problem = next((row.problem for row in group.rows if row.problem), None)
        if problem is not None:
            raise problem
        _check_rejoining(group)
        order = _build_order(group, file_name, modified_at)
        return _Entry(order, order.order_date, order.status)
    except _RowError as exc:
        failure = FailedOrder(group.number, exc.message(), exc.column, exc.line)
        return _Entry(failure, _first_readable_date(group.rows),
                      next((row.get(STATUS) for row in group.rows if row.get(STATUS)), ""))


def _check_rejoining(group: _Group) -> None:
    """Rows of one order apart from each other are one order only if they say so identically.

    Otherwise two orders that share a number (a reused number, two exports pasted together)
    would be booked as one.
    """
    first = group.rows[0]
    for row in group.rejoining:
        column = next((c for c in ORDER_COLUMNS if row.get(c) != first.get(c)), None)
        if column is not None:
            raise _RowError(
                row.line, column,
                f"order {group.number} also has line {first.line}, with rows of other orders "
                f"between, and its {column} differs ({row.get(column)!r} here, "
                f"{first.get(column)!r} on line {first.line}). Put the rows of one order one "
                "after the other, or give the two orders different numbers.")


def _first_readable_date(rows: list[_Row]) -> date | None:
    for row in rows:
        try:
            return _order_date(row.get(ORDER_DATE))
        except ValueError:
            continue
    return None


def _modified_at(path: Path) -> datetime:
    """When the order file last changed; a SetupError if it cannot be read at all."""
    try:
        with path.open("rb"):
            pass
        return datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except FileNotFoundError:
        raise SetupError(f"The order file {path} does not exist.", field="path") from None
    except IsADirectoryError:
        raise SetupError(f"{path} is a folder, not an order file.", field="path") from None
    except OSError as exc:
        raise SetupError(f"The order file {path} cannot be read: {exc.strerror}.",
                         field="path") from None


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _wanted(entry: _Entry, query: OrderQuery) -> bool:
    """Whether the order matches the query; a failed order whose date is unknown is kept."""
    if query.numbers:
        if entry.result.number not in query.numbers:
            return False
    elif entry.order_date is not None and not query.includes_day(entry.order_date):
        return False
    wanted_statuses = {s.casefold() for s in query.statuses}
    return (not wanted_statuses or entry.status is None
            or entry.status.casefold() in wanted_statuses)


class CsvSource(Source):
    """Orders from a CSV file with the COLUMNS above, one row per order line.

    The file is the unit of change: with `modified_since`, a file not modified since then yields
    nothing, and a file modified since yields every order in it (each with `updated_at` = the
    file's modification time); the engine's ledger keeps already booked orders from being booked
    twice and applies payments that have since arrived.
    """

    kind: ClassVar[str] = "csv"
    label: ClassVar[str] = "Order file (CSV)"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("path", "Order file", FieldKind.PATH, required=True,
                     help="A CSV file with one row per order line, grouped by Order Number."),
    )
    statuses: ClassVar[tuple[str, ...]] = (
        "pending", "processing", "on-hold", "completed", "shipped", "cancelled", "refunded",
    )

    @property
    def path(self) -> Path:
        text = self.settings.get("path", "").strip()
        if not text:
            raise SetupError("No order file is chosen; set the path of the CSV file.",
                             field="path")
        return Path(text).expanduser()

    @property
    def store_key(self) -> str:
        # One file, however its path was typed: the resolved path names the store.
        return f"{self.kind}|{self.path.resolve()}"

    def check(self) -> str:
        path = self.path
        count, failures = 0, []
        for entry in read_order_entries(path, _modified_at(path)):
            if isinstance(entry.result, Order):
                count += 1
            else:
                failures.append(entry.result)
        message = f"Read {count} order{'' if count == 1 else 's'} from {path.name}."
        if failures:
            first = failures[0]
            order = f"order {first.number}: " if first.number else ""
            message += (f" {len(failures)} cannot be read (first: {order}"
                        f"{first.message})")
        return message

    def fetch_orders_and_retries(
        self, query: OrderQuery, retry_numbers: Sequence[str], cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        # One read of the file serves both: a large file is read once a run.
        return self.fetch_orders(replace(query, retry_numbers=tuple(retry_numbers)), cancel)

    def fetch_orders(
        self, query: OrderQuery, cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        retries = frozenset(query.retry_numbers)
        path = self.path
        modified_at = _modified_at(path)
        changed = (query.modified_since is None or bool(query.numbers)
                   or modified_at >= _as_utc(query.modified_since))
        if not changed and not retries:
            return
        yielded = 0
        for entry in read_order_entries(path, modified_at):
            if (changed and _wanted(entry, query)) or entry.result.number in retries:
                if yielded % PAGE_SIZE_ORDERS == 0 and cancel.cancelled:
                    raise Cancelled()
                yielded += 1
                yield entry.result
