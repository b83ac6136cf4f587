"""Reading student answers: a CSV export or a folder of <student_id>/<question_id>.txt files.

Every answer found comes back exactly once. An answer that cannot be graded (unreadable bytes,
blank, too long, a second copy of the same student and question) comes back with `problem` set,
so the writers can report it with an empty score instead of dropping it. Inputs are only read.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from .inputs import Found, InputError, ReadError
from .inputs.documents import DOCUMENT_SUFFIXES, Unreadable, document_text, strip_headers
from .inputs.files import is_grader_output, read_student_file, top_level_files
from .inputs.dialect import csv_text, records
from .inputs.tables import is_plain_csv, looks_like_table, read_table
from .rubric import Rubric
from .text import UnreadableText, binary_reason, decode_bytes, from_spreadsheet_safe, normalize, normalize_id

MAX_ANSWER_CHARS = 20_000
"""Answers longer than this (about 3,500 words) are not graded: they are flagged `truncated` for a human."""

ANSWER_SUFFIXES = DOCUMENT_SUFFIXES   # in the folder layout: .txt .md .docx .odt .rtf .pdf .html
REQUIRED_COLUMNS = ("student_id", "question_id", "answer")


@dataclass(frozen=True)
class Answer:
    student_id: str
    question_id: str
    text: str
    source: str
    problem: str | None = None  # code: unreadable, empty, truncated, duplicate, unsplit
    detail: str = ""            # why, in words a teacher understands
    name: str = ""              # the student's name and e-mail where the input gives them (exports)
    email: str = ""


def read_answers(paths: Iterable[str | Path], rubric: Rubric | None = None, columns: str | None = None,
                 say: Callable[[str], None] | None = None) -> list[Answer]:
    """Read every input and mark duplicates; order is input order. A folder: <student>/<question>
    documents, and documents or exports at its top (one file per student); a file: a document (one
    file per student, split by question), a CSV of any dialect or a spreadsheet, long (student,
    question, answer; `columns` maps other names, "student=Name,question=Item,answer=Text") or wide
    (a form or LMS export: a column per question, matched to the `rubric`'s prompts). `say` hears
    how the columns of an export were matched."""
    answers: list[Answer] = []
    for path in paths:
        path = Path(path)
        try:
            if path.is_dir():
                if is_grader_output(path):
                    raise InputError(f"{path}: is the output folder of a grader run (it holds .grader-output), "
                                     "not answers; give the folder of the students' answers")
                answers.extend(_with_prompts_stripped(read_folder(path), rubric))
                root = path.resolve()
                for file in top_level_files(path):
                    if _inside(file, root):
                        answers.extend(read_file(file, rubric, columns, say))
                    else:   # a student's file that is a link out of the folder: not followed
                        answers.append(Answer(file.stem, "", "", str(file), "unreadable",
                                              "the file is a link to a file outside the input folder; not followed"))
            elif path.is_file():
                answers.extend(read_file(path, rubric, columns, say))
            else:
                raise InputError(f"{path}: no such file or folder; give a CSV export, a spreadsheet, documents "
                                 "or a folder of <student_id>/<question_id>.txt files")
        except ReadError as exc:
            raise InputError(str(exc)) from None
    return mark_duplicates(answers)


def read_file(path: Path, rubric: Rubric | None = None, columns: str | None = None,
              say: Callable[[str], None] | None = None) -> list[Answer]:
    """The answers in one file: a document holding one student's answers, or a table."""
    if path.suffix.lower() in DOCUMENT_SUFFIXES and not looks_like_table(path):
        return [_found_answer(found) for found in read_student_file(path, rubric)]
    if columns is None and path.suffix.lower() != ".txt" and is_plain_csv(path, REQUIRED_COLUMNS):
        return read_csv(path)   # the standard layout: the fast path
    return [_found_answer(found) for found in read_table(path, rubric, columns, say)]


def _document_answer(student_id: str, question_id: str, file: Path) -> Answer:
    """The answer in <student_id>/<question_id>.<ext>, headers stripped, or flagged unreadable."""
    try:
        text = strip_headers(document_text(file), student_id, titles=(question_id,))
    except Unreadable as exc:
        return Answer(normalize_id(student_id), normalize_id(question_id), "", str(file), "unreadable", f"the file {exc}")
    return _make_answer(student_id, question_id, text, str(file))


def _with_prompts_stripped(answers: list[Answer], rubric: Rubric | None) -> list[Answer]:
    """A document's title that repeats its question's prompt is not part of the answer."""
    if rubric is None:
        return answers
    prompts = {q.id: q.prompt for q in rubric.questions}
    stripped = []
    for answer in answers:
        if answer.problem is None and answer.question_id in prompts:
            text = strip_headers(answer.text, titles=(prompts[answer.question_id],))
            if text != answer.text and text:
                answer = replace(answer, text=text)
        stripped.append(answer)
    return stripped


def _found_answer(found: Found) -> Answer:
    """A reader's record through the same checks as every answer (blank, binary, too long)."""
    if found.problem is not None and found.problem != "unsplit":
        answer = Answer(normalize_id(found.student_id), normalize_id(found.question_id), normalize(found.text),
                        found.source, found.problem, found.detail)
    else:
        answer = _make_answer(found.student_id, found.question_id, found.text, found.source)
        if found.problem is not None and answer.problem is None:
            answer = replace(answer, problem=found.problem, detail=found.detail)
    return replace(answer, name=normalize(found.name), email=normalize(found.email))


def read_csv(path: str | Path) -> list[Answer]:
    """Answers from a CSV with columns student_id, question_id, answer (other columns ignored).
    A cell that grader's own CSV writers protected against formulas (a leading apostrophe) reads
    back as it was, so grades.csv and a marks file from the report can be read as they are."""
    name = str(Path(path))   # once, not once per row
    unquote = from_spreadsheet_safe
    return [_make_answer(unquote(row["student_id"]), unquote(row["question_id"]), unquote(row["answer"]),
                         f"{name}:{line}")
            for line, row in csv_rows(path, REQUIRED_COLUMNS, what="answers")]


def csv_rows(path: str | Path, required: tuple[str, ...], optional: tuple[str, ...] = (),
             what: str = "answers") -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: cell}) for each non-blank row of a CSV file, with the `required` and
    present `optional` columns (header matched without regard to case; other columns ignored).

    Raises InputError naming the file, the line and the fix for a missing file, binary data, a
    missing column or broken quoting. Cells are returned as written; callers normalize them.
    """
    path = Path(path)
    text = csv_text(path, what, f"columns {', '.join(required)}")
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file; expected a header with columns {', '.join(required)}") from None
    except csv.Error as exc:
        raise InputError(f"{path}: line 1: {exc}; save the file as standard CSV") from None
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lstrip("\ufeff").lower()
        if key in (*required, *optional) and key in columns:
            raise InputError(f"{path}: line 1: column {key!r} appears twice (columns {columns[key] + 1} and {index + 1}); "
                             "rename or remove one of them")
        columns.setdefault(key, index)
    missing = [c for c in required if c not in columns]
    if missing:
        found = ", ".join(h.strip() for h in header) or "nothing"
        also = f"; optional: {', '.join(optional)}" if optional else ""
        raise InputError(
            f"{path}: line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {found[:300]}); rename the header to include {', '.join(required)}{also}"
        )
    wanted = {c: columns[c] for c in (*required, *optional) if c in columns}
    width = max(wanted.values()) + 1
    rows = []
    try:
        for start, row in records(reader, path, len(header)):
            cells = row + [""] * (width - len(row))
            rows.append((start, {c: cells[i] for c, i in wanted.items()}))
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: {exc}; save the file as standard CSV") from None
    return rows


def read_folder(folder: str | Path) -> list[Answer]:
    """Answers from <folder>/<student_id>/<question_id>.txt|.md; other files are skipped (and
    listed by skipped_files). A link that leads out of the folder is not followed: it comes back
    as an `unreadable` answer, as does a student folder or file that cannot be read."""
    folder = Path(folder)
    root = folder.resolve()
    answers = []
    for student_dir in _entries(folder):
        if student_dir.name.startswith(".") or not student_dir.is_dir() or is_grader_output(student_dir):
            continue   # (an --out inside the input folder: skipped_files lists what it holds)
        if not _inside(student_dir, root):
            answers.append(Answer(student_dir.name, "", "", str(student_dir), "unreadable",
                                  "the student folder is a link to a place outside the input folder; not followed"))
            continue
        try:
            files = _entries(student_dir)
        except OSError as exc:
            answers.append(Answer(student_dir.name, "", "", str(student_dir), "unreadable",
                                  f"the student folder could not be read ({exc.strerror}); check its permissions"))
            continue
        for file in files:
            if file.suffix.lower() not in ANSWER_SUFFIXES or file.name.startswith(".") or not file.is_file():
                continue
            source = str(file)
            if not _inside(file, root):
                answers.append(Answer(student_dir.name, file.stem, "", source, "unreadable",
                                      "the file is a link to a file outside the input folder; not followed"))
                continue
            answers.append(_document_answer(student_dir.name, file.stem, file))
    return answers


def _entries(folder: Path) -> list[Path]:
    return sorted(Path(entry.path) for entry in os.scandir(folder))


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, links followed, stays inside `root` (a link within the folder is fine)."""
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def skipped_files(folder: Path) -> list[Path]:
    """Files in an answer folder that are not read: not laid out as <student_id>/<question_id>.txt|.md,
    hidden, or in a hidden folder (such as .bob/)."""
    skipped = []
    # os.walk, not rglob: it never follows a link to a folder (a link to / would walk the disk).
    found = sorted(Path(top, name) for top, _, names in os.walk(folder) for name in names)
    read = set(top_level_files(folder))
    for path in (p for p in found if p not in read):
        relative = path.relative_to(folder)
        if (len(relative.parts) != 2 or path.suffix.lower() not in ANSWER_SUFFIXES
                or any(part.startswith(".") for part in relative.parts)):
            skipped.append(path)
    return skipped


def _make_answer(student_id: str, question_id: str, text: str, source: str) -> Answer:
    student_id, question_id = normalize_id(student_id), normalize_id(question_id)
    binary = binary_reason(text)
    if binary:
        return Answer(student_id, question_id, "", source, "unreadable", f"the answer {binary}")
    text = normalize(text)
    if not student_id:
        return Answer("", question_id, text, source, "unreadable", "has no student id")
    if not text:
        return Answer(student_id, question_id, "", source, "empty", "the answer is blank")
    if len(text) > MAX_ANSWER_CHARS:
        return Answer(student_id, question_id, text[:MAX_ANSWER_CHARS], source, "truncated",
                      f"the answer is {len(text):,} characters, over the {MAX_ANSWER_CHARS:,} limit; grade it by hand")
    return Answer(student_id, question_id, text, source)


def mark_duplicates(answers: list[Answer]) -> list[Answer]:
    """A second answer by the same student to the same question is kept but flagged `duplicate`."""
    first: dict[tuple[str, str], str] = {}
    marked = []
    for answer in answers:
        key = (answer.student_id, answer.question_id)
        if key in first and answer.problem is None:
            answer = replace(answer, problem="duplicate",
                             detail=f"a second answer from this student to {answer.question_id} (the first is {first[key]})")
        first.setdefault(key, answer.source)
        marked.append(answer)
    return marked
