"""The Web Connector's SOAP endpoint on loopback (standard library HTTP, document/literal)."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from connex_desktop.qbdesktop.webconnector import WebConnectorService

log = logging.getLogger(__name__)

INTUIT_NS = "http://developer.intuit.com/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
LOOPBACK = "127.0.0.1"
LOOPBACK_V6 = "::1"
# With port 0, tries for a port free on both loopback addresses.
FREE_PORT_TRIES = 5
PATH = "/qbwc"
SHUTDOWN_POLL_S = 0.2
MAX_BODY_BYTES = 64 * 1024 * 1024    # a whole run's answers can be large; anything past is not

# Each callback: its parameters in the order the Web Connector sends them.
CALLBACKS: dict[str, tuple[str, ...]] = {
    "serverVersion": (),
    "clientVersion": ("strVersion",),
    "authenticate": ("strUserName", "strPassword"),
    "sendRequestXML": ("ticket", "strHCPResponse", "strCompanyFileName", "qbXMLCountry",
                       "qbXMLMajorVers", "qbXMLMinorVers"),
    "receiveResponseXML": ("ticket", "response", "hresult", "message"),
    "connectionError": ("ticket", "hresult", "message"),
    "getLastError": ("ticket",),
    "closeConnection": ("ticket",),
}


def _methods(service: WebConnectorService) -> dict[str, Callable[..., Any]]:
    return {"serverVersion": service.server_version, "clientVersion": service.client_version,
            "authenticate": service.authenticate, "sendRequestXML": service.send_request_xml,
            "receiveResponseXML": service.receive_response_xml,
            "connectionError": service.connection_error, "getLastError": service.get_last_error,
            "closeConnection": service.close_connection}


def soap_call(body: bytes) -> tuple[str, dict[str, str]]:
    """The callback a SOAP request names and its arguments by name."""
    envelope = ET.fromstring(body)
    soap_body = envelope.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None or len(soap_body) == 0:
        raise ValueError("no SOAP body")
    call = soap_body[0]
    name = call.tag.rpartition("}")[2]
    return name, {child.tag.rpartition("}")[2]: child.text or "" for child in call}


def soap_envelope(method: str, result: Any) -> bytes:
    """`<methodResponse><methodResult>…`: a string, an int, or a string array."""
    if isinstance(result, list):
        inner = "".join(f"<string>{escape(str(item))}</string>" for item in result)
    else:
        inner = escape(str(result))
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
            f'<soap:Body><{method}Response xmlns="{INTUIT_NS}"><{method}Result>{inner}'
            f"</{method}Result></{method}Response></soap:Body></soap:Envelope>").encode()


def soap_fault(message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
            f"<soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>"
            f"{escape(message)}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
            ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ConnexDesktopQBWC/1.0"
    methods: dict[str, Callable[..., Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, soap_fault("The request is too large."))
            return
        try:
            name, arguments = soap_call(self.rfile.read(length))
            method, params = self.methods[name], CALLBACKS[name]
        except (ET.ParseError, ValueError, KeyError) as error:
            self._reply(500, soap_fault(f"Not a Web Connector call: {type(error).__name__}"))
            return
        result = method(*(arguments.get(param, "") for param in params))
        log.debug("Web Connector called %s", name)   # never the arguments: one is a password
        if name == "receiveResponseXML":
            result = int(result)
        self._reply(200, soap_envelope(name, result))

    def do_GET(self) -> None:
        """The .qwc file's support page: what this address is."""
        page = (b"<!doctype html><title>Connex Desktop</title><p>Connex Desktop's Web Connector "
                b"service. Add the .qwc file from Connex Desktop to the QuickBooks Web "
                b"Connector; it calls this address.</p>")
        self._reply(200, page, "text/html; charset=utf-8")

    def _reply(self, status: int, body: bytes,
               content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a line per call would flood the log during a run."""


def qwc_url(port: int) -> str:
    """The address for the .qwc file: the Web Connector takes plain http only for a URL whose
    host is "localhost" (anything else must be https); it resolves to the loopback address the
    service listens on, on the QuickBooks computer."""
    return f"http://localhost:{port}{PATH}"


class _LoopbackV6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _listen(port: int, handler: type[_Handler]) -> list[ThreadingHTTPServer]:
    """Servers on 127.0.0.1 and ::1 at one port: the .qwc's "localhost" resolves to ::1 first on
    many Windows computers, and a Web Connector refused there may not try 127.0.0.1. Never a
    wildcard address: nothing off this computer may reach the service."""
    for _ in range(FREE_PORT_TRIES):
        v4 = ThreadingHTTPServer((LOOPBACK, port), handler)
        try:
            v6 = _LoopbackV6Server((LOOPBACK_V6, v4.server_address[1]), handler)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:      # no IPv6 loopback here: 127.0.0.1 alone
                log.info("The Web Connector service listens on %s only: %s", LOOPBACK, error)
                return [v4]
            v4.server_close()
            if port:                                  # another program answers on ::1 there
                raise
            continue
        return [v4, v6]
    raise OSError(errno.EADDRINUSE, "no port is free on both loopback addresses")


class WebConnectorServer:
    """The SOAP endpoint on 127.0.0.1 and ::1, served from daemon threads; port 0 picks a
    free one."""

    def __init__(self, service: WebConnectorService, port: int = 0) -> None:
        self.service = service
        handler = type("BoundHandler", (_Handler,), {"methods": _methods(service)})
        self._servers = _listen(port, handler)
        for server in self._servers:
            server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._servers[0].server_address[1])

    @property
    def addresses(self) -> list[str]:
        """The loopback addresses it answers on."""
        return [str(server.server_address[0]) for server in self._servers]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{PATH}"

    @property
    def qwc_url(self) -> str:
        return qwc_url(self.port)

    def start(self) -> WebConnectorServer:
        self._threads = [threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_S,),
                                          name="qbwc-soap", daemon=True)
                         for server in self._servers]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> WebConnectorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
