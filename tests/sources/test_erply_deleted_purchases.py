"""Erply purchase orders deleted in Erply: found in its log of deleted items
(getUserOperationsLog) and closed in QuickBooks once, as a cancelled one is for other stores."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import requests

from connex_desktop.core.errors import RetryLaterError
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.quickbooks.ratelimit import BackoffPolicy
from tests.fakes.erply import (
    ERPLY_CODE,
    ERPLY_PASSWORD,
    ERPLY_USER,
    NOW,
    FakeErply,
    erply_po_row,
    erply_purchase_order,
)
from tests.sources.store_cli import (  # the fixtures are used by name
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)
from tests.sources.test_erply import add_erply, make_source
from tests.sources.test_erply_purchases import purchases, widget_po

ALL_ATTEMPTS = 6     # the first write and the client's five retries
DELETED_NOTE = "Deleted in Erply: closed."


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """The client's back-off between retries, without the wait."""
    monkeypatch.setattr(BackoffPolicy, "delay_s", lambda *_args, **_kwargs: 0.0)


def log_calls(store: FakeErply) -> list[dict[str, str]]:
    return [f for f in store.forms() if f.get("request") == "getUserOperationsLog"]


def test_ids_no_longer_listed_are_looked_up_in_the_log_of_deleted_items_page_by_page():
    kept = widget_po(1)
    since = datetime.fromtimestamp(NOW - 3600, UTC)
    with FakeErply([], purchases=[kept, *(widget_po(i) for i in range(2, 7))]) as store:
        store.log_operation("purchaseDocuments", 2, when=NOW - 7200)   # before `since`
        for doc_id in (3, 4, 5):
            store.delete_purchase(doc_id)
        store.log_operation("salesDocuments", 6)                    # another table's item 6
        store.log_operation("purchaseDocuments", 6, operation="export")  # not a deletion
        source = make_source(store, page_size=2)
        assert all(isinstance(p, PurchaseOrder) for p in purchases(source, since, ids=["1"]))
        assert log_calls(store) == []       # everything asked for is there: no log read
        got = purchases(source, since, ids=["1", "2", "3", "4", "5", "9"])
        calls = log_calls(store)
    deleted = [p for p in got if p.state is PurchaseOrderState.DELETED]
    assert [p.source_id for p in deleted] == ["3", "4", "5"]
    assert all(p.updated_at == datetime.fromtimestamp(NOW, UTC) for p in deleted)
    assert [(c["tableName"], c["addedFrom"], c["pageNo"], c["recordsOnPage"]) for c in calls] == [
        ("purchaseDocuments", str(NOW - 3600), "1", "2"),
        ("purchaseDocuments", str(NOW - 3600), "2", "2")]


def test_the_log_is_read_under_erplys_limits_and_errors():
    # verifyUser, the list, the ids asked for: the log is the fourth call, over the quota.
    with FakeErply([], purchases=[], quota=3) as store:
        store.delete_purchase(7)
        source = make_source(store)
        with pytest.raises(RetryLaterError, match="1002") as caught:
            purchases(source, ids=["7"])
        assert "on getUserOperationsLog" in caught.value.detail
        store.quota = 100
        [deleted] = purchases(source, ids=["7"])
        assert (deleted.source_id, deleted.state) == ("7", PurchaseOrderState.DELETED)
        for form, code in (({}, 1010), ({"tableName": "purchaseOrders"}, 1010),
                           ({"tableName": "purchaseDocuments", "recordsOnPage": "101"}, 1014)):
            answer = erply_call(store, "getUserOperationsLog", form)
            assert answer["status"]["errorCode"] == code and answer["records"] is None


def erply_call(store: FakeErply, request: str, form: dict[str, str]) -> dict:
    """One call as a client makes it: signed in, form-encoded."""
    def post(call: str, fields: dict[str, str]) -> dict:
        body = {"clientCode": ERPLY_CODE, "request": call, **fields}
        return requests.post(f"{store.url}/api/", data=body, timeout=10).json()
    session = post("verifyUser", {"username": ERPLY_USER, "password": ERPLY_PASSWORD})
    return post(request, {**form, "sessionKey": session["records"][0]["sessionKey"]})


def erply_po(doc_id: int, number: str) -> dict:
    return erply_purchase_order(doc_id, number, [
        erply_po_row("TEE-BLK-M", "Tee black M", "10", "5.00")], changed=int(time.time()))


def booked_purchase_orders(cli, sandbox, store: FakeErply) -> dict[str, dict]:
    add_erply(cli, sandbox, store, "erply", "invoices")
    assert cli("connection", "set", "erply", "--sync-purchase-orders")[0] == 0
    first = cli.sync("erply")
    assert first["status"] == "succeeded", first
    return pos_by_number(sandbox)


def pos_by_number(sandbox) -> dict[str, dict]:
    return {po["DocNumber"]: po for po in documents(sandbox, "PurchaseOrder")}


def outcomes(cli) -> dict[str, tuple[str, str]]:
    """The last run's purchase orders: outcome and message, by number."""
    _, out = cli("history", "erply", "--json")
    return {o["order"]: (o["outcome"], o["message"])
            for o in json.loads(out)["runs"][0]["order_outcomes"]
            if o["item"] == "purchase_order"}


def test_a_po_deleted_in_erply_is_closed_once_across_lost_answers(cli, sandbox):
    with FakeErply([], purchases=[erply_po(41, "PO-41"), erply_po(42, "PO-42")]) as store:
        before = booked_purchase_orders(cli, sandbox, store)
        assert {n: po["POStatus"] for n, po in before.items()} == {"PO-41": "Open",
                                                                  "PO-42": "Open"}
        store.delete_purchase(41, when=int(time.time()))
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)    # the closing's answer: lost
        lost = cli.sync("erply", expect=1)
        assert lost["status"] == "partial" and "did not confirm" in json.dumps(lost["errors"])
        healed = cli.sync("erply")
        assert healed["status"] == "succeeded", healed
        assert cli.sync("erply")["documents"] == []
        closed = pos_by_number(sandbox)
        assert closed["PO-41"]["POStatus"] == "Closed" and closed["PO-42"]["POStatus"] == "Open"
        assert int(closed["PO-41"]["SyncToken"]) == 1      # closed once: one change
        assert DELETED_NOTE in closed["PO-41"]["PrivateNote"]
        assert "PO-41" in closed["PO-41"]["PrivateNote"]
        # Nothing else of it changed: its lines and total are as booked.
        assert closed["PO-41"]["Line"] == before["PO-41"]["Line"]
        assert closed["PO-41"]["TotalAmt"] == before["PO-41"]["TotalAmt"]
    assert len(documents(sandbox, "PurchaseOrder")) == 2


def test_a_deleted_po_closes_with_a_note_in_the_log(cli, sandbox):
    with FakeErply([], purchases=[erply_po(41, "PO-41")]) as store:
        booked_purchase_orders(cli, sandbox, store)
        store.delete_purchase(41, when=int(time.time()))
        closing = cli.sync("erply")
        assert [(d["order"], d["kind"]) for d in closing["documents"]] == [
            ("PO-41", "PurchaseOrder")], closing
        assert outcomes(cli)["PO-41"] == ("booked", "Closed the purchase order: deleted in the "
                                          "store.")
        checks = len(log_calls(store))
        assert cli.sync("erply")["documents"] == []
        assert len(log_calls(store)) == checks      # closed: no longer looked for


def test_a_po_closed_by_hand_billed_or_gone_is_left_alone_with_a_note(cli, sandbox):
    with FakeErply([], purchases=[erply_po(41, "PO-41"), erply_po(42, "PO-42"),
                                  erply_po(44, "PO-44")]) as store:
        pos = booked_purchase_orders(cli, sandbox, store)
        # The bookkeeper closes PO-41 by hand, bills part of PO-42 and deletes PO-44.
        sandbox.company.update("PurchaseOrder", {
            "Id": pos["PO-41"]["Id"], "SyncToken": pos["PO-41"]["SyncToken"], "sparse": True,
            "POStatus": "Closed"})
        billed = {**pos["PO-42"], "LinkedTxn": [{"TxnId": "901", "TxnType": "Bill"}]}
        sandbox.company.store.put("PurchaseOrder", billed)
        sandbox.company.delete("PurchaseOrder", pos["PO-44"])
        for doc_id in (41, 42, 44):
            store.delete_purchase(doc_id, when=int(time.time()))
        left = cli.sync("erply")
        assert left["status"] == "succeeded" and left["documents"] == [], left
        said = outcomes(cli)
    after = pos_by_number(sandbox)
    assert [(po["POStatus"], po["SyncToken"]) for po in (after["PO-41"], after["PO-42"])] == [
        ("Closed", "1"), ("Open", "0")]
    assert said["PO-41"] == ("skipped", "Skipped: it was closed in QuickBooks by hand; the "
                                        "store's changes are not booked.")
    assert said["PO-42"] == ("skipped", "Skipped: it was deleted in Erply, but a bill in "
                                        "QuickBooks is linked to its purchase order PO-42: it "
                                        "is left open there; close it by hand if nothing more "
                                        "is coming.")
    assert said["PO-44"] == ("skipped", "Skipped: it was deleted in Erply, and its purchase "
                                        f"order (Id {pos['PO-44']['Id']}) is no longer in "
                                        "QuickBooks either.")


def test_a_po_deleted_before_it_was_ever_booked_is_skipped_with_a_note(cli, sandbox):
    draft = erply_po(43, "PO-43")
    draft.update(status="PENDING", confirmed="0")
    with FakeErply([], purchases=[draft]) as store:
        booked_purchase_orders(cli, sandbox, store)
        store.delete_purchase(43, when=int(time.time()))
        assert cli.sync("erply")["documents"] == []
        assert outcomes(cli)["id 43"] == ("skipped", "Skipped: it was deleted in Erply before "
                                                     "it was ever booked.")
    assert documents(sandbox, "PurchaseOrder") == []
