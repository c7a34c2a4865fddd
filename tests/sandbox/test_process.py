"""The demo's sandbox runs in a process of its own, and never outlives the app that started it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from connex_desktop.app import build_app
from connex_desktop.core.quickbooks_rules import DISCOVERY_PATH
from connex_desktop.core.result import RunStatus
from connex_desktop.sandbox.process import SandboxProcess
from connex_desktop.storage.keyring_secrets import MemorySecretStore

GONE_WITHIN_S = 10
ROOT = Path(__file__).resolve().parents[2]


def answers(base_url: str) -> bool:
    try:
        return requests.get(base_url + DISCOVERY_PATH, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def gone_soon(base_url: str) -> bool:
    deadline = time.monotonic() + GONE_WITHIN_S
    while time.monotonic() < deadline:
        if not answers(base_url):
            return True
        time.sleep(0.1)
    return False


def test_the_demo_company_is_served_by_another_process(tmp_path):
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    try:
        demo = app.start_demo(orders=3)
        url = demo.quickbooks.environment
        assert answers(url)
        assert not [thread for thread in threading.enumerate() if thread.name == "qbo-sandbox"]
        result = app.engine().run(demo)
        assert (result.status, result.synced + result.skipped) == (RunStatus.SUCCEEDED, 3)
    finally:
        app.close()
    assert gone_soon(url)


def test_a_second_demo_start_gets_tokens_of_its_own(tmp_path):
    with SandboxProcess() as sandbox:
        first, second = sandbox.new_grant(), sandbox.new_grant()
        assert first["refresh_token"] != second["refresh_token"] != sandbox.refresh_token


def test_the_sandbox_ends_with_an_app_that_was_killed(tmp_path):
    """The app dies without closing anything (os._exit, as after a crash or a kill)."""
    script = ("import os, sys\n"
              "from connex_desktop.app import build_app\n"
              "from connex_desktop.storage.keyring_secrets import MemorySecretStore\n"
              "app = build_app(sys.argv[1], secrets=MemorySecretStore())\n"
              "print(app.start_demo().quickbooks.environment, flush=True)\n"
              "os._exit(3)\n")
    ran = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.returncode == 3, ran.stderr
    url = ran.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    assert gone_soon(url)
