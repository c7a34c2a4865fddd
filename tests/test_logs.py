"""The log file: rotating, and no token, key or password ever reaches it."""

from __future__ import annotations

import base64
import json
import logging
import logging.handlers
import os
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth2Session

from connex_desktop.logs import (
    LOG_BACKUP_COUNT,
    LOG_FILE_NAME,
    LOG_MAX_BYTES,
    MASK,
    RedactingFilter,
    redact,
    register_secret,
    setup_logging,
)
from connex_desktop.paths import AppPaths

ACCESS_TOKEN = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..access-9f8e7d"
REFRESH_TOKEN = "AB11780000000000refresh-token-7c6b5a"
CLIENT_SECRET = "client-secret-3e2d1c"
WOO_KEY = "ck_" + "0123456789abcdef" * 2 + "01234567"
WOO_SECRET = "cs_" + "fedcba9876543210" * 2 + "76543210"
SHOPIFY_TOKEN = "shpat_" + "a1b2c3d4" * 4


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The root logger as it was before the test: handlers, filters and level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
        for added in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(added)
    root.setLevel(level)


@pytest.fixture
def log_file(tmp_path, restored_logging) -> Path:
    """Logging set up as the app does it, at debug level."""
    return setup_logging(AppPaths.resolve(tmp_path / "home"), level=logging.DEBUG)


def written(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_the_log_file_is_under_the_log_folder(log_file, tmp_path):
    assert log_file == tmp_path / "home" / "logs" / LOG_FILE_NAME
    logging.getLogger("connex_desktop.test").info("Synced %d orders", 3)
    assert "INFO" in written(log_file) and "Synced 3 orders" in written(log_file)


@pytest.mark.parametrize(("line", "kept"), [
    (f"Authorization: Bearer {ACCESS_TOKEN}", "Authorization: Bearer " + MASK),
    (f"{{'Authorization': 'Basic {CLIENT_SECRET}', 'Accept': 'application/json'}}",
     "'Accept': 'application/json'"),
    (json.dumps({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN,
                 "id_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}),
     '"expires_in": 3600'),
    (f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}&client_secret={CLIENT_SECRET}",
     "grant_type=refresh_token&refresh_token=" + MASK),
    (f"GET https://shop.example/wp-json/wc/v3/orders?consumer_key={WOO_KEY}"
     f"&consumer_secret={WOO_SECRET}&page=2", "&page=2"),
    (f"WooCommerce keys {WOO_KEY} / {WOO_SECRET}", "WooCommerce keys"),
    (f"X-Shopify-Access-Token: {SHOPIFY_TOKEN}", "X-Shopify-Access-Token: " + MASK),
    (f"{{'X-Auth-Token': '{CLIENT_SECRET}'}}", "'X-Auth-Token': '" + MASK),
    (f"http://localhost:8765/callback?code={REFRESH_TOKEN}&state=xyz&realmId=9130",
     "&state=xyz&realmId=9130"),
    (f"https://user:{CLIENT_SECRET}@shop.example/orders", "https://user:" + MASK),
    (json.dumps({"payload": json.dumps({"client_secret": CLIENT_SECRET})}), "payload"),
])
def test_known_kinds_of_secret_are_masked_and_the_rest_kept(log_file, line, kept):
    logging.getLogger("connex_desktop.test").info(line)
    text = written(log_file)
    assert_no_secret(text, ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, WOO_KEY, WOO_SECRET,
                     SHOPIFY_TOKEN)
    assert kept in text


def test_secrets_in_arguments_are_masked(log_file):
    logging.getLogger("connex_desktop.test").warning(
        "Token %s for %r", {"access_token": ACCESS_TOKEN}, f"Bearer {ACCESS_TOKEN}")
    assert_no_secret(written(log_file), ACCESS_TOKEN)


def test_registered_values_are_masked_wherever_they_appear(log_file):
    password = "plain words p@ss/w0rd"
    register_secret(password)
    register_secret("ab")  # too short to mask without wrecking the log; ignored
    logger = logging.getLogger("connex_desktop.test")
    logger.info("store said: %s", f"wrong credentials {password}!")
    logger.info("url: https://shop.example/login?u=me&pw=%s", urllib.parse.quote(password))
    logger.info("ab testing")
    text = written(log_file)
    assert_no_secret(text, password, urllib.parse.quote(password))
    assert "store said: wrong credentials" in text
    assert "ab testing" in text


def test_tracebacks_are_masked(log_file):
    logger = logging.getLogger("connex_desktop.test")
    try:
        raise RuntimeError(f"refresh failed with refresh_token={REFRESH_TOKEN}")
    except RuntimeError:
        logger.exception("The QuickBooks connection failed")
    text = written(log_file)
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: refresh failed" in text
    assert_no_secret(text, REFRESH_TOKEN)


def test_stack_info_and_unformattable_arguments_are_masked(log_file):
    logger = logging.getLogger("connex_desktop.test")
    logger.info("two %s %s", f"Bearer {ACCESS_TOKEN}")  # one argument short
    logger.info("here", stack_info=True, extra={"unused": ACCESS_TOKEN})
    text = written(log_file)
    assert "two %s %s" in text
    assert_no_secret(text, ACCESS_TOKEN)


class _OAuthServer(BaseHTTPRequestHandler):
    """A token endpoint and an API endpoint on loopback, as QuickBooks answers them."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._reply({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN,
                     "token_type": "bearer", "expires_in": 3600})

    def do_GET(self) -> None:
        self._reply({"QueryResponse": {}})

    def _reply(self, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet: the server's own lines would go to stderr."""


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OAuthServer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_debug_lines_of_requests_urllib3_and_oauthlib_carry_no_token(log_file, server_url,
                                                                     monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    session = OAuth2Session("client-id", token={"access_token": "old", "token_type": "Bearer",
                                                "refresh_token": REFRESH_TOKEN})
    session.refresh_token(f"{server_url}/oauth2/v1/tokens/bearer", auth=("client-id",
                                                                          CLIENT_SECRET))
    session.get(f"{server_url}/v3/company/9130/query?query=select&access_token={ACCESS_TOKEN}")
    requests.get(f"{server_url}/plain", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
                 timeout=5)
    text = written(log_file)
    # The libraries did log the requests, tokens and all, at debug level...
    assert "requests_oauthlib" in text and "urllib3.connectionpool" in text
    assert "Prepared refresh token request body" in text
    assert '"GET /v3/company/9130/query?query=select&access_token=' + MASK in text
    # ...and none of it reached the file.
    assert_no_secret(text, ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)


def test_console_output_is_masked_too(tmp_path, capsys, restored_logging):
    setup_logging(AppPaths.resolve(tmp_path), console=True)
    logging.getLogger("connex_desktop.test").warning("Bearer %s", ACCESS_TOKEN)
    err = capsys.readouterr().err
    assert "Bearer " + MASK in err
    assert ACCESS_TOKEN not in err


def test_setting_up_again_replaces_the_handlers(log_file, tmp_path):
    setup_logging(AppPaths.resolve(tmp_path / "home"), level=logging.DEBUG)
    logging.getLogger("connex_desktop.test").info("once only")
    assert written(log_file).count("once only") == 1


def test_the_file_rotates_at_its_size_limit_keeping_a_bounded_number(log_file):
    [handler] = [h for h in logging.getLogger().handlers
                 if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert (handler.maxBytes, handler.backupCount) == (LOG_MAX_BYTES, LOG_BACKUP_COUNT)
    logger = logging.getLogger("connex_desktop.test")
    line = "x" * 10_000
    for _ in range(LOG_MAX_BYTES // len(line) + 5):
        logger.info(line)
    assert sorted(path.name for path in log_file.parent.iterdir()) == [
        LOG_FILE_NAME, f"{LOG_FILE_NAME}.1"]
    assert (log_file.parent / f"{LOG_FILE_NAME}.1").stat().st_size <= LOG_MAX_BYTES


ECHOED_BASIC = base64.b64encode(f"someone:{CLIENT_SECRET}".encode()).decode()
OPAQUE_TOKEN = "Zk9mY3Rva2VuMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u"


@pytest.mark.parametrize(("text", "secret", "kept"), [
    (f"<td>Authorization</td><td>Basic {ECHOED_BASIC}</td>", ECHOED_BASIC, "<td>Authorization"),
    (f"Proxy-Authorization: Basic {ECHOED_BASIC}", ECHOED_BASIC, "Proxy-Authorization: Basic"),
    (json.dumps({"sessionToken": "t0k3n-value", "error": "denied"}), "t0k3n-value", "denied"),
    (json.dumps({"webhook_secret": "w3bh00k-value"}), "w3bh00k-value", "webhook_secret"),
    (json.dumps({"db_password": "pa55-value"}), "pa55-value", "db_password"),
    (f"POST /token?x_refresh_token={OPAQUE_TOKEN}&page=2", OPAQUE_TOKEN, "&page=2"),
    (f"the store echoed {OPAQUE_TOKEN} back", OPAQUE_TOKEN, "the store echoed"),
    (f"token {OPAQUE_TOKEN[:20]}-{OPAQUE_TOKEN[20:]} back", OPAQUE_TOKEN[20:], "back"),
    ("api key key_12345678901234567890123456789 set", "12345678901234567890", "api key"),
    (f"id token {ACCESS_TOKEN.split('..')[0]}.eyJzdWIiOiIxIn0.c2ln", "eyJlbmMiOi", "id token"),
])
def test_credential_looking_values_are_redacted_though_never_registered(text, secret, kept):
    masked = redact(text)
    assert secret not in masked and kept in masked and MASK in masked


@pytest.mark.parametrize("text", [
    "Basic plan: 25 orders a day",
    "request 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b was answered",
    "/home/someone/.local/share/connex-desktop/connex.sqlite3",
    '{"token_type": "bearer", "expires_in": 3600}',
    "Reconnect to QuickBooks: the saved authorisation is no longer valid.",
    "Order 1001: Unknown SKU 'WIDGET-BLUE-XL-2024-EDITION'",
    "the document number 'WEB-STORE-AMZ-354-4146381-0005092' is 33 characters",
])
def test_ordinary_words_are_kept(text):
    assert redact(text) == text


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_log_files_are_private_before_and_after_a_rollover(tmp_path, restored_logging,
                                                           file_mode):
    log_file = setup_logging(AppPaths.resolve(tmp_path / "home"))
    logger = logging.getLogger("connex_desktop.test")
    logger.warning("customer Jane Doe, jane@example.com")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            handler.doRollover()
    logger.warning("after the rollover")
    rolled = log_file.with_name(LOG_FILE_NAME + ".1")
    assert rolled.exists()
    assert [file_mode(path) for path in (log_file.parent, log_file, rolled)] == [
        0o700, 0o600, 0o600]
