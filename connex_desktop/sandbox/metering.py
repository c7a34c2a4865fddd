"""Intuit's metering in the sandbox: CorePlus reads and Core writes per company and month."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

# Batch items that read (CorePlus); the others (create, update, delete) write (Core).
READ_ITEM_KEYS = ("Query", "CDCQuery", "ReportQuery")


@dataclass
class Usage:
    """One company's metered calls in one month: reads (CorePlus: queries, reads by id, CDC,
    reports, each query of a batch), writes (Core: creates, updates, deletes, each operation of
    a batch), the API requests they came in, and reads refused for the monthly quota."""

    reads: int = 0
    writes: int = 0
    requests: int = 0
    refused_reads: int = 0


def metered_calls(method: str, resource: str, body: bytes) -> tuple[int, int]:
    """(reads, writes) one API request costs: a batch counts each of its items by its kind."""
    if resource == "batch" and method == "POST":
        try:
            items = json.loads(body or b"{}").get("BatchItemRequest") or []
        except (ValueError, AttributeError):
            items = []
        reads = sum(1 for item in items
                    if isinstance(item, dict) and any(key in item for key in READ_ITEM_KEYS))
        return reads, len(items) - reads
    if method == "GET" or resource == "query":
        return 1, 0
    return 0, 1


class Meter:
    """Counts metered calls per company (realm) for the month of `clock`; with `read_quota`,
    reads past that many in a month are refused (Intuit's Builder tier: 500,000 a month)."""

    def __init__(self, clock: Callable[[], float], read_quota: int | None = None) -> None:
        if read_quota is not None and read_quota < 0:
            raise ValueError("a read quota cannot be negative")
        self.read_quota = read_quota
        self._clock = clock
        self._lock = threading.Lock()
        self._usage: dict[tuple[str, str], Usage] = {}

    def month(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m")

    def admit(self, realm_id: str, reads: int, writes: int) -> bool:
        """Count one request; False (nothing counted but the refusal) when it reads and the
        month's reads have reached the quota. Writes always pass: Core calls are not metered."""
        with self._lock:
            usage = self._usage.setdefault((realm_id, self.month()), Usage())
            if reads and self.read_quota is not None and usage.reads >= self.read_quota:
                usage.refused_reads += reads
                return False
            usage.reads += reads
            usage.writes += writes
            usage.requests += 1
            return True

    def usage(self, realm_id: str) -> Usage:
        """This month's usage of one company (a copy)."""
        with self._lock:
            return Usage(**asdict(self._usage.get((realm_id, self.month()), Usage())))

    def as_json(self) -> dict[str, Any]:
        """What `GET /__sandbox/usage` answers: this month's usage of every company."""
        month = self.month()
        with self._lock:
            companies = {realm: asdict(usage) for (realm, when), usage in self._usage.items()
                         if when == month}
        return {"month": month, "read_quota": self.read_quota, "companies": companies}
