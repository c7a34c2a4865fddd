"""Opening an address in the browser or a folder in the file manager, or saying where it is."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def open_or_show(url: QUrl, what: str, parent: QWidget | None) -> bool:
    """Open `url`; where nothing opens it (no browser or file manager set up), say where `what`
    is, to select and open by hand, rather than do nothing."""
    if QDesktopServices.openUrl(url):
        return True
    where = url.toLocalFile() if url.isLocalFile() else url.toString()
    box = QMessageBox(QMessageBox.Icon.Information, f"Open {what}",
                      f"No program on this computer opened {what}. It is here:\n\n{where}",
                      parent=parent)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return False
