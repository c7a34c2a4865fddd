"""The window's demo connects as a user does: through the connect service, no keys typed."""

from __future__ import annotations

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.result import RunStatus
from connex_desktop.quickbooks.auth import CLIENT_SECRET, REFRESH_TOKEN
from connex_desktop.sandbox.seed import COMPANY_NAME
from tests.ui.test_main_window import sync


def test_the_windows_demo_connects_through_the_service_and_refreshes_there(qtbot, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    company = connection.quickbooks
    assert company.connect_service.startswith("http://127.0.0.1:") and not company.client_id
    assert company.company_name == COMPANY_NAME and company.signed_in_at
    prefix = quickbooks_key_prefix(connection.id)
    refresh_token = app.secrets.get(f"{prefix}/{REFRESH_TOKEN}")     # the app's keyring
    assert refresh_token and app.secrets.get(f"{prefix}/{CLIENT_SECRET}") is None

    assert app._demo is not None
    app._demo.server.inject("expire_tokens")     # Sync now refreshes first, through the service
    _cid, result, _request = sync(qtbot, desktop, window.sync_selected)
    assert result.status is RunStatus.SUCCEEDED and result.synced > 0, result.message
    rotated = app.secrets.get(f"{prefix}/{REFRESH_TOKEN}")
    assert rotated and rotated != refresh_token

    again = window.try_demo()                    # the demo again: the same sign-in
    assert again.quickbooks.signed_in_at == company.signed_in_at
    assert app.secrets.get(f"{prefix}/{REFRESH_TOKEN}") == rotated
