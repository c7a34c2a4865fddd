"""Order files (CSV): one row per order line, grouped into orders by their order number."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from connex_desktop.core.errors import Cancelled, SetupError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import FailedOrder, FieldKind, OrderQuery, SettingField, Source

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

# The layout of issue 3, in its order; headers are matched ignoring case, spaces and punctuation.
COLUMNS: tuple[str, ...] = (
    ORDER_NUMBER, ORDER_DATE, STATUS, PAYMENT_STATUS, AMOUNT_PAID, PAYMENT_METHOD,
    PAYMENT_REFERENCE, CURRENCY, CUSTOMER_NAME, CUSTOMER_EMAIL, COMPANY, BILLING_STREET,
    BILLING_CITY, BILLING_STATE, BILLING_POSTAL_CODE, BILLING_COUNTRY, SHIPPING_STREET,
    SHIPPING_CITY, SHIPPING_STATE, SHIPPING_POSTAL_CODE, SHIPPING_COUNTRY, SKU, PRODUCT_NAME,
    QUANTITY, UNIT_PRICE, LINE_DISCOUNT, SHIPPING_AMOUNT, ORDER_DISCOUNT, TAX_AMOUNT, NOTES,
)
REQUIRED_COLUMNS: tuple[str, ...] = (ORDER_NUMBER, ORDER_DATE, QUANTITY, UNIT_PRICE)
LINE_COLUMNS: frozenset[str] = frozenset({SKU, PRODUCT_NAME, QUANTITY, UNIT_PRICE, LINE_DISCOUNT})
# Given once per order (on any of its rows) or repeated identically on several.
ORDER_COLUMNS: tuple[str, ...] = tuple(
    name for name in COLUMNS if name not in LINE_COLUMNS and name != ORDER_NUMBER
)

DEFAULT_CURRENCY = "USD"
PAGE_SIZE_ORDERS = 100
DELIMITERS = (",", ";", "\t")

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
    # More non-empty cells than the header has columns: most likely an unquoted separator
    # inside a value, so every column after it is shifted.
    shifted: bool = False

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class _Group:
    number: str
    rows: list[_Row] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    """One order of the file, read or failed, with what the filters need to know of it."""

    result: Order | FailedOrder
    order_date: date | None
    status: str | None


@dataclass(frozen=True)
class CsvFile:
    """A parsed order file: its orders and failures in file order, and when it last changed."""

    path: Path
    modified_at: datetime
    entries: tuple[_Entry, ...]

    @property
    def results(self) -> tuple[Order | FailedOrder, ...]:
        return tuple(entry.result for entry in self.entries)

    @property
    def orders(self) -> tuple[Order, ...]:
        return tuple(r for r in self.results if isinstance(r, Order))

    @property
    def failures(self) -> tuple[FailedOrder, ...]:
        return tuple(r for r in self.results if isinstance(r, FailedOrder))


def _decimal(text: str) -> Decimal:
    cleaned = text.strip().lstrip(_CURRENCY_SYMBOLS).strip()
    if not cleaned or not _NUMBER_PATTERN.fullmatch(cleaned) or not any(
            c.isdigit() for c in cleaned):
        raise ValueError(f"{text!r} is not a number")
    return Decimal(cleaned.replace(",", ""))


def _amount(text: str) -> Decimal:
    value = money(_decimal(text))
    if value < ZERO:
        raise ValueError(f"{text!r} is negative")
    return value


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


_ORDER_PARSERS: dict[str, Callable[[str], object]] = {
    ORDER_DATE: _order_date,
    PAYMENT_STATUS: _payment_status,
    AMOUNT_PAID: _amount,
    CURRENCY: _currency,
    SHIPPING_AMOUNT: _amount,
    ORDER_DISCOUNT: _amount,
    TAX_AMOUNT: _amount,
}


def _parse(row: _Row, column: str, parser: Callable[[str], object]) -> object:
    try:
        return parser(row.get(column))
    except ValueError as exc:
        raise _RowError(row.line, column, f"{exc}.") from None


def _order_values(rows: list[_Row]) -> dict[str, tuple[object, int]]:
    """Each order-level value with the line it came from; a conflicting repeat is an error."""
    values: dict[str, tuple[object, int]] = {}
    for row in rows:
        for column in ORDER_COLUMNS:
            if not row.get(column):
                continue
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
    discount = _parse(row, LINE_DISCOUNT, _amount) if row.get(LINE_DISCOUNT) else ZERO
    assert isinstance(discount, Decimal)
    line = OrderLine(sku=sku, name=name or sku, quantity=qty, unit_price=unit_price,
                     discount=discount)
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


def _build_order(group: _Group, file_name: str, modified_at: datetime) -> Order:
    values = _order_values(group.rows)
    if ORDER_DATE not in values:
        raise _RowError(group.rows[0].line, ORDER_DATE, "the order has no date.")
    order_date = values[ORDER_DATE][0]
    assert isinstance(order_date, date)
    lines = tuple(_line(row) for row in group.rows)

    def amount(column: str) -> Decimal:
        value = values.get(column, (ZERO, 0))[0]
        assert isinstance(value, Decimal)
        return value

    shipping, discount, tax = amount(SHIPPING_AMOUNT), amount(ORDER_DISCOUNT), amount(TAX_AMOUNT)
    subtotal = sum((line.amount for line in lines), ZERO)
    total = subtotal - discount + shipping + tax
    if total < ZERO:
        raise _RowError(values[ORDER_DISCOUNT][1], ORDER_DISCOUNT,
                        f"{discount} is more than the order's lines, shipping and tax "
                        f"({subtotal + shipping + tax}).")
    payment_status = values.get(PAYMENT_STATUS, (PaymentStatus.UNPAID, 0))[0]
    assert isinstance(payment_status, PaymentStatus)

    def text(column: str) -> str:
        return str(values[column][0]) if column in values else ""

    payments = _payments(values, group.rows, payment_status, total, order_date)
    # The file tells that the order was refunded, not when: the refund's date stays unknown.
    refunds = tuple(Refund(payment.amount) for payment in payments
                    if payment_status is PaymentStatus.REFUNDED)
    return Order(
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
        payments=payments,
        refunds=refunds,
        notes=text(NOTES),
        updated_at=modified_at,
        raw={"file": file_name, "lines": [row.line for row in group.rows],
             "rows": [row.raw for row in group.rows]},
    )


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel on Windows writes for "CSV (Comma delimited)".
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise SetupError(f"{path.name} is not UTF-8 text; save it as \"CSV UTF-8\".",
                         field="path") from None


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


def _group_rows(path: Path, text: str) -> tuple[list[_Group], list[FailedOrder]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise SetupError(f"{path.name} is empty.", field="path")
        positions = _columns(path, header)
        groups: dict[str, _Group] = {}
        orphans: list[FailedOrder] = []
        line = reader.line_num
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            raw = {(header[i] if i < len(header) else f"column {i + 1}"): cell
                   for i, cell in enumerate(cells)}
            values = {positions[i]: cell.strip() for i, cell in enumerate(cells) if i in positions}
            shifted = any(cell.strip() for cell in cells[len(header):])
            row = _Row(start, values, raw, shifted)
            number = row.get(ORDER_NUMBER)
            if not number:
                error = _RowError(start, ORDER_NUMBER, "Order Number is empty; the row belongs "
                                  "to no order.")
                orphans.append(FailedOrder("", error.message(), ORDER_NUMBER, start))
                continue
            groups.setdefault(number, _Group(number)).rows.append(row)
    except csv.Error as exc:
        raise SetupError(f"{path.name} line {reader.line_num} cannot be read as CSV: {exc}.",
                         field="path") from None
    return list(groups.values()), orphans


def read_order_file(path: Path) -> CsvFile:
    """Read and check every order in `path`; raise SetupError if the file itself is unusable."""
    try:
        data = path.read_bytes()
        modified_at = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except FileNotFoundError:
        raise SetupError(f"The order file {path} does not exist.", field="path") from None
    except IsADirectoryError:
        raise SetupError(f"{path} is a folder, not an order file.", field="path") from None
    except OSError as exc:
        raise SetupError(f"The order file {path} cannot be read: {exc.strerror}.",
                         field="path") from None
    groups, orphans = _group_rows(path, _decode(path, data))
    entries = [(orphan.line or 0, _Entry(orphan, None, None)) for orphan in orphans]
    for group in groups:
        entries.append((group.rows[0].line, _read_group(group, path.name, modified_at)))
    entries.sort(key=lambda pair: pair[0])
    return CsvFile(path=path, modified_at=modified_at,
                   entries=tuple(entry for _, entry in entries))


def _read_group(group: _Group, file_name: str, modified_at: datetime) -> _Entry:
    try:
        shifted = next((row for row in group.rows if row.shifted), None)
        if shifted is not None:
            raise _RowError(shifted.line, "", "the row has more cells than the header has "
                            "columns; quote values that contain the separator.")
        order = _build_order(group, file_name, modified_at)
        return _Entry(order, order.order_date, order.status)
    except _RowError as exc:
        failure = FailedOrder(group.number, exc.message(), exc.column, exc.line)
        return _Entry(failure, _first_readable_date(group.rows),
                      next((row.get(STATUS) for row in group.rows if row.get(STATUS)), ""))


def _first_readable_date(rows: list[_Row]) -> date | None:
    for row in rows:
        try:
            return _order_date(row.get(ORDER_DATE))
        except ValueError:
            continue
    return None


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
    """Orders from a CSV file in the layout of issue 3.

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
        parsed = read_order_file(self.path)
        count = len(parsed.orders)
        message = f"Read {count} order{'' if count == 1 else 's'} from {parsed.path.name}."
        if parsed.failures:
            first = parsed.failures[0]
            order = f"order {first.number}: " if first.number else ""
            message += (f" {len(parsed.failures)} cannot be read (first: {order}"
                        f"{first.message})")
        return message

    def fetch_orders(
        self, query: OrderQuery, cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        parsed = read_order_file(self.path)
        if (query.modified_since is not None and not query.numbers
                and parsed.modified_at < _as_utc(query.modified_since)):
            return
        wanted = [entry.result for entry in parsed.entries if _wanted(entry, query)]
        for start in range(0, len(wanted), PAGE_SIZE_ORDERS):
            if cancel.cancelled:
                raise Cancelled()
            yield from wanted[start:start + PAGE_SIZE_ORDERS]
