"""The secret store contract: tokens, keys and passwords live only behind it (the OS keyring)."""

from __future__ import annotations

from typing import Protocol


class SecretStore(Protocol):
    """Named secrets; the keyring in the app, a dictionary in tests."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


def connection_secret_key(connection_id: int, name: str) -> str:
    """The key of one connection's secret, e.g. `connection-3/qb_refresh_token`."""
    return f"connection-{connection_id}/{name}"
