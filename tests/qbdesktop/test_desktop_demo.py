"""`connex-desktop demo --quickbooks desktop`: the whole demo into a QuickBooks Desktop company
file through the Web Connector transport, with no account and no keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")   # no keyring at all
    return subprocess.run([sys.executable, "-m", "connex_desktop", "--data-dir",
                           str(tmp_path / "data"), "demo", "--quickbooks", "desktop",
                           "--orders", "100", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_the_demo_books_into_quickbooks_desktop_headless_and_explains_itself(tmp_path):
    shown = demo(tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "reached through the QuickBooks Web Connector" in shown.stdout
    assert "QuickBooks numbered their" in shown.stdout

    answered = demo(tmp_path, "--json")
    assert answered.returncode == 0, answered.stderr
    result = json.loads(answered.stdout)
    assert result["status"] == "succeeded" and result["orders"]["failed"] == 0
    kinds = {document["kind"] for document in result["documents"]}
    assert {"Estimate", "Invoice", "PurchaseOrder"} <= kinds
    marketplace = [document for document in result["documents"]
                   if document["order"].startswith("AMZ-")]
    assert marketplace and all(not document["doc_number"].startswith("AMZ-")
                               for document in marketplace)
