"""Secret stores: the system keyring (never a plain-text fallback) and one in memory for tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from secrets import token_hex

import keyring
import keyring.backend
import keyring.core
import keyring.errors
from keyring.backends import fail, null

from connex_desktop.core.errors import SetupError
from connex_desktop.core.secret_store import SecretStore, connection_secret_key

SERVICE = "connex-desktop"
BACKEND_ENV = "PYTHON_KEYRING_BACKEND"

# Called with every secret value read or written, so the app can keep it out of the logs.
SecretObserver = Callable[[str], None]


class KeyringUnavailable(SetupError):
    """No usable system keyring: the app stores no secrets rather than store them in plain text."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"No system keyring is available to keep passwords and tokens safe ({reason}). "
            "On Linux, install and start GNOME Keyring or KWallet (any Secret Service "
            "provider, unlocked in your desktop session); macOS Keychain and Windows Credential "
            f"Manager work as they are. Or choose a keyring backend with the {BACKEND_ENV} "
            "environment variable. Connex Desktop does not store secrets in plain text.",
            field="keyring")


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


class _ObservedStore:
    """A secret store that shows its observer every value it reads or writes."""

    def __init__(self, observer: SecretObserver | None) -> None:
        self._observer = observer

    def _seen(self, value: str | None) -> None:
        if value is not None and self._observer is not None:
            self._observer(value)


class KeyringSecretStore(_ObservedStore):
    """Secrets in the operating system's keyring, under one service name.

    The backend is the one keyring selects, which honours PYTHON_KEYRING_BACKEND. Every
    operation raises KeyringUnavailable when there is no usable keyring.
    """

    def __init__(self, service: str = SERVICE, *, observer: SecretObserver | None = None) -> None:
        super().__init__(observer)
        self.service = service

    @property
    def backend_name(self) -> str:
        """The keyring backend in use, for the start-up log and the self-check."""
        return _backend_name(keyring.get_keyring())

    def check(self) -> None:
        """Raise KeyringUnavailable unless secrets can be stored; touches no secret."""
        self._backend()

    def get(self, key: str) -> str | None:
        backend = self._backend()
        try:
            value = backend.get_password(self.service, key)
        except keyring.errors.KeyringError as error:
            raise self._failed(error) from error
        self._seen(value)
        return value

    def set(self, key: str, value: str) -> None:
        self._seen(value)
        backend = self._backend()
        try:
            backend.set_password(self.service, key, value)
        except keyring.errors.KeyringError as error:
            raise self._failed(error) from error

    def delete(self, key: str) -> None:
        """Forget a secret; forgetting one that is not there is not an error."""
        backend = self._backend()
        try:
            backend.delete_password(self.service, key)
        except keyring.errors.PasswordDeleteError:
            pass  # backends say so when there was nothing to delete
        except keyring.errors.KeyringError as error:
            raise self._failed(error) from error

    @staticmethod
    def _backend() -> keyring.backend.KeyringBackend:
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            raise KeyringUnavailable(f"keyring found only {_backend_name(backend)}")
        # keyring may pick a backend it does not recommend (e.g. a plain-text file from
        # keyrings.alt) when nothing better is installed; only an explicit choice may use one.
        if not keyring.core.recommended(backend) and not os.environ.get(BACKEND_ENV):
            raise KeyringUnavailable(
                f"the only keyring found, {_backend_name(backend)}, is not a secure one")
        return backend

    @staticmethod
    def _failed(error: keyring.errors.KeyringError) -> KeyringUnavailable:
        if isinstance(error, keyring.errors.KeyringLocked):
            return KeyringUnavailable("the keyring is locked; unlock it and try again")
        return KeyringUnavailable(f"the keyring reported {type(error).__name__}: {error}")


class MemorySecretStore(_ObservedStore):
    """Secrets in a dictionary, for tests and the throw-away demo."""

    def __init__(self, *, observer: SecretObserver | None = None) -> None:
        super().__init__(observer)
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._values.get(key)
        self._seen(value)
        return value

    def set(self, key: str, value: str) -> None:
        self._seen(value)
        with self._lock:
            self._values[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def keys(self) -> list[str]:
        """The names stored (never the values), for tests that check what was kept or deleted."""
        with self._lock:
            return sorted(self._values)


def new_folder_id() -> str:
    """A random id for one data folder, made once and kept in its database."""
    return f"folder-{token_hex(8)}"


class FolderSecretStore:
    """One data folder's secrets: every key under the folder's own id, so connection 1 of one
    folder and connection 1 of another are two keyring entries, never one."""

    def __init__(self, store: SecretStore, folder_id: str) -> None:
        self.store = store
        self.folder_id = folder_id

    def key(self, key: str) -> str:
        """The key in the underlying store, e.g. `folder-3f…/connection-1/qb_refresh_token`."""
        return f"{self.folder_id}/{key}"

    def get(self, key: str) -> str | None:
        return self.store.get(self.key(key))

    def set(self, key: str, value: str) -> None:
        self.store.set(self.key(key), value)

    def delete(self, key: str) -> None:
        self.store.delete(self.key(key))

    def adopt(self, keys: Iterable[str]) -> int:
        """Move the secrets kept under these keys without a folder id (as versions before it
        kept them) to this folder's keys; returns how many were moved. A value already under
        the new key (a move cut short, then a newer token saved) is kept. Each value is written
        before the old entry is deleted, so an interrupted move loses nothing."""
        moved = 0
        for key in keys:
            value = self.store.get(key)
            if value is None:
                continue
            if self.get(key) is None:
                self.set(key, value)
            self.store.delete(key)
            moved += 1
        return moved


def delete_connection_secrets(store: SecretStore, connection_id: int,
                              names: Iterable[str]) -> None:
    """Forget the named secrets of one connection, e.g. after the connection was removed."""
    for name in names:
        store.delete(connection_secret_key(connection_id, name))


def copy_connection_secrets(store: SecretStore, from_id: int, to_id: int,
                            names: Iterable[str], *, into: SecretStore | None = None) -> None:
    """Give a duplicated connection the secrets of the one it was copied from (kept in `into`
    when the copy's are kept elsewhere)."""
    for name in names:
        value = store.get(connection_secret_key(from_id, name))
        if value is not None:
            (into or store).set(connection_secret_key(to_id, name), value)
