"""The teacher's report: report.html, feedback/<student>.md and gradebook.csv.

Unit tests build GradedAnswer objects directly; the browser test runs the CLI on a CSV with
hostile student text and opens the report in headless Chromium.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.writers import gradebook, report, write_teacher_files
from grader.writers import pages as feedback_pages
from grader.writers import students as by_student
from grader.cli import main
from grader.features import ConceptResult
from grader.flags import Flag
from grader.grading import GradedAnswer
from grader.rubric import load_rubric

HOSTILE_ID = "<img src=x onerror=alert(1)>"
HOSTILE_ANSWER = ("<script>document.title='pwned'</script> Stakhanov mined 102 tons of coal in one shift, "
                  "fourteen times the norm, and the Five-Year Plans set ever higher production quotas.")


@pytest.fixture(scope="module")
def bundled_rubric():
    return load_rubric(None)


def graded(student_id, question_id, score, *, answer="Workers had to meet quotas.", max_score=5.0, flags=(),
           feedback=("Covered: quotas.",), concepts=(), needs_review=False, confidence=0.9):
    return GradedAnswer(student_id=student_id, question_id=question_id, answer=answer, source="test",
                        max_score=max_score, score=score, confidence=confidence, needs_review=needs_review,
                        flags=list(flags), feedback=list(feedback), concepts=list(concepts))


def class_results():
    """Three students on the three bundled questions: one complete, one partly ungraded, one hostile."""
    quota = ConceptResult("production quotas and targets", 2.0, "found", "meet quotas", (20, 26))
    return [
        graded("amara", "q1", 5.0, concepts=[quota]),
        graded("amara", "q2", 4.5),
        graded("amara", "q3", 4.0),
        graded("ben", "q1", 2.5, needs_review=True, confidence=0.3),
        graded("ben", "q2", None, answer="", flags=[Flag("empty", "the answer is blank")],
               feedback=["Not graded: the answer is blank."], needs_review=True, confidence=0.0),
        graded("ben", "q3", 1.0, flags=[Flag("near_duplicate", "95% similar to the answer of student amara")],
               feedback=["Covered: quotas."],
               needs_review=True, confidence=0.45),
        graded(HOSTILE_ID, "q1", 0.0, answer=HOSTILE_ANSWER),
    ]


# --------------------------------------------------------------------------- gradebook.csv


def test_gradebook_has_a_row_per_student_a_column_per_question_and_empty_ungraded_cells(tmp_path, bundled_rubric):
    students = by_student.group_by_student(class_results())
    path = tmp_path / "gradebook.csv"
    gradebook.write_gradebook(students, bundled_rubric, path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["student_id", "q1 (5)", "q2 (5)", "q3 (5)", "total (15)"]
    by_id = {row[0]: row[1:] for row in rows[1:]}
    assert len(rows) == 4
    assert by_id["amara"] == ["5", "4.5", "4", "13.5"]
    assert by_id["ben"] == ["2.5", "", "1", "3.5"]               # ungraded q2 is an empty cell
    assert by_id[HOSTILE_ID] == ["0", "", "", "0"]               # unanswered questions too


def test_gradebook_defuses_ids_that_a_spreadsheet_would_run_as_formulas(tmp_path, bundled_rubric):
    students = by_student.group_by_student([graded("=HYPERLINK(\"http://x\")", "q1", 3.0), graded("@sum", "q1", 1.0)])
    path = tmp_path / "gradebook.csv"
    gradebook.write_gradebook(students, bundled_rubric, path)
    ids = [row[0] for row in list(csv.reader(path.open(encoding="utf-8")))[1:]]
    assert ids == ["'=HYPERLINK(\"http://x\")", "'@sum"]


def test_gradebook_uses_the_graded_copy_when_a_student_answered_twice(tmp_path, bundled_rubric):
    duplicate = graded("amara", "q1", None, flags=[Flag("duplicate", "a second answer to the same question")])
    students = by_student.group_by_student([duplicate, graded("amara", "q1", 4.0)])
    assert students[0].for_question("q1").score == 4.0
    assert students[0].total(bundled_rubric) == 4.0


# --------------------------------------------------------------------------- feedback pages


def test_feedback_pages_stay_inside_the_folder_and_never_overwrite_each_other(tmp_path, bundled_rubric):
    ids = ["../../etc/passwd", "a/b", "a_b", "A_B", "..", "CON", "amara"]
    students = by_student.group_by_student([graded(sid, "q1", float(i % 5)) for i, sid in enumerate(ids)])
    folder = tmp_path / "out" / "feedback"
    pages = feedback_pages.write_feedback_pages(students, bundled_rubric, folder)
    assert set(pages) == set(ids)
    written = sorted(folder.iterdir())
    assert len(written) == len(ids) == len({p.name.lower() for p in written})
    for student_id, path in pages.items():
        assert path.resolve().parent == folder.resolve()
        assert path.suffix == ".md" and not path.name.startswith(".")
        # each page is the one for its own student: the heading names exactly that id (escaped)
        assert path.read_text(encoding="utf-8").splitlines()[0] == f"# Feedback for {feedback_pages.markdown_text(student_id)}"
    assert not (tmp_path / "etc").exists() and not (tmp_path / "passwd").exists()


def test_feedback_page_shows_prompt_score_and_feedback_but_not_teacher_only_flag_reasons(bundled_rubric):
    students = {s.student_id: s for s in by_student.group_by_student(class_results())}
    page = feedback_pages.feedback_page(students["ben"], bundled_rubric)
    q1 = bundled_rubric.question("q1")
    assert f"## q1. {feedback_pages.markdown_text(q1.prompt)}" in page
    assert "**Score: 2.5 / 5**" in page
    assert "**Score: not graded yet** (out of 5)" in page
    assert "- Not graded: the answer is blank." in page
    assert "- Covered: quotas." in page
    assert "**Total: 3.5 / 15**" in page
    # the near-duplicate reason names another student: it is for the teacher only
    assert "amara" not in page
    assert "Your teacher will look at this answer again" in page


def test_markdown_text_shows_hostile_text_literally():
    assert feedback_pages.markdown_text(HOSTILE_ID) == r"\<img src=x onerror=alert(1)\>"
    assert feedback_pages.markdown_text("[click](javascript:alert(1))") == r"\[click\](javascript:alert(1))"
    assert feedback_pages.markdown_text("# not a heading") == r"\# not a heading"
    assert feedback_pages.markdown_text("1. not a list") == r"1\. not a list"
    assert feedback_pages.markdown_text("**bold**\n\n- item") == r"\*\*bold\*\* - item"
    assert feedback_pages.markdown_text("fish & chips") == "fish & chips"
    assert feedback_pages.markdown_text("&lt;b&gt;") == r"\&lt;b\&gt;"


# --------------------------------------------------------------------------- highlighting


def test_highlight_marks_concept_spans_and_escapes_everything_else():
    text = "<b>bold</b> & the Five-Year Plans <i>"
    start = text.index("Five-Year Plans")
    concepts = [
        ConceptResult('Five-Year "Plans"', 2.0, "found", "", (start, start + len("Five-Year Plans"))),
        ConceptResult("plans", 1.0, "found", "", (start + 10, start + 15)),     # overlaps: skipped
        ConceptResult("missing one", 1.0, "missing", "", None),
        ConceptResult("bold", 1.0, "echo", "", (3, 7)),
    ]
    html = str(report.highlight(text, concepts))
    assert html == ('&lt;b&gt;<mark class="echo" title="bold">bold</mark>&lt;/b&gt; &amp; the '
                    '<mark class="found" title="Five-Year &#34;Plans&#34;">Five-Year Plans</mark> &lt;i&gt;')


def test_highlight_escapes_inside_marks_and_clips_spans_to_the_shown_text():
    text = "x<script>alert(1)</script>"
    html = str(report.highlight(text, [ConceptResult("s", 1.0, "found", "", (1, 9))], limit=20))
    assert html == "x<mark class=\"found\" title=\"s\">&lt;script&gt;</mark>alert(1)&lt;/s"
    html = str(report.highlight("short", [ConceptResult("s", 1.0, "found", "", (3, 50))]))
    assert html == 'sho<mark class="found" title="s">rt</mark>'


# --------------------------------------------------------------------------- report.html


class DomText(HTMLParser):
    """Tags and text of an HTML document, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title += data

    def count(self, tag, **attrs):
        return sum(1 for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items()))


def parse(html: str) -> DomText:
    parser = DomText()
    parser.feed(html)
    return parser


def class_report_html(out, rubric) -> str:
    """report.html for class_results(), with its feedback pages written into out/feedback."""
    results = class_results()
    students = by_student.group_by_student(results)
    pages = feedback_pages.write_feedback_pages(students, rubric, out / "feedback")
    return report.render_report(report.build_report_context(results, rubric, students, pages, out))


def student_rows(html: str) -> list[str]:
    body = html.split('id="students-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


def test_report_escapes_student_text_and_allows_only_its_own_script(tmp_path, bundled_rubric):
    html = class_report_html(tmp_path, bundled_rubric)
    dom = parse(html)
    assert dom.count("img") == 0
    assert dom.count("script") == 2                     # the page's script and its data block (never run)
    assert dom.count("script", type="application/json") == 1
    text = "".join(dom.text)
    assert HOSTILE_ID in text and "<script>document.title='pwned'</script>" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert len(student_rows(html)) == 3
    assert dom.count("svg") >= 4                        # three score distributions and the concept chart
    # the CSP allows exactly the inline script in the page, by its hash
    script = html.split("<script>", 1)[1].split("</script>", 1)[0]
    csp = next(a["content"] for t, a in dom.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert f"script-src {report._csp_hash(script)};" in csp and "default-src 'none'" in csp
    # review queue: lowest confidence first, each with its reasons
    review = html.split('id="review"', 1)[1].split("</section>", 1)[0]
    assert review.index("the answer is blank") < review.index("low confidence") < review.index("95% similar")
    # highlighted evidence and the feedback page link (the hostile id's link is URL-encoded)
    assert '<mark class="found" title="production quotas and targets">quotas</mark>' in html
    assert 'href="feedback/amara.md"' in html
    assert 'href="feedback/_img%20src_x%20onerror_alert_1' in html


def test_report_is_self_contained_and_its_ids_are_unique(tmp_path, bundled_rubric):
    html = class_report_html(tmp_path, bundled_rubric)
    dom = parse(html)
    # nothing to fetch: no stylesheets, images, frames or script files; links only to the feedback pages
    assert not [t for t, a in dom.tags if t in {"link", "img", "iframe", "object", "embed"} or (t == "script" and "src" in a)]
    targets = [a[attr] for _, a in dom.tags for attr in ("href", "src", "xlink:href") if attr in a]
    assert targets and all(t.startswith(("#", "feedback/")) for t in targets), targets
    assert "@import" not in html and "url(http" not in html
    ids = [a["id"] for _, a in dom.tags if "id" in a]
    assert len(ids) == len(set(ids))
    # every reference inside the charts (clip paths) points at an id of the same page
    assert all(ref in ids for ref in re.findall(r"url\(#([^)]+)\)", html))


def test_report_of_a_large_class_is_capped_and_says_so(tmp_path, bundled_rubric):
    base = class_results()[:6]
    results = [graded(f"s{i:05d}", r.question_id, r.score, answer=r.answer * 20, flags=r.flags, feedback=r.feedback,
                      concepts=r.concepts, needs_review=r.needs_review, confidence=r.confidence)
               for i in range(10_000) for r in base[(i % 2) * 3:(i % 2) * 3 + 3]]
    students = by_student.group_by_student(results)
    html = report.render_report(report.build_report_context(results, bundled_rubric, students, {}, tmp_path))
    size_mb = len(html.encode("utf-8")) / 1e6
    assert size_mb < 8, size_mb
    assert len(student_rows(html)) == report.TABLE_STUDENT_LIMIT
    assert f"first {report.TABLE_STUDENT_LIMIT:,} of 10,000 students" in html
    assert "grades.csv and grades.json have every answer" in html
    assert html.count('<article class="answer') <= report.REVIEW_LIMIT + 3 * report.DETAIL_STUDENT_LIMIT
    assert html.count('<article class="answer') >= 3 * report.DETAIL_STUDENT_LIMIT


def test_write_report_reports_progress_over_students(tmp_path, bundled_rubric):
    calls = []

    def progress(items, label):
        calls.append((len(items), label))
        from contextlib import nullcontext
        return nullcontext(items)

    written = write_teacher_files(class_results(), bundled_rubric, tmp_path, progress)
    assert calls == [(3, "Writing feedback pages")]
    assert {p.name for p in written} >= {"report.html", "gradebook.csv", "amara.md", "ben.md"}
    assert all(p.exists() for p in written)


# --------------------------------------------------------------------------- the CLI and a real browser


def hostile_class_csv(path: Path) -> Path:
    rows = [
        ("student_id", "question_id", "answer"),
        ("alice", "q1", "The Five-Year Plans demanded rapid industrialization, so Stakhanov's record of 102 tons "
                        "of coal became a model and workers were pushed to exceed their production quotas."),
        (HOSTILE_ID, "q1", HOSTILE_ANSWER),
        ("bob", "q1", "It was about work."),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_cli_writes_the_report_gradebook_and_a_feedback_page_per_student_without_a_progress_bar(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(hostile_class_csv(tmp_path / "a.csv")), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Writing feedback pages" not in result.output   # stderr is not a terminal here
    assert (out / "report.html").stat().st_size > 10_000
    assert len(list((out / "feedback").glob("*.md"))) == 3
    assert len((out / "gradebook.csv").read_text(encoding="utf-8").splitlines()) == 4


def chromium_or_skip() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: the browser test must run there (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def dump_dom(chromium: str, page: Path, profile: Path) -> str:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


@pytest.mark.browser
def test_report_opens_in_a_browser_and_hostile_text_stays_text(tmp_path):
    chromium = chromium_or_skip()
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(hostile_class_csv(tmp_path / "class.csv")), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    dom_html = dump_dom(chromium, out / "report.html", tmp_path / "profile")
    dom = parse(dom_html)
    # the page's own script ran (allowed by its CSP hash) ...
    assert 'data-report-ready="yes"' in dom_html
    # ... and nothing the students wrote did: no title change, no injected elements
    assert dom.title.startswith("Grading report")
    assert "pwned" not in dom.title
    assert dom.count("img") == 0
    assert dom.count("script") == 2 and dom.count("script", type="application/json") == 1
    text = "".join(dom.text)
    assert HOSTILE_ID in text
    assert "<script>document.title='pwned'</script>" in text
    rows = student_rows(dom_html)
    assert len(rows) == 3
    assert any("&lt;img src=x onerror=alert(1)&gt;" in row for row in rows)
    assert dom.count("svg") >= 2
    pages = sorted((out / "feedback").glob("*.md"))
    assert len(pages) == 3
    assert any(feedback_pages.markdown_text(HOSTILE_ID) in p.read_text(encoding="utf-8") for p in pages)
