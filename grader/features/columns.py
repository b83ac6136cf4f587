"""The feature columns, declared once.

Every column of the feature matrix is one `Column` in `COLUMNS`, in matrix order: its name, the
signal module that computes it, how it may move a learned score (`direction`, for the monotone
model in scoring/learned.py; "none" for columns the model reads but does not score on), whether it
can be unavailable (`optional`: the value is -1 then), and what it measures. The matrix columns
(`FEATURE_NAMES`, `AnswerFeatures.get_feature_names_out()`), the learned model's directions, the rule
scorer's and the flags' lookups (`COLUMN`) are all derived from this table.

Adding a signal: one entry here and one function in its signal module that returns the column
(see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

DIRECTIONS = ("increasing", "decreasing", "free", "none")


@dataclass(frozen=True)
class Column:
    name: str
    signal: str           # the signal that computes it (features/transformer.py: QUESTION_SIGNALS)
    direction: str        # increasing | decreasing | free | none (see DIRECTIONS)
    description: str
    optional: bool = False   # -1 when not available (no concepts, no exemplars)


COLUMNS: tuple[Column, ...] = (
    Column("word_recall", "similarity", "increasing",
           "weighted share of the model answer's words the answer uses (best model answer)"),
    Column("char_recall", "similarity", "increasing",
           "the same on character 3-5-grams: tolerant of spelling and word forms"),
    Column("word_cosine", "similarity", "increasing",
           "TF-IDF cosine on stemmed words and word pairs (best model answer)"),
    Column("char_cosine", "similarity", "increasing", "TF-IDF cosine on character n-grams"),
    Column("coverage", "concepts", "increasing",
           "weighted share of rubric concepts found in substantive sentences", optional=True),
    Column("negated", "concepts", "decreasing", "weighted share of concepts only mentioned under a negation"),
    Column("contradicted", "contradictions", "decreasing",
           "share of the answer's clauses that match a model-answer clause and state its opposite (negation, "
           "role words, antonyms)"),
    Column("novelty", "substance", "free", "share of content words that are not the question's own words"),
    Column("function_ratio", "substance", "free",
           "share of function words: real sentences have many, keyword lists none"),
    Column("content_words", "substance", "increasing", "log(1 + number of content words)"),
    Column("unique_ratio", "substance", "free", "distinct / all content words: low when a sentence is repeated"),
    Column("topic_density", "substance", "increasing", "share of content words from the question's vocabulary"),
    Column("exemplar_score", "exemplars", "increasing",
           "similarity-weighted mean score of teacher-graded exemplars (0..1), or -1", optional=True),
    # Peers: the other answers to the same question in the batch (most students answer reasonably).
    # These depend on the class being graded, by design.
    Column("peer_word_cosine", "peers", "increasing",
           "word cosine with the model answers' direction plus the other answers' centroid"),
    Column("peer_char_cosine", "peers", "increasing", "the same on character n-grams"),
    Column("peer_word_support", "peers", "increasing",
           "mean word similarity to the other answers, each weighted by its closeness to the model answers"),
    Column("peer_char_support", "peers", "increasing", "the same on character n-grams"),
    Column("relative_length", "peers", "increasing",
           "content_words minus the question's median in the batch (0 when alone)"),
    Column("calibration_offset", "calibration", "none",
           "the question's offset learned by `grader tune` (share of marks; 0 untuned); added as is"),
    Column("exemplar_nearest", "exemplars", "increasing",
           "exemplars' scores (0..1) weighted by softmax of word similarity (sharper than exemplar_score), or -1",
           optional=True),
    Column("relative_recall", "peers", "increasing", "word_recall minus the question's mean in the batch (0 when alone)"),
    Column("relative_peer_cosine", "peers", "increasing",
           "peer_char_cosine minus the question's mean in the batch (0 when alone)"),
    Column("reference_words", "similarity", "none",
           "log(1 + content words) of the model answer the answer matches best: short model answers are "
           "answered in a few words"),
    Column("word_precision", "similarity", "increasing",
           "idf-weighted share of the answer's words that a model answer or the prompt uses"),
    Column("short_ceiling", "short", "none",
           "the most a few-word answer can earn: lower for a hedge or a list of options not all acceptable, or "
           "another number than the model answers' (features/short.py); 1 where nothing caps"),
    Column("exemplar_count", "exemplars", "none",
           "number of teacher-graded exemplars the question has (0 untuned); selects the learned model's regime"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMN: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}
"""Column index of each feature name."""
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
SIGNALS: tuple[str, ...] = tuple(dict.fromkeys(c.signal for c in COLUMNS))


def columns_of(signal: str) -> tuple[str, ...]:
    """The names of the columns a signal module computes, in matrix order."""
    return tuple(c.name for c in COLUMNS if c.signal == signal)


def _check() -> None:
    if len(set(FEATURE_NAMES)) != len(FEATURE_NAMES):
        raise ValueError("duplicate feature name in COLUMNS")
    for column in COLUMNS:
        if column.direction not in DIRECTIONS:
            raise ValueError(f"{column.name}: direction must be one of {DIRECTIONS}")


_check()
