"""A district's values carried into its form: the feedback of a district that sent its form back as xls or ods.

openpyxl cannot edit an xls or an ods, so such a district's feedback cannot be its own file marked. It gets its
form again — the workbook ``distribute`` made for it (same batch, keys, protection, 填报说明), rebuilt from the
city ledger — with every value it typed copied in from the file it sent, cell by cell as the file has it, and
each problem moved to the same row and column of the form. Read back, the form is a distributed workbook like
any other: sent back corrected, it is consolidated exactly like one.

Where the district's rows go: a city row (and a goal row) to the row of its 任务键; its own tasks to the own-task
area (made as large as they need); a row it inserted under a city row (or a copy of one, its key a duplicate)
to an open row added under that city row; lines above and under the table to the same place. A deleted city
row comes back, blank, and its problem is marked there. What has no place (a column the form does not have) is
listed on the cover, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from .distribution import OWN_ROWS, district_form
from .model import Ledger
from .problems import Problem
from .returned import KEY
from .text import column_letter, fold
from .xlio import put

# The fields extract reads (ledger.columns) → the template's fields, for the columns of a form.
_FIELDS = {"seq": "seq", "task": "task", "content": "content", "lead": "lead_units", "resp": "responsible_units",
           "目标": "target", "完成时限": "deadline", "进展情况": "progress", "完成情况": "status", KEY: "key"}
_CELL = re.compile(r"^([A-Z]{1,3})(\d+)$")
NO_PLACE = "form-no-place"  # a typed text the rebuilt form has no cell for: listed, never dropped
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def carried_form(source: Path, ledger: Ledger, problems: list[Problem], city: Ledger, city_sha256: str,
                 directory, out_name: str) -> tuple[object, list[Problem]]:
    """The form of ``ledger``'s district with its values from ``source`` and ``problems`` placed in it: (the
    workbook, the problems at their cells of it, then a ``form-no-place`` note for each typed text the form has
    no cell for)."""
    from .readers.grid import find_header
    from .readers.workbook import open_workbook, sheet_values

    sheet = next((r.origin.sheet for r in [*ledger.rows, *ledger.goals] if r.origin.sheet), None)
    values = sheet_values(open_workbook(source), sheet, source) if sheet else []
    own_section = ledger.meta.get("own_section")

    # Which form row each row of the file goes to.
    keyed: dict[int, str] = {}  # file row → key
    own: list[int] = []
    under: dict[str, list[int]] = {}  # key → file rows inserted (or copied) under its row
    seen: set[str] = set()
    last_key = None
    for item in sorted([*ledger.goals, *ledger.rows], key=lambda i: i.origin.row or 0):
        r, key = item.origin.row, item.extra.get(KEY, "").strip()
        if r is None:
            continue
        if key and key not in seen:
            seen.add(key)
            keyed[r], last_key = key, key
        elif last_key is None or (not key and getattr(item, "section", None) == own_section):
            own.append(r)
        else:  # a row inserted under a city row, or a copy of one (its key a duplicate)
            under.setdefault(last_key, []).append(r)
    form = district_form(city, ledger.meta, directory, city_sha256,
                         max(OWN_ROWS, len(own) + 2), {k: len(v) for k, v in under.items()})
    t = form.template
    ws = t.sheet
    to_row = {r: form.keys[k] for r, k in keyed.items() if k in form.keys}
    to_row.update(zip(own, form.own))
    for key, rows in under.items():
        to_row.update(zip(rows, form.after.get(key, [])))
    leftovers: list[tuple[str, str]] = []
    for r in keyed:  # a key the city ledger no longer has: its row goes to the own-task area
        if r not in to_row:
            spare = [x for x in form.own if x not in to_row.values()]
            if spare:
                to_row[r] = spare[0]

    # Which form column each column of the file goes to.
    to_col: dict[int, int] = {}
    extra = {fold(h): c for h, c in t.extra_columns.items()}  # the reference columns, and any a person added
    for name, index in ledger.columns.items():
        field = _FIELDS.get(name)
        if field in t.columns:
            to_col[index] = t.columns[field]
        elif fold(name) in extra:
            to_col[index] = extra[fold(name)]

    found = find_header(values, 30)
    header_at = found[1] if found else 0
    open_cells = _open_cells(ws, t)
    for r, target in sorted(to_row.items()):
        cells = values[r - 1] if r - 1 < len(values) else []
        for c, text in enumerate(cells):
            if not text:
                continue
            col = to_col.get(c)
            if col is None:
                leftovers.append((f"原表第{r}行{column_letter(c + 1)}列", text))
            elif (target, col) in open_cells:
                _put(ws, target, col, text, col == t.columns.get("deadline"))
    # The lines above the header (填报单位, 填报日期) to the same cells; those under the table after the form's.
    last_item = max(to_row, default=header_at + 1)
    for r in range(2, header_at + 1):
        _copy_line(ws, values, r, r, open_cells, leftovers)
    for r in range(last_item + 1, len(values) + 1):
        _copy_line(ws, values, r, t.data[1] + (r - last_item), open_cells, leftovers)

    placed = [_placed(p, sheet, ws.title, to_row, to_col, t, form.keys, header_at, last_item, out_name)
              for p in problems]
    placed += [Problem(NO_PLACE, f"{where}的内容在填报表中没有对应的位置，未能放回：{text[:60]}", severity="info",
                       file=out_name, value=text, suggestion="请核对后填入合适的单元格")
               for where, text in leftovers]
    return form.workbook, placed


def _open_cells(ws, t) -> set[tuple[int, int]]:
    """The cells a district may type in (unlocked), as the form was made."""
    return {(cell.row, cell.column) for row in ws.iter_rows() for cell in row
            if cell.protection is not None and cell.protection.locked is False and type(cell).__name__ != "MergedCell"}


def _put(ws, r: int, c: int, text: str, date: bool) -> None:
    if date and _ISO_DATE.match(text):
        cell = put(ws, r, c, datetime.strptime(text, "%Y-%m-%d"))
        cell.number_format = "yyyy-mm-dd"
    else:
        put(ws, r, c, text)


def _copy_line(ws, values: list[list[str]], r: int, target: int, open_cells, leftovers) -> None:
    """A line outside the table: each typed cell to the same column of row ``target``, where that cell is open
    or empty in the form and says something else (the form's own labels are not copied over themselves)."""
    from openpyxl.styles import Protection

    if r - 1 >= len(values):
        return
    for c, text in enumerate(values[r - 1]):
        if not text:
            continue
        cell = ws.cell(target, c + 1)
        if str(cell.value or "").strip() == text.strip():
            continue
        if (target, c + 1) in open_cells or (cell.value is None and type(cell).__name__ != "MergedCell"):
            put(ws, target, c + 1, text)
            cell.protection = Protection(locked=False)
        else:
            leftovers.append((f"原表第{r}行{column_letter(c + 1)}列", text))


def _placed(p: Problem, sheet: str | None, form_sheet: str, to_row: dict, to_col: dict, t, keys: dict,
            header_at: int, last_item: int, out_name: str) -> Problem:
    """A problem found in the file sent, at the same row and column of the form (a deleted city row's at the
    row it has again); one with no place there says where it was."""
    if p.type == "returned-row-deleted" and p.value in keys:
        return replace(p, file=out_name, sheet=form_sheet, line=None,
                       cell=f"{column_letter(t.columns['content'])}{keys[p.value]}")
    m = _CELL.match(p.cell or "")
    if not (m and p.sheet == sheet):
        return replace(p, file=out_name) if not p.cell else \
            replace(p, file=out_name, sheet=None, cell=None, message=f"{p.message}（原表{p.cell}）")
    r, c = int(m[2]), _index(m[1])
    row = to_row.get(r) or (r if r <= header_at else t.data[1] + (r - last_item) if r > last_item else None)
    if row is None:
        return replace(p, file=out_name, sheet=None, cell=None, message=f"{p.message}（原表{p.cell}）")
    col = to_col.get(c, t.columns["task"]) if r in to_row else c + 1
    return replace(p, file=out_name, sheet=form_sheet, line=None, cell=f"{column_letter(col)}{row}")
