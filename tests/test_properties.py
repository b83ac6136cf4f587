"""Property-based tests: random text and bytes never crash the readers or the grader, every answer
read comes back exactly once, and every score is within the scale."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.answers import Answer, read_answers
from grader.grading import grade
from grader.text import UnreadableText, decode_bytes, normalize, tokenize

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
student_ids = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
answer_texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(["quota", "Stakhanov", "propaganda", "the", "not", "burnout", "Five-Year", "Plans",
                              "resentment", ",", ".", "workers", "and", "no", "reform", "\n", "102", "tons"]),
             max_size=60).map(" ".join),
)


@SETTINGS
@given(st.binary(max_size=2000))
def test_decode_never_crashes_and_returns_text(data):
    try:
        text, encoding = decode_bytes(data)
    except UnreadableText:
        return
    assert isinstance(text, str) and encoding


@SETTINGS
@given(st.text(max_size=500))
def test_normalize_is_idempotent_and_tokens_point_into_the_text(text):
    once = normalize(text)
    assert normalize(once) == once
    for token in tokenize(once):
        assert 0 <= token.start < token.end <= len(once)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["q1", "q2", "q3", "q9"]), answer_texts), min_size=1, max_size=12))
def test_grader_scores_every_answer_within_range(rubric, items):
    answers = [Answer(f"s{i}", qid, normalize(text), f"t:{i}", None if normalize(text) else "empty")
               for i, (qid, text) in enumerate(items)]
    results = grade(rubric, answers)
    assert sorted(r.source for r in results) == sorted(a.source for a in answers)
    for r in results:
        assert r.feedback and 1 <= len(r.feedback) <= 4
        assert 0.0 <= r.confidence <= 1.0
        if r.score is None:
            assert r.flags and r.needs_review
        else:
            assert 0 <= r.score <= r.max_score
            assert abs(r.score / 0.5 - round(r.score / 0.5)) < 1e-9


@SETTINGS
@given(st.lists(st.tuples(student_ids, st.sampled_from(["q1", "q2"]), st.text(max_size=200)), min_size=1, max_size=10))
def test_every_csv_row_comes_back_exactly_once(tmp_path_factory, rubric, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student_id", "question_id", "answer"])
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "answers.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    answers = read_answers([path])
    expected = [r for r in rows if any(cell.strip() for cell in r)]
    assert len(answers) == len(expected)
    results = grade(rubric, answers)
    assert len(results) == len(answers)


@SETTINGS
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=6))
def test_folder_of_random_files_is_fully_accounted_for(tmp_path_factory, rubric, blobs):
    folder = tmp_path_factory.mktemp("answers")
    (folder / "student one").mkdir()
    for i, blob in enumerate(blobs):
        (folder / "student one" / f"q{i % 3 + 1}{'' if i < 3 else f'-{i}'}.txt").write_bytes(blob)
    answers = read_answers([folder])
    assert len(answers) == len(blobs)
    assert len(grade(rubric, answers)) == len(blobs)
