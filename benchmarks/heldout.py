"""Agreement and flags on the teacher-graded Stakhanovism sets in tests/fixtures.

Each set was written and graded (0-5) by a separate session acting as a history teacher that never saw
the grader's code or rubric; each answer is marked `genuine` or `gaming`, with a note naming the trick.
This grades every set with the bundled rubric, untuned, through `grader.grading.grade` (what
`grader grade` runs), and prints Markdown tables:

- agreement with the teacher's marks (as `grader evaluate` computes it), all answers and genuine only;
- flags: how many genuine answers are flagged (all, and those the teacher marked 2 or more), and for
  gaming answers, per kind of trick, how many are flagged and capped at 25% of the marks.

    python benchmarks/heldout.py
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path


from grader.grading import grade
from grader.answers import read_csv
from grader.metrics import agreement_report, spearman
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT / "tests" / "fixtures" / "dev_stakhanovism.csv", ROOT / "tests" / "fixtures" / "dev_gaming_b.csv"]
# The teachers' notes name the trick in their own words; these prefixes group them.
KINDS = [("off-topic", "off-topic paragraph seeded with key terms"), ("keyword", "keyword list or stuffing"),
         ("bare keyword", "keyword list or stuffing"),
         ("word salad", "keyword list or stuffing"), ("question", "restates or copies the question"),
         ("one sentence", "one sentence repeated"), ("one relevant sentence", "one sentence repeated"),
         ("verbatim", "copies the model answer"), ("near-verbatim", "copies the model answer"),
         ("model answer", "copies the model answer"), ("contradict", "contradicts the model answer"),
         ("wrong question", "answers another question"), ("keyboard", "gibberish or not English"),
         ("answer in", "gibberish or not English"), ("long generic", "generic padding"),
         ("generic padding", "generic padding"), ("padded", "generic padding")]


def kind_of(note: str) -> str:
    note = note.lower()
    return next((kind for prefix, kind in KINDS if note.startswith(prefix)), note)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def report(path: Path, rubric) -> list[str]:
    teacher = {(r["student_id"], r["question_id"]): r for r in csv.DictReader(open(path, encoding="utf-8"))}
    graded = [(r, teacher[(r.student_id, r.question_id)]) for r in grade(rubric, read_csv(path))]
    lines = [f"### {path.relative_to(ROOT)}", ""]
    rows = []
    for label, subset in (("all", graded), ("genuine", [g for g in graded if g[1]["kind"] == "genuine"])):
        ours = [r.score for r, _ in subset]
        theirs = [float(t["score"]) for _, t in subset]
        overall = agreement_report([r.question_id for r, _ in subset], theirs, ours)["overall"]
        rows.append([label, str(len(subset)), f"{overall['pearson']:.3f}", f"{spearman(theirs, ours):.3f}",
                     f"{overall['rmse']:.3f}", f"{overall['qwk']:.3f}", f"{overall['exact']:.0%}", f"{overall['adjacent']:.0%}"])
    lines += table(["answers", "n", "Pearson", "Spearman", "RMSE", "QWK", "exact", "adjacent"], rows) + [""]

    genuine = [r for r, t in graded if t["kind"] == "genuine"]
    good = [r for r, t in graded if t["kind"] == "genuine" and float(t["score"]) >= 2]
    by_kind: dict[str, list] = defaultdict(list)
    for r, t in graded:
        if t["kind"] == "gaming":
            by_kind[kind_of(t["note"])].append(r)
    rows = [["genuine answers", str(len(genuine)), f"{sum(bool(r.flags) for r in genuine)}", "-"],
            ["genuine, teacher >= 2 of 5", str(len(good)), f"{sum(bool(r.flags) for r in good)}", "-"]]
    for kind, results in sorted(by_kind.items()):
        rows.append([f"gaming: {kind}", str(len(results)), str(sum(bool(r.flags) for r in results)),
                     str(sum(bool(r.flags) and r.score <= 0.25 * r.max_score for r in results))])
    lines += table(["answers", "n", "flagged", "flagged and <= 25%"], rows) + [""]
    missed = [(r, t) for r, t in graded if t["kind"] == "gaming" and not r.flags]
    for r, t in missed:
        lines.append(f"- not flagged: {r.student_id} {r.question_id} ({t['note']}): {r.score:g} of {r.max_score:g}")
    flagged_genuine = [(r, t) for r, t in graded if t["kind"] == "genuine" and r.flags]
    for r, t in flagged_genuine:
        lines.append(f"- genuine but flagged {', '.join(r.flag_codes)}: {r.student_id} {r.question_id} "
                     f"({t['note']}; teacher {float(t['score']):g}, grader {r.score:g})")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rubric", default=None, help="rubric TOML (default: the bundled one)")
    args = parser.parse_args()
    rubric = load_rubric(args.rubric)
    for path in SETS:
        print("\n".join(report(path, rubric)))


if __name__ == "__main__":
    main()
