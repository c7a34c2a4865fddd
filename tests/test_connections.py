"""The connection service, without Qt: connections saved, copied, removed and connected, their
secrets only in the keyring (a real backend, chosen as a user would)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import requests
from keyring.errors import KeyringLocked

from connex_desktop.app import build_app
from connex_desktop.connections import (
    WEB_CONNECTOR_PASSWORD,
    ConnectionProblems,
    MissingSetting,
    quickbooks_key_prefix,
    web_connector_url,
    web_connector_user,
)
from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksCompany,
    QuickBooksProduct,
)
from connex_desktop.core.errors import ConnexError, SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.quickbooks.auth import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    save_credentials,
)
from connex_desktop.sandbox.oauth import TOKEN_PATH
from connex_desktop.sandbox.seed import COMPANY_NAME
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from tests.fakes.memory_keyring import MemoryKeyring
from tests.sources.store_cli import assert_no_file_holds
from tests.test_cli import memory_keyring  # noqa: F401  (the keyring, in memory, for every test)

CONSUMER_KEY = "ck_live_7f3e9a1b2c"
CONSUMER_SECRET = "cs_live_4d5e6f7a8b"
WOO_SECRETS = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}


@pytest.fixture
def app(tmp_path):
    app = build_app(str(tmp_path / "data"))
    yield app
    app.close()


@pytest.fixture
def service(app):
    return app.connection_service()


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


def woo(name: str = "Woo", **changes) -> Connection:
    draft = Connection(name=name, source_kind="woocommerce", mode=TransactionMode.INVOICES,
                       source_settings={"store_url": "https://shop.example.com"})
    return dataclasses.replace(draft, **changes)


def secret(app, connection_id: int, name: str) -> str | None:
    return app.secrets.get(connection_secret_key(connection_id, name))


def problems_by_field(error: ConnectionProblems) -> dict[str, str]:
    return {problem.field: problem.message for problem in error.problems}


def test_add_keeps_the_secrets_in_the_keyring_and_the_settings_in_the_database(
        app, service, tmp_path):
    added = service.add(woo(), WOO_SECRETS)
    assert app.connections.get("Woo") == added
    assert secret(app, added.id, "consumer_key") == CONSUMER_KEY
    assert sorted(key for _service, key in MemoryKeyring.passwords) == [
        app.secrets.key(connection_secret_key(added.id, name))
        for name in ("consumer_key", "consumer_secret")]
    assert service.has_secret(added.id, "consumer_secret")
    assert not service.has_secret(added.id, "store_url")
    for value in WOO_SECRETS.values():
        assert_no_file_holds(tmp_path, value)


def test_each_problem_names_its_field_and_nothing_is_saved(app, service, tmp_path):
    service.add(woo("Web shop"), WOO_SECRETS)
    draft = woo("web SHOP", prefix="X" * 21, source_settings={"store_url": "shop.example"})
    with pytest.raises(ConnectionProblems) as refused:
        service.add(draft, {"consumer_key": CONSUMER_KEY})
    assert problems_by_field(refused.value) == {
        "name": "A connection named 'web SHOP' already exists; choose another name.",
        "source:consumer_secret": "Enter the consumer secret.",
        "source:store_url": "Enter the full address, starting with https://, for the store "
                            "address.",
        "prefix": "Keep the prefix under 21 characters: the order number must fit after it.",
    }
    assert refused.value.field == "name" and str(refused.value) == refused.value.message
    missing = [problem for problem in refused.value.problems
               if isinstance(problem, MissingSetting)]
    assert [problem.setting.name for problem in missing] == ["consumer_secret"]

    orders_file = Connection(name="Orders", source_kind="csv", mode=TransactionMode.INVOICES,
                             source_settings={"path": str(tmp_path / "none.csv")})
    assert problems_by_field(ConnectionProblems(service.problems(orders_file, {}))) == {
        "source:path": f"There is no file at {tmp_path / 'none.csv'}."}
    assert [problem.field for problem in service.problems(woo(" "), WOO_SECRETS)] == ["name"]
    unknown = woo("Elsewhere", source_kind="abacus")
    assert [(problem.field, problem.message) for problem in service.problems(unknown, {})] == [
        ("source_kind", "Choose the kind of store.")]
    pasted = Connection(name="BC", source_kind="bigcommerce", mode=TransactionMode.INVOICES,
                        source_settings={"api_url": "https://api.bigcommerce.com/elsewhere"})
    assert [problem.field for problem in service.problems(pasted, {"access_token": "t"})] == [
        "source:api_url"]
    assert [c.name for c in app.connections.list()] == ["Web shop"]


def test_a_store_with_its_own_purchase_orders_is_refused_the_mode_that_builds_them(service):
    erply = Connection(name="POS", source_kind="erply",
                       mode=TransactionMode.SALES_ORDERS_INVOICES_POS,
                       source_settings={"client_code": "512345", "username": "clerk"})
    with pytest.raises(ConnectionProblems) as refused:
        service.add(erply, {"password": "erply-pass"})
    assert refused.value.field == "mode"
    assert refused.value.message.startswith("Erply keeps its own purchase orders")
    allowed = service.add(dataclasses.replace(erply, mode=TransactionMode.INVOICES),
                          {"password": "erply-pass"})
    assert allowed.id is not None


def test_a_keyring_that_refuses_the_secrets_leaves_no_connection_half_added(
        app, service, monkeypatch):
    def locked(*_args: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    monkeypatch.setattr(MemoryKeyring, "set_password", locked)
    with pytest.raises(SetupError, match="keyring"):
        service.add(woo(), WOO_SECRETS)
    assert app.connections.list() == []


def test_update_keeps_a_secret_not_typed_and_replaces_one_typed(app, service, tmp_path):
    added = service.add(woo(), WOO_SECRETS)
    renamed = service.update(dataclasses.replace(added, name="Woo shop", prefix="WC-"), {})
    assert app.connections.get_by_id(added.id).name == "Woo shop" and renamed.prefix == "WC-"
    service.update(renamed, {"consumer_secret": "cs_live_rotated"})
    assert secret(app, added.id, "consumer_secret") == "cs_live_rotated"
    assert secret(app, added.id, "consumer_key") == CONSUMER_KEY
    with pytest.raises(ConnectionProblems) as refused:
        service.update(dataclasses.replace(renamed, source_settings={"store_url": ""}), {})
    assert refused.value.field == "source:store_url"
    assert app.connections.get_by_id(added.id).source_settings["store_url"] == \
        "https://shop.example.com"

    app.connections.remember_store(added.id, app.source_for(renamed).store_key)
    booked_from = app.connections.store_key(added.id)
    service.update(renamed, {}, new_store=True)
    assert app.connections.store_key(added.id) not in ("", booked_from)


def test_copy_carries_the_store_secrets_and_the_client_secret_but_no_tokens(app, service,
                                                                          tmp_path):
    original = service.add(woo(), WOO_SECRETS)
    company = QuickBooksCompany(environment="sandbox", client_id="ABC", realm_id="4620816365")
    original = app.connections.update(dataclasses.replace(original, quickbooks=company))
    save_credentials(app.secrets, quickbooks_key_prefix(original.id),
                     client_secret="own-app-secret", refresh_token="rt-1", access_token="at-1")

    copy = service.copy("Woo")
    again = service.copy("Woo")
    assert (copy.name, again.name) == ("Woo (copy)", "Woo (copy 2)")
    assert copy.source_settings == original.source_settings and copy.mode is original.mode
    assert copy.quickbooks == QuickBooksCompany(environment="sandbox", client_id="ABC")
    assert {name: secret(app, copy.id, name) for name in (*WOO_SECRETS, CLIENT_SECRET,
                                                          REFRESH_TOKEN, ACCESS_TOKEN)} == {
        **WOO_SECRETS, CLIENT_SECRET: "own-app-secret", REFRESH_TOKEN: None, ACCESS_TOKEN: None}
    assert secret(app, original.id, REFRESH_TOKEN) == "rt-1"      # the original's untouched
    for value in (*WOO_SECRETS.values(), "own-app-secret", "rt-1"):
        assert_no_file_holds(tmp_path, value)


def test_remove_deletes_every_secret_of_the_connection(app, service):
    kept = service.add(woo("Kept"), {"consumer_key": "ck_kept", "consumer_secret": "cs_kept"})
    removed = service.add(woo(), WOO_SECRETS)
    save_credentials(app.secrets, quickbooks_key_prefix(removed.id), client_secret="own",
                     refresh_token="rt", access_token="at")
    assert service.remove("Woo") == removed.id
    assert [c.name for c in app.connections.list()] == ["Kept"]
    assert sorted(MemoryKeyring.passwords.values()) == ["ck_kept", "cs_kept"]
    assert secret(app, kept.id, "consumer_key") == "ck_kept"


def test_connect_keeps_tokens_that_work_and_names_the_company(app, service, sandbox, tmp_path):
    shop = service.add(woo(), WOO_SECRETS)
    prefix = quickbooks_key_prefix(shop.id)
    company = QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                                realm_id=sandbox.realm_id)
    trial = MemorySecretStore()
    save_credentials(trial, prefix, client_secret=sandbox.client_secret,
                     refresh_token=str(sandbox.new_grant()["refresh_token"]))
    connected = service.connect_quickbooks(shop, company, trial)
    assert connected.quickbooks.company_name == COMPANY_NAME
    assert app.connections.get_by_id(shop.id) == connected
    token = secret(app, shop.id, REFRESH_TOKEN)
    assert token and secret(app, shop.id, CLIENT_SECRET) == sandbox.client_secret
    assert service.saved_client_secret(connected) == sandbox.client_secret

    wrong = MemorySecretStore()
    save_credentials(wrong, prefix, client_secret=sandbox.client_secret,
                     refresh_token="not-a-token")
    with pytest.raises(ConnexError):       # QuickBooks refused it
        service.connect_quickbooks(shop, company, wrong)
    assert secret(app, shop.id, REFRESH_TOKEN) == token     # the working token stays
    for value in (sandbox.client_secret, token):
        assert_no_file_holds(tmp_path, value)


def test_disconnect_revokes_and_forgets_the_tokens(app, service, sandbox):
    shop = service.add(woo(), WOO_SECRETS)
    trial = MemorySecretStore()
    save_credentials(trial, quickbooks_key_prefix(shop.id), client_secret=sandbox.client_secret,
                     refresh_token=str(sandbox.new_grant()["refresh_token"]))
    company = QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                                realm_id=sandbox.realm_id)
    service.connect_quickbooks(shop, company, trial)
    token = secret(app, shop.id, REFRESH_TOKEN)

    disconnected = service.disconnect_quickbooks(shop.id)
    assert not disconnected.quickbooks.connected
    assert disconnected.quickbooks.client_id == sandbox.client_id
    assert app.connections.get_by_id(shop.id) == disconnected
    assert secret(app, shop.id, REFRESH_TOKEN) is None
    assert secret(app, shop.id, ACCESS_TOKEN) is None
    refused = requests.post(sandbox.base_url + TOKEN_PATH,
                            data={"grant_type": "refresh_token", "refresh_token": token},
                            auth=(sandbox.client_id, sandbox.client_secret), timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_the_service_loads_without_qt():
    check = "import sys, connex_desktop.connections; print('PySide6' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


# ── QuickBooks Desktop: the company file, the Web Connector's password and .qwc file ────────

SHOP_FILE = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\Shop.qbw"


def desktop(company_file: str = "") -> QuickBooksCompany:
    return QuickBooksCompany(product=QuickBooksProduct.DESKTOP, company_file=company_file,
                             desktop_transport=DesktopTransport.WEB_CONNECTOR)


@pytest.mark.parametrize("path", ["Shop.qbw", r"C:\Shop.txt", "/home/me/Shop.qbw"])
def test_a_company_file_must_be_a_full_windows_path_to_a_qbw(service, path: str):
    with pytest.raises(ConnectionProblems) as refused:
        service.add(woo(quickbooks=desktop(path)), WOO_SECRETS)
    assert refused.value.field == "company_file"
    assert "full path" in refused.value.message


@pytest.mark.parametrize("path", ["", SHOP_FILE, r"\\server\QuickBooks\Shop.QBW"])
def test_blank_or_a_full_path_is_kept(app, service, path: str):
    added = service.add(woo(quickbooks=desktop(path)), WOO_SECRETS)
    assert app.connections.get_by_id(added.id).quickbooks == desktop(path)


def test_an_online_connection_ignores_the_desktop_fields(service):
    online = dataclasses.replace(desktop("not a path"), product=QuickBooksProduct.ONLINE)
    assert service.add(woo(quickbooks=online), WOO_SECRETS).quickbooks.company_file == \
        "not a path"


def test_the_password_is_made_once_and_kept_only_in_the_keyring(app, service, tmp_path):
    added = service.add(woo(quickbooks=desktop()), WOO_SECRETS)
    assert service.web_connector_password(added.id, create=False) == ""
    password = service.web_connector_password(added.id)
    assert len(password) >= 24 and password == service.web_connector_password(added.id)
    assert app.secrets.get(connection_secret_key(added.id, WEB_CONNECTOR_PASSWORD)) == password
    assert_no_file_holds(tmp_path, password)
    service.remove("Woo")
    assert password not in MemoryKeyring.passwords.values()


def test_the_qwc_file_signs_the_connection_in_at_the_local_service(service):
    added = service.add(woo(quickbooks=desktop()), WOO_SECRETS)
    password = service.web_connector_password(added.id)
    text = service.web_connector_file(added, "folder-ab12")
    root = ET.fromstring(text)
    assert root.findtext("AppName") == "Connex Desktop - Woo"
    assert root.findtext("AppURL") == web_connector_url()
    assert root.findtext("UserName") == web_connector_user(added.id)
    assert password not in text
    again = ET.fromstring(service.web_connector_file(added, "folder-ab12"))
    assert [again.findtext(tag) for tag in ("OwnerID", "FileID")] == [
        root.findtext(tag) for tag in ("OwnerID", "FileID")]
    other_folder = ET.fromstring(service.web_connector_file(added, "folder-cd34"))
    assert other_folder.findtext("OwnerID") != root.findtext("OwnerID")
