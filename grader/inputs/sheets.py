"""A table from the first non-empty sheet of an .xlsx/.xlsm/.ods workbook (python-calamine)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import ReadError
from .dialect import Table


def read_sheet(path: Path) -> Table:
    from python_calamine import CalamineWorkbook

    # calamine raises its own errors (and zip/XML ones) for a damaged or encrypted workbook: any
    # of them is this one input unreadable, said in one line.
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [workbook.get_sheet_by_name(name).to_python(skip_empty_area=True) for name in workbook.sheet_names]
    except Exception as exc:   # noqa: BLE001
        raise ReadError(f"{path}: cannot be read as a spreadsheet ({exc.__class__.__name__}: damaged or "
                        "password-protected); save it again without a password, or export it as CSV") from None
    rows = next((sheet for sheet in sheets if any(any(_cell(c) for c in row) for row in sheet)), None)
    if not rows:
        raise ReadError(f"{path}: the workbook has no filled sheet; put the answers in its first sheet")
    cells = [[_cell(value) for value in row] for row in rows]
    start = next(i for i, row in enumerate(cells) if any(row))
    return Table(str(path), cells[start],
                 [(number + 1, row) for number, row in enumerate(cells) if number > start and "".join(row).strip()])


def _cell(value) -> str:
    """A cell as the text a teacher sees: 3.0 as 3, dates in ISO form, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)
