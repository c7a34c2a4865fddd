"""Secrets go to a real keyring backend, or nowhere: never to a plain-text fallback."""

from __future__ import annotations

from contextlib import closing

import keyring
import keyring.core
import pytest

from connex_desktop.app import build_app
from connex_desktop.core.app_settings import KEYRING_FOLDER_ID
from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import ErrorKind, SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.secret_store import SecretStore, connection_secret_key
from connex_desktop.paths import AppPaths
from connex_desktop.storage.database import Database
from connex_desktop.storage.keyring_secrets import (
    BACKEND_ENV,
    SERVICE,
    FolderSecretStore,
    KeyringSecretStore,
    KeyringUnavailable,
    MemorySecretStore,
    copy_connection_secrets,
    delete_connection_secrets,
)
from connex_desktop.storage.repositories import ConnectionRepository
from tests.fakes.memory_keyring import MemoryKeyring, UnrecommendedKeyring

TOKEN = "AB11730000000000000secret-refresh-token"
TEST_BACKENDS = "tests.fakes.memory_keyring"


@pytest.fixture
def select_backend(monkeypatch):
    """Choose the keyring backend through the environment variable, as a user would."""
    monkeypatch.setattr(MemoryKeyring, "passwords", {})
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # restored after the test

    def select(name: str) -> None:
        monkeypatch.setenv(BACKEND_ENV, name)
        monkeypatch.setattr(keyring.core, "_keyring_backend", None)

    return select


def test_secrets_round_trip_through_the_selected_keyring_backend(select_backend):
    select_backend(f"{TEST_BACKENDS}.MemoryKeyring")
    store = KeyringSecretStore()
    key = connection_secret_key(3, "qb_refresh_token")
    assert store.get(key) is None
    store.set(key, TOKEN)
    assert MemoryKeyring.passwords == {(SERVICE, "connection-3/qb_refresh_token"): TOKEN}
    assert store.get(key) == TOKEN
    store.delete(key)
    assert store.get(key) is None
    store.delete(key)  # already gone: still fine
    store.check()
    assert store.backend_name == f"{TEST_BACKENDS}.MemoryKeyring"


@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring",
                                     "keyring.backends.null.Keyring"])
def test_no_keyring_is_said_plainly_and_nothing_is_stored_elsewhere(select_backend, backend,
                                                                    tmp_path):
    select_backend(backend)
    store = KeyringSecretStore()
    with pytest.raises(KeyringUnavailable) as raised:
        store.set(connection_secret_key(1, "consumer_secret"), TOKEN)
    message = str(raised.value)
    assert message.startswith("No system keyring is available")
    for advice in ("GNOME Keyring", "KWallet", BACKEND_ENV, "does not store secrets in plain text"):
        assert advice in message
    assert TOKEN not in message
    assert isinstance(raised.value, SetupError) and raised.value.kind is ErrorKind.FIX_SETUP
    for operation in (store.check, lambda: store.get("x"), lambda: store.delete("x")):
        with pytest.raises(KeyringUnavailable):
            operation()
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert all(TOKEN.encode() not in path.read_bytes() for path in written)


def test_a_locked_keyring_says_to_unlock_it(select_backend):
    select_backend(f"{TEST_BACKENDS}.LockedKeyring")
    with pytest.raises(KeyringUnavailable, match="the keyring is locked; unlock it"):
        KeyringSecretStore().get("connection-1/api_key")


def test_an_unrecommended_backend_is_refused_unless_chosen(select_backend, monkeypatch):
    monkeypatch.setattr(UnrecommendedKeyring, "in_use", True)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    keyring.set_keyring(UnrecommendedKeyring())  # what keyring's own detection would pick
    with pytest.raises(KeyringUnavailable, match="is not a secure one"):
        KeyringSecretStore().set("connection-1/api_key", TOKEN)
    assert MemoryKeyring.passwords == {}
    select_backend(f"{TEST_BACKENDS}.UnrecommendedKeyring")  # the user's explicit choice
    KeyringSecretStore().set("connection-1/api_key", TOKEN)
    assert MemoryKeyring.passwords == {(SERVICE, "connection-1/api_key"): TOKEN}


@pytest.mark.parametrize("make_store", [
    lambda observer: MemorySecretStore(observer=observer),
    lambda observer: KeyringSecretStore(observer=observer),
], ids=["memory", "keyring"])
def test_every_secret_read_or_written_is_shown_to_the_observer(select_backend, make_store):
    select_backend(f"{TEST_BACKENDS}.MemoryKeyring")
    seen: list[str] = []
    store = make_store(seen.append)
    store.set("connection-1/a", "first-secret")
    assert store.get("connection-1/a") == "first-secret"
    assert store.get("connection-1/missing") is None
    assert seen == ["first-secret", "first-secret"]


def test_the_memory_store_keeps_and_forgets_secrets():
    store: SecretStore = MemorySecretStore()
    store.set("connection-1/api_key", TOKEN)
    assert store.get("connection-1/api_key") == TOKEN
    store.delete("connection-1/api_key")
    store.delete("connection-1/api_key")
    assert store.get("connection-1/api_key") is None


def test_a_removed_connections_secrets_go_and_only_its(select_backend):
    store = MemorySecretStore()
    for connection_id in (1, 2):
        for name in ("consumer_key", "consumer_secret", "qb_refresh_token"):
            store.set(connection_secret_key(connection_id, name), f"{name}-{connection_id}")
    delete_connection_secrets(store, 1, ["consumer_key", "consumer_secret", "qb_refresh_token"])
    assert store.keys() == ["connection-2/consumer_key", "connection-2/consumer_secret",
                            "connection-2/qb_refresh_token"]


def test_a_duplicated_connection_gets_copies_of_the_secrets_it_names():
    store = MemorySecretStore()
    store.set(connection_secret_key(1, "consumer_key"), "ck_1")
    copy_connection_secrets(store, 1, 5, ["consumer_key", "consumer_secret"])
    assert store.get(connection_secret_key(5, "consumer_key")) == "ck_1"
    assert store.get(connection_secret_key(5, "consumer_secret")) is None


# ── one data folder's keys ──────────────────────────────────────────────────────────────────

WOO = Connection(name="Woo", source_kind="woocommerce", mode=TransactionMode.INVOICES,
                 source_settings={"store_url": "https://shop.example.com"})


def test_connection_1_of_two_data_folders_keeps_two_keyring_entries(tmp_path):
    keyring_ = MemorySecretStore()      # the one system keyring both folders use
    first = build_app(str(tmp_path / "first"), secrets=keyring_)
    second = build_app(str(tmp_path / "second"), secrets=keyring_)
    try:
        in_first, in_second = first.connections.add(WOO), second.connections.add(WOO)
        assert in_first.id == in_second.id == 1
        first.secrets.set(connection_secret_key(1, "consumer_key"), "ck_first")
        second.secrets.set(connection_secret_key(1, "consumer_key"), "ck_second")
        assert first.source_for(in_first).secrets == {"consumer_key": "ck_first"}
        assert second.source_for(in_second).secrets == {"consumer_key": "ck_second"}
        # Removing the connection in one folder forgets its secrets, and only its.
        delete_connection_secrets(first.secrets, 1, ["consumer_key"])
        assert first.source_for(in_first).secrets == {}
        assert second.source_for(in_second).secrets == {"consumer_key": "ck_second"}
    finally:
        first.close()
        second.close()


def old_folder(folder, keyring_: SecretStore) -> None:
    """A data folder as versions before the folder id left it: connection 1, with its secrets
    under the bare connection keys."""
    with Database.open(AppPaths.resolve(folder).ensure().database) as db:
        ConnectionRepository(db).add(WOO)
    keyring_.set("connection-1/consumer_key", "ck_old")
    keyring_.set("connection-1/qb_refresh_token", TOKEN)


def test_secrets_saved_before_folder_ids_move_under_the_folder_on_first_start(tmp_path):
    keyring_ = MemorySecretStore()
    old_folder(tmp_path / "data", keyring_)
    app = build_app(str(tmp_path / "data"), secrets=keyring_)
    try:
        assert app.secrets.get("connection-1/consumer_key") == "ck_old"
        assert app.secrets.get("connection-1/qb_refresh_token") == TOKEN
        folder_id = app.settings.get(KEYRING_FOLDER_ID)
    finally:
        app.close()
    # Moved, not copied: nothing is left under the keys every folder shared.
    assert keyring_.keys() == [f"{folder_id}/connection-1/consumer_key",
                               f"{folder_id}/connection-1/qb_refresh_token"]
    with closing(build_app(str(tmp_path / "data"), secrets=keyring_)) as again:
        assert again.settings.get(KEYRING_FOLDER_ID) == folder_id      # made once
        assert again.secrets.get("connection-1/qb_refresh_token") == TOKEN


class _NoKeyring:
    """A secret store with no usable keyring behind it."""

    def get(self, key: str) -> str | None:
        raise KeyringUnavailable("no Secret Service provider")

    set = delete = get  # type: ignore[assignment]


def test_without_a_keyring_the_move_waits_for_the_next_start(tmp_path):
    keyring_ = MemorySecretStore()
    old_folder(tmp_path / "data", keyring_)
    build_app(str(tmp_path / "data"), secrets=_NoKeyring()).close()    # starts all the same
    with closing(build_app(str(tmp_path / "data"), secrets=keyring_)) as app:
        assert app.secrets.get("connection-1/consumer_key") == "ck_old"
    stored = keyring_.keys()
    assert [key.partition("/")[2] for key in stored] == [
        "connection-1/consumer_key", "connection-1/qb_refresh_token"]


def test_a_move_cut_short_keeps_the_newer_token_and_loses_nothing():
    keyring_ = MemorySecretStore()
    folder = FolderSecretStore(keyring_, "folder-1")
    keyring_.set("connection-1/qb_refresh_token", "older")
    folder.set("connection-1/qb_refresh_token", "newer")    # moved, then rotated, then killed
    keyring_.set("connection-1/consumer_key", "ck_1")
    assert folder.adopt(["connection-1/qb_refresh_token", "connection-1/consumer_key",
                         "connection-1/consumer_secret"]) == 2
    assert (folder.get("connection-1/qb_refresh_token"), folder.get("connection-1/consumer_key")
            ) == ("newer", "ck_1")
    assert keyring_.keys() == ["folder-1/connection-1/consumer_key",
                               "folder-1/connection-1/qb_refresh_token"]
