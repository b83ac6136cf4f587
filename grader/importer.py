"""`grader rubric import`: a rubric from a spreadsheet of questions and model answers.

The CSV needs the columns question_id, prompt and model_answer; max_score, concepts and
model_answers are optional (concepts: phrases separated by ';', each becoming a concept of weight 1
with a feedback line; model_answers: every acceptable answer, separated by ` || `, each scored as
a model answer: an answer is graded against the one it matches best); other columns are ignored.
A question_id on several rows gets one model answer per row.

Concepts are never invented: a question without concepts is graded on its model answers, and the
import only *suggests* key terms (as comments in the TOML and in `suggestions`) for the teacher to
turn into concepts.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .answers import InputError, csv_rows
from .writers.files import OutputError, atomic_writer
from .rubric import Question, Rubric, RubricError, dump_rubric, rubric_from_dict, rubric_to_dict, step_divides
from .text import normalize, rarest_words, tokenize

REQUIRED = ("question_id", "prompt", "model_answer")
OPTIONAL = ("max_score", "concepts", "model_answers")
ALTERNATIVES = " || "   # between acceptable answers in the model_answers column
SUGGESTED_TERMS = 5


@dataclass
class ImportedRubric:
    rubric: Rubric
    suggestions: dict[str, list[str]] = field(default_factory=dict)   # question id -> key terms

    def toml(self) -> str:
        """The rubric as TOML, with the suggested key terms as comments above each question."""
        return rubric_toml(self.rubric, self.suggestions)


def import_questions(path: str | Path, max_score: float = 5.0, step: float = 0.5, title: str | None = None) -> ImportedRubric:
    """Read a questions CSV and build a validated rubric (raises InputError / RubricError)."""
    path = Path(path)
    rows = _read_rows(path)
    order: list[str] = []
    data: dict[str, dict] = {}
    for line, row in rows:
        qid, prompt, answer = row["question_id"], row["prompt"], row["model_answer"]
        for column, value in (("question_id", qid), ("prompt", prompt), ("model_answer", answer)):
            if not value:
                raise InputError(f"{path}: line {line}: column {column} is empty; fill it in or delete the row")
        q_max = _max_score(row.get("max_score", ""), path, line, step)
        concepts = [normalize(c) for c in row.get("concepts", "").split(";") if normalize(c)]
        if qid not in data:
            order.append(qid)
            data[qid] = {"id": qid, "prompt": prompt, "model_answers": [], "concepts": [], "line": line}
            if q_max is not None:
                data[qid]["max_score"] = q_max
        q = data[qid]
        if prompt != q["prompt"]:
            raise InputError(f"{path}: line {line}: question {qid!r} has a different prompt than on line {q['line']}; "
                             "give each question one prompt (repeat rows only to add model answers)")
        if q_max is not None and q.get("max_score", q_max) != q_max:
            raise InputError(f"{path}: line {line}: question {qid!r} has a different max_score than on line {q['line']}; use one value")
        alternatives = [normalize(a) for a in row.get("model_answers", "").split(ALTERNATIVES.strip())]
        for text in (answer, *alternatives):
            if text and text not in q["model_answers"]:
                q["model_answers"].append(text)
        known = {c["label"].lower() for c in q["concepts"]}
        for phrase in concepts:
            if phrase.lower() not in known:
                known.add(phrase.lower())
                q["concepts"].append({"label": phrase, "weight": 1.0, "aliases": [],
                                      "missing": f"Mention {phrase}."})
    if not order:
        raise InputError(f"{path}: no questions; add one row per question under the header {', '.join(REQUIRED)}")
    questions = []
    for qid in order:
        q = {k: v for k, v in data[qid].items() if k != "line"}
        if not q["concepts"]:
            del q["concepts"]
        questions.append(q)
    raw = {"title": title or path.stem, "scale": {"max": max_score, "step": step}, "questions": questions}
    rubric = rubric_from_dict(raw, str(path))
    suggestions = {q.id: suggest_key_terms(q, rubric) for q in rubric.questions if not q.concepts}
    return ImportedRubric(rubric, {k: v for k, v in suggestions.items() if v})


def rubric_toml(rubric: Rubric, suggestions: dict[str, list[str]] | None = None, header: str = "") -> str:
    """TOML text for the rubric, validated by parsing it back; suggested key terms as comments."""
    text = dump_rubric(rubric)
    lines = []
    index = 0
    ids = [q.id for q in rubric.questions]
    for line in text.splitlines():
        if line == "[[questions]]" and index < len(ids):
            terms = (suggestions or {}).get(ids[index])
            if terms:
                lines.append(f"# Suggested key terms for {ids[index]} (not used until you add them as "
                             f"[[questions.concepts]]): {', '.join(terms)}")
            index += 1
        lines.append(line)
    text = (header + "\n" if header else "") + "\n".join(lines) + "\n"
    check_round_trip(rubric, text)
    return text


def import_rubric_file(questions: str | Path, out: str | Path, max_score: float = 5.0, step: float = 0.5,
                       title: str | None = None) -> ImportedRubric:
    """`grader rubric import`: read the questions CSV, write the rubric TOML to `out`."""
    if Path(questions).resolve() == Path(out).resolve():
        raise InputError(f"{out}: --out is the questions CSV itself; choose another file such as rubric.toml")
    imported = import_questions(questions, max_score=max_score, step=step, title=title)
    write_rubric_text(out, imported.toml())
    return imported


def write_rubric_text(path: str | Path, text: str) -> Path:
    """Write rubric TOML atomically (a half-written rubric never replaces a good one)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name such as rubric.toml with --out")
    try:
        with atomic_writer(path) as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror}); choose a writable --out") from None
    return path


def check_round_trip(rubric: Rubric, text: str) -> None:
    """Raise RubricError unless `text` loads back to exactly the same rubric."""
    try:
        again = rubric_from_dict(tomllib.loads(text), rubric.source)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - tomli_w writes valid TOML
        raise RubricError(rubric.source, "TOML output", f"does not parse back ({exc}); report this as a bug") from None
    if rubric_to_dict(again) != rubric_to_dict(rubric):
        raise RubricError(rubric.source, "TOML output", "does not load back to the same rubric; report this as a bug")


def suggest_key_terms(question: Question, rubric: Rubric, limit: int = SUGGESTED_TERMS) -> list[str]:
    """The model answers' most specific content words that are not the question's own words:
    rarest across the rubric's questions and model answers first (as written, lowercase)."""
    prompt = {t.stem for t in tokenize(question.prompt) if t.is_content}
    document_frequency: Counter[str] = Counter()
    for q in rubric.questions:
        document_frequency.update({t.stem for text in (q.prompt, *q.model_answers) for t in tokenize(text) if t.is_content})
    return [word for _, word in rarest_words(question.model_answers, prompt, document_frequency.__getitem__, limit)]


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    return [(line, {c: normalize(v) for c, v in row.items()})
            for line, row in csv_rows(path, REQUIRED, OPTIONAL, what="questions")]


def _max_score(value: str, path: Path, line: int, step: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{path}: line {line}: column max_score is {value!r}; give a positive number such as 5 or leave it empty")
    if not step_divides(number, step):
        raise InputError(f"{path}: line {line}: column max_score {value} is not a multiple of the step {step:g}; "
                         "use a multiple of the step or change --step")
    return number

