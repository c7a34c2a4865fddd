"""QuickBooks faults mapped to plain words and to what the user can do."""

from __future__ import annotations

import base64
import json

from connex_desktop.core.errors import ConnexError, ErrorKind
from connex_desktop.quickbooks.errors import (
    QuickBooksFault,
    fault_from_error,
    fault_from_fault,
    fault_from_response,
)
from connex_desktop.sandbox.faults import QUOTA_XML, SERVICE_UNAVAILABLE_HTML, THROTTLE_XML

DUPLICATE_NUMBER = {"Fault": {"Error": [{
    "Message": "Duplicate Document Number Error",
    "Detail": "Duplicate Document Number Error : You must specify a different number. This "
              "number has already been used. DocNumber=1001 is assigned to TxnType=Invoice "
              "with TxnId=12",
    "code": "6140", "element": ""}], "type": "ValidationFault"},
    "time": "2025-06-01T10:00:00.000-07:00"}

EXPIRED_TOKEN_401 = {"warnings": None, "intuitObject": None, "fault": {"error": [{
    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
    "detail": None, "code": "3200", "element": None}], "type": "AUTHENTICATION"},
    "report": None, "queryResponse": None, "batchItemResponse": [], "attachableResponse": [],
    "syncErrorResponse": None, "requestId": None, "time": 1592402722523, "status": None,
    "cdcresponse": []}

THROTTLED_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse '
    'xmlns="http://schema.intuit.com/finance/v3"><Fault type="SERVICE"><Error code="3001">'
    "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    "<Detail>The request limit was reached.  Try again later</Detail></Error></Fault>"
    "</IntuitResponse>")


def test_duplicate_document_number_is_fix_data_with_code_and_existing_id():
    fault = fault_from_response(400, json.dumps(DUPLICATE_NUMBER))
    assert isinstance(fault, QuickBooksFault) and isinstance(fault, ConnexError)
    assert fault.code == "6140"
    assert fault.kind is ErrorKind.FIX_DATA
    assert fault.message == "QuickBooks already has a document with this number."
    assert "DocNumber=1001 is assigned to TxnType=Invoice" in fault.detail
    assert fault.detail.startswith("Duplicate Document Number Error")
    assert fault.existing_id == "12"
    assert fault.status == 400


def test_duplicate_name_and_missing_reference_codes():
    clash = fault_from_error({"Message": "Duplicate Name Exists Error",
                              "Detail": "The name supplied already exists. : Another customer, "
                                        "vendor or employee is already using this name.",
                              "code": "6240"})
    assert (clash.code, clash.kind) == ("6240", ErrorKind.FIX_DATA)
    assert "name is already used" in clash.message
    assert clash.existing_id == ""
    missing = fault_from_error({"Message": "Object Not Found", "Detail": "Something you're "
                                "trying to use has been made inactive.", "code": "610"})
    assert (missing.code, missing.kind) == ("610", ErrorKind.FIX_DATA)
    assert "inactive" in missing.message and "made inactive" in missing.detail


def test_validation_fault_names_the_field():
    fault = fault_from_error({"Message": "Required param missing, need to supply the required "
                              "value for the API", "Detail": "Required parameter Line is "
                              "missing in the request", "code": "2020", "element": "Line"})
    assert fault.kind is ErrorKind.FIX_DATA
    assert fault.element == fault.field == "Line"
    assert fault.message == "A field QuickBooks requires is missing (field Line)."


def test_amount_mismatch_is_fix_data():
    fault = fault_from_error({"Message": "Amount is not equal to UnitPrice * Qty",
                              "Detail": "Supplied value:40.01", "code": "6070"})
    assert (fault.code, fault.kind) == ("6070", ErrorKind.FIX_DATA)
    assert "quantity times its unit price" in fault.message


def test_expired_access_token_says_reconnect():
    fault = fault_from_response(401, json.dumps(EXPIRED_TOKEN_401))
    assert fault.kind is ErrorKind.RECONNECT
    assert fault.code == "3200" and fault.status == 401
    assert str(fault).startswith("Reconnect to QuickBooks: ")
    assert "AuthenticationFailed" in fault.detail


def test_401_without_a_body_still_says_reconnect():
    fault = fault_from_response(401, "")
    assert fault.kind is ErrorKind.RECONNECT and fault.status == 401
    assert fault.message.startswith("Reconnect to QuickBooks: ")


def test_throttling_with_an_xml_body_is_retry_later():
    fault = fault_from_response(429, THROTTLED_XML)
    assert fault.kind is ErrorKind.RETRY_LATER and fault.status == 429
    assert "too many requests" in fault.message
    assert "ThrottleExceeded" in fault.detail


def test_the_sandbox_throttling_answer_reads_as_plain_words():
    body = THROTTLE_XML.format(time="2025-06-01T10:00:00.000-07:00")
    fault = fault_from_response(429, body)
    assert (fault.kind, fault.code, fault.status) == (ErrorKind.RETRY_LATER, "3001", 429)
    assert fault.message == "QuickBooks is busy (too many requests for this company)."
    assert fault.detail.endswith("The request limit was reached. Try again later")
    assert "<" not in fault.detail and "xml" not in fault.detail


def test_the_monthly_quota_429_is_told_from_the_throttle_by_its_words():
    body = QUOTA_XML.format(time="2026-12-06T10:00:00.000-08:00")
    fault = fault_from_response(429, body)
    assert (fault.kind, fault.code, fault.status) == (ErrorKind.QUOTA, "3001", 429)
    assert fault.message.startswith("QuickBooks' monthly allowance of data reads for this app "
                                    "is used up; syncing resumes next month")
    assert "CorePlus" in fault.detail and "<" not in fault.detail


def test_an_html_error_page_shows_its_text_not_its_markup():
    fault = fault_from_response(503, SERVICE_UNAVAILABLE_HTML)
    assert fault.kind is ErrorKind.RETRY_LATER
    assert "503 Service Temporarily Unavailable" in fault.detail
    assert "<" not in fault.detail


def test_server_errors_are_retry_later_whatever_the_body():
    for status in (500, 502, 503, 504):
        assert fault_from_response(status, "<html>Bad gateway</html>").kind \
            is ErrorKind.RETRY_LATER
    json_500 = {"Fault": {"Error": [{"Message": "An application error has occurred",
                                     "code": "10000"}], "type": "SystemFault"}}
    fault = fault_from_response(500, json.dumps(json_500))
    assert (fault.kind, fault.code, fault.status) == (ErrorKind.RETRY_LATER, "10000", 500)


def test_an_unreadable_200_answer_is_retry_later():
    assert fault_from_response(200, "<html>proxy says hi</html>").kind is ErrorKind.RETRY_LATER


def test_setup_and_unknown_codes():
    assert fault_from_error({"Message": "Subscription ended", "code": "6190"}).kind \
        is ErrorKind.FIX_SETUP
    assert fault_from_response(404, "Not Found").kind is ErrorKind.FIX_SETUP
    unknown = fault_from_error({"Message": "Something new", "code": "7777"})
    assert unknown.kind is ErrorKind.FIX_DATA
    assert unknown.message == "QuickBooks refused the request: Something new."


def test_every_error_of_a_fault_is_kept():
    fault = fault_from_fault({"Error": [
        {"Message": "Duplicate Document Number Error", "code": "6140"},
        {"Message": "Invalid Reference Id", "code": "2500"}], "type": "ValidationFault"})
    assert fault.code == "6140"
    assert "Invalid Reference Id (2500)" in fault.detail


def test_repr_shows_kind_and_code():
    fault = fault_from_response(400, json.dumps(DUPLICATE_NUMBER))
    assert repr(fault) == ("QuickBooksFault(kind='fix_data', code='6140', status=400, "
                           "message='QuickBooks already has a document with this number.')")


ECHOED_TOKEN = "AB11780000000000echoed7c6b5a4f3e2d1c0b9a8f"
ECHOED_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
ECHOED_BASIC = base64.b64encode(b"client-id:client-secret-3e2d1c").decode()


def test_an_error_page_echoing_the_authorization_header_keeps_no_credential():
    page = (f"<html><body><h1>400 Bad Request</h1><table><tr><td>Authorization</td>"
            f"<td>Bearer {ECHOED_JWT}</td></tr><tr><td>Proxy-Authorization</td><td>Basic "
            f"{ECHOED_BASIC}</td></tr></table><p>refresh_token={ECHOED_TOKEN}</p>"
            f"<p>{{\"sessionToken\": \"{ECHOED_TOKEN}\"}}</p></body></html>")
    fault = fault_from_response(400, page)
    shown = f"{fault} {fault!r} {fault.detail}"
    for credential in (ECHOED_TOKEN, ECHOED_JWT, ECHOED_BASIC):
        assert credential not in shown
    assert "400 Bad Request" in fault.detail


def test_a_fault_echoing_a_token_in_its_detail_keeps_no_credential():
    body = {"Fault": {"Error": [{"Message": "Invalid request",
                                 "Detail": f"Authorization: Bearer {ECHOED_TOKEN} refused",
                                 "code": "4001"}]}}
    fault = fault_from_response(400, json.dumps(body))
    assert ECHOED_TOKEN not in fault.detail and "Invalid request" in fault.detail
