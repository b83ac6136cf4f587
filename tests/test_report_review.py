"""Reviewing in report.html: a score, feedback and a "reviewed" tick per answer shown in detail,
kept in localStorage, walked with the keyboard, exported as a marks CSV that `tune` and
`evaluate` read as it is.

The unit tests read the page's markup and its JSON data block; the browser test drives real
headless Chromium over the DevTools protocol (no server: the page is opened from file://).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.rubric import load_rubric
from grader.tuning.graded import read_graded
from grader.writers import report
from grader.writers import students as by_student

from test_report import HOSTILE_ID, chromium_or_skip, class_results, graded, parse

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bundled_rubric():
    return load_rubric(None)


def render(results, rubric, out) -> str:
    students = by_student.group_by_student(results)
    return report.render_report(report.build_report_context(results, rubric, students, {}, out))


def data_block(html: str) -> dict:
    body = html.split('<script type="application/json" id="marks-data">', 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_each_answer_shown_in_detail_has_a_score_control_on_the_step_feedback_and_a_tick(tmp_path, bundled_rubric):
    html = render(class_results(), bundled_rubric, tmp_path)
    dom = parse(html)
    articles = [a for t, a in dom.tags if t == "article"]
    scores = [a for t, a in dom.tags if t == "input" and a.get("class") == "mark-score"]
    assert len(articles) == len(scores) == dom.count("textarea", **{"class": "mark-feedback"}) == 7
    assert dom.count("input", type="checkbox", **{"class": "mark-reviewed"}) == 7
    assert all(s["type"] == "number" and s["min"] == "0" and s["max"] == "5" and s["step"] == "0.5" for s in scores)
    # the grader's score is the starting value; an ungraded answer starts empty
    assert [s["value"] for s in scores] == ["5", "4.5", "4", "2.5", "", "1", "0"]
    assert all(a["tabindex"] == "-1" for a in articles)
    assert dom.count("button", id="download-marks") == 1
    # the count of what is left starts at the queue's length
    assert '<b id="review-left">3</b> of 3 left to review' in html


def test_the_data_block_has_the_full_answers_the_queue_and_cannot_be_closed_by_student_text(tmp_path, bundled_rubric):
    nasty = "</script><script>alert(1)</script><!-- \u2028 & 'quotes' \"double\""
    results = [graded("amara", "q1", 4.0, answer=nasty + " " + "x" * 4000, feedback=["Covered: </script>."]),
               graded(HOSTILE_ID, "q2", 1.0, needs_review=True, confidence=0.2)]
    html = render(results, bundled_rubric, tmp_path)
    block = html.split('id="marks-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and "\u2028" not in block
    data = json.loads(block)
    assert data["answers"]["answer-0"]["answer"] == results[0].answer     # all of it, beyond the 3,000 shown
    assert data["answers"]["answer-0"]["feedback"] == "Covered: </script>."
    assert data["answers"]["answer-1"] == {"student_id": HOSTILE_ID, "question_id": "q2", "answer": results[1].answer,
                                           "score": 1.0, "max": 5.0, "step": 0.5, "feedback": "Covered: quotas."}
    assert data["queue"] == ["answer-1"]
    assert parse(html).count("script") == 2


def test_the_run_id_changes_with_the_results_and_only_with_them(bundled_rubric):
    first = report.run_id(class_results())
    assert first == report.run_id(class_results()) and len(first) == 20
    changed = class_results()
    changed[0].score = 4.5
    assert report.run_id(changed) != first


def test_the_csp_allows_no_connection_and_the_page_has_no_inline_handlers(tmp_path, bundled_rubric):
    html = render(class_results(), bundled_rubric, tmp_path)
    dom = parse(html)
    csp = next(a["content"] for t, a in dom.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "connect-src 'none'" in csp and "default-src 'none'" in csp
    assert not [a for _, a in dom.tags for name in a if name.startswith("on")]
    script = html.split("<script>", 1)[1].split("</script>", 1)[0]
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "sendBeacon" not in script


def test_a_large_class_keeps_its_data_block_to_the_answers_shown(tmp_path, bundled_rubric):
    results = [graded(f"s{i:05d}", q, 3.0, answer="Workers met quotas. " * 30) for i in range(3000) for q in ("q1", "q2")]
    html = render(results, bundled_rubric, tmp_path)
    data = data_block(html)
    assert len(data["answers"]) == html.count('<article class="answer') <= report.DETAIL_ANSWER_LIMIT + report.REVIEW_LIMIT
    assert len(html.encode("utf-8")) < 8e6


def test_the_graded_reader_takes_off_the_apostrophe_grader_put_before_a_formula_character(tmp_path, bundled_rubric):
    marks = tmp_path / "marks.csv"
    marks.write_text('"student_id","question_id","answer","score","feedback"\r\n'
                     '"\'=cmd","q1","\'-leaders praised him","2.5","\'+ good"\r\n'
                     '"\'o\'neil","q1","\'tis the plan","3",""\r\n', encoding="utf-8")
    rows, left_out = read_graded(marks, bundled_rubric)
    assert not left_out
    # only an apostrophe before = + - @ tab CR is grader's; any other is the student's own
    assert [(r.answer.student_id, r.answer.text, r.score) for r in rows] == [
        ("=cmd", "-leaders praised him", 2.5), ("'o'neil", "'tis the plan", 3.0)]


# --------------------------------------------------------------------------- real headless Chromium


class DevTools:
    """A minimal Chrome DevTools protocol client: one browser, one page session (flattened)."""

    def __init__(self, chromium: str, profile: Path):
        import websocket

        profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.socket = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30, suppress_origin=True)
        self.next_id = 0
        self.session = None
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_ready()

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "userGesture": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.evaluate('document.readyState === "complete" && '
                                 'document.documentElement.getAttribute("data-report-ready") === "yes"'):
                    return
            except RuntimeError:   # the page is between documents
                pass
            time.sleep(0.05)
        raise RuntimeError("the report's script did not run")

    def reload(self) -> None:
        self.evaluate('document.documentElement.removeAttribute("data-report-ready")')
        self.send("Page.reload", {"ignoreCache": True})
        self.wait_ready()

    def key(self, key: str) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "text": key if kind == "keyDown" else "",
                                                 "code": f"Key{key.upper()}"})

    def close(self) -> None:
        socket = getattr(self, "socket", None)
        if socket is not None:
            try:
                self.send("Browser.close", session=False)
            except Exception:   # already gone: nothing to close
                pass
            socket.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


FORMULA_ID = "=cmd|' /C calc'!A0"


def review_class_csv(path: Path) -> Path:
    rows = [
        ("student_id", "question_id", "answer"),
        ("alice", "q1", "The Five-Year Plans demanded rapid industrialization, so Stakhanov's record of 102 tons "
                        "of coal became a model and workers were pushed to exceed their production quotas."),
        (HOSTILE_ID, "q1", "<script>document.title='pwned'</script> Stakhanov mined 102 tons of coal, "
                           "fourteen times the norm, and the Five-Year Plans set quotas."),
        ("bob", "q1", "It was about work."),
        (FORMULA_ID, "q2", "-leaders praised Stakhanovites as heroes, \"new Soviet people\", to push others; "
                           "newspapers and posters spread the story."),
        ("carol", "q2", "Propaganda made him a hero so other workers would copy him."),
        ("dan", "q1", ""),                                          # blank: to review, never graded
        ("erin", "q3", "coal quotas Stakhanov norms plans heroes"),    # a keyword list: to review
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def article_of(devtools: DevTools, student_id: str, question_id: str) -> str:
    return devtools.evaluate(
        f'(function () {{ var d = JSON.parse(document.getElementById("marks-data").textContent).answers;'
        f' return Object.keys(d).filter(function (k) {{ return d[k].student_id === {json.dumps(student_id)}'
        f' && d[k].question_id === {json.dumps(question_id)}; }})[0]; }})()')


@pytest.mark.browser
def test_review_in_chromium_persists_over_a_reload_and_exports_marks_tune_reads(tmp_path):
    chromium = chromium_or_skip()
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(review_class_csv(tmp_path / "class.csv")), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    devtools = DevTools(chromium, tmp_path / "profile")
    try:
        devtools.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}, session=False)
        devtools.open((out / "report.html").resolve().as_uri())
        assert devtools.evaluate("document.title").startswith("Grading report")
        queue = devtools.evaluate('JSON.parse(document.getElementById("marks-data").textContent).queue')
        left = int(devtools.evaluate('document.getElementById("review-left").textContent'))
        assert left == len(queue)

        # keyboard: j moves focus to the first answer of the queue, j again to the second, k back
        assert len(queue) >= 2
        devtools.key("j")
        assert devtools.evaluate("document.activeElement.id") == queue[0]
        devtools.key("n")
        assert devtools.evaluate("document.activeElement.id") == queue[1]
        devtools.key("k")
        assert devtools.evaluate("document.activeElement.id") == queue[0]

        # bob: a new score (typed into the number box) and new feedback (typed into the textarea)
        bob = article_of(devtools, "bob", "q1")
        devtools.evaluate(f'(function () {{ var s = document.querySelector("#{bob} .mark-score"); s.focus(); s.select(); }})()')
        devtools.send("Input.insertText", {"text": "1.5"})
        devtools.evaluate(f'(function () {{ var t = document.querySelector("#{bob} .mark-feedback"); t.focus(); t.select(); }})()')
        devtools.send("Input.insertText", {"text": "Say what the Five-Year Plans demanded, \"exactly\"."})
        # an off-step score is refused (marked invalid, not saved)
        carol = article_of(devtools, "carol", "q2")
        devtools.evaluate(f'(function () {{ var s = document.querySelector("#{carol} .mark-score"); s.focus(); s.select(); }})()')
        devtools.send("Input.insertText", {"text": "1.3"})
        assert devtools.evaluate(f'document.querySelector("#{carol} .mark-score").getAttribute("aria-invalid")') == "true"
        # the formula-like id: the grader's score confirmed with the "reviewed" tick
        formula = article_of(devtools, FORMULA_ID, "q2")
        devtools.evaluate(f'document.querySelector("#{formula} .mark-reviewed").click()')
        confirmed = devtools.evaluate(f'JSON.parse(document.getElementById("marks-data").textContent).answers["{formula}"].score')
        # the blank answer: looked at (ticked) but left without a score, so nothing to export for it
        dan = article_of(devtools, "dan", "q1")
        assert dan in queue
        devtools.evaluate(f'document.querySelector("#{dan} .mark-reviewed").click()')

        devtools.reload()
        assert devtools.evaluate(f'document.querySelector("#{bob} .mark-score").value') == "1.5"
        assert devtools.evaluate(f'document.querySelector("#{bob} .mark-feedback").value') == \
            'Say what the Five-Year Plans demanded, "exactly".'
        assert devtools.evaluate(f'document.querySelector("#{formula} .mark-reviewed").checked') is True
        assert devtools.evaluate(f'document.querySelector("#{carol} .mark-reviewed").checked') is False
        reviewed = {bob, formula, dan} & set(queue)
        assert int(devtools.evaluate('document.getElementById("review-left").textContent')) == len(queue) - len(reviewed)
        assert "pwned" not in devtools.evaluate("document.title")

        devtools.evaluate('document.getElementById("download-marks").click()')
        deadline = time.monotonic() + 30
        while not (files := [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]):
            assert time.monotonic() < deadline, "no download"
            time.sleep(0.05)
    finally:
        devtools.close()

    assert [p.name for p in files] == ["marks.csv"]
    time.sleep(0.2)
    text = files[0].read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    answers = {r[0]: r for r in csv.reader((tmp_path / "class.csv").open(encoding="utf-8"))}
    assert rows[0] == ["student_id", "question_id", "answer", "score", "feedback"]
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {"bob", "'" + FORMULA_ID}        # only what the teacher set or confirmed
    assert by_id["bob"] == ["bob", "q1", answers["bob"][2], "1.5", 'Say what the Five-Year Plans demanded, "exactly".']
    # formula-like cells carry an apostrophe; the answer starting with "-" too
    assert by_id["'" + FORMULA_ID][2] == "'" + answers[FORMULA_ID][2]
    assert float(by_id["'" + FORMULA_ID][3]) == confirmed

    # ... and the marks file is read as it is by tune/evaluate's reader: ids and answers match the input
    marks = tmp_path / "marks.csv"
    marks.write_bytes(files[0].read_bytes())
    rows, left_out = read_graded(marks, load_rubric(None))
    assert not left_out
    got = {(r.answer.student_id, r.answer.question_id): (r.answer.text, r.score) for r in rows}
    assert got == {("bob", "q1"): (answers["bob"][2], 1.5), (FORMULA_ID, "q2"): (answers[FORMULA_ID][2], confirmed)}
    evaluated = CliRunner().invoke(main, ["evaluate", "--rubric", str(ROOT / "rubrics" / "stakhanovism.toml"),
                                          "--graded", str(marks), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["overall"]["n"] == 2
