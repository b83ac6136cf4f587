"""The grading pipeline: answers in, one GradedAnswer per answer out, in a stable order.

rubric -> answers -> features (batch) -> scorer -> flags and feedback. Answers that cannot be
graded (unreadable, blank, too long, duplicate, unknown question) come back with no score and
a flag saying why, so nothing read is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .answers import Answer
from .feedback import feedback_for
from .features import FEATURE_NAMES, AnswerFeatures, ConceptResult
from .flags import Flag, answer_flags, near_duplicates, near_duplicates_in_texts, rubric_checks
from .rubric import Rubric
from .runtime import Runtime
from .scoring import learned_cap, scorer_for
from .scoring.confidence import confidence as confidence_of

REVIEW_CONFIDENCE = 0.5
"""Answers whose confidence is below this go to the review queue (`needs_review`)."""

_PROBLEM_REASONS = {
    "unreadable": "could not be read",
    "empty": "the answer is blank",
    "truncated": "the answer is too long to grade",
    "duplicate": "a second answer to the same question",
    "unsplit": "one file held several answers and could not be split by question with confidence",
}


@dataclass(slots=True)
class GradedAnswer:
    student_id: str
    question_id: str
    answer: str
    source: str
    max_score: float
    score: float | None = None
    raw_score: float | None = None      # before rounding to the scale's step and before caps
    confidence: float = 0.0
    needs_review: bool = True
    flags: list[Flag] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    concepts: list[ConceptResult] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    name: str = ""                      # the student's name and e-mail as the input gave them
    email: str = ""
    input_index: int = -1               # the answer's position in the input (the gradebook keeps that order)
    scored_by: str = "grader"         # "teacher" when the teacher's mark is final (marking.py)

    @property
    def flag_codes(self) -> list[str]:
        return [flag.code for flag in self.flags]


def grade(rubric: Rubric, answers: list[Answer], scorer=None, runtime: Runtime | None = None) -> list[GradedAnswer]:
    """Grade answers against the rubric; returns one GradedAnswer per input answer, sorted by
    student then the rubric's question order. `scorer`: a fitted regressor of the feature matrix
    (default: scoring.scorer_for(rubric)); `runtime`: how a big batch may use the machine (default:
    Runtime(), which forks on Linux from 5,000 answers)."""
    runtime = runtime or Runtime()
    scorer = scorer if scorer is not None else scorer_for(rubric)
    graded: list[GradedAnswer] = []
    gradable: list[Answer] = []
    gradable_index: list[int] = []
    for index, answer in enumerate(answers):
        max_score = rubric.max_score(answer.question_id)
        who = {"name": answer.name, "email": answer.email, "input_index": index}
        if answer.problem is not None:
            reason = answer.detail or _PROBLEM_REASONS.get(answer.problem, answer.problem)
            graded.append(GradedAnswer(answer.student_id, answer.question_id, answer.text, answer.source,
                                       max_score, flags=[Flag(answer.problem, reason)],
                                       feedback=[f"Not graded: {reason}."], **who))
        elif rubric.question(answer.question_id) is None:
            known = ", ".join(q.id for q in rubric.questions)
            reason = f"question {answer.question_id!r} is not in the rubric (it has {known})"
            graded.append(GradedAnswer(answer.student_id, answer.question_id, answer.text, answer.source,
                                       max_score, flags=[Flag("unknown_question", reason)],
                                       feedback=[f"Not graded: {reason}."], **who))
        else:
            gradable.append(answer)
            gradable_index.append(index)
    order = {q.id: i for i, q in enumerate(rubric.questions)}
    with runtime.batch():   # the sort too: its 100,000 keys would set off full collections
        if gradable:
            for index, result in zip(gradable_index, _grade_batch(rubric, gradable, scorer, runtime)):
                result.input_index = index
                graded.append(result)
        graded.sort(key=lambda g: (g.student_id, order.get(g.question_id, len(order)), g.question_id, g.source))
    return graded


def _grade_batch(rubric: Rubric, answers: list[Answer], scorer, runtime: Runtime) -> list[GradedAnswer]:
    # Near-duplicates need only the texts: on a big batch a forked process (the second core)
    # looks for them while this one computes the features and scores.
    identities = ([a.question_id for a in answers], [a.student_id for a in answers], [a.text for a in answers])
    with runtime.forked(len(answers), near_duplicates_in_texts, *identities) as pending:
        return _score_and_explain(rubric, answers, scorer, identities, pending, runtime)


def _score_and_explain(rubric: Rubric, answers: list[Answer], scorer, identities, pending, runtime: Runtime) -> list[GradedAnswer]:
    X = [(a.question_id, a.text) for a in answers]
    analysis = AnswerFeatures(rubric, runtime=runtime).fit_analyze(X)
    fractions = np.clip(scorer.predict(analysis.values), 0.0, 1.0)
    duplicates = pending.result() if pending is not None else near_duplicates(*identities, analysis.words)
    steps = np.array([rubric.scale.step / rubric.max_score(a.question_id) for a in answers])
    confidences = confidence_of(analysis.values, fractions, steps)
    checks = rubric_checks(rubric)
    # Python floats once for the whole batch, not one numpy scalar conversion per value.
    value_rows = analysis.values.tolist()
    foreign_shares, other_margins = analysis.foreign_shares.tolist(), analysis.other_margins.tolist()

    def flags_and_feedback(start: int, stop: int) -> list[tuple[list[Flag], list[str]]]:
        # Per answer in Python (regexes and word triples over its text): split across processes.
        rows = []
        for i in range(start, stop):
            answer = answers[i]
            flags = answer_flags(value_rows[i], analysis.concepts[i], answer.text, analysis.words[i],
                                 analysis.content_runs[i], checks[answer.question_id], foreign_share=foreign_shares[i],
                                 other_question=analysis.other_questions[i], other_margins=tuple(other_margins[i]))
            if i in duplicates:
                other, similarity = duplicates[i]
                flags.append(Flag("near_duplicate", f"{similarity:.0%} similar to the answer of student {answers[other].student_id}"))
            rows.append((flags, feedback_for(analysis.concepts[i], flags, analysis.missing_terms[i])))
        return rows

    explained = runtime.split_map(flags_and_feedback, len(answers))
    # Rounded in numpy: round(v, 4) for each of 2 million values took a second.
    feature_rows = np.round(analysis.values, 4).tolist()
    fraction_list = fractions.tolist()
    confidence_list = confidences.tolist()
    scales = {q.id: rubric.scale_for(q.id) for q in rubric.questions}
    results = []
    for i, answer in enumerate(answers):
        scale = scales[answer.question_id]
        flags, feedback = explained[i]
        fraction = min(fraction_list[i], learned_cap(rubric, [flag.code for flag in flags]))
        confidence = confidence_list[i] * (0.5 if flags else 1.0)
        results.append(GradedAnswer(
            student_id=answer.student_id, question_id=answer.question_id, answer=answer.text,
            source=answer.source, max_score=scale.max,
            score=scale.snap(fraction * scale.max), raw_score=round(fraction_list[i] * scale.max, 4),
            confidence=round(confidence, 3), needs_review=bool(flags) or confidence < REVIEW_CONFIDENCE,
            flags=flags, feedback=feedback, concepts=analysis.concepts[i],
            features=dict(zip(FEATURE_NAMES, feature_rows[i])), name=answer.name, email=answer.email,
        ))
    return results
