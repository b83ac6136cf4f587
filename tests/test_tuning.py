"""`grader rubric import`, `grader tune`, `grader evaluate` and the learned scorer behind them.

Data: tests/fixtures/tune_*.csv, four small science questions written for these tests.
"""

import csv
import json
import math
import tomllib
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold

from grader.answers import Answer, InputError
from grader.cli import main
from grader.features import FEATURE_NAMES
from grader.grading import grade
from grader.importer import import_questions
from grader.rubric import Exemplar, RubricError, load_rubric
from grader.scoring.general import general_model
from grader.scoring import LearnedScorer, RuleScorer, learned_cap, scorer_for
from grader.scoring.learned import ZeroStaysZero
from grader.tuning import GradedRow, cross_validated_fractions, featurize, plain_rubric, read_graded, suggest_concepts, tune
from grader.tuning.tune import _crossfit_features

from conftest import FIXTURES

QUESTIONS = FIXTURES / "tune_questions.csv"
GRADED = FIXTURES / "tune_graded.csv"
UNSEEN = FIXTURES / "tune_unseen.csv"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def imported():
    return import_questions(QUESTIONS).rubric


@pytest.fixture(scope="module")
def tuned(imported):
    rows, _ = read_graded(GRADED, imported)
    return tune(imported, rows, force=True)


# -- import ----------------------------------------------------------------------------------

def test_import_writes_a_valid_rubric_with_given_concepts_and_derives_the_others(tmp_path):
    out = tmp_path / "rubric.toml"
    result = run("rubric", "import", QUESTIONS, "--out", out)
    assert result.exit_code == 0, result.output
    rubric = load_rubric(out)
    assert [q.id for q in rubric.questions] == ["w1", "w2", "w3", "w4"]
    assert (rubric.scale.max, rubric.scale.step) == (5.0, 0.5)
    w3 = rubric.question("w3")
    assert [c.label for c in w3.concepts] == ["sunlight", "water", "carbon dioxide", "chlorophyll"]
    assert all(c.weight == 1.0 and c.missing for c in w3.concepts)
    assert w3.max_score == 5.0
    # Without concepts in the CSV, they are derived from the model answer: its key words, the
    # most central weighing most, each with a feedback line that quotes the model answer.
    w2, w4 = rubric.question("w2"), rubric.question("w4")
    assert {"tilt", "hemisphere"} <= {c.label for c in w2.concepts} and {"lattice", "dense"} <= {c.label for c in w4.concepts}
    assert all(0 < c.weight <= 2 and "the model answer:" in c.missing for c in (*w2.concepts, *w4.concepts))
    text = out.read_text()
    assert "# Suggested key terms" not in text            # every question has concepts now
    assert "physics" not in text                          # the extra column is ignored


def test_import_repeated_question_rows_add_model_answers(tmp_path):
    csv_file = tmp_path / "q.csv"
    csv_file.write_text("question_id,prompt,model_answer\nq1,Why?,Because A.\nq1,Why?,Since A.\n")
    rubric = import_questions(csv_file).rubric
    assert rubric.question("q1").model_answers == ("Because A.", "Since A.")


@pytest.mark.parametrize("content, expected", [
    ("question_id,prompt\nq1,Why?\n", "missing column model_answer"),
    ("question_id,prompt,model_answer\nq1,Why?,\n", "line 2: column model_answer is empty"),
    ("question_id,prompt,model_answer,max_score\nq1,Why?,Because.,lots\n", "line 2: column max_score is 'lots'"),
    ("question_id,prompt,model_answer,max_score\nq1,Why?,Because.,4.25\n", "not a multiple of the step"),
    ("question_id,prompt,model_answer\nq1,Why?,A.\nq1,How?,B.\n", "different prompt"),
])
def test_import_errors_are_one_clear_line(tmp_path, content, expected):
    csv_file = tmp_path / "questions.csv"
    csv_file.write_text(content)
    result = run("rubric", "import", csv_file, "--out", tmp_path / "r.toml")
    assert result.exit_code == 2
    message = result.output.strip()
    assert "\n" not in message and str(csv_file) in message and expected in message
    assert not (tmp_path / "r.toml").exists()


def test_import_missing_column_names_file_column_and_fix(tmp_path):
    csv_file = tmp_path / "questions.csv"
    csv_file.write_text("id,prompt,answer\nq1,Why?,Because.\n")
    with pytest.raises(InputError, match=r"questions\.csv: line 1: missing columns question_id, model_answer .*header"):
        import_questions(csv_file)


# -- tune through the CLI --------------------------------------------------------------------

def test_import_tune_grade_evaluate_round_trip(tmp_path):
    rubric_file, tuned_file = tmp_path / "rubric.toml", tmp_path / "tuned.toml"
    assert run("rubric", "import", QUESTIONS, "--out", rubric_file).exit_code == 0
    before = rubric_file.read_bytes()
    result = run("tune", "--rubric", rubric_file, "--graded", GRADED, "--out", tuned_file, "--force")
    assert result.exit_code == 0, result.output
    assert rubric_file.read_bytes() == before                       # the input is never touched
    assert "pearson" in result.output and "->" in result.output     # agreement before -> after
    tuned = load_rubric(tuned_file)
    assert tuned.model["kind"] == "monotone-ramps" and tuned.model["regimes"]
    assert all(q.calibration and q.exemplars for q in tuned.questions)

    grades = tmp_path / "grades"
    result = run("grade", UNSEEN, "--rubric", tuned_file, "--out", grades, "--quiet")
    assert result.exit_code == 0, result.output
    scores = {(r["student_id"], r["question_id"]): r["score"] for r in json.loads((grades / "grades.json").read_text())["answers"]}
    assert scores[("s11", "w1")] > scores[("s12", "w1")] and scores[("s11", "w4")] > scores[("s12", "w4")]

    result = run("evaluate", "--rubric", tuned_file, "--graded", UNSEEN, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["tuned"] is True and report["overall"]["n"] == 4 and set(report["questions"]) == {"w1", "w4"}
    assert set(report["overall"]) == {"n", "pearson", "spearman", "rmse", "qwk", "exact", "adjacent"}
    table = run("evaluate", "--rubric", tuned_file, "--graded", GRADED)
    assert table.exit_code == 0 and "overall" in table.output and "qwk" in table.output


def test_tuned_rubric_is_plain_toml_data_without_pickles(tmp_path):
    rubric_file, tuned_file = tmp_path / "rubric.toml", tmp_path / "tuned.toml"
    run("rubric", "import", QUESTIONS, "--out", rubric_file)
    assert run("tune", "--rubric", rubric_file, "--graded", GRADED, "--out", tuned_file, "--force").exit_code == 0
    raw = tuned_file.read_bytes()
    assert b"\x00" not in raw and b"\x80\x04" not in raw        # no NUL bytes, no pickle protocol header
    text = raw.decode("utf-8")
    assert "pickle" not in text.lower() and "base64" not in text.lower()
    data = tomllib.loads(text)

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, (str, int, float, bool))

    assert plain(data)
    for regime in data["model"]["regimes"]:
        for term in regime["terms"]:
            assert term["feature"] in FEATURE_NAMES and len(term["weights"]) == len(term["knots"]) - 1
            if term["direction"] == "increasing":
                assert min(term["weights"]) >= 0


def test_in_place_is_required_to_overwrite_the_rubric(tmp_path):
    rubric_file = tmp_path / "rubric.toml"
    run("rubric", "import", QUESTIONS, "--out", rubric_file)
    before = rubric_file.read_bytes()
    refused = run("tune", "--rubric", rubric_file, "--graded", GRADED, "--out", rubric_file, "--force")
    assert refused.exit_code == 2 and "--in-place" in refused.output and rubric_file.read_bytes() == before
    missing = run("tune", "--rubric", rubric_file, "--graded", GRADED, "--force")
    assert missing.exit_code == 2 and "--out" in missing.output and rubric_file.read_bytes() == before
    done = run("tune", "--rubric", rubric_file, "--graded", GRADED, "--in-place", "--force")
    assert done.exit_code == 0, done.output
    assert load_rubric(rubric_file).model


def test_tune_errors_name_the_line_and_the_fix(tmp_path, imported):
    rubric_file = tmp_path / "rubric.toml"
    run("rubric", "import", QUESTIONS, "--out", rubric_file)
    cases = {
        "student_id,question_id,answer\ns1,w1,Light is fast.\n": "missing column score",
        "student_id,question_id,answer,score\ns1,w1,Light is fast.,7\n": "line 2: column score is '7'; give a number from 0 to 5",
        "student_id,question_id,answer,score\ns1,w9,Light is fast.,3\n": "line 2: question 'w9' is not in the rubric",
    }
    for content, expected in cases.items():
        graded = tmp_path / "graded.csv"
        graded.write_text(content)
        result = run("tune", "--rubric", rubric_file, "--graded", graded, "--out", tmp_path / "t.toml", "--force")
        assert result.exit_code == 2 and expected in result.output and "\n" not in result.output.strip()
    graded.write_text("student_id,question_id,answer,score\ns1,w1,Light is fast.,\ns2,w1,,3\n")
    rows, left_out = read_graded(graded, imported)
    assert rows == [] and len(left_out) == 2                       # no score / blank answer: left out
    with pytest.raises(InputError, match="no graded answers"):
        tune(imported, rows, force=True)


# -- the learned scorer ----------------------------------------------------------------------

def test_grade_uses_the_tuned_model_automatically(imported, tuned):
    answers = [Answer("s11", "w1", "Light travels faster than sound.", "x:1"),
               Answer("s12", "w2", "The tilt of the axis.", "x:2")]
    automatic = grade(tuned.rubric, answers)
    explicit = grade(tuned.rubric, answers, scorer=LearnedScorer.from_dict(tuned.rubric.model, "t"))
    assert [g.raw_score for g in automatic] == [g.raw_score for g in explicit]
    # Untuned: the general model shipped in the package, unless the rubric asks for the rules.
    assert scorer_for(imported).scorer_.to_dict() == general_model().to_dict()
    assert isinstance(scorer_for(replace(imported, scorer="rules")), RuleScorer)
    forced = scorer_for(tuned.rubric)   # adopted with --force from 32 answers: zero stays zero
    assert isinstance(forced, ZeroStaysZero) and isinstance(forced.scorer, LearnedScorer)
    untuned = grade(imported, answers)
    assert [g.raw_score for g in untuned] != [g.raw_score for g in automatic]


def test_learned_scorer_follows_the_estimator_contract(imported):
    rows, _ = read_graded(GRADED, imported)
    X = featurize(plain_rubric(imported), [r.answer for r in rows])
    y = np.array([r.score / 5 for r in rows])
    scorer = LearnedScorer(alpha=2.0)
    assert scorer.get_params()["alpha"] == 2.0 and clone(scorer).set_params(alpha=5.0).alpha == 5.0
    with pytest.raises(NotFittedError):
        scorer.predict(X)
    assert scorer.fit(X, y) is scorer
    assert all(name.endswith("_") for name in vars(scorer) if name not in scorer.get_params())
    predicted = scorer.predict(X)
    assert predicted.shape == (len(rows),) and ((predicted >= 0) & (predicted <= 1)).all()
    again = LearnedScorer.from_dict(tomllib.loads(_toml(scorer.to_dict())), "x")
    assert np.array_equal(again.predict(X), predicted)          # the TOML data is the whole model
    assert np.corrcoef(predicted, y)[0, 1] > 0.5


def _toml(data):
    import tomli_w

    return tomli_w.dumps(data)


def test_learned_scorer_is_monotone_in_coverage_and_recall(imported):
    rows, _ = read_graded(GRADED, imported)
    X = featurize(plain_rubric(imported), [r.answer for r in rows])
    scorer = LearnedScorer().fit(X, [r.score / 5 for r in rows])
    base = scorer.predict(X)
    for name in ("coverage", "word_recall", "char_recall", "peer_char_cosine", "exemplar_score"):
        higher = X.copy()
        column = FEATURE_NAMES.index(name)
        higher[:, column] = np.where(higher[:, column] >= 0, np.minimum(higher[:, column] + 0.3, 1.0), higher[:, column])
        assert (scorer.predict(higher) >= base - 1e-12).all(), name
    negated = X.copy()
    negated[:, FEATURE_NAMES.index("negated")] += 0.5
    assert (scorer.predict(negated) <= base + 1e-12).all()


def test_adding_a_missing_concept_never_lowers_a_tuned_score(tuned):
    rubric = tuned.rubric
    short = "Plants need sunlight and water."
    longer = short + " They also take in carbon dioxide from the air through their leaves."
    scores = {g.answer: g.raw_score for g in grade(rubric, [Answer("a", "w3", short, "1"), Answer("b", "w3", longer, "2")])}
    assert scores[longer] >= scores[short]


def test_malformed_model_is_a_rubric_error(tuned):
    broken = dict(tuned.rubric.model)
    broken["regimes"] = [{"min_exemplars": 0, "intercept": 0.1,
                          "terms": [{"feature": "word_recall", "direction": "increasing", "knots": [0, 1], "weights": [-1.0]}]}]
    with pytest.raises(RubricError, match=r"model\.regimes\[0\]\.terms\[0\]\.weights: must all be >= 0"):
        LearnedScorer.from_dict(broken, "tuned.toml")
    with pytest.raises(RubricError, match="model.kind"):
        LearnedScorer.from_dict({"kind": "pickle"}, "tuned.toml")


# -- tuning never sees the answers it is scored on -------------------------------------------

def test_cross_validation_never_trains_on_the_scored_question(imported):
    rows, _ = read_graded(GRADED, imported)
    X = featurize(plain_rubric(imported), [r.answer for r in rows])
    y = np.array([r.score / 5 for r in rows])
    groups = np.array([r.answer.question_id for r in rows])
    for train, test in GroupKFold(n_splits=4).split(X, y, groups):
        assert not set(train) & set(test) and not set(groups[train]) & set(groups[test])
    predicted = cross_validated_fractions(X, y, groups, alpha=3.0)
    # Changing every mark of question w1 cannot change the predictions made for w1.
    changed = np.where(groups == "w1", 1.0 - y, y)
    again = cross_validated_fractions(X, changed, groups, alpha=3.0)
    assert np.array_equal(predicted[groups == "w1"], again[groups == "w1"])
    assert not np.array_equal(predicted[groups != "w1"], again[groups != "w1"])


def test_exemplar_features_never_use_the_answers_own_mark(imported):
    rows, _ = read_graded(GRADED, imported)
    base = plain_rubric(imported)
    first = _crossfit_features(base, rows, np.random.default_rng(0), per_level=10)
    target = 3
    flipped = list(rows)
    flipped[target] = replace(rows[target], score=5.0 - rows[target].score)
    second = _crossfit_features(base, flipped, np.random.default_rng(0), per_level=10)
    assert np.array_equal(first[target], second[target])


def test_only_the_marks_given_to_tune_shape_the_model(imported):
    rows, _ = read_graded(GRADED, imported)
    a = [r for r in rows if r.answer.question_id in ("w1", "w2", "w3")]
    b = [r for r in rows if r.answer.question_id == "w4"]
    relabelled = [replace(r, score=5.0 - r.score) for r in b]
    rubric_a = tune(imported, a, report=False, force=True).rubric
    # Marks of w4 that were never given to tune leave nothing of w4 in the tuned rubric ...
    assert rubric_a.question("w4").exemplars == () and not rubric_a.question("w4").calibration
    # ... and the same marks, given to it, reach it: flipping them changes how w4 is graded.
    with_b = grade(tune(imported, a + b, report=False, force=True).rubric, [r.answer for r in b])
    with_flipped = grade(tune(imported, a + relabelled, report=False, force=True).rubric, [r.answer for r in b])
    assert [g.raw_score for g in with_b] != [g.raw_score for g in with_flipped]
    teacher = np.array([r.score for r in b])
    assert np.corrcoef(teacher, [g.raw_score for g in with_b])[0, 1] > np.corrcoef(teacher, [g.raw_score for g in with_flipped])[0, 1]


# -- what tune learns besides the model ------------------------------------------------------

def test_exemplars_are_kept_per_score_level(tuned):
    w1 = tuned.rubric.question("w1")
    assert sorted(e.score for e in w1.exemplars) == sorted([5, 4.5, 4, 1.5, 1, 0.5, 5, 0])
    assert isinstance(w1.exemplars[0], Exemplar)
    assert tuned.before is not None and tuned.after is not None and tuned.after["n"] == 32


def test_caps_the_marks_contradict_are_raised(imported):
    tuned = replace(imported, model={"caps": {"copies_model_answer": 1.0}})
    assert learned_cap(imported, ["copies_model_answer"]) == 0.25 and learned_cap(tuned, ["copies_model_answer"]) == 1.0
    assert learned_cap(tuned, []) == 1.0


def test_suggestions_are_words_of_high_scoring_answers_the_rubric_lacks(imported):
    rows, _ = read_graded(GRADED, imported)
    extra = [replace(rows[0], answer=Answer(f"x{i}", "w2", "Axial tilt and the solstice decide it: near the solstice one "
                                                             "hemisphere leans to the Sun.", f"x:{i}"), score=5.0)
             for i in range(4)]
    suggestions = suggest_concepts(imported, rows + extra, limit=10)
    assert {"solstice", "axial"} <= set(suggestions["w2"])      # "axial": an alias the rubric's "axis" misses
    assert len(suggest_concepts(imported, rows + extra)["w2"]) == 3
    for terms in suggestions.values():
        assert not {"tilt", "axis", "sunlight"} & set(terms)       # already in the model answers


def test_tune_result_metrics_are_finite(tuned):
    for figures in (tuned.before, tuned.after):
        assert all(not math.isnan(figures[m]) for m in ("pearson", "rmse", "qwk"))


def test_tune_keeps_the_rubric_when_the_evidence_is_thin(tmp_path):
    """Few graded answers: the general model is not adopted without --force, tune says why, and
    what the marks teach per question goes in [marks] (tests/test_marks.py), nothing else."""
    rubric_file = tmp_path / "rubric.toml"
    assert run("rubric", "import", QUESTIONS, "--out", rubric_file).exit_code == 0
    tuned_file = tmp_path / "tuned.toml"
    result = run("tune", "--rubric", rubric_file, "--graded", GRADED, "--out", tuned_file)
    assert result.exit_code == 0, result.output
    assert "No general model: only 32 graded answers" in result.output
    assert not load_rubric(tuned_file).model
    assert load_rubric(tuned_file).questions == load_rubric(rubric_file).questions


FACTS = {
    "w1": ["Light travels much faster than sound.", "The flash reaches our eyes almost at once.",
           "Sound moves at about 340 metres per second in air.", "Thunder is the sound of the air expanding.",
           "The further away the storm, the longer the gap.", "Counting the seconds tells how far the storm is."],
    "w2": ["The Earth's axis is tilted by about 23 degrees.", "Each hemisphere leans towards the Sun in turn.",
           "The hemisphere leaning in gets more direct sunlight.", "Its days are longer, so it heats up more.",
           "Distance from the Sun is not the cause.", "When one hemisphere has summer the other has winter."],
    "w3": ["A plant needs sunlight to power photosynthesis.", "It takes in water through its roots.",
           "Carbon dioxide enters through pores in the leaves.", "Chlorophyll captures the light energy.",
           "The plant makes sugar as food.", "Oxygen is released as a by-product."],
    "w4": ["Ice is less dense than liquid water.", "Freezing water forms an open crystal lattice.",
           "The lattice takes up more space than the liquid.", "The same mass in more volume means lower density.",
           "Anything less dense than water floats on it.", "Hydrogen bonds hold the molecules apart in ice."],
}


def test_tune_adopts_a_model_that_clearly_agrees_better_without_force(imported):
    """A teacher who gives credit fact by fact (a mark per fact, up to six): the rubric as written
    gives full marks from the third fact on, the learned model follows the teacher; with 100 marks
    and a clear cross-validated gain, tune adopts it without --force."""
    rng = np.random.default_rng(7)
    rows = []
    for qid, facts in FACTS.items():
        for i in range(25):
            k = int(rng.integers(0, len(facts) + 1))
            chosen = [facts[j] for j in sorted(rng.choice(len(facts), size=k, replace=False))]
            text = " ".join(chosen) or "I am not sure about this one."
            rows.append(GradedRow(Answer(f"{qid}-{i}", qid, text, f"marks.csv:{qid}-{i}"), round(10 * k / 6) / 2))
    result = tune(imported, rows)
    assert result.kept == "", result.kept
    assert result.rubric.model and result.after["pearson"] >= result.before["pearson"] + 0.02
    assert result.after["rmse"] <= result.before["rmse"]


def test_tune_force_with_few_marks_leaves_content_free_answers_at_zero(tmp_path):
    """`tune --force` with 30 marks adopts a learned model; its intercept and per-question offsets
    must not lift answers the rubric's own scorer finds nothing in ("idk", "asdf", "...") above 0."""
    from conftest import ROOT
    rubric = load_rubric(ROOT / "rubrics" / "stakhanovism.toml")
    rows, _ = read_graded(FIXTURES / "dev_stakhanovism.csv", rubric)
    marks = tmp_path / "marks.csv"
    with open(marks, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer", "score"])
        for q in ("q1", "q2", "q3"):
            for row in [r for r in rows if r.answer.question_id == q][:10]:
                writer.writerow([row.answer.student_id, q, row.answer.text, f"{row.score:g}"])
    tuned = tmp_path / "tuned.toml"
    result = run("tune", "--rubric", ROOT / "rubrics" / "stakhanovism.toml", "--graded", marks, "--out", tuned, "--force")
    assert result.exit_code == 0, result.output
    assert load_rubric(tuned).model, "--force adopts the learned model"
    empty = ["idk", "?", "I don't know", "asdf jkl", "no idea sorry", "...", "pass", "The the the", "lorem ipsum dolor sit amet"]
    others = [r.answer for r in read_graded(FIXTURES / "dev_gaming_b.csv", rubric)[0]][:40]
    answers = others + [Answer(f"z{i}", q, text, f"class:{q}{i}") for q in ("q1", "q2", "q3") for i, text in enumerate(empty)]
    before = {(g.student_id, g.question_id): g.score for g in grade(rubric, answers)}
    after = {(g.student_id, g.question_id): g.score for g in grade(load_rubric(tuned), answers)}
    content_free = [key for key in after if key[0].startswith("z")]
    assert {before[key] for key in content_free} == {0.0}
    assert {after[key] for key in content_free} == {0.0}
    assert any(after[key] != before[key] for key in after if key not in content_free)   # the model is used
