"""The short-answer ceiling (features/short.py): hedges, shotgun lists and wrong numbers."""

from grader.answers import Answer
from grader.features.short import WRONG_NUMBER, ShortReference, stated_numbers
from grader.grading import grade
from grader.importer import import_questions
from grader.rubric import Question


def test_digits_and_number_words_are_one_number_and_a_negation_denies_it():
    assert stated_numbers("7 or seven") == ({7.0}, set())
    assert stated_numbers("not twelve, there are 13") == ({13.0}, {12.0})


def _reference(prompt, *answers):
    question = Question(id="q", prompt=prompt, model_answers=tuple(answers))
    return ShortReference.of(question, frozenset())


def test_ceiling_for_hedges_lists_and_numbers():
    legs = _reference("How many legs does a spider have?", "eight", "8")
    assert legs.ceiling("8 legs") == 1.0 and legs.ceiling("eight, I think") == 1.0
    assert legs.ceiling("six") == WRONG_NUMBER and legs.ceiling("not eight but ten") == WRONG_NUMBER
    assert legs.ceiling("6 or 8") == 0.25
    gas = _reference("Name a noble gas.", "helium", "neon", "argon")
    assert gas.ceiling("neon, argon, helium") == 1.0
    assert gas.ceiling("neon, oxygen, iron, carbon") == 0.25
    assert gas.ceiling("the one that glows in signs") == 1.0


def test_a_hedged_answer_is_not_correct_when_graded(tmp_path):
    questions = tmp_path / "questions.csv"
    questions.write_text("question_id,prompt,model_answer\nm1,How many planets orbit the Sun?,eight\n", encoding="utf-8")
    rubric = import_questions(questions).rubric
    scores = {a: g.score for a, g in zip(("8", "6, 8 or 9", "twelve"), [
        grade(rubric, [Answer("s", "m1", text, "t")])[0] for text in ("8", "6, 8 or 9", "twelve")])}
    assert scores["8"] == 5.0 and scores["6, 8 or 9"] < 2.5 and scores["twelve"] <= 0.5
