"""The seam between the engine and a QuickBooks writer (Online today): writes and their outcomes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from connex_desktop.core.errors import ConnexError


@dataclass(frozen=True)
class Write:
    """One record to create: a document ("Invoice"…) or a list record ("Customer"…); or, when
    its body names the record's Id (with its SyncToken, sparse), a change to that record.

    `request_id` makes a write sent again answered, not repeated; it is given by the writer
    (`with_request_ids`) and recorded in the ledger before the write is sent.
    """

    entity: str
    body: Mapping[str, Any]
    request_id: str = ""

    @property
    def is_update(self) -> bool:
        # Read from the body, so a write read back from the ledger goes again as it went.
        return bool(self.body.get("Id"))


@dataclass(frozen=True)
class Stored:
    """QuickBooks holds the record (written now, or earlier under the same request id)."""

    write: Write
    record: dict[str, Any]


@dataclass(frozen=True)
class NotStored:
    """QuickBooks did not store the write; `fault` says why. One of the kinds below."""

    write: Write
    fault: ConnexError


class NumberTaken(NotStored):
    """Another document of the kind already has the number sent (it may be ours: look)."""


class NameTaken(NotStored):
    """Another customer, vendor, employee or item already has the name sent."""


class Refused(NotStored):
    """QuickBooks refused this write, or could not take it now (`fault.kind` says which)."""


class StaleReference(Refused):
    """Refused for a record the write refers to that is inactive or gone in QuickBooks: the
    lists read earlier, in this run or kept from an earlier one, no longer hold."""


class Unanswered(NotStored):
    """The request carrying this write got no usable answer as a whole: it may be stored."""


WriteOutcome = Stored | NotStored


@dataclass(frozen=True)
class SentRequest:
    """One request's outcomes, one per write in the order sent; `fault` is set when the
    request went unanswered as a whole (then every outcome is `Unanswered`)."""

    outcomes: tuple[WriteOutcome, ...]
    fault: ConnexError | None = None


class DocumentWriter(Protocol):
    """Writes records to one QuickBooks company; each back-end (Online, Desktop) has its own."""

    # Writes one request carries at most: rounds are filled to it.
    operations_per_request: int

    def with_request_ids(self, writes: Sequence[Write]) -> list[Write]:
        """The writes, in order, each with the request id it is to be sent with."""
        ...

    def send(self, writes: Sequence[Write]) -> list[SentRequest]:
        """Send writes that carry their request ids; writes sent before go again as they went."""
        ...

    def holders_of_numbers(self, wanted: Iterable[tuple[str, str]]
                           ) -> dict[tuple[str, str], dict[str, Any]]:
        """The documents QuickBooks has under these (kind, number) pairs, by that pair."""
        ...

    def holders_of_name(self, entity: str, name: str) -> list[dict[str, Any]]:
        """The records of `entity` named `name`, inactive ones too."""
        ...

    def reactivate(self, entity: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Make an inactive record active again; the record as QuickBooks now holds it."""
        ...

    def delete(self, entity: str, record: Mapping[str, Any]) -> None:
        """Delete a document; one already gone counts as deleted."""
        ...
