"""Tests of the CSV order-file source: layout, money to the cent, bad rows, filters."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connex_desktop.core.errors import Cancelled, SetupError
from connex_desktop.core.model import Address, Buyer, Order, Payment, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import FailedOrder, FieldKind, OrderQuery
from connex_desktop.sources.csv_file import COLUMNS, CsvSource

DATA = Path(__file__).parent / "data"
HEADER = "Order Number,Order Date,Payment Status,Amount Paid,SKU,Quantity,Unit Price"


def fetch(path: Path, query: OrderQuery | None = None) -> list[Order | FailedOrder]:
    source = CsvSource({"path": str(path)}, {})
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def by_number(results: list[Order | FailedOrder]) -> dict[str, Order | FailedOrder]:
    return {result.number: result for result in results}


def write(tmp_path: Path, text: str, name: str = "orders.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def test_declares_its_settings() -> None:
    assert CsvSource.kind == "csv"
    assert CsvSource.label == "Order file (CSV)"
    (path_field,) = CsvSource.settings_fields
    assert (path_field.name, path_field.kind, path_field.required) == ("path", FieldKind.PATH, True)
    assert "completed" in CsvSource.statuses


def test_good_file_is_read_field_by_field() -> None:
    results = fetch(DATA / "orders.csv")
    assert [r.number for r in results] == ["1001", "1002", "1003"]
    assert all(isinstance(r, Order) for r in results)
    first, second, third = (r for r in results if isinstance(r, Order))

    assert first.source == "csv" and first.source_id == "1001"
    assert first.order_date == date(2026, 11, 2)
    assert first.status == "completed"
    assert first.payment_status is PaymentStatus.PAID
    assert first.currency == "USD"
    assert first.buyer == Buyer(name="José Álvarez", email="jose@example.com")
    assert first.billing_address == Address(line1="12 Calle Mayor", city="San José",
                                            region="CA", postal_code="95112", country="USA")
    assert first.shipping_address == first.billing_address
    assert [(line.sku, line.name, line.quantity, line.unit_price, line.discount)
            for line in first.lines] == [
        ("TNT-2P-GRN", "Backpacking Tent 2P - Green", Decimal("1"), Decimal("249.00"),
         Decimal("0.00")),
        ("FUEL-230G", "Isobutane Fuel 230 g", Decimal("3"), Decimal("7.49"), Decimal("2.25")),
    ]
    assert (first.shipping, first.discount, first.tax) == (
        Decimal("0.00"), Decimal("0.00"), Decimal("20.54"))
    assert first.total == Decimal("289.76") == first.computed_total
    assert first.payments == (Payment(Decimal("289.76"), "Visa", "ch_3QxY7a2eZvKYlo2C",
                                      date(2026, 11, 2)),)
    assert first.notes == "Leave at the door"
    assert first.raw["lines"] == [2, 3]

    assert second.order_date == date(2026, 11, 3)  # from a date-time
    assert second.payment_status is PaymentStatus.PARTIALLY_PAID
    assert second.currency == "USD"
    assert second.buyer == Buyer(name="Zoë Brontë", email="zoe@example.org",
                                 company="Brontë & Daughters Ltd")
    assert second.billing_address == Address(line1="1 Haworth Road", line2="Flat 2",
                                             city="Keighley", region="West Yorkshire",
                                             postal_code="BD22 8DR", country="United Kingdom")
    assert second.shipping_address.is_empty()
    assert [line.amount for line in second.lines] == [Decimal("88.00"), Decimal("33.00")]
    assert (second.shipping, second.discount, second.tax) == (
        Decimal("8.99"), Decimal("10.00"), Decimal("0.00"))
    assert second.total == Decimal("119.99")
    assert second.payments == (Payment(Decimal("50.00"), "Check", "4471", date(2026, 11, 3)),)
    assert second.balance == Decimal("69.99")
    # The quoted street spans lines 4 and 5, so the order's second row is line 6.
    assert second.raw["lines"] == [4, 6]

    assert first.refunds == second.refunds == ()
    assert third.buyer.name == "山田太郎"
    assert third.payment_status is PaymentStatus.UNPAID and third.payments == ()
    assert third.status == "on-hold"
    assert third.lines[0].sku == "" and third.lines[0].name == "Custom engraving"
    assert third.total == Decimal("22.50")
    assert third.notes == "Paid by purchase order PO-88812"


def test_check_counts_orders_and_names_the_file() -> None:
    assert CsvSource({"path": str(DATA / "orders.csv")}, {}).check() == (
        "Read 3 orders from orders.csv.")


def test_bom_semicolons_and_loose_headers(tmp_path: Path) -> None:
    text = ("\ufeff  order NUMBER ;order_date;payment status;sku;QUANTITY;Unit price\r\n"
            "A-1;2026-10-01;Paid;X;2;3.50\r\n")
    (order,) = fetch(write(tmp_path, text))
    assert isinstance(order, Order)
    assert order.number == "A-1" and order.total == Decimal("7.00")
    assert order.payment_status is PaymentStatus.PAID


def test_tab_separated_utf16_from_excel(tmp_path: Path) -> None:
    text = ("Order Number\tOrder Date\tProduct Name\tQuantity\tUnit Price\n"
            "B-7\t2026-10-01\tMug\t1\t4\n")
    path = tmp_path / "orders.txt"
    path.write_bytes(text.encode("utf-16"))
    (order,) = fetch(path)
    assert isinstance(order, Order) and order.lines[0].name == "Mug"


def test_windows_1252_file_is_read(tmp_path: Path) -> None:
    text = "Order Number,Order Date,Customer Name,SKU,Quantity,Unit Price\n9,2026-10-01,Zoë,X,1,1\n"
    (order,) = fetch(write(tmp_path, text, encoding="cp1252"))
    assert isinstance(order, Order) and order.buyer.name == "Zoë"


def test_order_level_amounts_repeated_identically_are_counted_once(tmp_path: Path) -> None:
    text = ("Order Number,Order Date,SKU,Quantity,Unit Price,Shipping Amount,Tax Amount\n"
            "7,2026-10-01,A,1,10,5,0.83\n"
            "7,2026-10-01,B,1,1.00,5.00,.83\n")
    (order,) = fetch(write(tmp_path, text))
    assert isinstance(order, Order)
    assert (order.shipping, order.tax, order.total) == (
        Decimal("5.00"), Decimal("0.83"), Decimal("16.83"))


BAD_ROWS = [
    # (row, field, words the message must contain)
    ("2,2026-10-01,paid,,A,x,1.00", "Quantity", "'x' is not a number"),
    ("2,2026-10-01,paid,,A,-1,1.00", "Quantity", "negative"),
    ("2,2026-10-01,paid,,A,,1.00", "Quantity", "empty"),
    ("2,2026-10-01,paid,,A,1,", "Unit Price", "empty"),
    ("2,2026-10-01,paid,,A,1,12,50", "", "more cells"),
    ("2,01/10/2026,paid,,A,1,1.00", "Order Date", "not an ISO date"),
    ("2,,paid,,A,1,1.00", "Order Date", "no date"),
    ("2,2026-10-01,maybe,,A,1,1.00", "Payment Status", "not a payment status"),
    ("2,2026-10-01,paid,5.00,A,1,1.00", "Amount Paid", "more than the order total"),
    ("2,2026-10-01,paid,0.50,A,1,1.00", "Amount Paid", "partially_paid"),
    ("2,2026-10-01,partially_paid,,A,1,1.00", "Payment Status", "needs an Amount Paid"),
    ("2,2026-10-01,unpaid,0.50,A,1,1.00", "Amount Paid", "unpaid"),
    ("2,2026-10-01,paid,,,1,1.00", "SKU", "SKU or a Product Name"),
]


@pytest.mark.parametrize(("row", "field", "words"), BAD_ROWS)
def test_bad_row_fails_its_order_with_line_and_field(tmp_path: Path, row: str, field: str,
                                                     words: str) -> None:
    text = "\n".join([HEADER, "1,2026-10-01,paid,,A,1,1.00", row, "3,2026-10-02,,,B,2,2.50"])
    results = by_number(fetch(write(tmp_path, text + "\n")))
    failure = results["2"]
    assert isinstance(failure, FailedOrder)
    assert (failure.line, failure.field) == (3, field)
    assert failure.message.startswith(f"Line 3, {field}" if field else "Line 3")
    assert words in failure.message
    assert isinstance(results["1"], Order) and results["1"].total == Decimal("1.00")
    assert isinstance(results["3"], Order) and results["3"].total == Decimal("5.00")


def test_conflicting_repeat_of_an_order_level_amount(tmp_path: Path) -> None:
    text = ("Order Number,Order Date,SKU,Quantity,Unit Price,Shipping Amount\n"
            "5,2026-10-01,A,1,10,5.00\n"
            "5,2026-10-01,B,1,10,\n"
            "5,2026-10-01,C,1,10,6.00\n")
    (failure,) = fetch(write(tmp_path, text))
    assert isinstance(failure, FailedOrder)
    assert (failure.number, failure.line, failure.field) == ("5", 4, "Shipping Amount")
    assert "differs from '5.00' on line 2" in failure.message


def test_exchange_rate_is_read_per_order_and_must_be_above_zero(tmp_path: Path) -> None:
    text = ("Order Number,Order Date,Currency,SKU,Quantity,Unit Price,Exchange Rate\n"
            "5,2026-10-01,EUR,A,1,10,1.0825\n"
            "6,2026-10-01,EUR,A,1,10,\n"
            "7,2026-10-01,EUR,A,1,10,0\n")
    rated, daily, zero = fetch(write(tmp_path, text))
    assert isinstance(rated, Order) and rated.exchange_rate == Decimal("1.0825")
    assert isinstance(daily, Order) and daily.exchange_rate is None
    assert isinstance(zero, FailedOrder) and zero.field == "Exchange Rate"
    assert "not an exchange rate above 0" in zero.message


def test_decimal_comma_is_refused_not_misread(tmp_path: Path) -> None:
    text = "Order Number;Order Date;SKU;Quantity;Unit Price\n5;2026-10-01;A;1;12,50\n"
    (failure,) = fetch(write(tmp_path, text))
    assert isinstance(failure, FailedOrder) and failure.field == "Unit Price"


def test_row_without_order_number_is_reported(tmp_path: Path) -> None:
    text = "\n".join([HEADER, ",2026-10-01,paid,,A,1,1.00", "", "3,2026-10-02,,,B,2,2.50"])
    results = fetch(write(tmp_path, text + "\n"))
    failure, order = results
    assert isinstance(failure, FailedOrder)
    assert (failure.number, failure.line, failure.field) == ("", 2, "Order Number")
    assert isinstance(order, Order) and order.raw["lines"] == [4]


def test_missing_required_column_is_a_setup_error(tmp_path: Path) -> None:
    path = write(tmp_path, "Order Number,Order Date,SKU,Quantity\n1,2026-10-01,A,1\n")
    source = CsvSource({"path": str(path)}, {})
    with pytest.raises(SetupError, match=r"orders\.csv has no Unit Price column"):
        source.check()
    with pytest.raises(SetupError, match="Unit Price"):
        list(source.fetch_orders(OrderQuery(), CancelToken()))


def test_sku_or_product_name_column_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, "Order Number,Order Date,Quantity,Unit Price\n1,2026-10-01,1,1\n")
    with pytest.raises(SetupError, match="SKU or Product Name"):
        fetch(path)


def test_missing_file_and_no_path_are_setup_errors(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"nothere\.csv does not exist"):
        CsvSource({"path": str(tmp_path / "nothere.csv")}, {}).check()
    with pytest.raises(SetupError, match="No order file"):
        CsvSource({"path": " "}, {}).check()
    with pytest.raises(SetupError, match="is empty"):
        fetch(write(tmp_path, ""))


def test_header_only_file_has_no_orders(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "\n")
    assert CsvSource({"path": str(path)}, {}).check() == "Read 0 orders from orders.csv."


def test_check_reports_unreadable_orders(tmp_path: Path) -> None:
    text = "\n".join([HEADER, "1,2026-10-01,paid,,A,1,1.00", "2,2026-10-01,paid,,A,x,1.00"])
    message = CsvSource({"path": str(write(tmp_path, text))}, {}).check()
    assert message.startswith("Read 1 order from orders.csv. 1 cannot be read")
    assert "order 2: Line 3, Quantity" in message


FILTER_FILE = "\n".join([
    "Order Number,Order Date,Status,SKU,Quantity,Unit Price",
    "10,2026-10-01,Completed,A,1,1",
    "11,2026-10-05,cancelled,A,1,1",
    "12,2026-10-09,completed,A,x,1",
    "13,2026-10-09,pending,A,1,1",
]) + "\n"


@pytest.mark.parametrize(("query", "expected"), [
    (OrderQuery(), ["10", "11", "12", "13"]),
    (OrderQuery(numbers=("11", "12", "99")), ["11", "12"]),
    (OrderQuery(created_from=date(2026, 10, 5)), ["11", "12", "13"]),
    (OrderQuery(created_to=date(2026, 10, 5)), ["10", "11"]),
    (OrderQuery(statuses=("COMPLETED",)), ["10", "12"]),
    (OrderQuery(statuses=("pending", "cancelled"), created_from=date(2026, 10, 6)), ["13"]),
    # The numbers win over the dates.
    (OrderQuery(numbers=("10",), created_from=date(2026, 10, 5)), ["10"]),
])
def test_filters(tmp_path: Path, query: OrderQuery, expected: list[str]) -> None:
    assert [r.number for r in fetch(write(tmp_path, FILTER_FILE), query)] == expected


def test_modified_since_uses_the_files_modification_time(tmp_path: Path) -> None:
    path = write(tmp_path, FILTER_FILE)
    written = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
    os.utime(path, (written.timestamp(), written.timestamp()))
    later = OrderQuery(modified_since=written + timedelta(minutes=1))
    assert fetch(path, later) == []
    results = fetch(path, OrderQuery(modified_since=written - timedelta(minutes=1)))
    assert len(results) == 4
    assert all(r.updated_at == written for r in results if isinstance(r, Order))
    # A naive moment is taken as UTC, and order numbers ignore the cursor.
    assert fetch(path, OrderQuery(modified_since=datetime(2026, 10, 11))) == []
    assert len(fetch(path, OrderQuery(modified_since=datetime(2026, 10, 11),
                                      numbers=("10",)))) == 1


def test_cancel_between_pages(tmp_path: Path) -> None:
    rows = [f"{n},2026-10-01,A,1,1" for n in range(250)]
    path = write(tmp_path, "\n".join(["Order Number,Order Date,SKU,Quantity,Unit Price", *rows]))
    cancel = CancelToken()
    stream = CsvSource({"path": str(path)}, {}).fetch_orders(OrderQuery(), cancel)
    first_page = [next(stream) for _ in range(100)]
    assert first_page[-1].number == "99"
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(stream)


# Property: whatever orders are written in the layout, each is read back with the exact parts,
# and its total is Σ(quantity × unit price − line discount) − order discount + shipping + tax.

cents = st.integers(min_value=0, max_value=99_999).map(lambda c: Decimal(c).scaleb(-2))
line_strategy = st.tuples(
    st.integers(min_value=1, max_value=50).map(Decimal),  # quantity
    cents,                                                 # unit price
    st.integers(min_value=0, max_value=100),               # line discount, % of the line
)
order_strategy = st.fixed_dictionaries({
    "lines": st.lists(line_strategy, min_size=1, max_size=4),
    "shipping": cents,
    "tax": cents,
    "discount_percent": st.integers(min_value=0, max_value=100),
    "status": st.sampled_from(["paid", "unpaid", "Partially Paid", "refunded"]),
    "repeat_order_values": st.booleans(),
})


def _csv_text(orders: list[dict]) -> tuple[str, list[dict]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    expected = []
    for number, spec in enumerate(orders, start=1):
        subtotal = Decimal("0.00")
        rows = []
        for qty, price, percent in spec["lines"]:
            gross = qty * price
            line_discount = (gross * percent / 100).quantize(Decimal("0.01"), "ROUND_DOWN")
            subtotal += gross - line_discount
            rows.append({"SKU": f"SKU-{len(rows)}", "Quantity": str(qty),
                         "Unit Price": str(price), "Line Discount": str(line_discount)})
        discount = (subtotal * spec["discount_percent"] / 100).quantize(
            Decimal("0.01"), "ROUND_DOWN")
        total = subtotal - discount + spec["shipping"] + spec["tax"]
        paid = {"paid": total, "refunded": total, "unpaid": Decimal("0.00")}.get(
            spec["status"].lower())
        if paid is None:
            if total < Decimal("0.02"):
                spec["status"] = "unpaid"
                paid = Decimal("0.00")
            else:
                paid = (total / 2).quantize(Decimal("0.01"))
        order_values = {
            "Order Number": f"N{number}", "Order Date": "2026-09-30T23:59:59",
            "Payment Status": spec["status"], "Shipping Amount": str(spec["shipping"]),
            "Order Discount": str(discount), "Tax Amount": str(spec["tax"]),
            "Amount Paid": str(paid) if spec["status"].startswith("Part") else "",
            "Customer Name": "Ελένη Παπαδοπούλου",
        }
        for index, row in enumerate(rows):
            values = {**row, "Order Number": f"N{number}"}
            if index == 0 or spec["repeat_order_values"]:
                values.update(order_values)
            writer.writerow([values.get(column, "") for column in COLUMNS])
        expected.append({"number": f"N{number}", "total": total, "paid": paid,
                         "lines": len(rows)})
    return buffer.getvalue(), expected


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(order_strategy, min_size=1, max_size=5))
def test_round_trip_total_is_always_the_formula(tmp_path: Path, orders: list[dict]) -> None:
    text, expected = _csv_text(orders)
    results = fetch(write(tmp_path, text))
    assert [r.number for r in results] == [e["number"] for e in expected]
    for order, want in zip(results, expected, strict=True):
        assert isinstance(order, Order), order
        assert order.total == want["total"] == order.computed_total
        assert order.total == (
            sum((line.quantity * line.unit_price - line.discount for line in order.lines),
                Decimal(0)) - order.discount + order.shipping + order.tax)
        assert order.amount_paid == want["paid"]
        refunded = order.payment_status is PaymentStatus.REFUNDED
        assert [r.amount for r in order.refunds] == (
            [want["paid"]] if refunded and want["paid"] else [])
        assert len(order.lines) == want["lines"]
        assert order.order_date == date(2026, 9, 30)
        assert order.buyer.name == "Ελένη Παπαδοπούλου"


# ---- hardening: absurd amounts, encodings, quotes, repeated numbers -------------------------

COMPANY_HEADER = "Order Number,Order Date,Company,SKU,Quantity,Unit Price"


def test_amounts_quickbooks_cannot_hold_fail_their_order_and_the_file_goes_on(
        tmp_path: Path) -> None:
    text = "\n".join([
        "Order Number,Order Date,SKU,Quantity,Unit Price,Shipping Amount",
        "1,2026-10-01,A,99999999999999999999999999,1.00,",
        "2,2026-10-01,A,1,999999999999999999999999999999.00,",
        "3,2026-10-01,A,100000,100000.00,",
        "4,2026-10-01,A,1,1.00,12345678901.00",
        "5,2026-10-01,A,1,6000000000.00,",
        "5,2026-10-01,B,1,6000000000.00,",
        "6,2026-10-02,B,2,2.50,",
    ]) + "\n"
    results = by_number(fetch(write(tmp_path, text)))
    expected = {"1": (2, "Quantity"), "2": (3, "Unit Price"), "3": (4, "Quantity"),
                "4": (5, "Shipping Amount"), "5": (6, "")}
    for number, (line, field) in expected.items():
        failure = results[number]
        assert isinstance(failure, FailedOrder), failure
        assert (failure.line, failure.field) == (line, field)
        assert "more than QuickBooks can hold" in failure.message
    assert "12000000000.00" in results["5"].message and "total" in results["5"].message
    good = results["6"]
    assert isinstance(good, Order) and good.total == Decimal("5.00")


def test_a_stray_latin1_byte_fails_only_its_row_and_accents_elsewhere_stay_right(
        tmp_path: Path) -> None:
    header = b"Order Number,Order Date,Customer Name,SKU,Quantity,Unit Price\n"
    path = tmp_path / "orders.csv"
    path.write_bytes(header
                     + "1,2026-10-01,José García,A,1,1.00\n".encode()
                     + b"2,2026-10-01,Caf\xe9 Bar,A,1,1.00\n"
                     + "3,2026-10-02,Zoë Brontë,B,2,2.50\n".encode())
    results = by_number(fetch(path))
    first, third = results["1"], results["3"]
    assert isinstance(first, Order) and first.buyer.name == "José García"
    assert isinstance(third, Order) and third.buyer.name == "Zoë Brontë"
    failure = results["2"]
    assert isinstance(failure, FailedOrder)
    assert (failure.line, failure.field) == (3, "Customer Name")
    assert "not UTF-8" in failure.message and "Caf\ufffd Bar" in failure.message


def test_an_unterminated_quote_fails_its_own_order_at_its_line_and_loses_no_later_one(
        tmp_path: Path) -> None:
    text = "\n".join([
        COMPANY_HEADER,
        "1,2026-10-01,Acme,A,1,1.00",
        '2,2026-10-01,"Brontë & Daughters,B,1,2.00',
        "3,2026-10-02,,C,2,2.50",
        '4,2026-10-02,"Quoted, Inc.",D,1,4.00',
        "5,2026-10-03,,E,1,5.00",
    ]) + "\n"
    results = fetch(write(tmp_path, text))
    assert [r.number for r in results] == ["1", "2", "3", "4", "5"]
    failure = results[1]
    assert isinstance(failure, FailedOrder)
    assert (failure.line, failure.field) == (3, "Company")
    assert failure.message.startswith("Line 3, Company: a quote opens here and is never closed")
    assert [r.total for r in results if isinstance(r, Order)] == [
        Decimal("1.00"), Decimal("5.00"), Decimal("4.00"), Decimal("5.00")]
    assert isinstance(results[3], Order) and results[3].buyer.company == "Quoted, Inc."


def test_an_unterminated_quote_in_a_large_file_fails_one_order_not_the_file(
        tmp_path: Path) -> None:
    later = [f"{n},2026-10-02,,C,1,1.00" for n in range(10, 10_010)]   # past csv's field limit
    text = "\n".join([COMPANY_HEADER, '2,2026-10-01,"Acme,B,1,2.00', *later]) + "\n"
    results = fetch(write(tmp_path, text))
    assert len(results) == 1 + len(later)
    failure = results[0]
    assert isinstance(failure, FailedOrder) and (failure.line, failure.number) == (2, "2")
    assert all(isinstance(r, Order) for r in results[1:])


def test_an_order_number_on_distant_rows_with_other_order_fields_fails_naming_both_lines(
        tmp_path: Path) -> None:
    text = "\n".join([
        "Order Number,Order Date,Customer Name,SKU,Quantity,Unit Price",
        "1001,2026-10-01,Ann,A,10,1.00",
        "1002,2026-10-01,Bob,A,1,1.00",
        "1001,,,A,999,1.00",
    ]) + "\n"
    results = by_number(fetch(write(tmp_path, text)))
    failure = results["1001"]   # not one invoice for 1009 × A
    assert isinstance(failure, FailedOrder)
    assert (failure.line, failure.field) == (4, "Order Date")
    assert failure.message.startswith("Line 4, Order Date: order 1001 also has line 2")
    assert isinstance(results["1002"], Order) and results["1002"].total == Decimal("1.00")


def test_distant_rows_that_repeat_their_order_fields_identically_are_one_order(
        tmp_path: Path) -> None:
    text = "\n".join([
        "Order Number,Order Date,Customer Name,SKU,Quantity,Unit Price",
        "1001,2026-10-01,Ann,A,10,1.00",
        "1002,2026-10-01,Bob,A,1,1.00",
        "1001,2026-10-01,Ann,B,2,3.00",
    ]) + "\n"
    results = by_number(fetch(write(tmp_path, text)))
    order = results["1001"]
    assert isinstance(order, Order) and order.total == Decimal("16.00")
    assert order.raw["lines"] == [2, 4]


def test_tax_rate_tax_code_and_tax_inclusive_prices_are_read(tmp_path: Path) -> None:
    text = ("Order Number,Order Date,SKU,Quantity,Unit Price,Tax Rate,Tax Code,Tax Amount,"
            "Prices Include Tax\n"
            "8,2026-10-01,A,1,12.00,20%,,2.00,yes\n"
            "8,2026-10-01,B,1,5.00,,Exempt,,\n"
            "9,2026-10-01,C,2,10.00,8.25,,1.65,\n")
    inclusive, exclusive = fetch(write(tmp_path, text))
    assert isinstance(inclusive, Order) and isinstance(exclusive, Order)
    assert [(line.tax_rate, line.tax_code) for line in inclusive.lines] == [
        (Decimal("20"), ""), (None, "Exempt")]
    # Tax-inclusive prices hold the tax: it is not added to the total.
    assert inclusive.prices_include_tax and inclusive.total == Decimal("17.00")
    assert exclusive.lines[0].tax_rate == Decimal("8.25")
    assert not exclusive.prices_include_tax and exclusive.total == Decimal("21.65")


@pytest.mark.parametrize(("column", "value", "words"), [
    ("Tax Rate", "twenty", "not a tax rate"), ("Tax Rate", "120", "not a tax rate"),
    ("Prices Include Tax", "maybe", "not yes or no")])
def test_a_bad_tax_column_fails_its_order_naming_it(tmp_path: Path, column: str, value: str,
                                                    words: str) -> None:
    text = (f"Order Number,Order Date,SKU,Quantity,Unit Price,{column}\n"
            f"4,2026-10-01,A,1,12.00,{value}\n")
    (failure,) = fetch(write(tmp_path, text))
    assert isinstance(failure, FailedOrder)
    assert (failure.line, failure.field) == (2, column) and words in failure.message


def test_tags_and_channel_are_read_for_the_rules(tmp_path: Path) -> None:
    text = ("Order Number,Order Date,SKU,Quantity,Unit Price,Tags,Channel\n"
            "8,2026-10-01,A,1,12.00,\"wholesale, net-30 ,\",Trade desk\n"
            "8,2026-10-01,B,1,5.00,,\n"
            "9,2026-10-01,C,2,10.00,,\n")
    tagged, plain = fetch(write(tmp_path, text))
    assert isinstance(tagged, Order) and isinstance(plain, Order)
    assert (tagged.tags, tagged.channel) == (("wholesale", "net-30"), "Trade desk")
    assert (plain.tags, plain.channel) == ((), "")
