"""CPU seconds per stage of one `grader grade` run, in one process, and its peak memory.

    python benchmarks/stages.py ANSWERS.csv [--out DIR]
    PYTHONPATH=/path/to/other/checkout python benchmarks/stages.py ANSWERS.csv   # the same for another commit

The run goes through `Grader(None, Runtime(processes=1))` (read, grade, write every default output)
with the main functions of each stage wrapped by a timer of *process* CPU time (time.process_time):
on a machine shared with other work, CPU seconds move far less than wall seconds, so two commits
can be compared on the same file even when the machine is busy. One process, so the time of the
work that a big batch gives to forked workers is counted too (the total is the CPU a run needs, not
its wall time on 2 cores). Stages nest: "grade" includes the feature stages, "write" the writers;
the rows are what the wrapped functions took, the rest of a stage is its own code.

Make an input with `python benchmarks/throughput.py --lengths 100 --sizes 100000 --repeats 1 --keep`.
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import tempfile
import time
from pathlib import Path

CLOCK = time.process_time
STARTED = CLOCK()

import grader.features.concepts as concepts  # noqa: E402  (imports are part of what is timed)
import grader.features.prepare as prepare  # noqa: E402
import grader.features.transformer as transformer  # noqa: E402
import grader.grading as grading  # noqa: E402
import grader.writers as writers  # noqa: E402
from grader.pipeline import Grader  # noqa: E402
from grader.runtime import Runtime  # noqa: E402

IMPORTS = CLOCK() - STARTED

# (module or class, function name, row label): the functions each stage spends its time in.
WRAPPED = [
    (prepare.Tokenizer, "prepare", "features: tokens, stems, spelling"),
    (transformer.AnswerFeatures, "_fit_prepared", "features: fit the TF-IDF vectorizers"),
    (transformer, "answer_counts", "features: substance counts"),
    (transformer.AnswerFeatures, "_question_features", "features: per-question signals (sparse products)"),
    (transformer, "other_question_margins", "features: other-question margins"),
    (concepts.ConceptMatcher, "results", "features: concepts per answer"),
    (transformer, "prepared_clauses" if hasattr(transformer, "prepared_clauses") else "clauses",
     "features: contradiction clauses"),
    (transformer, "contradicting_spans", "features: contradicting spans"),
    (grading, "near_duplicates", "flags: near-duplicates"),
    (grading, "answer_flags", "flags: per answer"),
    (grading, "feedback_for", "feedback"),
    (writers, "write_grades_csv", "write grades.csv"),
    (writers, "write_grades_json", "write grades.json"),
    (writers, "write_gradebook", "write gradebook.csv"),
    (writers, "write_feedback_pages", "write feedback pages"),
    (writers, "write_report", "write report.html"),
]


def timed(seconds: dict[str, float], label: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = CLOCK()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] = seconds.get(label, 0.0) + CLOCK() - start
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("--out", type=Path, help="output folder (default: a temporary one, removed)")
    args = parser.parse_args()
    seconds: dict[str, float] = {}
    for owner, name, label in WRAPPED:
        setattr(owner, name, timed(seconds, label, getattr(owner, name)))
    out = args.out or Path(tempfile.mkdtemp(prefix="grader-stages-"))
    grader = Grader(None, Runtime(processes=1))
    steps = {}
    try:
        start = CLOCK()
        answers = grader.read([args.answers])
        steps["read"], start = CLOCK() - start, CLOCK()
        results = grader.grade(answers)
        steps["grade"], start = CLOCK() - start, CLOCK()
        grader.write(results, out)
        steps["write"] = CLOCK() - start
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print(f"{len(answers):,} answers of {args.answers}")
    print("| stage | CPU s |\n|---|---:|")
    print(f"| imports | {IMPORTS:.2f} |")
    for step in ("read", "grade", "write"):
        print(f"| **{step}** | **{steps[step]:.2f}** |")
        for _, _, label in WRAPPED:   # the writers' rows under write, the others under grade
            if label in seconds and step != "read" and label.startswith("write") == (step == "write"):
                print(f"| {label} | {seconds[label]:.2f} |")
    print(f"| total | {CLOCK() - STARTED:.2f} |")
    print(f"\npeak memory (one process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
