"""The engine and its parts run without Qt."""

from __future__ import annotations

import subprocess
import sys

QT_FREE = [
    "connex_desktop.core.model", "connex_desktop.core.modes", "connex_desktop.core.connection",
    "connex_desktop.sources.base", "connex_desktop.paths", "connex_desktop.__main__",
]


def test_core_packages_import_without_loading_qt():
    code = (
        "import sys, importlib\n"
        f"for name in {QT_FREE!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
