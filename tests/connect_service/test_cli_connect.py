"""`qb connect NAME` with no keys: through the connect service, the sandbox playing Intuit."""

from __future__ import annotations

import base64
import json
import signal
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from keyring.errors import KeyringLocked

from connex_desktop import commands
from connex_desktop.__main__ import main
from connex_desktop.quickbooks.connect_client import SERVICE_ENV
from tests.connect_service.conftest import Browser
from tests.fakes.memory_keyring import MemoryKeyring
from tests.sources.store_cli import Cli, amount, assert_no_file_holds, cli_fixture  # noqa: F401
from tests.sync.conftest import row, write_orders

COMPANY = "Maple & Pine Outfitters"


def saved(name: str) -> list[str]:
    """The keyring's values of this QuickBooks secret (one connection: at most one)."""
    return [value for (_service, key), value in MemoryKeyring.passwords.items()
            if key.endswith("/" + name)]


def run(cli: Cli, *args: str) -> tuple[int, str, str]:
    """A command that may fail: (exit code, standard output, standard error)."""
    try:
        code = main(["--data-dir", str(cli.data_dir), *args])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = cli.capsys.readouterr()
    return code, captured.out, captured.err


def paid_orders(*numbers: str) -> list[dict[str, str]]:
    return [row(number, "MUG-ENM-12", "2", "18.00", payment_status="paid") for number in numbers]


@pytest.fixture
def shop(cli, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", paid_orders("101"))
    cli("connection", "add", "Shop", "--source", "csv", "--set", f"path={orders}", "--mode",
        "invoices-with-payments")
    return "Shop"


@pytest.fixture
def landed() -> list[requests.Response]:
    """The pages the browser landed on after the user approved."""
    return []


@pytest.fixture
def user_approves(monkeypatch, service, landed):
    """The browser the CLI opens: the user approves at once; the addresses opened are kept."""
    monkeypatch.setenv(SERVICE_ENV, service.url)
    opened: list[str] = []
    browser = Browser()

    def open_browser(url: str) -> bool:
        opened.append(url)
        landed.append(browser.approve(url))
        assert landed[-1].status_code == 200
        return True

    monkeypatch.setattr(commands.webbrowser, "open", open_browser)
    return opened


def test_qb_connect_without_keys_signs_in_through_the_service_and_syncs(
        cli, shop, sandbox, service, user_approves, landed, tmp_path):
    _, out = cli("qb", "connect", shop)
    assert user_approves and user_approves[0] in out          # the link is printed to open
    assert f"Connected 'Shop' to the QuickBooks company '{COMPANY}'" in out
    assert "Connex Desktop is finishing" in landed[0].text and "Connected" not in landed[0].text
    assert "Connected to Maple &amp; Pine" in Browser().check_again(landed[0]).text
    (refresh_token,) = saved("qb_refresh_token")
    assert saved("qb_client_secret") == []                   # the secret stays at the service
    assert refresh_token not in out and sandbox.client_secret not in out
    _, shown = cli("connection", "show", shop, "--json")
    assert json.loads(shown)["quickbooks"]["company"] == COMPANY

    assert cli.sync(shop)["status"] == "succeeded"
    (invoice,) = sandbox.company.all("Invoice")
    assert amount(invoice["TotalAmt"]) == Decimal("36.00")

    sandbox.inject("expire_tokens")      # the next request refreshes, through the service
    # A new order: a sync with nothing to book makes no request at all.
    write_orders(tmp_path / "orders.csv", paid_orders("101", "102"))
    assert cli.sync(shop)["status"] == "succeeded"
    (rotated,) = saved("qb_refresh_token")
    assert rotated != refresh_token
    sandbox.inject("expire_tokens")      # and the rotated token is the one that works now
    write_orders(tmp_path / "orders.csv", paid_orders("101", "102", "103"))
    assert cli.sync(shop)["status"] == "succeeded"
    assert saved("qb_refresh_token") != [rotated]
    assert_no_file_holds(tmp_path, sandbox.client_secret)
    assert_no_file_holds(tmp_path, rotated)


def test_a_keyring_that_fails_to_store_leaves_the_browser_not_connected(
        cli, shop, service, user_approves, landed, monkeypatch):
    def locked(*_args: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    monkeypatch.setattr(MemoryKeyring, "set_password", locked)
    code, out, err = run(cli, "qb", "connect", shop)
    assert code == 2 and "the keyring is locked" in err and "Connected" not in out
    page = Browser().check_again(landed[0])
    assert "Not connected" in page.text and "the keyring is locked" in page.text
    assert "Connected to" not in page.text


def test_disconnect_revokes_through_the_service(cli, shop, sandbox, service, user_approves):
    cli("qb", "connect", shop)
    (refresh_token,) = saved("qb_refresh_token")
    _, out = cli("qb", "disconnect", shop)
    assert "revoked" in out and saved("qb_refresh_token") == []
    assert not _refresh_works(sandbox, refresh_token)


def _refresh_works(sandbox, refresh_token: str) -> bool:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    return sandbox.oauth.token(form, None).status == 200


def test_a_refused_refresh_token_asks_to_reconnect(cli, shop, sandbox, service, user_approves):
    cli("qb", "connect", shop)
    (refresh_token,) = saved("qb_refresh_token")
    credentials = f"{sandbox.client_id}:{sandbox.client_secret}".encode()
    sandbox.oauth.revoke({"token": refresh_token},
                         "Basic " + base64.b64encode(credentials).decode())
    code, out, _err = run(cli, "sync", shop, "--json")
    assert code == 2
    assert "Reconnect to QuickBooks" in out
    code, out, _err = run(cli, "connection", "show", shop)
    assert "needs_reconnect\": true" in out
    assert "Reconnect to QuickBooks: QuickBooks refused the saved authorisation." in out

    cli("qb", "connect", shop)                       # signing in again clears the mark
    code, out, _err = run(cli, "connection", "show", shop)
    assert "needs_reconnect\": false" in out and "Reconnect" not in out
    assert refresh_token not in out and saved("qb_refresh_token") != [refresh_token]


def test_qb_connect_with_no_service_set_up_says_what_to_do(cli, shop, monkeypatch):
    monkeypatch.delenv(SERVICE_ENV, raising=False)
    code, _out, err = run(cli, "qb", "connect", shop)
    assert code == 2 and SERVICE_ENV in err and "your own Intuit app" in err
    assert "has no connect service set up" in err and "--service https://" in err


def test_own_key_options_need_the_client_id(cli, shop):
    code, _out, err = run(cli, "qb", "connect", shop, "--environment", "sandbox")
    assert code == 2 and "--client-id" in err


def test_ctrl_c_while_waiting_cancels_the_sign_in(cli, shop, service, monkeypatch):
    monkeypatch.setenv(SERVICE_ENV, service.url)

    def press_ctrl_c(_url: str) -> bool:      # instead of approving in the browser
        signal.raise_signal(signal.SIGINT)
        return True

    monkeypatch.setattr(commands.webbrowser, "open", press_ctrl_c)
    code, _out, err = run(cli, "qb", "connect", shop)
    assert code == 2 and "cancelled" in err
    assert saved("qb_refresh_token") == []


def test_a_service_given_once_is_remembered_and_must_be_https(
        cli, shop, service, user_approves, monkeypatch):
    monkeypatch.delenv(SERVICE_ENV)
    code, _out, err = run(cli, "qb", "connect", shop, "--service", "http://connect.example")
    assert code == 2 and "must start with https://" in err and not user_approves
    cli("qb", "connect", shop, "--service", service.url)
    cli("qb", "disconnect", shop)
    _, out = cli("qb", "connect", shop)                  # no --service: the remembered one
    assert f"Connected 'Shop' to the QuickBooks company '{COMPANY}'" in out
    assert len(user_approves) == 2


def test_the_end_intuit_gives_through_the_service_is_kept_and_announced(
        cli, shop, sandbox, service, user_approves, tmp_path):
    cli("qb", "connect", shop)
    _, shown = cli("connection", "show", shop, "--json")
    told = datetime.fromisoformat(json.loads(shown)["quickbooks"]["authorisation_ends_at"])
    signed_in = datetime.fromisoformat(json.loads(shown)["quickbooks"]["signed_in_at"])
    assert abs(told - signed_in.replace(year=signed_in.year + 5)) < timedelta(minutes=5)

    sandbox.end_authorisations_in(timedelta(days=12).total_seconds())
    sandbox.inject("expire_tokens")      # the next request refreshes, through the service
    write_orders(tmp_path / "orders.csv", paid_orders("101", "102"))
    assert cli.sync(shop)["status"] == "succeeded"
    _, shown = cli("connection", "show", shop, "--json")
    ends = datetime.fromisoformat(json.loads(shown)["quickbooks"]["authorisation_ends_at"])
    assert abs(ends - (datetime.now(UTC) + timedelta(days=12))) < timedelta(minutes=5)
    _, lines = cli("connection", "show", shop)
    local = ends.astimezone()
    assert f"Reconnect to QuickBooks before {local.day} {local.strftime('%b %Y')}" in lines
