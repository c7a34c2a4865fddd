"""The connect service end to end: sign-in, one hand-over, refusals, refresh, revoke, limits."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import subprocess
import sys

import pytest
import requests

from connex_desktop.connect_service.local import LocalConnectService
from connex_desktop.connect_service.settings import ServiceSettings, SettingsError
from connex_desktop.connect_service.signins import (
    CONFIRM_WITHIN_S,
    SIGN_IN_LIFETIME_S,
    TOKENS_HELD_S,
)
from connex_desktop.core.errors import ErrorKind
from connex_desktop.quickbooks.connect_client import ConnectClient, s256
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.storage.keyring_secrets import KeyringUnavailable
from tests.connect_service.conftest import with_query

COMPANY = "Maple & Pine Outfitters"


def refusal(call) -> QuickBooksFault:
    with pytest.raises(QuickBooksFault) as refused:
        call()
    return refused.value


def test_a_sign_in_hands_the_tokens_to_the_app_once(service, sandbox, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    assert sandbox.client_id in pending.authorization_url
    assert sandbox.client_secret not in pending.authorization_url
    assert app.claim(pending) is None          # the user has not approved yet

    page = browser.approve(pending.authorization_url)
    assert page.status_code == 200
    assert "QuickBooks approved access to Maple &amp; Pine Outfitters" in page.text
    assert "refresh_token" not in page.text    # no token goes through the browser

    signed_in = app.claim(pending)
    assert signed_in is not None
    assert (signed_in.realm_id, signed_in.company_name) == (sandbox.realm_id, COMPANY)
    assert signed_in.environment == sandbox.base_url
    assert sandbox.oauth.access_token_valid(signed_in.access_token)

    again = refusal(lambda: app.claim(pending))
    assert again.code == "already_claimed" and again.kind is ErrorKind.RECONNECT
    assert "already handed over" in str(again)


def test_the_page_says_connected_only_once_the_app_confirms_it_stored_the_tokens(
        service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    page = browser.approve(pending.authorization_url)
    assert "QuickBooks approved" in page.text and "Connex Desktop is finishing" in page.text
    assert "Connected" not in page.text
    signed_in = app.claim(pending)             # the app holds the tokens, has not stored them
    assert signed_in is not None
    still = browser.check_again(page)
    assert "Connex Desktop is finishing" in still.text and "Connected" not in still.text
    assert browser.status(page)["status"] == "finishing"

    app.confirm(pending)                       # after its keyring write
    done = browser.check_again(page)
    assert "Connected to Maple &amp; Pine Outfitters" in done.text
    assert "http-equiv" not in done.text and "<script" not in done.text   # it stops checking
    assert browser.status(page) == {
        "status": "connected", "title": "Connected to Maple & Pine Outfitters",
        "text": "Connex Desktop stored the connection. You can close this tab."}
    again = refusal(lambda: app.confirm(pending))
    assert again.code == "expired"             # once only


def test_a_confirm_with_a_forged_verifier_or_before_the_claim_is_refused(service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    page = browser.approve(pending.authorization_url)
    early = refusal(lambda: app.confirm(pending))
    assert early.code == "not_claimed" and early.status == 409
    assert app.claim(pending) is not None
    forged = refusal(lambda: app.confirm(dataclasses.replace(pending, verifier="x" * 64)))
    assert forged.code == "invalid_verifier" and forged.status == 403
    assert "Connected" not in browser.check_again(page).text
    app.confirm(pending)
    assert "Connected to" in browser.check_again(page).text


def test_a_failure_to_store_shows_not_connected_with_the_reason(service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    page = browser.approve(pending.authorization_url)
    assert app.claim(pending) is not None
    with pytest.raises(KeyringUnavailable), app.storing(pending):
        raise KeyringUnavailable("the keyring is locked; unlock it and try again")
    ended = browser.check_again(page)
    assert "Not connected" in ended.text and "Connected to" not in ended.text
    assert ("Connex Desktop could not store the connection: No system keyring is available to "
            "keep passwords and tokens safe (the keyring is locked;") in ended.text
    assert browser.status(page)["status"] == "not_connected"

    pending = app.start()                      # an error of no known kind: its name only
    page = browser.approve(pending.authorization_url)
    assert app.claim(pending) is not None
    with pytest.raises(RuntimeError), app.storing(pending):
        raise RuntimeError("internal detail")
    ended = browser.check_again(page)
    assert "an unexpected error (RuntimeError)" in ended.text
    assert "internal detail" not in ended.text


def test_an_app_that_never_collects_or_confirms_leaves_the_page_not_connected(
        service, browser, clock):
    app = ConnectClient(service.url, clock=clock)
    uncollected = browser.approve(app.start().authorization_url)
    pending = app.start()
    unconfirmed = browser.approve(pending.authorization_url)
    assert app.claim(pending) is not None
    clock.advance(max(TOKENS_HELD_S, CONFIRM_WITHIN_S) + 1)
    assert "did not collect the sign-in in time" in browser.check_again(uncollected).text
    ended = browser.check_again(unconfirmed)
    assert "Not connected" in ended.text and "did not confirm in time" in ended.text
    assert refusal(lambda: app.confirm(pending)).code == "expired"


def test_the_status_of_an_unknown_page_reveals_nothing(service, browser):
    page = browser.open(service.url + "/sign-ins/made-up-page")
    assert page.status_code == 404 and "not known here" in page.text
    answer = browser.session.get(service.url + "/v1/pages/made-up-page", timeout=10).json()
    assert answer["status"] == "not_connected"


def test_a_forged_verifier_gets_nothing(service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    browser.approve(pending.authorization_url)
    forged = dataclasses.replace(pending, verifier="x" * 64)
    refused = refusal(lambda: app.claim(forged))
    assert refused.code == "invalid_verifier" and refused.status == 403
    assert app.claim(pending) is not None      # the app that started it still gets them


def test_a_replayed_or_unknown_state_is_refused_with_a_plain_page(service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    redirect = browser.consent(pending.authorization_url)
    assert browser.open(redirect).status_code == 200

    replayed = browser.open(redirect)
    assert replayed.status_code == 400
    assert "already used" in replayed.text and "Connected" not in replayed.text

    unknown = browser.open(with_query(redirect, state="made-up-state"))
    assert unknown.status_code == 400
    assert "not known" in unknown.text and "Connected" not in unknown.text


def test_an_expired_sign_in_is_refused_at_the_page_and_at_the_claim(service, browser, clock):
    app = ConnectClient(service.url, clock=clock)
    pending = app.start()
    redirect = browser.consent(pending.authorization_url)
    clock.advance(SIGN_IN_LIFETIME_S + 1)
    page = browser.open(redirect)
    assert page.status_code == 400 and "expired" in page.text
    refused = refusal(lambda: app.claim(pending))
    assert refused.code == "expired" and "start again" in str(refused)


def test_tokens_not_collected_soon_are_forgotten(service, browser, clock):
    app = ConnectClient(service.url, clock=clock)
    pending = app.start()
    assert browser.approve(pending.authorization_url).status_code == 200
    clock.advance(TOKENS_HELD_S + 1)
    assert refusal(lambda: app.claim(pending)).code == "expired"


def test_the_page_says_connected_only_when_intuit_gave_tokens(service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    redirect = browser.consent(pending.authorization_url)
    page = browser.open(with_query(redirect, code="a-code-intuit-never-issued"))
    assert page.status_code == 502
    assert "Not connected" in page.text and "Connected to" not in page.text
    refused = refusal(lambda: app.claim(pending))
    assert refused.code == "invalid_grant"


def test_a_denied_consent_ends_the_sign_in(service, browser):
    app = ConnectClient(service.url)
    pending = app.start()
    redirect = browser.consent(pending.authorization_url)
    page = browser.open(with_query(redirect, error="access_denied", code=""))
    assert page.status_code == 400 and "did not grant access (access_denied)" in page.text
    assert refusal(lambda: app.claim(pending)).code == "access_denied"


def test_a_challenge_that_is_not_s256_is_refused(service):
    for body in ({"code_challenge": "short", "code_challenge_method": "S256"},
                 {"code_challenge": s256("v" * 50), "code_challenge_method": "plain"}, []):
        reply = requests.post(service.url + "/v1/sign-ins", json=body, timeout=10)
        assert reply.status_code == 400
        assert reply.json()["error"] in ("invalid_challenge", "invalid_request")


def test_refresh_through_the_service_returns_the_rotated_token(service, sandbox):
    app = ConnectClient(service.url)
    grant = sandbox.new_grant()
    answer = app.refresh(grant["refresh_token"])
    assert answer["refresh_token"] != grant["refresh_token"]
    assert sandbox.oauth.access_token_valid(answer["access_token"])
    rotated = app.refresh(answer["refresh_token"])      # the rotated one works
    assert sandbox.oauth.access_token_valid(rotated["access_token"])
    stale = refusal(lambda: app.refresh(grant["refresh_token"]))   # the first is retired
    assert stale.code == "invalid_grant" and stale.kind is ErrorKind.RECONNECT


def test_revoke_through_the_service_ends_the_authorisation(service, sandbox):
    app = ConnectClient(service.url)
    grant = sandbox.new_grant()
    app.revoke(grant["refresh_token"])
    assert refusal(lambda: app.refresh(grant["refresh_token"])).code == "invalid_grant"


def test_requests_over_the_rate_are_refused_per_address(sandbox, clock):
    with LocalConnectService(sandbox=sandbox, clock=clock, requests_per_minute=3) as service:
        app = ConnectClient(service.url)
        for _ in range(3):
            app.start()
        reply = requests.post(service.url + "/v1/sign-ins", json={}, timeout=10)
        assert reply.status_code == 429 and reply.headers["Retry-After"] == "20"
        assert refusal(app.start).kind is ErrorKind.RETRY_LATER
        clock.advance(20)
        app.start()


def test_only_allowed_origins_may_call_from_a_browser_page(sandbox, clock):
    allowed = frozenset({"https://connex.example"})
    with LocalConnectService(sandbox=sandbox, clock=clock, allowed_origins=allowed) as service:
        body = {"code_challenge": s256("v" * 50), "code_challenge_method": "S256"}
        foreign = requests.post(service.url + "/v1/sign-ins", json=body, timeout=10,
                                headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["error"] == "origin_not_allowed"
        mine = requests.post(service.url + "/v1/sign-ins", json=body, timeout=10,
                             headers={"Origin": "https://connex.example"})
        assert mine.status_code == 201


def test_the_log_holds_no_secret(service, sandbox, browser, caplog):
    caplog.set_level(logging.INFO)
    app = ConnectClient(service.url)
    pending = app.start()
    redirect = browser.consent(pending.authorization_url)
    browser.open(redirect)
    signed_in = app.claim(pending)
    assert signed_in is not None
    refreshed = app.refresh(signed_in.refresh_token)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/callback" in logged and "/v1/tokens/refresh" in logged   # werkzeug's and ours
    for secret in (sandbox.client_secret, signed_in.refresh_token, signed_in.access_token,
                   refreshed["refresh_token"], pending.verifier,
                   redirect.split("code=")[1].split("&")[0]):
        assert secret not in logged


def test_settings_come_from_the_environment_and_name_what_is_missing():
    environ = {"CONNEX_CONNECT_CLIENT_ID": "ABC", "CONNEX_CONNECT_CLIENT_SECRET": "s3cret-value",
               "CONNEX_CONNECT_ENVIRONMENT": "production",
               "CONNEX_CONNECT_REDIRECT_URI": "https://connect.example/callback",
               "CONNEX_CONNECT_ALLOWED_ORIGINS": "https://a.example/, https://b.example",
               "CONNEX_CONNECT_REQUESTS_PER_MINUTE": "30"}
    settings = ServiceSettings.from_environment(environ)
    assert settings.allowed_origins == {"https://a.example", "https://b.example"}
    assert settings.requests_per_minute == 30
    assert "s3cret-value" not in repr(settings)
    del environ["CONNEX_CONNECT_CLIENT_SECRET"]
    with pytest.raises(SettingsError, match="CONNEX_CONNECT_CLIENT_SECRET"):
        ServiceSettings.from_environment(environ)


def test_the_app_waits_until_the_user_approves_or_the_sign_in_runs_out(service, browser, clock):
    polls: list[str] = []

    def meanwhile_the_user_approves(_seconds: float) -> None:
        polls.append("pending")
        if len(polls) == 2:
            assert browser.approve(pending.authorization_url).status_code == 200

    app = ConnectClient(service.url, sleep=meanwhile_the_user_approves)
    pending = app.start()
    signed_in = app.wait(pending)
    assert signed_in is not None and signed_in.company_name == COMPANY and len(polls) == 2

    slow = ConnectClient(service.url, clock=clock, sleep=lambda seconds: clock.advance(60))
    late = refusal(lambda: slow.wait(slow.start()))
    assert late.kind is ErrorKind.RECONNECT and "not completed in time" in str(late)
    assert app.wait(app.start(), cancelled=lambda: True) is None


def test_the_wsgi_module_serves_with_settings_from_the_environment(monkeypatch, sandbox):
    redirect = "https://connect.example/callback"
    for name, value in (("CLIENT_ID", sandbox.client_id),
                        ("CLIENT_SECRET", sandbox.client_secret),
                        ("ENVIRONMENT", sandbox.base_url), ("REDIRECT_URI", redirect)):
        monkeypatch.setenv("CONNEX_CONNECT_" + name, value)
    wsgi = importlib.reload(importlib.import_module("connex_desktop.connect_service.wsgi"))
    reply = wsgi.app.test_client().post("/v1/sign-ins", json={
        "code_challenge": s256("v" * 50), "code_challenge_method": "S256"})
    assert reply.status_code == 201
    consent = reply.get_json()["authorization_url"]
    assert consent.startswith(sandbox.base_url + "/connect/oauth2?")
    assert "redirect_uri=https%3A%2F%2Fconnect.example%2Fcallback" in consent


def test_the_desktop_app_never_loads_the_web_framework():
    probe = ("import sys, connex_desktop.commands, connex_desktop.ui.application, "
             "connex_desktop.ui.connect_dialog; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')"
             " or m.startswith('connex_desktop.connect_service')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert loaded.stdout.strip() == "[]"


def test_intuit_unreachable_at_the_exchange_is_a_plain_page_and_ends_the_sign_in(browser):
    intuit = SandboxServer().start()
    with LocalConnectService(sandbox=intuit) as service:
        app = ConnectClient(service.url)
        pending = app.start()
        redirect = browser.consent(pending.authorization_url)
        intuit.stop()                              # Intuit goes away before the exchange
        page = browser.open(redirect)
        assert page.status_code == 502 and "could not be reached" in page.text
        assert "Connected to" not in page.text
        assert refusal(lambda: app.claim(pending)).code == "intuit_unavailable"
