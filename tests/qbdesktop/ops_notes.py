"""Intuit's notes on which QuickBooks edition takes which qbXML element (qbxmlops130.xml, test
data in qbxml130/), to check every request the app sends to a UK or Canadian file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import cache

from tests.qbdesktop.schema import SCHEMA_DIR, schema_errors

# The OPS file's names for the desktop editions, by HostRet Country.
EDITIONS = {"US": "QBD", "UK": "QBUK", "CA": "QBCA"}
_TAG = re.compile(r"^\s*<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*?(/?)>(.*)$")
_NOT_IN = re.compile(r"not in ([A-Z|]+)")

Path = tuple[str, ...]


@cache
def not_in() -> dict[Path, frozenset[str]]:
    """Per element path from its request (InvoiceAddRq, InvoiceAdd, InvoiceLineAdd, …): the
    editions whose QuickBooks lacks it."""
    notes: dict[Path, set[str]] = {}
    stack: list[str] = []
    for line in (SCHEMA_DIR / "qbxmlops130.xml").read_text(encoding="utf-8").splitlines():
        found = _TAG.match(line)
        if found is None:
            continue
        closing, tag, empty, rest = found.groups()
        if closing:
            if stack and stack[-1] == tag:
                stack.pop()
            continue
        path = (*stack, tag)
        comment = rest.partition("<!--")[2]
        editions = _NOT_IN.search(comment)
        if editions and "QBXMLMsgsRq" in path[:-1]:
            request = path.index("QBXMLMsgsRq") + 1
            notes.setdefault(path[request:], set()).update(editions.group(1).split("|"))
        if not empty and f"</{tag}>" not in rest:
            stack.append(tag)
    return {path: frozenset(editions) for path, editions in notes.items()}


def edition_problems(document: str, country: str) -> list[str]:
    """The elements of a qbXML request document that Intuit notes are not in the edition of
    `country` ("InvoiceAddRq/InvoiceAdd/IsTaxIncluded not in QBD")."""
    edition = EDITIONS[country]
    notes = not_in()
    problems = []
    msgs = ET.fromstring(document.encode("utf-8")).find("QBXMLMsgsRq")

    def walk(element: ET.Element, path: Path) -> None:
        here = (*path, element.tag)
        if edition in notes.get(here, ()):
            problems.append(f"{'/'.join(here)} not in {edition}")
        for child in element:
            walk(child, here)

    for request in msgs if msgs is not None else ():
        walk(request, ())
    return problems


def edition_checker(country: str) -> Callable[[str], str]:
    """A validator for the fake: the schema's complaints and the edition's, "" when none."""
    def check(document: str) -> str:
        return "; ".join(filter(None, [schema_errors(document),
                                       *edition_problems(document, country)]))
    return check
