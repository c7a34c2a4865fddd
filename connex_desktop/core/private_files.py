"""Files only this user may read: folders 0700, files 0600 on POSIX (customers' data is there)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Group and other: the bits a private file or folder must not have.
_SHARED_BITS = 0o077
# Windows keeps a user's profile folders private already; its modes do not say who may read.
_POSIX = os.name == "posix"

log = logging.getLogger(__name__)


def make_private(path: Path) -> None:
    """Take the group's and others' access away from an existing file or folder."""
    if not _POSIX:
        return
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & _SHARED_BITS and not path.is_symlink():
            path.chmod(mode & ~_SHARED_BITS)
    except OSError as error:
        # A read-only or foreign file: what uses it next says so in plain words; here a note.
        log.warning("Could not make %s private: %s", path, error.strerror or error)


def private_folder(folder: Path) -> Path:
    """Create the folder 0700 (its parents as the system makes them), or make it private."""
    folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    make_private(folder)    # mkdir leaves an existing folder's mode, and honours the umask
    return folder


def private_file(path: Path) -> Path:
    """Create the file empty and 0600 before anything writes to it, or make it private.

    SQLite gives a database's -wal, -shm and journal files the database file's own mode, so a
    database created this way keeps them private too.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        make_private(path)
    except OSError as error:    # a read-only folder: whatever opens the file next says so
        log.warning("Could not create %s: %s", path, error.strerror or error)
    return path


def make_tree_private(folder: Path, pattern: str = "*") -> None:
    """Make private the folder, and every file and folder under it whose name matches."""
    make_private(folder)
    for path in folder.rglob(pattern):
        make_private(path)
