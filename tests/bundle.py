"""The PyInstaller bundle (build.spec) built for tests and benchmarks; a user's environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from connex_desktop import APP_NAME

ROOT = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT_S = 900
ONEFILE_ENV = "CONNEX_ONEFILE"


@dataclass(frozen=True)
class Bundle:
    executable: Path
    folder: Path          # what ships: the one folder, or the one file's folder
    build_s: float

    @property
    def size_bytes(self) -> int:
        """On disk: PyInstaller links duplicate libraries, so links are not counted twice."""
        return sum(path.lstat().st_size for path in self.folder.rglob("*")
                   if path.is_file() and not path.is_symlink())


def user_environment() -> dict[str, str]:
    """What a user's shell has: not the plain-http OAuth switch tests/conftest.py turns on."""
    return {name: value for name, value in os.environ.items()
            if name != "OAUTHLIB_INSECURE_TRANSPORT"}


def build_bundle(out: Path, *, onefile: bool = False) -> Bundle:
    """`pyinstaller build.spec` into `out` (dist and work folders), timed."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", str(ROOT / "build.spec"), "--noconfirm",
         "--log-level", "WARN", "--distpath", str(out / "dist"), "--workpath", str(out / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
        env={**os.environ, ONEFILE_ENV: "1" if onefile else "0"})
    build_s = time.perf_counter() - started
    if done.returncode != 0:
        raise AssertionError(f"pyinstaller failed ({done.returncode}):\n{done.stderr[-4000:]}")
    name = APP_NAME + (".exe" if sys.platform == "win32" else "")
    folder = out / "dist" if onefile else out / "dist" / APP_NAME
    return Bundle(executable=folder / name, folder=folder, build_s=build_s)
