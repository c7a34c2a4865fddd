"""Intuit's qbXML 13.0 schema (test data in qbxml130/), to check every request the app builds."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).parent / "qbxml130"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "qbxmlops130.xsd")))


def schema_errors(document: str) -> str:
    """The schema's complaints about a qbXML document, "" when it is valid."""
    schema = _schema()
    if schema.validate(etree.fromstring(document.encode("utf-8"))):
        return ""
    return "; ".join(f"line {error.line}: {error.message}" for error in schema.error_log)
