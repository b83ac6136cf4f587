"""Train the general model (grader/scoring/general_model.toml) and validate it on unseen data sets and domains.

The general model is the scorer of every rubric without its own `[model]`: a `LearnedScorer`
fitted on public human-graded answers from two subjects, with no exemplars (the zero-shot regime):

- UNT short-answer v2 (computer science, 0-5; Mohler, Bunescu & Mihalcea 2011);
- SemEval-2013 Task 7 training split, 2-way (science: Beetle electronics and SciEntsBank;
  Dzikovska et al. 2013), correct = 5, incorrect = 0.

Each data set goes through what a teacher would run: `grader rubric import questions.csv` (every
reference answer of `model_answers` kept), then features computed one batch per assignment (UNT)
or domain (SemEval), as `grader grade` computes them for a class. In training, both data sets weigh
the same, and within each its correct (at least half marks) and incorrect answers weigh the same
(`training_weights` in grader/scoring/general.py): UNT's graders marked 92% of answers correct at
half marks, SemEval's 41%, and a model fitted to either mix puts half marks where that mix does.

Validation, leaving out a whole data set or domain each time (the model never sees its questions):
UNT -> SemEval, SemEval -> UNT, and each SemEval domain held out (trained on UNT and the other
domains). Against, from the same run: the TF-IDF cosine of the answer to its best model answer
(ranking as is; its correct/incorrect threshold chosen on the training side for best macro-F1),
and the untuned rule scorer. Metrics: ROC AUC and macro-F1 of correct (at least half marks),
Pearson r against the marks; the model's decision is its score at half marks, as graded (with the short-answer rule of
scoring/short.py, as `grader grade` scores).

    python benchmarks/general.py --data ../shared/datasets/unt-short-answer-v2 \
        --data ../shared/datasets/semeval2013-2way-train [--write] [--cache DIR]

`--write` fits on everything and writes grader/scoring/general_model.toml.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import tomli_w
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score, roc_auc_score

from grader.features import FEATURE_NAMES, AnswerFeatures
from grader.importer import import_questions
from grader.metrics import pearson
from grader.scoring import LearnedScorer, RuleScorer
from grader.scoring.general import GENERAL_FEATURES, MODEL_PATH, SOURCES, training_weights
from grader.scoring.short import ShortAnswerScorer
from grader.tuning import read_graded

ROOT = Path(__file__).resolve().parent.parent


def source_hash() -> str:
    """Features depend on the grader's code: a cache is valid for exactly this source."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "grader").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_dataset(folder: Path, cache: Path | None) -> dict:
    """Features, marks (fraction of max), groups and texts of one data set, one batch per group."""
    rubric = import_questions(folder / "questions.csv").rubric
    question_rows = list(csv.DictReader(open(folder / "questions.csv", encoding="utf-8")))
    semeval = "domain" in question_rows[0]
    name = "semeval" if semeval else "unt"
    group_of = {r["question_id"]: (f"{r['corpus']}/{r['domain']}" if semeval else f"unt/{r['assignment']}")
                for r in question_rows}
    rows, _ = read_graded(folder / "answers.csv", rubric)
    groups = np.array([group_of[r.answer.question_id] for r in rows])
    key = cache / f"{name}-{source_hash()}.npz" if cache else None
    if key and key.exists():
        X = np.load(key)["X"]
    else:
        X = np.zeros((len(rows), len(FEATURE_NAMES)))
        for group in sorted(set(groups)):
            index = np.flatnonzero(groups == group)
            pairs = [(rows[i].answer.question_id, rows[i].answer.text) for i in index]
            X[index] = AnswerFeatures(rubric).fit(pairs).transform(pairs)
        if key:
            key.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(key, X=X)
    y = np.array([r.score / rubric.max_score(r.answer.question_id) for r in rows])
    texts = [r.answer.text for r in rows]
    references = [rubric.question(r.answer.question_id).model_answers for r in rows]
    return {"name": name, "X": X, "y": y, "groups": groups, "cosine": tfidf_cosine(texts, references)}


def tfidf_cosine(texts: list[str], references: list[tuple[str, ...]]) -> np.ndarray:
    """The baseline: cosine of TF-IDF vectors, answer against its best model answer."""
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    vectorizer.fit(texts + sorted({m for refs in references for m in refs}))
    answers = vectorizer.transform(texts)
    out = np.zeros(len(texts))
    for i, refs in enumerate(references):
        out[i] = float((vectorizer.transform(list(refs)) @ answers[i].T).toarray().max())
    return out


def fit_general(X: np.ndarray, y: np.ndarray, weights: np.ndarray, alpha: float) -> LearnedScorer:
    return LearnedScorer(alpha=alpha, features=GENERAL_FEATURES, exemplar_regimes=()).fit(X, y, sample_weight=weights)


def best_threshold(scores: np.ndarray, correct: np.ndarray) -> float:
    candidates = np.unique(np.quantile(scores, np.linspace(0.02, 0.98, 49)))
    return max(candidates, key=lambda t: f1_score(correct, scores >= t, average="macro"))


def metrics(y: np.ndarray, predicted: np.ndarray, threshold: float) -> tuple[float, float, float]:
    correct = y >= 0.5
    auc = roc_auc_score(correct, predicted) if 0 < correct.sum() < correct.size else float("nan")
    return auc, f1_score(correct, predicted >= threshold, average="macro"), pearson(y, predicted)


def evaluate(data: dict, train: np.ndarray, test: np.ndarray, alpha: float) -> dict[str, tuple]:
    X, y, names = data["X"], data["y"], data["names"]
    model = fit_general(X[train], y[train], training_weights(names[train], y[train] >= 0.5), alpha)
    cosine = data["cosine"]
    rules = RuleScorer().fit(X).predict(X)
    threshold = best_threshold(cosine[train], y[train] >= 0.5)
    # The model's decision is what grading makes of its score: rounded to 0.5 of 5, then >= half.
    general = np.round(ShortAnswerScorer.around(model).predict(X[test]) * 10) / 10
    return {"general model": metrics(y[test], general, 0.5),
            "rule scorer (untuned)": metrics(y[test], np.round(rules[test] * 10) / 10, 0.5),
            "TF-IDF cosine": metrics(y[test], cosine[test], threshold)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, type=Path,
                        help="a data set folder (questions.csv, answers.csv); give UNT and SemEval")
    parser.add_argument("--cache", type=Path, default=None, help="folder for featurised data (outside the project)")
    parser.add_argument("--alpha", type=float, default=3.0, help="ridge penalty of the model (default 3)")
    parser.add_argument("--write", action="store_true", help=f"fit on everything and write {MODEL_PATH.name}")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sets = [load_dataset(folder, args.cache) for folder in args.data]
    data = {k: np.concatenate([s[k] for s in sets]) for k in ("X", "y", "groups", "cosine")}
    data["names"] = np.concatenate([[s["name"]] * len(s["y"]) for s in sets])
    featurised = time.perf_counter() - started

    slices = []
    names = data["names"]
    for held_out in sorted(set(names)):
        slices.append((f"train {' + '.join(sorted(set(names) - {held_out}))} -> test {held_out}",
                       names != held_out, names == held_out))
    semeval_domains = sorted({g for g in data["groups"] if not g.startswith("unt/")})
    pooled: dict[str, list] = {}
    for domain in semeval_domains:
        test = data["groups"] == domain
        scores = evaluate(data, ~test, test, args.alpha)
        for method, values in scores.items():
            pooled.setdefault(method, []).append(values)
    print(f"General model, {len(data['y'])} answers ({', '.join(s['name'] + ' ' + str(len(s['y'])) for s in sets)}); "
          f"features {featurised:.0f} s.\n")
    print("| held out | method | ROC AUC | macro-F1 at half marks | Pearson r | n |")
    print("|---|---|---|---|---|---|")
    for label, train, test in slices:
        for method, (auc, f1, r) in evaluate(data, train, test, args.alpha).items():
            print(f"| {label} | {method} | {auc:.3f} | {f1:.3f} | {r:.3f} | {test.sum()} |")
    n_domains = len(semeval_domains)
    for method, values in pooled.items():
        values = np.array(values)
        wins = ""
        if method != "TF-IDF cosine":
            base = np.array(pooled["TF-IDF cosine"])
            wins = f" (AUC above the cosine in {int((values[:, 0] > base[:, 0]).sum())} of {n_domains})"
        print(f"| each SemEval domain held out, median of {n_domains}{wins} | {method} | "
              f"{np.nanmedian(values[:, 0]):.3f} | {np.median(values[:, 1]):.3f} | {np.median(values[:, 2]):.3f} | "
              f"{int(sum((data['groups'] == d).sum() for d in semeval_domains))} |")
    if args.write:
        model = fit_general(data["X"], data["y"], training_weights(names, data["y"] >= 0.5), args.alpha)
        write_model(model, {s["name"]: len(s["y"]) for s in sets})
        print(f"\nWrote {MODEL_PATH.relative_to(ROOT)}.")
    print(f"\nWall time {time.perf_counter() - started:.0f} s.")
    return 0


def write_model(model: LearnedScorer, sizes: dict[str, int]) -> None:
    header = ("# The general model: the scorer of every rubric without its own [model].\n"
              "# Written by `python benchmarks/general.py --data ... --write`; do not edit by hand.\n"
              "# Weighted so that each data set, and within it its correct and its incorrect answers, weigh the same.\n"
              "# Learned from (cite them when you use it):\n"
              + "".join(f"#   {s}\n" for s in SOURCES.values()))
    body = {"trained_on": {name: {"answers": n, "source": SOURCES[name]} for name, n in sizes.items()},
            "model": model.to_dict()}
    MODEL_PATH.write_text(header + tomli_w.dumps(body), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
