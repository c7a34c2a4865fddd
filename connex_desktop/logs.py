"""Logging to a rotating file, with every secret masked before any line is written."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from connex_desktop.paths import AppPaths

LOG_FILE_NAME = "connex-desktop.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"
MASK = "[redacted]"
# Shorter registered values would mask ordinary words and numbers all over the log.
MIN_SECRET_LENGTH = 4

# Names whose value is a secret, whether in JSON, a Python dict, a query string or a form body.
_SECRET_NAMES = (
    r"access[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?secret|consumer[_-]?key"
    r"|consumer[_-]?secret|api[_-]?key|api[_-]?secret|password|passwd|secret"
    r"|x-shopify-access-token|x-auth-token|x-api-key|authorization|proxy-authorization"
)
_AUTH_SCHEMES = r"(?:bearer|basic|token|oauth|digest)\s+"

_MASKED = re.escape(MASK)
_AUTH_SCHEME = re.compile(_AUTH_SCHEMES, re.I)
_UNSECRET_VALUES = frozenset({"null", "None", "true", "false", '""', "''"})


def _mask_quoted_value(match: re.Match[str]) -> str:
    value = match["value"]
    if value in _UNSECRET_VALUES or MASK in value:
        return match[0]
    body = value.removeprefix("b")
    quote = body[0] if body[:1] in ("'", '"') else ""
    scheme = _AUTH_SCHEME.match(body.strip(quote))
    return f"{match['head']}{quote}{scheme[0] if scheme else ''}{MASK}{quote}"


_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # "name": "value" and 'name': 'value' (JSON, escaped JSON, dict reprs of headers, tokens)
    (re.compile(rf"""(?P<head>\\?(?P<q>["'])(?:{_SECRET_NAMES})\\?(?P=q)\s*:\s*)"""
                r"""(?P<value>b?"(?:[^"\\]|\\.)*"|b?'(?:[^'\\]|\\.)*'|[^\s,}\]]+)""", re.I),
     _mask_quoted_value),
    # name=value in query strings and form bodies
    (re.compile(rf"(?P<key>\b(?:{_SECRET_NAMES}))=(?!{_MASKED})[^&\s\"',;)}}\]]+", re.I),
     rf"\g<key>={MASK}"),
    # the OAuth authorization code in a redirect URL (`code` alone is too common a word)
    (re.compile(rf"(?P<key>[?&]code=)(?!{_MASKED})[^&\s\"'#]+"), rf"\g<key>{MASK}"),
    # "Name: value" header lines
    (re.compile(rf"(?P<key>\b(?:{_SECRET_NAMES})[ \t]*:[ \t]*)(?!(?:{_AUTH_SCHEMES})?{_MASKED})"
                rf"(?P<scheme>{_AUTH_SCHEMES})?[^\s\"',]+", re.I),
     rf"\g<key>\g<scheme>{MASK}"),
    # a bearer token anywhere else (but not the word ending a URL path, as in /tokens/bearer)
    (re.compile(r"(?<![/\w.-])(?P<scheme>bearer)\s+[\w\-.~+/]+=*", re.I), rf"\g<scheme> {MASK}"),
    # WooCommerce consumer keys and secrets; Shopify access tokens and shared secrets
    (re.compile(r"\b(?:ck|cs)_[0-9a-f]{40}\b", re.I), MASK),
    (re.compile(r"\bshp(?:at|ca|pa|ss)_[0-9a-f]{32}\b", re.I), MASK),
    # the password in requests' `auth=(user, password)` when its keyword arguments are logged
    (re.compile(r"(?P<head>['\"]auth['\"]:\s*\(\s*(?P<q>['\"]).*?(?P=q)\s*,\s*)"
                r"(?P<q2>['\"]).*?(?P=q2)\s*\)"),
     rf"\g<head>\g<q2>{MASK}\g<q2>)"),
    # the password in https://user:password@host
    (re.compile(r"(?P<prefix>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@", re.I),
     rf"\g<prefix>{MASK}@"),
)

_registered: set[str] = set()
_registered_pattern: re.Pattern[str] | None = None
_registered_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask this exact value (and its URL-encoded forms) in every log line from now on.

    The app calls it with every secret it reads from or writes to the keyring.
    """
    global _registered_pattern
    if len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, urllib.parse.quote(value), urllib.parse.quote(value, safe=""),
             urllib.parse.quote_plus(value)}
    with _registered_lock:
        if forms <= _registered:
            return
        _registered.update(forms)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(_registered, key=len, reverse=True)
        _registered_pattern = re.compile("|".join(re.escape(form) for form in ordered))


def redact(text: str) -> str:
    """The text with every known kind of secret, and every registered one, masked."""
    pattern = _registered_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for secret_pattern, replacement in _PATTERNS:
        text = secret_pattern.sub(replacement, text)
    return text


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


_installed_handlers: list[logging.Handler] = []


def setup_logging(paths: AppPaths, *, level: int = logging.INFO, console: bool = False) -> Path:
    """Log to a rotating file under the log folder (and stderr if asked); returns the file.

    Calling it again replaces the handlers it installed before.
    """
    paths.logs.mkdir(parents=True, exist_ok=True)
    log_file = paths.logs / LOG_FILE_NAME
    stop_logging()
    root = logging.getLogger()
    handlers: list[logging.Handler] = [logging.handlers.RotatingFileHandler(
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
