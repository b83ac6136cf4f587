"""The general model: the scorer of every rubric that has no `[model]` of its own.

A `LearnedScorer` (scoring/learned.py) fitted once on public, human-graded answers from two
subjects with no exemplars, so it scores a new course's questions from its model answers alone.
Its numbers are plain TOML in `general_model.toml` beside this file, written by
`python benchmarks/general.py --data ... --write` (which also validates it, leaving out whole
data sets and domains; BENCHMARKS.md). Learned from the data sets in `SOURCES`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import numpy as np

from .learned import MODEL_FEATURES, LearnedScorer
from .short import ShortAnswerScorer

MODEL_PATH = Path(__file__).with_name("general_model.toml")

SOURCES = {
    "unt": "UNT short-answer v2 (computer science, 0-5): Mohler, Bunescu & Mihalcea, \"Learning to Grade Short "
           "Answer Questions using Semantic Similarity Measures and Dependency Graph Alignments\", ACL-HLT 2011",
    "semeval": "SemEval-2013 Task 7 training split, 2-way (science: Beetle and SciEntsBank; CC-BY-4.0): Dzikovska et "
               "al., \"SemEval-2013 Task 7: The Joint Student Response Analysis and 8th Recognizing Textual "
               "Entailment Challenge\", SemEval 2013",
}

# Exemplar columns say nothing without a teacher's graded answers; the rest transfer.
GENERAL_FEATURES = tuple(name for name in MODEL_FEATURES if not name.startswith("exemplar_"))


def training_weights(data_sets: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Sample weights the general model is fitted with (mean 1): every data set weighs the same
    whatever its size, and within it its correct (at least half marks) and incorrect answers weigh
    the same whatever their shares.

    Why the classes: a course's share of correct answers says nothing about a new course's (UNT's
    graders marked 92% correct at half marks, SemEval's 41%). Fitted to each data set's own mix, half
    marks lands where that mix puts it (a model of UNT passed nearly all of SemEval: macro-F1 0.33).
    With the classes balanced, half marks is where a correct and an incorrect answer are about
    equally likely, whatever the share of correct answers (BENCHMARKS.md, "General model")."""
    data_sets = np.asarray(data_sets).astype(str)
    correct = np.asarray(correct, dtype=bool)
    cells = np.char.add(data_sets, np.where(correct, "|correct", "|incorrect"))
    _, inverse, counts = np.unique(cells, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    for name in np.unique(data_sets):
        rows = data_sets == name
        weights[rows] /= weights[rows].sum()
    return weights * weights.size / weights.sum()


@cache
def _model_table() -> dict:
    return tomllib.loads(MODEL_PATH.read_text(encoding="utf-8"))["model"]


def general_model() -> LearnedScorer:
    """The fitted LearnedScorer of the shipped numbers (a fresh object each call: callers may refit it)."""
    return LearnedScorer.from_dict(_model_table(), str(MODEL_PATH))


def general_scorer() -> ShortAnswerScorer:
    """The default scorer: the general model, with short model answers answered in a few words."""
    return ShortAnswerScorer.around(general_model())
