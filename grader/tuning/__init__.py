"""Learning from a teacher's marks (`grader tune`) and measuring agreement with them
(`grader evaluate`). This package drives the grading pipeline; the pipeline never imports it.

- graded: the teacher-graded CSV;
- tune: what `grader tune` learns (the model lives in scoring/learned.py);
- evaluate: agreement of the rubric's scores with the marks;
- suggest: words high-scoring answers use that the rubric lacks.

`tune_file` and `evaluate_file` are the commands' library calls: paths in, results out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..answers import Answer, InputError
from ..rubric import load_rubric
from .evaluate import evaluate
from .few import learn_from_marks
from .graded import GradedRow, fractions_of, read_graded
from .suggest import suggest_concepts
from .tune import TuneResult, cross_validated_fractions, featurize, plain_rubric, tune

__all__ = ["GradedRow", "TuneResult", "TuneRun", "cross_validated_fractions", "evaluate", "evaluate_file",
           "featurize", "fractions_of", "plain_rubric", "read_graded", "suggest_concepts", "tune", "tune_file"]


@dataclass
class TuneRun:
    result: TuneResult
    target: Path               # the rubric file written
    graded: int                # graded answers learned from
    left_out: list[Answer]     # without a score, blank or unreadable


def tune_file(rubric_path: str | Path, graded_path: str | Path, out_path: str | Path | None = None,
              in_place: bool = False, force: bool = False, on_start=None) -> TuneRun:
    """`grader tune`: learn from GRADED and write the tuned rubric to out_path (or over the rubric
    with in_place). `on_start(n_graded, n_left_out)` is called once the marks are read."""
    from ..importer import rubric_toml, write_rubric_text

    rubric_path, graded_path = str(rubric_path), str(graded_path)
    if in_place and out_path and not _same_file(out_path, rubric_path):
        raise InputError(f"{out_path}: --in-place writes to --rubric {rubric_path}; give either --out or --in-place")
    if not in_place and not out_path:
        raise InputError(f"{rubric_path}: give --out TUNED.toml for the tuned rubric (or --in-place to overwrite the rubric)")
    if not in_place and _same_file(out_path, rubric_path):
        raise InputError(f"{out_path}: --out would overwrite the input rubric; choose another --out or add --in-place")
    target = Path(rubric_path if in_place else out_path)
    if _same_file(target, graded_path):
        raise InputError(f"{target}: this is the graded CSV; choose another --out")
    rubric = load_rubric(rubric_path)
    rows, left_out = read_graded(graded_path, rubric)
    if on_start is not None:
        on_start(len(rows), len(left_out))
    result = tune(rubric, rows, force=force)
    if result.kept:
        # Too few marks for a general model: what they teach per question, on top of the rubric's scorer.
        result.rubric, adapter = learn_from_marks(rubric, rows)
        result.learned = adapter.summary()
    header = (f"# Tuned by `grader tune` on {graded_path}: [model] and each question's calibration and exemplars are learned data."
              if not result.kept else f"# `grader tune` on {graded_path} kept this rubric's own scoring: {result.kept}; [marks] is learned from the marks.")
    write_rubric_text(target, rubric_toml(result.rubric, header=header))
    return TuneRun(result, target, len(rows), left_out)


def evaluate_file(rubric_path: str | Path, graded_path: str | Path) -> dict:
    """`grader evaluate`: the agreement report (see evaluate) plus `left_out`, `rubric`, `tuned`."""
    rubric = load_rubric(rubric_path)
    rows, left_out = read_graded(graded_path, rubric)
    report = evaluate(rubric, rows)
    return {"rubric": str(rubric_path), "tuned": bool(rubric.model), **report, "left_out": len(left_out)}


def _same_file(a: str | Path, b: str | Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()
