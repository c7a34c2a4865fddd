"""Where state lives: the platform's folders, or one folder from --data-dir or the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from connex_desktop.paths import HOME_ENV, AppPaths


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
