"""Icons from resources/icons, wherever resources/ is (source tree, bundle or wheel)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from connex_desktop.resources import resource_path


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg (e.g. "app", "tray-idle")."""
    return QIcon(str(resource_path("icons", f"{name}.svg")))
