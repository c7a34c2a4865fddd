"""The list of connections: a row each, picked by the arrow keys, the columns sharing the width."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from connex_desktop.ui.connections_model import ConnectionsModel

# Wide enough for a shop address or a file name; the rest is elided and shown in the tooltip.
MAX_COLUMN_WIDTH_PX = 250
# The last sync's summary keeps at least this much (or half a narrow list) when the other
# columns must give way.
LAST_SYNC_MIN_WIDTH_PX = 240


def widest_that_fits(wanted: list[int], room: int) -> int:
    """The widest a column may be for all to fit in `room`: the narrow ones keep their width,
    the wide ones give way alike."""
    left = room
    for index, width in enumerate(sorted(wanted)):
        share = left // (len(wanted) - index)
        if width > share:
            return share
        left -= width
    return max(wanted)


class ConnectionsTable(QTableView):
    """The columns take what their contents need, up to a maximum; when the list is narrower
    than that, the widest give way, so the last sync's summary shows and nothing scrolls
    sideways."""

    def __init__(self, model: ConnectionsModel) -> None:
        super().__init__()
        self._wanted: list[int] = []      # each column's width for its contents
        self.setAccessibleName("Connections")
        self.setTabKeyNavigation(False)    # rows are picked with the arrows; Tab moves on
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)   # a heading that gives way
        # The last sync's summary takes the room left.
        header.setSectionResizeMode(ConnectionsModel.LAST_SYNC, QHeaderView.ResizeMode.Stretch)

    def fit_columns(self) -> None:
        """Measure the contents again (after a reload) and share the width out."""
        self.resizeColumnsToContents()
        self._wanted = [min(self.columnWidth(column), MAX_COLUMN_WIDTH_PX)
                        for column in range(self.model().columnCount())]
        self._share_width()

    def _share_width(self) -> None:
        others = [column for column in range(len(self._wanted))
                  if column != ConnectionsModel.LAST_SYNC]
        if not others:
            return
        width = self.viewport().width()
        widest = widest_that_fits([self._wanted[column] for column in others],
                                  max(width - LAST_SYNC_MIN_WIDTH_PX, width // 2))
        for column in others:
            self.setColumnWidth(column, min(self._wanted[column], widest))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._share_width()
