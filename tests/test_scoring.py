"""The required scoring behaviours, each on the bundled Stakhanovism rubric."""

import pytest

from conftest import SAMPLES, grade_texts

from grader.answers import Answer
from grader.grading import grade

EXCELLENT_Q1 = (
    "The Five-Year Plans demanded rapid industrialization, so every mine and factory had production quotas. "
    "In 1935 Alexei Stakhanov mined 102 tons of coal in one shift, fourteen times the norm, and the party made "
    "him a model so that all workers would try to overfulfil their targets. Socialist competition and bonuses "
    "pushed labour productivity up, which is exactly what the plans needed."
)


def test_excellent_answer_gets_high_marks_with_evidence(rubric):
    [result] = grade_texts(rubric, ("q1", EXCELLENT_Q1))
    assert result.score >= 4.5
    assert not result.flags
    found = {c.label: c.evidence for c in result.concepts if c.status == "found"}
    assert "102 tons of coal" in found["Stakhanov's record"]
    assert all(piece in EXCELLENT_Q1 for piece in found["Five-Year Plans"].split("..."))


@pytest.mark.parametrize("qid, text, flag", [
    ("q1", "Five-Year Plans, quotas, productivity, industrialization, Stakhanov, socialist competition, rewards, propaganda", "keyword_list"),
    ("q2", "propaganda heroes New Soviet Man privileges pressure punishment resentment reality", "keyword_list"),
    ("q1", "How did Stakhanovism reflect the goals of Stalin's Five-Year Plans in terms of labor productivity?", "restates_question"),
    ("q3", "The long-term effects of Stakhanovism on labor practices in the Soviet Union had implications for future economic policies.", "restates_question"),
    ("q2", "Photosynthesis is the process by which green plants use sunlight, water and carbon dioxide to make glucose and release oxygen into the air.", "off_topic"),
    ("q3", "asdkj qwpeoi zxmcnv lkjasd poiqwe mnbzxc qwertyuiop asdfghjkl", "gibberish"),
])
def test_gaming_and_empty_answers_stay_at_or_near_zero(rubric, qid, text, flag):
    [result] = grade_texts(rubric, (qid, text))
    assert result.score <= 1.0, result
    assert flag in result.flag_codes
    assert result.needs_review


def test_blank_answer_is_flagged_not_scored(rubric):
    results = grade(rubric, [Answer("s1", "q1", "", "x", "empty", "the answer is blank")])
    assert results[0].score is None and results[0].flag_codes == ["empty"]


def test_long_answer_that_says_nothing_scores_below_a_short_precise_one(rubric):
    padding = (
        "Stakhanovism was a very important thing in the history of the Soviet Union and it is interesting to "
        "think about. Many people have different opinions about it, and it affected many things in many different "
        "ways. It was a big part of what happened at that time, and people still talk about it today because it "
        "shows how things were back then. In conclusion, it mattered a great deal for everyone involved in it."
    )
    precise = "It gave the plans a hero: Stakhanov's 102-ton shift was used to push every worker to beat their quota."
    long_result, short_result = grade_texts(rubric, ("q1", padding), ("q1", precise))
    assert long_result.score < short_result.score
    assert long_result.score <= 1.0


def test_contradicting_the_model_answer_with_its_words_is_not_full_marks(rubric):
    contradiction = (
        "Stakhanovism had nothing to do with the Five-Year Plans. It did not raise labour productivity, there "
        "were no production quotas, there was no socialist competition between workers and nobody was rewarded "
        "with bonuses. Industrialization was not a goal."
    )
    [result] = grade_texts(rubric, ("q1", contradiction))
    assert result.score <= 1.5
    assert "contradiction" in result.flag_codes
    assert any(c.status == "negated" for c in result.concepts)


def test_failing_a_target_is_not_a_contradiction(rubric):
    text = ("Under the Five-Year Plans workers who could not meet the raised quotas were punished, and many "
            "could not keep up with the Stakhanovite norms, which bred resentment against the record breakers.")
    [result] = grade_texts(rubric, ("q1", text))
    statuses = {c.label: c.status for c in result.concepts}
    assert statuses["production quotas and targets"] == "found"
    assert "contradiction" not in result.flag_codes


def test_misspellings_still_count(rubric):
    [result] = grade_texts(rubric, ("q2", "The state used propoganda to turn Stakanovites into heros and workers felt resentmant towards them."))
    statuses = {c.label: c.status for c in result.concepts}
    assert statuses["propaganda"] == "found"
    assert statuses["resentment among workers"] == "found"


def _sentence_for(concept) -> str:
    phrase = concept.aliases[0] if concept.aliases else concept.label
    return f" Another part of the story was {phrase}, which changed how the workers in the mines were treated."


def test_adding_a_missing_concept_in_a_real_sentence_never_lowers_a_score(rubric):
    bases = []
    for student in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for file in sorted(student.glob("q*.txt")):
            text = file.read_text(encoding="utf-8").strip()
            if text:
                bases.append((file.stem, text))
    pairs, checks = list(bases), []
    baselines = grade_texts(rubric, *bases)
    for index, (qid, text) in enumerate(bases):
        baseline = baselines[index]
        for concept in rubric.question(qid).concepts:
            status = next(c.status for c in baseline.concepts if c.label == concept.label)
            if status == "found":
                continue
            checks.append((index, len(pairs), concept.label))
            pairs.append((qid, text + _sentence_for(concept)))
    results = grade_texts(rubric, *pairs)
    assert len(checks) > 40
    for base_index, extended_index, label in checks:
        before, after = results[base_index], results[extended_index]
        assert after.raw_score >= before.raw_score - 1e-9, (label, before.answer, before.raw_score, after.raw_score)
        assert after.score >= before.score, (label, before.answer, before.score, after.score)
