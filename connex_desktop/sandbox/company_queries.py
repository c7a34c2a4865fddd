"""Reading a company: single entities, queries as the API runs them, and change data capture."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from connex_desktop.sandbox import faults
from connex_desktop.sandbox import query as qbql
from connex_desktop.sandbox.records import ENTITIES, NAME_FIELD, Entity, Records
from connex_desktop.sandbox.store import dumps, id_order, loads


class CompanyQueries(Records):
    """Reads, queries and CDC; each answers from the store under the company lock."""

    lock: threading.RLock

    def read(self, entity: str, id_: str) -> Entity:
        with self.lock:
            found = self.store.get(entity, id_)
            if found is None:
                raise faults.not_found()
            return loads(dumps(found))

    def all(self, entity: str) -> list[Entity]:
        """Every stored `entity` as the API returns it, amounts as Decimal."""
        with self.lock:
            return [loads(dumps(e)) for e in sorted(self.store.all(entity), key=id_order)]

    def query(self, text: str) -> list[Entity]:
        """Run a query as the API would and return the matching entities (one page).

        Amounts come back as Decimal; for COUNT(*) use `run_query`, which gives totalCount.
        """
        response = self.run_query(text)
        return [loads(dumps(e)) for key, value in response.items() if isinstance(value, list)
                for e in value]

    def run_query(self, text: str) -> dict[str, Any]:
        """The QueryResponse object for `text`."""
        parsed = qbql.parse(text)
        entity = self._entity_name(parsed.entity)
        self._check_queryable(entity, parsed)
        with self.lock:
            candidates = self._candidates(entity, parsed)
            if self._batch_created:
                candidates = [e for e in candidates
                              if (entity, e["Id"]) not in self._batch_created]
            if entity in NAME_FIELD and not any(c.field.lower() == "active"
                                                for c in parsed.conditions):
                # Plain queries return active records only (Intuit, "Deep dive: SQL queries").
                candidates = [e for e in candidates if e.get("Active") is not False]
            total, page = qbql.select(parsed, candidates, id_order)
        if parsed.count:
            return {"totalCount": total}
        if not page:
            return {}
        return {entity: page, "startPosition": parsed.start_position, "maxResults": len(page)}

    def _entity_name(self, name: str) -> str:
        for entity in ENTITIES:
            if entity.lower() == name.lower():
                return entity
        raise faults.query_validation_error(f"Unsupported Entity: {name}")

    @staticmethod
    def _check_queryable(entity: str, parsed: qbql.Query) -> None:
        for condition in parsed.conditions:
            top = condition.field.split(".")[0].lower()
            unfilterable = top in ("privatenote", "customfield", "memo", "line") or (
                entity == "Payment" and top == "docnumber")
            if unfilterable:
                raise faults.query_validation_error(
                    f"property '{condition.field}' is not queryable")

    def _candidates(self, entity: str, parsed: qbql.Query) -> Iterable[Entity]:
        for condition in parsed.conditions:
            if condition.field in ("DocNumber", "Name", "DisplayName", "Sku") and \
                    condition.operator in ("=", "IN"):
                found: dict[str, Entity] = {}
                for value in condition.values:
                    for e in self.store.find(entity, condition.field, str(value)):
                        found[e["Id"]] = e
                return found.values()
            if condition.field == "Id" and condition.operator in ("=", "IN"):
                hits = (self.visible(entity, str(v)) for v in condition.values)
                return [e for e in hits if e is not None]
        return self.store.all(entity)

    def cdc(self, entities: Iterable[str], since: str) -> list[dict[str, Any]]:
        """Entities changed at or after `since`, deleted ones as stubs (Change Data Capture)."""
        moment = qbql.as_datetime(since)
        if moment is None:
            raise faults.invalid_value("changedSince", since)
        results = []
        with self.lock:
            for name in entities:
                entity = self._entity_name(name.strip())
                changed = [e for e in sorted(self.store.all(entity), key=id_order)
                           if self._changed_since(e, moment)]
                changed += [e for e in self.store.deleted(entity)
                            if self._changed_since(e, moment)]
                response: dict[str, Any] = {entity: changed} if changed else {}
                if changed:
                    response.update(startPosition=1, maxResults=len(changed))
                results.append(response)
        return results

    @staticmethod
    def _changed_since(entity: Mapping[str, Any], moment: datetime) -> bool:
        updated = qbql.as_datetime(entity.get("MetaData", {}).get("LastUpdatedTime", ""))
        return updated is not None and updated >= moment

    @contextlib.contextmanager
    def batch_scope(self) -> Iterator[None]:
        """Run a batch's items: what earlier items create stays out of sight of later ones."""
        with self.lock:
            self._batch_created = set()
            try:
                yield
            finally:
                self._batch_created = None
