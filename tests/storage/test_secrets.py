"""Secrets go to a real keyring backend, or nowhere: never to a plain-text fallback."""

from __future__ import annotations

import keyring
import keyring.core
import pytest

from connex_desktop.core.errors import ErrorKind, SetupError
from connex_desktop.core.secrets import SecretStore, connection_secret_key
from connex_desktop.storage.secrets import (
    BACKEND_ENV,
    SERVICE,
    KeyringSecretStore,
    KeyringUnavailable,
    MemorySecretStore,
    copy_connection_secrets,
    delete_connection_secrets,
)
from tests.storage.memory_keyring import MemoryKeyring, UnrecommendedKeyring

TOKEN = "AB11730000000000000secret-refresh-token"
TEST_BACKENDS = "tests.storage.memory_keyring"


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
