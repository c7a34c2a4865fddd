"""`--self-check`: one line per check, exit 1 on a failure, the user's data left as it was."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from connex_desktop import __version__, selfcheck
from connex_desktop.paths import AppPaths
from connex_desktop.sandbox import process as sandbox_process
from connex_desktop.storage.database import Database
from connex_desktop.storage.migrations import MIGRATIONS
from tests.bundle import user_environment

CHECK_NAMES = ["version", "resources", "Qt platform", "keyring", "data folder", "database",
               "sandbox", "demo sync"]
SELF_CHECK_TIMEOUT_S = 120


def run_self_check(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (Qt allows one application object per process)."""
    return subprocess.run(
        [sys.executable, "-m", "connex_desktop", "--data-dir", str(data_dir), "--self-check"],
        capture_output=True, text=True, timeout=SELF_CHECK_TIMEOUT_S,
        env={**user_environment(), "QT_QPA_PLATFORM": "offscreen", **env})

def lines_by_check(stdout: str) -> dict[str, tuple[str, str]]:
    """{check name: (status, detail)} from the aligned output lines."""
    found = {}
    for line in stdout.splitlines():
        for name in CHECK_NAMES:
            status, _, rest = line.partition(" ")
            if rest.lstrip().startswith(name + " "):
                found[name] = (status, rest.lstrip()[len(name):].strip())
    return found


@pytest.fixture
def paths(tmp_path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "user")


def test_self_check_passes_end_to_end_and_leaves_the_data_folder_empty(tmp_path):
    data_dir = tmp_path / "user"
    done = run_self_check(data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = lines_by_check(done.stdout)
    assert list(checks) == CHECK_NAMES, done.stdout
    assert __version__ in checks["version"][1]
    assert checks["Qt platform"] == ("ok", checks["Qt platform"][1])
    assert "offscreen" in checks["Qt platform"][1]
    assert checks["keyring"][0] in ("ok", "warn")  # this machine's keychain, not the app's
    assert checks["sandbox"][0] == "ok" and "http://127.0.0.1:" in checks["sandbox"][1]
    status, detail = checks["demo sync"]
    assert status == "ok", done.stdout
    assert "Invoice" in detail and "Payment" in detail
    assert done.stdout.splitlines()[-1].startswith("self-check passed: 8 checks")
    # The demo ran in a throw-away folder: the user's folder has no database and no demo company.
    assert not (data_dir / "connex.sqlite3").exists()
    assert not (data_dir / "demo-company.sqlite3").exists()
    assert done.stderr == ""


def test_an_unwritable_data_folder_fails_the_self_check(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_self_check(blocker / "data")
    assert done.returncode == 1
    status, detail = lines_by_check(done.stdout)["data folder"]
    assert status == "FAIL" and str(blocker / "data") in detail
    assert "self-check FAILED" in done.stdout.splitlines()[-1]


def test_data_folder_check_writes_nothing_it_keeps(paths):
    assert "writable" in selfcheck.check_data_folder(paths)
    assert list(paths.data.iterdir()) == [paths.logs]
    assert list(paths.logs.iterdir()) == []


def test_a_missing_database_is_reported_not_created(paths, tmp_path):
    detail = selfcheck.check_database(paths, tmp_path)
    assert f"schema version {len(MIGRATIONS)} of {len(MIGRATIONS)}" in detail
    assert not paths.database.exists()


def test_a_current_database_is_reported_current(paths, tmp_path):
    Database.open(paths.database).close()
    assert selfcheck.check_database(paths, tmp_path).endswith(": current")


def test_an_older_database_is_migrated_on_a_copy_only(paths, tmp_path):
    Database.open(paths.database, migrations=MIGRATIONS[:1]).close()
    detail = selfcheck.check_database(paths, tmp_path)
    assert f"at schema version 1 of {len(MIGRATIONS)}" in detail
    assert "run on a copy" in detail
    with closing(sqlite3.connect(paths.database)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert sorted(path.name for path in paths.data.iterdir()) == ["connex.sqlite3"]


def test_a_database_from_a_newer_app_fails(paths, tmp_path):
    Database.open(paths.database).close()
    with closing(sqlite3.connect(paths.database)) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(selfcheck._Failed, match="newer than this app"):
        selfcheck.check_database(paths, tmp_path)


def test_no_usable_keyring_is_a_warning_that_says_the_demo_still_works(monkeypatch):
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    check = selfcheck.check_keyring()
    assert check.status is selfcheck.Status.WARNING
    assert "only the demo works" in check.detail


def test_a_keyring_backend_missing_from_the_installation_is_a_failure(monkeypatch):
    monkeypatch.setitem(selfcheck.KEYRING_BACKEND_MODULES, sys.platform,
                        "keyring.backends.NoSuchKeychain")
    check = selfcheck._guarded("keyring", selfcheck.check_keyring)
    assert check.status is selfcheck.Status.FAILED
    assert "keyring.backends.NoSuchKeychain" in check.detail


def test_a_sandbox_that_cannot_start_fails_both_sandbox_and_demo(monkeypatch, tmp_path):
    def refused(*options: str) -> list[str]:   # the sandbox's process ends as it would
        return [sys.executable, "-c", "raise OSError(98, 'Address already in use')"]

    monkeypatch.setattr(sandbox_process, "sandbox_command", refused)
    sandbox, demo = selfcheck.check_sandbox_and_demo(tmp_path)
    assert (sandbox.status, demo.status) == (selfcheck.Status.FAILED, selfcheck.Status.FAILED)
    assert "Address already in use" in sandbox.detail
    assert demo.detail == "not run: no sandbox"


def test_a_failed_demo_sync_is_a_failure_naming_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(selfcheck, "DEMO_ORDERS", 0)  # the demo store then has nothing to book
    sandbox, demo = selfcheck.check_sandbox_and_demo(tmp_path)
    assert sandbox.status is selfcheck.Status.OK
    assert demo.status is selfcheck.Status.FAILED
    assert "0 of 0 orders booked" in demo.detail


def test_a_keyring_backend_keyring_cannot_discover_is_a_failure(monkeypatch):
    """A frozen app that lost keyring's entry points finds no backend (jaraco/keyring#324)."""
    monkeypatch.setattr(selfcheck.metadata, "entry_points", lambda group: [])
    check = selfcheck._guarded("keyring", selfcheck.check_keyring)
    assert check.status is selfcheck.Status.FAILED
    assert "cannot discover" in check.detail and "entry point" in check.detail


def test_an_app_that_cannot_be_built_fails_sandbox_and_demo_without_a_crash(monkeypatch,
                                                                             tmp_path):
    import connex_desktop.app

    def broken(*args: object, **kwargs: object) -> None:
        raise ImportError("No module named 'connex_desktop.sync.planner'")

    monkeypatch.setattr(connex_desktop.app, "build_app", broken)
    sandbox, demo = selfcheck.check_sandbox_and_demo(tmp_path)
    assert sandbox.status is selfcheck.Status.FAILED
    assert sandbox.detail == "ImportError: No module named 'connex_desktop.sync.planner'"
    assert demo.detail == "not run: no sandbox"
