"""The 32-bit helper for QuickBooks Desktop before 2022 (32-bit only, while the app is 64-bit):
a small process under a 32-bit Python owning the COM request processor, driven over a pipe with
one JSON line each way per message set."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, TextIO

from connex_desktop.core.errors import (
    ConnexError,
    ErrorKind,
    OrderDataError,
    ReconnectError,
    RetryLaterError,
    SetupError,
)
from connex_desktop.qbdesktop.com import (
    APP_NAME,
    ComOpener,
    ComRequestProcessor,
    direct_transport_unavailable,
    windows_request_processor,
)
from connex_desktop.qbdesktop.company_check import DesktopCompany, check_connection

HELPER_EXE = "connex-qb32-helper.exe"    # shipped beside the app for older QuickBooks
ERRORS_BY_KIND: dict[str, type[ConnexError]] = {
    ErrorKind.RETRY_LATER: RetryLaterError, ErrorKind.FIX_SETUP: SetupError,
    ErrorKind.RECONNECT: ReconnectError, ErrorKind.FIX_DATA: OrderDataError}


def serve(lines_in: TextIO, lines_out: TextIO, company_file: str, app_name: str = APP_NAME,
          open_com: ComOpener = windows_request_processor) -> None:
    """The helper's loop: each line in is a qbXML document, answered on one line with
    QuickBooks' response or the error to show. Ends (and ends the QuickBooks session) when
    the app closes the pipe."""
    processor = ComRequestProcessor(company_file, app_name, open_com=open_com)
    try:
        for line in lines_in:
            reply: dict[str, Any]
            try:
                reply = {"response": processor.process(json.loads(line)["request"])}
            except ConnexError as error:
                reply = {"error": {"kind": error.kind.value, "message": error.message,
                                   "detail": error.detail}}
            lines_out.write(json.dumps(reply) + "\n")
            lines_out.flush()
    finally:
        processor.close()


def helper_command() -> list[str] | None:
    """How to start the installed helper; None when it is not installed beside the app."""
    helper = Path(sys.executable).with_name(HELPER_EXE)
    return [str(helper)] if helper.is_file() else None


def direct_processor(company_file: str = "", app_name: str = APP_NAME
                     ) -> ComRequestProcessor | HelperRequestProcessor:
    """QuickBooks on this computer: through the 32-bit helper when it is installed (for
    QuickBooks before 2022), else in the app's own process."""
    command = helper_command()
    if command is not None:
        return HelperRequestProcessor(company_file, app_name, command=command)
    return ComRequestProcessor(company_file, app_name)


def check_this_computer(company_file: str) -> DesktopCompany:
    """The connection test of "This computer": the company QuickBooks has open, or the
    SetupError saying why this computer cannot reach it."""
    unavailable = direct_transport_unavailable()
    if unavailable:
        raise SetupError(unavailable)
    processor = direct_processor(company_file)
    try:
        return check_connection(processor)
    finally:
        processor.close()


class HelperRequestProcessor:
    """A QbXmlProcessor through the helper process: the same answers and errors as
    ComRequestProcessor in the app's own process. A helper that died is started again by the
    next document."""

    def __init__(self, company_file: str = "", app_name: str = APP_NAME, *,
                 command: Sequence[str]) -> None:
        self.company_file = company_file
        self.app_name = app_name
        self.command = list(command)
        self._helper: subprocess.Popen[str] | None = None
        self._errors: IO[str] | None = None

    def process(self, request: str) -> str:
        helper = self._started()
        assert helper.stdin is not None and helper.stdout is not None
        try:
            helper.stdin.write(json.dumps({"request": request}) + "\n")
            helper.stdin.flush()
            line = helper.stdout.readline()
        except OSError:
            line = ""
        if not line:
            words = self._stopped()
            raise RetryLaterError("The 32-bit QuickBooks helper stopped before QuickBooks "
                                  "answered. Sync again: a document QuickBooks booked already "
                                  "is answered from what it kept, not booked twice.",
                                  detail=words)
        reply = json.loads(line)
        if "error" in reply:
            error = reply["error"]
            raise ERRORS_BY_KIND.get(error["kind"], RetryLaterError)(
                error["message"], detail=error["detail"])
        return str(reply["response"])

    def _started(self) -> subprocess.Popen[str]:
        if self._helper is None or self._helper.poll() is not None:
            self._stopped()
            # The helper's own complaints go to a file, never into the pipe it answers on;
            # kept open as long as the helper runs.
            self._errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            try:
                self._helper = subprocess.Popen(
                    [*self.command, self.company_file, self.app_name], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=self._errors, text=True, encoding="utf-8")
            except OSError as error:
                raise SetupError("The 32-bit QuickBooks helper could not be started: install "
                                 "Connex Desktop again, or use the Web Connector.",
                                 detail=str(error)) from error
        return self._helper

    def _stopped(self) -> str:
        """Let go of the helper (ending its QuickBooks session); the end of what it said."""
        helper, errors = self._helper, self._errors
        self._helper = self._errors = None
        if helper is not None:
            for stream in (helper.stdin, helper.stdout):
                if stream is not None:
                    stream.close()
            try:
                helper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait()
        if errors is None:
            return ""
        errors.seek(0)
        words = errors.read()[-2000:]
        errors.close()
        return words

    def close(self) -> None:
        self._stopped()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout, company_file=sys.argv[1], app_name=sys.argv[2])
