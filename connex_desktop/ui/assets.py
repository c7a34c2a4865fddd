"""Icons from resources/icons (wherever resources/ is) and the colours the windows share."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from connex_desktop.resources import resource_path

# Failures and errors, in the window's table, the sync log and the dialogs alike.
ERROR_COLOR = "#b3261e"
ERROR_STYLE = f"color: {ERROR_COLOR};"


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg (e.g. "app", "tray-idle")."""
    return QIcon(str(resource_path("icons", f"{name}.svg")))
