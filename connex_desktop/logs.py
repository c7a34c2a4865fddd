"""Logging to a rotating file, with every secret masked before any line is written."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from io import TextIOWrapper
from pathlib import Path

from connex_desktop.core.private_files import private_file, private_folder
from connex_desktop.core.redaction import MASK, redact, register_secret
from connex_desktop.paths import AppPaths

__all__ = ["MASK", "RedactingFilter", "redact", "register_secret", "setup_logging",
           "start_app_logging", "stop_logging"]

LOG_FILE_NAME = "connex-desktop.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments, exception and stack before it is written.

    The record is rewritten in place (message merged with its arguments, the traceback
    pre-formatted), so every handler after this one sees only the masked text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "connex_redacted", False):  # done by an earlier handler's filter
            return True
        record.connex_redacted = True
        try:
            message = record.getMessage()
        except Exception:  # bad arguments: logging would print them raw in its error report
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file, the first and each one after a rollover, is 0600."""

    def _open(self) -> TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()


_installed_handlers: list[logging.Handler] = []


def setup_logging(paths: AppPaths, *, level: int = logging.INFO, console: bool = False) -> Path:
    """Log to a rotating file under the log folder (and stderr if asked); returns the file.

    Calling it again replaces the handlers it installed before.
    """
    private_folder(paths.logs)
    log_file = paths.logs / LOG_FILE_NAME
    stop_logging()
    root = logging.getLogger()
    handlers: list[logging.Handler] = [PrivateRotatingFileHandler(
        log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUP_COUNT, encoding="utf-8")]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        _installed_handlers.append(handler)
    # Every handler, including any installed before (e.g. by a test runner), masks secrets.
    for handler in root.handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
    root.setLevel(level)
    return log_file


def start_app_logging(data_dir: str | None, *, verbose: bool, console: bool) -> Path | None:
    """The log of one run of the app (the window or a command): the rotating file under the
    log folder, at debug level when `verbose` (and then on stderr too when `console`).

    Returns the file, or None when the log folder cannot be written (a read-only or full
    disk): the app then runs without a log file and says what is wrong itself.
    """
    # A full disk must not print logging's own traceback for every line it cannot write.
    logging.raiseExceptions = False
    try:
        return setup_logging(AppPaths.resolve(data_dir),
                             level=logging.DEBUG if verbose else logging.INFO,
                             console=verbose and console)
    except OSError:
        return None


def stop_logging() -> None:
    """Close the handlers `setup_logging` installed (the file is complete on disk)."""
    root = logging.getLogger()
    for handler in _installed_handlers:
        root.removeHandler(handler)
        handler.close()
    _installed_handlers.clear()
