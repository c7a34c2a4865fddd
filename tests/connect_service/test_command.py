"""`connex-desktop connect-service`: serves until stopped, with the sandbox or the environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from connex_desktop.quickbooks.connect_client import SERVICE_ENV, ConnectClient
from tests.connect_service.conftest import Browser

COMMAND = [sys.executable, "-m", "connex_desktop", "connect-service"]


def without_service_settings() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("CONNEX_CONNECT_")}


def test_connect_service_with_the_sandbox_signs_in_and_stops_on_sigterm():
    service = subprocess.Popen([*COMMAND, "--sandbox"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=without_service_settings())
    try:
        started = json.loads(service.stdout.readline())
        assert started["redirect_uri"] == started["service_url"] + "/callback"
        assert started["use_with"] == f"{SERVICE_ENV}={started['service_url']}"
        app = ConnectClient(started["service_url"])
        pending = app.start()
        page = Browser().approve(pending.authorization_url)
        assert page.status_code == 200 and "QuickBooks approved" in page.text
        signed_in = app.claim(pending)
        assert signed_in is not None and signed_in.environment == started["environment"]
    finally:
        service.send_signal(signal.SIGTERM)
        _out, err = service.communicate(timeout=30)
    assert service.returncode == 0 and "connect service stopped" in err
    assert "GET /callback" in err                 # the log on standard error, without secrets
    assert signed_in.refresh_token not in err and signed_in.access_token not in err


def test_connect_service_without_settings_names_the_missing_variable():
    done = subprocess.run(COMMAND, capture_output=True, text=True, timeout=60,
                          env=without_service_settings())
    assert done.returncode == 2 and "CONNEX_CONNECT_CLIENT_ID" in done.stderr
