"""Problems rendered into workbooks: coloured cells with notes, and a 问题清单 sheet with links.

Used by every job that reports problems (validate now, consolidate later), so a clerk sees the
same colours, notes and list whichever command produced them.
"""

from __future__ import annotations

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from .layout import fit_rows
from .problems import SEVERITIES, SEVERITY_ZH, Problem, problem_title

PROBLEMS_SHEET = "问题清单"
AUTHOR = "xltools"
# Excel's own "bad / neutral / note" fills, which clerks already read as red / yellow / blue.
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
PROBLEM_COLUMNS = (("序号", 6), ("严重程度", 9), ("问题类型", 18), ("工作表", 10), ("单元格", 8), ("内容", 28),
            ("问题说明", 56), ("建议", 30), ("文件", 18), ("行", 6), ("代码", 22))


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def mark_cells(workbook, problems: list[Problem]) -> int:
    """Colour each problem's cell by its worst severity and attach a note; returns cells marked."""
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet and p.cell and p.sheet in workbook.sheetnames:
            by_cell.setdefault((p.sheet, p.cell), []).append(p)
    for (sheet, ref), found in by_cell.items():
        cell = workbook[sheet][ref]
        worst = min((p.severity for p in found), key=_rank)
        cell.fill = PatternFill("solid", fgColor=FILLS[worst])
        lines = []
        for p in sorted(found, key=lambda p: _rank(p.severity)):
            line = f"【{SEVERITY_ZH[p.severity]}】{p.message}"
            if p.suggestion:
                line += f"\n建议：{p.suggestion}"
            lines.append(line)
        text = "\n".join(lines)
        if cell.comment is not None and cell.comment.author != AUTHOR:
            text = f"{cell.comment.text}\n——\n{text}"  # keep what a person wrote
        comment = Comment(text, AUTHOR)
        comment.width, comment.height = 320, min(60 + 40 * len(lines), 400)
        cell.comment = comment
    return len(by_cell)


def write_problem_sheet(workbook, problems: list[Problem], title: str = PROBLEMS_SHEET):
    """A 问题清单 sheet listing every problem, each linking to its cell; replaces an older one."""
    if title in workbook.sheetnames:
        del workbook[title]
    ws = workbook.create_sheet(title)
    header_font = Font(name="黑体", size=11, bold=True, charset=134)
    body_font = Font(name="仿宋", size=11, charset=134)
    for col, (text, width) in enumerate(PROBLEM_COLUMNS, start=1):
        cell = ws.cell(1, col, text)
        cell.font, cell.border = header_font, _BOX
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[cell.column_letter].width = width
    ordered = sorted(problems, key=lambda p: (_rank(p.severity), p.sheet or "", p.line or 0))
    for i, p in enumerate(ordered, start=1):
        values = (i, SEVERITY_ZH[p.severity], problem_title(p.type), p.sheet or "", p.cell or "", p.value or "",
                  p.message, p.suggestion or "", p.file or "", p.line, p.type)
        for col, value in enumerate(values, start=1):
            cell = ws.cell(i + 1, col, value)
            cell.font, cell.border = body_font, _BOX
            cell.alignment = Alignment(vertical="center", wrap_text=col in (6, 7, 8))
        ws.cell(i + 1, 2).fill = PatternFill("solid", fgColor=FILLS[p.severity])
        if p.sheet and p.cell and p.sheet in workbook.sheetnames:
            link = ws.cell(i + 1, 5)
            # An in-workbook location, not a URL: Excel, WPS and LibreOffice all jump to the cell.
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(p.sheet)}!{p.cell}")
            link.font = Font(name="仿宋", size=11, charset=134, color="0563C1", underline="single")
    fit_rows(ws, 2, {i: w for i, (_, w) in enumerate(PROBLEM_COLUMNS, start=1)})
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "问题清单 第 &P 页，共 &N 页"
    ws.auto_filter.ref = f"A1:{ws.cell(1, len(PROBLEM_COLUMNS)).column_letter}{max(len(ordered) + 1, 1)}"
    ws.sheet_properties.tabColor = "C00000" if any(p.severity == "error" for p in problems) else "FFC000"
    return ws
