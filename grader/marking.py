"""The teacher's marks applied to a run's results: a marked answer takes the teacher's score and
feedback (`scored_by` "teacher"), and what the marks teach moves the other answers' scores
(scoring/adapt.py, on top of the base scorer's).

Marks are matched to answers by student and question. A mark for an answer the input does not
have is kept in `MarksApplied.unmatched` (the pipeline says so and the summary counts it), never
dropped; a mark whose answer text differs from the input's is still used, and listed in `changed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .grading import GradedAnswer
from .rubric import Rubric
from .marks import Mark
from .scoring import learned_cap
from .scoring.adapt import MarkAdapter, for_base
from .text import normalize

TEACHER, GRADER = "teacher", "grader"


@dataclass
class MarksApplied:
    marked: int = 0                                        # answers the marks were applied to
    unmatched: list[Mark] = field(default_factory=list)    # marks for answers not in the input
    changed: list[Mark] = field(default_factory=list)      # marks whose answer text differs from the input's
    learned: str = ""                                       # what the marks taught, in one line
    moved: int = 0                                         # other answers whose score the marks changed

    def lines(self) -> list[str]:
        """What a teacher should hear about the marks (the pipeline's `say`)."""
        lines = [self.learned] if self.learned else []
        lines += [f"{mark.source}: the answer in the marks differs from the input's for student {mark.student_id!r}, "
                 f"question {mark.question_id!r}; the mark is used" for mark in self.changed]
        lines += [f"{mark.source}: no answer in the input from student {mark.student_id!r} to question "
                  f"{mark.question_id!r}; the mark is not used (check the ids, or add the answer)" for mark in self.unmatched]
        return lines


def match_marks(results: list[GradedAnswer], marks: list[Mark]) -> tuple[dict[int, Mark], MarksApplied]:
    """index of the result -> its mark (the first answer of a student to a question: a second one
    is flagged `duplicate` and keeps no mark), and what did not match."""
    index: dict[tuple[str, str], int] = {}
    for i, result in enumerate(results):
        if not any(flag.code == "duplicate" for flag in result.flags):
            index.setdefault((result.student_id, result.question_id), i)
    matched: dict[int, Mark] = {}
    applied = MarksApplied()
    for mark in marks:
        i = index.get((mark.student_id, mark.question_id))
        if i is None:
            applied.unmatched.append(mark)
            continue
        matched[i] = mark
        if mark.answer and _words(mark.answer) != _words(results[i].answer):
            applied.changed.append(mark)
    applied.marked = len(matched)
    return matched, applied


def make_final(result: GradedAnswer, mark: Mark) -> None:
    """The teacher's score and feedback replace the grader's; a reviewed answer is not queued again."""
    if mark.score is not None:
        result.score = mark.score
        result.raw_score = mark.score
        result.scored_by = TEACHER
        result.confidence = 1.0
        result.needs_review = False
    if mark.feedback:
        result.feedback = [mark.feedback]


def _words(text: str) -> str:
    """The text with whitespace normalised: a mark that only re-wraps the answer is the same answer."""
    return " ".join(normalize(text).split())


def apply_marks(results: list[GradedAnswer], marks: list[Mark], rubric: Rubric, learn: bool = True) -> MarksApplied:
    """Make the marks final in `results` (changed in place) and, with `learn`, let the scored
    marks move the other answers' scores (MarkAdapter); returns what matched, what did not and
    what was learned."""
    matched, applied = match_marks(results, marks)
    if learn:
        taught = [i for i, mark in matched.items() if mark.score is not None and results[i].raw_score is not None]
        others = [i for i, r in enumerate(results) if i not in matched and r.raw_score is not None]
        if taught:
            adapter = adapter_for(rubric).fit(adapter_rows([results[i] for i in taught], rubric),
                                        [matched[i].score / results[i].max_score for i in taught])
            applied.learned = adapter.summary()
            if others:
                applied.moved = rescore(results, others, adapter.predict(adapter_rows([results[i] for i in others], rubric)), rubric)
    for i, mark in matched.items():
        make_final(results[i], mark)
    return applied


def adapter_for(rubric: Rubric) -> MarkAdapter:
    """The unfitted MarkAdapter for the rubric's scorer: the stricter grid for the shipped general
    model (calibrated on other courses' marks; a few marks of a new course showed it nothing to fix,
    BENCHMARKS.md), the measured FOR_RULES grid for the rule scorer and for a model `tune` fitted on
    this course's marks (UNT: marks of a held-out assignment still taught it, k=10 0.65 -> 0.74)."""
    return for_base(rules=bool(rubric.model) or rubric.scorer == "rules")


def adapter_rows(results: list[GradedAnswer], rubric: Rubric) -> list[tuple]:
    """MarkAdapter's rows: question, text, the grader's fraction after caps, the cap, model recall."""
    rows = []
    for r in results:
        cap = learned_cap(rubric, r.flag_codes)
        rows.append((r.question_id, r.answer, min(r.raw_score / r.max_score, cap), cap, r.features.get("word_recall", 0.0)))
    return rows


def rescore(results: list[GradedAnswer], indexes: list[int], fractions, rubric: Rubric) -> int:
    """New scores for results[indexes] from adapted fractions; returns how many changed."""
    moved = 0
    for i, fraction in zip(indexes, fractions):
        r = results[i]
        score = rubric.scale_for(r.question_id).snap(float(fraction) * r.max_score)
        moved += score != r.score
        r.score, r.raw_score = score, round(float(fraction) * r.max_score, 4)
    return moved


def apply_learned(results: list[GradedAnswer], adapter: MarkAdapter, rubric: Rubric) -> int:
    """What `grader tune` learned from earlier marks (the rubric's `[marks]`), applied to every
    scored answer; returns how many scores it changed."""
    scored = [i for i, r in enumerate(results) if r.raw_score is not None]
    if not scored:
        return 0
    return rescore(results, scored, adapter.predict(adapter_rows([results[i] for i in scored], rubric)), rubric)
