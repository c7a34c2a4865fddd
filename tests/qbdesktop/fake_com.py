"""A fake QBXMLRP2 request processor: the COM object as pywin32 hands it over, in front of the
fake company file, failing the way QuickBooks does (reference §1.2-1.5)."""

from __future__ import annotations

import contextlib
import itertools
import ntpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from connex_desktop.qbdesktop.com import DISP_E_EXCEPTION, LOCAL_QBD, FileMode
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks, RequestProcessorError
from connex_desktop.qbdesktop.responses import (
    HRESULT_ACCESS_DENIED,
    HRESULT_COULD_NOT_START,
    HRESULT_NO_ACCESS,
    HRESULT_NO_COMPANY_OPEN,
    HRESULT_NOT_RUNNING,
)

COMPANY_FILE = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\Shop.qbw"
TICKET_INVALID = 0x8004040D


def same_file(first: str, second: str) -> bool:
    """Whether two Windows paths name one file, as Windows compares them."""
    return ntpath.normcase(ntpath.normpath(first)) == ntpath.normcase(ntpath.normpath(second))


class FakeComError(Exception):
    """pywintypes.com_error's shape: (hresult, text, excepinfo, argerror), QuickBooks' own
    HRESULT and words in the excepinfo of a DISP_E_EXCEPTION."""

    def __init__(self, hresult: int, message: str) -> None:
        signed = hresult - (1 << 32) if hresult >= 1 << 31 else hresult
        super().__init__(DISP_E_EXCEPTION - (1 << 32), "Exception occurred.",
                         (0, "QBXMLRP2.RequestProcessor.2", message, None, 0, signed), None)


@dataclass
class FakeRequestProcessor:
    """QuickBooks on this PC: `running` with `open_file` (in `open_mode`), or closed."""

    quickbooks: FakeQuickBooks = field(default_factory=FakeQuickBooks)
    running: bool = True
    open_file: str = COMPANY_FILE            # "": QuickBooks is open with no company
    open_mode: FileMode = FileMode.SINGLE_USER
    refuses_app: bool = False                # the user answered No in the authorisation window
    unattended: bool = False                 # "Yes, always; even when QuickBooks isn't running"
    single_user_elsewhere: bool = False      # another computer has the file in single-user mode
    lose_answer_to: str = ""                 # QuickBooks closes as it books the first document
    #                                          containing this: its answer never comes back
    calls: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    _connected: bool = False
    _tickets: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def OpenConnection2(self, app_id: str, app_name: str, connection_type: int) -> None:
        self.calls.append(f"OpenConnection2 {app_name}")
        assert connection_type == LOCAL_QBD and app_name
        self._connected = True

    def BeginSession(self, company_file: str, mode: int) -> str:
        self.calls.append(f"BeginSession {company_file or '(open file)'} {FileMode(mode).name}")
        if not self._connected:
            raise FakeComError(0x80040402, "Unexpected error. Check the qbsdklog.txt file.")
        self._open(company_file, FileMode(mode))
        if self.refuses_app:
            raise FakeComError(HRESULT_ACCESS_DENIED, "The user has denied access to this "
                                                      "application.")
        ticket = f"{{TICKET-{next(self._tickets)}}}"
        self.sessions.add(ticket)
        return ticket

    def _open(self, company_file: str, mode: FileMode) -> None:
        if not self.running:
            if not company_file:
                raise FakeComError(HRESULT_NOT_RUNNING, "If QuickBooks is not running, a "
                                   "company file name must be supplied to BeginSession.")
            if not self.unattended:
                raise FakeComError(HRESULT_COULD_NOT_START, "Could not start QuickBooks.")
            self.running, self.open_file = True, company_file
        if not self.open_file:
            if not company_file:
                raise FakeComError(HRESULT_NO_COMPANY_OPEN, "QuickBooks is open but no "
                                   "company file is open, and no file name was given.")
            self.open_file = company_file
        if company_file and not same_file(company_file, self.open_file):
            raise FakeComError(HRESULT_COULD_NOT_START, "A QuickBooks company data file is "
                               "already open and it is different from the one requested.")
        if self.single_user_elsewhere or (mode is not FileMode.DO_NOT_CARE
                                          and mode is not self.open_mode):
            raise FakeComError(HRESULT_COULD_NOT_START, "The company file is open in another "
                               "mode.")

    def ProcessRequest(self, ticket: str, request: str) -> str:
        self.calls.append("ProcessRequest")
        self._check(ticket)
        try:
            answer = self.quickbooks.process(request)
        except RequestProcessorError as error:
            raise FakeComError(error.hresult, error.message) from None
        if self.lose_answer_to and self.lose_answer_to in request:
            self.lose_answer_to, self.running = "", False
            raise FakeComError(HRESULT_NO_ACCESS, "Could not access QuickBooks.")
        return answer

    def EndSession(self, ticket: str) -> None:
        self.calls.append("EndSession")
        self._check(ticket)
        self.sessions.discard(ticket)

    def CloseConnection(self) -> None:
        self.calls.append("CloseConnection")
        self._connected = False

    def _check(self, ticket: str) -> None:
        if ticket not in self.sessions:
            raise FakeComError(TICKET_INVALID, "The ticket parameter is invalid.")
        if not self.running:
            raise FakeComError(0x80040401, "Could not access QuickBooks.")

    def opener(self) -> contextlib.AbstractContextManager[FakeRequestProcessor]:
        """What ComRequestProcessor opens instead of pywin32's Dispatch."""
        return contextlib.nullcontext(self)
