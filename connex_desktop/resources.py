"""Where resources/ is at run time: in the frozen bundle, the source tree or the installed wheel."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath

from connex_desktop import APP_NAME

# The wheel installs resources/ as data files under <prefix>/share/connex-desktop/resources
# (pyproject's [tool.setuptools.data-files]); the prefix depends on the install scheme.
INSTALLED_PARENT = PurePosixPath("share") / APP_NAME
# A file every copy of resources/ has, to tell ours from some other folder named resources.
MARKER = PurePosixPath("icons") / "app.svg"


class ResourcesNotFound(FileNotFoundError):
    """No resources/ folder beside the package, in the bundle, or among the installed files."""


def _frozen() -> Path | None:
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks `datas` here
    return Path(bundle) / "resources" if bundle else None


def _source_tree() -> Path:
    return Path(__file__).resolve().parent.parent / "resources"


def _installed() -> Path | None:
    """Found through the distribution's own file list, so --user, venv and system installs work."""
    from importlib import metadata  # slow to import; only an installed wheel needs it

    try:
        distribution = metadata.distribution(APP_NAME)
    except metadata.PackageNotFoundError:
        return None
    marker_tail = INSTALLED_PARENT / "resources" / MARKER
    for file in distribution.files or ():
        if PurePosixPath(file.as_posix()).parts[-len(marker_tail.parts):] == marker_tail.parts:
            marker = Path(str(distribution.locate_file(file))).resolve()
            return marker.parents[len(MARKER.parts) - 1]
    return None


def _places() -> Iterator[Path]:
    """The bundle, then the source tree, then the installed data files (read only if needed)."""
    frozen = _frozen()
    if frozen is not None:
        yield frozen
    yield _source_tree()
    installed = _installed()
    if installed is not None:
        yield installed


@cache
def resources_dir() -> Path:
    """The resources/ folder this copy of the app runs with."""
    looked: list[str] = []
    for place in _places():
        if (place / MARKER).is_file():
            return place
        looked.append(str(place))
    raise ResourcesNotFound(
        f"Connex Desktop cannot find its resources folder (looked in {', '.join(looked)}); "
        "reinstall the app.")


def resource_path(*parts: str) -> Path:
    """A file under resources/, e.g. resource_path("icons", "tray-idle.svg")."""
    path = resources_dir().joinpath(*parts)
    if not path.is_file():
        raise ResourcesNotFound(f"Connex Desktop is missing its file {path}; reinstall the app.")
    return path
