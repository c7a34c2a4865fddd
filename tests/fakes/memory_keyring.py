"""Keyring backends for tests, selected with PYTHON_KEYRING_BACKEND exactly as a user would."""

from __future__ import annotations

import os
from typing import ClassVar

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps passwords in a class-level dictionary."""

    passwords: ClassVar[dict[tuple[str, str], str]] = {}

    @properties.classproperty
    def priority(cls) -> float:
        # Viable only when chosen by name, so keyring never picks it for anything else.
        if os.environ.get("PYTHON_KEYRING_BACKEND", "").rpartition(".")[2] != cls.__name__:
            raise RuntimeError(f"{cls.__name__} is for tests that select it")
        return 1

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


class LockedKeyring(MemoryKeyring):
    """A keyring the user has not unlocked: every operation fails."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class ReadOnlyKeyring(MemoryKeyring):
    """A keyring that reads the secrets it holds but refuses to change them, as the backend of
    its class attribute `refusal` says (keyring's own error, or one a backend lets through)."""

    refusal: ClassVar[Exception] = PasswordSetError("Failed to create the item")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.refusal


class UnrecommendedKeyring(MemoryKeyring):
    """Stands for a backend keyring ranks below "recommended", such as a plain-text file."""

    in_use: ClassVar[bool] = False

    @properties.classproperty
    def priority(cls) -> float:
        if not cls.in_use:
            raise RuntimeError(f"{cls.__name__} is for tests that select it")
        return 0.5
