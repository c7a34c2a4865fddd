"""The packages depend on each other one way, as the design map draws them."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import connex_desktop

PACKAGE = Path(connex_desktop.__file__).parent


def project_imports(package: str) -> dict[str, set[str]]:
    """Each module of `package` → the connex_desktop modules it imports."""
    found = {}
    for module in pkgutil.walk_packages([str(PACKAGE / package)], f"connex_desktop.{package}."):
        path = PACKAGE.parent.joinpath(*module.name.split("."))
        source = path / "__init__.py" if module.ispkg else path.with_suffix(".py")
        names = set()
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module.name] = {name for name in names if name.startswith("connex_desktop.")}
    return found


def outside(package: str, allowed: tuple[str, ...]) -> dict[str, set[str]]:
    """The modules of `package` importing project modules other than `allowed` (and its own)."""
    prefixes = tuple(f"connex_desktop.{name}" for name in (package, *allowed))
    return {module: bad for module, names in project_imports(package).items()
            if (bad := {name for name in names
                        if not any(name == p or name.startswith(p + ".") for p in prefixes)})}


def test_core_imports_nothing_of_the_project():
    assert outside("core", ()) == {}


def test_the_sandbox_imports_only_core():
    """The sandbox stands in for QuickBooks: it knows the domain, not the app's sources."""
    assert outside("sandbox", ("core",)) == {}


def test_quickbooks_desktops_side_does_not_reach_into_the_engine():
    """Like the QuickBooks Online adapter, it reads plans (core/) and is driven by the engine."""
    assert outside("qbdesktop", ("core",)) == {}
