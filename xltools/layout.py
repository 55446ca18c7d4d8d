"""Row heights for wrapped Chinese text: Excel and WPS do not fit wrapped rows on open, so we must."""

from __future__ import annotations

import re
import unicodedata

# Row-height estimate. Excel and WPS do not fit wrapped rows on open, so fill must. CJK glyphs are
# one em wide in every Chinese font, but the line pitch differs: 1.445 em measured in LibreOffice's
# PDF with Noto Serif CJK (17.05 pt a line at 11.8 pt), a little less for 仿宋 in Excel, ~1.3 em for
# 等线/微软雅黑 when Excel substitutes. Take the largest: never a cut-off line.
LINE_PITCH = 1.45
CELL_PAD_PX = 8  # left+right inner margin of a cell
ROW_PAD_PT = 8  # the cell's top and bottom margins (LibreOffice ~2.8pt, Excel less), and a little air
MAX_ROW_PT = 409  # Excel's limit
NO_LINE_START = set("，。、；：？！）》」』”’】〕…%,.;:?!)]}")


def _is_wide(ch: str) -> bool:
    # Ambiguous-width punctuation (“”‘’…) is full width in Chinese fonts.
    return unicodedata.east_asian_width(ch) in "WFA"


def text_lines(text: str, width_px: float, size_pt: float) -> int:
    """Lines a wrapped cell needs: greedy breaking, Latin words kept whole, no line starting with ，。"""
    em = size_pt * 96 / 72
    avail = max(width_px - CELL_PAD_PX, em)
    total = 0
    for para in str(text).split("\n"):
        lines, used, prev = 1, 0.0, 0.0
        for token in re.findall(r"[A-Za-z0-9.%\-/]+|.", para):
            w = sum(em if _is_wide(ch) else em * 0.55 for ch in token)
            if used + w > avail and used > 0:
                lines += 1
                # Kinsoku: the closing mark pulls the previous character down with it.
                used = w + prev if token in NO_LINE_START else w
            else:
                used += w
            prev = w
        total += lines
    return total


def column_widths_px(ws, first: int, last: int) -> dict[int, float]:
    """Column widths in pixels (0 for hidden columns), reading grouped <col min max> entries too."""
    from openpyxl.utils import column_index_from_string

    default = ws.sheet_format.defaultColWidth or 8.43
    widths = {c: float(default) for c in range(first, last + 1)}
    for letter, dim in ws.column_dimensions.items():
        # A dimension made in code (not read from a file) has no min/max until the workbook is written.
        lo, hi = dim.min or column_index_from_string(letter), dim.max or column_index_from_string(letter)
        for c in range(max(lo, first), min(hi, last) + 1):
            widths[c] = 0.0 if dim.hidden else float(dim.width or default)
    # Excel stores widths in characters of the default font (7 px per digit for Calibri 11 / 宋体 11).
    return {c: w * 7 for c, w in widths.items()}


def grow_rows(ws, first: int, last: int) -> int:
    """Rows ``first``…``last`` made as tall as the wrapped text in their visible cells needs (never shorter, at
    most Excel's cap): a form's rows were sized for what it came with, a clerk's text may be longer. Returns the
    rows grown."""
    widths = column_widths_px(ws, 1, ws.max_column)
    merged = {(m.min_row, m.min_col) for m in ws.merged_cells.ranges}  # a merged cell's text spans columns
    grown = 0
    for row in ws.iter_rows(min_row=first, max_row=last):
        need = 0.0
        for cell in row:
            if cell.value in (None, "") or type(cell).__name__ == "MergedCell" or not widths.get(cell.column) \
                    or (cell.row, cell.column) in merged:
                continue
            size = cell.font.size or 11 if cell.font is not None else 11
            need = max(need, needed_height(text_lines(str(cell.value), widths[cell.column], size), size))
        dim = ws.row_dimensions[row[0].row]
        if need > (dim.height or 15) + 0.5:
            dim.height = round(min(need, MAX_ROW_PT), 1)
            grown += 1
    return grown


def needed_height(lines: int, size_pt: float) -> float:
    return lines * size_pt * LINE_PITCH + ROW_PAD_PT


def fit_rows(ws, first_row: int, widths: dict[int, float], size_pt: float = 11) -> None:
    """Set each row's height from its longest wrapped cell (``widths``: column → Excel width units)."""
    for row in ws.iter_rows(min_row=first_row):
        lines = max((text_lines(str(c.value), widths.get(c.column, 8.43) * 7, size_pt)
                     for c in row if c.value not in (None, "")), default=1)
        ws.row_dimensions[row[0].row].height = min(needed_height(lines, size_pt), MAX_ROW_PT)
