"""Problems rendered into workbooks: coloured cells with notes, and a 问题清单 sheet with links.

Used by every job that reports problems (validate now, consolidate later), so a clerk sees the
same colours, notes and list whichever command produced them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from .layout import fit_rows, text_lines
from .printing import FOOTER, MARGIN_IN, fit_widths
from .problems import GROUP_AT, SEVERITIES, SEVERITY_ZH, Problem, group_problems, problem_title
from .xlio import put, xml_text

PROBLEMS_SHEET = "问题清单"
AUTHOR = "xltools"
# Hidden sheet where xltools records the cells it marked (with what they looked like before) and, in the add-in,
# the problems behind them: marks are taken off exactly (清除标注, or the next feedback on a form sent back).
MARKS_SHEET = "_xltools_marks"
MARKS_HEADER = ["kind", "sheet", "cell", "fill", "note", "text"]
NO_NOTE, OWN_NOTE, UNKNOWN = "none", "text", "unknown"  # a cell's note before xltools marked it
# Excel's own "bad / neutral / note" fills, which clerks already read as red / yellow / blue.
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# What a clerk reads first comes first; the location columns are narrow, the text ones share what is left
# of a landscape A4 page (PROBLEM_FLEX: column → least width), so the list prints at 100%. 代码 is the
# problem type for programs (and JSON): hidden, and hidden columns do not print.
PROBLEM_COLUMNS = (("序号", 4.5), ("地区", 7), ("严重程度", 5.5), ("问题类型", 12), ("问题说明", 36), ("建议", 20),
                   ("内容", 16), ("文件", 14), ("工作表", 8), ("单元格", 6.5), ("行", 5), ("代码", 20))
PROBLEM_FLEX = {4: 28, 5: 14, 6: 12}
CODE_COLUMN = len(PROBLEM_COLUMNS) - 1  # 0-based, hidden
WRAPPED = {3, 4, 5, 6, 7}  # 0-based: 问题类型, 问题说明, 建议, 内容, 文件


_CELL = re.compile(r"([A-Za-z]{1,3})(\d+)$")


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def _list_order(p: Problem) -> tuple:
    """Severity first, then place: cells by sheet, row and column (A2 before A10), then text lines; problems
    of the whole file (no place) last in their severity, in the order found."""
    m = _CELL.match(p.cell or "")
    if p.sheet and m:
        return _rank(p.severity), 0, p.sheet, int(m[2]), len(m[1]), m[1], 0
    if p.line is not None:
        return _rank(p.severity), 1, p.sheet or "", p.line, 0, "", 0
    return _rank(p.severity), 2, p.sheet or "", 0, 0, "", 0


def _anchor(ws, ref: str) -> str:
    """``ref``, or the first cell of the merged range that covers it."""
    for merged in ws.merged_cells.ranges:
        if ref in merged:
            return merged.start_cell.coordinate
    return ref


@dataclass(frozen=True)
class CellMark:
    """One cell's mark, decided once for every door (a file's marked copy, the Excel add-in, the desk): its fill
    and note, from the problems at it. Each door applies it with its own engine (openpyxl, xlwings)."""

    sheet: str
    cell: str  # the cell Excel shows the note at (a merged range's first cell)
    fill: str  # "#RRGGBB": the worst problem's
    note: str
    problems: tuple[Problem, ...]


def plan_marks(problems: list[Problem], sheets, anchor: Callable[[str, str], str]) -> list[CellMark]:
    """The marks ``problems`` make in a workbook of ``sheets``: problems at one cell (``anchor(sheet, cell)``: the
    cell that takes the note, for a cell inside a merged range) share a mark, coloured by the worst, with a note
    listing them. Problems of no cell of these sheets make none (they are on 问题清单)."""
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet and p.cell and p.sheet in sheets:
            by_cell.setdefault((p.sheet, anchor(p.sheet, p.cell)), []).append(p)
    return [CellMark(sheet, cell, "#" + FILLS[worst(found)], note_text(found), tuple(found))
            for (sheet, cell), found in by_cell.items()]


def mark_cells(workbook, problems: list[Problem], record: bool = False) -> int:
    """Colour each problem's cell by its worst severity and attach a note; returns cells marked.

    ``record``: marks an earlier run recorded in the workbook are taken off first (a feedback workbook sent back
    and checked again), and these are recorded in the hidden ``MARKS_SHEET``, as the add-in records its own."""
    if record:
        clear_recorded_marks(workbook)
    # A cell inside a merged range cannot hold a note: its range's first cell is marked instead.
    plan = plan_marks(problems, workbook.sheetnames, lambda sheet, ref: _anchor(workbook[sheet], ref))
    if record and plan:
        _record_marks(workbook, [(m.sheet, m.cell, workbook[m.sheet][m.cell]) for m in plan])
    for mark in plan:
        cell = workbook[mark.sheet][mark.cell]
        cell.fill = PatternFill("solid", fgColor=mark.fill.lstrip("#"))
        text = mark.note
        if cell.comment is not None and cell.comment.author != AUTHOR:
            text = f"{cell.comment.text}{NOTE_SEPARATOR}{text}"  # keep what a person wrote
        comment = Comment(xml_text(text), AUTHOR)  # a value quoted in the note: cleaned as a cell's is
        comment.width, comment.height = 320, min(60 + 40 * len(mark.problems), 400)
        cell.comment = comment
    return len(plan)


NOTE_SEPARATOR = "\n——\n"  # between a person's note and the problems appended to it


def _fill_hex(cell) -> str:
    """A cell's solid fill as "#RRGGBB", "" for none, ``UNKNOWN`` for what cannot be put back exactly."""
    fill = cell.fill
    if fill is None or fill.fill_type in (None, "none"):
        return ""
    rgb = fill.fgColor.rgb if fill.fill_type == "solid" and fill.fgColor.type == "rgb" else None
    return f"#{rgb[-6:].upper()}" if isinstance(rgb, str) else UNKNOWN


def _record_marks(workbook, cells: list[tuple[str, str, object]]) -> None:
    """What each cell about to be marked looks like now, in the hidden record sheet (the add-in's format)."""
    rows = []
    for sheet, ref, cell in cells:
        note = cell.comment
        if note is None or note.author == AUTHOR:  # (a note all ours, left by an earlier run, is not put back)
            kind, text = NO_NOTE, ""
        else:
            kind, text = OWN_NOTE, note.text
        rows.append(["mark", sheet, ref, _fill_hex(cell), kind, text])
    ws = workbook[MARKS_SHEET] if MARKS_SHEET in workbook.sheetnames else workbook.create_sheet(MARKS_SHEET)
    if ws.max_row <= 1 and ws.cell(1, 1).value is None:
        for c, h in enumerate(MARKS_HEADER, 1):
            ws.cell(1, c, h)
    for row in rows:
        r = ws.max_row + 1
        for c, v in enumerate(row, 1):
            put(ws, r, c, v)
    ws.sheet_state = "hidden"


def clear_recorded_marks(workbook) -> int:
    """Put back every cell an earlier run recorded marking (its fill and note), and drop the record; returns the
    cells restored. A fill that could not be recorded exactly is left as it is."""
    if MARKS_SHEET not in workbook.sheetnames:
        return 0
    ws = workbook[MARKS_SHEET]
    restored = 0
    for row in ws.iter_rows(min_row=2, values_only=True):
        kind, sheet, ref, fill, note, text = (list(row) + [None] * 6)[:6]
        if kind != "mark" or sheet not in workbook.sheetnames or not ref:
            continue
        cell = workbook[sheet][ref]
        if fill == "" or fill is None:
            cell.fill = PatternFill(fill_type=None)
        elif fill != UNKNOWN:
            cell.fill = PatternFill("solid", fgColor=str(fill).lstrip("#"))
        if note == OWN_NOTE:
            cell.comment = Comment(xml_text(str(text or "")), "") if text else None  # a person's note, not xltools
        elif note in (NO_NOTE, None, ""):
            cell.comment = None
        restored += 1
    del workbook[MARKS_SHEET]
    return restored


def worst(problems: list[Problem]) -> str:
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


def write_problem_sheet(workbook, problems: list[Problem], title: str = PROBLEMS_SHEET, region: str | None = None,
                        group_at: int = GROUP_AT):
    """A 问题清单 sheet listing every problem, each linking to its cell; replaces an older one.
    ``region`` fills the 地区 column (a validated ledger is one region's). ``group_at`` or more problems of
    one type become one line naming their cells (``group_problems``); each cell keeps its own note."""
    if title in workbook.sheetnames:
        del workbook[title]
    ws = workbook.create_sheet(title)
    header_font = Font(name="黑体", size=11, bold=True, charset=134)
    body_font = Font(name="仿宋", size=11, charset=134)
    ordered = group_problems(list_order(problems), group_at)
    rows = [problem_values(i, p, region) for i, p in enumerate(ordered, start=1)]
    # 地区 and 文件 the same on every line (one district's file): hidden, their room given to the text
    uniform = {c for c in (1, 7) if rows and len({r[c] for r in rows}) == 1}
    columns = problem_columns(uniform)
    for col, (text, width) in enumerate(columns, start=1):
        cell = ws.cell(1, col, text)
        cell.font, cell.border = header_font, _BOX
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = width
    for c in (*uniform, CODE_COLUMN):
        ws.column_dimensions[get_column_letter(c + 1)].hidden = True
    cell_col = next(i for i, (h, _w) in enumerate(PROBLEM_COLUMNS, start=1) if h == "单元格")
    severity_col = next(i for i, (h, _w) in enumerate(PROBLEM_COLUMNS, start=1) if h == "严重程度")
    for i, (p, values) in enumerate(zip(ordered, rows), start=1):
        for col, value in enumerate(values, start=1):
            cell = put(ws, i + 1, col, value)
            cell.font, cell.border = body_font, _BOX
            cell.alignment = Alignment(vertical="center", wrap_text=col - 1 in WRAPPED,
                                       horizontal="center" if col - 1 in (0, 2, 9, 10) else None)
        ws.cell(i + 1, severity_col).fill = PatternFill("solid", fgColor=FILLS[p.severity])
        if p.sheet and p.cell and p.sheet in workbook.sheetnames:
            link = ws.cell(i + 1, cell_col)
            # An in-workbook location, not a URL: Excel, WPS and LibreOffice all jump to the cell.
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(p.sheet)}!{p.cell}")
            link.font = Font(name="仿宋", size=11, charset=134, color="0563C1", underline="single")
    widths = {i: w for i, (_, w) in enumerate(columns, start=1)}
    for c in (*uniform, CODE_COLUMN):
        widths[c + 1] = 1000  # hidden: never makes a row taller
    fit_rows(ws, 2, widths)
    ws.row_dimensions[1].height = 12 + 15 * max(text_lines(t, w * 7, 11) for t, w in columns)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(PROBLEM_COLUMNS))
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{last}{len(ordered) + 1}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_IN
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = f"{title}　{FOOTER}"
    ws.oddFooter.center.font, ws.oddFooter.center.size = "仿宋,常规", 11
    ws.auto_filter.ref = f"A1:{last}{max(len(ordered) + 1, 1)}"
    ws.sheet_properties.tabColor = "C00000" if any(p.severity == "error" for p in problems) else "FFC000"
    return ws
