"""Where the app keeps its state: platformdirs by default, one folder when overridden."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from connex_desktop import APP_NAME

HOME_ENV = "CONNEX_DESKTOP_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders for data (the database), logs and cache."""

    data: Path
    logs: Path
    cache: Path

    @property
    def database(self) -> Path:
        return self.data / "connex.sqlite3"

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
        """`--data-dir`, else $CONNEX_DESKTOP_HOME, puts everything under one folder."""
        root = data_dir or os.environ.get(HOME_ENV)
        if root:
            base = Path(root).expanduser().resolve()
            return cls(data=base, logs=base / "logs", cache=base / "cache")
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(data=Path(dirs.user_data_dir), logs=Path(dirs.user_log_dir),
                   cache=Path(dirs.user_cache_dir))

    def ensure(self) -> AppPaths:
        for folder in (self.data, self.logs, self.cache):
            folder.mkdir(parents=True, exist_ok=True)
        return self
