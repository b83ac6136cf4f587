"""grades.csv and grades.json: the complete record of a run, one answer per row or line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..features.columns import columns_of
from ..grading import GradedAnswer
from ..rubric import Rubric
from .files import atomic_writer, format_score, spreadsheet_safe

CSV_COLUMNS = ("student_id", "question_id", "score", "max_score", "confidence", "needs_review", "flags", "feedback", "source", "scored_by")


def write_grades_csv(results: list[GradedAnswer], path: Path) -> None:
    """One row per answer. Text cells are spreadsheet-safe (a student's `=HYPERLINK(...)` never
    runs as a formula); scores, confidence and flag codes are written as they are."""
    safe = spreadsheet_safe
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            writer.writerow([
                safe(r.student_id), safe(r.question_id), format_score(r.score), format_score(r.max_score),
                f"{r.confidence:.2f}", "true" if r.needs_review else "false",
                ";".join(r.flag_codes), safe(" ".join(r.feedback)), safe(r.source), r.scored_by,
            ])


def result_to_dict(r: GradedAnswer) -> dict:
    return {
        "student_id": r.student_id,
        "question_id": r.question_id,
        "score": r.score,
        "scored_by": r.scored_by,
        "max_score": r.max_score,
        "raw_score": r.raw_score,
        "confidence": r.confidence,
        "needs_review": r.needs_review,
        "flags": [flag.to_dict() for flag in r.flags],
        "feedback": r.feedback,
        "concepts": [
            {"label": c.label, "weight": c.weight, "status": c.status, "evidence": c.evidence,
             "span": list(c.span) if c.span else None}
            for c in r.concepts
        ],
        "similarity": {k: r.features[k] for k in columns_of("similarity") if k in r.features},
        "features": r.features,
        "answer": r.answer,
        "source": r.source,
    }


def write_grades_json(results: list[GradedAnswer], rubric: Rubric, path: Path) -> None:
    document = {
        "rubric": {"title": rubric.title, "source": rubric.source, "tuned": bool(rubric.model),
                   "scale": {"max": rubric.scale.max, "step": rubric.scale.step}},
    }
    # One answer per line: diffable and greppable, and written by json's fast C encoder
    # (indent= would switch to the pure-Python one, several times slower on big classes).
    # Each answer's dict is encoded as soon as it is made: holding 100,000 of them at once
    # made the garbage collector walk them over and over, which took longer than encoding.
    encode = json.JSONEncoder(ensure_ascii=False).encode   # what json.dumps(..., ensure_ascii=False) uses
    with atomic_writer(path) as handle:
        handle.write(encode(document)[:-1] + ', "answers": [\n')
        for index, result in enumerate(results):
            handle.write(("" if index == 0 else ",\n") + encode(result_to_dict(result)))
        handle.write("\n]}\n")
