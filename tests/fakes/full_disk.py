"""A database that fills up: SQLite itself answers SQLITE_FULL ("database or disk is full")."""

from __future__ import annotations

import sqlite3

import pytest

from connex_desktop.storage.database import Database


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, spare_pages: int) -> None:
    """Every database connection opened from now on may grow the file by `spare_pages` pages.

    SQLite's max_page_count makes SQLite report a full disk exactly where a real one would
    (a page it cannot add, mostly at COMMIT), through the app's real code paths.
    """
    connect = Database._connect

    def limited(self: Database) -> sqlite3.Connection:
        connection = connect(self)
        if self.path is not None:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {pages + spare_pages}")
        return connection

    monkeypatch.setattr(Database, "_connect", limited)
