"""The fake QuickBooks Desktop request processor: one qbXML message set in, one response out,
with the status codes and the message-set error recovery QuickBooks answers with."""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connex_desktop.qbdesktop.fake import transactions
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile, reactivate
from connex_desktop.qbdesktop.fake.records import (
    ListRecord,
    StatusError,
)
from connex_desktop.qbdesktop.responses import (
    CHECKSUM_MISMATCH,
    HRESULT_PARSE_ERROR,
    NO_STORED_STATE,
)

SUPPORTED_VERSIONS = ("1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "10.0", "11.0",
                      "12.0", "13.0")
VERSION_PATTERN = re.compile(r'<\?qbxml\s+version="([^"]+)"\s*\?>')
MESSAGE_SET_ID_MAX_CHARS = 23
REQUEST_ID_MAX_CHARS = 50
# A useMacro naming no earlier defMacro: the 9100–9199 range is macro errors (the exact code
# is not documented in the reference).
MACRO_NOT_DEFINED = 9100
# In the schema, but "not in QBD" (Intuit's qbxmlops130 notes): Online Edition only.
ONLINE_ONLY = frozenset({"DiscountLineAdd", "SalesTaxLineAdd", "ShippingLineAdd", "TaxAmount",
                         "IsTaxable", "TxnLineDetail"})
# In the schema, but not in every desktop edition (qbxmlops130's "not in QBD|QBCA|QBUK" notes,
# QBD being the US edition): (aggregate, element) → the countries whose files lack it.
SALES_ADDS = ("SalesOrderAdd", "InvoiceAdd", "SalesReceiptAdd", "CreditMemoAdd")
NOT_IN_EDITIONS: dict[tuple[str, str], frozenset[str]] = {
    **{(add, "IsTaxIncluded"): frozenset({"US"}) for add in (*SALES_ADDS, "PurchaseOrderAdd")},
    ("PurchaseOrderAdd", "SalesTaxCodeRef"): frozenset({"US"}),
    ("PurchaseOrderLineAdd", "SalesTaxCodeRef"): frozenset({"US"}),
    ("PurchaseOrderLineMod", "SalesTaxCodeRef"): frozenset({"US"}),
    ("CustomerAdd", "ItemSalesTaxRef"): frozenset({"UK", "CA"}),
    ("CustomerAdd", "TaxRegistrationNumber"): frozenset({"US"}),
}
# ActiveStatus → the IsActive values it lists.
ACTIVE_STATUSES = {"ActiveOnly": (True,), "InactiveOnly": (False,), "All": (True, False)}
# Checks a request document as Intuit's schema does ("" when it is valid); tests plug in the
# real XSD, the demo runs without it.
Validator = Callable[[str], str]


class RequestProcessorError(Exception):
    """What the request processor raises instead of answering (an HRESULT, as COM does)."""

    def __init__(self, hresult: int, message: str) -> None:
        super().__init__(message)
        self.hresult = hresult
        self.message = message


@dataclass
class _Answer:
    rets: list[ET.Element]
    warning: StatusError | None = None
    attributes: dict[str, str] = field(default_factory=dict)   # iteratorID…


@dataclass
class _Stored:
    checksum: str
    response: str


@dataclass
class FakeQuickBooks:
    """QuickBooks Desktop with one company file open, answering qbXML like its processor."""

    company: FakeCompanyFile = field(default_factory=FakeCompanyFile)
    validator: Validator | None = None
    product: str = "QuickBooks Premier Edition 2024"
    busy_answers: int = 0          # the next n writes are refused as "record in use" (3175)
    processed: int = 0             # message sets actually run (not answered from storage)
    _stored: dict[str, _Stored] = field(default_factory=dict)
    _iterators: dict[str, list[ET.Element]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def process(self, request: str) -> str:
        """Answer one qbXML document; raises RequestProcessorError when it cannot be read."""
        with self._lock:
            msgs = self._parse(request)
            new_id, old_id = msgs.get("newMessageSetID", ""), msgs.get("oldMessageSetID", "")
            if old_id and (not new_id or (new_id == old_id and len(msgs) == 0)):
                return self._recovery_status(old_id, clear=not new_id)
            checksum = hashlib.sha256(request.encode("utf-8")).hexdigest()
            stored = self._stored.get(new_id) if new_id else None
            if stored is not None:
                if stored.checksum != checksum:
                    return _document([], status=CHECKSUM_MISMATCH, new_id=new_id)
                return stored.response   # run once already: the kept answer, nothing run again
            response = _document(self._run(msgs), status=0 if new_id else None, new_id=new_id)
            if new_id:
                self._stored[new_id] = _Stored(checksum, response)
            return response

    def _parse(self, request: str) -> ET.Element:
        version = VERSION_PATTERN.search(request)
        if version is None or version.group(1) not in SUPPORTED_VERSIONS:
            raise RequestProcessorError(
                HRESULT_PARSE_ERROR, "The version of QBXML that was requested is not supported "
                                     "or is unknown.")
        problem = self.validator(request) if self.validator else ""
        try:
            msgs = ET.fromstring(request.encode("utf-8")).find("QBXMLMsgsRq")
        except ET.ParseError as error:
            problem = problem or str(error)
            msgs = None
        if problem or msgs is None:
            raise RequestProcessorError(HRESULT_PARSE_ERROR, "QuickBooks found an error when "
                                        f"parsing the provided XML text stream. {problem}")
        if msgs.get("onError") == "rollbackOnError" or any(
                len(msgs.get(name, "")) > MESSAGE_SET_ID_MAX_CHARS
                for name in ("newMessageSetID", "oldMessageSetID")):
            raise RequestProcessorError(HRESULT_PARSE_ERROR, "Invalid message set attributes.")
        return msgs

    def _recovery_status(self, old_id: str, *, clear: bool) -> str:
        stored = self._stored.pop(old_id, None) if clear else self._stored.get(old_id)
        if stored is None:
            return _document([], status=NO_STORED_STATE)
        return _document([], status=0) if clear else stored.response

    def _run(self, msgs: ET.Element) -> list[ET.Element]:
        self.processed += 1
        answers = []
        macros: dict[str, str] = {}    # this message set's defMacro labels → TxnIDs
        for request in msgs:
            answer = self._answer(request, macros)
            answers.append(answer)
            failed = answer.get("statusSeverity") == "Error"
            if failed and msgs.get("onError") == "stopOnError":
                break   # the requests after it are not run; the ones before stay done
        return answers

    def _answer(self, request: ET.Element, macros: dict[str, str]) -> ET.Element:
        name = request.tag.removesuffix("Rq")
        answer = ET.Element(f"{name}Rs")
        if request.get("requestID") is not None:
            answer.set("requestID", request.get("requestID", ""))
        if len(request.get("requestID", "")) > REQUEST_ID_MAX_CHARS:
            return _status(answer, StatusError(1060, "The requestID is too long."))
        ignored = _drop_unsupported(request, self.company.country)
        try:
            _use_macros(request, macros)
            found = self._handle(name, request)
        except StatusError as error:
            return _status(answer, error)
        defined = request.find(name)
        if defined is not None and defined.get("defMacro") and found.rets:
            macros[defined.get("defMacro", "")] = found.rets[0].findtext("TxnID", "")
        found.warning = found.warning or ignored
        answer.extend(found.rets)
        answer.attrib.update(found.attributes)
        if not found.rets and name.endswith("Query"):
            return _status(answer, StatusError(1, "A query request did not find a matching "
                                                  "object in QuickBooks", "Info"))
        return _status(answer, found.warning or StatusError(0, "Status OK", "Info"))

    def _handle(self, name: str, request: ET.Element) -> _Answer:
        company = self.company
        add = request.find(name)
        if name.endswith("Add") and self.busy_answers > 0:
            self.busy_answers -= 1
            raise StatusError(3175, "The record is in use by another user; it cannot be locked.")
        if name in ("SalesOrderAdd", "InvoiceAdd", "SalesReceiptAdd",
                    "CreditMemoAdd") and add is not None:
            ret, warning = transactions.sale_add(company, name.removesuffix("Add"), add)
            return _Answer([ret], warning)
        handlers: dict[str, Callable[[], ET.Element | _Answer]] = {
            "CustomerAdd": lambda: company.customer_add(_required(add)),
            "ItemNonInventoryAdd": lambda: company.item_non_inventory_add(_required(add)),
            "ReceivePaymentAdd": lambda: transactions.receive_payment_add(company, _required(add)),
            "PurchaseOrderAdd": lambda: transactions.purchase_order_add(company, _required(add)),
            "PurchaseOrderMod": lambda: transactions.purchase_order_mod(company, _required(add)),
            "VendorAdd": lambda: company.vendor_add(_required(add)),
            "ItemOtherChargeAdd": lambda: company.item_other_charge_add(_required(add)),
            "VendorMod": lambda: reactivate(company, company.name_ref(
                _required(add), "Vendor", "VendorMod"), _required(add)),
            "ARRefundCreditCardAdd": lambda: transactions.refund_of_credit_add(company,
                                                                               _required(add)),
            "TxnDel": lambda: transactions.txn_del(company, request),
            "HostQuery": self._host,
            "CompanyQuery": self._company,
            "PreferencesQuery": company.preferences_ret,
            "CustomerQuery": lambda: self._page(company.customers(), request),
            "VendorQuery": lambda: self._page(company.vendors(), request),
            "ItemQuery": lambda: self._page(list(company.items.values()), request),
            "ItemSalesTaxQuery": lambda: self._page(
                [item for item in company.items.values() if item.kind == "ItemSalesTax"],
                request),
            "CustomerMod": lambda: reactivate(company, company.name_ref(
                _required(add), "Customer", "CustomerMod"), _required(add)),
            "ItemNonInventoryMod": lambda: reactivate(company, company.item_ref(
                _required(add), "ItemNonInventoryMod"), _required(add)),
            "ListDeletedQuery": lambda: _Answer(company.deleted_since(
                {element.text or "" for element in request.findall("ListDelType")},
                self._time(request.findtext("DeletedDateRangeFilter/FromDeletedDate")))),
            **{f"{kind}Query": functools.partial(self._page, company.other(kind), request)
               for kind in ("Account", "PaymentMethod", "SalesTaxCode", "Class", "Currency")},
        }
        if name.removesuffix("Query") in transactions.TXN_KINDS:
            return _Answer(transactions.txn_query(company, name.removesuffix("Query"), request))
        if name not in handlers:
            raise NotImplementedError(f"the fake QuickBooks Desktop does not answer {name}Rq")
        found = handlers[name]()
        if isinstance(found, _Answer):
            return found
        if name == "TxnDel":
            return _Answer(list(found))   # TxnDelRs carries TxnDelType and TxnID directly
        return _Answer([found])

    def _page(self, records: Sequence[ListRecord], request: ET.Element) -> _Answer:
        """List queries: by ListID or FullName (active or not), else by the filter (active
        ones unless ActiveStatus says otherwise, changed at or after FromModifiedDate), a page
        at a time."""
        iterator_id = "{" + str(uuid.uuid4()).upper() + "}"
        if request.get("iterator") == "Continue":
            iterator_id = request.get("iteratorID", "")
            rets = self._iterators.pop(iterator_id, [])
        else:
            rets = [record.ret() for record in self._found(records, request)]
        size = int(request.findtext("MaxReturned") or 0)
        if not size or len(rets) <= size:
            return _Answer(rets, attributes={"iteratorRemainingCount": "0"} if size else {})
        self._iterators[iterator_id] = rets[size:]
        return _Answer(rets[:size], attributes={"iteratorID": iterator_id,
                                                "iteratorRemainingCount": str(len(rets) - size)})

    def _found(self, records: Sequence[ListRecord],
               request: ET.Element) -> list[ListRecord]:
        ids = {element.text for element in request.findall("ListID")}
        names = {(element.text or "").casefold() for element in request.findall("FullName")}
        if ids or names:
            return [record for record in records
                    if record.list_id in ids or record.name.casefold() in names]
        wanted = ACTIVE_STATUSES[request.findtext("ActiveStatus") or "ActiveOnly"]
        since = self._time(request.findtext("FromModifiedDate"))
        return [record for record in records if record.active in wanted
                and (since is None or record.time_modified >= since)]

    def _time(self, text: str | None) -> datetime | None:
        """A DATETIMETYPE of a request; without an offset, in the company file's time zone."""
        if not text:
            return None
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.company.now().tzinfo)

    def _company(self) -> ET.Element:
        company = ET.Element("CompanyRet")
        ET.SubElement(company, "IsSampleCompany").text = "false"
        ET.SubElement(company, "CompanyName").text = self.company.name
        return company

    def _host(self) -> ET.Element:
        host = ET.Element("HostRet")
        for tag, value in (("ProductName", self.product), ("MajorVersion", "34"),
                           ("MinorVersion", "0"), ("Country", self.company.country)):
            ET.SubElement(host, tag).text = value
        for version in SUPPORTED_VERSIONS:
            ET.SubElement(host, "SupportedQBXMLVersion").text = version
        ET.SubElement(host, "IsAutomaticLogin").text = "false"
        ET.SubElement(host, "QBFileMode").text = "SingleUser"
        return host


def _drop_unsupported(request: ET.Element, country: str) -> StatusError | None:
    """Elements the schema has for QuickBooks Online only, or for other countries' editions:
    QuickBooks Desktop leaves them out and says so with a warning (530), so what they
    carried is not booked."""
    dropped = []
    for parent in request.iter():
        for child in list(parent):
            if child.tag in ONLINE_ONLY or country in NOT_IN_EDITIONS.get(
                    (parent.tag, child.tag), ()):
                parent.remove(child)
                dropped.append(child.tag)
    if not dropped:
        return None
    return StatusError(530, f"The field {dropped[0]} is not supported by this implementation.",
                       "Warn")


def _use_macros(request: ET.Element, macros: dict[str, str]) -> None:
    """An element naming a macro (useMacro) takes the TxnID an earlier request of the same
    message set defined under it (defMacro)."""
    for element in request.iter():
        label = element.get("useMacro")
        if label is not None and not (element.text or "").strip():
            if label not in macros:
                raise StatusError(MACRO_NOT_DEFINED, f'The macro "{label}" is not defined.')
            element.text = macros[label]


def _required(add: ET.Element | None) -> ET.Element:
    if add is None:
        raise StatusError(3150, "There is a missing element.")
    return add


def _status(answer: ET.Element, status: StatusError) -> ET.Element:
    answer.set("statusCode", str(status.code))
    answer.set("statusSeverity", status.severity)
    answer.set("statusMessage", status.message)
    return answer


def _document(answers: list[ET.Element], *, status: int | None = None,
              new_id: str = "") -> str:
    root = ET.Element("QBXML")
    msgs = ET.SubElement(root, "QBXMLMsgsRs")
    if new_id:
        msgs.set("newMessageSetID", new_id)
    if status is not None:
        msgs.set("messageSetStatusCode", str(status))
    msgs.extend(answers)
    return '<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="unicode")
