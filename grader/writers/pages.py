"""feedback/<student>.md (or .txt, .html: --feedback-format): what each student gets back (prompt,
score and feedback per question).

Student ids and answers are untrusted text: the Markdown pages escape Markdown and HTML syntax,
the HTML pages escape every piece of text, the text pages are one line per sentence with no
control characters."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

from ..rubric import Rubric
from ..text import terminal_safe
from .files import UniqueNames
from .students import StudentGrades, total_max

FEEDBACK_DIR = "feedback"
FEEDBACK_FORMATS = ("md", "txt", "html")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

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


@dataclass(frozen=True)
class PageSection:
    heading: str                      # "q1. <prompt>"
    score: tuple[str, str] | None     # (the bold part, the rest), None when no answer was received
    lines: list[str]                  # sentences of feedback, one bullet each


def page_sections(student: StudentGrades, rubric: Rubric) -> list[PageSection]:
    """What one student's page says, per rubric question, before it is laid out in a format."""
    sections = []
    for question in rubric.questions:
        answer = student.for_question(question.id)
        heading = f"{question.id}. {question.prompt}"
        if answer is None:
            sections.append(PageSection(heading, None, ["No answer was received for this question."]))
            continue
        if answer.score is None:
            score = ("Score: not graded yet", f" (out of {answer.max_score:g})")
        else:
            score = (f"Score: {answer.score:g} / {answer.max_score:g}", "")
        lines = list(answer.feedback)
        if answer.needs_review and answer.score is not None:
            lines.append("Your teacher will look at this answer again before the grade is final.")
        sections.append(PageSection(heading, score, lines))
    return sections


def feedback_page(student: StudentGrades, rubric: Rubric, page_format: str = "md") -> str:
    """The page handed back to one student: Markdown (`md`), plain text to paste into an LMS
    comment box (`txt`) or an HTML page with every piece of text escaped (`html`)."""
    if page_format not in FEEDBACK_FORMATS:
        raise ValueError(f"feedback format {page_format!r}: choose one of {', '.join(FEEDBACK_FORMATS)}")
    total = student.total(rubric)
    total_line = f"Total: {total:g} / {total_max(rubric):g}" if total is not None else None
    sections = page_sections(student, rubric)
    if page_format == "html":
        return _html_page(student, rubric, sections, total_line)
    if page_format == "txt":
        lines = [f"Feedback for {plain_text(terminal_safe(student.heading))}", plain_text(rubric.title), ""]
        for section in sections:
            lines += [plain_text(section.heading)]
            if section.score:
                lines.append("".join(section.score))
            lines += [f"- {plain_text(line)}" if section.score else plain_text(line) for line in section.lines]
            lines.append("")
        lines += [total_line, ""] if total_line else []
        return "\n".join(lines).rstrip("\n") + "\n"
    lines = [f"# Feedback for {markdown_text(terminal_safe(student.heading))}", "", f"*{markdown_text(rubric.title)}*", ""]
    for section in sections:
        lines += [f"## {markdown_text(section.heading)}", ""]
        if section.score is None:
            lines += [markdown_text(line) for line in section.lines] + [""]
            continue
        lines += [f"**{section.score[0]}**{section.score[1]}", ""]
        lines += [f"- {markdown_text(line)}" for line in section.lines]
        lines.append("")
    if total_line:
        lines += [f"**{total_line}**", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def plain_text(text: str) -> str:
    """Untrusted text as one line of plain text (line breaks, tabs and other controls become spaces)."""
    return " ".join(_CONTROLS.sub(" ", text).split())


_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>Feedback for {student}</title>
<style>body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #1f2933; }}
h2 {{ font-size: 17px; margin: 1.4em 0 0.3em; }} .subtitle {{ color: #5f6b76; }}</style>
</head>
<body>
<h1>Feedback for {student}</h1>
<p class="subtitle">{title}</p>
{body}</body>
</html>
"""


def _html_page(student: StudentGrades, rubric: Rubric, sections: list[PageSection], total_line: str | None) -> str:
    body = []
    for section in sections:
        body.append(f"<h2>{escape(section.heading)}</h2>")
        if section.score is None:
            body += [f"<p>{escape(line)}</p>" for line in section.lines]
            continue
        body.append(f"<p><strong>{escape(section.score[0])}</strong>{escape(section.score[1])}</p>")
        body.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in section.lines) + "</ul>")
    if total_line:
        body.append(f"<p><strong>{escape(total_line)}</strong></p>")
    return _HTML_PAGE.format(student=escape(terminal_safe(student.heading)), title=escape(rubric.title),
                             body="".join(line + "\n" for line in body))


def write_feedback_pages(students: list[StudentGrades], rubric: Rubric, folder: Path,
                         progress: Progress | None = None, page_format: str = "md") -> dict[str, Path]:
    """Write <safe name>.<page_format> per student into `folder`, a new folder (the run's staging copy of
    feedback/, which switches into place with the other outputs: writers/outputs.py); returns
    student id -> page path. Ids that map to the same safe name get distinct names (UniqueNames),
    so none overwrites another."""
    unique = UniqueNames()
    pages: dict[str, Path] = {}
    folder.mkdir(parents=True)
    with _tracked(progress, students, "Writing feedback pages") as tracked:
        for student in tracked:
            path = folder / f"{unique(student.student_id)}.{page_format}"
            _write_new_file(path, feedback_page(student, rubric, page_format).encode("utf-8"))
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
