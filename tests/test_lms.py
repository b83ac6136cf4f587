"""Grades back to the LMS: gradebook.csv in the layout Canvas, Moodle or Google Classroom imports,
students' names and e-mails carried through in the input's order, blank answers as 0, and
feedback pages as Markdown, plain text or HTML (docs/gradebook.md)."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli
from grader.answers import Answer
from grader.cli import main
from grader.feedback import feedback_for
from grader.features import ConceptResult
from grader.grading import grade
from grader.rubric import load_rubric
from grader.text import quotable
from grader.writers import FEEDBACK_FORMATS, GRADEBOOK_LAYOUTS, OutputOptions, write_outputs
from grader.writers import gradebook, pages
from grader.writers.students import group_by_student

from test_report import HOSTILE_ID, graded

GOOD = ("The Five-Year Plans demanded rapid industrialization, so Stakhanov's record of 102 tons of coal became a "
        "model and workers were pushed to exceed their production quotas.")


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(None)


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def lms_class() -> list[Answer]:
    """Students listed out of alphabetical order, with names and e-mails from the LMS export; one
    blank answer, one student who skipped q2, one formula-like name."""
    rows = [
        ("zoe", "q1", GOOD, "Zoë Adams", "zoe@school.example"),
        ("zoe", "q2", "", "Zoë Adams", "zoe@school.example"),
        ("adam", "q1", "It was about work.", "Adam Baker", "adam@school.example"),
        ("adam", "q2", "Propaganda made Stakhanov a hero so other workers would copy him.", "Adam Baker", "adam@school.example"),
        ("mia", "q1", GOOD, "=HYPERLINK(\"x\")", "mia@school.example"),
    ]
    answers = []
    for line, (sid, qid, text, name, email) in enumerate(rows, 2):
        problem, detail = ("empty", "the answer is blank") if not text else (None, "")
        answers.append(Answer(sid, qid, text, f"class.csv:{line}", problem, detail, name=name, email=email))
    return answers


@pytest.fixture(scope="module")
def results(rubric):
    return grade(rubric, lms_class())


def test_answer_carries_name_and_email_after_detail():
    fields = list(Answer.__dataclass_fields__)
    assert fields[fields.index("detail") + 1:] == ["name", "email"]
    assert Answer("s", "q1", "t", "src").name == "" and Answer("s", "q1", "t", "src").email == ""


def test_plain_gradebook_keeps_the_input_order_and_has_name_and_email_columns(tmp_path, rubric, results):
    assert [r.student_id for r in results][:2] == ["adam", "adam"]      # grades are sorted by id ...
    write_outputs(results, rubric, tmp_path)
    rows = read_rows(tmp_path / "gradebook.csv")
    assert rows[0] == ["student_id", "name", "email", "q1 (5)", "q2 (5)", "q3 (5)", "total (15)"]
    assert [r[0] for r in rows[1:]] == ["zoe", "adam", "mia"]           # ... the gradebook is in the input's order
    assert rows[1][1:3] == ["Zoë Adams", "zoe@school.example"]
    assert rows[3][1] == "'=HYPERLINK(\"x\")"                            # spreadsheet-safe
    assert rows[1][4] == "" and rows[1][5] == ""                        # blank q2 and missing q3: empty cells


def test_plain_gradebook_without_names_has_no_name_or_email_columns(tmp_path, rubric):
    students = group_by_student([graded("amara", "q1", 5.0), graded("ben", "q1", 2.0)])
    gradebook.write_gradebook(students, rubric, tmp_path / "g.csv")
    assert read_rows(tmp_path / "g.csv")[0] == ["student_id", "q1 (5)", "q2 (5)", "q3 (5)", "total (15)"]


def test_blank_as_zero_scores_blank_and_missing_answers_0_but_not_unreadable_ones(tmp_path, rubric, results):
    write_outputs(results, rubric, tmp_path, options=OutputOptions(blank_as_zero=True))
    rows = {r[0]: r for r in read_rows(tmp_path / "gradebook.csv")[1:]}
    assert rows["zoe"][4:6] == ["0", "0"]
    assert float(rows["zoe"][6]) == float(rows["zoe"][3])               # the total counts the zeros
    unreadable = Answer("ray", "q1", "", "x", "unreadable", "the file is binary")
    students = group_by_student(grade(rubric, [unreadable]))
    cells, total = gradebook.score_cells(students[0], rubric, blank_as_zero=True)
    assert cells == ["", "0", "0"] and total == "0"                     # the unreadable one needs the teacher


def test_canvas_layout(tmp_path, rubric, results):
    write_outputs(results, rubric, tmp_path, options=OutputOptions(gradebook="canvas"))
    rows = read_rows(tmp_path / "gradebook.csv")
    items = [f"{rubric.title} {q}" for q in ("q1", "q2", "q3")]
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *items]
    assert rows[1] == ["Points Possible", "", "", "", "", "5", "5", "5"]
    assert rows[2][:5] == ["Zoë Adams", "", "zoe", "zoe@school.example", ""]
    assert [r[2] for r in rows[2:]] == ["zoe", "adam", "mia"]
    assert all(len(r) == 8 for r in rows)                               # no total: Canvas computes it
    by_id = {r[2]: r for r in rows[2:]}
    assert by_id["adam"][5] == next(f"{r.score:g}" for r in results if (r.student_id, r.question_id) == ("adam", "q1"))


def test_moodle_layout_identifies_students_by_email_with_a_column_per_item(tmp_path, rubric, results):
    write_outputs(results, rubric, tmp_path, options=OutputOptions(gradebook="moodle", blank_as_zero=True))
    rows = read_rows(tmp_path / "gradebook.csv")
    assert rows[0] == ["email", *(f"{rubric.title} {q}" for q in ("q1", "q2", "q3"))]
    assert [r[0] for r in rows[1:]] == ["zoe@school.example", "adam@school.example", "mia@school.example"]
    assert rows[1][2:] == ["0", "0"]


def test_moodle_without_emails_for_everyone_identifies_by_student_id(tmp_path, rubric):
    students = group_by_student([graded("amara@school.example", "q1", 5.0), graded("ben", "q1", 2.0)])
    table = list(gradebook.gradebook_table(students, rubric, "moodle"))
    assert table[0][:2] == ["student_id", "email"]
    assert table[1][:2] == ["amara@school.example", "amara@school.example"] and table[2][:2] == ["ben", ""]


def test_classroom_layout_has_email_and_grades(tmp_path, rubric, results):
    write_outputs(results, rubric, tmp_path, options=OutputOptions(gradebook="classroom"))
    rows = read_rows(tmp_path / "gradebook.csv")
    assert rows[0][:2] == ["email", "name"] and rows[0][2] == f"{rubric.title} q1 (5)"
    assert rows[0][-1] == f"{rubric.title} total (15)"
    assert [r[0] for r in rows[1:]] == ["zoe@school.example", "adam@school.example", "mia@school.example"]


def test_an_unknown_layout_or_format_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of plain, canvas, moodle, classroom"):
        OutputOptions(gradebook="blackboard")
    with pytest.raises(ValueError, match="choose one of md, txt, html"):
        OutputOptions(feedback_format="pdf")


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_feedback_pages_as_text_and_as_escaped_html(tmp_path, rubric):
    hostile = graded(HOSTILE_ID, "q1", 2.0, feedback=['Covered: quotas ("<b>meet</b>\tquotas\x1b[31m").'], needs_review=True)
    students = group_by_student([hostile])
    text = pages.feedback_page(students[0], rubric, "txt")
    assert text.splitlines()[0] == f"Feedback for {HOSTILE_ID}"
    assert "Score: 2 / 5" in text and "- Covered: quotas (\"<b>meet</b> quotas [31m\")." in text
    assert "\\" not in text and "**" not in text and "\x1b" not in text and "\t" not in text
    assert "Total: 2 / 15" in text
    html = pages.feedback_page(students[0], rubric, "html")
    parsed = Tags()
    parsed.feed(html)
    assert "img" not in parsed.tags and "b" not in parsed.tags and "script" not in parsed.tags
    assert HOSTILE_ID in "".join(parsed.text) and "<b>meet</b>" in "".join(parsed.text)
    assert "Content-Security-Policy" in html


def test_cli_grade_writes_the_lms_layout_and_text_pages(tmp_path):
    source = tmp_path / "class.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("student_id", "question_id", "answer"), ("zoe@school.example", "q1", GOOD),
                                      ("adam@school.example", "q1", ""), ("bo@school.example", "q2", GOOD)])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(source), "--out", str(out), "--quiet", "--gradebook", "moodle",
                                       "--blank-as-zero", "--feedback-format", "txt"])
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "gradebook.csv")
    assert rows[0][0] == "email" and [r[0] for r in rows[1:]] == ["zoe@school.example", "adam@school.example", "bo@school.example"]
    assert rows[2][1] == "0"
    assert sorted(p.suffix for p in (out / "feedback").iterdir()) == [".txt"] * 3
    assert (out / "feedback" / "zoe_school.example.txt").read_text(encoding="utf-8").startswith("Feedback for zoe@school.example\n")
    assert 'href="feedback/zoe_school.example.txt"' in (out / "report.html").read_text(encoding="utf-8")
    bad = CliRunner().invoke(main, ["grade", str(source), "--out", str(out), "--gradebook", "blackboard"])
    assert bad.exit_code == 2 and "blackboard" in bad.output


def test_cli_choices_are_the_librarys():
    params = {p.name: p for p in cli.grade.params}
    assert tuple(params["gradebook_layout"].type.choices) == GRADEBOOK_LAYOUTS
    assert tuple(params["feedback_format"].type.choices) == FEEDBACK_FORMATS


def test_quotes_are_cut_at_a_word_boundary():
    text = "Stakhanov mined one hundred and two tons of coal in a single shift in nineteen thirty five"
    cut = quotable(text, 40)
    assert len(cut) <= 40 and cut.endswith("...") and text.startswith(cut[:-3])
    assert text[len(cut) - 3] == " "                                     # the next character starts a word
    assert quotable("x" * 60, 20) == "x" * 17 + "..."                    # one giant word: cut inside it
    assert quotable("short enough", 40) == "short enough"


def test_feedback_names_every_covered_concept():
    concepts = [ConceptResult(f"concept {i}", 1.0 + i, "found", f"evidence {i}", (0, 5)) for i in range(6)]
    sentence = feedback_for(concepts, [])[0]
    assert all(f"concept {i}" in sentence for i in range(6))
    assert "more" not in sentence
    assert sentence.count('("') == 3                                      # the heaviest three are quoted
