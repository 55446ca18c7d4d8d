"""Patches applied to workbook files with openpyxl: coloured cells with notes, a 问题清单 sheet with links.

The file door of ``patch``: validate -o, feedback and the desk's marked copies apply here the same patch the
Excel add-in applies through xlwings and the WPS add-in through its JS API, so a clerk sees the same colours,
notes and list whichever door produced them. What is particular to a file is its printing (page setup, footers,
rows grown to their text).
"""

from __future__ import annotations

from collections.abc import Callable

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from .layout import fit_rows, text_lines

# FILLS, MARKS_SHEET, NOTE_SEPARATOR, PROBLEMS_SHEET, WRAPPED, note_text and plan_marks are patch's, named here too
# for the callers that mark files
from .patch import (  # noqa: F401
    AUTHOR,
    FILLS,
    MARKS_SHEET,
    NO_NOTE,
    NOTE_SEPARATOR,
    OWN_NOTE,
    PROBLEMS_SHEET,
    UNKNOWN,
    WRAPPED,
    CellState,
    Patch,
    Snapshot,
    Table,
    mark_patch,
    note_text,
    plan_marks,
    problem_table,
)
from .printing import FOOTER, MARGIN_IN
from .problems import GROUP_AT, Problem
from .text import cell_text
from .xlio import put, xml_text

_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


class FileSnapshot(Snapshot):
    """An openpyxl workbook as the checks see it: each cell's look, merged ranges, and the sheets' values —
    ``values_of(sheet)`` when given (``buttons.file_snapshot``: the file reader's text), else openpyxl's."""

    def __init__(self, workbook, name: str = "", values_of: Callable[[str], list[list[str]]] | None = None):
        super().__init__(name, {n: [] for n in workbook.sheetnames})
        self.workbook, self._values_of = workbook, values_of

    def values(self, sheet: str) -> list[list[str]]:
        if self._values_of is not None:
            return self._values_of(sheet)
        return [[cell_text(v) for v in row] for row in self.workbook[sheet].iter_rows(values_only=True)]

    def state(self, sheet: str, cell: str) -> CellState:
        found = self.workbook[sheet][cell]
        note = found.comment
        if note is None or note.author == AUTHOR:  # (a note all ours, left by an unrecorded run, is not put back)
            return CellState(sheet, cell, _fill_hex(found))
        return CellState(sheet, cell, _fill_hex(found), OWN_NOTE, note.text)

    def anchor(self, sheet: str, cell: str) -> str:
        return _anchor(self.workbook[sheet], cell)


def _anchor(ws, ref: str) -> str:
    """``ref``, or the first cell of the merged range that covers it."""
    for merged in ws.merged_cells.ranges:
        if ref in merged:
            return merged.start_cell.coordinate
    return ref


def _fill_hex(cell) -> str:
    """A cell's solid fill as "#RRGGBB", "" for none, ``UNKNOWN`` for what cannot be put back exactly."""
    fill = cell.fill
    if fill is None or fill.fill_type in (None, "none"):
        return ""
    rgb = fill.fgColor.rgb if fill.fill_type == "solid" and fill.fgColor.type == "rgb" else None
    return f"#{rgb[-6:].upper()}" if isinstance(rgb, str) else UNKNOWN


def apply_patch(workbook, patch: Patch) -> None:
    """``patch`` applied to an openpyxl workbook (its tables bare; ``write_problem_sheet`` prints 问题清单)."""
    for was in patch.restore:
        cell = workbook[was.sheet][was.cell]
        if was.fill == "":
            cell.fill = PatternFill(fill_type=None)
        elif was.fill != UNKNOWN:
            cell.fill = PatternFill("solid", fgColor=was.fill.lstrip("#"))
        if was.note == OWN_NOTE:
            cell.comment = Comment(xml_text(was.text), "") if was.text else None  # a person's note, not xltools
        elif was.note == NO_NOTE:
            cell.comment = None
    for mark in patch.paint:
        cell = workbook[mark.sheet][mark.cell]
        cell.fill = PatternFill("solid", fgColor=mark.fill.lstrip("#"))
        if mark.note is not None:
            comment = Comment(xml_text(mark.note), AUTHOR)  # a value quoted in the note: cleaned as a cell's is
            comment.width, comment.height = 320, min(60 + 40 * max(len(mark.problems), mark.note.count("【")), 400)
            cell.comment = comment
    for w in patch.writes:
        put(workbook[w.sheet], *_row_col(w.cell), w.value)
    for name in patch.delete:
        if name in workbook.sheetnames:
            del workbook[name]
    for table in patch.tables:
        _write_table(workbook, table)


def _row_col(ref: str) -> tuple[int, int]:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    col, row = coordinate_from_string(ref)
    return row, column_index_from_string(col)


def _write_table(workbook, table: Table):
    if table.name in workbook.sheetnames:
        del workbook[table.name]
    ws = workbook.create_sheet(table.name)
    for r, row in enumerate(table.rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                put(ws, r, c, value)
    if not table.visible:
        ws.sheet_state = "hidden"
    return ws


def mark_cells(workbook, problems: list[Problem], record: bool = False) -> int:
    """Colour each problem's cell by its worst severity and attach a note; returns cells marked.

    ``record``: marks an earlier run recorded in the workbook are taken off (a feedback workbook sent back and
    checked again), and these are recorded in the hidden ``MARKS_SHEET``, as the add-in records its own."""
    patch = mark_patch(FileSnapshot(workbook), problems, record=record, listed=False)
    apply_patch(workbook, patch)
    return len(patch.paint)


def write_problem_sheet(workbook, problems: list[Problem], title: str = PROBLEMS_SHEET, region: str | None = None,
                        group_at: int = GROUP_AT):
    """A 问题清单 sheet (``patch.problem_table``) listing every problem, each linking to its cell; replaces an
    older one, and is set up to print on landscape A4 pages, the header repeated."""
    table = problem_table(problems, region, group_at, linked=lambda p: p.sheet in workbook.sheetnames and bool(p.cell),
                          title=title)
    ws = _write_table(workbook, table)
    header_font = Font(name="黑体", size=11, bold=True, charset=134)
    body_font = Font(name="仿宋", size=11, charset=134)
    for col, width in enumerate(table.widths, start=1):
        cell = ws.cell(1, col)
        cell.font, cell.border = header_font, _BOX
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = width
    for c in table.hidden:
        ws.column_dimensions[get_column_letter(c)].hidden = True
    last_row = len(table.rows)
    for r in range(2, last_row + 1):
        for col in range(1, len(table.widths) + 1):
            cell = ws.cell(r, col)
            cell.font, cell.border = body_font, _BOX
            cell.alignment = Alignment(vertical="center", wrap_text=col in table.wrapped,
                                       horizontal="center" if col in table.centred else None)
    for r, c, color in table.fills:
        ws.cell(r, c).fill = PatternFill("solid", fgColor=color.lstrip("#"))
    for r, c, sheet, ref in table.links:
        link = ws.cell(r, c)
        # An in-workbook location, not a URL: Excel, WPS and LibreOffice all jump to the cell.
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(sheet)}!{ref}")
        link.font = Font(name="仿宋", size=11, charset=134, color="0563C1", underline="single")
    widths = dict(enumerate(table.widths, start=1))
    for c in table.hidden:
        widths[c] = 1000  # hidden: never makes a row taller
    fit_rows(ws, 2, widths)
    ws.row_dimensions[1].height = 12 + 15 * max(text_lines(t, w * 7, 11) for t, w in zip(table.rows[0], table.widths))
    ws.freeze_panes = "A2"
    last = get_column_letter(len(table.widths))
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{last}{last_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_IN
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = f"{title}　{FOOTER}"
    ws.oddFooter.center.font, ws.oddFooter.center.size = "仿宋,常规", 11
    ws.auto_filter.ref = f"A1:{last}{max(last_row, 1)}"
    ws.sheet_properties.tabColor = "C00000" if any(p.severity == "error" for p in problems) else "FFC000"
    return ws
