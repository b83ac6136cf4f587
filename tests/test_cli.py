import csv
import json

from click.testing import CliRunner
from conftest import ROOT, SAMPLES

from grader.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_grade_samples_with_the_bundled_rubric(tmp_path):
    result = invoke("grade", SAMPLES, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8")))
    assert len(rows) == 24
    assert {"student_id", "question_id", "score", "max_score", "flags", "needs_review", "confidence"} <= set(rows[0])
    for row in rows:
        assert row["score"] == "" or 0 <= float(row["score"]) <= float(row["max_score"])
    document = json.loads((tmp_path / "grades.json").read_text(encoding="utf-8"))
    assert [(a["student_id"], a["question_id"]) for a in document["answers"]] == [(r["student_id"], r["question_id"]) for r in rows]
    first = document["answers"][0]
    assert {"feedback", "concepts", "similarity", "flags", "score", "max_score"} <= set(first)
    assert "Graded 21 of 24 answers from 8 students." in result.stderr


def test_output_is_stable_across_runs(tmp_path):
    invoke("grade", SAMPLES, "--out", tmp_path / "a")
    invoke("grade", SAMPLES, "--out", tmp_path / "b")
    assert (tmp_path / "a" / "grades.csv").read_text() == (tmp_path / "b" / "grades.csv").read_text()


def test_inputs_are_not_modified_and_no_temporary_files_are_left(tmp_path):
    before = {p: p.read_bytes() for p in SAMPLES.rglob("*") if p.is_file()}
    invoke("grade", SAMPLES, "--out", tmp_path)
    assert {p: p.read_bytes() for p in SAMPLES.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_csv_input_with_explicit_rubric(tmp_path):
    path = tmp_path / "lms.csv"
    path.write_text("student_id,question_id,answer,email\ns1,q2,Propaganda made Stakhanovites heroes but their bonuses bred resentment.,a@b\n", encoding="utf-8")
    result = invoke("grade", path, "--rubric", ROOT / "rubrics" / "stakhanovism.toml", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(tmp_path / "out" / "grades.csv", encoding="utf-8")))
    assert rows[0]["student_id"] == "s1" and float(rows[0]["score"]) > 0


def one_line_error(result):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("grader: error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_missing_input_path_is_one_clear_line(tmp_path):
    line = one_line_error(invoke("grade", tmp_path / "nope", "--out", tmp_path / "o"))
    assert "nope: no such file or folder" in line


def test_broken_rubric_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 'x'\n[[questions]]\nid = 'q1'\nprompt = 'p'\nmodel_answers = ['m']\n[[questions.concepts]]\nlabel = 'c'\nweight = 0\n")
    line = one_line_error(invoke("grade", SAMPLES, "--rubric", bad, "--out", tmp_path / "o"))
    assert f"{bad}: questions[0].concepts[0].weight: must be greater than 0" in line


def test_csv_without_needed_columns_is_one_clear_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name,text\nA,hello\n")
    line = one_line_error(invoke("grade", path, "--out", tmp_path / "o"))
    assert "line 1: missing columns student_id, question_id, answer" in line


def test_unwritable_out_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_line_error(invoke("grade", SAMPLES, "--out", blocker))
    assert "exists and is not a folder" in line


def test_debug_shows_the_traceback(tmp_path):
    result = invoke("--debug", "grade", tmp_path / "nope")
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "InputError"
