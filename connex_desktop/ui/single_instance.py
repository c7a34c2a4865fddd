"""One app per data folder: a second launch asks the first to show its window, then exits."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from connex_desktop import APP_NAME

CONNECT_TIMEOUT_MS = 500
RAISE_MESSAGE = b"raise\n"


def server_name(data_dir: Path) -> str:
    """A local socket name per data folder, so two portable copies do not see each other."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"{APP_NAME}-{digest}"


class SingleInstance(QObject):
    """Signals: raise_requested(): another launch wants the window shown."""

    raise_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._server = QLocalServer(self)
        self._sockets: set[QLocalSocket] = set()
        self._server.newConnection.connect(self._on_server_new_connection)

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
        return self._server.listen(self._name)

    def close(self) -> None:
        self._server.close()

    def _on_server_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self._on_socket_ready_read)
            socket.disconnected.connect(self._on_socket_disconnected)
            self._sockets.add(socket)     # the wrapper must live as long as the connection

    @Slot()
    def _on_socket_disconnected(self) -> None:
        socket = self.sender()
        self._sockets.discard(socket)
        socket.deleteLater()

    @Slot()
    def _on_socket_ready_read(self) -> None:
        socket = self.sender()
        assert isinstance(socket, QLocalSocket)
        if bytes(socket.readAll().data()).startswith(RAISE_MESSAGE.strip()):
            self.raise_requested.emit()
