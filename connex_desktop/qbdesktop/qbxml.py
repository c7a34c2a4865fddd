"""qbXML basics: the message-set envelope, value formats, Latin-1 text and field lengths."""

from __future__ import annotations

import enum
import hashlib
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.money import money

# 13.0 (QuickBooks 2014) has every field this app sends; every QuickBooks from 2015 on takes it,
# and since 6.0 the version string is the same for US, Canadian and UK files.
QBXML_VERSION = "13.0"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
MESSAGE_SET_ID_MAX_CHARS = 23
REQUEST_ID_MAX_CHARS = 50
PRICE_DECIMALS_MAX = 5        # PRICETYPE / QUANTYPE: 1 to 5 decimals
# Common characters outside Latin-1 that Unicode does not decompose into a Latin-1 letter.
LATIN1_STAND_INS = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe",
                                  "ı": "i", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"',
                                  "”": '"', "…": "...", "€": "EUR"})
GUID_NAMESPACE = uuid.UUID("5b0d6c1e-7a43-4c0e-9d8e-3f1f2f4c9a10")   # ours, for ExternalGUID


class OnError(enum.StrEnum):
    """What QuickBooks does after a failed request; it never rolls back the ones before."""

    STOP = "stopOnError"
    CONTINUE = "continueOnError"


def message_set(requests: Iterable[ET.Element], *, on_error: OnError = OnError.STOP,
                new_id: str = "", old_id: str = "") -> str:
    """One qbXML document: the version header and a QBXMLMsgsRq holding `requests`.

    `new_id` asks QuickBooks to keep the outcome under that id, so the same document sent again
    returns the kept outcome instead of booking twice; `old_id` alone clears what was kept, and
    old = new with no requests asks for it.
    """
    root = ET.Element("QBXML")
    attributes = {"newMessageSetID": new_id, "oldMessageSetID": old_id, "onError": on_error}
    msgs = ET.SubElement(root, "QBXMLMsgsRq",
                         {name: str(value) for name, value in attributes.items() if value})
    msgs.extend(requests)
    body = ET.tostring(root, encoding="unicode")
    return f'{XML_DECLARATION}\n<?qbxml version="{QBXML_VERSION}"?>\n{body}'


def message_set_id(*parts: str) -> str:
    """A stable id of at most 23 characters for one write (e.g. connection, order, document)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"cx{digest[:MESSAGE_SET_ID_MAX_CHARS - 2]}"


def external_guid(key: str) -> str:
    """The ExternalGUID QuickBooks keeps on a document: `{8-4-4-4-12}`, upper case, braces."""
    return "{" + str(uuid.uuid5(GUID_NAMESPACE, key)).upper() + "}"


def latin1(text: str) -> str:
    """Text QuickBooks Desktop can keep (ISO-8859-1): accents off letters it has no glyph for,
    '?' for anything else."""
    if all(ord(char) < 256 for char in text):
        return text
    text = text.translate(LATIN1_STAND_INS)
    kept = []
    for char in text:
        if ord(char) < 256:
            kept.append(char)
            continue
        base = "".join(part for part in unicodedata.normalize("NFKD", char) if ord(part) < 256)
        kept.append(base or "?")
    return "".join(kept)


def datetime_text(moment: datetime) -> str:
    """A DATETIMETYPE as QuickBooks writes one: to the second, with its clock's UTC offset."""
    return moment.isoformat(timespec="seconds")


def amount_text(value: Decimal | str) -> str:
    """AMTTYPE: no decimals or exactly two, no separators."""
    return f"{money(value):.2f}"


def price_text(value: Decimal | str) -> str | None:
    """PRICETYPE / QUANTYPE (rates, quantities): at most five decimals; None when the value
    needs more (then the line's Amount says it)."""
    number = Decimal(str(value)).normalize()
    exponent = number.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > PRICE_DECIMALS_MAX:
        return None
    return f"{number:f}"


class Builder:
    """Appends qbXML elements in the order the caller writes them, checking lengths.

    A value over its limit fails the order with OrderDataError naming the field; `cut` fields
    (descriptions, addresses) are shortened instead, with a note for the user.
    """

    def __init__(self, order: str) -> None:
        self.order = order
        self.notes: list[str] = []

    def text(self, parent: ET.Element, tag: str, value: Any, max_chars: int, field: str,
             *, cut: bool = False) -> None:
        if value is None or value == "":
            return
        value = latin1(str(value))
        if len(value) > max_chars:
            if not cut:
                raise OrderDataError(
                    f"its {field} '{value}' is {len(value)} characters; QuickBooks Desktop "
                    f"takes at most {max_chars}.", order=self.order, field=field)
            self.notes.append(f"The {field} is cut to QuickBooks Desktop's {max_chars} "
                              "characters.")
            value = value[:max_chars].rstrip()
        ET.SubElement(parent, tag).text = value

    def amount(self, parent: ET.Element, tag: str, value: Any) -> None:
        if value is not None and value != "":
            ET.SubElement(parent, tag).text = amount_text(value)

    def price(self, parent: ET.Element, tag: str, value: Any) -> None:
        text = price_text(value) if value is not None and value != "" else None
        if text is not None:
            ET.SubElement(parent, tag).text = text

    def rate(self, parent: ET.Element, tag: str, value: Any) -> None:
        """FLOATTYPE (ExchangeRate): any decimal, written as given."""
        if value is not None and value != "":
            ET.SubElement(parent, tag).text = f"{Decimal(str(value)):f}"

    def ref(self, parent: ET.Element, tag: str, ref: Mapping[str, Any] | None,
            max_chars: int, field: str) -> None:
        """A list reference: ListID and/or FullName, in that order (`value`/`name` of a
        planned body's ref)."""
        if not ref:
            return
        element = ET.SubElement(parent, tag)
        if ref.get("value"):
            ET.SubElement(element, "ListID").text = str(ref["value"])
        self.text(element, "FullName", ref.get("name"), max_chars, field)

    def address(self, parent: ET.Element, tag: str, address: Mapping[str, Any] | None,
                what: str) -> None:
        """A planned body's address (Line1…, City, CountrySubDivisionCode…) as qbXML's."""
        if not address:
            return
        element = ET.SubElement(parent, tag)
        for number in range(1, 6):
            self.text(element, f"Addr{number}", address.get(f"Line{number}"), 41,
                      f"{what} line {number}", cut=True)
        for source, target, limit in (("City", "City", 31), ("CountrySubDivisionCode", "State", 21),
                                      ("PostalCode", "PostalCode", 13),
                                      ("Country", "Country", 31)):
            self.text(element, target, address.get(source), limit, f"{what} {target}", cut=True)
