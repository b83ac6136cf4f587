"""Which of the rubric's questions a label names: its id, its number, or its prompt (exactly or
by similarity). Shared by the split of one file per student, long tables and wide exports."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_NUMBER_RE = re.compile(r"^\s*(?:question|q)?\s*\.?\s*(\d{1,3})\s*[.:)]?\s*$", re.IGNORECASE)
_SIMILAR = 0.35   # TF-IDF cosine below which a column header is not taken for a prompt


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def same_words(a: str, b: str) -> bool:
    """Whether `a` is `b` copied, give or take a word or two (80% of the words in order)."""
    wa, wb = words(a), words(b)
    if len(wa) < 3 or len(wb) < 3:
        return wa == wb and bool(wa)
    return SequenceMatcher(None, wa, wb, autojunk=False).ratio() >= 0.8


def numbered(number: int, questions):
    """The rubric's question `number`: by the ids' trailing numbers when they all have one, else by order."""
    trailing = {}
    for question in questions:
        match = re.search(r"(\d+)$", question.id)
        if match:
            trailing[int(match.group(1))] = question
    if questions and len(trailing) == len(questions):
        return trailing.get(number)
    return questions[number - 1] if 1 <= number <= len(questions) else None


def question_for_label(label: str, questions):
    """The question a cell of a long table's question column names (id, "Q2", "2", the prompt), or None."""
    text = label.strip()
    for question in questions:
        if question.id.casefold() == text.casefold():
            return question
    match = _NUMBER_RE.match(text)
    if match:
        return numbered(int(match.group(1)), questions)
    return next((q for q in questions if same_words(text, q.prompt)), None)


def match_prompts(headers: dict[int, str], questions) -> dict[int, tuple[str, str]]:
    """{column: (question id, how)} for the headers that are the questions' prompts: exactly (or
    their id), else by TF-IDF cosine, one column per question (the best assignment), at least 0.35."""
    matched: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for column, header in headers.items():
        for question in questions:
            if question.id not in taken and (words(header) == words(question.prompt)
                                             or header.strip().casefold() == question.id.casefold()):
                matched[column] = (question.id, "the prompt exactly" if words(header) == words(question.prompt) else "its id")
                taken.add(question.id)
                break
    rest = [c for c in headers if c not in matched and words(headers[c])]
    left = [q for q in questions if q.id not in taken]
    if not rest or not left:
        return matched
    from scipy.optimize import linear_sum_assignment
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    texts = [headers[c] for c in rest] + [q.prompt for q in left]
    vectors = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)).fit_transform(texts)
    similarity = cosine_similarity(vectors[:len(rest)], vectors[len(rest):])
    for row, col in zip(*linear_sum_assignment(-similarity)):
        if similarity[row, col] >= _SIMILAR:
            matched[rest[row]] = (left[col].id, f"similar to its prompt (cosine {similarity[row, col]:.2f})")
    return matched
