"""Shared fixtures: offscreen Qt, and a private data folder for every test."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# python-quickbooks refuses plain http unless told; the local sandbox serves http on loopback.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    """No test reads or writes the real user's state."""
    monkeypatch.setenv("CONNEX_DESKTOP_HOME", str(tmp_path / "home"))
