"""One app per data folder: a second launch asks the first to show its window, then exits."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from connex_desktop import APP_NAME
from connex_desktop.ui.socket_server import AcceptedSocket, SocketServer

CONNECT_TIMEOUT_MS = 500
RAISE_MESSAGE = b"raise\n"


def server_name(data_dir: Path) -> str:
    """A local socket name per data folder, so two portable copies do not see each other."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"{APP_NAME}-{digest}"


class SingleInstance(SocketServer):
    """Signals: raise_requested(): another launch wants the window shown."""

    raise_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        server = QLocalServer()
        super().__init__([server], parent)
        self._local_server = server
        self._name = name

    def notify_running(self) -> bool:
        """True if another instance answered (it was asked to raise its window)."""
        socket = QLocalSocket()
        socket.connectToServer(self._name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        socket.write(RAISE_MESSAGE)
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        # A crashed instance can leave its socket file behind; nobody answered, so remove it.
        QLocalServer.removeServer(self._name)
        return self._local_server.listen(self._name)

    def _on_data(self, socket: AcceptedSocket) -> None:
        if bytes(socket.readAll().data()).startswith(RAISE_MESSAGE.strip()):
            self.raise_requested.emit()
