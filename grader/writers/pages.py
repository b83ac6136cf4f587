"""feedback/<student>.md: what each student gets back (prompt, score and feedback per question).

Student ids and answers are untrusted text: the pages escape Markdown and HTML syntax."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from pathlib import Path

from ..rubric import Rubric
from .files import UniqueNames
from .students import StudentGrades, total_max

FEEDBACK_DIR = "feedback"

Progress = Callable[..., AbstractContextManager[Iterable]]
"""progress(items, label=...) -> context manager yielding the items (e.g. click.progressbar)."""


# Markdown syntax that can start anywhere in a line (emphasis, code, links, raw HTML, tables,
# entities), and what only counts at the start of a line (headings, lists, quotes).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_MD_LINE_START = re.compile(r"^(\d*)([-+=#>.)])")


@lru_cache(maxsize=65_536)   # prompts, the title and templated feedback recur on every page
def markdown_text(text: str) -> str:
    """Untrusted text as one line of literal Markdown: no markup, links, headings, lists or raw HTML."""
    line = " ".join(text.split())
    line = _MD_INLINE.sub(r"\\\1", line)
    return _MD_LINE_START.sub(r"\1\\\2", line)


def feedback_page(student: StudentGrades, rubric: Rubric) -> str:
    """The Markdown page handed back to one student."""
    lines = [f"# Feedback for {markdown_text(student.heading)}", "", f"*{markdown_text(rubric.title)}*", ""]
    for question in rubric.questions:
        answer = student.for_question(question.id)
        lines += [f"## {markdown_text(question.id)}. {markdown_text(question.prompt)}", ""]
        if answer is None:
            lines += ["No answer was received for this question.", ""]
            continue
        if answer.score is None:
            lines.append(f"**Score: not graded yet** (out of {answer.max_score:g})")
        else:
            lines.append(f"**Score: {answer.score:g} / {answer.max_score:g}**")
        lines.append("")
        lines += [f"- {markdown_text(sentence)}" for sentence in answer.feedback]
        if answer.needs_review and answer.score is not None:
            lines.append("- Your teacher will look at this answer again before the grade is final.")
        lines.append("")
    total = student.total(rubric)
    if total is not None:
        lines += [f"**Total: {total:g} / {total_max(rubric):g}**", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_feedback_pages(students: list[StudentGrades], rubric: Rubric, folder: Path,
                         progress: Progress | None = None) -> dict[str, Path]:
    """Write <safe name>.md per student into `folder`, a new folder (the run's staging copy of
    feedback/, which switches into place with the other outputs: writers/outputs.py); returns
    student id -> page path. Ids that map to the same safe name get distinct names (UniqueNames),
    so none overwrites another."""
    unique = UniqueNames()
    pages: dict[str, Path] = {}
    folder.mkdir(parents=True)
    with _tracked(progress, students, "Writing feedback pages") as tracked:
        for student in tracked:
            path = folder / f"{unique(student.student_id)}.md"
            _write_new_file(path, feedback_page(student, rubric).encode("utf-8"))
            pages[student.student_id] = path
    return pages


def _write_new_file(path: Path, data: bytes) -> None:
    """Path.write_bytes with fewer system calls (no buffering layers, no fstat or seek): a class of
    30,000 students writes 30,000 pages. Same permissions (0o666 less the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:   # os.write may write less than asked
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _tracked(progress: Progress | None, items: list, label: str) -> AbstractContextManager[Iterable]:
    return progress(items, label=label) if progress is not None else nullcontext(items)
