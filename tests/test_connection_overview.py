"""A connection's health, standing failures and recent runs, as the database records them."""

from __future__ import annotations

import pytest

from connex_desktop.connection_overview import Tone, health, read_overview
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus, RunTrigger, SyncResult
from connex_desktop.storage.database import Database
from connex_desktop.storage.repositories import ConnectionRepository, RunRepository

CONNECTED = QuickBooksCompany(environment="sandbox", realm_id="4620816365",
                              company_name="Sandbox Company_US_1")


@pytest.fixture
def db(tmp_path):
    with Database.open(tmp_path / "connex.sqlite3") as database:
        yield database


@pytest.fixture
def runs(db):
    return RunRepository(db)


@pytest.fixture
def shop(db) -> Connection:
    return ConnectionRepository(db).add(Connection(
        name="Shop", source_kind="demo", mode=TransactionMode.INVOICES, quickbooks=CONNECTED))


def finished(runs, connection_id, status=RunStatus.SUCCEEDED, *, dry_run=False, failed=(),
             booked=(), message=""):
    run_id = runs.start(connection_id, RunTrigger.MANUAL, dry_run=dry_run)
    for number in booked:
        runs.record_order(run_id, f"id-{number}", number, "booked")
    for number in failed:
        runs.record_order(run_id, f"id-{number}", number, "failed",
                          message=f"Order {number}: DocNumber is longer than 21 characters.")
    runs.finish(run_id, SyncResult("Shop", run_id, status, synced=len(booked),
                                   failed=len(failed), dry_run=dry_run, message=message))
    return run_id


def test_failures_stand_until_a_real_run_books_them(runs, shop):
    finished(runs, shop.id, RunStatus.PARTIAL, booked=["1001"], failed=["1002", "1003"])
    finished(runs, shop.id, dry_run=True, booked=["1002"])      # a preview fixes nothing
    overview = read_overview(runs, shop.id)
    assert [order.order_number for order in overview.failures] == ["1002", "1003"]
    assert overview.failures[0].message == ("Order 1002: DocNumber is longer than 21 "
                                            "characters.")
    state = health(shop, overview, needs_reconnect=False)
    assert (state.tone, state.words) == (Tone.ATTENTION, "2 orders need attention")

    finished(runs, shop.id, booked=["1002"])
    overview = read_overview(runs, shop.id)
    assert [order.order_number for order in overview.failures] == ["1003"]
    assert health(shop, overview, needs_reconnect=False).words == "1 order needs attention"
    finished(runs, shop.id, booked=["1003"])
    state = health(shop, read_overview(runs, shop.id), needs_reconnect=False)
    assert (state.tone, state.words) == (Tone.GOOD, "All orders booked")


def test_recent_runs_are_the_newest_five_and_the_last_sync_is_not_a_preview(runs, shop):
    ids = [finished(runs, shop.id) for _ in range(6)]
    preview = finished(runs, shop.id, dry_run=True)
    overview = read_overview(runs, shop.id)
    assert [run.id for run in overview.recent_runs] == [preview, *ids[:1:-1]]
    assert overview.last_sync is not None and overview.last_sync.id == ids[-1]


def test_what_stops_every_sync_comes_before_failed_orders(runs, shop):
    finished(runs, shop.id, RunStatus.PARTIAL, failed=["1002"])
    overview = read_overview(runs, shop.id)
    not_connected = Connection(name="New", source_kind="demo", mode=TransactionMode.INVOICES)
    assert health(not_connected, overview, needs_reconnect=False).words == (
        "Not connected to QuickBooks")
    state = health(shop, overview, needs_reconnect=True)
    assert (state.tone, state.words) == (Tone.PROBLEM, "Reconnect to QuickBooks")
    finished(runs, shop.id, RunStatus.FAILED, message="The store refused the password.")
    state = health(shop, read_overview(runs, shop.id), needs_reconnect=False)
    assert (state.tone, state.words) == (Tone.PROBLEM, "Last sync failed")


def test_a_connection_never_synced_says_so(runs, shop):
    state = health(shop, read_overview(runs, shop.id), needs_reconnect=False)
    assert (state.tone, state.words) == (Tone.QUIET, "Not synced yet")
    runs.start(shop.id, RunTrigger.MANUAL)      # still running
    assert health(shop, read_overview(runs, shop.id), needs_reconnect=False).words == "Syncing"
    finished(runs, shop.id)
    overview = read_overview(runs, shop.id)
    # The window knows of a run before its record is written.
    assert health(shop, overview, needs_reconnect=False, running=True).words == "Syncing"
    assert health(shop, overview, needs_reconnect=False, running=True,
                  previewing=True).words == "Previewing"


def test_a_last_sync_undone_is_not_all_orders_booked(runs, shop):
    """Undo took its documents out of QuickBooks: the next sync books its orders again."""
    run_id = finished(runs, shop.id, booked=["1001", "1002"])
    runs.mark_undone(run_id, "Undone: 2 documents deleted.", complete=True)
    state = health(shop, read_overview(runs, shop.id), needs_reconnect=False)
    assert (state.tone, state.words) == (Tone.QUIET, "Last sync undone")
    finished(runs, shop.id, booked=["1001", "1002"])
    assert health(shop, read_overview(runs, shop.id), needs_reconnect=False).words == (
        "All orders booked")
