"""Score caps: the highest share of the marks a flagged answer can get.

A gaming flag caps the score, so a flagged answer is scored conservatively (and always goes to
the review queue); `grader tune` may raise a cap the teacher's marks contradict (`[model.caps]`).
"""

from __future__ import annotations

from typing import Iterable, Mapping

SCORE_CAPS: dict[str, float] = {
    "keyword_list": 0.25,
    "keyword_stuffing": 0.25,
    "restates_question": 0.25,
    "off_topic": 0.25,
    "gibberish": 0.0,
    "no_answer": 0.0,
    "not_english": 0.25,
    "repetitive": 0.25,
    "copies_model_answer": 0.25,
    "contradiction": 0.5,
    "wrong_question": 0.25,
    "padding": 0.25,
}
"""Flag code -> share of the marks; flags not listed do not cap."""


def cap_for(flag_codes: Iterable[str], raised: Mapping[str, float] | None = None) -> float:
    """The highest share of the marks these flags allow (1.0 when none caps); `raised` holds caps a
    tuned rubric raised where the teacher's marks exceeded the defaults."""
    raised = raised or {}
    return min([float(raised.get(code, SCORE_CAPS.get(code, 1.0))) for code in flag_codes], default=1.0)
