"""QuickBooks Desktop on this computer: Intuit's QBXMLRP2 request processor, over COM (Windows)."""

from __future__ import annotations

import enum
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

from connex_desktop.qbdesktop.responses import HRESULT_PARSE_ERROR, hresult_error

log = logging.getLogger(__name__)

PROG_ID = "QBXMLRP2.RequestProcessor"
APP_ID = ""                     # Intuit's samples pass none: QuickBooks knows the app by name
APP_NAME = "Connex Desktop"     # what QuickBooks' authorisation window and its list show
LOCAL_QBD = 1                   # OpenConnection2's connection type: QuickBooks on this computer
# "Exception occurred": the request processor's own HRESULT and words are in the excepinfo.
DISP_E_EXCEPTION = 0x80020009


class FileMode(enum.IntEnum):
    """BeginSession's open mode (the numbers of the SDK's QBFileMode)."""

    SINGLE_USER = 0
    MULTI_USER = 1
    DO_NOT_CARE = 2    # as the company file is open already, or as QuickBooks opens it


# Opens the request processor for one thread's use, and lets go of it on exit.
ComOpener = Callable[[], AbstractContextManager[Any]]


@contextmanager
def windows_request_processor() -> Iterator[Any]:   # pragma: no cover - Windows only
    """The only lines that touch COM: QBXMLRP2's request processor, with COM set up for the
    calling thread (a run's worker thread is a new one) and released after."""
    import pythoncom
    import win32com.client

    pythoncom.CoInitialize()
    try:
        yield win32com.client.Dispatch(PROG_ID)
    finally:
        pythoncom.CoUninitialize()


def direct_transport_unavailable() -> str:
    """Why this computer cannot reach QuickBooks Desktop directly ("" when it can)."""
    if sys.platform == "win32":
        return ""
    return ("QuickBooks Desktop runs only on Windows, so \"This computer\" works only when "
            "Connex Desktop runs on the Windows PC with QuickBooks. Here, use the Web "
            "Connector: it runs beside QuickBooks and calls this app.")


def com_failure(error: BaseException) -> tuple[int, str] | None:
    """The HRESULT and words of a COM failure (pywintypes.com_error's arguments: hresult,
    text, excepinfo, argerror); None for any other exception."""
    args = error.args
    if len(args) != 4 or not isinstance(args[0], int):
        return None
    hresult, message, excepinfo = args[0] & 0xFFFFFFFF, str(args[1] or ""), args[2]
    if hresult == DISP_E_EXCEPTION and excepinfo and len(excepinfo) > 5 and excepinfo[5]:
        hresult, message = excepinfo[5] & 0xFFFFFFFF, str(excepinfo[2] or message)
    return hresult, message


class ComRequestProcessor:
    """A QbXmlProcessor over COM: one connection and one session on the company file for
    every message set a run sends, ended by close(). COM objects belong to the thread that
    made them, so one processor is used by one thread."""

    def __init__(self, company_file: str = "", app_name: str = APP_NAME, *,
                 open_mode: FileMode = FileMode.DO_NOT_CARE,
                 open_com: ComOpener = windows_request_processor) -> None:
        self.company_file = company_file.strip()    # "": the file open in QuickBooks
        self.app_name = app_name
        self.open_mode = open_mode
        self._open_com = open_com
        self._session: tuple[Any, str, ExitStack] | None = None

    def process(self, request: str) -> str:
        """QuickBooks' answer to one qbXML document; a ConnexError saying what to do when
        QuickBooks cannot be reached or refuses."""
        try:
            com, ticket = self._begin()
            return str(com.ProcessRequest(ticket, request))
        except Exception as error:
            failure = com_failure(error)
            if failure is None:
                raise
            if failure[0] != HRESULT_PARSE_ERROR:
                self.close()     # QuickBooks went away: the next document starts afresh
            raise hresult_error(*failure) from error

    def _begin(self) -> tuple[Any, str]:
        if self._session is None:
            with ExitStack() as stack:
                com = stack.enter_context(self._open_com())
                com.OpenConnection2(APP_ID, self.app_name, LOCAL_QBD)
                stack.callback(com.CloseConnection)
                ticket = str(com.BeginSession(self.company_file, int(self.open_mode)))
                stack.callback(com.EndSession, ticket)
                self._session = (com, ticket, stack.pop_all())
        com, ticket, _ = self._session
        return com, ticket

    def close(self) -> None:
        """End the session and close the connection (QuickBooks cannot close while a session
        is open); a QuickBooks already gone is only logged."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session[2].close()
        except Exception as error:
            failure = com_failure(error)
            if failure is None:
                raise
            log.warning("QuickBooks Desktop's session did not end cleanly: %s (HRESULT "
                        "0x%08X)", failure[1], failure[0])
