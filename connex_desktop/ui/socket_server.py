"""Qt servers that keep each accepted connection alive until it closes, and read its data."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket, QTcpServer, QTcpSocket

# What a QTcpServer or a QLocalServer hands over for each connection.
AcceptedSocket = QTcpSocket | QLocalSocket


class SocketServer(QObject):
    """Accepts connections on QTcpServers or a QLocalServer; `_on_data` reads what each sends.

    Several servers serve one name on several addresses (localhost on IPv4 and IPv6).
    """

    def __init__(self, servers: Sequence[QTcpServer] | Sequence[QLocalServer],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._servers = list(servers)
        self._sockets: set[AcceptedSocket] = set()
        for server in self._servers:
            server.setParent(self)
            server.newConnection.connect(self._on_server_new_connection)

    def close(self) -> None:
        """Stops accepting; connections already accepted stay open until they close."""
        for server in self._servers:
            server.close()

    def _on_data(self, socket: AcceptedSocket) -> None:
        raise NotImplementedError

    @Slot()
    def _on_server_new_connection(self) -> None:
        server = self.sender()
        assert isinstance(server, QTcpServer | QLocalServer)
        while server.hasPendingConnections():
            socket = server.nextPendingConnection()
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
