"""Files that hold one student's answers each, and which files at the top of a folder are answers.

A folder whose students have sub-folders (<student>/<question>.<ext>) is read by answers.py; its
top-level files (a README, the rubric) are not answers. A folder without them is a class of
one-file-per-student documents (alice.docx, omar.pdf, lena.txt) or exports: those are read.
"""

from __future__ import annotations

from pathlib import Path

from ..rubric import Rubric
from . import Found
from .documents import DOCUMENT_SUFFIXES, Unreadable, document_text
from .split import WHOLE_FILE, split_answers

TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".xlsx", ".xlsm", ".ods")
OUTPUT_MANIFEST = ".grader-output"
"""The file that marks a grader --out folder (writers/outputs.py writes it): never read as answers."""


def is_grader_output(folder: Path) -> bool:
    return (folder / OUTPUT_MANIFEST).is_file()


def top_level_files(folder: Path) -> list[Path]:
    """The answer files at the top of `folder`, when it has no <student>/<question> sub-folders."""
    if any(_holds_answers(child) for child in folder.iterdir()
           if child.is_dir() and not child.name.startswith(".") and not is_grader_output(child)):
        return []
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and not path.name.startswith(".")
                  and path.suffix.lower() in (*DOCUMENT_SUFFIXES, *TABLE_SUFFIXES))


def _holds_answers(folder: Path) -> bool:
    return any(f.is_file() and f.suffix.lower() in DOCUMENT_SUFFIXES and not f.name.startswith(".")
               for f in folder.iterdir())


def read_student_file(path: Path, rubric: Rubric | None) -> list[Found]:
    """One student's answers from one document: the student id is the file name, the answers are
    split by question (split.py); a part whose split is not sure is kept, flagged `unsplit`."""
    student_id = path.stem
    try:
        text = document_text(path)
    except Unreadable as exc:
        return [Found(student_id, WHOLE_FILE, "", str(path), "unreadable", f"the file {exc}")]
    return [Found(student_id, part.question_id, part.text, str(path),
                  "unsplit" if part.problem else None, part.problem or "")
            for part in split_answers(text, rubric, student_id)]


def why_skipped(folder: Path, path: Path) -> str:
    """Why a file of an answer folder was not read, in a few words."""
    relative = path.relative_to(folder)
    if any(part.startswith(".") for part in relative.parts):
        return "hidden"
    if any(is_grader_output(folder.joinpath(*relative.parts[:i])) for i in range(1, len(relative.parts))):
        return "a grader output"
    if path.suffix.lower() not in (*DOCUMENT_SUFFIXES, *TABLE_SUFFIXES):
        return f"not an answer document ({path.suffix or 'no extension'})"
    if len(relative.parts) == 1:
        return "beside the student folders, not in one"
    if len(relative.parts) > 2:
        return "too deep: not <student>/<question>"
    return "a table inside a student folder"


READ_LAYOUTS = ("<student_id>/<question_id> documents (.txt .md .docx .odt .rtf .pdf .html), one document per "
                "student split by question, CSV files or .xlsx/.ods sheets with student, question and answer "
                "columns, and Google Forms, Microsoft Forms, Moodle and Canvas exports")
"""What grader reads, for the messages that say it found nothing (README, "Inputs")."""
