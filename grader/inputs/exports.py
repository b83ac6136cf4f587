"""Wide exports: one row per student, one column per question, as forms and LMSs write them,
recognised from their headers alone.

- Google Forms: Timestamp, Email Address, (Score,) (Name,) then each prompt as a header.
- Microsoft Forms (.xlsx): ID, Start time, Completion time, Email, Name, (Total points, Quiz
  feedback,) prompts, (Points - <prompt>, Feedback - <prompt>).
- Moodle quiz "Responses": Surname, First name, (Institution, Department,) Email address, State,
  Started on, Completed, Time taken, Grade/N, Response 1..N (question order; Question N and Right
  answer N columns ignored).
- Canvas quiz "Student Analysis": name, id, sis_id, section, section_id, section_sis_id,
  submitted, attempt, "<id>: <prompt>" (each followed by its points column), n correct, ...

Every other column is a candidate question: matched to the rubric's prompts exactly (or its id),
else by TF-IDF similarity, or by position where the export numbers them ("Response 3"). The
student id is the e-mail address where there is one, else the LMS id, else the name.
"""

from __future__ import annotations

import re
from typing import Callable

from ..rubric import Rubric
from . import Found
from .dialect import Table, header_key
from .questions import match_prompts, numbered

_EMAIL = ("email address", "email", "e-mail", "e-mail address", "username (email)")
_LMS_ID = ("sis id", "sis_id", "id number", "idnumber", "student id", "student number", "username", "login id", "user id")
_FIRST, _LAST = ("first name", "given name", "firstname"), ("surname", "last name", "family name", "lastname")
_NAME = ("name", "full name", "your name", "student name", "student", "name of student")
_METADATA = {
    "timestamp", "id", "start time", "completion time", "last modified time", "total points", "quiz feedback",
    "score", "total score", "points", "grade", "state", "status", "started on", "completed", "time taken",
    "institution", "department", "section", "section id", "section sis id", "section_id", "section_sis_id",
    "submitted", "attempt", "n correct", "n incorrect", "class", "period", "group", "date", "time",
}
_METADATA_RE = re.compile(r"^(?:points|feedback)\s*-\s|^right answer\s*\d+$|^question\s*\d+$|^grade\s*/|"
                          r"^q\.\s*\d+\s*/|^[\d.]+$", re.IGNORECASE)
_RESPONSE_RE = re.compile(r"^response\s*(\d+)$", re.IGNORECASE)
_CANVAS_RE = re.compile(r"^\d+:\s*(.+)$", re.DOTALL)
_NUMBERED_RE = re.compile(r"^\s*(?:q(?:uestion)?\s*)?(\d{1,3})\s*[.:)]\s*(.*)$", re.IGNORECASE | re.DOTALL)


def identity_columns(keys: list[str]) -> dict[str, int]:
    """{email, lms_id, first, last, name: column} found in the header keys."""
    found = {}
    canvas = "sis id" in keys
    for role, names in (("email", _EMAIL), ("lms_id", (("id",) if canvas else ()) + _LMS_ID),
                        ("first", _FIRST), ("last", _LAST), ("name", _NAME)):
        index = next((keys.index(n) for n in names if n in keys and keys.index(n) not in found.values()), None)
        if index is not None:
            found[role] = index
    return found


def read_export(table: Table, rubric: Rubric | None, say: Callable[[str], None]) -> list[Found] | None:
    """The answers of a wide export, or None when `table` is not one (no identity column, or no
    column that is a question)."""
    keys = [header_key(h) for h in table.header]
    identity = identity_columns(keys)
    if not identity:
        return None
    candidates = {i: table.header[i].strip() for i, key in enumerate(keys)
                  if i not in identity.values() and key not in _METADATA and not _METADATA_RE.search(key) and key}
    columns = _question_columns(candidates, rubric)
    if not columns:
        return None
    for index, header in candidates.items():
        if index in columns:
            qid, how = columns[index]
            say(f"{table.source}: column {_short(header)!r} is question {qid} ({how})")
        else:
            say(f"{table.source}: column {_short(header)!r} matches no question of the rubric: not read")
    found = []
    for line, cells in table.rows:
        cells = cells + [""] * (len(table.header) - len(cells))
        if cells[0].strip().casefold() == "overall average":   # Moodle's summary row, not a student
            continue
        email = cells[identity["email"]].strip() if "email" in identity else ""
        name = _name(cells, identity)
        lms_id = cells[identity["lms_id"]].strip() if "lms_id" in identity else ""
        student = (email if "@" in email else "") or lms_id or name or email or f"row {line}"
        for index, (qid, _) in columns.items():
            found.append(Found(student, qid, cells[index], f"{table.source}:{line}", name=name, email=email))
    return found


def _question_columns(candidates: dict[int, str], rubric: Rubric | None) -> dict[int, tuple[str, str]]:
    questions = list(rubric.questions) if rubric is not None else []
    columns: dict[int, tuple[str, str]] = {}
    prompts: dict[int, str] = {}
    for index, header in candidates.items():
        response = _RESPONSE_RE.match(header)
        numbered_header = _NUMBERED_RE.match(header)
        canvas = _CANVAS_RE.match(header)
        if response:
            number = int(response.group(1))
            question = questions[number - 1] if 0 < number <= len(questions) else None
            columns[index] = ((question.id if question else f"q{number}"), f"Response {number}: question {number} in order")
        elif canvas and not numbered_header:
            prompts[index] = canvas.group(1)
        else:
            prompts[index] = header
    if not questions:   # no rubric: each column is a question named by its header
        return columns | {i: (h, "its header") for i, h in prompts.items()}
    taken = {qid for qid, _ in columns.values()}
    matched = match_prompts(prompts, [q for q in questions if q.id not in taken])
    columns |= matched
    for index, header in prompts.items():   # "3. ..." headers left: by their number
        match = _NUMBERED_RE.match(header)
        if index not in columns and match:
            question = numbered(int(match.group(1)), questions)
            if question is not None and question.id not in {qid for qid, _ in columns.values()}:
                columns[index] = (question.id, f"numbered {match.group(1)}")
    return dict(sorted(columns.items()))


def _name(cells: list[str], identity: dict[str, int]) -> str:
    if "first" in identity or "last" in identity:
        return " ".join(cells[identity[r]].strip() for r in ("first", "last") if r in identity and cells[identity[r]].strip())
    return cells[identity["name"]].strip() if "name" in identity else ""


def _short(header: str) -> str:
    header = " ".join(header.split())
    return header if len(header) <= 60 else header[:57] + "..."
