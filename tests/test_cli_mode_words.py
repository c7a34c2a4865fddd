"""The command line names a connection's transaction mode in its QuickBooks' words: a Desktop
user reads Sales orders, an Online user (as ever) Sales orders (Estimates)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.file_keyring import FILE_ENV
from tests.sync.conftest import row, write_orders

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 180
QUICKBOOKS = {"desktop": ("--quickbooks", "desktop", "--company-file", r"C:\Books\Shop.qbw"),
              "online": ()}


@pytest.fixture
def cli(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT),
               PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
               **{FILE_ENV: str(tmp_path / "keyring.json")})

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "connex_desktop", "--data-dir",
                               str(tmp_path / "data"), *args], capture_output=True, text=True,
                              env=env, timeout=TIMEOUT_S, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout
    return run


@pytest.mark.parametrize(("product", "mode", "rule_mode"), [
    ("desktop", "Sales orders and invoices", "Sales orders"),
    ("online", "Sales orders (Estimates) and invoices",
     "Sales orders (Estimates in QuickBooks Online)"),
])
def test_a_connection_and_its_rules_speak_its_quickbooks_words(cli, tmp_path, product, mode,
                                                                rule_mode):
    orders = write_orders(tmp_path / "orders.csv", [row("1001", "MUG")])
    added = cli("connection", "add", "Shop", "--source", "csv", "--set", f"path={orders}",
                "--mode", "sales-orders-invoices", *QUICKBOOKS[product])
    assert f"Added the connection 'Shop' (Order file (CSV), {mode})." in added
    ruled = cli("connection", "rule", "add", "Shop", "Drop ship", "--mode", "sales-orders")
    assert ruled.strip() == f"Added the rule 'Drop ship': Every order: book as {rule_mode}."
    assert cli("connection", "rule", "list", "Shop").strip() == (
        f"1. Drop ship: Every order: book as {rule_mode}")
    assert f'rules: ["Every order: book as {rule_mode}"]' in cli("connection", "show", "Shop")


def test_the_desktop_demo_names_its_mode_as_quickbooks_desktop_does(cli):
    shown = cli("demo", "--quickbooks", "desktop", "--orders", "3")
    assert "mode Sales orders, invoices and purchase orders." in shown
    assert "Estimate" not in shown


def test_the_online_demo_names_its_mode_as_it_always_did(cli):
    shown = cli("demo", "--orders", "3", "--mode", "sales-orders-invoices-pos")
    assert "mode Sales orders (Estimates), invoices and purchase orders." in shown


def test_undos_help_names_sales_orders_for_either_quickbooks(cli):
    shown = " ".join(cli("undo", "--help").split())
    assert "then sales orders (estimates in QuickBooks Online)." in shown
