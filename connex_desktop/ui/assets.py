"""Icons and images from resources/: in the source tree, the frozen bundle or the wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from connex_desktop import resources


def resources_dir() -> Path:
    """resources/ from the source tree, the frozen bundle or the installed wheel."""
    return resources.resources_dir()


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg (e.g. "app", "tray-idle")."""
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"missing icon {path}")
    return QIcon(str(path))
