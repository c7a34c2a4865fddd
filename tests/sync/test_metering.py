"""What a sync costs in Intuit's metering: the run reports the reads, writes and requests it
made, as the metering sandbox counted them, and a used-up monthly allowance of reads stops it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connex_desktop.app import App
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import QuickBooksUsage, RunStatus, SyncResult
from connex_desktop.quickbooks.ratelimit import limiter_for_realm
from connex_desktop.sandbox.metering import Usage
from connex_desktop.sandbox.server import SandboxServer
from tests.sandbox.conftest import RawApi
from tests.sync.conftest import by_number, connect, row, write_orders

MONTH_S = 31 * 24 * 3600
READ_QUOTA = 20


def orders(first: int, count: int) -> list[dict[str, str]]:
    return [row(str(number), "MUG-ENM-12", "2", "18.00", payment_status="paid")
            for number in range(first, first + count)]


def sync(app: App, sandbox: SandboxServer, connection) -> tuple[SyncResult, Usage]:
    """One run, and what the sandbox metered for it."""
    before = sandbox.usage()
    result = app.engine().run(connection)
    after = sandbox.usage()
    return result, Usage(after.reads - before.reads, after.writes - before.writes,
                         after.requests - before.requests,
                         after.refused_reads - before.refused_reads)


def reported(metered: Usage) -> QuickBooksUsage:
    return QuickBooksUsage(metered.reads, metered.writes, metered.requests)


def test_each_run_reports_what_the_metering_sandbox_counted(app, sandbox, tmp_path, capsys):
    """Today's cost, the baseline for caching reference lists between runs."""
    path = write_orders(tmp_path / "orders.csv", orders(6001, 10))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    first, metered = sync(app, sandbox, connection)
    assert first.status is RunStatus.SUCCEEDED and first.synced == 10
    assert first.quickbooks == reported(metered) and metered.writes > 0

    no_op, metered_no_op = sync(app, sandbox, connection)
    assert no_op.status is RunStatus.SUCCEEDED and no_op.documents == []
    assert no_op.quickbooks == reported(metered_no_op)
    assert no_op.quickbooks.writes == 0

    write_orders(path, orders(6001, 20))        # ten new orders after the first ten
    ten_new, metered_new = sync(app, sandbox, connection)
    assert ten_new.status is RunStatus.SUCCEEDED and ten_new.synced == 10
    assert ten_new.quickbooks == reported(metered_new)
    assert len(by_number(sandbox, "Invoice")) == 20

    for result in (first, no_op, ten_new):     # kept with the run, for the sync log
        assert result.run_id is not None
        assert app.runs.get(result.run_id).quickbooks == result.quickbooks
    with capsys.disabled():
        print(f"\nQuickBooks per sync: first 10 orders {first.quickbooks}; no-op "
              f"{no_op.quickbooks}; 10 new orders {ten_new.quickbooks}")


@pytest.fixture
def quota_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(read_quota=READ_QUOTA) as server:
        yield server


def spend_reads(sandbox: SandboxServer, reads: int) -> None:
    """Other syncs of the month: `reads` metered reads made before the test's run."""
    answer = RawApi(sandbox).post("batch", {"BatchItemRequest": [
        {"bId": f"q{n}", "Query": "SELECT * FROM TaxCode"} for n in range(reads)]})
    assert answer.status_code == 200 and sandbox.usage().reads == reads
    # Sent a moment ago, not earlier in the month: the app's limiter counts it in this second
    # (else the run's burst is the company's eleventh request in a second: 429, a minute lost).
    limiter_for_realm(sandbox.realm_id).count_sent_elsewhere()


def test_a_used_up_allowance_of_reads_stops_the_run_at_once(app, quota_sandbox, tmp_path):
    sandbox = quota_sandbox
    path = write_orders(tmp_path / "orders.csv", orders(7001, 3))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    spend_reads(sandbox, READ_QUOTA)
    result, metered = sync(app, sandbox, connection)
    assert result.status is RunStatus.FAILED and result.failure_kind is ErrorKind.QUOTA
    assert result.message.startswith(
        "QuickBooks' monthly allowance of data reads for this app is used up; syncing resumes "
        "next month")
    assert metered.refused_reads == 1 and result.quickbooks.requests == 1   # no retry storm
    assert by_number(sandbox, "Invoice") == {}
    assert result.run_id is not None
    assert app.runs.get(result.run_id).failure_kind == ErrorKind.QUOTA.value

    sandbox.advance_clock(MONTH_S)              # a new month: the same sync books them, once
    again, _ = sync(app, sandbox, connection)
    assert again.status is RunStatus.SUCCEEDED and again.synced == 3
    assert sorted(by_number(sandbox, "Invoice")) == ["7001", "7002", "7003"]


def test_reads_used_up_mid_run_stop_it_and_next_month_books_the_rest_once(app, quota_sandbox,
                                                                          tmp_path):
    sandbox = quota_sandbox
    path = write_orders(tmp_path / "orders.csv", orders(8001, 40))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    spend_reads(sandbox, READ_QUOTA - 3)
    result, metered = sync(app, sandbox, connection)
    assert result.status is RunStatus.FAILED and result.failure_kind is ErrorKind.QUOTA
    assert metered.reads == 3 and metered.refused_reads == 1
    assert result.quickbooks.reads == 4         # the three served and the one refused
    sandbox.advance_clock(MONTH_S)
    again, _ = sync(app, sandbox, connection)
    assert again.status is RunStatus.SUCCEEDED, (again.message, again.errors[:3])
    invoices = by_number(sandbox, "Invoice")
    assert sorted(invoices) == [str(number) for number in range(8001, 8041)]
    assert len(sandbox.company.all("Payment")) == 40
