"""A sync killed at any moment and re-run loses and doubles nothing.

Two ways: CLI syncs SIGKILLed at random moments, against a sandbox running as a process of its
own with its company in a file (so it outlives the killed syncs, as QuickBooks would), with
tokens in a keyring file that survives the kills; and, in process, a run stopped dead just
before and just after each of its writes in turn.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from connex_desktop.app import build_app
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.paths import AppPaths
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.sandbox.qbo_company import Company
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from tests.bench.harness import books_problems, connect_csv, fast_engine, sales_order_problems
from tests.bench.orders import ExpectedOrder, generate_orders, write_orders_csv
from tests.fakes.file_keyring import FILE_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 20261126
ORDER_BATCHES = (30, 15, 15, 15, 15, 15)   # orders added to the file before each killed run
LATENCY_MS = 150
KILL_AFTER_S = (0.5, 4.0)
KILL_AFTER_WRITES_S = (0.0, 0.4)
POLL_INTERVAL_S = 0.02
INTERRUPTIONS = 4
FINISHING_RUNS = 3
RUN_TIMEOUT_S = 60
START_TIMEOUT_S = 20


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(REPO_ROOT),
                "PYTHON_KEYRING_BACKEND": "tests.fakes.file_keyring.FileKeyring",
                FILE_ENV: str(tmp_path / "keyring.json"),
                "OAUTHLIB_INSECURE_TRANSPORT": "1"})
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "connex_desktop", *args]


@pytest.fixture(params=[
    ("invoices-with-payments", False),
    ("sales-orders-invoices-pos", True)], ids=["invoices-order-numbers", "pos-qb-numbers"])
def mode(request: pytest.FixtureRequest) -> tuple[str, bool]:
    """The transaction mode, and whether QuickBooks numbers the documents."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def sandbox(tmp_path: Path, environment: dict[str, str],
            mode: tuple[str, bool]) -> Iterator[SimpleNamespace]:
    """`connex-desktop sandbox` in its own process; yields what it printed, plus `db`."""
    db = tmp_path / "company.sqlite3"
    _, use_qb_numbering = mode
    # The company is made before the sandbox serves it: custom transaction numbers off when
    # QuickBooks is to number the documents.
    Company(db, custom_txn_numbers=not use_qb_numbering).close()
    log = (tmp_path / "sandbox.log").open("w")
    process = subprocess.Popen(
        _command("sandbox", "--db", str(db), "--latency-ms", str(LATENCY_MS),
                 "--no-rate-limits"),
        stdout=subprocess.PIPE, stderr=log, text=True, env=environment)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"the sandbox did not start: {(tmp_path / 'sandbox.log').read_text()}"
        yield SimpleNamespace(db=db, process=process, **json.loads(line))
    finally:
        process.terminate()
        try:
            process.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def cli(environment: dict[str, str], data_dir: Path, *args: str,
        stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command("--data-dir", str(data_dir), *args), input=stdin,
                          capture_output=True, text=True, env=environment,
                          timeout=RUN_TIMEOUT_S, check=False)


def add_shop(environment: dict[str, str], data_dir: Path, sandbox: SimpleNamespace,
             order_file: Path, mode: tuple[str, bool]) -> None:
    """`connection add Shop` for the order file, and `qb connect` it to the sandbox company."""
    mode_name, use_qb_numbering = mode
    added = cli(environment, data_dir, "connection", "add", "Shop", "--source", "csv",
                "--set", f"path={order_file}", "--mode", mode_name,
                *(["--use-qb-numbering"] if use_qb_numbering else []))
    assert added.returncode == 0, added.stderr
    connected = cli(environment, data_dir, "qb", "connect", "Shop", "--environment",
                    sandbox.base_url, "--client-id", sandbox.client_id, "--realm-id",
                    sandbox.realm_id, "--token-stdin",
                    stdin=f"{sandbox.client_secret}\n{sandbox.refresh_token}\n")
    assert connected.returncode == 0, connected.stderr


def finish(environment: dict[str, str], data_dir: Path) -> None:
    """Sync as a user would after the interruptions: until a run succeeds."""
    for _ in range(FINISHING_RUNS):
        finished = cli(environment, data_dir, "sync", "Shop", "--json")
        if finished.returncode == 0:
            break
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert json.loads(finished.stdout)["status"] == "succeeded"


def books_problems_in(db: Path, mode: str, orders: list[ExpectedOrder]) -> list[str]:
    """What is wrong with the company the sandbox kept in `db` (read after it stopped)."""
    company = Company(db, seed=False)
    try:
        if mode == "sales-orders-invoices-pos":
            problems = sales_order_problems(company.all, orders)
        else:
            problems = books_problems(company.all("Invoice"), company.all("Payment"), orders)
        names = sorted(customer["DisplayName"] for customer in company.all("Customer"))
        if names != sorted({order.customer for order in orders}):
            problems.append(f"customers {names} are not the buyers, once each")
        return problems
    finally:
        company.close()


def _ledger_count(data_dir: Path, where: str = "") -> int:
    uri = AppPaths.resolve(data_dir).database.as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as database:
        (count,) = database.execute(f"SELECT COUNT(*) FROM ledger {where}").fetchone()
    return int(count)


def unconfirmed_documents(data_dir: Path) -> int:
    """Ledger rows recorded before sending and not yet confirmed: writes a kill left in flight."""
    return _ledger_count(data_dir, "WHERE state = 'planned'")


def wait_for_writes(data_dir: Path, process: subprocess.Popen[Any]) -> None:
    """Until the sync records documents it is about to send (or ends)."""
    before = _ledger_count(data_dir)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (process.poll() is None and time.monotonic() < deadline
           and _ledger_count(data_dir) == before):
        time.sleep(POLL_INTERVAL_S)


def test_sync_killed_at_random_moments_then_rerun_books_each_order_once(
        tmp_path, environment, sandbox, mode):
    mode_name, _ = mode
    rng = random.Random(SEED)
    orders: list[ExpectedOrder] = generate_orders(sum(ORDER_BATCHES), seed=SEED)
    order_file = tmp_path / "orders.csv"
    data_dir = tmp_path / "data"
    write_orders_csv(order_file, orders[:ORDER_BATCHES[0]])
    add_shop(environment, data_dir, sandbox, order_file, mode)

    kills: list[tuple[float, int] | None] = []
    for index in range(len(ORDER_BATCHES)):
        # More orders arrive before each run, so every run has writes to be killed in.
        write_orders_csv(order_file, orders[:sum(ORDER_BATCHES[:index + 1])])
        started = time.monotonic()
        process = subprocess.Popen(_command("--data-dir", str(data_dir), "sync", "Shop",
                                            "--json"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=environment)
        if index % 2:
            # Every other kill is aimed at the writes: a moment after the first is recorded.
            wait_for_writes(data_dir, process)
            kill_after_s = rng.uniform(*KILL_AFTER_WRITES_S)
        else:
            kill_after_s = rng.uniform(*KILL_AFTER_S)
        try:
            process.wait(timeout=kill_after_s)
            kills.append(None)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills.append((round(time.monotonic() - started, 2), unconfirmed_documents(data_dir)))
    print("killed after (s), leaving unconfirmed documents:", kills)
    landed = [kill for kill in kills if kill is not None]
    assert len(landed) >= len(ORDER_BATCHES) // 2, kills
    # At least one kill came while documents were on their way (recorded, not confirmed).
    assert any(unconfirmed for _, unconfirmed in landed), kills

    finish(environment, data_dir)
    sandbox.process.terminate()
    sandbox.process.wait(timeout=START_TIMEOUT_S)
    assert books_problems_in(sandbox.db, mode_name, orders) == []


@pytest.mark.parametrize("mode", [("invoices-with-payments", False)], ids=["invoices"])
def test_sync_interrupted_at_random_moments_stops_cleanly_and_resumes(
        tmp_path, environment, sandbox, mode):
    """Ctrl+C (SIGINT) lets the writes in flight finish: nothing is left unconfirmed."""
    rng = random.Random(SEED + 1)
    orders = generate_orders(sum(ORDER_BATCHES[:INTERRUPTIONS]), seed=SEED + 1)
    order_file = tmp_path / "orders.csv"
    data_dir = tmp_path / "data"
    write_orders_csv(order_file, orders[:ORDER_BATCHES[0]])
    add_shop(environment, data_dir, sandbox, order_file, mode)
    outcomes = []
    for index in range(INTERRUPTIONS):
        write_orders_csv(order_file, orders[:sum(ORDER_BATCHES[:index + 1])])
        process = subprocess.Popen(_command("--data-dir", str(data_dir), "sync", "Shop",
                                            "--json"),
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, env=environment)
        time.sleep(rng.uniform(*KILL_AFTER_S))
        process.send_signal(signal.SIGINT)
        try:
            stdout, _ = process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(
                f"the sync did not stop within {RUN_TIMEOUT_S} s of Ctrl+C") from None
        if process.returncode == -signal.SIGINT:
            # Interrupted while starting, before the sync began: Python's default handler.
            outcomes.append(("not started", unconfirmed_documents(data_dir)))
            continue
        assert process.returncode in (0, 1), (process.returncode, stdout)
        status = json.loads(stdout)["status"]
        assert status in ("cancelled", "succeeded")
        outcomes.append((status, unconfirmed_documents(data_dir)))
    print("interrupted runs (status, unconfirmed documents):", outcomes)
    assert any(status == "cancelled" for status, _ in outcomes), outcomes
    assert all(unconfirmed == 0 for _, unconfirmed in outcomes), outcomes
    finish(environment, data_dir)
    sandbox.process.terminate()
    sandbox.process.wait(timeout=START_TIMEOUT_S)
    assert books_problems_in(sandbox.db, mode[0], orders) == []


# ---- in process: stopped dead before and after each write -------------------------------

SWEEP_ORDER_COUNT = 30
SWEEP_SEED = 29
NEVER = 0


class Killed(BaseException):
    """SIGKILL, in process: no `except Exception` stops it, and the run does nothing more."""


def client_killed_at_write(write: int, *, after_sending: bool) -> type[QuickBooksClient]:
    """A client class whose `write`-th write (a batch or a single create) kills the run: just
    before it is sent, or just after QuickBooks answered (the answer never read)."""
    lock = threading.Lock()
    numbers = itertools.count(1)

    class KilledAtWrite(QuickBooksClient):
        writes = 0

        def batch(self, operations: Any, *, request_id: str) -> Any:
            return self._write(lambda: QuickBooksClient.batch(self, operations,
                                                              request_id=request_id))

        def create(self, entity: str, body: Any, *, request_id: str) -> Any:
            return self._write(lambda: QuickBooksClient.create(self, entity, body,
                                                               request_id=request_id))

        def _write(self, send: Callable[[], Any]) -> Any:
            with lock:
                number = next(numbers)
                KilledAtWrite.writes = number
            if number == write and not after_sending:
                raise Killed
            answer = send()
            if number == write:
                raise Killed
            return answer

    return KilledAtWrite


def killed_then_rerun(folder: Path, orders: list[ExpectedOrder], mode: TransactionMode,
                      client_class: type[QuickBooksClient]) -> list[str]:
    """One run stopped by `client_class`, then syncs until one succeeds; what is then wrong."""
    folder.mkdir()
    order_file = write_orders_csv(folder / "orders.csv", orders)
    with SandboxServer(rate_limits=False) as server:
        app = build_app(str(folder / "data"), secrets=MemorySecretStore())
        try:
            connection = connect_csv(app, server, order_file, mode=mode)
            with suppress(Killed):
                fast_engine(app, client_class).run(connection)
            for _ in range(FINISHING_RUNS):
                result = fast_engine(app).run(connection)
                if result.status is RunStatus.SUCCEEDED:
                    break
            problems = [] if result.status is RunStatus.SUCCEEDED else [
                f"the re-run ended {result.status}: {result.message} {result.errors[:2]}"]
            if mode is TransactionMode.SALES_ORDERS_INVOICES_POS:
                return problems + sales_order_problems(server.company.all, orders)
            return problems + books_problems(server.company.all("Invoice"),
                                             server.company.all("Payment"), orders)
        finally:
            app.close()


@pytest.mark.parametrize("sweep_mode", [
    TransactionMode.INVOICES_WITH_PAYMENTS,
    TransactionMode.SALES_ORDERS_INVOICES_POS])
def test_killed_just_before_or_after_any_write_then_rerun_books_each_order_once(
        tmp_path, sweep_mode):
    orders = generate_orders(SWEEP_ORDER_COUNT, seed=SWEEP_SEED)
    counting = client_killed_at_write(NEVER, after_sending=False)
    assert killed_then_rerun(tmp_path / "whole", orders, sweep_mode, counting) == []
    failures = {}
    for write in range(1, counting.writes + 1):
        for after_sending in (False, True):
            moment = f"{'after' if after_sending else 'before'} write {write}"
            problems = killed_then_rerun(
                tmp_path / moment.replace(" ", "-"), orders, sweep_mode,
                client_killed_at_write(write, after_sending=after_sending))
            if problems:
                failures[moment] = problems[:2]
    assert failures == {}
