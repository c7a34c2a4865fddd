"""Where the app keeps its state: platformdirs by default, one folder when overridden."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from connex_desktop import APP_NAME
from connex_desktop.core.private_files import make_private, make_tree_private, private_folder

HOME_ENV = "CONNEX_DESKTOP_HOME"
# The app's databases (its own and the demo company's), with their -wal, -shm and .bak files.
DATABASE_SUFFIX = ".sqlite3"


@dataclass(frozen=True)
class AppPaths:
    """The folders for data (the database), logs and cache."""

    data: Path
    logs: Path
    cache: Path

    @property
    def database(self) -> Path:
        return self.data / f"connex{DATABASE_SUFFIX}"

    @property
    def locks(self) -> Path:
        """One lock file per connection being synced (storage.sync_locks)."""
        return self.data / "locks"

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
        """Create the folders, private to this user, and take back any access an older version
        (or a copy) left to others: the database, its journals and backups, locks and logs."""
        for folder in (self.data, self.logs, self.cache):
            private_folder(folder)
        # In the data folder only what the app writes: it may be a folder the user chose.
        for path in self.data.glob(f"*{DATABASE_SUFFIX}*"):
            make_private(path)
        for folder in (self.locks, self.logs, self.cache):
            if folder.is_dir():
                make_tree_private(folder)
        return self
