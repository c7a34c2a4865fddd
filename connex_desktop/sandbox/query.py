"""The QuickBooks Online query language: a tokenizer, a recursive-descent parser and matching."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from connex_desktop.core.quickbooks_rules import QUERY_MAX_RESULTS
from connex_desktop.sandbox.faults import query_parse_error, query_validation_error

DEFAULT_MAX_RESULTS = 100
COMPARISONS = ("=", "<", ">", "<=", ">=")  # the language has no "not equal"
KEYWORDS = frozenset({"SELECT", "FROM", "WHERE", "AND", "OR", "IN", "LIKE", "ORDER", "ORDERBY",
                      "BY", "ASC", "DESC", "STARTPOSITION", "MAXRESULTS", "COUNT"})
# Dates without a time are read in the company's zone (Pacific, without daylight saving).
COMPANY_TZ = timezone(timedelta(hours=-8))


@dataclass(frozen=True)
class Token:
    kind: str  # "word" | "string" | "number" | "symbol" | "end"
    text: str
    position: int  # 1-based column, as the service reports it

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str  # one of COMPARISONS, "IN" or "LIKE"
    values: tuple[object, ...]


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    fields: tuple[str, ...] = field(default=())


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<word>[A-Za-z_][\w.]*)
  | (?P<symbol><=|>=|!=|<>|[=<>(),*])
""", re.VERBOSE)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            raise query_parse_error(
                f'Encountered " "{text[position]}" "" at line 1, column {position + 1}.')
        kind = match.lastgroup or ""
        if kind != "space":
            value = match.group()
            if kind == "string":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            tokens.append(Token(kind, value, position + 1))
        position = match.end()
    tokens.append(Token("end", "<EOF>", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def error(self) -> Exception:
        token = self.current
        shown = token.text if token.kind != "string" else f"'{token.text}'"
        return query_parse_error(
            f'Encountered " "{shown}" "" at line 1, column {token.position}.')

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def accept_keyword(self, *keywords: str) -> str | None:
        if self.current.keyword in keywords:
            return self.advance().keyword
        return None

    def expect_keyword(self, keyword: str) -> None:
        if self.accept_keyword(keyword) is None:
            raise self.error()

    def accept_symbol(self, symbol: str) -> bool:
        if self.current.kind == "symbol" and self.current.text == symbol:
            self.advance()
            return True
        return False

    def expect_symbol(self, symbol: str) -> None:
        if not self.accept_symbol(symbol):
            raise self.error()

    def identifier(self) -> str:
        token = self.current
        if token.kind != "word" or token.keyword in KEYWORDS:
            raise self.error()
        self.advance()
        return token.text

    def integer(self) -> int:
        token = self.current
        if token.kind != "number" or not token.text.lstrip("-").isdigit():
            raise self.error()
        self.advance()
        return int(token.text)

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        count, fields = self.projection()
        self.expect_keyword("FROM")
        entity = self.identifier()
        conditions: list[Condition] = []
        if self.accept_keyword("WHERE"):
            conditions.append(self.condition())
            while self.accept_keyword("AND"):
                conditions.append(self.condition())
            if self.current.keyword == "OR":
                raise self.error()
        order_by: list[tuple[str, bool]] = []
        start_position, max_results = 1, DEFAULT_MAX_RESULTS
        while self.current.kind != "end":
            keyword = self.accept_keyword("ORDER", "ORDERBY", "STARTPOSITION", "MAXRESULTS")
            if keyword == "ORDER":
                self.expect_keyword("BY")
                order_by = self.ordering()
            elif keyword == "ORDERBY":
                order_by = self.ordering()
            elif keyword == "STARTPOSITION":
                start_position = self.integer()
            elif keyword == "MAXRESULTS":
                max_results = self.integer()
            else:
                raise self.error()
        if max_results > QUERY_MAX_RESULTS:
            raise query_validation_error(
                f"value {max_results} is too large. Max allowed value is {QUERY_MAX_RESULTS}")
        if max_results < 1 or start_position < 1:
            raise query_validation_error(
                "STARTPOSITION and MAXRESULTS must be positive numbers")
        return Query(entity, count, tuple(conditions), tuple(order_by), start_position,
                     max_results, tuple(fields))

    def projection(self) -> tuple[bool, list[str]]:
        if self.accept_keyword("COUNT"):
            self.expect_symbol("(")
            self.expect_symbol("*")
            self.expect_symbol(")")
            return True, []
        fields: list[str] = []
        while True:
            if self.accept_symbol("*"):
                fields.append("*")
            else:
                fields.append(self.identifier())
            if not self.accept_symbol(","):
                return False, fields

    def ordering(self) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        while True:
            name = self.identifier()
            direction = self.accept_keyword("ASC", "DESC")
            order.append((name, direction == "DESC"))
            if not self.accept_symbol(","):
                return order

    def condition(self) -> Condition:
        name = self.identifier()
        if self.accept_keyword("IN"):
            self.expect_symbol("(")
            values = [self.value()]
            while self.accept_symbol(","):
                values.append(self.value())
            self.expect_symbol(")")
            return Condition(name, "IN", tuple(values))
        if self.accept_keyword("LIKE"):
            token = self.current
            if token.kind != "string":
                raise self.error()
            self.advance()
            return Condition(name, "LIKE", (token.text,))
        token = self.current
        if token.kind != "symbol" or token.text not in COMPARISONS:
            raise self.error()
        self.advance()
        return Condition(name, token.text, (self.value(),))

    def value(self) -> object:
        token = self.current
        if token.kind == "string":
            self.advance()
            return token.text
        if token.kind == "number":
            self.advance()
            return Decimal(token.text)
        if token.keyword in ("TRUE", "FALSE"):
            self.advance()
            return token.keyword == "TRUE"
        raise self.error()


def parse(text: str) -> Query:
    """Parse one query; raises a QBFault (4000 parse error, 4001 validation) when invalid."""
    return _Parser(text).parse()


def field_value(entity: Mapping[str, Any], path: str) -> object:
    """The value at a dotted path, matched case-insensitively; references compare by value."""
    current: object = entity
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = _get_ignoring_case(current, part)
    if isinstance(current, Mapping) and "value" in current:
        return current["value"]
    return current


def _get_ignoring_case(mapping: Mapping[str, Any], key: str) -> object:
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for candidate, value in mapping.items():
        if candidate.lower() == lowered:
            return value
    return None


@functools.lru_cache(maxsize=65536)
def as_datetime(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=COMPANY_TZ)


def _comparable(stored: object, wanted: object) -> tuple[object, object] | None:
    """Both sides in one comparable form, or None when they cannot be compared."""
    if isinstance(wanted, bool) or isinstance(stored, bool):
        if isinstance(stored, str):
            stored = stored.lower() == "true"
        if isinstance(wanted, str):
            wanted = wanted.lower() == "true"
        return (stored, wanted) if isinstance(stored, bool) and isinstance(wanted, bool) else None
    if isinstance(stored, int | Decimal) or isinstance(wanted, Decimal):
        try:
            return Decimal(str(stored)), Decimal(str(wanted))
        except InvalidOperation:
            return None
    if isinstance(stored, str) and isinstance(wanted, str):
        if len(stored) == len(wanted) == len("YYYY-MM-DD") and _DATE_RE.fullmatch(stored) \
                and _DATE_RE.fullmatch(wanted):
            return stored, wanted  # two plain dates order as text
        if len(wanted) >= 10 and wanted[:4].isdigit() and wanted[4:5] == "-":
            stored_moment, wanted_moment = as_datetime(stored), as_datetime(wanted)
            if stored_moment is not None and wanted_moment is not None:
                return stored_moment, wanted_moment
        return stored.casefold(), wanted.casefold()
    return None


def _compare(stored: object, operator: str, wanted: object) -> bool:
    pair = _comparable(stored, wanted)
    if pair is None:
        return False
    left, right = pair
    if operator == "=":
        return left == right
    try:
        if operator == "<":
            return left < right  # type: ignore[operator]
        if operator == ">":
            return left > right  # type: ignore[operator]
        if operator == "<=":
            return left <= right  # type: ignore[operator]
        return left >= right  # type: ignore[operator]
    except TypeError:
        return False


def _like(stored: object, pattern: str) -> bool:
    if not isinstance(stored, str):
        return False
    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return re.fullmatch(regex, stored, re.IGNORECASE | re.DOTALL) is not None


def matches(entity: Mapping[str, Any], condition: Condition) -> bool:
    stored = field_value(entity, condition.field)
    if stored is None:
        return False
    if condition.operator == "IN":
        return any(_compare(stored, "=", value) for value in condition.values)
    if condition.operator == "LIKE":
        return _like(stored, str(condition.values[0]))
    return _compare(stored, condition.operator, condition.values[0])


def _sort_key(value: object) -> tuple[int, object]:
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (0, Decimal(int(value)))
    if isinstance(value, int | Decimal):
        return (0, Decimal(value))
    text = str(value)
    try:
        return (0, Decimal(text))
    except InvalidOperation:
        return (1, text.casefold())


def _field_sort_key(name: str) -> Callable[[Mapping[str, Any]], tuple[int, object]]:
    return lambda entity: _sort_key(field_value(entity, name))


def select(query: Query, candidates: Iterable[Mapping[str, Any]],
           default_order: Callable[[Mapping[str, Any]], Any]) -> tuple[int, list[Any]]:
    """Filter, order and page `candidates`; returns (total matches, the requested page)."""
    found = [e for e in candidates if all(matches(e, c) for c in query.conditions)]
    found.sort(key=default_order)
    for name, descending in reversed(query.order_by):
        found.sort(key=_field_sort_key(name), reverse=descending)
    start = query.start_position - 1
    return len(found), found[start:start + query.max_results]
