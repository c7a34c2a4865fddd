"""One way to hand QuickBooks Desktop a qbXML document and get its answer, whatever carries it:
the Web Connector (here), COM on this computer, or the fake company file in tests and the demo."""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

from connex_desktop.core.errors import RetryLaterError
from connex_desktop.qbdesktop.webconnector import RequestQueue

# How long a run waits for the Web Connector to pull one request: it calls on its own schedule
# (every N minutes, or when the user presses Update Selected).
WEB_CONNECTOR_WAIT_S = 15 * 60


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
