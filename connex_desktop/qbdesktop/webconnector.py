"""The Web Connector's side of a run: a queue of qbXML requests it pulls, and its callbacks."""

from __future__ import annotations

import hmac
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from connex_desktop.core.errors import ConnexError, SetupError
from connex_desktop.core.secret_store import SecretStore
from connex_desktop.qbdesktop.qbxml import QBXML_VERSION
from connex_desktop.qbdesktop.responses import hresult_error

log = logging.getLogger(__name__)

SERVER_VERSION = "Connex Desktop 1"
NOTHING_TO_DO = "none"            # authenticate: no work now
NOT_A_VALID_USER = "nvu"          # authenticate: user name or password wrong
OPEN_COMPANY_FILE = ""            # authenticate: the file open in QuickBooks
DONE = 100
FAILED = -1
# While a run is open, how long sendRequestXML waits for its next request before answering
# "NoOp" (the Web Connector then waits a few seconds and asks again) instead of ending the
# session: a run's requests are made one after another, as its answers come back.
NEXT_REQUEST_WAIT_S = 20.0
NO_OP = "NoOp"
# Called with (requests answered, requests in the run) as the Web Connector pulls them.
Progress = Callable[[int, int], None]


@dataclass
class QueuedRequest:
    """One qbXML document to hand the Web Connector and the answer it will bring back."""

    xml: str
    label: str                                  # e.g. "Order 1001: Invoice", for messages
    answer: Future[str] = field(default_factory=Future)
    taken: bool = False                         # handed to the Web Connector, for QuickBooks


class RequestQueue:
    """The requests of a run, in order. A request stays first until its answer arrives, so a
    Web Connector that stopped half-way (or a lost reply) gets the same bytes again, with the
    same message set id: QuickBooks then answers what it kept instead of booking twice."""

    def __init__(self, progress: Progress | None = None) -> None:
        self._waiting: deque[QueuedRequest] = deque()
        self._answered = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._progress = progress
        self._run_open = False

    def open_run(self) -> None:
        """A run is under way: more requests will come, so a session is kept going (100, the
        end of the Web Connector's session, only once the run has closed)."""
        with self._lock:
            self._run_open = True

    def close_run(self) -> None:
        with self._arrived:
            self._run_open = False
            self._arrived.notify_all()

    @property
    def run_open(self) -> bool:
        with self._lock:
            return self._run_open

    def submit(self, xml: str, label: str = "") -> Future[str]:
        request = QueuedRequest(xml, label)
        with self._arrived:
            self._waiting.append(request)
            self._arrived.notify_all()
        return request.answer

    def next(self, wait_s: float = 0, *, take: bool = False) -> QueuedRequest | None:
        """The first request; while a run is open, waiting up to `wait_s` for one. `take`: it
        is handed to the Web Connector, so it can no longer be withdrawn."""
        with self._arrived:
            if wait_s:
                self._arrived.wait_for(lambda: self._waiting or not self._run_open, wait_s)
            request = self._waiting[0] if self._waiting else None
            if request is not None and take:
                request.taken = True
            return request

    def withdraw(self, answer: Future[str]) -> None:
        """Its sender waits no more for this answer: the request leaves the queue, unless the
        Web Connector took it already (QuickBooks may be booking it; the next run sends the
        same bytes again and hears what QuickBooks kept)."""
        with self._lock:
            for request in self._waiting:
                if request.answer is answer and not request.taken:
                    self._waiting.remove(request)
                    return

    def answer(self, response: str) -> int:
        """The first request's answer arrived; the percentage of the run now done."""
        with self._lock:
            request = self._waiting.popleft()
            self._answered += 1
            answered, total = self._answered, self._answered + len(self._waiting)
        request.answer.set_result(response)
        if self._progress is not None:
            self._progress(answered, total)
        if answered == total and not self.run_open:
            return DONE
        return min(answered * 100 // total, DONE - 1)   # 100 ends the Web Connector's session

    def fail(self, error: ConnexError) -> None:
        """QuickBooks could not take the first request: its sender hears why."""
        with self._lock:
            request = self._waiting.popleft()
        request.answer.set_exception(error)

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)


def _too_old(major_version: str) -> bool:
    """Whether QuickBooks' highest qbXML version (the Web Connector passes it) is below ours."""
    required = int(QBXML_VERSION.split(".")[0])
    return major_version.isdigit() and int(major_version) < required


@dataclass(frozen=True)
class WebConnectorAccount:
    """What the Web Connector signs in with: the .qwc file's user name and the password kept in
    the keyring under `password_key` (the user types the same one into the Web Connector)."""

    user_name: str
    password_key: str
    company_file: str = OPEN_COMPANY_FILE


class WebConnectorService:
    """The Web Connector's callbacks (serverVersion … closeConnection), one ticket per session."""

    def __init__(self, account: WebConnectorAccount, secrets: SecretStore,
                 queue: RequestQueue) -> None:
        self.account = account
        self.secrets = secrets
        self.queue = queue
        self._tickets: set[str] = set()
        self._last_error: dict[str, str] = {}
        self._lock = threading.Lock()
        self.next_request_wait_s = NEXT_REQUEST_WAIT_S

    @property
    def sessions(self) -> int:
        """The Web Connector's sessions under way (signed in, not closed)."""
        with self._lock:
            return len(self._tickets)

    def server_version(self) -> str:
        return SERVER_VERSION

    def client_version(self, version: str) -> str:
        return ""   # any Web Connector version will do

    def authenticate(self, user_name: str, password: str) -> list[str]:
        """[ticket, company file] to go on; [ticket, "none"] when nothing waits; "nvu" when
        the user name or password is wrong (neither is ever logged)."""
        stored = self.secrets.get(self.account.password_key) or ""
        user_ok = hmac.compare_digest(user_name.encode(), self.account.user_name.encode())
        password_ok = bool(stored) and hmac.compare_digest(password.encode(), stored.encode())
        ticket = str(uuid.uuid4())
        if not (user_ok and password_ok):
            log.warning("The Web Connector signed in with a wrong user name or password.")
            return [ticket, NOT_A_VALID_USER]
        if not len(self.queue) and not self.queue.run_open:
            return [ticket, NOTHING_TO_DO]
        with self._lock:
            self._tickets.add(ticket)
        return [ticket, self.account.company_file]

    def send_request_xml(self, ticket: str, hcp_response: str, company_file: str,
                         country: str, major_version: str, minor_version: str) -> str:
        """The next request; "" (then getLastError) for an unknown ticket or an empty queue."""
        if not self._known(ticket):
            return ""
        request = self.queue.next(self.next_request_wait_s, take=True)
        if request is None:
            self._set_error(ticket, NO_OP if self.queue.run_open else
                            "Nothing is waiting to be sent to QuickBooks.")
            return ""
        if _too_old(major_version):
            error = SetupError(
                f"This QuickBooks takes qbXML up to version {major_version}.{minor_version or 0}; "
                f"Connex Desktop needs {QBXML_VERSION} (QuickBooks 2014 or later). Update "
                "QuickBooks Desktop.")
            self._set_error(ticket, str(error))
            while self.queue.next() is not None:
                self.queue.fail(error)
            return ""
        return request.xml

    def receive_response_xml(self, ticket: str, response: str, hresult: str,
                             message: str) -> int:
        """QuickBooks' answer to the request handed out last: the percentage done, or -1."""
        if not self._known(ticket) or self.queue.next() is None:
            return FAILED
        if hresult:
            error = hresult_error(hresult, message)
            self._set_error(ticket, str(error))
            self.queue.fail(error)
            return FAILED
        return self.queue.answer(response)

    def connection_error(self, ticket: str, hresult: str, message: str) -> str:
        """The Web Connector could not open QuickBooks: stop this session, saying why."""
        self._set_error(ticket, str(hresult_error(hresult, message)))
        return "done"

    def get_last_error(self, ticket: str) -> str:
        with self._lock:
            return self._last_error.get(ticket, "") or "No error."

    def close_connection(self, ticket: str) -> str:
        with self._lock:
            self._tickets.discard(ticket)
            self._last_error.pop(ticket, None)
        return "OK"

    def _known(self, ticket: str) -> bool:
        with self._lock:
            known = ticket in self._tickets
        if not known:
            # A ticket from before the app restarted: end that session politely.
            self._set_error(ticket, "This Web Connector session has ended; update again.")
        return known

    def _set_error(self, ticket: str, message: str) -> None:
        with self._lock:
            self._last_error[ticket] = message
