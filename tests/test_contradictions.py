"""Contradictions: clauses that state the opposite of a model answer with its words."""

import pytest

from grader.answers import Answer
from grader.features.contradictions import clauses, contradicting_spans
from grader.grading import grade
from grader.rubric import rubric_from_dict

MODEL = ("TCP is connection-oriented and reliable: it guarantees that data arrives in order. "
         "Light travels much faster than sound. Water moves into the cell by osmosis.")


def _inverted(answer: str) -> int:
    return len(contradicting_spans(clauses(answer), clauses(MODEL), frozenset()))


@pytest.mark.parametrize("answer", ["TCP does not guarantee that data arrives in order.",
                                    "Light travels much slower than sound.",
                                    "Water moves out of the cell by osmosis.",
                                    "TCP never guarantees that the data arrives in order."])
def test_negation_role_words_and_antonyms_invert_a_model_clause(answer):
    assert _inverted(answer) == 1


@pytest.mark.parametrize("answer", ["TCP guarantees that data arrives in order.",
                                    "Light is faster than sound, so we see the flash first.",
                                    "Not only does TCP guarantee that data arrives, it arrives in order.",
                                    "Students who didn't know osmosis thought water moves into the cell by magic."])
def test_agreeing_clauses_and_harmless_negations_are_not_contradictions(answer):
    assert _inverted(answer) == 0


def test_a_stakhanovism_inversion_does_not_earn_most_marks_nor_count_as_evidence():
    from grader.rubric import load_rubric
    rubric = load_rubric()
    [graded] = grade(rubric, [Answer("s", "q1", "The Five-Year Plans aimed to reduce industrial output so workers could "
                                               "rest, and Stakhanov was praised for producing less coal than the norm.", "x:1")])
    assert graded.score <= 0.5 * graded.max_score and "contradiction" in graded.flag_codes


def test_an_inverted_answer_is_flagged_without_concepts():
    rubric = rubric_from_dict({"questions": [{"id": "p1", "prompt": "Why do we see lightning before we hear thunder?",
                                              "model_answers": ["Light travels much faster than sound, so the flash "
                                                                "reaches us before the sound of the thunder."]}]})
    right, wrong = grade(rubric, [Answer("a", "p1", "We see it first because light is a lot faster than sound is.", "x:1"),
                                  Answer("b", "p1", "We see it first because light is a lot slower than sound is.", "x:2")])
    assert "contradiction" in wrong.flag_codes and "contradiction" not in right.flag_codes
    assert wrong.score < right.score


def test_a_negation_governs_its_own_clause_only():
    # "check" and "slow" are denied; "data" after "so" or a comma is not.
    [first] = clauses("UDP does not check so data can be lost.")
    [second] = clauses("TCP is not slow, data arrives in order.")
    assert first.denied == {"check"} and second.denied == {"slow"}
