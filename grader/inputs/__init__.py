"""Readers for what teachers really have: documents (Word, PDF, OpenDocument, RTF, HTML, text),
one file per student holding every answer, wide form and LMS exports, spreadsheets and CSV files
of any dialect.

Readers return `Found` records, not `Answer`s: grader/answers.py, which dispatches to them, turns
each into an Answer through the same checks as every other input (blank, binary, too long), so
this package never imports it. An input that cannot be read at all raises `ReadError` (answers.py
turns it into an InputError); a single answer that cannot be read is a `Found` with `problem` set.
"""

from __future__ import annotations

from dataclasses import dataclass


class InputError(ValueError):
    """An input that cannot be read at all; the message names the file, the line or column, and the fix."""


ReadError = InputError   # (the readers' name for it)


@dataclass(frozen=True)
class Found:
    """One answer as a reader found it, before answers.py checks it."""

    student_id: str
    question_id: str
    text: str
    source: str
    problem: str | None = None   # unreadable, unsplit...: answers.py keeps it, flagged
    detail: str = ""
    name: str = ""
    email: str = ""
