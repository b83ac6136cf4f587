"""The `grader` command: parses options, calls the library, prints. Nothing else lives here.

Heavy libraries (scikit-learn, matplotlib) are imported inside the commands so that
`grader --help` answers at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from functools import wraps

import click


class Failure(click.ClickException):
    """A fatal, expected problem: printed as one line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"grader: error: {self.message}", err=True)


def _expected_errors():
    from .answers import InputError
    from .parallel import WorkerStopped
    from .rubric import RubricError
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
@click.option("--quiet", is_flag=True, help="No progress or summary on stderr.")
@clear_errors
def grade(inputs: tuple[str, ...], rubric_path: str | None, out_dir: str, quiet: bool) -> None:
    """Grade INPUTS: CSV files (student_id, question_id, answer) or folders of
    <student_id>/<question_id>.txt files."""
    from .answers import read_answers, skipped_files
    from .grading import grade as grade_answers, paused_gc
    from .rubric import load_rubric
    from .writers import prepare_out_dir, write_outputs

    rubric = load_rubric(rubric_path)
    out = prepare_out_dir(out_dir)
    answers = read_answers(inputs)
    say = (lambda *a, **k: None) if quiet else (lambda msg: click.echo(msg, err=True))
    for folder in (Path(i) for i in inputs if Path(i).is_dir()):
        skipped = skipped_files(folder)
        if skipped:
            say(f"Skipped {len(skipped)} files in {folder} that are not <student_id>/<question_id>.txt or .md "
                f"(first: {skipped[0].relative_to(folder)})")
    say(f"Grading {len(answers)} answers with rubric {rubric.title!r} ...")
    # One batch per command: the collector stays off from grading to the summary, which would
    # otherwise walk the millions of objects the batch made (seconds at 100,000 answers).
    with paused_gc():
        results = grade_answers(rubric, answers)
        # A progress bar only for a person watching: not with --quiet, not into a log file or pipe.
        show_progress = not quiet and sys.stderr.isatty()
        progress = (lambda items, label: click.progressbar(items, label=label, file=sys.stderr)) if show_progress else None
        write_outputs(results, rubric, out, progress=progress)
        if not quiet:
            from .summary import summary_lines

            for line in summary_lines(results, rubric, out):
                say(line)


# -- rubric import, tune, evaluate (agreement with human graders) ------------------------------

def _same_file(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


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
    max_score, and concepts as phrases separated by ';')."""
    from .answers import InputError
    from .importer import import_questions, write_rubric_text

    if _same_file(questions, out_path):
        raise InputError(f"{out_path}: --out is the questions CSV itself; choose another file such as rubric.toml")
    imported = import_questions(questions, max_score=max_score, step=step, title=title)
    write_rubric_text(out_path, imported.toml())
    rubric_ = imported.rubric
    with_concepts = sum(1 for q in rubric_.questions if q.concepts)
    click.echo(f"Wrote {out_path}: {len(rubric_.questions)} questions, {with_concepts} with concepts, "
               f"scale 0-{rubric_.scale.max:g} in steps of {rubric_.scale.step:g}.")
    if imported.suggestions:
        click.echo(f"{len(imported.suggestions)} questions have no concepts: they are graded on their model answers. "
                   "Suggested key terms (comments in the file; add them as [[questions.concepts]] if they matter):")
        for qid, terms in imported.suggestions.items():
            click.echo(f"  {qid}: {', '.join(terms)}")


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
    from .answers import InputError
    from .importer import rubric_toml, write_rubric_text
    from .metrics import METRICS, format_value
    from .rubric import load_rubric
    from .tuning import read_graded, tune as tune_rubric

    if in_place and out_path and not _same_file(out_path, rubric_path):
        raise InputError(f"{out_path}: --in-place writes to --rubric {rubric_path}; give either --out or --in-place")
    if not in_place and not out_path:
        raise InputError(f"{rubric_path}: give --out TUNED.toml for the tuned rubric (or --in-place to overwrite the rubric)")
    if not in_place and _same_file(out_path, rubric_path):
        raise InputError(f"{out_path}: --out would overwrite the input rubric; choose another --out or add --in-place")
    target = rubric_path if in_place else out_path
    if _same_file(target, graded_path):
        raise InputError(f"{target}: this is the graded CSV; choose another --out")
    rubric_ = load_rubric(rubric_path)
    rows, left_out = read_graded(graded_path, rubric_)
    click.echo(f"Tuning on {len(rows)} graded answers" + (f" ({len(left_out)} without a score or unreadable, left out)" if left_out else "") + " ...")
    result = tune_rubric(rubric_, rows, force=force)
    header = ("# Tuned by `grader tune` on " + graded_path + ": [model] and each question's calibration and exemplars are learned data.\n"
              if not result.kept else "# `grader tune` on " + graded_path + " kept this rubric's own scoring: " + result.kept + ".\n")
    write_rubric_text(target, rubric_toml(result.rubric, header=header.rstrip("\n")))
    if result.kept:
        click.echo(f"Kept the rubric's own scoring: {result.kept}. Grade more answers, or add --force to use the learned model anyway.")
    else:
        click.echo(f"Learned from {result.answers} answers to {result.questions} questions (ridge alpha {result.alpha:g}).")
    if result.before is not None:
        click.echo("Agreement with your marks, before -> after (after: cross-validated with GroupKFold by question, "
                   "so each question is scored by a model that never saw its answers):")
        for name in METRICS[1:]:
            after = format_value(name, result.after[name]) if result.after else "-"
            click.echo(f"  {name:9s} {format_value(name, result.before[name]):>7s} -> {after:>7s}")
    for code, cap in result.caps.items():
        click.echo(f"Your marks for answers flagged {code} exceed its cap: raised to {cap:.0%} of the marks (still flagged for review).")
    if result.suggestions:
        click.echo("High-scoring answers use these words the rubric lacks; consider them as aliases or concepts:")
        for qid, terms in result.suggestions.items():
            click.echo(f"  {qid}: {', '.join(terms)}")
    click.echo(f"Wrote {target}")


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
    from .rubric import load_rubric
    from .tuning import evaluate as evaluate_rubric, read_graded

    rubric_ = load_rubric(rubric_path)
    rows, left_out = read_graded(graded_path, rubric_)
    report = evaluate_rubric(rubric_, rows)
    report["left_out"] = len(left_out)
    if as_json:
        click.echo(json.dumps(json_ready({"rubric": rubric_path, "tuned": bool(rubric_.model), **report}), indent=2))
        return
    click.echo(f"{report['overall']['n']} answers compared with your marks (rubric {rubric_path}"
               f"{', tuned' if rubric_.model else ', untuned'}); exact = same step, adjacent = within 1 point.")
    for line in format_table(report):
        click.echo(line)
    skipped = report["not_scored"] + report["left_out"]
    if skipped:
        click.echo(f"{skipped} answers not compared (no score, blank or unreadable).")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
