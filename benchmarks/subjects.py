"""A new course on day one: each subject graded after `grader rubric import questions.csv`, untuned.

For each subject folder (questions.csv and answers.csv with the teacher's 0-5 marks), the rubric is
imported from the questions alone and the answers are graded as `grader grade` grades them. Printed
per subject, only aggregate figures: ROC AUC of the teacher's correct (at least half marks) against
the grader's score and against the TF-IDF cosine of the answer to its best model answer (same run),
macro-F1 of the grader's correct/incorrect decision at half marks, Pearson r with the marks.

    python benchmarks/subjects.py tests/fixtures/dev_subjects    # development figures
    python benchmarks/subjects.py benchmarks/blind                # held-out: aggregates only

`--kinds` adds, for a development collection, the mean mark and mean score per kind of answer.
Where the answers have a `kind` column, the precision and recall of the `contradiction` flag
against the answers of kind `contradiction` are printed too (aggregates); `--contradictions FILE`
does the same for a file of answers to the bundled Stakhanovism rubric.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

from grader.answers import read_csv
from grader.grading import grade
from grader.importer import import_questions
from grader.metrics import pearson
from grader.rubric import load_rubric

from general import tfidf_cosine   # benchmarks/general.py: the same baseline


def subject_figures(folder: Path) -> dict:
    rubric = import_questions(folder / "questions.csv").rubric
    marks = {(r["student_id"], r["question_id"]): r for r in csv.DictReader(open(folder / "answers.csv", encoding="utf-8"))}
    graded = [g for g in grade(rubric, read_csv(folder / "answers.csv")) if g.score is not None]
    rows = [marks[(g.student_id, g.question_id)] for g in graded]
    gold = np.array([float(r["score"]) / g.max_score for r, g in zip(rows, graded)])
    ours = np.array([g.score / g.max_score for g in graded])
    cosine = tfidf_cosine([g.answer for g in graded], [rubric.question(g.question_id).model_answers for g in graded])
    correct = gold >= 0.5
    kinds = defaultdict(list)
    for r, g, o in zip(rows, graded, ours):
        kinds[r.get("kind", "")].append((float(r["score"]), o * g.max_score))
    return {"contradictions": flag_counts(rows, graded), "n": len(graded), "auc": roc_auc_score(correct, ours), "auc_cosine": roc_auc_score(correct, cosine),
            "f1": f1_score(correct, ours >= 0.5, average="macro"), "pearson": pearson(gold, ours), "kinds": kinds}


def flag_counts(rows, graded) -> tuple[int, int, int]:
    """(flagged and of kind contradiction, flagged otherwise, of kind contradiction not flagged)."""
    hits = [("contradiction" in g.flag_codes, r.get("kind") == "contradiction") for r, g in zip(rows, graded)]
    return (sum(f and t for f, t in hits), sum(f and not t for f, t in hits), sum(t and not f for f, t in hits))


def precision_recall(counts: tuple[int, int, int]) -> str:
    tp, fp, fn = counts
    return f"{tp / (tp + fp) if tp + fp else float('nan'):.2f} / {tp / (tp + fn) if tp + fn else float('nan'):.2f}"


def contradiction_file(path: Path) -> tuple[int, int, int]:
    marks = {(r["student_id"], r["question_id"]): r for r in csv.DictReader(open(path, encoding="utf-8"))}
    graded = [g for g in grade(load_rubric(), read_csv(path)) if g.score is not None]
    return flag_counts([marks[(g.student_id, g.question_id)] for g in graded], graded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collection", type=Path, help="folder of subject folders")
    parser.add_argument("--kinds", action="store_true", help="mean mark and score per kind (development sets only)")
    parser.add_argument("--contradictions", type=Path, action="append", default=[],
                        help="answers to the bundled rubric with a kind column: contradiction flag precision / recall")
    args = parser.parse_args(argv)
    subjects = sorted(p for p in args.collection.iterdir() if (p / "questions.csv").exists())
    print("| subject | n | ROC AUC grader | ROC AUC TF-IDF cosine | macro-F1 at half marks | Pearson r | "
          "contradiction flag precision / recall |")
    print("|---|---|---|---|---|---|---|")
    results = {}
    for folder in subjects:
        f = results[folder.name] = subject_figures(folder)
        print(f"| {folder.name} | {f['n']} | {f['auc']:.3f} | {f['auc_cosine']:.3f} | {f['f1']:.3f} | {f['pearson']:.3f} | "
              f"{precision_recall(f['contradictions'])} |")
    for path in args.contradictions:
        print(f"\nContradiction flag on {path.name} (bundled rubric): precision / recall "
              f"{precision_recall(contradiction_file(path))}")
    if args.kinds:
        print("\n| subject | kind | n | mean mark | mean score |\n|---|---|---|---|---|")
        for name, f in results.items():
            for kind, pairs in sorted(f["kinds"].items()):
                marks, scores = zip(*pairs)
                print(f"| {name} | {kind} | {len(pairs)} | {np.mean(marks):.2f} | {np.mean(scores):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
