"""A Qt server that keeps each accepted connection alive until it closes, and reads its data."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket, QTcpServer, QTcpSocket

# What a QTcpServer or a QLocalServer hands over for each connection.
AcceptedSocket = QTcpSocket | QLocalSocket


class SocketServer(QObject):
    """Accepts connections on a QTcpServer or QLocalServer; `_on_data` reads what each sends."""

    def __init__(self, server: QTcpServer | QLocalServer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        server.setParent(self)
        self._server = server
        self._sockets: set[AcceptedSocket] = set()
        self._server.newConnection.connect(self._on_server_new_connection)

    def close(self) -> None:
        self._server.close()

    def _on_data(self, socket: AcceptedSocket) -> None:
        raise NotImplementedError

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
        assert isinstance(socket, AcceptedSocket)
        self._on_data(socket)
