"""Word documents (.docx): body paragraphs and tables, in document order."""

from __future__ import annotations

from pathlib import Path

from ..display import file_name
from ..errors import UnreadableInput
from ..model import Ledger, Origin
from ..text import parse_region
from .compare import compare_body
from .grid import GridRow, find_header, parse_grid
from .plan import find_title, paragraphs, parse_plan


def _table_rows(table, file: str, first_para: int) -> list[GridRow]:
    """Rows of a Word table; a horizontally merged cell appears once, the rest of its span empty."""
    rows = []
    for r_idx, row in enumerate(table.rows, start=1):
        cells, seen = [], set()
        for cell in row.cells:
            # python-docx repeats a merged cell's object across its span; vertical merges repeat
            # the cell above, which is right for 序号/重点任务 covering several rows.
            key = id(cell._tc)
            if key in seen:
                cells.append("")
                continue
            seen.add(key)
            cells.append(cell.text)
        rows.append(GridRow(cells, Origin(file=file, sheet=f"表格（第{first_para}段后）", row=r_idx)))
    return rows


def extract_docx(path: Path) -> Ledger:
    try:
        import docx
        from docx.oxml.ns import qn
    except ImportError as exc:  # a core dependency; only a broken install gets here
        raise UnreadableInput("python-docx is not installed", "缺少 python-docx，请重新安装 xltools") from exc
    name = file_name(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several kinds for a damaged package
        raise UnreadableInput(f"{path}: not a readable .docx ({exc})", f"无法打开 Word 文件：{name}（文件损坏或不是 .docx）") from exc
    lines: list[str] = []
    ledger_rows: list[GridRow] | None = None
    body_end = None
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append("".join(t.text or "" for t in child.iter(qn("w:t"))))
        elif child.tag == qn("w:tbl") and ledger_rows is None:
            table = docx.table.Table(child, document)
            rows = _table_rows(table, name, len(lines))
            if find_header([r.cells for r in rows], 5) is not None:
                ledger_rows, body_end = rows, len(lines)
    return assemble(lines, ledger_rows, body_end, name)


def assemble(lines: list[str], ledger_rows: list[GridRow] | None, body_end: int | None, name: str) -> Ledger:
    """A document read as paragraphs and its ledger table (the rows of the first table with a ledger header,
    ``body_end`` paragraphs into the document): the table's ledger, compared with the body; else the prose."""
    if ledger_rows is None:
        return parse_plan(lines, name)
    # The table's title is the last title-like paragraph before it.
    before = paragraphs(lines[:body_end])
    title = find_title(before[-4:]) if before else ""
    ledger = parse_grid(ledger_rows, name, title=title)
    body = parse_plan(lines[:body_end], name)
    if body.rows:
        ledger.problems.extend(compare_body(body, ledger, name))
    if not ledger.region:
        ledger.title = ledger.title or body.title
        ledger.region, ledger.level, ledger.city = parse_region(ledger.title) if ledger.title else (None, None, None)
        if not ledger.region:
            ledger.region, ledger.level, ledger.city = body.region, body.level, body.city
    return ledger
