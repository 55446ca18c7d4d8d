"""The seed documents laid out as the Word documents they were printed from, and printed to PDF.

A published 工作方案 is a Word document printed to PDF: 公文 layout (仿宋 body, first lines indented two
characters, justified), a running header and a “— N —” page number, and for a plan with its ledger
attached, the ledger as a ruled table whose header row repeats on every page, merged cells for a 序号/重点任务
covering several rows, a band (一、…) across the table and a goal label across 序号 and 重点任务. ``seed_docx``
writes that document from a seed's text (its table read by xltools' own text readers, merges put back where
the text shows them), ``to_pdf`` prints it with LibreOffice.
"""

from __future__ import annotations

import re
from pathlib import Path

from xltools.readers.tables import cell_rows, find_cell_header, find_tsv_header, tsv_rows
from xltools.text import ACTION_RE, FIELD_RE, read_text

FONT = "Noto Serif CJK SC"
HEADING_FONT = "Noto Sans CJK SC"
_GOAL_LABEL = re.compile(r"^\d{4}\s*年(?:工作)?目标$")


def seed_parts(seed: Path) -> tuple[list[str], list[list[str]] | None]:
    """A seed's paragraphs before its attached table (all of them when it has none), and the table's rows
    without the header repeated on each page (Word repeats the marked header row itself)."""
    text, _ = read_text(seed)
    lines = text.split("\n")
    tsv = find_tsv_header(lines)
    cells = find_cell_header(lines) if tsv is None else None
    if tsv is None and cells is None:
        return [line for line in lines if line.strip()], None
    header = tsv if tsv is not None else cells
    rows = tsv_rows(lines, header, None) if tsv is not None else cell_rows(lines, header, None)[0]
    grid = [r.cells + [""] * (5 - len(r.cells)) for r in rows]
    grid = [grid[0]] + [r for r in grid[1:] if r != grid[0]]
    before = [line for line in lines[:header] if line.strip()]
    return before, grid


def seed_docx(seed: Path, out: Path, running_header: str, landscape: bool = False, sentences: bool = False,
              kangxi: bool = False) -> Path:
    """``seed`` as a Word document at ``out``: 公文 paragraphs, ``running_header`` on every page, “— N —” under
    it, and its ledger (if any) as a ruled table that runs over several pages — on landscape pages from its
    附件 line on with ``landscape``, as many offices attach it; with ``sentences``, every third task's 工作内容
    one sentence a paragraph; with ``kangxi``, 一 工 人 大 written as the Kangxi radicals ⼀ ⼯ ⼈ ⼤, as some fonts'
    Unicode maps give them."""
    import docx
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    paragraphs, grid = seed_parts(seed)
    radicals = str.maketrans("一工人大", "\u2f00\u2f2f\u2f08\u2f24") if kangxi else {}
    if grid is not None and sentences:
        grid = [[*row[:2], "\n".join(f"{s}。" for s in row[2].split("。") if s.strip()), *row[3:]]
                if row[0].strip().isdigit() and int(row[0]) % 3 == 0 else row for row in grid]
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(2.0)

    def font(run_or_style, name: str, size: float | None = None, bold: bool = False) -> None:
        run_or_style.font.name = name
        rpr = run_or_style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)
        if size:
            run_or_style.font.size = Pt(size)
        run_or_style.font.bold = bold or None

    font(document.styles["Normal"], FONT, 15)
    header = section.header.paragraphs[0]
    header.text = running_header
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    page = OxmlElement("w:fldSimple")
    page.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    page.append(run)
    footer._p.append(page)
    footer.add_run(" —")

    title_done = False
    turned = False
    for line in paragraphs:
        text = line.strip()
        if landscape and not turned and text.startswith("附件") and len(text) < 6:
            turned = True
            if document.paragraphs:
                section = document.add_section(WD_SECTION.NEW_PAGE)
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Cm(29.7), Cm(21)
            section.top_margin, section.bottom_margin = Cm(2.8), Cm(2.6)
        p = document.add_paragraph()
        titled = not title_done and _is_title(text)
        if titled or text in ("附件",) or text.startswith("附件") and len(text) < 6:
            run = p.add_run(text.translate(radicals))
            if titled:
                font(run, HEADING_FONT, 20, bold=True)
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            title_done = title_done or (titled and text.endswith(("方案", "台账")))
            continue
        if line.startswith(" " * 8):  # the signature and date, set to the right
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.add_run(text.translate(radicals))
            continue
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Pt(30)
        run = p.add_run(text.translate(radicals))
        if ACTION_RE.match(text) and len(text) <= 40:
            font(run, HEADING_FONT, 15)
    if grid is not None:
        _add_table(document, grid, wide=turned, radicals=radicals)
    document.save(str(out))
    return out


def _is_title(text: str) -> bool:
    return len(text) <= 30 and "。" not in text and "：" not in text and (
        text.endswith(("方案", "台账", "消费品", "文件")) or text.startswith("济南市") and len(text) < 16)


def _add_table(document, grid: list[list[str]], wide: bool = False, radicals: dict | None = None) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    widths = [Cm(w) for w in ((1.4, 3.5, 12.6, 3.4, 3.4) if wide else (1.4, 2.6, 6.6, 2.5, 2.5))]
    table = document.add_table(rows=len(grid), cols=5)
    table.style = document.styles["Table Grid"]
    table.autofit = False
    header_props = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_props.append(repeat)
    for c, width in enumerate(widths):
        table.columns[c].width = width
        for cell in table.columns[c].cells:
            cell.width = width
    # Merges where the text shows them: a band across the table, a goal label across 序号 and 重点任务 and
    # down its goals, a 序号 or 重点任务 down the rows it covers.
    goal_top = None
    for r, cells in enumerate(grid[1:], start=1):
        first = cells[0].strip()
        if first and not any(cells[1:]) and (ACTION_RE.match(first) or FIELD_RE.match(first)):
            table.cell(r, 0).merge(table.cell(r, 4))
            goal_top = _close_goal(table, goal_top, r - 1)
            continue
        if _GOAL_LABEL.match(first) and not cells[1]:
            goal_top = _close_goal(table, goal_top, r - 1)
            goal_top = r
            continue
        if goal_top is not None and not first and not cells[1]:
            continue
        goal_top = _close_goal(table, goal_top, r - 1)
    _close_goal(table, goal_top, len(grid) - 1)
    for c in (0, 1):
        top = None
        for r in range(1, len(grid) + 1):
            cells = grid[r] if r < len(grid) else None
            task_row = cells is not None and bool(cells[2].strip()) and not _GOAL_LABEL.match(cells[0].strip()) \
                and not (cells[0] == "" and cells[1] == "" and _in_goals(grid, r))
            if task_row and not cells[c] and top is not None:
                continue
            if top is not None and r - 1 > top:
                table.cell(top, c).merge(table.cell(r - 1, c))
            top = r if task_row and cells[c] else None
    # The text last: a cell merged with cells holding text would keep their empty paragraphs.
    for r, cells in enumerate(grid):
        for c, value in enumerate(cells):
            if not value.strip():
                continue
            cell = table.cell(r, c)
            for i, part in enumerate(value.split("\n")):
                p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                run = p.add_run(part.strip().translate(radicals or {}))
                run.font.size = Pt(10.5)
                run.font.bold = r == 0 or None


def _in_goals(grid: list[list[str]], r: int) -> bool:
    for cells in reversed(grid[:r]):
        if cells[0].strip():
            return bool(_GOAL_LABEL.match(cells[0].strip()))
    return False


def _close_goal(table, top: int | None, bottom: int) -> None:
    if top is not None:
        table.cell(top, 0).merge(table.cell(bottom, 1))
    return None


def to_pdf(documents: list[Path], outdir: Path) -> list[Path]:
    """Each document printed to PDF by LibreOffice, in one run (see tests/render.py)."""
    from render import to_pdf as print_all

    return print_all(documents, outdir)
