"""`grader grade --marks`: the teacher's marks are final everywhere (grades.csv with `scored_by`,
grades.json, gradebook.csv, feedback pages, report); marks for answers not in the input are
reported; a changed answer text is said and the mark used; a score off the scale fails clearly."""

import csv
import json

from click.testing import CliRunner
from conftest import ROOT, SAMPLES

from grader.cli import main
from grader.marks import read_marks
from grader.pipeline import Grader

HEADER = "student_id,question_id,answer,score,feedback\n"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_marks(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer", "score", "feedback"])
        writer.writerows(rows)
    return path


def sample_answer(student, question):
    return (SAMPLES / student / f"{question}.txt").read_text(encoding="utf-8")


def test_marks_are_final_in_every_output(tmp_path):
    marks = write_marks(tmp_path / "marks.csv", [
        ["ben", "q1", sample_answer("ben", "q1"), "0.5", "See me about the Five-Year Plans =1+1"],
        ["chen", "q2", "", "", "Feedback only: good use of sources."],
        ["nobody", "q1", "an answer the input does not have", "3", ""],
    ])
    result = invoke("grade", SAMPLES, "--out", tmp_path / "out", "--marks", marks)
    assert result.exit_code == 0, result.output
    rows = {(r["student_id"], r["question_id"]): r
            for r in csv.DictReader(open(tmp_path / "out" / "grades.csv", encoding="utf-8"))}
    assert len(rows) == 24
    ben = rows[("ben", "q1")]
    assert (ben["score"], ben["scored_by"], ben["needs_review"]) == ("0.5", "teacher", "false")
    assert ben["feedback"] == "See me about the Five-Year Plans =1+1"
    assert rows[("chen", "q2")]["scored_by"] == "grader"
    assert rows[("chen", "q2")]["feedback"] == "Feedback only: good use of sources."
    assert {r["scored_by"] for k, r in rows.items() if k != ("ben", "q1")} == {"grader"}
    answers = {(a["student_id"], a["question_id"]): a
               for a in json.loads((tmp_path / "out" / "grades.json").read_text(encoding="utf-8"))["answers"]}
    assert answers[("ben", "q1")]["score"] == 0.5 and answers[("ben", "q1")]["scored_by"] == "teacher"
    gradebook = {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "out" / "gradebook.csv", encoding="utf-8"))}
    assert gradebook["ben"]["q1 (5)"] == "0.5"
    page = (tmp_path / "out" / "feedback" / "ben.md").read_text(encoding="utf-8")
    assert "**Score: 0.5 / 5**" in page.split("## q2")[0] and "See me about the Five" in page
    assert "Feedback only: good use of sources." in (tmp_path / "out" / "feedback" / "chen.md").read_text(encoding="utf-8")
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert report.count('class="badge teacher"') == 1
    # the mark for an answer not in the input is said, and counted in the summary
    assert "no answer in the input from student 'nobody' to question 'q1'" in result.stderr
    assert "1 marks for answers not in the input, not used" in result.stderr


def test_a_changed_answer_text_is_said_and_the_mark_used(tmp_path):
    text = sample_answer("dara", "q3")
    marks = write_marks(tmp_path / "marks.csv", [
        ["dara", "q3", "  " + "\n".join(text.split()) + "  ", "4", ""],     # only re-wrapped: the same answer
        ["eli", "q1", "A revised answer the teacher graded on paper.", "2", ""],
    ])
    lines = []
    run = Grader(ROOT / "rubrics" / "stakhanovism.toml", marks=marks).run([SAMPLES], tmp_path / "out", say=lines.append)
    by_key = {(r.student_id, r.question_id): r for r in run.results}
    assert by_key[("dara", "q3")].score == 4 and by_key[("eli", "q1")].score == 2
    assert by_key[("eli", "q1")].scored_by == "teacher"
    said = [line for line in lines if "differs from the input" in line]
    assert len(said) == 1 and "'eli'" in said[0] and "marks.csv:" in said[0]
    assert [m.student_id for m in run.marks.changed] == ["eli"]


def test_a_score_off_the_scale_or_its_step_is_one_clear_line(tmp_path):
    for score, fix in (("2.3", "use 2.5"), ("7", "from 0 to 5"), ("lots", "give a number")):
        marks = write_marks(tmp_path / "marks.csv", [["ben", "q1", "", "1", ""], ["ben", "q2", "", score, ""]])
        result = invoke("grade", SAMPLES, "--out", tmp_path / "out", "--marks", marks)
        assert result.exit_code == 2, result.output
        assert f"marks.csv: line 3: column score is {score!r}" in result.stderr and fix in result.stderr
        assert "Traceback" not in result.output and not (tmp_path / "out" / "grades.csv").exists()


def test_a_second_mark_for_the_same_answer_is_refused(tmp_path, rubric):
    marks = write_marks(tmp_path / "marks.csv", [["ben", "q1", "", "1", ""], ["ben", "q1", "", "2", ""]])
    result = invoke("grade", SAMPLES, "--out", tmp_path / "out", "--marks", marks)
    assert result.exit_code == 2 and "line 3: a second mark for student 'ben', question 'q1' (the first is line 2)" in result.stderr


def test_marks_without_score_and_feedback_are_skipped_and_missing_columns_fail(tmp_path, rubric):
    marks = write_marks(tmp_path / "marks.csv", [["ben", "q1", "text", "", ""], ["ben", "q2", "", "1.5", ""]])
    assert [(m.question_id, m.score) for m in read_marks(marks, rubric)] == [("q2", 1.5)]
    (tmp_path / "bad.csv").write_text("student,question_id,answer\nben,q1,x\n", encoding="utf-8")
    result = invoke("grade", SAMPLES, "--out", tmp_path / "out", "--marks", tmp_path / "bad.csv")
    assert result.exit_code == 2 and "missing column student_id" in result.stderr


# -- marks teach: MarkAdapter (scoring/adapt.py) and apply_marks -------------------------------

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from grader.scoring.adapt import MarkAdapter

LENIENT = [("q", f"answer number {i} about coal output and norms", base, 1.0, 0.3)
           for i, base in enumerate((0.2, 0.4, 0.5, 0.6, 0.3, 0.45))]


def test_consistent_marks_move_the_other_answers_and_noise_moves_nothing():
    # The teacher is 0.3 more generous than the grader on every marked answer: the others follow.
    adapter = MarkAdapter().fit(LENIENT, [b + 0.3 for _, _, b, _, _ in LENIENT])
    assert adapter.gain_ > 0.5 and np.isfinite(adapter.priors_[0])
    others = [("q", "another answer about steel", 0.4, 1.0, 0.3), ("other question", "no marks here", 0.4, 1.0, 0.3)]
    moved = adapter.predict(others)
    assert 0.5 < moved[0] < 0.7 and moved[1] == 0.4     # shrunk toward the grader; unmarked questions untouched
    # Marks that do not agree with each other (leave-one-out no better than the grader): nothing changes.
    noisy = MarkAdapter().fit(LENIENT, [b + d for (_, _, b, _, _), d in zip(LENIENT, (0.3, -0.3, 0.25, -0.25, 0.3, -0.3))])
    assert all(np.isinf(noisy.priors_)) and noisy.predict(others).tolist() == [0.4, 0.4]
    assert "keep the grader's scores" in noisy.summary() and "lower than the grader's" in adapter.summary()


def test_marks_never_lift_a_capped_or_empty_answer_nor_lower_a_model_like_one():
    generous = MarkAdapter().fit(LENIENT, [b + 0.3 for _, _, b, _, _ in LENIENT])
    flagged, nothing = ("q", "coal coal coal", 0.2, 0.25, 0.1), ("q", "asdf", 0.0, 1.0, 0.0)
    assert generous.predict([flagged, nothing]).tolist() == [0.2, 0.0]
    harsh = MarkAdapter().fit(LENIENT, [max(b - 0.3, 0.0) for _, _, b, _, _ in LENIENT])
    model_like = ("q", "the model answer itself", 0.9, 1.0, 0.95)
    assert harsh.predict([model_like])[0] == 0.9 and harsh.predict([("q", "x y", 0.9, 1.0, 0.2)])[0] < 0.9


def test_mark_adapter_keeps_the_estimator_contract_and_round_trips_as_plain_data():
    with pytest.raises(NotFittedError):
        MarkAdapter().predict(LENIENT)
    with pytest.raises(ValueError):
        MarkAdapter().fit([("q", "too short")], [0.5])
    adapter = clone(MarkAdapter(min_gain=0.2)).fit(LENIENT, [b + 0.3 for _, _, b, _, _ in LENIENT])
    again = MarkAdapter.from_dict(adapter.to_dict())
    assert again.predict(LENIENT).tolist() == adapter.predict(LENIENT).tolist()
    import tomllib

    import tomli_w
    assert tomllib.loads(tomli_w.dumps(adapter.to_dict())) == adapter.to_dict()


def test_a_few_marks_raise_the_scores_of_answers_like_them(tmp_path, rubric):
    # A class where the teacher is far more generous than the grader on q1: three marks move the others.
    lines = []
    marks = write_marks(tmp_path / "marks.csv", [[s, "q1", sample_answer(s, "q1"), "5", ""] for s in ("amara", "ben", "chen")])
    before = {(r.student_id, r.question_id): r.score for r in Grader(rubric).run([SAMPLES], tmp_path / "a").results}
    run = Grader(rubric, marks=marks).run([SAMPLES], tmp_path / "b", say=lines.append)
    after = {(r.student_id, r.question_id): r for r in run.results}
    assert all(after[(s, "q1")].score == 5 for s in ("amara", "ben", "chen"))
    assert any("they changed the scores of" in line for line in lines) and run.marks.moved > 0
    assert "lower than the grader" in run.marks.learned
    others = [k for k in after if k[1] == "q1" and k[0] not in ("amara", "ben", "chen") and before[k] is not None]
    for key in others:
        assert after[key].score >= before[key] or after[key].flags
    assert all(after[k].score == before[k] for k in after if k[1] != "q1")   # other questions untouched


def test_tune_learns_from_a_few_marks_and_says_how_sure_it_is(tmp_path, rubric):
    before = Grader(rubric).run([SAMPLES], tmp_path / "a").results
    # A teacher 1.5 points more generous than the grader on four answers per question.
    marked = [r for r in before if r.score is not None and not r.flags and r.score <= 3.5]
    chosen = [r for q in ("q1", "q2", "q3") for r in [m for m in marked if m.question_id == q][:4]]
    rows = [[r.student_id, r.question_id, r.answer, f"{r.score + 1.5:g}", ""] for r in chosen]
    marks = write_marks(tmp_path / "marks.csv", rows)
    tuned = tmp_path / "tuned.toml"
    result = invoke("tune", "--rubric", ROOT / "rubrics" / "stakhanovism.toml", "--graded", marks, "--out", tuned)
    assert result.exit_code == 0, result.output
    assert "needs at least" in result.output   # no general model from 12 answers ...
    learned = [line for line in result.output.splitlines() if line.startswith("Learned ")]
    assert len(learned) == 1 and "lower than the grader's" in learned[0]   # ... but what the marks teach
    assert "[marks" in tuned.read_text(encoding="utf-8")
    after = {(r.student_id, r.question_id): r for r in Grader(tuned).run([SAMPLES], tmp_path / "b").results}
    unmarked = [r for r in before if r.score is not None and (r.student_id, r.question_id) not in {(c.student_id, c.question_id) for c in chosen}]
    assert any(after[(r.student_id, r.question_id)].score > r.score for r in unmarked)
    for r in unmarked:   # never lowered here; a flagged or zero-scored answer never raised
        new = after[(r.student_id, r.question_id)].score
        assert new >= r.score and (new == r.score or (not r.flags and r.score > 0))


# -- the shipped general model as the base: a rubric-wide map, and a strict bar -------------------

from grader.marking import adapter_for
from grader.metrics import pearson

WORDS = ("osmosis membrane wall pressure enzyme shape heat energy muscle cell water light sound speed "
         "mass force inertia friction vacuum charge circuit signal packet router switch").split()


def class_of(rng, questions=4, per_question=25):
    """Rows of distinct made-up answers (few shared words) with the grader's fractions spread over 0.1-0.9."""
    rows = []
    for q in range(questions):
        for i in range(per_question):
            text = " ".join(rng.choice(WORDS, size=4, replace=False)) + f" student{q}x{i}"
            rows.append((f"q{q}", text, float(rng.uniform(0.1, 0.9)), 1.0, 0.3))
    return rows


def split_marks(rows, k, rng):
    """k rows of each question to mark, the rest to score; a question left unmarked when k is a dict."""
    marked, rest = [], []
    for qid in sorted({r[0] for r in rows}):
        of_q = [r for r in rows if r[0] == qid]
        take = set(rng.permutation(len(of_q))[: (k.get(qid, 0) if isinstance(k, dict) else k)])
        for j, r in enumerate(of_q):
            (marked if j in take else rest).append(r)
    return marked, rest


def test_marks_fix_a_miscalibration_shared_across_the_questions():
    # The grader is 0.25 too generous on every question of a new course (the teacher's marks are
    # the grader's fraction minus 0.25, give or take a little): three marks of each of three
    # questions correct all four, the unmarked fourth too (the map is rubric-wide).
    rng = np.random.default_rng(3)
    rows = class_of(rng)
    teacher = {r[1]: float(np.clip(r[2] - 0.25 + rng.normal(0, 0.04), 0, 1)) for r in rows}
    marked, rest = split_marks(rows, {"q0": 3, "q1": 3, "q2": 3}, rng)
    adapter = MarkAdapter().fit(marked, [teacher[r[1]] for r in marked])
    assert np.isfinite(adapter.priors_[3]) and adapter.mapping_[0] < -0.1     # a rubric-wide shift down
    after = adapter.predict(rest)
    gold, before = np.array([teacher[r[1]] for r in rest]), np.array([r[2] for r in rest])
    error_before, error_after = np.abs(before - gold), np.abs(after - gold)
    assert error_after.mean() < 0.5 * error_before.mean()
    unmarked_question = np.array([r[0] == "q3" for r in rest])
    assert error_after[unmarked_question].mean() < 0.6 * error_before[unmarked_question].mean()
    assert "rubric-wide correction" in adapter.summary() and "standard errors" in adapter.summary()
    again = MarkAdapter.from_dict(adapter.to_dict())
    assert again.predict(rest).tolist() == after.tolist()


def test_marks_never_lower_agreement_where_the_grader_is_already_right():
    # The grader agrees with the teacher up to the teacher's own noise: whatever three or ten marks
    # per question happen to be drawn, the other answers' agreement is not lowered.
    for seed in range(12):
        rng = np.random.default_rng(seed)
        rows = class_of(rng)
        teacher = {r[1]: float(np.clip(r[2] + rng.normal(0, 0.15), 0, 1)) for r in rows}
        for k in (3, 10):
            marked, rest = split_marks(rows, k, rng)
            after = MarkAdapter().fit(marked, [teacher[r[1]] for r in marked]).predict(rest)
            gold, before = np.array([teacher[r[1]] for r in rest]), np.array([r[2] for r in rest])
            assert pearson(gold, after) >= pearson(gold, before) - 1e-9, (seed, k)
            assert np.sqrt(((after - gold) ** 2).mean()) <= np.sqrt(((before - gold) ** 2).mean()) + 1e-9, (seed, k)


def test_the_adapter_follows_the_rubrics_scorer(rubric):
    from dataclasses import replace
    assert adapter_for(rubric).min_z == 0.0                                  # the rule scorer: FOR_RULES
    assert adapter_for(replace(rubric, scorer="general")).min_z == MarkAdapter().min_z > 0   # the general model
    assert adapter_for(replace(rubric, scorer="general", model={"kind": "tuned"})).min_z == 0.0   # a tuned model
