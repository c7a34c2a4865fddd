"""The connect service on loopback with the sandbox playing Intuit, a fake clock, a browser."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests

from connex_desktop.connect_service.local import LocalConnectService
from connex_desktop.sandbox.server import SandboxServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Browser:
    """What the user's browser does: open Intuit's consent page, follow it to the service."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def consent(self, authorization_url: str) -> str:
        """Approve at Intuit (the sandbox approves at once): the redirect page's address."""
        reply = self.session.get(authorization_url, allow_redirects=False, timeout=10)
        assert reply.status_code == 302, reply.text
        return str(reply.headers["Location"])

    def open(self, url: str) -> requests.Response:
        return self.session.get(url, allow_redirects=False, timeout=10)

    def approve(self, authorization_url: str) -> requests.Response:
        return self.open(self.consent(authorization_url))

    def check_again(self, page: requests.Response) -> requests.Response:
        """The page as it reloads itself while the app finishes (what a browser without
        scripts does; the script asks the same service)."""
        reload = re.search(r'<meta http-equiv="refresh" content="\d+; url=([^"]+)">', page.text)
        assert reload, page.text
        return self.open(urljoin(page.url, html.unescape(reload.group(1))))

    def status(self, page: requests.Response) -> dict[str, str]:
        """What the page's script reads when it checks: the status endpoint's answer."""
        address = re.search(r'fetch\("([^"]+)"', page.text)
        assert address, page.text
        reply = self.session.get(urljoin(page.url, address.group(1)), timeout=10)
        assert reply.status_code == 200
        return dict(reply.json())


def with_query(url: str, **changes: str) -> str:
    """The address with these query parameters replaced (a forged or altered redirect)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture
def service(sandbox, clock) -> Iterator[LocalConnectService]:
    with LocalConnectService(sandbox=sandbox, clock=clock) as running:
        yield running
