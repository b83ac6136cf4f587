"""Words the teacher's high-scoring answers use and the rubric lacks: candidates for aliases or concepts."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Sequence

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ..rubric import Rubric
from ..text import tokenize
from .graded import GradedRow


def suggest_concepts(rubric: Rubric, rows: Sequence[GradedRow], limit: int = 3, high: float = 0.8,
                     min_answers: int = 4) -> dict[str, list[str]]:
    """Words and word pairs that high-scoring answers (>= `high` of the marks) often use and the
    rubric lacks (not in the prompt, model answers or concept phrases), more common in them than
    in the other answers: candidates for aliases or concepts. Question id -> phrases."""
    by_question: dict[str, list[GradedRow]] = defaultdict(list)
    for row in rows:
        by_question[row.answer.question_id].append(row)
    suggestions = {}
    for q in rubric.questions:
        graded = by_question.get(q.id, [])
        scale = rubric.max_score(q.id)
        good = [r for r in graded if r.score >= high * scale]
        rest = [r for r in graded if r.score < high * scale]
        if len(good) < min_answers:
            continue
        known = set()
        for text in (q.prompt, *q.model_answers, *[p for c in q.concepts for p in c.phrases]):
            known |= set(_terms(text)[0])
        good_counts, forms = _term_counts(good)
        rest_counts, _ = _term_counts(rest)
        candidates = []
        for term, count in good_counts.items():
            if count < max(2, 0.3 * len(good)) or any(part in known for part in term.split(" ")):
                continue
            share_good = count / len(good)
            share_rest = rest_counts.get(term, 0) / len(rest) if rest else 0.0
            if share_good - share_rest >= 0.2:
                candidates.append((-(share_good - share_rest), -count, forms[term].most_common(1)[0][0]))
        if candidates:
            suggestions[q.id] = [form for *_, form in sorted(candidates)[:limit]]
    return suggestions


def _terms(text: str) -> tuple[list[str], list[str]]:
    """Content stems + consecutive pairs, and the same as written."""
    # scikit-learn's full list here: words like "few" or "became" count as content for matching,
    # but are never worth proposing as a concept.
    tokens = [t for t in tokenize(text) if t.is_content and t.word.isalpha() and len(t.word) > 2
              and t.word not in ENGLISH_STOP_WORDS]
    stems = [t.stem for t in tokens]
    words = [t.word for t in tokens]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])], words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def _term_counts(rows: Sequence[GradedRow]) -> tuple[Counter, dict[str, Counter]]:
    counts: Counter[str] = Counter()
    forms: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        stems, words = _terms(row.answer.text)
        counts.update(set(stems))
        for s, w in zip(stems, words):
            forms[s][w] += 1
    return counts, forms
