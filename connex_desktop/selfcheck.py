"""`connex-desktop --self-check`: this installation checked end to end, one line per check."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import importlib
import json
import logging
import platform
import sqlite3
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from connex_desktop import APP_NAME, __version__
from connex_desktop.core.errors import ConnexError
from connex_desktop.logs import setup_logging
from connex_desktop.paths import AppPaths

if TYPE_CHECKING:
    from connex_desktop.app import App
    from connex_desktop.core.connection import Connection

EXIT_OK = 0
EXIT_FAILED = 1
DEMO_ORDERS = 1
SANDBOX_TIMEOUT_S = 10
# The keyring backend each system's keychain needs; keyring finds backends through entry
# points, which a frozen bundle can lose (jaraco/keyring#324), so a missing module is a broken
# installation while an unusable keychain is only the machine's state.
KEYRING_BACKEND_MODULES = {
    "linux": "keyring.backends.SecretService",
    "darwin": "keyring.backends.macOS",
    "win32": "keyring.backends.Windows",
}


class Status(enum.StrEnum):
    OK = "ok"
    WARNING = "warn"
    FAILED = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


class _Failed(Exception):
    """A check's failure, in words for the user."""


def _how_installed() -> str:
    if getattr(sys, "frozen", False):
        return f"app bundle at {Path(sys.executable).parent}"
    package = Path(__file__).resolve().parent
    if (package.parent / "pyproject.toml").is_file():
        return f"from source at {package.parent}"
    return f"installed at {package}"


def check_version() -> str:
    return (f"{APP_NAME} {__version__}, Python {platform.python_version()} on "
            f"{platform.system()} {platform.machine()}, {_how_installed()}")


def check_resources() -> str:
    from connex_desktop.resources import resources_dir

    icons = len(list((resources_dir() / "icons").glob("*.svg")))
    return f"{resources_dir()} ({icons} SVG icons)"


def check_qt() -> Check:
    # The probe lives in ui/, the only package that imports Qt; imported here only when run.
    from connex_desktop.ui.probe import qt_platform

    detail, note = qt_platform()
    if note:
        return Check("Qt platform", Status.WARNING, f"{detail}; {note}")
    return Check("Qt platform", Status.OK, detail)


def check_keyring() -> Check:
    from connex_desktop.storage.keyring_secrets import KeyringSecretStore, KeyringUnavailable

    store = KeyringSecretStore()
    needed = KEYRING_BACKEND_MODULES.get(sys.platform)
    if needed is not None:
        discovered = {entry.value.partition(":")[0]
                      for entry in metadata.entry_points(group="keyring.backends")}
        if needed not in discovered:
            raise _Failed(f"keyring cannot discover {needed} in this installation (its entry "
                          "point is missing); reinstall the app")
        try:
            importlib.import_module(needed)
        except ImportError as error:
            raise _Failed(f"this installation lacks {needed} ({error}); reinstall the app") \
                from error
    try:
        store.check()
    except KeyringUnavailable as error:
        # Not a failure: the demo needs no keyring, and the app refuses (in plain words) to save
        # a real store's or QuickBooks' secrets until there is one.
        return Check("keyring", Status.WARNING,
                     f"{error} Until then only the demo works (it needs no keyring).")
    return Check("keyring", Status.OK, store.backend_name)


def check_data_folder(paths: AppPaths) -> str:
    for folder in (paths.data, paths.logs):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".self-check-") as probe:
                probe.write(b"ok")
                probe.flush()
        except OSError as error:
            raise _Failed(f"cannot write in {folder}: {error.strerror or error}") from error
    return f"{paths.data} (logs in {paths.logs}) writable"


def check_database(paths: AppPaths, scratch: Path) -> str:
    """Reads the user's database without changing it; migrations are tried on a copy."""
    from connex_desktop.storage.database import Database
    from connex_desktop.storage.migrations import MIGRATIONS

    latest = len(MIGRATIONS)
    if not paths.database.exists():
        with Database.open(scratch / "new.sqlite3") as fresh:
            return (f"no database yet at {paths.database}; a new one is created at schema "
                    f"version {fresh.version} of {latest}")
    try:
        with closing(sqlite3.connect(f"{paths.database.as_uri()}?mode=ro", uri=True)) as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version < latest:
                copy = scratch / "copy.sqlite3"
                with closing(sqlite3.connect(copy)) as destination:
                    db.backup(destination)
    except sqlite3.Error as error:
        raise _Failed(f"cannot read {paths.database}: {error}") from error
    if version == latest:
        return f"{paths.database} at schema version {version} of {latest}: current"
    if version > latest:
        raise _Failed(f"{paths.database} is at schema version {version}, newer than this app "
                      f"knows ({latest}); update the app")
    with Database.open(copy) as migrated:
        return (f"{paths.database} at schema version {version} of {latest}: migrations "
                f"{version + 1}-{migrated.version} run on a copy; the app applies them at start")


def _demo_sync(app: App, connection: Connection) -> str:
    from connex_desktop.core.money import money_text
    from connex_desktop.core.result import RunStatus, RunTrigger

    result = app.engine().run(connection, trigger=RunTrigger.DEMO)
    if result.status is not RunStatus.SUCCEEDED or result.synced != DEMO_ORDERS \
            or not result.documents:
        problems = [result.message] if result.message else []
        problems += [f"order {error.order}: {error.message}" for error in result.errors]
        raise _Failed(f"{result.status.value}, {result.synced} of {result.fetched} orders "
                      f"booked: {'; '.join(problems) or 'no documents'}")
    booked = ", ".join(f"{doc.kind.value} {doc.doc_number or 'Id ' + doc.qb_id} "
                       f"({money_text(doc.total)})" for doc in result.documents)
    return f"order {result.documents[0].order} booked ({connection.mode.value}): {booked}"


def _sandbox_answers(url: str) -> str:
    from connex_desktop.core.quickbooks_rules import DISCOVERY_PATH

    with urllib.request.urlopen(url + DISCOVERY_PATH, timeout=SANDBOX_TIMEOUT_S) as reply:
        json.load(reply)  # the OAuth discovery document: the server really answers over HTTP
    return f"local QuickBooks sandbox answering at {url}"


def check_sandbox_and_demo(scratch: Path) -> list[Check]:
    """Start the sandbox and sync one demo order, in a throw-away data folder."""
    from connex_desktop.app import build_app
    from connex_desktop.storage.keyring_secrets import MemorySecretStore

    def not_started(error: Exception) -> list[Check]:
        return [Check("sandbox", Status.FAILED, f"{type(error).__name__}: {error}"),
                Check("demo sync", Status.FAILED, "not run: no sandbox")]

    try:
        app = build_app(str(scratch / "demo"), secrets=MemorySecretStore())
    except Exception as error:  # a broken installation fails in ways no one can list
        return not_started(error)
    try:
        try:
            connection = app.start_demo(orders=DEMO_ORDERS)
        except Exception as error:
            return not_started(error)
        return [_guarded("sandbox", lambda: _sandbox_answers(connection.quickbooks.environment)),
                _guarded("demo sync", lambda: _demo_sync(app, connection))]
    finally:
        app.close()


def _guarded(name: str, check: Callable[[], str | Check]) -> Check:
    """A check's outcome; an unexpected error is that check's failure, not the end of the run."""
    try:
        outcome = check()
    except (_Failed, ConnexError) as error:
        return Check(name, Status.FAILED, str(error))
    except Exception as error:  # a broken installation fails in ways no one can list
        return Check(name, Status.FAILED, f"{type(error).__name__}: {error}")
    return outcome if isinstance(outcome, Check) else Check(name, Status.OK, outcome)


def run_checks(data_dir: str | None = None) -> Iterator[Check]:
    """Every check in order, each yielded as soon as it is done."""
    paths = AppPaths.resolve(data_dir)
    yield _guarded("version", check_version)
    yield _guarded("resources", check_resources)
    yield _guarded("Qt platform", check_qt)
    yield _guarded("keyring", check_keyring)
    data_folder = _guarded("data folder", lambda: check_data_folder(paths))
    yield data_folder
    if data_folder.status is Status.OK:
        # What goes wrong below is logged with its traceback where the app logs, not on stderr.
        log_file = setup_logging(paths)
        logging.getLogger(__name__).info("self-check of %s %s", APP_NAME, __version__)
    with tempfile.TemporaryDirectory(prefix="connex-self-check-") as scratch:
        yield _guarded("database", lambda: check_database(paths, Path(scratch)))
        for check in check_sandbox_and_demo(Path(scratch)):
            if check.status is Status.FAILED and data_folder.status is Status.OK:
                check = dataclasses.replace(check, detail=f"{check.detail} (log: {log_file})")
            yield check


def run(args: argparse.Namespace) -> int:
    """Print one line per check; exit 1 if any failed (warnings leave the exit code at 0)."""
    checks: list[Check] = []
    for check in run_checks(getattr(args, "data_dir", None)):
        checks.append(check)
        print(f"{check.status.value:<5} {check.name:<12} {check.detail}", flush=True)
    failed = sum(check.status is Status.FAILED for check in checks)
    warned = sum(check.status is Status.WARNING for check in checks)
    if failed:
        print(f"self-check FAILED: {failed} of {len(checks)} checks failed", flush=True)
        return EXIT_FAILED
    print(f"self-check passed: {len(checks)} checks, {warned} warning"
          f"{'' if warned == 1 else 's'}", flush=True)
    return EXIT_OK
