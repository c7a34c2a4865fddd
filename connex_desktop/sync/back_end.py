"""The seam between the engine and one QuickBooks company, Online or Desktop: what a run and an
undo ask of it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from connex_desktop.core.progress import CancelToken
from connex_desktop.core.result import QuickBooksUsage
from connex_desktop.core.writing import DocumentWriter
from connex_desktop.quickbooks.client import BatchOperation, BatchOutcome

Record = dict[str, Any]

class QuickBooksBackEnd(Protocol):
    """One QuickBooks company as the engine sees it: records are QuickBooks Online-shaped
    (Id, DocNumber, TotalAmt, CustomerRef…) whichever QuickBooks holds them."""

    # Whether the company's lists may be kept between runs (kept current by change data
    # capture, which only Online has).
    lists_kept: bool
    def heed(self, cancel: CancelToken) -> None:
        """The run's cancel token: waits for QuickBooks (a limit's pause, the Web Connector's
        call) are told through it, and one only QuickBooks' side could end ends on it."""
        ...

    # What the reference cache reads (the planner's lists and the company setup).
    def query_all(self, entity: str, where: str = "") -> list[Record]: ...

    def cdc(self, entities: Sequence[str],
            changed_since: datetime) -> tuple[dict[str, list[Record]], datetime]: ...

    def preferences(self) -> Record: ...

    def company_info(self) -> Record: ...

    # Reconcile's, the payloads' and undo's look-ups: documents of a kind by a field's values.
    def query_in(self, entity: str, field: str, values: Iterable[str]) -> list[Record]: ...

    def writer(self, *, in_flight: int) -> DocumentWriter:
        """The company's DocumentWriter; `in_flight`: requests it may have out at once."""
        ...

    # Undo's changes back (a sparse update naming Id and SyncToken) and deletes.
    def update(self, entity: str, body: dict[str, Any], *, request_id: str) -> Record: ...

    def batch(self, operations: Sequence[BatchOperation], *,
              request_id: str) -> list[BatchOutcome]: ...

    def usage(self) -> QuickBooksUsage: ...

    def close(self) -> None: ...

    def __enter__(self) -> QuickBooksBackEnd: ...

    def __exit__(self, *exc_info: object) -> None: ...
