"""Class context (issue #13.4): scores use the class as context, so a late submission graded with
--context gets exactly the scores it would have had in the class run."""

import json
import shutil

from click.testing import CliRunner
from conftest import FIXTURES, SAMPLES

from grader.answers import read_answers
from grader.cli import main
from grader.pipeline import Grader


def scores_of(out):
    rows = json.loads((out / "grades.json").read_text(encoding="utf-8"))["answers"]
    return {(r["student_id"], r["question_id"]): (r["score"], r["raw_score"], r["flags"], r["feedback"]) for r in rows}


def test_a_late_student_graded_with_context_gets_the_class_run_scores(tmp_path):
    class_dir, late_dir = tmp_path / "class", tmp_path / "late"
    shutil.copytree(SAMPLES, class_dir)
    late_dir.mkdir()
    shutil.move(class_dir / "ben", late_dir / "ben")   # ben hands in late

    everyone = tmp_path / "everyone"
    Grader().run([class_dir, late_dir], everyone)
    Grader().run([class_dir], tmp_path / "on-time")
    result = CliRunner().invoke(main, ["grade", str(late_dir), "--context", str(tmp_path / "on-time"),
                                       "--out", str(tmp_path / "ben-out")])
    assert result.exit_code == 0, result.output
    late = scores_of(tmp_path / "ben-out")
    assert sorted(late) == [("ben", "q1"), ("ben", "q2"), ("ben", "q3")]
    full = scores_of(everyone)
    assert late == {key: full[key] for key in late}
    alone = scores_of(Grader().run([late_dir], tmp_path / "alone").out)
    assert alone != late   # without the class, ben's scores differ: why --context exists


def test_a_revised_answer_replaces_the_students_earlier_one(tmp_path):
    on_time = tmp_path / "on-time"
    Grader().run([FIXTURES / "dev_stakhanovism.csv"], on_time)
    revised = tmp_path / "revised.csv"
    revised.write_text("student_id,question_id,answer\nt01,q1,Stakhanov mined 102 tons of coal in one shift.\n")
    run = Grader().run([revised], tmp_path / "out", context=on_time)
    assert [(r.student_id, r.question_id) for r in run.results] == [("t01", "q1")]
    assert len(read_answers([revised])) == 1


def test_context_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(SAMPLES), "--context", str(tmp_path / "nothing"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "give --context the --out folder" in result.output
    Grader().run([SAMPLES], tmp_path / "class")
    result = CliRunner().invoke(main, ["grade", str(SAMPLES), "--context", str(tmp_path / "class"),
                                       "--out", str(tmp_path / "class")])
    assert result.exit_code == 2 and "--out is the --context folder" in result.output
