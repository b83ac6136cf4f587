"""The `grader` command: parses options, calls the library, prints. Nothing else lives here.

Heavy libraries (scikit-learn, matplotlib) are imported inside the commands so that
`grader --help` answers at once.
"""

from __future__ import annotations

import sys
from functools import wraps

import click


class Failure(click.ClickException):
    """A fatal, expected problem: printed as one line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"grader: error: {self.message}", err=True)


def _expected_errors():
    from .answers import InputError
    from .rubric import RubricError
    from .writers import OutputError

    return (InputError, RubricError, OutputError)


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
              help="Folder for grades.csv and grades.json.")
@click.option("--quiet", is_flag=True, help="No progress or summary on stderr.")
@clear_errors
def grade(inputs: tuple[str, ...], rubric_path: str | None, out_dir: str, quiet: bool) -> None:
    """Grade INPUTS: CSV files (student_id, question_id, answer) or folders of
    <student_id>/<question_id>.txt files."""
    from .answers import read_answers
    from .grading import grade as grade_answers
    from .rubric import load_rubric
    from .writers import prepare_out_dir, write_outputs

    rubric = load_rubric(rubric_path)
    out = prepare_out_dir(out_dir)
    answers = read_answers(inputs)
    say = (lambda *a, **k: None) if quiet else (lambda msg: click.echo(msg, err=True))
    say(f"Grading {len(answers)} answers with rubric {rubric.title!r} ...")
    results = grade_answers(rubric, answers)
    write_outputs(results, rubric, out)
    if not quiet:
        from .summary import summary_lines

        for line in summary_lines(results, rubric, out):
            say(line)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
