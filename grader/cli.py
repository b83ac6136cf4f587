"""The `grader` command: parses options, calls the library, prints. Nothing else lives here.

Heavy libraries (scikit-learn, nltk) are imported inside the commands so that
`grader --help` answers at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from functools import wraps

import click


def echo(line: str, err: bool = False) -> None:
    """Every line grader prints: file names, ids and answers in it are untrusted, so controls,
    escape sequences and bidi characters are shown escaped (text.terminal_safe)."""
    from .text import terminal_safe

    click.echo(terminal_safe(line), err=err)


class Failure(click.ClickException):
    """A fatal, expected problem: printed as one line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        echo(f"grader: error: {self.message}", err=True)


def _expected_errors():
    from .answers import InputError
    from .rubric import RubricError
    from .runtime import WorkerStopped
    from .writers import OutputError

    return (InputError, RubricError, OutputError, WorkerStopped)


def clear_errors(command):
    """Turn the library's expected errors into one clear line (a traceback only with --debug)."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return command(*args, **kwargs)
        except _expected_errors() as exc:
            if ctx.find_root().params.get("debug"):
                raise
            raise Failure(str(exc)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="grader")
def main(debug: bool) -> None:
    """Grade short answers against model answers and rubric concepts, offline."""


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--rubric", "rubric_path", type=click.Path(path_type=str), default=None,
              help="Rubric TOML file (default: the bundled Stakhanovism rubric).")
@click.option("--out", "out_dir", type=click.Path(path_type=str), default="grades", show_default=True,
              help="Folder for the outputs: grades.csv, grades.json, report.html, gradebook.csv, feedback/.")
@click.option("--context", "context_dir", type=click.Path(path_type=str), default=None,
              help="The --out folder of an earlier run: grade late or revised answers against that class, "
                   "so each gets the score it would have had in that run.")
@click.option("--columns", default=None, metavar="ROLE=COLUMN,...",
              help="Column names of a long CSV or sheet, e.g. student=Pupil,question=Item,answer=Text "
                   "(roles: student, question, answer, name, email; common names are recognised without it).")
@click.option("--gradebook", "gradebook_layout", type=click.Choice(["plain", "canvas", "moodle", "classroom"]),
              default="plain", show_default=True,
              help="Column layout of gradebook.csv: the one Canvas, Moodle or Google Classroom imports (docs/gradebook.md).")
@click.option("--blank-as-zero", is_flag=True, help="Score blank and missing answers 0 in gradebook.csv instead of an empty cell.")
@click.option("--feedback-format", type=click.Choice(["md", "txt", "html"]), default="md", show_default=True,
              help="Feedback pages as Markdown, plain text (to paste into an LMS comment box) or HTML.")
@click.option("--marks", "marks_path", type=click.Path(path_type=str), default=None,
              help="Your marks (CSV: student_id, question_id, answer, score, feedback): final for those answers, "
                   "and learned from for the others.")
@click.option("--quiet", is_flag=True, help="No progress or summary on stderr.")
@clear_errors
def grade(inputs: tuple[str, ...], rubric_path: str | None, out_dir: str, gradebook_layout: str, blank_as_zero: bool,
          feedback_format: str, context_dir: str | None, columns: str | None, marks_path: str | None,
          quiet: bool) -> None:
    """Grade INPUTS: folders of <student_id>/<question_id> documents (.txt .md .docx .odt .rtf .pdf
    .html), one document per student (split by question), CSV files of any dialect or .xlsx/.ods
    sheets with student, question and answer columns, or Google/Microsoft Forms, Moodle and Canvas
    exports with a column per question (README, "Inputs")."""
    from .pipeline import Grader
    from .writers import OutputOptions

    say = None if quiet else (lambda line: echo(line, err=True))
    # A progress bar only for a person watching: not with --quiet, not into a log file or pipe.
    show_progress = not quiet and sys.stderr.isatty()
    progress = (lambda items, label: click.progressbar(items, label=label, file=sys.stderr)) if show_progress else None
    options = OutputOptions(gradebook=gradebook_layout, blank_as_zero=blank_as_zero, feedback_format=feedback_format)
    run = Grader(rubric_path, options=options, marks=marks_path).run(inputs, out_dir, progress=progress, say=say, context=context_dir, columns=columns)
    if not quiet:
        for line in run.summary:
            echo(line, err=True)


# -- rubric import, tune, evaluate (agreement with human graders) ------------------------------

@main.group()
def rubric() -> None:
    """Create rubrics."""


@rubric.command("import")
@click.argument("questions", type=click.Path(path_type=str))
@click.option("--out", "out_path", required=True, type=click.Path(path_type=str), help="Rubric TOML file to write.")
@click.option("--max-score", type=float, default=5.0, show_default=True, help="Scale maximum (a max_score column overrides it per question).")
@click.option("--step", type=float, default=0.5, show_default=True, help="Scale step.")
@click.option("--title", default=None, help="Rubric title (default: the CSV file name).")
@clear_errors
def import_rubric(questions: str, out_path: str, max_score: float, step: float, title: str | None) -> None:
    """Make a rubric from QUESTIONS, a CSV with question_id, prompt, model_answer (optional:
    max_score; concepts as phrases separated by ';', derived from the model answers when absent;
    model_answers, every acceptable answer separated by ' || ')."""
    from .importer import import_rubric_file

    imported = import_rubric_file(questions, out_path, max_score=max_score, step=step, title=title)
    rubric_ = imported.rubric
    with_concepts = sum(1 for q in rubric_.questions if q.concepts)
    echo(f"Wrote {out_path}: {len(rubric_.questions)} questions, {with_concepts} with concepts, "
               f"scale 0-{rubric_.scale.max:g} in steps of {rubric_.scale.step:g}.")
    if imported.suggestions:
        echo(f"{len(imported.suggestions)} questions have no concepts: they are graded on their model answers. "
                   "Suggested key terms (comments in the file; add them as [[questions.concepts]] if they matter):")
        for qid, terms in imported.suggestions.items():
            echo(f"  {qid}: {', '.join(terms)}")


@main.command()
@click.option("--rubric", "rubric_path", required=True, type=click.Path(path_type=str), help="Rubric TOML file to tune.")
@click.option("--graded", "graded_path", required=True, type=click.Path(path_type=str),
              help="CSV of teacher-graded answers: student_id, question_id, answer, score.")
@click.option("--out", "out_path", type=click.Path(path_type=str), default=None, help="Tuned rubric TOML file to write.")
@click.option("--in-place", is_flag=True, help="Overwrite --rubric with the tuned rubric.")
@click.option("--force", is_flag=True, help="Adopt the learned model even with few graded answers or no clear cross-validated gain.")
@clear_errors
def tune(rubric_path: str, graded_path: str, out_path: str | None, in_place: bool, force: bool) -> None:
    """Learn from a teacher's marks: a model for all questions, per-question calibration and
    exemplars, stored as plain data in the rubric."""
    from .metrics import METRICS, format_value
    from .tuning import tune_file

    def started(graded: int, left_out: int) -> None:
        echo(f"Tuning on {graded} graded answers" + (f" ({left_out} without a score or unreadable, left out)" if left_out else "") + " ...")

    run = tune_file(rubric_path, graded_path, out_path, in_place=in_place, force=force, on_start=started)
    result, target = run.result, run.target
    if result.kept:
        echo(f"No general model: {result.kept}.")
        echo(result.learned)
    else:
        echo(f"Learned from {result.answers} answers to {result.questions} questions (ridge alpha {result.alpha:g}).")
    if result.before is not None:
        echo("Agreement with your marks, before -> after (after: cross-validated with GroupKFold by question, "
                   "so each question is scored by a model that never saw its answers):")
        for name in METRICS[1:]:
            after = format_value(name, result.after[name]) if result.after else "-"
            echo(f"  {name:9s} {format_value(name, result.before[name]):>7s} -> {after:>7s}")
    for code, cap in result.caps.items():
        echo(f"Your marks for answers flagged {code} exceed its cap: raised to {cap:.0%} of the marks (still flagged for review).")
    if result.suggestions:
        echo("High-scoring answers use these words the rubric lacks; consider them as aliases or concepts:")
        for qid, terms in result.suggestions.items():
            echo(f"  {qid}: {', '.join(terms)}")
    echo(f"Wrote {target}")


@main.command()
@click.option("--rubric", "rubric_path", required=True, type=click.Path(path_type=str), help="Rubric TOML file.")
@click.option("--graded", "graded_path", required=True, type=click.Path(path_type=str),
              help="CSV of teacher-graded answers: student_id, question_id, answer, score.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@clear_errors
def evaluate(rubric_path: str, graded_path: str, as_json: bool) -> None:
    """Grade teacher-graded answers and report agreement: Pearson, Spearman, RMSE, quadratic-weighted
    kappa, exact and adjacent (within 1 point) agreement, overall and per question."""
    import json

    from .metrics import format_table, json_ready
    from .tuning import evaluate_file

    report = evaluate_file(rubric_path, graded_path)
    if as_json:
        click.echo(json.dumps(json_ready(report), indent=2))   # ASCII: json escapes every control
        return
    echo(f"{report['overall']['n']} answers compared with your marks (rubric {rubric_path}"
               f"{', tuned' if report['tuned'] else ', untuned'}); exact = same step, adjacent = within 1 point.")
    for line in format_table(report):
        echo(line)
    skipped = report["not_scored"] + report["left_out"]
    if skipped:
        echo(f"{skipped} answers not compared (no score, blank or unreadable).")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
