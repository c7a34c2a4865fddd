"""The Help menu's answers: connecting QuickBooks, the user guide, the logs folder, About."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

from connex_desktop import APP_DISPLAY_NAME, __version__
from connex_desktop.resources import resource_path
from connex_desktop.ui.opening import open_or_show

GUIDE_FILE = "guide.html"
CONNECT_SECTION = "connect"


def guide_section(section_id: str) -> str:
    """The body of one section of the user guide (its <h2 id=…>), for a dialog: the guide and
    the Help menu say the same, written once."""
    guide = resource_path(GUIDE_FILE).read_text(encoding="utf-8")
    heading = guide.index(f'<h2 id="{section_id}">')
    body = guide.index("</h2>", heading) + len("</h2>")
    end = guide.find("<h2", body)
    return guide[body:end if end >= 0 else guide.index("</body>")].strip()


def show_how_to_connect(parent: QWidget) -> None:
    QMessageBox.information(parent, "How to connect QuickBooks", guide_section(CONNECT_SECTION))


def open_guide(parent: QWidget) -> bool:
    """The user guide shipped with the app (resources/guide.html), in the browser."""
    return open_or_show(QUrl.fromLocalFile(str(resource_path(GUIDE_FILE))), "the user guide",
                        parent)


def open_folder(folder: Path, parent: QWidget) -> bool:
    """Show the folder in the file manager (made first if it is not there yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    return open_or_show(QUrl.fromLocalFile(str(folder)), "the logs folder", parent)


def about_text() -> str:
    return (f"<h3>{APP_DISPLAY_NAME} {__version__}</h3>"
            "<p>Books the orders of online stores into QuickBooks Online or Desktop, each "
            "exactly once, to the cent.</p>")


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, f"About {APP_DISPLAY_NAME}", about_text())
