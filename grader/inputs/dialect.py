"""A table from a delimited text file of any dialect: the delimiter (',', ';', tab, '|') and the
encoding (BOM, UTF-16, UTF-8, else cp1252: text.decode_bytes) are detected; and the names a long
table's columns go by ("Student", "Question", "Response"...), or those `--columns` gives."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..text import UnreadableText, decode_bytes
from . import ReadError

DELIMITERS = (",", ";", "\t", "|")

SYNONYMS = {   # normalised header -> role, most specific first within a role
    "student": ("student_id", "student id", "studentid", "student number", "student no", "student",
                "username", "user", "learner", "pupil", "candidate", "email", "email address", "e-mail",
                "student name", "name", "full name"),
    "question": ("question_id", "question id", "questionid", "question number", "question no", "question",
                 "item", "q", "task", "prompt"),
    "answer": ("answer", "response", "answer text", "response text", "student answer", "student response",
               "text", "submission", "essay", "reply"),
}
IDENTITY = {
    "name": ("name", "full name", "student name", "your name"),
    "email": ("email", "email address", "e-mail", "e-mail address", "mail"),
}


@dataclass
class Table:
    source: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)   # (line or row number, cells)


def header_key(name: str) -> str:
    """A header as matched: no BOM, case, surrounding space, or '_'/'-' vs ' ' differences."""
    return re.sub(r"[\s_]+", " ", name.lstrip("\ufeff").strip().casefold())


def csv_text(path: Path, what: str = "answers", expected: str = "a header row naming the columns") -> str:
    """The decoded text of a CSV (or TSV) file, ready for the csv module, or ReadError naming the
    file and the fix. Binary data is judged by the first line only: NULs in one answer make that
    answer unreadable, not the file. Also lifts the csv module's 131,072-character cell limit (a
    process-wide setting; nothing needs it lower): one huge cell is one answer flagged `truncated`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReadError(f"{path}: no such file; give the {what} CSV ({expected})") from None
    except IsADirectoryError:
        raise ReadError(f"{path}: is a folder; give the {what} CSV file") from None
    except OSError as exc:
        raise ReadError(f"{path}: cannot be read ({exc.strerror}); check the path and its permissions") from None
    try:
        text, _ = decode_bytes(raw, check=False)
    except UnreadableText as exc:
        raise ReadError(f"{path}: not a text CSV file ({exc}); export the {what} as CSV") from None
    if raw.startswith(b"PK\x03\x04") or "\x00" in text.split("\n", 1)[0]:
        raise ReadError(f"{path}: not a text CSV file (binary data in its first line); export the {what} as CSV or .xlsx")
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    return text


def read_delimited(path: Path) -> Table:
    text = csv_text(path)
    head = text[:65536]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(head), strict=False)
    try:
        header = next(reader, None)
        if header is None:
            raise ReadError(f"{path}: empty file; expected a header row naming the columns")
        rows = list(records(reader, path, len(header), reader.dialect.delimiter))
    except csv.Error as exc:
        raise ReadError(f"{path}: line {reader.line_num}: {exc}; save the file as standard CSV") from None
    return Table(str(path), header, rows)


def records(reader, path: Path, width: int, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(the line a record starts on, its cells) for each record of `reader` that is not blank
    (every cell whitespace). An unbalanced quote makes the csv module read every following line
    into one cell, silently: a cell holding two or more lines that are themselves rows of the file
    (as many delimiters as the header, the first cells unquoted) is that, and raises ReadError
    naming the line the quote opened on, not an answer over several lines."""
    looks_like_row = re.compile(r'^[^"{d}\s][^"{d}]*{d}[^"{d}\s][^"{d}]*{d}'.format(d=re.escape(delimiter)))
    start = reader.line_num + 1
    for row in reader:
        if "".join(row).strip():
            if reader.line_num > start:   # a record over several lines: a quoted cell with newlines
                for cell in row:
                    swallowed = sum(1 for line in cell.split("\n")[1:]
                                    if line.count(delimiter) >= width - 1 and looks_like_row.match(line))
                    if swallowed >= 2:
                        raise ReadError(f"{path}: line {start}: a quote (\") opened in this row is never closed, so "
                                        f"the {swallowed} rows after it would be read as part of one answer; close "
                                        "the quote (a quote inside an answer is written twice: \"\")")
            yield start, row
        start = reader.line_num + 1


def sniff_delimiter(head: str) -> str:
    """csv.Sniffer's delimiter when it splits the header and the next rows alike, else the
    candidate that gives the most columns consistently."""
    sample = head[:head.rfind("\n")] if "\n" in head else head
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    widths = {d: _widths(sample, d) for d in DELIMITERS}
    if sniffed in widths and widths[sniffed][0] > 1 and _consistent(widths[sniffed]):
        return sniffed
    best = max(DELIMITERS, key=lambda d: (_consistent(widths[d]), widths[d][0] if widths[d] else 0))
    return best if widths[best] and widths[best][0] > 1 else ","


def _widths(sample: str, delimiter: str) -> list[int]:
    try:
        return [len(row) for _, row in zip(range(20), csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))]
    except csv.Error:
        return []


def _consistent(widths: list[int]) -> bool:
    return bool(widths) and widths[0] > 1 and sum(w == widths[0] for w in widths) >= 0.8 * len(widths)


def long_columns(table: Table, columns: str | None) -> dict[str, int]:
    """{role: column} for a long table: `columns` ("student=Name,question=Item,answer=Text") first,
    then the synonyms; the roles name, email too where present. Raises ReadError for a --columns
    entry that is malformed or names no column."""
    keys = {}
    for index, name in enumerate(table.header):
        keys.setdefault(header_key(name), index)
    found: dict[str, int] = {}
    for entry in filter(None, (e.strip() for e in (columns or "").split(","))):
        role, _, name = entry.partition("=")
        role = role.strip().casefold()
        if role not in (*SYNONYMS, *IDENTITY) or not name.strip():
            raise ReadError(f"--columns {entry!r}: give role=column, roles student, question, answer, name, email "
                            "(e.g. --columns student=Pupil,question=Item,answer=Text)")
        if header_key(name) not in keys:
            raise ReadError(f"{table.source}: --columns {entry!r}: no column {name.strip()!r} "
                            f"(found: {', '.join(h.strip() for h in table.header)})")
        found[role] = keys[header_key(name)]
    for role, names in (*SYNONYMS.items(), *IDENTITY.items()):
        if role not in found:
            index = next((keys[n] for n in names if n in keys and keys[n] not in found.values()), None)
            if index is not None:
                found[role] = index
    return found
