"""A new customer's fields within QuickBooks' limits, and customers told apart by currency."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connex_desktop.core.model import Address

# QuickBooks refuses the whole customer for one optional field beyond these lengths: such a
# field is cut or left out, with a note.
EMAIL_MAX_CHARS = 100
POSTAL_CODE_MAX_CHARS = 30
DISPLAY_NAME_MAX_CHARS = 500
NAME_PART_MAX_CHARS = {"GivenName": 100, "FamilyName": 100, "CompanyName": 100}
NAME_PART_LABELS = {"GivenName": "first name", "FamilyName": "last name",
                    "CompanyName": "company name"}
# RFC 822 in the form QuickBooks accepts: local@domain.tld, no spaces or special characters.
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+")


def email_problem(email: str) -> str:
    """Why QuickBooks would refuse `email` as a customer's or document's email ("" if it would
    not)."""
    if len(email) > EMAIL_MAX_CHARS:
        return (f"The buyer's email is not kept in QuickBooks: it has {len(email)} characters, "
                f"QuickBooks takes at most {EMAIL_MAX_CHARS}.")
    if email and not _EMAIL.fullmatch(email):
        return f"The buyer's email '{email}' is not kept in QuickBooks: it is not an email address."
    return ""


def address_fields(address: Address, what: str) -> tuple[dict[str, str], str]:
    """A QuickBooks address, and a note when its postal code is too long to keep."""
    fields = {"Line1": address.line1, "Line2": address.line2, "City": address.city,
              "CountrySubDivisionCode": address.region, "PostalCode": address.postal_code,
              "Country": address.country}
    note = ""
    if len(address.postal_code) > POSTAL_CODE_MAX_CHARS:
        del fields["PostalCode"]
        note = (f"The {what} postal code is not kept in QuickBooks: it has "
                f"{len(address.postal_code)} characters, QuickBooks takes at most "
                f"{POSTAL_CODE_MAX_CHARS}.")
    return {key: value for key, value in fields.items() if value}, note


def trim_name_parts(body: dict[str, Any]) -> list[str]:
    """Cut the name parts of a new customer to QuickBooks' lengths; a note for each cut."""
    notes = []
    for field, limit in NAME_PART_MAX_CHARS.items():
        value = body.get(field)
        if isinstance(value, str) and len(value) > limit:
            body[field] = value[:limit].rstrip()
            notes.append(f"The buyer's {NAME_PART_LABELS[field]} is cut to QuickBooks' "
                         f"{limit} characters.")
    return notes


def currency_of(record: Mapping[str, Any], home: str) -> str:
    """A customer's currency (a record without one is in the home currency)."""
    return str((record.get("CurrencyRef") or {}).get("value") or home).upper()


def currency_twin(name: str, currency: str) -> str:
    """The name of a customer's twin in another currency, e.g. "Web customer (EUR)"."""
    return f"{name} ({currency})"
