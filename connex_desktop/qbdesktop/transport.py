"""One way to hand QuickBooks Desktop a qbXML document and get its answer, whatever carries it:
the Web Connector (here), COM on this computer, or the fake company file in tests and the demo."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

from connex_desktop.core.errors import Cancelled, RetryLaterError
from connex_desktop.core.progress import UNTIL_ANSWERED, CancelToken
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
CANCELLED_SESSION_END_WAIT_S = 0.5
SESSION_END_POLL_S = 0.02
# The wait looks at the run's cancel this often, so that Cancel (or Ctrl+C) ends it at once.
CANCEL_CHECK_S = 0.05
# A Web Connector at work answers within a moment; a wait this long means it has not called,
# and the run's progress says so.
TELL_WAIT_AFTER_S = 1.0
# Whom a run waits for and what the user does about it, in the progress and the command line.
WEB_CONNECTOR_TO_CALL = "the QuickBooks Web Connector to call"
WHAT_TO_DO = "in it, press Update Selected (or let it run on its schedule)"
WEB_CONNECTOR_WAIT = f"{WEB_CONNECTOR_TO_CALL}: {WHAT_TO_DO}"
NOT_CALLED = ("The QuickBooks Web Connector did not call in time. Check that it is running on the "
              "QuickBooks computer with this app's .qwc file added (Update Selected runs it now).")
CANCELLED_WAITING = ("The sync was cancelled while it waited for the QuickBooks Web Connector; "
                     "what the Web Connector had not taken was not sent to QuickBooks.")


class QbXmlProcessor(Protocol):
    """Processes one qbXML message set; raises a ConnexError when no answer came."""

    def process(self, request: str) -> str: ...


class WebConnectorTransport:
    """Queues each document for the Web Connector and waits for QuickBooks' answer."""

    def __init__(self, queue: RequestQueue, wait_s: float = WEB_CONNECTOR_WAIT_S) -> None:
        self.queue = queue
        self.wait_s = wait_s
        # The run's cancel token (see WebConnectorSession.heed): it ends a wait, and the
        # run's progress hears of a long one through it.
        self.cancel = CancelToken()

    def process(self, request: str, label: str = "") -> str:
        if self.cancel.cancelled:    # nothing more is queued for a cancelled run
            raise Cancelled(CANCELLED_WAITING)
        answer = self.queue.submit(request, label)
        started = time.monotonic()
        told = False
        try:
            while True:
                with contextlib.suppress(FutureTimeout):
                    return answer.result(timeout=CANCEL_CHECK_S)
                waited_s = time.monotonic() - started
                if self.cancel.cancelled:
                    self.queue.withdraw(answer)
                    raise Cancelled(CANCELLED_WAITING)
                if waited_s >= self.wait_s:
                    # Still queued: when the Web Connector comes, it takes it; the same bytes
                    # sent again by a later run are answered from what QuickBooks kept.
                    raise RetryLaterError(NOT_CALLED)
                if not told and waited_s >= TELL_WAIT_AFTER_S:
                    told = True
                    self.cancel.pausing(UNTIL_ANSWERED, WEB_CONNECTOR_WAIT)
        finally:
            if told:
                self.cancel.pausing(0, "")


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

    def heed(self, cancel: CancelToken) -> None:
        """The run's cancel token: it ends a wait for the Web Connector, which it tells."""
        self.transport.cancel = cancel

    def close(self) -> None:
        """The run is over: the Web Connector's session ends (given a moment to close it
        politely) and the service stops. A cancelled run gives it less: a Web Connector at work
        closes within a moment, and one that stopped mid-session never does."""
        self.queue.close_run()
        polite_s = (CANCELLED_SESSION_END_WAIT_S if self.transport.cancel.cancelled
                    else SESSION_END_WAIT_S)
        deadline = time.monotonic() + polite_s
        while self.service.sessions and time.monotonic() < deadline:
            time.sleep(SESSION_END_POLL_S)
        self.server.stop()
