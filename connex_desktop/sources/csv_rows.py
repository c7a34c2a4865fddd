"""The rows of an order file, streamed: its encoding, separator and header, each row's line."""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connex_desktop.core.errors import SetupError

DELIMITERS = (",", ";", "\t")
CHUNK_BYTES = 1 << 20
# What Excel on Windows writes for "CSV (Comma delimited)".
LEGACY_ENCODING = "cp1252"
# Bytes the file's encoding cannot decode are kept as lone surrogates (U+DC80–U+DCFF), so a
# stray byte fails its own row instead of the file.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_DECODED_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
QUOTE = '"'


@dataclass(frozen=True)
class Record:
    """One row of the file: the line it starts on, its cells, and what makes it unusable."""

    line: int
    cells: list[str]
    problem: str = ""
    problem_cell: int | None = None   # the cell at fault, when one is


def file_encoding(path: Path) -> str:
    """UTF-16 by its byte-order mark; else UTF-8, unless the file is in a legacy encoding.

    A file is legacy only when it has bytes that are not UTF-8 and no valid UTF-8 multi-byte
    sequence at all: one stray Latin-1 byte in a UTF-8 file fails its row, it does not turn
    every accented name of the file into mojibake.
    """
    with path.open("rb") as handle:
        if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        undecodable = False
        while True:
            chunk = handle.read(CHUNK_BYTES)
            text = decoder.decode(chunk, final=not chunk)
            if not text.isascii():
                if _DECODED_NON_ASCII.search(text):
                    return "utf-8-sig"
                undecodable = True
            if not chunk:
                return LEGACY_ENCODING if undecodable else "utf-8-sig"


class _PhysicalLines:
    """The file's lines as csv.reader takes them, counted, keeping those of the current record.

    A record that swallowed the rows after it (a quote never closed) is read again from its
    second line, so no later order is lost.
    """

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._again: list[str] = []
        self.number = 0
        self.ended = False
        self.record: list[str] = []

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        if self._again:
            line = self._again.pop()
        else:
            try:
                line = next(self._lines)
            except StopIteration:
                self.ended = True
                raise
        self.number += 1
        self.record.append(line)
        return line

    def start_record(self) -> None:
        self.record = []

    def read_again_after_first(self) -> None:
        self._again.extend(reversed(self.record[1:]))
        self.number -= len(self.record) - 1
        self.ended = False


@contextmanager
def order_file_records(path: Path) -> Iterator[tuple[list[str], Iterator[Record]]]:
    """The file's header, and its non-blank rows after it one at a time, in file order."""
    encoding = file_encoding(path)
    # A strict codec would fail the whole file on one bad byte; UTF-16 has no such bytes.
    errors = "strict" if encoding == "utf-16" else "surrogateescape"
    with path.open(encoding=encoding, errors=errors, newline="") as handle:
        try:
            first = handle.readline()
            if not first:
                raise SetupError(f"{path.name} is empty.", field="path")
            delimiter = max(DELIMITERS, key=first.count)
            lines = _PhysicalLines(itertools.chain([first], handle))
            reader = csv.reader(lines, delimiter=delimiter)
            header = next(reader)
            yield [_readable(cell) for cell in header], _records(reader, lines, delimiter,
                                                                   len(header))
        except UnicodeDecodeError:
            raise SetupError(f"{path.name} is not readable text; save it as \"CSV UTF-8\".",
                             field="path") from None
        except csv.Error as exc:
            raise SetupError(f"{path.name}'s first line cannot be read as CSV: {exc}.",
                             field="path") from None


def _records(reader: Iterator[list[str]], lines: _PhysicalLines, delimiter: str,
             width: int) -> Iterator[Record]:
    while True:
        lines.start_record()
        start = lines.number + 1
        try:
            cells = next(reader)
            swallowed = lines.ended or _runs_through_rows(lines.record, delimiter, width)
        except StopIteration:
            return
        except csv.Error:   # a field past csv's size limit: a quote left open
            swallowed = True
        if swallowed:
            yield _unclosed_quote(start, lines.record[0], delimiter)
            lines.read_again_after_first()
        elif any(cell.strip() for cell in cells):
            yield _decoded(start, cells, lines.record)


def _runs_through_rows(record: list[str], delimiter: str, width: int) -> bool:
    """Whether a record's later lines look like rows of their own (as many cells as a row)."""
    return any(line.count(delimiter) >= width - 1 for line in record[1:]) if width > 1 else False


def _unclosed_quote(start: int, first_line: str, delimiter: str) -> Record:
    # Read alone, the line's own cells come out right up to the quote, which ends the line.
    cells = [_readable(cell) for cell in next(csv.reader([first_line], delimiter=delimiter))]
    return Record(start, cells, "a quote opens here and is never closed, so the lines after it "
                  "were read as one value; close it, or write a quote inside a value as two "
                  "(\"\").", len(cells) - 1)


def _decoded(start: int, cells: list[str], lines: list[str]) -> Record:
    if not any(_UNDECODABLE.search(line) for line in lines):
        return Record(start, cells)
    bad = next(i for i, cell in enumerate(cells) if _UNDECODABLE.search(cell))
    readable = [_readable(cell) for cell in cells]
    return Record(start, readable, f"{readable[bad].strip()!r} has bytes that are not UTF-8 "
                  "text; save the file as \"CSV UTF-8\".", bad)


def _readable(text: str) -> str:
    """`text` with each undecodable byte shown as the replacement character."""
    return _UNDECODABLE.sub("\ufffd", text) if not text.isascii() else text

