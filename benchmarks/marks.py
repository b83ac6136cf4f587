"""What a handful of the teacher's marks does to the other answers' scores (`grader grade --marks`).

Per question, k answers are drawn as the teacher's marks (their gold scores); the rest are scored
before (the grader alone) and after (the marks applied: `grader.marking.apply_marks`, what
`grader grade --marks` runs), in the same run, on the same unmarked answers. Several draws, pooled;
the median over draws of the per-draw gain is quoted too.

- UNT (Mohler et al. 2011, --data): 12 folds, one per assignment; the general model is `tune`d on
  the other 11 assignments (as benchmarks/unt.py's zero-shot), then k = 3, 5, 10 marks per held-out
  question.
- Stakhanovism development sets (tests/fixtures/dev_stakhanovism.csv, dev_gaming_b.csv), bundled
  rubric untuned, k = 3 per question.

    python benchmarks/marks.py --data ../shared/datasets/unt-short-answer-v2
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import statistics
import sys
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from grader.grading import grade
from grader.marking import apply_marks
from grader.marks import Mark
from grader.metrics import pearson, quadratic_weighted_kappa, rmse
from grader.rubric import dump_rubric, load_rubric, rubric_from_dict
from grader.tuning import read_graded, tune
from unt import load_unt   # benchmarks/unt.py: the same data loading and folds

ROOT = Path(__file__).resolve().parent.parent
STAKHANOVISM = [ROOT / "tests" / "fixtures" / "dev_stakhanovism.csv", ROOT / "tests" / "fixtures" / "dev_gaming_b.csv"]


def marks_draws(rubric, results, gold: dict, shots, draws, seed_key) -> dict:
    """{k: [(gold, before, after) per unmarked answer, pooled over draws], ("gain", k): [per-draw Pearson gain]}"""
    by_question: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        if r.score is not None and r.source in gold:
            by_question.setdefault(r.question_id, []).append(i)
    out: dict = {}
    for k in shots:
        for draw in range(draws):
            rng = np.random.default_rng([draw, k, seed_key])
            marked = set()
            for qid, idx in sorted(by_question.items()):
                marked |= {idx[j] for j in rng.permutation(len(idx))[:k]}
            marks = [Mark(results[i].student_id, results[i].question_id, results[i].answer,
                          rubric.scale_for(results[i].question_id).snap(gold[results[i].source]), "", "bench")
                     for i in sorted(marked)]
            after = copy.deepcopy(results)
            apply_marks(after, marks, rubric)
            items = [(gold[r.source], r.score, a.score) for i, (r, a) in enumerate(zip(results, after))
                     if i not in marked and r.score is not None and r.source in gold]
            out.setdefault(k, []).extend(items)
            g, b, a = (np.array(c, float) for c in zip(*items))
            out.setdefault(("gain", k), []).append(pearson(g, a) - pearson(g, b))
    return out


def unt_fold(rubric, rows, assignment_of, held_out, shots, draws) -> dict:
    train = [r for r in rows if assignment_of[r.answer.question_id] != held_out]
    test = [r for r in rows if assignment_of[r.answer.question_id] == held_out]
    tuned = tune(rubric, train, report=False, random_state=0).rubric
    tuned = rubric_from_dict(tomllib.loads(dump_rubric(tuned)), "tuned.toml")
    results = grade(tuned, [r.answer for r in test])
    return marks_draws(tuned, results, {r.answer.source: r.score for r in test}, shots, draws, int(held_out))


def table(title: str, pooled: dict, shots, step: float, top: float) -> list[str]:
    lines = [f"**{title}**", "", "| marks per question | answers scored | Pearson before -> after | QWK before -> after | "
             "RMSE before -> after | median per-draw Pearson gain |", "|---|---|---|---|---|---|"]
    for k in shots:
        g, b, a = (np.array(c, float) for c in zip(*pooled[k]))
        lines.append(f"| {k} | {len(g)} | {pearson(g, b):.3f} -> {pearson(g, a):.3f} | "
                     f"{quadratic_weighted_kappa(g, b, step, top):.3f} -> {quadratic_weighted_kappa(g, a, step, top):.3f} | "
                     f"{rmse(g, b):.3f} -> {rmse(g, a):.3f} | {statistics.median(pooled[('gain', k)]):+.3f} |")
    return lines + [""]


def merge(runs) -> dict:
    pooled: dict = {}
    for run in runs:
        for key, items in run.items():
            pooled.setdefault(key, []).extend(items)
    return pooled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="UNT folder (questions.csv, answers.csv); omit to skip UNT")
    parser.add_argument("--shots", default="3,5,10")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--folds", default="", help="only these UNT assignments, comma-separated (default all 12)")
    args = parser.parse_args(argv)
    shots = tuple(int(s) for s in args.shots.split(","))
    started = time.perf_counter()
    rubric = load_rubric(None)
    for path in STAKHANOVISM:
        rows, _ = read_graded(path, rubric)
        results = grade(rubric, [r.answer for r in rows])
        pooled = marks_draws(rubric, results, {r.answer.source: r.score for r in rows}, (3,), args.draws * 2, 0)
        print("\n".join(table(f"{path.relative_to(ROOT)} ({len(rows)} answers), bundled rubric, "
                              f"{args.draws * 2} draws", pooled, (3,), rubric.scale.step, rubric.scale.max)))
    if args.data:
        unt, assignment_of, rows, _, folds = load_unt(args.data, args.folds)
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            runs = list(pool.map(unt_fold, *zip(*[(unt, rows, assignment_of, f, shots, args.draws) for f in folds])))
        print("\n".join(table(f"UNT, {len(folds)} folds (assignments {', '.join(folds)}), general model tuned on the "
                              f"other folds, {args.draws} draws", merge(runs), shots, 0.5, 5.0)))
    print(f"Wall time {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
