"""The browser's way back from QuickBooks' sign-in: a one-answer HTTP listener on loopback."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs, urlsplit

from PySide6.QtCore import QByteArray, QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QTcpServer, QTcpSocket

from connex_desktop.quickbooks.auth import state_matches
from connex_desktop.ui.socket_server import AcceptedSocket, SocketServer

# What each loopback host name of a redirect URI means: "localhost" is both, since a browser
# may resolve it to either (and tries ::1 first on many systems).
_LOCAL_V4 = QHostAddress.SpecialAddress.LocalHost
_LOCAL_V6 = QHostAddress.SpecialAddress.LocalHostIPv6
LOOPBACK_ADDRESSES = {"localhost": (_LOCAL_V4, _LOCAL_V6), "127.0.0.1": (_LOCAL_V4,),
                      "::1": (_LOCAL_V6,)}
# How a system without IPv6 (or without IPv4) refuses an address: skipped for "localhost".
_ADDRESS_ABSENT = (QAbstractSocket.SocketError.UnsupportedSocketOperationError,
                   QAbstractSocket.SocketError.SocketAddressNotAvailableError)
# An HTTP request line and headers fit in this; anything longer is not a browser's redirect.
MAX_REQUEST_BYTES = 16_384
PARTIAL_REQUEST = "partial_request"
# Answers with another attempt's `state` (an old tab, a forged link) tolerated before giving up.
MAX_FOREIGN_ANSWERS = 5
# The user signs in and picks a company in this time, or the attempt ends.
WAIT_MS = 10 * 60 * 1000


def is_loopback(redirect_uri: str) -> bool:
    """Whether the app itself can catch this redirect: http to a loopback name, with a port."""
    parts = urlsplit(redirect_uri)
    return (parts.scheme == "http" and parts.hostname in LOOPBACK_ADDRESSES
            and parts.port is not None)


def page(title: str, text: str) -> bytes:
    """A plain page for the browser tab, in the user's words."""
    return ("<!doctype html><meta charset='utf-8'><title>Connex Desktop</title>"
            "<body style='font-family:sans-serif;margin:3em'>"
            f"<h2>{escape(title)}</h2><p>{escape(text)}</p></body>").encode()


FOREIGN_PAGE = page("Not connected", "This address does not belong to the sign-in Connex Desktop "
                    "is waiting for (it may come from an older tab). Nothing was connected. "
                    "Finish the sign-in in the newest tab, or press Authorize in browser again.")


class LoopbackListener(SocketServer):
    """Catches QuickBooks' redirect back to the app on the addresses the redirect URI names.

    Only a request with this attempt's `state` is taken; its browser tab waits until `answer`
    says how the sign-in ended. Others get an error page; after MAX_FOREIGN_ANSWERS of them,
    or WAIT_MS without the real one, the listener gives up.

    Signals:
        callback_received(str): the full redirect address, with code, state and realmId.
        gave_up(str): why no answer will come (in plain words).
    """

    callback_received = Signal(str)
    gave_up = Signal(str)

    def __init__(self, redirect_uri: str, state: str, *, wait_ms: int = WAIT_MS,
                 parent: QObject | None = None) -> None:
        self._redirect = urlsplit(redirect_uri)
        self._addresses = LOOPBACK_ADDRESSES[self._redirect.hostname or ""]
        super().__init__([QTcpServer() for _ in self._addresses], parent)
        self._state = state
        self._foreign_answers = 0
        self._waiting: QTcpSocket | None = None      # the browser tab that brought the answer
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(wait_ms)
        waited = (f"{wait_ms // 60_000} minutes" if wait_ms >= 120_000 else
                  f"{wait_ms / 1000:g} seconds")
        self._timer.timeout.connect(
            lambda: self._give_up(f"No answer came from QuickBooks within {waited}."))

    def listen(self) -> str | None:
        """Listen on every address of the redirect's host; returns why it cannot, or None."""
        problems, listening = [], 0
        for server, address in zip(self._servers, self._addresses, strict=True):
            assert isinstance(server, QTcpServer)
            if server.listen(QHostAddress(address), self._redirect.port or 0):
                listening += 1
            elif len(self._addresses) == 1 or server.serverError() not in _ADDRESS_ABSENT:
                problems.append(f"{QHostAddress(address).toString()}: {server.errorString()}")
        if problems or not listening:
            self.close()
            return "; ".join(problems) or "this computer has no loopback address"
        self._timer.start()
        return None

    def close(self) -> None:
        """Stop listening (a browser tab waiting for `answer` still gets it)."""
        self._timer.stop()
        super().close()

    def answer(self, connected: bool, text: str) -> None:
        """Tell the waiting browser tab how the sign-in ended."""
        socket, self._waiting = self._waiting, None
        if socket is not None and socket in self._sockets:
            _reply(socket, b"200 OK", page("Connected." if connected else "Not connected",
                                           text))

    def _on_data(self, socket: AcceptedSocket) -> None:
        assert isinstance(socket, QTcpSocket)
        # A request may arrive in pieces: keep what came so far on the socket itself.
        data = bytes(socket.property(PARTIAL_REQUEST) or b"") + bytes(socket.readAll().data())
        if b"\r\n\r\n" not in data and len(data) < MAX_REQUEST_BYTES:
            socket.setProperty(PARTIAL_REQUEST, QByteArray(data))
            return
        method, _, rest = data.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        target = urlsplit(rest.rsplit(" ", 1)[0])
        if (method != "GET" or target.path != (self._redirect.path or "/")
                or not parse_qs(target.query)):
            _reply(socket, b"404 Not Found", page("Not found", "Nothing is here."))
            return
        callback = f"{self._redirect.scheme}://{self._redirect.netloc}{target.geturl()}"
        if self._waiting is not None or not state_matches(callback, self._state):
            _reply(socket, b"400 Bad Request", FOREIGN_PAGE)
            self._foreign_answers += 1
            if self._foreign_answers >= MAX_FOREIGN_ANSWERS and self._waiting is None:
                self._give_up(f"{self._foreign_answers} answers that do not belong to this "
                              "sign-in reached the app, and none that does.")
            return
        self.close()                  # one answer per attempt
        self._waiting = socket
        self.callback_received.emit(callback)

    def _give_up(self, reason: str) -> None:
        self.close()
        self.gave_up.emit(reason)


def _reply(socket: QTcpSocket, status: bytes, body: bytes) -> None:
    socket.write(QByteArray(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; "
                            b"charset=utf-8\r\nConnection: close\r\nContent-Length: "
                            + str(len(body)).encode() + b"\r\n\r\n" + body))
    socket.disconnectFromHost()
