"""A scripted QuickBooks Web Connector: calls the app's SOAP endpoint as the real one (Windows
only) does, and hands each request to a fake QuickBooks Desktop."""

from __future__ import annotations

import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks, RequestProcessorError
from connex_desktop.qbdesktop.soap import CALLBACKS, INTUIT_NS, SOAP_NS
from connex_desktop.qbdesktop.webconnector import NO_OP

TIMEOUT_S = 30
WEB_CONNECTOR_VERSION = "2.3.0.215"
NO_OP_PAUSE_S = 0.05     # the real one pauses about 5 seconds after "NoOp"


class ConnectorStopped(Exception):
    """The scripted Web Connector stopped the way the real one may (a crash, a closed laptop)."""


@dataclass
class UpdateReport:
    """What the Web Connector's window would show after one "Update Selected"."""

    authenticated: str = ""             # the second string authenticate answered
    progress: list[int] = field(default_factory=list)
    last_error: str = ""
    sent: int = 0


@dataclass
class ScriptedWebConnector:
    url: str
    user_name: str
    password: str
    quickbooks: FakeQuickBooks
    # Fault: after this many requests, QuickBooks has booked the next one but its answer never
    # reaches the app (the Web Connector stops before calling receiveResponseXML).
    lose_answer_after: int | None = None
    # Fault: the same, for the first request containing this text (e.g. "<InvoiceAdd>").
    lose_answer_to: str = ""

    def update(self) -> UpdateReport:
        """One session: authenticate, then pull requests until the app says 100 (or fails)."""
        report = UpdateReport()
        self.call("serverVersion")
        self.call("clientVersion", WEB_CONNECTOR_VERSION)
        ticket, company_file, *_ = self.call_list("authenticate", self.user_name, self.password)
        report.authenticated = company_file
        if company_file in ("none", "nvu"):
            return report
        while True:
            request = self.call_text("sendRequestXML", ticket, "", company_file, "US", "13", "0")
            if not request:
                report.last_error = self.call_text("getLastError", ticket)
                if report.last_error == NO_OP:     # the app has more to come: ask again
                    time.sleep(NO_OP_PAUSE_S)
                    continue
                break
            response, hresult, message = self._process(request)
            report.sent += 1
            lost = bool(self.lose_answer_to) and self.lose_answer_to in request
            if lost or (self.lose_answer_after is not None
                        and report.sent > self.lose_answer_after):
                raise ConnectorStopped("the Web Connector stopped before passing QuickBooks' "
                                       "answer on")
            percent = int(self.call_text("receiveResponseXML", ticket, response, hresult,
                                         message))
            report.progress.append(percent)
            if percent < 0:
                report.last_error = self.call_text("getLastError", ticket)
            if percent < 0 or percent >= 100:
                break
        self.call("closeConnection", ticket)
        return report

    def _process(self, request: str) -> tuple[str, str, str]:
        try:
            return self.quickbooks.process(request), "", ""
        except RequestProcessorError as error:
            return "", f"0x{error.hresult:08X}", error.message

    def call_text(self, method: str, *arguments: str) -> str:
        return self.call(method, *arguments).findtext(".", "")

    def call_list(self, method: str, *arguments: str) -> list[str]:
        """A callback answering a string array (authenticate)."""
        return [item.text or "" for item in self.call(method, *arguments)]

    def call(self, method: str, *arguments: str) -> ET.Element:
        """One SOAP call: its `<methodResult>` element."""
        params = "".join(f"<{name}>{escape(value)}</{name}>"
                         for name, value in zip(CALLBACKS[method], arguments, strict=True))
        body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
                f'<soap:Body><{method} xmlns="{INTUIT_NS}">{params}</{method}></soap:Body>'
                "</soap:Envelope>").encode()
        request = urllib.request.Request(
            self.url, body, {"Content-Type": "text/xml; charset=utf-8",
                             "SOAPAction": f'"{INTUIT_NS}{method}"'})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
            envelope = ET.fromstring(reply.read())
        result = envelope.find(f".//{{{INTUIT_NS}}}{method}Result")
        if result is None:
            raise ValueError(f"{method}: no result in the answer")
        return result


class RunningWebConnector:
    """The scripted Web Connector pressing "Update Selected" every `every_s` seconds, in a
    thread, until stopped. Stopped mid-session (a lost answer), it is started again as a user
    would (unless `restart` is off), and then carries answers on."""

    def __init__(self, connector: ScriptedWebConnector, every_s: float = 0.02, *,
                 restart: bool = True) -> None:
        self.connector = connector
        self.every_s = every_s
        self.restart = restart      # False: once stopped it stays stopped (see `stopped`)
        self.restarts = 0
        self.sessions = 0           # updates that found work (signed in to the company file)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scripted-qbwc", daemon=True)

    def start(self) -> RunningWebConnector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S)

    def stopped(self, timeout_s: float) -> bool:
        """Whether it has stopped (by itself, without `restart`) within `timeout_s`."""
        self._thread.join(timeout=timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                report = self.connector.update()
                self.sessions += report.authenticated not in ("none", "nvu")
            except ConnectorStopped:
                if not self.restart:
                    return
                self.restarts += 1
                self.connector.lose_answer_after, self.connector.lose_answer_to = None, ""
            except OSError:     # the app's service is gone (its run ended): wait for the next
                continue
