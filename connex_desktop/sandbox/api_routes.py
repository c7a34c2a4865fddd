"""The v3 API's resources: queries, batches, preferences, CDC, and entity reads and writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connex_desktop.core.quickbooks_rules import (
    BATCH_ID_MAX_CHARS,
    BATCH_MAX_OPERATIONS,
)
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.faults import QBFault
from connex_desktop.sandbox.qbo_company import (
    ENTITIES,
    READ_ONLY_OVER_API,
    SINGLETONS,
    Company,
)
from connex_desktop.sandbox.store import loads

ENTITY_BY_PATH = {name.lower(): name for name in ENTITIES}


class ApiRoutes:
    """What an authorised API request does to `company`; every method raises QBFault when
    QuickBooks would answer with a fault."""

    company: Company

    def _dispatch(self, method: str, resource: str, rest: list[str], params: dict[str, str],
                  body: bytes, batch_request_id: bool) -> dict[str, Any]:
        company = self.company
        if resource == "query":
            text = params.get("query") if method == "GET" else body.decode("utf-8", "replace")
            if not text:
                raise faults.query_parse_error("Encountered \"<EOF>\" at line 1, column 1.")
            return {"QueryResponse": company.run_query(text)}
        if resource == "batch" and method == "POST":
            return {"BatchItemResponse": self._batch(_json_body(body), batch_request_id)}
        if resource == "preferences":
            if method == "POST":
                return {"Preferences": company.update_preferences(_json_body(body))}
            return {"Preferences": company.preferences()}
        if resource == "companyinfo" and method == "GET":
            return {"CompanyInfo": company.company_info()}
        if resource == "cdc" and method == "GET":
            entities = [e for e in params.get("entities", "").split(",") if e.strip()]
            if not entities:
                raise faults.required_missing("entities")
            if "changedSince" not in params:
                raise faults.required_missing("changedSince")
            changes = company.cdc(entities, params["changedSince"])
            return {"CDCResponse": [{"QueryResponse": changes}]}
        entity = ENTITY_BY_PATH.get(resource)
        if entity is None:
            raise faults.unsupported_operation(f"/{resource}")
        if method == "GET" and len(rest) == 1:
            return {entity: company.read(entity, rest[0])}
        if method == "POST" and not rest:
            return {entity: self._write(entity, params.get("operation"), params.get("include"),
                                        _json_body(body))}
        raise faults.unsupported_operation(f"{method} /{resource}/{'/'.join(rest)}")

    def _write(self, entity: str, operation: str | None, include: str | None,
               body: Mapping[str, Any]) -> dict[str, Any]:
        company = self.company
        includes = (include or "").split(",")
        if operation == "delete":
            return company.delete(entity, body)
        if operation == "void" or (operation == "update" and "void" in includes):
            return company.void(entity, body)
        if entity in READ_ONLY_OVER_API and entity not in SINGLETONS:
            raise faults.unsupported_operation("Update" if body.get("Id") else "Create")
        allow = "allowduplicatedocnum" in includes
        if body.get("Id") not in (None, ""):
            return company.update(entity, body, allow_duplicate_doc_number=allow)
        if operation == "update":
            raise faults.required_missing("Id")
        if operation not in (None, "create"):
            raise faults.unsupported_operation(str(operation))
        return company.create(entity, body, allow_duplicate_doc_number=allow)

    def _batch(self, body: Mapping[str, Any], with_request_id: bool) -> list[dict[str, Any]]:
        items = body.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise faults.required_missing("BatchItemRequest")
        if len(items) > BATCH_MAX_OPERATIONS:
            raise faults.fault("1040", "Batch size exceeds allowed limit",
                               f"The number of batch items ({len(items)}) is more than the "
                               f"maximum allowed ({BATCH_MAX_OPERATIONS}).")
        ids = [str(item.get("bId", "")) for item in items]
        if any(not b for b in ids) or len(set(ids)) != len(ids):
            raise faults.invalid_value("bId", "every item needs its own bId")
        if with_request_id and any(len(b) > BATCH_ID_MAX_CHARS for b in ids):
            raise faults.business_validation(
                f"With a requestid, a bId cannot be longer than "
                f"{BATCH_ID_MAX_CHARS} characters.")
        with self.company.batch_scope():
            return [self._batch_item(item) for item in items]

    def _batch_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        bid = str(item["bId"])
        try:
            if "Query" in item:
                return {"bId": bid, "QueryResponse": self.company.run_query(str(item["Query"]))}
            entity = next((key for key in item if key in ENTITIES), None)
            if entity is None:
                raise faults.required_missing("entity")
            operation = item.get("operation", "create")
            payload = item[entity]
            if not isinstance(payload, dict):
                raise faults.invalid_value(entity, payload)
            if operation == "create" and payload.get("Id"):
                raise faults.invalid_value("Id", payload["Id"])
            if operation == "update" and item.get("optionsData") == "void":
                result = self.company.void(entity, payload)
            elif operation in ("create", "update", "delete"):
                if operation == "update" and not payload.get("Id"):
                    raise faults.required_missing("Id")
                result = self._write(entity, "delete" if operation == "delete" else None,
                                     None, payload)
            else:
                raise faults.unsupported_operation(str(operation))
            return {"bId": bid, entity: result}
        except QBFault as error:
            return {"bId": bid, "Fault": error.fault_json()}


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = loads(body or b"{}")
    except ValueError as exc:
        raise faults.fault("2010", "Request has invalid or unsupported property",
                           f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise faults.invalid_value("body", type(parsed).__name__)
    return parsed
