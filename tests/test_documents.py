"""Answers handed in as documents: every format read as its text (the same words, the same score),
unreadable ones flagged with the reason, headers not graded; one file per student split by question."""

import pytest

from conftest import SAMPLES
from makedocs import WRITERS, write_docx, write_pdf, write_scanned_pdf, write_txt
from grader.answers import Answer, read_answers
from grader.grading import grade
from grader.inputs.documents import document_text

ANSWERS = {q: (SAMPLES / "amara" / f"{q}.txt").read_text(encoding="utf-8").strip() for q in ("q1", "q2", "q3")}


def _paragraphs(text):
    return [p for p in text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').split("\n") if p.strip()]


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_each_format_reads_as_its_text(tmp_path, suffix):
    paragraphs = ["Stakhanov mined 102 tons of coal in 1935.", "Quotas rose for everyone \u2013 \u201cheroes\u201d."]
    path = WRITERS[suffix](paragraphs, tmp_path / f"answer{suffix}")
    words = document_text(path).split()
    assert " ".join(words).replace("\u2013", "-") in ("Stakhanov mined 102 tons of coal in 1935. Quotas rose for everyone - \"heroes\".",)


def test_same_words_same_score_in_every_format(tmp_path, rubric):
    for suffix, write in WRITERS.items():
        for qid, text in ANSWERS.items():
            folder = tmp_path / "class" / f"amara_{suffix[1:]}"
            folder.mkdir(parents=True, exist_ok=True)
            write(_paragraphs(text), folder / f"{qid}{suffix}")
    answers = read_answers([tmp_path / "class"], rubric)
    assert len(answers) == len(WRITERS) * 3 and not [a for a in answers if a.problem]
    scores = {}
    for result in grade(rubric, answers):
        scores.setdefault(result.question_id, {})[result.student_id] = result.score
    for qid, by_format in scores.items():
        plain = by_format["amara_txt"]
        assert all(abs(score - plain) <= 0.5 for score in by_format.values()), (qid, by_format)


def test_unreadable_documents_are_flagged_with_the_reason_never_dropped(tmp_path):
    student = tmp_path / "class" / "s1"
    student.mkdir(parents=True)
    (student / "q1.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (student / "q2.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    write_pdf(["Secret answer text."], student / "q3.pdf", password="letmein")
    write_scanned_pdf(student / "q4.pdf")
    (student / "q5.odt").write_bytes(b"garbage")
    answers = {a.question_id: a for a in read_answers([tmp_path / "class"])}
    assert {qid: a.problem for qid, a in answers.items()} == {f"q{i}": "unreadable" for i in range(1, 6)}
    assert "damaged" in answers["q1"].detail
    assert "password" in answers["q2"].detail and "password" in answers["q3"].detail
    assert "no text layer" in answers["q4"].detail


def test_headers_and_titles_are_not_graded(tmp_path, rubric):
    student = tmp_path / "class" / "lena"
    student.mkdir(parents=True)
    write_docx(["Name: Lena Petrova", "Class: 10B", "lena - q1", rubric.question("q1").prompt,
                "Stakhanov mined far more coal than the norm."], student / "q1.docx", header="History 10B")
    write_pdf(["Quotas rose for everyone."], student / "q2.pdf", footer="file:///home/lena/q2.html")
    answers = {a.question_id: a.text for a in read_answers([tmp_path / "class"], rubric)}
    assert answers == {"q1": "Stakhanov mined far more coal than the norm.", "q2": "Quotas rose for everyone."}


def test_one_file_per_student_is_split_by_question(tmp_path, rubric):
    q = {qid: _paragraphs(text)[0] for qid, text in ANSWERS.items()}
    write_docx(["Name: Omar", "Question 1:", q["q1"], "Question 2: " + q["q2"], "Question 3", rubric.question("q3").prompt, q["q3"]],
               tmp_path / "omar.docx")
    write_txt(["1. " + rubric.question("q1").prompt, q["q1"], "2) " + q["q2"], "3. " + q["q3"]], tmp_path / "lena.txt")
    write_pdf([rubric.question("q1").prompt, q["q1"], rubric.question("q2").prompt, q["q2"],
               "q3: " + q["q3"]], tmp_path / "ines.pdf")
    answers = read_answers([tmp_path], rubric)
    got = {(a.student_id, a.question_id): (a.problem, " ".join(a.text.split())) for a in answers}
    for student in ("omar", "lena", "ines"):
        for qid in ("q1", "q2", "q3"):
            assert got[(student, qid)] == (None, " ".join(q[qid].split())), (student, qid)
    assert len(answers) == 9


def test_a_file_that_cannot_be_split_is_kept_and_flagged(tmp_path, rubric):
    write_txt(["Stakhanov mined coal.", "Workers resented the norms."], tmp_path / "gus.txt")
    write_txt(["1. Stakhanov mined coal.", "1. Again the first?", "2. Norms rose."], tmp_path / "fay.txt")
    answers = read_answers([tmp_path], rubric)
    assert [a.student_id for a in answers].count("gus") == 1
    assert all(a.problem == "unsplit" and a.detail for a in answers), [(a.student_id, a.problem) for a in answers]
    gus = next(a for a in answers if a.student_id == "gus")
    assert "Workers resented the norms." in gus.text and "no question headings" in gus.detail
    assert sum(a.student_id == "fay" for a in answers) == 3
    results = grade(rubric, answers)
    assert all(r.score is None and r.flags[0].code == "unsplit" for r in results)


def test_nothing_to_grade_exits_2_with_one_line_saying_what_was_found(tmp_path):
    from click.testing import CliRunner
    from grader.cli import main

    folder = tmp_path / "class"
    (folder / "ana").mkdir(parents=True)
    (folder / "ana" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x1b[31m")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "q1.txt").write_text("secret")
    (folder / "ana" / "q1.docx").write_bytes(b"PK\x03\x04 broken")
    result = CliRunner().invoke(main, ["grade", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("grader: error")]
    assert len(lines) == 1 and "Traceback" not in result.output and "\x1b" not in result.output
    line = lines[0]
    assert "nothing to grade" in line and "1 answers, none gradable (1 unreadable)" in line
    assert "2 files skipped" in line and "(hidden)" in line and "not an answer document (.jpg)" in line
    assert ".docx" in line and "Moodle" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["grade", str(empty), "--out", str(tmp_path / "out2")])
    assert result.exit_code == 2 and "nothing to grade" in result.stderr and "no answers" in result.stderr


def test_a_word_numbered_list_splits_like_typed_numbers(tmp_path, rubric):
    import docx

    document = docx.Document()
    document.add_paragraph("Name: Ana")
    for text in ("Quotas rose and Stakhanov was the model.", "Propaganda made heroes of workers.", "Norms kept rising."):
        document.add_paragraph(text, style="List Number")
    document.save(str(tmp_path / "ana.docx"))
    answers = read_answers([tmp_path / "ana.docx"], rubric)
    assert [(a.question_id, a.problem, a.text) for a in answers] == [
        ("q1", None, "Quotas rose and Stakhanov was the model."), ("q2", None, "Propaganda made heroes of workers."),
        ("q3", None, "Norms kept rising.")]


@pytest.mark.browser
def test_a_chromium_printed_pdf_scores_as_its_text(tmp_path, rubric):
    """Chromium prints a date, the page title, the URL and "1/1" on every page: none is graded."""
    import html
    import subprocess

    from test_report import chromium_or_skip

    chromium = chromium_or_skip()
    page = tmp_path / "ben.html"
    texts = {q: (SAMPLES / "ben" / f"{q}.txt").read_text(encoding="utf-8").strip() for q in ("q1", "q2", "q3")}
    page.write_text("<html><head><title>ben</title></head><body><p>Name: Ben Ito</p>" + "".join(
        f"<h2>Question {i}</h2><p>{html.escape(t)}</p>" for i, t in enumerate(texts.values(), 1)) + "</body></html>")
    (tmp_path / "class").mkdir()
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={tmp_path / 'class' / 'ben.pdf'}",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    answers = read_answers([tmp_path / "class"], rubric)
    assert [(a.question_id, a.problem) for a in answers] == [("q1", None), ("q2", None), ("q3", None)]
    assert all("file:" not in a.text and "1/1" not in a.text for a in answers)
    plain = [Answer("plain", q, t, "test") for q, t in texts.items()]
    scores = {}
    for result in grade(rubric, answers + plain):
        scores.setdefault(result.question_id, []).append(result.score)
    assert all(abs(a - b) <= 0.5 for a, b in scores.values()), scores
