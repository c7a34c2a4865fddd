"""One lock file per connection, held by the process syncing it and freed by the OS when it ends."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connex_desktop.core.private_files import private_folder
from connex_desktop.storage.database import raise_if_storage_error

# The operating system's own file locks: they go with the process however it ends (killed,
# crashed, powered off), which is exactly what tells a stale "running" run from a live one.
# The standard library has them; a lock library would add tens of milliseconds to start-up.
# Any other error (a file system without locks) is raised, not taken for "another process".
if sys.platform == "win32":
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except PermissionError:     # locked by another handle (EACCES)
            return False
        return True
else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:     # locked by another open file (EWOULDBLOCK)
            return False
        return True


class SyncLocks:
    """Which connections a live process is syncing, across every process using one data folder.

    The files are never deleted: removing a lock file another process is about to lock would let
    two processes hold "the" lock at once.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def hold(self, connection_id: int) -> Iterator[bool]:
        """Hold the connection's lock for the block. Yields False, holding nothing, when another
        process (or another run in this one) holds it."""
        try:
            private_folder(self.folder)
            descriptor = os.open(self.folder / f"connection-{connection_id}.lock",
                                 os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise_if_storage_error(error, self.folder.parent)
            raise
        try:
            yield _try_lock(descriptor)
        finally:
            os.close(descriptor)    # releases the lock
