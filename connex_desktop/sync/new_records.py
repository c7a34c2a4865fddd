"""The customers and items a run creates: kept once created, renamed after a clash, or failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connex_desktop.core.errors import STOPPING_KINDS, ConnexError, ErrorKind
from connex_desktop.core.writing import DocumentWriter
from connex_desktop.quickbooks.errors import QuickBooksCode, QuickBooksFault
from connex_desktop.quickbooks.writer import name_field
from connex_desktop.sync.customer_fields import currency_of
from connex_desktop.sync.planner import NewEntity, other_sku
from connex_desktop.sync.run_state import RunStopped, SyncRun


class NewRecords:
    """What becomes of each customer or item the run's orders need created."""

    def __init__(self, run: SyncRun, writer: DocumentWriter) -> None:
        self.run = run
        self.writer = writer

    def created(self, entity: NewEntity, record: dict[str, Any]) -> None:
        self.run.refs.add(entity.entity, record)
        self.run.resolved[entity.key] = {"value": str(record["Id"]),
                                         "name": str(record.get(name_field(entity.entity), ""))}
        self.run.result.created.append(entity.label)

    def failed(self, entity: NewEntity, fault: ConnexError) -> None:
        """The orders that need the record fail with the reason."""
        if fault.kind is ErrorKind.RETRY_LATER:
            self.run.retry_later = True
        self.run.entity_faults[entity.key] = f"{fault.message} {fault.detail}".strip()
        for state in self.run.in_flight:
            if any(created.key == entity.key for created in state.plan.creates):
                state.fail(f"could not create the {entity.label}: {fault.message}",
                           kind=fault.kind, detail=fault.detail)

    def settle_name_clash(self, entity: NewEntity) -> None:
        """The name is taken. Ours to use if it is the same kind of record (an item only if it
        has no other SKU, a customer only in the same currency), reactivated if it is inactive
        (it still holds its name); else the entity takes the next name it has to try (a
        customer named like a vendor or an employee, an item named like another SKU's)."""
        field = name_field(entity.entity)
        name = str(entity.body.get(field, ""))
        matches = [record for record in self.writer.holders_of_name(entity.entity, name)
                   if not other_sku(record, str(entity.body.get("Sku") or ""))
                   and self._same_currency(entity, record)]
        if matches:
            record = matches[0]
            if record.get("Active") is False:
                try:
                    record = self._reactivate(entity, record)
                except QuickBooksFault as fault:
                    if fault.kind in STOPPING_KINDS:
                        raise RunStopped(fault) from fault
                    self.failed(entity, fault)
                    return
            self.run.refs.add(entity.entity, record)
            self.run.resolved[entity.key] = {"value": str(record["Id"]), "name": name}
            return
        if entity.other_names:
            name, *others = entity.other_names
            self.run.renamed[entity.key] = NewEntity(entity.entity, entity.key, name,
                                                     dict(entity.body, **{field: name}),
                                                     tuple(others))
            return
        self.failed(entity, QuickBooksFault(
            f"the name '{name}' is already used in QuickBooks by another record.",
            kind=ErrorKind.FIX_DATA, code=QuickBooksCode.NAME_TAKEN))

    def _same_currency(self, entity: NewEntity, record: Mapping[str, Any]) -> bool:
        wanted = (entity.body.get("CurrencyRef") or {}).get("value")
        home = self.run.setup.home_currency
        return not wanted or currency_of(record, home) == str(wanted).upper()

    def _reactivate(self, entity: NewEntity, record: Mapping[str, Any]) -> dict[str, Any]:
        """Make an inactive customer or item active again, to book on it."""
        reactivated = self.writer.reactivate(entity.entity, record)
        self.run.result.created.append(f"{entity.label} (reactivated)")
        return reactivated
