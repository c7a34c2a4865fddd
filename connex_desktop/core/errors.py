"""Errors grouped by what the user can do about them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from connex_desktop.core.redaction import redact


class ErrorKind(enum.StrEnum):
    RETRY_LATER = "retry_later"   # 429, 5xx, timeouts: nothing to fix, try again
    RECONNECT = "reconnect"       # the QuickBooks or store authorisation stopped working
    FIX_DATA = "fix_data"         # one order's data is wrong; the rest of the run goes on
    FIX_SETUP = "fix_setup"       # the connection's configuration is wrong or incomplete
    QUOTA = "quota"               # QuickBooks' monthly allowance of reads is used up: wait
    CANCELLED = "cancelled"


# Faults that end the whole run (or undo): no other order or document could get past them.
STOPPING_KINDS = frozenset({ErrorKind.RECONNECT, ErrorKind.FIX_SETUP, ErrorKind.QUOTA})


class Remedy(enum.StrEnum):
    """A fix the app can make itself for a failure, so the sync log offers it as a button."""

    USE_QB_NUMBERING = "use_qb_numbering"   # the order's number is too long, or taken
    MAP_ITEM = "map_item"                   # no QuickBooks item has the line's SKU
    MAP_TAX_CODE = "map_tax_code"           # no QuickBooks tax code for the store's tax
    RECONNECT = "reconnect"                 # QuickBooks refused the connection's tokens


@dataclass(frozen=True)
class Fix:
    """A remedy and what it is about: the SKU to map, the store's tax name or rate to map."""

    remedy: Remedy
    subject: str = ""

    def encode(self) -> str:
        """As stored with the failed order: "map_item:SKU-1"."""
        return f"{self.remedy.value}:{self.subject}"

    @classmethod
    def decode(cls, text: str) -> Fix | None:
        remedy, _colon, subject = text.partition(":")
        try:
            return cls(Remedy(remedy), subject)
        except ValueError:   # none, or one this version does not know
            return None


def busy_message(action: str) -> str:
    """Why a "sync" or an "undo" (`action`) did not start: another process holds the connection."""
    return ("Another Connex Desktop process (the window or a command line sync) is syncing or "
            f"undoing this connection right now; this {action} did not start. Try again when it "
            "is done.")


class ConnexError(Exception):
    """An error with a plain-words message and, where there is one, the service's own words.

    `order` names the order and `field` the field at fault, so a failure in a list of hundreds
    can be found and fixed; `fix`, where there is one, is the remedy the app offers for it.
    The message and detail are redacted here, once for everywhere they go (the screen, the
    database, the log): a service's error body may echo a credential.
    """

    kind: ErrorKind = ErrorKind.FIX_DATA

    def __init__(self, message: str, *, detail: str = "", order: str = "", field: str = "",
                 kind: ErrorKind | None = None, fix: Fix | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.detail = redact(detail)
        self.order = order
        self.field = field
        self.fix = fix    # what the app can do about it, where it can
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        where = f"Order {self.order}: " if self.order else ""
        return f"{where}{self.message}"


class OrderDataError(ConnexError):
    kind = ErrorKind.FIX_DATA


class SetupError(ConnexError):
    kind = ErrorKind.FIX_SETUP


class ReconnectError(ConnexError):
    kind = ErrorKind.RECONNECT


class RetryLaterError(ConnexError):
    kind = ErrorKind.RETRY_LATER


class Cancelled(ConnexError):
    kind = ErrorKind.CANCELLED

    def __init__(self, message: str = "The sync was cancelled.") -> None:
        super().__init__(message)
