"""A keyring backend in a JSON file, for tests whose CLI processes must share tokens.

Chosen by name, as a user would choose a backend:
PYTHON_KEYRING_BACKEND=tests.fakes.file_keyring.FileKeyring, with the file in
CONNEX_TEST_KEYRING_FILE. Each change replaces the file atomically, so a process killed at any
moment leaves either the old or the new secrets, never a torn file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

FILE_ENV = "CONNEX_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        # Viable only when chosen by name, so keyring never picks it for anything else.
        if os.environ.get("PYTHON_KEYRING_BACKEND", "").rpartition(".")[2] != cls.__name__:
            raise RuntimeError(f"{cls.__name__} is for tests that select it")
        return 1

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._path().read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

    def _save(self, values: dict[str, str]) -> None:
        path = self._path()
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(values, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)

    @staticmethod
    def _key(service: str, username: str) -> str:
        return f"{service}\n{username}"

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(self._key(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        values = self._load()
        values[self._key(service, username)] = password
        self._save(values)

    def delete_password(self, service: str, username: str) -> None:
        values = self._load()
        if values.pop(self._key(service, username), None) is None:
            raise PasswordDeleteError(username)
        self._save(values)
