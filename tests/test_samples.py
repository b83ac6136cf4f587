"""The bundled samples grade in the order a teacher would rank them."""

from statistics import mean

from conftest import SAMPLES

from grader.answers import read_answers
from grader.grading import grade


def test_sample_scores_follow_their_quality(rubric):
    results = grade(rubric, read_answers([SAMPLES]))
    assert len(results) == 24
    by_student = {}
    for r in results:
        assert r.score is None or 0 <= r.score <= r.max_score
        by_student.setdefault(r.student_id, []).append(r)
    total = {s: mean(r.score or 0 for r in rs) for s, rs in by_student.items()}
    # excellent > short precise > partial > vague; vague, wrong, keyword list and restating the
    # question near zero
    assert total["amara"] > total["hana"] > total["ben"] > total["chen"]
    assert total["chen"] <= 1, total["chen"]
    for student in ("dara", "fay", "gus"):
        assert total[student] <= 0.5, (student, total[student])
    assert all(r.score is None and r.flag_codes == ["empty"] for r in by_student["eli"])
    assert all(r.score == 5 for r in by_student["amara"])
    assert all("keyword_list" in r.flag_codes for r in by_student["fay"])
    assert all("restates_question" in r.flag_codes for r in by_student["gus"])


def test_feedback_quotes_the_students_words_and_names_what_is_missing(rubric):
    results = {(r.student_id, r.question_id): r for r in grade(rubric, read_answers([SAMPLES]))}
    ben = results[("ben", "q1")]
    assert 1 <= len(ben.feedback) <= 4
    assert ben.feedback[0].startswith("Covered: ")
    for concept in ben.concepts:
        if concept.status == "found":
            for piece in concept.evidence.split("..."):
                assert piece in ben.answer
    missing_lines = {c.missing for c in ben.concepts if c.status == "missing"}
    assert any(sentence in missing_lines for sentence in ben.feedback)
    amara = results[("amara", "q2")]
    assert amara.feedback[0].count('("') == 3
