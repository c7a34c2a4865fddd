"""One way to hand QuickBooks Desktop a qbXML document and get its answer, whatever carries it:
the Web Connector (here), COM on this computer, or the fake company file in tests and the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

from connex_desktop.core.errors import RetryLaterError
from connex_desktop.core.secret_store import SecretStore
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.qbdesktop.webconnector import (
    Progress,
    RequestQueue,
    WebConnectorAccount,
    WebConnectorService,
)

# How long a run waits for the Web Connector to pull one request: it calls on its own schedule
# (every N minutes, or when the user presses Update Selected).
WEB_CONNECTOR_WAIT_S = 15 * 60
SESSION_END_WAIT_S = 5.0
SESSION_END_POLL_S = 0.02


class QbXmlProcessor(Protocol):
    """Processes one qbXML message set; raises a ConnexError when no answer came."""

    def process(self, request: str) -> str: ...


class WebConnectorTransport:
    """Queues each document for the Web Connector and waits for QuickBooks' answer."""

    def __init__(self, queue: RequestQueue, wait_s: float = WEB_CONNECTOR_WAIT_S) -> None:
        self.queue = queue
        self.wait_s = wait_s

    def process(self, request: str, label: str = "") -> str:
        answer = self.queue.submit(request, label)
        try:
            return answer.result(timeout=self.wait_s)
        except FutureTimeout:
            # Still queued: when the Web Connector comes, it takes it; the same bytes sent again
            # by a later run are answered from what QuickBooks kept, never booked twice.
            raise RetryLaterError(
                "The QuickBooks Web Connector did not call in time. Check that it is running on "
                "the QuickBooks computer with this app's .qwc file added (Update Selected runs "
                "it now).") from None


class WebConnectorSession:
    """A run's Web Connector: the SOAP service on 127.0.0.1:`port` while the run waits for it
    (`started` hears its server: the demo drives its scripted Web Connector through it)."""

    def __init__(self, account: WebConnectorAccount, secrets: SecretStore, port: int, *,
                 progress: Progress | None = None, wait_s: float = WEB_CONNECTOR_WAIT_S,
                 started: Callable[[WebConnectorServer], None] | None = None) -> None:
        self.queue = RequestQueue(progress)
        self.queue.open_run()
        self.service = WebConnectorService(account, secrets, self.queue)
        try:
            self.server = WebConnectorServer(self.service, port).start()
        except OSError as error:
            raise RetryLaterError(
                f"The Web Connector's address (port {port} on this computer) is in use, by "
                "another sync of a QuickBooks Desktop connection or another program; sync "
                "again when it is free.", detail=str(error)) from error
        self.transport = WebConnectorTransport(self.queue, wait_s)
        if started is not None:
            started(self.server)

    def process(self, request: str) -> str:
        return self.transport.process(request)

    def close(self) -> None:
        """The run is over: the Web Connector's session ends (given a moment to close it
        politely) and the service stops."""
        self.queue.close_run()
        deadline = time.monotonic() + SESSION_END_WAIT_S
        while self.service.sessions and time.monotonic() < deadline:
            time.sleep(SESSION_END_POLL_S)
        self.server.stop()
