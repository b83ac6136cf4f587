"""File helpers for every writer: atomic files and folders, safe file names, score formatting,
spreadsheet-safe cells.

Every file is written atomically: into a temporary file in the same folder, then renamed over
the target, so an interrupted run never leaves half a file and running again is safe.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class OutputError(OSError):
    """The output folder cannot be written; the message names it and says what to do."""


def prepare_out_dir(out: str | Path) -> Path:
    """Create the output folder (and parents) or raise OutputError with a clear fix."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{out}: exists and is not a folder; choose another --out") from None
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror}); choose a writable --out") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output folder is not writable; choose a writable --out or fix its permissions")
    return out


@contextmanager
def atomic_writer(path: Path, newline: str | None = None) -> Iterator[io.TextIOBase]:
    """Open a temporary file beside `path` for writing text; rename it over `path` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """A new temporary folder beside `path` to fill; on success it replaces `path` whole (files of
    an earlier run that this one did not write go too). One rename instead of one per file: a
    class of 30,000 students writes 30,000 pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    fresh.chmod(0o755)  # mkdtemp makes it private; the pages are meant to be shared
    try:
        yield fresh
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(fresh, path)
            shutil.rmtree(old)
        else:
            os.replace(fresh, path)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def safe_file_name(student_id: str, used: set[str] | None = None) -> str:
    """A file name made from a student id that cannot leave its folder (no separators, no dots
    in front, no device names), unique within `used` when given."""
    name = re.sub(r"[^\w.\- ]+", "_", student_id, flags=re.UNICODE).strip(" .")
    name = re.sub(r"\.{2,}", "_", name)[:80] or "student"
    if name.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}:
        name = f"_{name}"
    if used is not None:
        base, n = name, 2
        while name.lower() in used:
            name = f"{base}_{n}"
            n += 1
        used.add(name.lower())
    return name


def format_score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Keep a hostile id such as '=HYPERLINK(...)' from running as a formula when the file is opened."""
    return "'" + text if text.startswith(_FORMULA_START) else text
