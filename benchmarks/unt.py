"""Agreement with human graders on the UNT short-answer data set (Mohler, Bunescu & Mihalcea 2011).

Published protocol: 12 folds, one per assignment, so every scored question is unseen in training.

- zero-shot: tune on the other 11 assignments' graded answers, grade the held-out assignment;
- few-shot k: as zero-shot, plus k graded answers of each held-out question added to tuning
  (they become its exemplars and calibration); scored on that question's other answers. Each
  seed draws the k answers anew (default two draws, pooled).

Everything goes through the library code the CLI uses: the rubric is imported from
questions.csv (`grader rubric import`), tuned with `grader.tuning.tune` (`grader tune`), written
to TOML and loaded back, and the held-out answers are graded with `grader.grading.grade`
(`grader grade`). The grader's rounded scores (0-5 in steps of 0.5) are compared with `score`,
the mean of the two human graders. Baseline from the same run and folds: cosine of TF-IDF
vectors (answer vs model answer) mapped to 0-5 by a linear regression fit on the training folds.

    python benchmarks/unt.py --data ../shared/datasets/unt-short-answer-v2
"""

from __future__ import annotations

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
import statistics
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression

from grader.answers import csv_rows
from grader.grading import grade
from grader.importer import import_questions
from grader.metrics import pearson, quadratic_weighted_kappa, rmse
from grader.rubric import dump_rubric, rubric_from_dict
from grader.tuning import read_graded, tune

PUBLISHED = [
    ("Mohler et al. 2011 (published)", 0.518, 0.978),
    ("Sultan et al. 2016 (published)", 0.592, 0.887),
]


def load_unt(data: Path, only: str = ""):
    """(rubric imported from questions.csv, question id -> assignment, graded rows, rows left out,
    assignments in order: the folds, or only those given comma-separated)."""
    # The general model (the default scorer) learned from these very answers: graded by it, held-out
    # questions would not be unseen. The rubric starts from the rule scorer, as before the general
    # model; its leave-UNT-out figures are in benchmarks/general.py.
    rubric = replace(import_questions(data / "questions.csv").rubric, scorer="rules")
    assignment_of = {row["question_id"]: row["assignment"]
                     for _, row in csv_rows(data / "questions.csv", ("question_id", "assignment"), what="questions")}
    rows, left_out = read_graded(data / "answers.csv", rubric)
    folds = sorted(set(assignment_of.values()), key=int)
    if only:
        folds = [f for f in folds if f in set(only.split(","))]
    return rubric, assignment_of, rows, left_out, folds


def run_fold(rubric, rows, assignment_of, held_out: str, shots: tuple[int, ...], seeds: tuple[int, ...]) -> dict:
    """Scores for one held-out assignment: {k: [(gold, grader, grader unrounded, baseline), ...]},
    k = 0 for zero-shot; few-shot results of all seeds (different draws of the k answers) pooled."""
    train = [r for r in rows if assignment_of[r.answer.question_id] != held_out]
    test = [r for r in rows if assignment_of[r.answer.question_id] == held_out]
    by_question = defaultdict(list)
    for r in test:
        by_question[r.answer.question_id].append(r)
    out, timings = defaultdict(list), []
    for k, seed in [(0, seeds[0])] + [(k, seed) for k in shots for seed in seeds]:
        rng = np.random.default_rng([seed, int(held_out)])
        order = {qid: [items[i] for i in rng.permutation(len(items))] for qid, items in sorted(by_question.items())}
        shown = [r for items in order.values() for r in items[:k]]      # graded by the teacher: tuning data
        scored = [r for items in order.values() for r in items[k:]]     # never seen by tuning
        started = time.perf_counter()
        tuned = tune(rubric, train + shown, report=False, random_state=seed).rubric
        timings.append(time.perf_counter() - started)
        tuned = rubric_from_dict(tomllib.loads(dump_rubric(tuned)), "tuned.toml")   # exactly what the TOML holds
        graded = {g.source: g for g in grade(tuned, [r.answer for r in scored])}
        baseline = tfidf_baseline(rubric, train + shown, scored)
        out[k] += [(r.score, graded[r.answer.source].score, graded[r.answer.source].raw_score, b)
                   for r, b in zip(scored, baseline)]
    return {"results": dict(out), "tune_seconds": timings}


def tfidf_baseline(rubric, train, scored) -> list[float]:
    """Cosine of TF-IDF vectors (answer vs model answer), linearly mapped to 0-5 on the training folds."""
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    vectorizer.fit([r.answer.text for r in train] + [q.model_answers[0] for q in rubric.questions])

    def cosines(items):
        a = vectorizer.transform([r.answer.text for r in items])
        m = vectorizer.transform([" ".join(rubric.question(r.answer.question_id).model_answers) for r in items])
        return np.asarray(a.multiply(m).sum(axis=1)).ravel()[:, None]

    fit = LinearRegression().fit(cosines(train), [r.score for r in train])
    return list(np.clip(fit.predict(cosines(scored)), 0.0, 5.0))


def row(label: str, gold, predicted, step: float = 0.5) -> str:
    gold, predicted = np.asarray(gold, float), np.asarray(predicted, float)
    return (f"| {label} | {pearson(gold, predicted):.3f} | {rmse(gold, predicted):.3f} | "
            f"{quadratic_weighted_kappa(gold, predicted, step, 5.0):.3f} | {len(gold)} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="folder with questions.csv and answers.csv")
    parser.add_argument("--shots", default="3,5,10", help="few-shot sizes, comma-separated (default 3,5,10)")
    parser.add_argument("--seeds", default="0,1", help="few-shot draws, comma-separated seeds (default 0,1)")
    parser.add_argument("--jobs", type=int, default=2, help="folds run in parallel (default 2)")
    parser.add_argument("--folds", default="", help="only these assignments, comma-separated (default all 12)")
    args = parser.parse_args(argv)
    shots = tuple(int(s) for s in args.shots.split(",") if s.strip())
    seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip()) or (0,)

    started = time.perf_counter()
    rubric, assignment_of, rows, left_out, folds = load_unt(args.data, args.folds)
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        runs = list(pool.map(run_fold, *zip(*[(rubric, rows, assignment_of, f, shots, seeds) for f in folds])))
    elapsed = time.perf_counter() - started

    print(f"UNT short-answer v2: {len(rows)} graded answers ({len(left_out)} left out), {len(rubric.questions)} questions, "
          f"{len(folds)} folds (one per assignment), few-shot draws with seeds {', '.join(map(str, seeds))}.\n")
    print("| setting | Pearson r | RMSE | QWK | n |")
    print("|---|---|---|---|---|")
    for k in (0, *shots):
        items = [item for run in runs for item in run["results"][k]]
        label = "zero-shot" if k == 0 else f"few-shot k={k}"
        gold = [g for g, _, _, _ in items]
        print(row(f"**grader, {label}**", gold, [p for _, p, _, _ in items]))
        print(row(f"grader, {label}, before rounding to 0.5", gold, [p for _, _, p, _ in items]))
        print(row(f"TF-IDF cosine baseline, {label}", gold, [b for _, _, _, b in items]))
    graders = {r["student_id"]: r for _, r in csv_rows(args.data / "answers.csv", ("student_id", "score_grader1", "score_grader2"))}
    g1 = [float(graders[r.answer.student_id]["score_grader1"]) for r in rows]
    g2 = [float(graders[r.answer.student_id]["score_grader2"]) for r in rows]
    print(row("human grader 1 vs grader 2", g1, g2))
    for label, r_value, rmse_value in PUBLISHED:
        print(f"| {label}, zero-shot | {r_value:.3f} | {rmse_value:.3f} | - | 2273 |")
    tune_times = [t for run in runs for t in run["tune_seconds"]]
    print(f"\nWall time {elapsed:.0f} s with {args.jobs} jobs; median tune {statistics.median(tune_times):.1f} s "
          f"over {len(tune_times)} tunes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
