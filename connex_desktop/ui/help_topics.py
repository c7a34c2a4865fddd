"""The Help menu's answers: connecting QuickBooks, the user guide, the logs folder, About."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from connex_desktop import APP_DISPLAY_NAME, __version__
from connex_desktop.resources import resource_path

GUIDE_FILE = "guide.html"
HOW_TO_CONNECT = (
    "<ol>"
    "<li>Sign in at developer.intuit.com and create an app with the Accounting scope. Its "
    "keys page shows a client ID and a client secret: Development keys for a sandbox company, "
    "Production keys for your real books.</li>"
    "<li>Add <code>http://localhost:8765/callback</code> as a redirect URI of those keys "
    "(production keys need an https page instead).</li>"
    "<li>Select your connection, choose <b>Connection → Connect to QuickBooks…</b>, enter the "
    "client ID and secret, press <b>Authorize in browser</b> and pick the company.</li>"
    "</ol>"
    "<p>Until then the connection is not synced automatically. To try everything first with no "
    "account at all, use <b>File → Try the demo</b>.</p>")


def show_how_to_connect(parent: QWidget) -> None:
    QMessageBox.information(parent, "How to connect QuickBooks", HOW_TO_CONNECT)


def open_guide() -> bool:
    """The user guide shipped with the app (resources/guide.html), in the browser."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(resource_path(GUIDE_FILE))))


def open_folder(folder: Path) -> bool:
    """Show the folder in the file manager (made first if it is not there yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def about_text() -> str:
    return (f"<h3>{APP_DISPLAY_NAME} {__version__}</h3>"
            "<p>Books the orders of online stores into QuickBooks Online, each exactly once, "
            "to the cent.</p>")


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, f"About {APP_DISPLAY_NAME}", about_text())
