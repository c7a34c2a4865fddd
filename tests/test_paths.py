"""Where state lives: the platform's folders, or one folder from --data-dir or the environment."""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from connex_desktop.app import build_app
from connex_desktop.paths import HOME_ENV, AppPaths
from connex_desktop.storage.keyring_secrets import MemorySecretStore


def test_data_dir_puts_everything_under_one_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(HOME_ENV, raising=False)
    paths = AppPaths.resolve(tmp_path / "portable")
    root = tmp_path / "portable"
    assert (paths.data, paths.logs, paths.cache) == (root, root / "logs", root / "cache")
    assert paths.database == root / "connex.sqlite3"


def test_the_environment_variable_does_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "env-home"))
    paths = AppPaths.resolve()
    assert paths.data == tmp_path / "env-home"
    assert paths.logs == tmp_path / "env-home" / "logs"


def test_data_dir_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "env-home"))
    assert AppPaths.resolve(tmp_path / "flag-home").data == tmp_path / "flag-home"


def test_a_relative_or_home_relative_folder_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert AppPaths.resolve("state").data == tmp_path / "state"
    assert AppPaths.resolve("~/connex").data == tmp_path / "user" / "connex"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG folders are Linux's")
def test_without_an_override_the_platform_folders_are_used(tmp_path, monkeypatch):
    monkeypatch.delenv(HOME_ENV, raising=False)
    for variable, folder in (("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state"),
                             ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    paths = AppPaths.resolve()
    assert paths.data == tmp_path / "data" / "connex-desktop"
    assert paths.cache == tmp_path / "cache" / "connex-desktop"
    assert paths.logs.is_relative_to(tmp_path / "state" / "connex-desktop")
    assert paths.database.parent == paths.data


def test_nothing_is_created_until_asked(tmp_path):
    paths = AppPaths.resolve(tmp_path / "home")
    assert not (tmp_path / "home").exists()
    assert paths.ensure() is paths
    assert all(Path(folder).is_dir() for folder in (paths.data, paths.logs, paths.cache))
    paths.ensure()  # again: no error


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_new_data_folder_is_private(tmp_path, file_mode):
    app = build_app(str(tmp_path / "home"), secrets=MemorySecretStore())
    try:
        with app.sync_locks.hold(1):
            pass
        app.start_demo(orders=1)
    finally:
        app.close()
    paths = app.paths
    locks = paths.data / "locks"
    assert {file_mode(folder) for folder in (paths.data, paths.logs, paths.cache, locks)} == {
        0o700}
    assert {path.name: file_mode(path) for path in paths.data.rglob("*") if path.is_file()} == {
        path.name: 0o600 for path in paths.data.rglob("*") if path.is_file()}
    assert {"connex.sqlite3", "demo-company.sqlite3", "connection-1.lock"} <= {
        path.name for path in paths.data.rglob("*")}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_world_readable_data_folder_is_made_private_on_start(tmp_path, file_mode):
    """As an older version left it: folders 755, database, journal, backup, lock, log 644."""
    paths = AppPaths.resolve(tmp_path / "home")
    locks = paths.data / "locks"
    for folder in (paths.data, paths.logs, paths.cache, locks):
        folder.mkdir(parents=True, mode=0o755)
    database, other = paths.database, paths.data / "notes.txt"
    with closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
    written = [database, paths.data / "connex.sqlite3-wal", paths.data / "connex.sqlite3.v3.bak",
               paths.data / "demo-company.sqlite3", locks / "connection-1.lock",
               paths.logs / "connex-desktop.log.1", paths.cache / "reference.json", other]
    for path in written:
        path.touch()
    for path in (*written, paths.data, paths.logs, paths.cache, locks):
        path.chmod(0o755 if path.is_dir() else 0o644)
    with closing(build_app(str(paths.data), secrets=MemorySecretStore())):
        assert {file_mode(folder) for folder in (paths.data, paths.logs, paths.cache,
                                            locks)} == {0o700}
        assert {path.name: file_mode(path) for path in written[:-1]} == {
            path.name: 0o600 for path in written[:-1]}
    assert file_mode(other) == 0o644     # not the app's: a folder the user chose may hold others
