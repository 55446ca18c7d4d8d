"""What a check does to a workbook, as plain data: one patch for every door.

A check reads a :class:`Snapshot` of a workbook (its sheets' values, the selection, and — when asked — how a cell
looks now and which merged range holds it) and answers with a :class:`Patch`: cells to put back, cells to colour
and note, values to write, sheets to add or delete, the sheet to show and the message for the clerk. Each door
applies a patch with its own engine and decides nothing of its own: ``marks`` with openpyxl (validate -o,
feedback, the desk's marked copies), ``addin`` through xlwings, the WPS add-in with WPS's JS API (from the JSON of
``Patch.to_dict``). The planning here imports no engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from .printing import fit_widths
from .problems import GROUP_AT, SEVERITIES, SEVERITY_ZH, Problem, group_problems, problem_title

PROBLEMS_SHEET = "问题清单"
AUTHOR = "xltools"
# Hidden sheet where xltools records the cells it marked (with what they looked like before) and, in the add-in,
# the problems behind them: marks are taken off exactly (清除标注, or the next feedback on a form sent back).
MARKS_SHEET = "_xltools_marks"
MARKS_HEADER = ["kind", "sheet", "cell", "fill", "note", "text"]
NO_NOTE, OWN_NOTE, UNKNOWN = "none", "text", "unknown"  # a cell's note before xltools marked it
# Excel's own "bad / neutral / note" fills, which clerks already read as red / yellow / blue.
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
HEADER_FILL = "#D9D9D9"
NOTE_SEPARATOR = "\n——\n"  # between a person's note and the problems appended to it
# What a clerk reads first comes first; the location columns are narrow, the text ones share what is left
# of a landscape A4 page (PROBLEM_FLEX: column → least width), so the list prints at 100%. 代码 is the
# problem type for programs (and JSON): hidden, and hidden columns do not print.
PROBLEM_COLUMNS = (("序号", 4.5), ("地区", 7), ("严重程度", 5.5), ("问题类型", 12), ("问题说明", 36), ("建议", 20),
                   ("内容", 16), ("文件", 14), ("工作表", 8), ("单元格", 6.5), ("行", 5), ("代码", 20))
PROBLEM_FLEX = {4: 28, 5: 14, 6: 12}
CODE_COLUMN = len(PROBLEM_COLUMNS) - 1  # 0-based, hidden
WRAPPED = {3, 4, 5, 6, 7}  # 0-based: 问题类型, 问题说明, 建议, 内容, 文件
CENTRED = {0, 2, 9, 10}  # 0-based: 序号, 严重程度, 单元格, 行
NUMERIC = {0, 10}  # 0-based: 序号, 行 (every other column is written as text)

_CELL = re.compile(r"([A-Za-z]{1,3})(\d+)$")
_RANGE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")


# ------------------------------------------------------------------------------------------------ the data


@dataclass(frozen=True)
class CellState:
    """How a cell looks: its solid fill ("#RRGGBB", "" none, ``UNKNOWN`` when it cannot be put back exactly)
    and its note (``NO_NOTE``, ``OWN_NOTE`` a person's, its text in ``text``, or ``UNKNOWN``). Before xltools
    marks a cell this is recorded; 清除标注 puts it back."""

    sheet: str
    cell: str
    fill: str = ""
    note: str = NO_NOTE
    text: str = ""

    def row(self) -> list[str]:
        return ["mark", self.sheet, self.cell, self.fill, self.note, self.text]


@dataclass(frozen=True)
class Paint:
    """A cell to colour and note. ``note`` None: the cell keeps its note (a person's, which the engine that read
    the workbook could not see, is never replaced)."""

    sheet: str
    cell: str  # the cell Excel shows the note at (a merged range's first cell)
    fill: str  # "#RRGGBB": the worst problem's
    note: str | None
    problems: tuple[Problem, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Write:
    """A value to write into a cell, as text (never read as a formula or a number)."""

    sheet: str
    cell: str
    value: str


@dataclass
class Table:
    """A sheet xltools adds at the end of the workbook (replacing one of its name): rows with the header first.
    Columns are 1-based; ``fills`` and ``links`` are (row, column) of the table, 1 being the header."""

    name: str
    rows: list[list]
    widths: list[float] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    wrapped: list[int] = field(default_factory=list)
    centred: list[int] = field(default_factory=list)
    numeric: list[int] = field(default_factory=list)  # every other column is written as text
    fills: list[tuple[int, int, str]] = field(default_factory=list)
    links: list[tuple[int, int, str, str]] = field(default_factory=list)  # → sheet, cell
    visible: bool = True
    styled: bool = True  # fonts, a grey bold header (the record sheet is bare)


@dataclass
class Patch:
    """What one button does to a workbook, in the order a door applies it: ``restore`` (cells given back their
    look), ``paint``, ``writes``, ``delete`` (sheets), ``tables`` (sheets added), then ``activate`` is shown and
    ``message`` said. Nothing is written before every part is decided."""

    restore: list[CellState] = field(default_factory=list)
    paint: list[Paint] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    activate: str | None = None
    message: str = ""

    def formatted(self) -> set[str]:
        """Sheets whose cells get or lose colours and notes (a protected one refuses)."""
        return {c.sheet for c in self.restore} | {p.sheet for p in self.paint}

    def to_dict(self) -> dict:
        """The patch as JSON-ready data (the WPS add-in applies this)."""
        return {"restore": [asdict(c) for c in self.restore],
                "paint": [{"sheet": p.sheet, "cell": p.cell, "fill": p.fill, "note": p.note} for p in self.paint],
                "writes": [asdict(w) for w in self.writes], "delete": list(self.delete),
                "tables": [{**asdict(t), "fills": [list(f) for f in t.fills], "links": [list(x) for x in t.links]}
                           for t in self.tables], "activate": self.activate, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict) -> Patch:
        return cls([CellState(**c) for c in data.get("restore", [])],
                   [Paint(**p) for p in data.get("paint", [])],
                   [Write(**w) for w in data.get("writes", [])], list(data.get("delete", [])),
                   [Table(**{**t, "fills": [tuple(f) for f in t.get("fills", [])],
                             "links": [tuple(x) for x in t.get("links", [])]}) for t in data.get("tables", [])],
                   data.get("activate"), data.get("message", ""))


class Snapshot:
    """A workbook as the checks see it. This one holds plain data (what a client such as the WPS add-in sends:
    ``from_dict``); a door reading a live workbook overrides ``values``, ``state`` and ``anchor`` to read only
    what a check asks for."""

    def __init__(self, name: str, sheets: dict[str, list[list[str]]], selection: list[list[str]] | None = None,
                 states: dict[tuple[str, str], CellState] | None = None, merged: dict[str, list[str]] | None = None):
        self.name = name
        self.sheet_names = list(sheets)
        self._sheets = sheets
        self._selection = selection or []
        self._states = states or {}
        self._merged = merged or {}

    def values(self, sheet: str) -> list[list[str]]:
        """A sheet's cells from A1 to the end of its used range, as text (the file reader's)."""
        return self._sheets[sheet]

    @property
    def selection(self) -> list[list[str]]:
        """The selected cells' values (what 查询所选单位 looks up)."""
        return self._selection

    def state(self, sheet: str, cell: str) -> CellState:
        return self._states.get((sheet, cell)) or CellState(sheet, cell)

    def anchor(self, sheet: str, cell: str) -> str:
        """``cell``, or the first cell of the merged range holding it (where a note is shown)."""
        col, row = _cell_index(cell)
        for ref in self._merged.get(sheet, ()):
            m = _RANGE.match(ref)
            if m and m[3]:
                (c1, r1), (c2, r2) = _cell_index(m[1] + m[2]), _cell_index(m[3] + m[4])
                if c1 <= col <= c2 and r1 <= row <= r2:
                    return f"{m[1].upper()}{m[2]}"
        return cell

    @classmethod
    def from_dict(cls, data: dict) -> Snapshot:
        """``{"name", "sheets": [{"name", "values": [[…]], "merged": ["A1:B2"], "cells": {"A1": {"fill":
        "#RRGGBB", "note": "…"}}}], "selection": [[…]]}`` — ``cells`` lists the cells with a fill or a note."""
        from pathlib import Path

        from .limits import check_sheet
        from .text import cell_text

        sheets, states, merged = {}, {}, {}
        book = str(data.get("name", ""))
        for s in data.get("sheets", []):
            name = str(s["name"])
            values = s.get("values") or []
            check_sheet(Path(book or "?"), name, len(values), max((len(r) for r in values), default=0))
            sheets[name] = [[v if type(v) is str else cell_text(v) for v in row] for row in values]
            merged[name] = [str(r) for r in s.get("merged", [])]
            for ref, look in (s.get("cells") or {}).items():
                note = look.get("note")
                states[(name, ref)] = CellState(name, ref, str(look.get("fill") or ""),
                                                NO_NOTE if note is None else OWN_NOTE, str(note or ""))
        selection = [[v if type(v) is str else cell_text(v) for v in row] for row in data.get("selection", [])]
        return cls(book, sheets, selection, states, merged)


def _cell_index(ref: str) -> tuple[int, int]:
    m = _CELL.match(ref.replace("$", ""))
    if not m:
        return 0, 0
    col = 0
    for ch in m[1].upper():
        col = col * 26 + ord(ch) - 64
    return col, int(m[2])


# ---------------------------------------------------------------------------------------------- planning


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def worst(problems: Iterable[Problem]) -> str:
    """The most severe severity among ``problems`` (the colour of their cell)."""
    return min((p.severity for p in problems), key=_rank)


def note_text(problems: list[Problem]) -> str:
    """The note on a marked cell: each problem's severity and message, with its suggestion, worst first."""
    lines = []
    for p in sorted(problems, key=lambda p: _rank(p.severity)):
        line = f"【{SEVERITY_ZH[p.severity]}】{p.message}"
        if p.suggestion:
            line += f"\n建议：{p.suggestion}"
        lines.append(line)
    return "\n".join(lines)


def plan_marks(problems: list[Problem], sheets, anchor: Callable[[str, str], str]) -> list[Paint]:
    """The marks ``problems`` make in a workbook of ``sheets``: problems at one cell (``anchor(sheet, cell)``: the
    cell that takes the note, for a cell inside a merged range) share a mark, coloured by the worst, with a note
    listing them. Problems of no cell of these sheets make none (they are on 问题清单)."""
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet and p.cell and p.sheet in sheets:
            by_cell.setdefault((p.sheet, anchor(p.sheet, p.cell)), []).append(p)
    return [Paint(sheet, cell, "#" + FILLS[worst(found)], note_text(found), tuple(found))
            for (sheet, cell), found in by_cell.items()]


def recorded(snapshot: Snapshot) -> tuple[dict[tuple[str, str], CellState], list[tuple[str, Problem]]]:
    """The marks (what each cell looked like before) and, from the add-in, the problems of earlier checks, read
    from the hidden record sheet."""
    import json

    if MARKS_SHEET not in snapshot.sheet_names:
        return {}, []
    found: dict[tuple[str, str], CellState] = {}
    problems: list[tuple[str, Problem]] = []
    for row in snapshot.values(MARKS_SHEET)[1:]:
        row = ["" if v is None else str(v) for v in (list(row) + [""] * 6)[:6]]
        if row[0] == "mark" and row[1] and row[2]:
            found[(row[1], row[2])] = CellState(row[1], row[2], row[3], row[4] or NO_NOTE, row[5])
        elif row[0] and row[0] != "mark" and row[5]:
            try:
                problems.append((row[0], Problem.from_dict(json.loads(row[5]))))
            except (ValueError, TypeError, KeyError):
                continue  # a record row a person edited: its problem is not listed again, nothing else is lost
    return found, problems


def mark_patch(snapshot: Snapshot, problems: list[Problem], *, kind: str | None = None, record: bool = True,
               region: str | None = None, listed: bool = True, group_at: int = GROUP_AT) -> Patch:
    """Marks for ``problems`` (of ``kind``, replacing that kind's recorded ones; None: all), the cells no longer
    marked put back, and — ``record`` — the record of what each marked cell looked like before, so that 清除标注
    (or the next check) puts them back exactly. ``listed``: 问题清单 too (``problem_table``), or deleted when
    nothing is left. A person's note is kept, the problems appended after it."""
    old_marks, old_problems = recorded(snapshot) if record else ({}, [])
    if kind is not None:
        kept = [(k, p) for k, p in old_problems if k != kind] + [(kind, p) for p in problems]
        problems = [p for _k, p in kept]
    else:
        kept = []
    names = snapshot.sheet_names

    def here(p: Problem) -> bool:  # at a cell of this workbook (not, say, of the unit directory's 单位名录)
        return bool(p.sheet in names and p.cell and (not snapshot.name or not p.file or p.file == snapshot.name))

    marked = plan_marks([p for p in problems if here(p)], [n for n in names if n not in (PROBLEMS_SHEET, MARKS_SHEET)],
                        snapshot.anchor)
    still = {(p.sheet, p.cell) for p in marked}
    patch = Patch(restore=[m for key, m in old_marks.items() if key not in still and m.sheet in names])
    before = []
    for mark in marked:
        was = old_marks.get((mark.sheet, mark.cell)) or snapshot.state(mark.sheet, mark.cell)
        before.append(was)
        note = mark.note
        if was.note == UNKNOWN:
            note = None  # a person's note this engine cannot read is left alone, not replaced
        elif was.note == OWN_NOTE and was.text:
            note = f"{was.text}{NOTE_SEPARATOR}{note}"
        patch.paint.append(Paint(mark.sheet, mark.cell, mark.fill, note, mark.problems))
    if listed:
        if problems:
            patch.tables.append(problem_table(problems, region, group_at, linked=here))
            patch.activate = PROBLEMS_SHEET
        elif PROBLEMS_SHEET in names:
            patch.delete.append(PROBLEMS_SHEET)
    if record and (before or kept):
        patch.tables.append(record_table(before, kept))
    elif MARKS_SHEET in names and (record or old_marks):
        patch.delete.append(MARKS_SHEET)
    return patch


def record_table(cells: list[CellState], problems: list[tuple[str, Problem]] = ()) -> Table:
    """The hidden record sheet: each marked cell's look before, and (the add-in's) each problem as JSON."""
    import json

    rows = [list(MARKS_HEADER)] + [c.row() for c in cells]
    rows += [[kind, p.sheet or "", p.cell or "", "", "", json.dumps(p.to_dict(), ensure_ascii=False)]
             for kind, p in problems]
    return Table(MARKS_SHEET, rows, visible=False, styled=False)


def clear_patch(snapshot: Snapshot) -> Patch:
    """清除标注: every recorded cell gets its look back; 问题清单 and the record go; nothing else changes."""
    old_marks, _problems = recorded(snapshot)
    names = snapshot.sheet_names
    return Patch(restore=[m for m in old_marks.values() if m.sheet in names],
                 delete=[n for n in (PROBLEMS_SHEET, MARKS_SHEET) if n in names])


# ------------------------------------------------------------------------------------------------ 问题清单


def _list_order(p: Problem) -> tuple:
    """Severity first, then place: cells by sheet, row and column (A2 before A10), then text lines; problems
    of the whole file (no place) last in their severity, in the order found."""
    m = _CELL.match(p.cell or "")
    if p.sheet and m:
        return _rank(p.severity), 0, p.sheet, int(m[2]), len(m[1]), m[1], 0
    if p.line is not None:
        return _rank(p.severity), 1, p.sheet or "", p.line, 0, "", 0
    return _rank(p.severity), 2, p.sheet or "", 0, 0, "", 0


def list_order(problems: list[Problem]) -> list[Problem]:
    """``problems`` in the order of the 问题清单 sheet."""
    return sorted(problems, key=_list_order)


def problem_columns(hidden=frozenset()) -> list[tuple[str, float]]:
    """PROBLEM_COLUMNS with the text columns sized to fill a landscape A4 page (``hidden`` columns, which do
    not print, give their room to the others)."""
    widths = fit_widths([0 if i in hidden else w for i, (_h, w) in enumerate(PROBLEM_COLUMNS) if i != CODE_COLUMN],
                        PROBLEM_FLEX, True)
    return [(h, w if i in hidden or i >= len(widths) else widths[i]) for i, (h, w) in enumerate(PROBLEM_COLUMNS)]


def problem_values(i: int, p: Problem, region: str | None) -> tuple:
    """One 问题清单 row, in PROBLEM_COLUMNS order; 行 is the line of a text or the row of a cell."""
    m = _CELL.match(p.cell or "")
    line = p.line if p.line is not None else int(m[2]) if m else None
    return (i, region or None, SEVERITY_ZH[p.severity], problem_title(p.type), p.message, p.suggestion or None,
            p.value or None, p.file or None, p.sheet or None, p.cell or None, line, p.type)


def problem_table(problems: list[Problem], region: str | None = None, group_at: int = GROUP_AT,
                  linked: Callable[[Problem], bool] = lambda p: False, title: str = PROBLEMS_SHEET) -> Table:
    """问题清单: every problem, severity first then place; ``group_at`` or more of one type become one line naming
    their cells (each cell keeps its own note); a problem ``linked`` links to its cell. 地区 and 文件 the same on
    every line (one district's file) are hidden, their room given to the text; 代码 (for programs) is hidden."""
    ordered = group_problems(list_order(problems), group_at)
    rows = [problem_values(i, p, region) for i, p in enumerate(ordered, start=1)]
    uniform = {c for c in (1, 7) if rows and len({r[c] for r in rows}) == 1}
    columns = problem_columns(uniform)
    cell_col = [h for h, _w in PROBLEM_COLUMNS].index("单元格") + 1
    severity_col = [h for h, _w in PROBLEM_COLUMNS].index("严重程度") + 1
    return Table(title, [[h for h, _w in columns], *[list(r) for r in rows]], [w for _h, w in columns],
                 hidden=sorted(c + 1 for c in (*uniform, CODE_COLUMN)), wrapped=sorted(c + 1 for c in WRAPPED),
                 centred=sorted(c + 1 for c in CENTRED), numeric=sorted(c + 1 for c in NUMERIC),
                 fills=[(i, severity_col, "#" + FILLS[p.severity]) for i, p in enumerate(ordered, start=2)],
                 links=[(i, cell_col, p.sheet, p.cell) for i, p in enumerate(ordered, start=2) if linked(p)])
