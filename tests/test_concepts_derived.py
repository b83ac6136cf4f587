"""Concepts that read right (negative labels, echoes) and concepts derived by `rubric import`."""

from collections import Counter

from grader.answers import Answer
from grader.grading import grade
from grader.importer import derive_concepts
from grader.rubric import rubric_from_dict

PROMPT = "A red blood cell is placed in pure water. Explain what happens to the cell and why."
MODEL = "Water moves into the cell by osmosis. The cell swells and bursts because animal cells have no cell wall."


def _status(rubric, text):
    [graded] = grade(rubric, [Answer("s", "b1", text, "x:1")])
    return {c.label: c.status for c in graded.concepts}, graded


def _biology(*concepts):
    return rubric_from_dict({"questions": [{"id": "b1", "prompt": PROMPT, "model_answers": [MODEL],
                                            "concepts": [{"label": c} for c in concepts]}]})


def test_a_negative_concept_is_matched_as_itself_not_as_its_denial():
    rubric = _biology("no cell wall", "osmosis", "lack of oxygen")
    status, graded = _status(rubric, "There is no cell wall so the cell swells and bursts.")
    assert status["no cell wall"] == "found" and "contradiction" not in graded.flag_codes
    assert _status(rubric, "It doesn't have a cell wall to hold it, so the cell pops open.")[0]["no cell wall"] != "negated"
    assert _status(rubric, "A lack of oxygen inside the cell makes it swell.")[0]["lack of oxygen"] == "found"
    # Naming the wall without a negation does not earn the negative concept.
    assert _status(rubric, "The cell wall holds the cell together and keeps its shape.")[0]["no cell wall"] == "missing"


def test_echo_only_for_words_the_prompt_contains_and_never_for_the_bare_key_term():
    rubric = _biology("osmosis", "cell")
    assert _status(rubric, "Osmosis. Water moves in and then the cell bursts.")[0]["osmosis"] == "found"
    assert _status(rubric, "osmosis")[0]["osmosis"] == "found"
    assert _status(rubric, "The cell is placed in the water.")[0]["cell"] == "echo"


def test_derived_concepts_keep_a_negation_and_weigh_central_phrases_most():
    frequency = Counter({"water": 2, "cell": 2})
    concepts = derive_concepts(PROMPT, [MODEL, "The cell gains water by osmosis and bursts, as it has no cell wall."],
                               frequency)
    labels = [c["label"] for c in concepts]
    assert "no cell wall" in labels and "osmosis" in labels and "cell" not in labels   # the prompt's own word
    assert max(c["weight"] for c in concepts) == 2.0 and all(c["weight"] > 0 for c in concepts)
    assert derive_concepts("Name one freedom.", ["freedom of speech"], frequency) == []   # a short answer


def test_feedback_without_teacher_concepts_names_what_is_covered_and_differs_between_students(tmp_path):
    from grader.grading import REVIEW_CONFIDENCE
    from grader.importer import import_questions

    questions = tmp_path / "q.csv"
    questions.write_text(f'question_id,prompt,model_answer\nb1,"{PROMPT}","{MODEL}"\n', encoding="utf-8")
    rubric = import_questions(questions).rubric
    texts = ["Water goes in by osmosis and the cell bursts, because there is no cell wall.",
             "There is no cell wall so the cell swells.", "The cell absorbs too much water and pops."]
    graded = grade(rubric, [Answer(f"s{i}", "b1", t, f"x:{i}") for i, t in enumerate(texts)])
    assert len({tuple(g.feedback) for g in graded}) == 3
    assert graded[0].feedback[0].startswith("Covered:") and "osmosis" in graded[0].feedback[0]
    assert not any("Key terms" in line for g in graded for line in g.feedback)
    # Same meaning, other words: a low score the grader cannot be sure of goes to review.
    assert graded[2].score <= 2.5 and graded[2].confidence < REVIEW_CONFIDENCE and graded[2].needs_review


def test_a_negation_the_model_answer_makes_itself_is_no_denial():
    rubric = rubric_from_dict({"questions": [{
        "id": "h1", "prompt": "What does it mean that a web protocol is stateless?",
        "model_answers": ["The server does not remember anything about earlier requests; each request stands alone."],
        "concepts": [{"label": "server"}, {"label": "earlier requests"}]}]})
    [graded] = grade(rubric, [Answer("s", "h1", "Nothing is stored: the server never holds on to earlier requests.", "x:1")])
    assert {c.label: c.status for c in graded.concepts} == {"server": "found", "earlier requests": "found"}
    assert "contradiction" not in graded.flag_codes


def test_a_negation_does_not_reach_into_another_clause():
    rubric = _biology("osmosis", "bursts")
    status = _status(rubric, "Water goes in by osmosis, not by a pump, and the cell bursts.")[0]
    assert status == {"osmosis": "found", "bursts": "found"}
    status = _status(rubric, "Water enters, but not by osmosis, and the cell bursts.")[0]
    assert status["osmosis"] == "negated"
