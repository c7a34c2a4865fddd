"""QuickBooks Online's documented limits and fixed names: the app keeps to them, the sandbox too."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Rates per company (realm) and app; a request over any of them is answered 429.
REQUESTS_PER_MINUTE = 500          # per company, batch requests included
REQUESTS_PER_SECOND = 10
BATCH_REQUESTS_PER_MINUTE = 40
MAX_CONCURRENT_REQUESTS = 10       # the 11th request at once is refused
BATCH_MAX_OPERATIONS = 30          # more in one batch fail with 1040 "Batch size exceeds…"
QUERY_MAX_RESULTS = 1000           # MAXRESULTS of one query page
# A requestid (which makes a retried write return the first answer) has at most 50
# characters; a batch's at most 36, and then each operation's bId at most 10.
REQUEST_ID_MAX_CHARS = 50
BATCH_REQUEST_ID_MAX_CHARS = 36
BATCH_ID_MAX_CHARS = 10

# Field lengths: QuickBooks refuses the whole write for one field beyond them.
DOC_NUMBER_MAX_CHARS = 21
PAYMENT_REF_MAX_CHARS = 21         # a payment's PaymentRefNum
NAME_MAX_CHARS = 100               # an item's Name and Sku
DISPLAY_NAME_MAX_CHARS = 500       # a customer's, vendor's or employee's DisplayName
EMAIL_MAX_CHARS = 100
# QuickBooks Desktop's (qbXML 13.0 schema): RefNumber of sales and purchase forms, an item's
# Name and ManufacturerPartNumber, a customer's Name.
DESKTOP_REF_NUMBER_MAX_CHARS = 11
DESKTOP_ITEM_NAME_MAX_CHARS = 31
DESKTOP_CUSTOMER_NAME_MAX_CHARS = 41
POSTAL_CODE_MAX_CHARS = 30
PERSON_NAME_MAX_CHARS = {"Title": 16, "GivenName": 100, "MiddleName": 100, "FamilyName": 100,
                         "Suffix": 16, "CompanyName": 100}
# An email as QuickBooks accepts it (RFC 822's local@domain.tld, no spaces or special
# characters); anything else fails with 2210 "Invalid Email Address format".
EMAIL_FORMAT = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+")

# QuickBooks' own shipping line: an item line with this ItemRef, where the company allows it.
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"
GRATUITY_ITEM_ID = "GRATUITY_ITEM_ID"   # QuickBooks' own tip line
US_LINE_TAX_CODES = ("TAX", "NON")   # a US company's line codes: taxable or not, not a rate
# The plans (CompanyInfo's NameValue "OfferingSku", e.g. "QuickBooks Online Plus") that have
# purchase orders.
PURCHASE_ORDER_PLANS = ("Plus", "Advanced")
# Intuit's OpenID discovery document, below the sign-in service's base address.
DISCOVERY_PATH = "/.well-known/openid_configuration"


@dataclass(frozen=True)
class NameLimits:
    """How long the names the planner gives may be, in the QuickBooks it books into."""

    doc_number: int = DOC_NUMBER_MAX_CHARS
    item_name: int = NAME_MAX_CHARS
    customer_name: int = DISPLAY_NAME_MAX_CHARS
    # A number over its limit: QuickBooks numbers the document (its memo names the order)
    # instead of the order failing.
    number_falls_back: bool = False
    # Names are kept in Latin-1 (QuickBooks Desktop): a buyer's name in other letters would be
    # question marks there, and two buyers' could look the same, so the email names them.
    latin1_names: bool = False


ONLINE_LIMITS = NameLimits()
DESKTOP_LIMITS = NameLimits(DESKTOP_REF_NUMBER_MAX_CHARS, DESKTOP_ITEM_NAME_MAX_CHARS,
                            DESKTOP_CUSTOMER_NAME_MAX_CHARS, number_falls_back=True,
                            latin1_names=True)
