"""QuickBooks Desktop behind the engine's back-end seam: its lists, preferences and documents
read over qbXML as the engine reads Online's, and undo's deletes as TxnDel."""

from __future__ import annotations

import contextlib
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from connex_desktop.core.connection import QuickBooksMapping, QuickBooksProduct
from connex_desktop.core.errors import Cancelled, ConnexError, ErrorKind, SetupError
from connex_desktop.core.modes import has_sales_orders
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.result import DocumentKind, QuickBooksUsage
from connex_desktop.core.writing import DocumentWriter
from connex_desktop.qbdesktop.qbxml import datetime_text, message_set
from connex_desktop.qbdesktop.records import ITEM_KINDS, list_record, txn_record
from connex_desktop.qbdesktop.requests import (
    REFUND_OF_CREDIT,
    TXN_TYPES,
    DesktopItems,
    cost_account,
    delete_request,
    host_query,
    list_deleted_query,
    other_charge_request,
    purchase_order_mod,
    query_request,
)
from connex_desktop.qbdesktop.responses import Outcome, RequestResult, parse_response, result_error
from connex_desktop.qbdesktop.transport import QbXmlProcessor
from connex_desktop.quickbooks.client import BatchOperation, BatchOutcome
from connex_desktop.quickbooks.errors import QuickBooksCode, QuickBooksFault
from connex_desktop.sync.desktop_currencies import DesktopCurrencies
from connex_desktop.sync.desktop_lists import COMPANY_INFO, KeptLists, host_record

# Where a write's body keeps its qbXML message set (recorded in the ledger with the body), or
# why none could be built: never content to send again as a change.
MESSAGE = "qbXML"
UNBUILT = "qbXMLProblem"
PAGE_RECORDS = 500
OBJECT_NOT_FOUND = 3120
US = "US"
# The editions Connex Desktop books into (HostRet Country): the US one by sales tax items and
# taxable codes, the UK and Canadian ones by VAT/GST codes on every line.
VAT_COUNTRIES = frozenset({"UK", "GB", "CA"})
# The engine's lists and the Desktop query that reads each; None: Desktop has no such list
# the engine uses (terms are not sent yet). Tax rates are the sales tax items a UK or
# Canadian file's codes name; a US file's codes name none.
LIST_QUERIES: dict[str, tuple[str, bool] | None] = {     # (query, pages through an iterator)
    "Customer": ("Customer", True), "Vendor": ("Vendor", True), "Item": ("Item", True),
    "Account": ("Account", False), "PaymentMethod": ("PaymentMethod", False),
    "TaxCode": ("SalesTaxCode", False), "TaxRate": ("ItemSalesTax", True), "Term": None,
    "Class": ("Class", False),
}


def desktop_fault(error: ConnexError, code: str = "") -> QuickBooksFault:
    """A Desktop error as the fault the engine acts on (same words, same kind)."""
    return QuickBooksFault(error.message, kind=error.kind, detail=error.detail,
                           order=error.order, field=error.field, code=code)


def content(body: Mapping[str, Any]) -> dict[str, Any]:
    """A write's body without the qbXML kept in it (or why none could be built)."""
    return {key: value for key, value in body.items() if key not in (MESSAGE, UNBUILT)}


@contextlib.contextmanager
def as_faults() -> Iterator[None]:
    try:
        yield
    except (QuickBooksFault, Cancelled):   # a cancel is the run's, not QuickBooks' fault
        raise
    except ConnexError as error:
        raise desktop_fault(error) from error


class QuickBooksDesktop:
    """One QuickBooks Desktop company file, reached through a qbXML processor (the Web
    Connector's queue, COM on this computer, or the fake company file)."""

    # No change data capture for the reference cache to keep lists by: `lists` keeps them
    # (and brings them up to date at each read) instead.
    lists_kept = False

    def __init__(self, processor: QbXmlProcessor, *, mapping: QuickBooksMapping | None = None,
                 on_close: Callable[[], None] | None = None,
                 lists: KeptLists | None = None,
                 on_heed: Callable[[CancelToken], None] | None = None) -> None:
        self.processor = processor
        self.lists = lists
        self.items = desktop_items(mapping or QuickBooksMapping())
        self._on_close = on_close
        # Hears the run's cancel token: a processor that waits for someone (the Web Connector
        # to call) ends the wait on it; QuickBooks Desktop itself has no limit to wait out.
        self._on_heed = on_heed
        self._lock = threading.Lock()
        self._requests = 0
        self._writes = 0
        self._freight_item_found = False
        self._read: dict[str, list[dict[str, Any]]] = {}   # lists read since the last write
        self.currencies = DesktopCurrencies(self.query, lambda: self.query_all("Account"))
        self._host: dict[str, Any] | None = None

    # ---- the seam ------------------------------------------------------------------------

    def writer(self, *, in_flight: int) -> DocumentWriter:
        """QuickBooks Desktop takes one request at a time, whatever `in_flight` allows."""
        # Imported here: the writer is built on this class.
        from connex_desktop.sync.desktop_writer import DesktopWriter
        return DesktopWriter(self)

    def usage(self) -> QuickBooksUsage:
        with self._lock:
            return QuickBooksUsage(0, self._writes, self._requests)

    def heed(self, cancel: CancelToken) -> None:
        if self._on_heed is not None:
            self._on_heed(cancel)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> QuickBooksDesktop:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def query_all(self, entity: str, where: str = "") -> list[dict[str, Any]]:
        """A list's records, inactive ones too: the kept ones brought up to date, else (no
        lists kept) read whole. Read once until the next write: the preferences and the
        reference cache both ask for the sales tax codes, the reference cache and a currency's
        A/R account for the accounts; after a write the lists are read again (the reference
        cache does so when QuickBooks refused a write for a record it no longer has)."""
        if LIST_QUERIES.get(entity) is None or (entity == "TaxRate" and self.is_us()):
            return []
        with self._lock:
            records, writes = self._read.get(entity), self._writes
        if records is None:
            records = (self.lists.records(entity, self) if self.lists is not None
                       else self.read_list(entity))
            with self._lock:
                if self._writes == writes:   # no write began while it was read
                    self._read[entity] = records
        return list(records)

    def read_list(self, entity: str) -> list[dict[str, Any]]:
        """A list's records, inactive ones too."""
        name, pages = _list_query(entity)
        return [self.list_record(ret)
                for ret in self.query(name, paged=pages, active_status="All")]

    def read_changes(self, entity: str,
                     since: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        """A list's records QuickBooks changed at or after `since` (by its clock), inactive ones
        too (one made inactive is read as such), and the ListIDs of those it deleted since:
        both asked in one message set."""
        name, pages = _list_query(entity)
        # A list's ListDelType is its query's name; an item's is its kind (ItemService…).
        deleted = list_deleted_query(ITEM_KINDS if name == "Item" else (name,),
                                     datetime_text(since), "deleted")
        changed, [gone] = self._query_with(name, pages, (deleted,), active_status="All",
                                           modified_since=datetime_text(since))
        return ([self.list_record(ret) for ret in changed],
                [ret.findtext("ListID", "") for ret in gone.rets])

    def list_record(self, ret: ET.Element) -> dict[str, Any]:
        """A list record as the engine reads it, its currency (if any) by code."""
        return self.currencies.coded(list_record(ret))

    def cdc(self, entities: Sequence[str], changed_since: datetime
            ) -> tuple[dict[str, list[dict[str, Any]]], datetime]:
        """Never asked (`lists_kept` is False): `lists` keeps them instead."""
        raise QuickBooksFault("QuickBooks Desktop has no change data capture; its lists are "
                              "kept by their modified dates instead.", kind=ErrorKind.FIX_DATA)

    def preferences(self) -> dict[str, Any]:
        """What the planner reads of Online's preferences, as a QuickBooks Desktop file has
        it: its own numbers kept, sales orders (not in Pro), shipping and discount items, sales
        tax by the file's taxable sales tax code (named "Tax" in a new US file; a UK or
        Canadian file's VAT/GST codes, which take no tax amounts), multicurrency, classes as
        its preferences say (a form's class, which its lines take), and no locations (Desktop
        has none)."""
        codes = self.query_all("TaxCode")
        taxable = next((code for code in codes if code["Taxable"] and code["Active"]), None)
        tax: dict[str, Any] = {"UsingSalesTax": taxable is not None}
        if taxable is not None and self.is_us():
            tax["TaxGroupCodeRef"] = {"value": taxable["Id"]}
        if not self.is_us():
            tax["TakesTaxAmounts"] = False
        info = self.company_info()
        sales_orders = has_sales_orders(str(info["CompanyName"]))
        preferences = self._one(query_request("Preferences", "1")).ret
        return {"SalesFormsPrefs": {"CustomTxnNumbers": True, "AllowEstimates": sales_orders,
                                    "AllowShipping": True, "AllowDiscount": True},
                "TaxPrefs": tax,
                "CurrencyPrefs": self.currencies.preferences(preferences, str(info["Country"])),
                "AccountingInfoPrefs": {"ClassTrackingPerTxn": tracks_classes(preferences),
                                        "TrackDepartments": False}}

    def company_info(self) -> dict[str, Any]:
        """The QuickBooks and its country, asked once (HostQuery): preferences need it too,
        and neither changes while this file is open."""
        if self._host is None:
            host = self._one(host_query("1")).ret
            country = (host.findtext("Country") if host is not None else "") or US
            if country != US and country not in VAT_COUNTRIES:
                raise SetupError(f"This QuickBooks Desktop file is of the {country} edition; "
                                 "Connex Desktop books into US, UK and Canadian QuickBooks "
                                 "Desktop files only.")
            product = host.findtext("ProductName", "") if host is not None else ""
            self._host = host_record(product, country)
            if self.lists is not None:      # for Configure, which does not ask QuickBooks
                self.lists.keep(COMPANY_INFO, self._host)
        return dict(self._host)

    def is_us(self) -> bool:
        return self.company_info()["Country"] == US

    def query_in(self, entity: str, field: str, values: Iterable[str]) -> list[dict[str, Any]]:
        """Documents of a kind by their Id, or by their customer's or vendor's (CustomerRef,
        VendorRef) ListID."""
        wanted = tuple(dict.fromkeys(str(value) for value in values))
        if not wanted:
            return []
        txn_type = TXN_TYPES[DocumentKind(entity)]
        if field == "Id":
            request = query_request(txn_type, "1", txn_ids=wanted, with_lines=True)
        else:
            request = query_request(txn_type, "1", entity_ids=wanted, with_lines=True)
        return [txn_record(ret) for ret in self._one(request, missing_ok=True).rets]

    def holder_of_number(self, kind: str, number: str) -> dict[str, Any] | None:
        """A document of the kind numbered `number`: RefNumber is not unique in QuickBooks
        Desktop, so one this app booked (it carries an ExternalGUID) comes first; the caller
        tells by its memo whether it is the order's."""
        request = query_request(TXN_TYPES[DocumentKind(kind)], "1", ref_number=number)
        found = [txn_record(ret) for ret in self._one(request, missing_ok=True).rets]
        found.sort(key=lambda record: not record["ExternalGUID"])
        return found[0] if found else None

    def update(self, entity: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        """Undo's change back of a purchase order, from the content a booking kept (not the
        qbXML it sent, which named an EditSequence long gone) and the EditSequence in
        `body`'s SyncToken, as just read."""
        if entity != DocumentKind.PURCHASE_ORDER.value:
            raise QuickBooksFault(f"QuickBooks Desktop does not change {entity} records from "
                                  "this app.", kind=ErrorKind.FIX_SETUP)
        planned = content(body)
        with as_faults():
            self.ensure_freight_item(planned)
            request = purchase_order_mod(planned, "1", items=self.items)
        result = self._one(request, write=True)
        if result.outcome is Outcome.ERROR or not result.rets:
            raise desktop_fault(result_error(result, what="The purchase order"),
                                str(result.status_code))
        return txn_record(result.rets[0])

    def ensure_freight_item(self, body: Mapping[str, Any]) -> None:
        """The other-charge item a purchase order's other costs go on, created (on the costs'
        account) when the company file has no item of its name."""
        account = cost_account(body)
        if account is None or self._freight_item_found:
            return
        name = self.items.freight
        if not self.query("Item", full_names=(name,)):
            result = self._one(other_charge_request(name, account, "1"), write=True)
            if result.outcome is Outcome.ERROR:
                raise desktop_fault(result_error(result, what=f'The item "{name}"'))
        self._freight_item_found = True

    def batch(self, operations: Sequence[BatchOperation], *,
              request_id: str) -> list[BatchOutcome]:
        """Undo's deletes, one TxnDel each; one already gone counts as not found."""
        return [BatchOutcome(operation.bid, None,
                             self._delete(DocumentKind(operation.entity),
                                          str(operation.body["Id"])))
                for operation in operations]

    def _delete(self, kind: DocumentKind, txn_id: str) -> QuickBooksFault | None:
        if kind is DocumentKind.REFUND_RECEIPT:
            try:
                self._delete_refunds_of_credit(txn_id)
            except QuickBooksFault as fault:
                return fault
        result = self._one(delete_request(TXN_TYPES[kind], txn_id, "1"), missing_ok=True,
                           write=True)
        what = kind.label_in(QuickBooksProduct.DESKTOP)
        if result.status_code == OBJECT_NOT_FOUND:
            return desktop_fault(result_error(result, what=what), QuickBooksCode.NOT_FOUND)
        if result.outcome is Outcome.ERROR:
            return desktop_fault(result_error(result, what=what))
        return None

    def _delete_refunds_of_credit(self, credit_id: str) -> None:
        """A refund is booked as a credit memo and the refund of it: the refund goes first,
        as QuickBooks keeps a credit memo's refunds tied to it."""
        query = query_request(TXN_TYPES[DocumentKind.REFUND_RECEIPT], "1", txn_ids=(credit_id,),
                              with_lines=True)
        for ret in self._one(query, missing_ok=True).rets:
            for link in ret.findall("LinkedTxn"):
                if link.findtext("TxnType") == REFUND_OF_CREDIT:
                    request = delete_request(REFUND_OF_CREDIT, link.findtext("TxnID", ""), "1")
                    result = self._one(request, missing_ok=True, write=True)
                    if result.outcome is Outcome.ERROR and result.status_code != OBJECT_NOT_FOUND:
                        raise desktop_fault(result_error(result, what="The refund"))

    # ---- qbXML ---------------------------------------------------------------------------

    def send(self, document: str, *, write: bool = False) -> str:
        with self._lock:
            self._requests += 1
            self._writes += write
        try:
            with as_faults():
                return self.processor.process(document)
        finally:
            if write:   # what it changed (or a refusal for a record gone) is read anew
                with self._lock:
                    self._read.clear()

    def query(self, name: str, *, paged: bool = False, **criteria: Any) -> list[ET.Element]:
        """Every record a list query finds, a page at a time through an iterator."""
        return self._query_with(name, paged, (), **criteria)[0]

    def _query_with(self, name: str, paged: bool, reads: Sequence[ET.Element],
                    **criteria: Any) -> tuple[list[ET.Element], list[RequestResult]]:
        """`query`, with other reads sent in the first page's message set; their results."""
        rets: list[ET.Element] = []
        iterator_id = ""
        others: list[RequestResult] = []
        while True:
            request = query_request(name, "1", max_returned=PAGE_RECORDS if paged else 0,
                                    iterator_id=iterator_id, **criteria)
            result, *answered = self._answers([request, *reads], missing_ok=True)
            others, reads = others or answered, ()
            rets.extend(result.rets)
            if not (paged and result.remaining and result.iterator_id):
                return rets, others
            iterator_id = result.iterator_id

    def _one(self, request: ET.Element, *, missing_ok: bool = False,
             write: bool = False) -> RequestResult:
        return self._answers([request], missing_ok=missing_ok, write=write)[0]

    def _answers(self, requests: Sequence[ET.Element], *, missing_ok: bool = False,
                 write: bool = False) -> list[RequestResult]:
        answer = parse_response(self.send(message_set(requests), write=write))
        for request, result in zip(requests, answer.results, strict=False):
            missing = missing_ok and result.status_code == OBJECT_NOT_FOUND
            if result.outcome is Outcome.ERROR and not missing and not write:
                raise desktop_fault(result_error(result, what=request.tag.removesuffix("Rq")))
        if len(answer.results) < len(requests):
            raise QuickBooksFault("QuickBooks Desktop answered without a result.",
                                  kind=ErrorKind.RETRY_LATER)
        return list(answer.results)


def _list_query(entity: str) -> tuple[str, bool]:
    found = LIST_QUERIES[entity]
    if found is None:
        raise ValueError(f"QuickBooks Desktop has no list the engine reads as {entity}")
    return found


def tracks_classes(preferences: ET.Element | None) -> bool:
    """PreferencesRet's "Use class tracking for transactions" (Preferences, Accounting)."""
    return (preferences is not None and preferences.findtext(
        "AccountingPreferences/IsUsingClassTracking") == "true")


def desktop_items(mapping: QuickBooksMapping) -> DesktopItems:
    """The items carrying shipping and tax in QuickBooks Desktop, as the mapping names them."""
    return DesktopItems(shipping=mapping.shipping_item or DesktopItems.shipping,
                        sales_tax=mapping.tax_item or DesktopItems.sales_tax)
