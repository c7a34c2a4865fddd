"""Everything outside ui/ runs without Qt: the engine, the CLI, the sandbox, the connect service."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import connex_desktop


def qt_free_modules() -> list[str]:
    """Every module of the package outside ui/, found afresh, so a new module is covered too."""
    return sorted(module.name for module in pkgutil.walk_packages(connex_desktop.__path__,
                                                                   "connex_desktop.")
                  if module.name != "connex_desktop.ui" and
                  not module.name.startswith("connex_desktop.ui."))


def test_every_module_outside_ui_imports_without_loading_qt():
    modules = qt_free_modules()
    assert {"connex_desktop.core.model", "connex_desktop.sync.engine",
            "connex_desktop.__main__"} <= set(modules)
    code = (
        "import sys, importlib\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))\n"
    )
    # The connect service's WSGI module builds its app from the environment when imported.
    service = {f"CONNEX_CONNECT_{name}": "set-for-the-import" for name in
               ("CLIENT_ID", "CLIENT_SECRET", "ENVIRONMENT", "REDIRECT_URI")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **service})
    assert out.stdout.strip() == "[]"
