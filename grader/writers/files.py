"""File helpers for every writer: atomic files and folders, safe file names, score formatting,
spreadsheet-safe cells.

Every file is written atomically: into a temporary file in the same folder, then renamed over
the target, so an interrupted run never leaves half a file and running again is safe. A new file
gets the mode the user's umask gives any new file (not the private 0600 of a temporary file); a
file written over keeps its mode.
"""

from __future__ import annotations

import io
import os
import re
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


def _umask() -> int:
    mask = os.umask(0o022)   # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode `open()` gives a new file under the user's umask (0644 under the usual 022)."""
    return 0o666 & ~_umask()


def new_folder_mode() -> int:
    """The mode `mkdir` gives a new folder under the user's umask (0755 under the usual 022)."""
    return 0o777 & ~_umask()


@contextmanager
def atomic_writer(path: Path, newline: str | None = None) -> Iterator[io.TextIOBase]:
    """Open a temporary file beside `path` for writing text; rename it over `path` on success.
    The file gets `path`'s mode if it exists, else a new file's (new_file_mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
NAME_BYTES = 120
"""A safe name's length limit in UTF-8 bytes: well inside every file system's 255, with room for a
uniqueness suffix and an extension."""


def safe_file_name(student_id: str) -> str:
    """A file name made from a student id that cannot leave its folder: no separators, no dots in
    front, no device names, no control or invisible characters, at most NAME_BYTES bytes."""
    name = re.sub(r"[^\w.\- ]+", "_", student_id, flags=re.UNICODE).strip(" .")
    name = re.sub(r"\.{2,}", "_", name)
    name = name.encode("utf-8")[:NAME_BYTES].decode("utf-8", "ignore").rstrip(" .") or "student"
    if name.upper().split(".")[0] in _DEVICE_NAMES:
        name = f"_{name}"
    return name


class UniqueNames:
    """Safe file names, unique without regard to case (as on Windows and macOS): the second id
    that makes the same name gets `_2`, the next `_3`. Linear time: a counter per name."""

    def __init__(self):
        self._taken: set[str] = set()
        self._next: dict[str, int] = {}

    def __call__(self, student_id: str) -> str:
        name = safe_file_name(student_id)
        key = name.lower()
        if key in self._taken:
            n = self._next.get(key, 2)
            while f"{key}_{n}" in self._taken:
                n += 1
            self._next[key] = n + 1
            name, key = f"{name}_{n}", f"{key}_{n}"
        self._taken.add(key)
        return name


def format_score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP's
# list for CSV injection); a number such as -2 or +1.5 is not, and stays a number.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def spreadsheet_safe(text: str) -> str:
    """A text cell that cannot run as a formula when the CSV is opened: one starting with = + - @,
    a tab or a carriage return gets a leading apostrophe (what spreadsheets themselves use to mean
    "this is text"). Every text cell of every CSV grader writes goes through here."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def unquote_spreadsheet_safe(text: str) -> str:
    """A cell read back from a CSV grader (or the report's marks export) wrote: the apostrophe
    spreadsheet_safe put before = + - @ tab or CR is taken off, so ids and answers match the input."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text
