"""Shared fixtures: offscreen Qt, and a private data folder for every test."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# python-quickbooks refuses plain http unless told; the local sandbox serves http on loopback.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    """No test reads or writes the real user's state."""
    monkeypatch.setenv("CONNEX_DESKTOP_HOME", str(tmp_path / "home"))


@pytest.fixture
def file_mode() -> Iterator[Callable[[Path], int]]:
    """Under the usual umask (022, where a plain create is readable by everyone): a path's
    permission bits."""
    old = os.umask(0o022)
    yield lambda path: stat.S_IMODE(path.stat().st_mode)
    os.umask(old)
