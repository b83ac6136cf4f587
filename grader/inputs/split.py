"""One file per student holding every answer (alice.docx, omar.pdf, lena.txt): the text split by
question and matched to the rubric's questions.

A part starts at a heading line: numbered ("1.", "2)", "Q3:", "Question 2:"), the question's id
("q2:", "stakhanov_def"), or the question's prompt copied as a heading. Numbers are the rubric's
question numbers (its ids' trailing numbers where they have them, else its order). When the parts
cannot be told apart with confidence (no headings, a number the rubric lacks, a question twice,
bare numbers out of order, a long text before the first heading) every part is still returned,
with the reason: answers.py keeps them flagged `unsplit` for review, never graded on a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..rubric import Rubric
from .documents import strip_headers
from .questions import numbered, same_words

WHOLE_FILE = "(whole file)"
"""The question id of a file that could not be split at all."""

_EXPLICIT_RE = re.compile(r"^\s*(?:question|q)\s*\.?\s*(\d{1,3})\b\s*[.:)\-–]?\s*(.*)$", re.IGNORECASE)
_BARE_RE = re.compile(r"^\s*\(?(\d{1,2})\s*[.):]\s*(?:\s(.*))?$")
_PREAMBLE_WORDS = 12   # more than this before the first heading is an answer, not a title


@dataclass(frozen=True)
class Part:
    question_id: str
    text: str
    problem: str | None = None   # why the split is not trusted, in words; None when it is


@dataclass(frozen=True)
class _Heading:
    line: int
    question_id: str | None   # None: a number the rubric does not have
    label: str
    rest: str                 # text after the heading on its line
    explicit: bool            # "Q3", "Question 3", an id or a prompt; False for a bare "3."


def split_answers(text: str, rubric: Rubric | None, student_id: str = "") -> list[Part]:
    """The answers in one student's file, each with the question it answers."""
    text = strip_headers(text, student_id)
    questions = list(rubric.questions) if rubric is not None else []
    lines = text.split("\n")
    headings = _merged([h for i, line in enumerate(lines) if (h := _heading(i, line, questions))], lines)
    if any(h.explicit for h in headings):   # "Q1" headings given: a bare "1." is a list inside an answer
        headings = [h for h in headings if h.explicit]
    if not headings:
        if len(questions) == 1:
            return [Part(questions[0].id, text)]
        return [Part(WHOLE_FILE, text, "no question headings (such as \"1.\", \"Q2:\" or a question's prompt) "
                                       "were found to split the file by question; grade it by hand or split it")]
    parts = []
    for number, heading in enumerate(headings):
        end = headings[number + 1].line if number + 1 < len(headings) else len(lines)
        body = "\n".join([heading.rest, *lines[heading.line + 1:end]]).strip()
        question = next((q for q in questions if q.id == heading.question_id), None)
        if question is not None:
            body = strip_headers(body, titles=(question.id, question.prompt))
        parts.append([heading, body])
    problem = _doubt(lines, headings, questions)
    return [Part(h.question_id or h.label, body, problem) for h, body in parts]


def _merged(headings: list[_Heading], lines: list[str]) -> list[_Heading]:
    """"Question 3" with the prompt copied on the next line is one heading, not two."""
    merged: list[_Heading] = []
    for heading in headings:
        previous = merged[-1] if merged else None
        if (previous is not None and previous.question_id == heading.question_id and not previous.rest
                and not "".join(lines[previous.line + 1:heading.line]).strip()):
            merged[-1] = _Heading(previous.line, previous.question_id, previous.label, heading.rest,
                                  previous.explicit or heading.explicit)
            # the copied prompt's own line is then part of the heading: skip it in the body
            lines[heading.line] = ""
            continue
        merged.append(heading)
    return merged


def _doubt(lines: list[str], headings: list[_Heading], questions) -> str | None:
    """Why the headings do not split the file with confidence, or None."""
    unknown = [h.label for h in headings if h.question_id is None]
    if unknown:
        return f"heading {unknown[0]!r} matches no question of the rubric ({len(questions)} questions); check the split"
    ids = [h.question_id for h in headings]
    twice = next((q for q in ids if ids.count(q) > 1), None)
    if twice:
        return f"question {twice} is headed twice in the file; check which part answers it"
    order = {q.id: i for i, q in enumerate(questions)}
    bare = [order[h.question_id] for h in headings if not h.explicit and h.question_id in order]
    if bare != sorted(bare):
        return "the numbered parts are out of order (a numbered list inside an answer?); check the split"
    preamble = " ".join(lines[:headings[0].line]).split()
    if len(preamble) > _PREAMBLE_WORDS:
        return f"{len(preamble)} words come before the first question heading; check the split"
    return None


def _heading(index: int, line: str, questions) -> _Heading | None:
    stripped = line.strip()
    if not stripped:
        return None
    for question in questions:   # the question's own id: "q2: ...", "stakhanov_def"
        match = re.match(rf"^\s*{re.escape(question.id)}\s*(?:[.:)\-–]\s*(.*))?$", line, re.IGNORECASE)
        if match:
            return _Heading(index, question.id, question.id, _without_prompt(match.group(1) or "", question), True)
    for pattern, explicit in ((_EXPLICIT_RE, True), (_BARE_RE, False)):
        match = pattern.match(line)
        if match:
            question = numbered(int(match.group(1)), questions)
            rest = match.group(2) or ""
            if question is None and not questions:
                return _Heading(index, f"q{match.group(1)}", stripped, rest, explicit)
            return _Heading(index, question.id if question else None, stripped,
                            _without_prompt(rest, question) if question else rest, explicit)
    for question in questions:   # the prompt copied as a heading
        if len(stripped) < 2 * len(question.prompt) + 20 and same_words(stripped, question.prompt):
            return _Heading(index, question.id, stripped, "", True)
    return None


def _without_prompt(rest: str, question) -> str:
    """The heading line's text after the number, without the question's prompt copied there."""
    return "" if rest and same_words(rest, question.prompt) else rest
