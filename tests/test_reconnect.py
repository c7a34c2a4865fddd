"""Reconnect to QuickBooks: a refused refresh token marks the connection until it signs in
again, and the end of the token's five-year life is announced a month ahead."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from connex_desktop import commands, connections
from connex_desktop.sandbox.oauth import REFRESH_TOKEN_LIFETIME_S
from connex_desktop.sandbox.server import SandboxServer
from tests.fakes.memory_keyring import MemoryKeyring
from tests.sources.store_cli import assert_no_file_holds
from tests.sync.conftest import row, write_orders
from tests.test_cli import (
    cli,
    connect_csv,
    connect_quickbooks,
    memory_keyring,  # noqa: F401  (the keyring, in memory, for every test)
)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


def shown(data_dir, capsys) -> tuple[dict, str]:
    """`connection show Shop`, as JSON and as the lines a person reads."""
    capsys.readouterr()
    assert cli(data_dir, "connection", "show", "Shop", "--json") == 0
    as_json = json.loads(capsys.readouterr().out)
    assert cli(data_dir, "connection", "show", "Shop") == 0
    return as_json, capsys.readouterr().out


def test_a_refused_refresh_token_marks_the_connection_until_it_signs_in_again(
        data_dir, sandbox, monkeypatch, capsys, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [row("101", "MUG-ENM-12", "2", "18.00")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    # Unused for longer than its rolling life, the refresh token is refused (invalid_grant).
    sandbox.advance_clock(REFRESH_TOKEN_LIFETIME_S + 60)
    capsys.readouterr()
    assert cli(data_dir, "sync", "Shop", "--json") == 2
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "failed" and sandbox.company.all("Invoice") == []
    assert cli(data_dir, "history", "Shop", "--json") == 0
    failed = json.loads(capsys.readouterr().out)["runs"][0]
    assert failed["message"].startswith("Reconnect to QuickBooks: the saved authorisation is no "
                                        "longer valid")
    summary, lines = shown(data_dir, capsys)
    assert summary["quickbooks"]["needs_reconnect"] is True
    assert ("Reconnect to QuickBooks: QuickBooks refused the saved authorisation. Sign in again "
            "with: connex-desktop qb connect Shop") in lines

    connect_quickbooks(data_dir, sandbox, monkeypatch, "Shop")      # the same connect as ever
    summary, lines = shown(data_dir, capsys)
    assert summary["quickbooks"]["needs_reconnect"] is False
    assert "Reconnect" not in lines
    assert cli(data_dir, "sync", "Shop") == 0
    assert len(sandbox.company.all("Invoice")) == 1
    out = capsys.readouterr()
    for token in MemoryKeyring.passwords.values():   # the secret and tokens: nowhere seen
        assert token not in out.out + out.err + lines + json.dumps(summary)
        assert_no_file_holds(tmp_path, token)


def test_the_end_of_the_five_year_authorisation_is_announced_a_month_ahead(
        data_dir, sandbox, monkeypatch, capsys, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [row("101", "MUG-ENM-12")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    summary, lines = shown(data_dir, capsys)
    signed_in = datetime.fromisoformat(summary["quickbooks"]["signed_in_at"])
    assert "Reconnect" not in lines
    ends = signed_in.replace(year=signed_in.year + 5).astimezone()

    monkeypatch.setattr(commands, "_now", lambda: ends - timedelta(days=31))
    assert "Reconnect" not in shown(data_dir, capsys)[1]
    monkeypatch.setattr(commands, "_now", lambda: ends - timedelta(days=29))
    warning = f"Reconnect to QuickBooks before {ends.day} {ends.strftime('%b %Y')}"
    assert f"{warning}: sign in again with: connex-desktop qb connect Shop" in \
        shown(data_dir, capsys)[1]

    # Signed in again on that (fake) day: a new five years start then.
    monkeypatch.setattr(connections, "utc_now", lambda: commands._now().isoformat())
    connect_quickbooks(data_dir, sandbox, monkeypatch, "Shop")
    assert "Reconnect" not in shown(data_dir, capsys)[1]


def warning_for(ends: datetime) -> str:
    ends = ends.astimezone()
    return f"Reconnect to QuickBooks before {ends.day} {ends.strftime('%b %Y')}"


def test_the_end_intuit_gives_brings_the_warning_forward(
        data_dir, sandbox, monkeypatch, capsys, tmp_path):
    """Asked, Intuit's refresh says how long the authorisation has left: that end, not five
    years from this sign-in, is the one announced (the user's own Intuit app here)."""
    orders = write_orders(tmp_path / "orders.csv", [row("101", "MUG-ENM-12")])
    connect_csv(data_dir, sandbox, monkeypatch, orders)
    sandbox.end_authorisations_in(timedelta(days=20).total_seconds())
    assert "Reconnect" not in shown(data_dir, capsys)[1]      # nothing said it yet
    sandbox.inject("expire_tokens")
    assert cli(data_dir, "sync", "Shop") == 0                  # its refresh says so
    summary, lines = shown(data_dir, capsys)
    ends = datetime.fromisoformat(summary["quickbooks"]["authorisation_ends_at"])
    assert abs(ends - (datetime.now().astimezone() + timedelta(days=20))) < timedelta(minutes=5)
    assert f"{warning_for(ends)}: sign in again with: connex-desktop qb connect Shop" in lines
