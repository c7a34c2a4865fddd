"""Where the Web Connector service listens: both loopback addresses "localhost" may mean, and
nothing else."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from connex_desktop.qbdesktop import soap
from connex_desktop.qbdesktop.fake.connector import ScriptedWebConnector
from connex_desktop.qbdesktop.soap import LOOPBACK, WebConnectorServer
from connex_desktop.qbdesktop.webconnector import (
    NOT_A_VALID_USER,
    RequestQueue,
    WebConnectorAccount,
    WebConnectorService,
)
from tests.loopback import free_port, has_ipv6_loopback
from tests.qbdesktop.conftest import PASSWORD, PASSWORD_KEY, USER, Desktop

needs_ipv6_loopback = pytest.mark.skipif(not has_ipv6_loopback(),
                                         reason="this computer has no IPv6 loopback (::1)")
# Addresses no packet goes to: connecting a UDP socket only picks the outgoing address.
TEST_NET = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}


def signs_in(url: str) -> bool:
    """The Web Connector's first calls at `url` reach the service: it answers a ticket."""
    connector = ScriptedWebConnector(url, USER, PASSWORD, quickbooks=None)  # type: ignore[arg-type]
    connector.call_text("serverVersion")
    _ticket, company_file = connector.call_list("authenticate", USER, PASSWORD)
    return company_file != NOT_A_VALID_USER


def this_computers_other_addresses() -> set[str]:
    """The addresses other computers could reach this one at (none of them loopback)."""
    found = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    for family, address in TEST_NET.items():
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((address, 9))
                found.add(probe.getsockname()[0])
        except OSError:
            continue        # no route for this family
    return {address for address in found if not ipaddress.ip_address(address).is_loopback}


@pytest.fixture
def service(secrets) -> WebConnectorService:
    return WebConnectorService(WebConnectorAccount(USER, PASSWORD_KEY), secrets, RequestQueue())


@needs_ipv6_loopback
def test_a_web_connector_that_resolves_localhost_to_ipv6_reaches_the_service(desktop: Desktop):
    port = desktop.server.port
    assert signs_in(f"http://[::1]:{port}/qbwc")
    assert signs_in(f"http://127.0.0.1:{port}/qbwc")
    assert desktop.server.qwc_url == f"http://localhost:{port}/qbwc"


def test_nothing_answers_on_this_computers_other_addresses(desktop: Desktop):
    assert all(ipaddress.ip_address(address).is_loopback for address in desktop.server.addresses)
    others = this_computers_other_addresses()
    if not others:
        pytest.skip("this computer has no address but loopback")
    for address in others:
        with pytest.raises(OSError), socket.create_connection((address, desktop.server.port),
                                                              timeout=2):
            pass


@needs_ipv6_loopback
def test_another_program_on_ipv6_loopback_at_the_port_is_an_address_in_use(
        service: WebConnectorService):
    port = free_port()
    with socket.socket(socket.AF_INET6) as squatter:
        squatter.bind(("::1", port))
        squatter.listen()
        with pytest.raises(OSError):
            WebConnectorServer(service, port)
    with socket.socket() as probe:        # the IPv4 half was let go
        probe.bind((LOOPBACK, port))


def test_without_ipv6_loopback_the_service_answers_on_127_0_0_1(
        service: WebConnectorService, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(soap, "LOOPBACK_V6", "2001:db8::1")    # not an address of this computer
    with WebConnectorServer(service) as server:
        assert server.addresses == [LOOPBACK]
        assert signs_in(server.url)
