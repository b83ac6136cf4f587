"""The short-answer ceiling: the most a few-word answer can earn when it hedges or names the wrong number.

For a question answered in a few words ("nine", "freedom of speech"), an answer that lists one-word
options joined by "or" (a hedge: "5, 7 or 9"; longer options cost UNT and SemEval 0.01 of r) or strings several one- or two-word options together (a shotgun
list: "speech, guns, jury") earns at most the share of its options that an acceptable answer names
(a hedge half of that: it does not commit); an answer that states only other numbers than the model
answers' (or denies theirs: "not nine but eleven") at most WRONG_NUMBER. 1 where nothing caps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..rubric import Question
from ..text import NEGATIONS, tokenize

WRONG_NUMBER = 0.1
_NUMBER_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0,
                                                     "seventy": 70.0, "eighty": 80.0, "ninety": 90.0, "hundred": 100.0,
                                                     "thousand": 1000.0, "dozen": 12.0}
_SEPARATOR_RE = re.compile(r",|;|/|&|\bor\b|\band\b", re.IGNORECASE)
_DISJUNCTION_RE = re.compile(r"/|\bor\b", re.IGNORECASE)


def stated_numbers(text: str) -> tuple[set[float], set[float]]:
    """The numbers a text states (digits and number words as one: "9" is "nine") and those it denies
    (a negation among the two words before: "not nine")."""
    affirmed: set[float] = set()
    denied: set[float] = set()
    tokens = tokenize(text)
    for i, token in enumerate(tokens):
        value = float(token.word) if token.word.isdigit() else _NUMBER_WORDS.get(token.word)
        if value is not None:
            negated = any(t.word in NEGATIONS for t in tokens[max(0, i - 2):i])
            (denied if negated else affirmed).add(value)
    return affirmed, denied


def _content(text: str, prompt_stems: frozenset[str]) -> frozenset[str]:
    stems = frozenset(t.stem for t in tokenize(text) if t.is_content)
    return (stems - prompt_stems) or stems


@dataclass(frozen=True)
class ShortReference:
    """What the ceiling compares with, per question: each acceptable answer's content stems (the
    prompt's left out unless it has no others), their numbers, and whether any is itself a list."""

    answers: tuple[frozenset[str], ...]
    numbers: frozenset[float]
    listed: bool
    prompt_stems: frozenset[str]

    @classmethod
    def of(cls, question: Question, prompt_stems: frozenset[str]) -> "ShortReference":
        texts = question.model_answers
        # Only a model answer that is a number ("nine", "9 justices") makes it a how-many question:
        # "terminal 1 is connected to the bulb" is not answered wrongly by naming terminal 2.
        numbers = frozenset(n for text in texts for n in stated_numbers(text)[0]
                            if 2 * len(stated_numbers(text)[0]) >= len(_content(text, prompt_stems)))
        listed = any(len([p for p in _SEPARATOR_RE.split(t) if _content(p, frozenset())]) > 1 for t in texts)
        return cls(tuple(_content(t, prompt_stems) for t in texts), numbers, listed, prompt_stems)

    def names_an_answer(self, option: str) -> bool:
        stems = _content(option, self.prompt_stems)
        return (bool(self.numbers & stated_numbers(option)[0])
                or any(len(stems & answer) >= 0.5 * len(answer) for answer in self.answers if answer))

    def ceiling(self, text: str) -> float:
        affirmed, denied = stated_numbers(text)
        if self.numbers and (affirmed or denied & self.numbers) and not affirmed & self.numbers:
            return WRONG_NUMBER
        options = [part for part in _SEPARATOR_RE.split(text) if _content(part, frozenset())]
        sizes = [len(_content(part, frozenset())) for part in options]
        right = sum(map(self.names_an_answer, options)) / len(options) if options else 1.0
        if len(options) >= 2 and max(sizes) <= 1 and _DISJUNCTION_RE.search(text) and right < 1:
            return 0.5 * right
        if len(options) >= 3 and max(sizes) <= 2 and not self.listed and right < 1:
            return right
        return 1.0
