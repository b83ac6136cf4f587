import pytest

from grader.rubric import RubricError, bundled_rubric_path, dump_rubric, load_rubric, rubric_from_dict

VALID = """
title = "T"
[scale]
max = 5
step = 0.5
[[questions]]
id = "q1"
prompt = "Why?"
model_answers = ["Because of the plan."]
[[questions.concepts]]
label = "plan"
weight = 2
aliases = ["five-year plan"]
missing = "Mention the plan."
"""


def write(tmp_path, text):
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_rubric_is_the_default_and_covers_the_course_concepts(rubric):
    assert bundled_rubric_path().read_bytes() == (bundled_rubric_path().parent / "stakhanovism.toml").read_bytes()
    assert load_rubric().questions == rubric.questions
    assert [q.id for q in rubric.questions] == ["q1", "q2", "q3"]
    labels = {q.id: {c.label.lower() for c in q.concepts} for q in rubric.questions}
    assert "five-year plans" in labels["q1"]
    assert "propaganda" in labels["q2"]
    assert "resentment among workers" in labels["q2"]
    assert "burnout" in labels["q3"]
    for question in rubric.questions:
        assert len(question.model_answers) >= 2
        assert all(c.missing and c.weight > 0 and c.aliases for c in question.concepts)


def test_valid_rubric_round_trips_through_toml(tmp_path):
    rubric = load_rubric(write(tmp_path, VALID))
    again = load_rubric(write(tmp_path, dump_rubric(rubric)))
    assert again.questions == rubric.questions and again.scale == rubric.scale


def test_course_reading_is_kept_through_toml(tmp_path):
    rubric = load_rubric(write(tmp_path, VALID.replace('title = "T"', 'title = "T"\nsources = ["""The plan set quotas."""]')))
    assert rubric.sources == ("The plan set quotas.",)
    assert load_rubric(write(tmp_path, dump_rubric(rubric))).sources == rubric.sources


@pytest.mark.parametrize("edit, field, fix", [
    (lambda t: t.replace('title = "T"', 'title = "T"\ncolour = "red"'), "colour", "unknown key"),
    (lambda t: t.replace('weight = 2', 'weight = 2\nwieght = 1'), "questions[0].concepts[0].wieght", "unknown key"),
    (lambda t: t.replace('model_answers = ["Because of the plan."]', 'model_answers = []'), "questions[0].model_answers", "no model answer"),
    (lambda t: t.replace('model_answers = ["Because of the plan."]\n', ''), "questions[0].model_answers", "no model answer"),
    (lambda t: t.replace('weight = 2', 'weight = 0'), "questions[0].concepts[0].weight", "greater than 0"),
    (lambda t: t.replace('weight = 2', 'weight = -1.5'), "questions[0].concepts[0].weight", "greater than 0"),
    (lambda t: t + '[[questions]]\nid = "q1"\nprompt = "Again?"\nmodel_answers = ["x"]\n', "questions[1].id", "duplicate id 'q1'"),
    (lambda t: t + '[[questions.concepts]]\nlabel = "Plan"\n', "questions[0].concepts[1].label", "duplicate concept"),
    (lambda t: t.replace('step = 0.5', 'step = 2'), "scale.step", "does not divide"),
    (lambda t: t.replace('prompt = "Why?"\n', ''), "questions[0].prompt", "missing"),
    (lambda t: t.replace('title = "T"', 'title = "T"\nsources = "one text"'), "sources", "list of non-empty texts"),
    (lambda t: t.replace('title = "T"', 'title = "T"\nsources = ["", "x"]'), "sources", "list of non-empty texts"),
])
def test_invalid_rubrics_name_the_file_the_field_and_the_fix(tmp_path, edit, field, fix):
    path = write(tmp_path, edit(VALID))
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}: ")
    assert fix in message


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, VALID.replace('prompt = "Why?"', 'prompt = "Why?'))
    with pytest.raises(RubricError, match=r"rubric.toml: TOML syntax: .*line 8, column 15"):
        load_rubric(path)


def test_missing_rubric_file_says_what_to_do(tmp_path):
    with pytest.raises(RubricError, match="no such file; give an existing rubric with --rubric"):
        load_rubric(tmp_path / "nope.toml")


def test_scale_snaps_to_step_within_range():
    rubric = rubric_from_dict({"questions": [{"id": "a", "prompt": "p", "model_answers": ["m"]}], "scale": {"max": 5, "step": 0.5}})
    assert [rubric.scale.snap(v) for v in (-1, 0.24, 0.26, 2.74, 4.9, 7)] == [0, 0, 0.5, 2.5, 5, 5]
