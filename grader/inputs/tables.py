"""Answers from a table: a CSV of any dialect or a spreadsheet, long (one row per answer: student,
question, answer) or wide (a form or LMS export: exports.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable

from ..rubric import Rubric
from . import Found, ReadError
from .dialect import SYNONYMS, Table, header_key, long_columns, read_delimited, sniff_delimiter
from .exports import read_export
from .questions import question_for_label
from .sheets import read_sheet

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".ods")


def is_plain_csv(path: Path, required: tuple[str, ...]) -> bool:
    """Whether the file's first line is a comma-separated header naming every `required` column:
    the standard layout, read by answers.read_csv without sniffing (the fast path)."""
    try:
        with open(path, "rb") as file:
            first = file.readline(65536)
    except OSError:
        return True   # read_csv says what is wrong with it
    names = {n.strip().lstrip("\ufeff").lower() for n in first.decode("utf-8", "replace").strip().split(",")}
    return all(c in names for c in required)


def looks_like_table(path: Path) -> bool:
    """A .txt that is a tab- or ';'-separated export with a header (not an answer document)."""
    if path.suffix.lower() != ".txt":
        return False
    try:
        with open(path, "rb") as file:
            head = file.read(8192).decode("utf-8", "replace")
    except OSError:
        return False
    first = head.split("\n", 1)[0]
    delimiter = sniff_delimiter(head)
    if delimiter not in ("\t", ";") or delimiter not in first:
        return False
    keys = {header_key(h) for h in next(csv.reader(io.StringIO(first), delimiter=delimiter))}
    return sum(any(n in keys for n in names) for names in SYNONYMS.values()) >= 2


def read_table(path: Path, rubric: Rubric | None, columns: str | None,
               say: Callable[[str], None] | None = None) -> list[Found]:
    say = say or (lambda line: None)
    table = read_sheet(path) if path.suffix.lower() in SHEET_SUFFIXES else read_delimited(path)
    roles = long_columns(table, columns)
    if all(r in roles for r in SYNONYMS):
        return _long_answers(table, roles, rubric)
    if columns is None:
        found = read_export(table, rubric, say)
        if found is not None:
            return found
    missing = [r for r in SYNONYMS if r not in roles]
    headers = ", ".join(h.strip() for h in table.header) or "nothing"
    raise ReadError(
        f"{table.source}: line 1: missing columns student_id, question_id, answer (found: {_short(headers)}; "
        f"no {' or '.join(missing)} column among them); rename the header, map it with --columns "
        "student=...,question=...,answer=..., or give a Google/Microsoft Forms, Moodle or Canvas export "
        "with a column per question")


def _long_answers(table: Table, roles: dict[str, int], rubric: Rubric | None) -> list[Found]:
    questions = list(rubric.questions) if rubric is not None else []
    known: dict[str, str] = {}   # a question cell -> the rubric id it names (once per distinct cell)
    found = []
    width = len(table.header)
    for line, cells in table.rows:
        cells = cells + [""] * (width - len(cells))
        label = cells[roles["question"]]
        if label not in known:
            question = question_for_label(label, questions)
            known[label] = question.id if question is not None else label
        email = cells[roles["email"]].strip() if "email" in roles else ""
        name = cells[roles["name"]].strip() if "name" in roles else ""
        found.append(Found(cells[roles["student"]], known[label], cells[roles["answer"]],
                           f"{table.source}:{line}", name=name, email=email))
    return found


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."
