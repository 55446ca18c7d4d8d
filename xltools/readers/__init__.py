"""Read a plan document, a ledger or rows, from any supported format, into a Ledger."""

from __future__ import annotations

import logging
from pathlib import Path

from ..display import file_name
from ..errors import UnreadableInput
from ..limits import LimitExceeded, current, inspect
from ..model import Ledger, TaskRow
from ..problems import Problem
from ..text import parse_region, read_text
from .compare import compare_body
from .grid import find_title, parse_grid
from .plan import parse_plan
from .tables import cell_rows, find_cell_header, find_tsv_header, tsv_rows

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".text"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


def extract(path: str | Path, region: str | None = None) -> Ledger:
    """Extract a ledger from a plan document (.docx/.pdf/.txt/.md), rows (.csv/.json) or a ledger workbook."""
    path = Path(path)
    if not path.exists():
        raise UnreadableInput(f"{path}: no such file", f"找不到文件：{path}")
    if path.is_dir():
        raise UnreadableInput(f"{path}: is a folder, not a file", f"“{path}”是文件夹，不是文件")
    suffix, name = path.suffix.lower(), file_name(path)
    if suffix not in WORKBOOK_SUFFIXES:  # (workbooks are inspected where they are opened)
        inspect(path)  # size and zip directory, before any parse
    if suffix in TEXT_SUFFIXES:
        text, _ = read_text(path)
        ledger = extract_text(text, name)
        bound_prose(ledger, name)
    elif suffix == ".docx":
        from .docx import extract_docx

        ledger = extract_docx(path)
        bound_prose(ledger, name)
    elif suffix == ".pdf":
        from .pdf import extract_pdf

        ledger = extract_pdf(path)
        bound_prose(ledger, name)
    elif suffix in (".csv", ".json", ".tsv"):
        from .rows import extract_rows

        ledger = extract_rows(path)
    elif suffix in WORKBOOK_SUFFIXES:
        from .workbook import extract_workbook

        ledger = extract_workbook(path)
    else:
        raise UnreadableInput(
            f"{path}: unsupported file type {suffix!r}",
            f"不支持的文件类型“{suffix}”：{name}（支持 .docx .pdf .txt .md .csv .json .xlsx .xlsm .xls .xlsb .ods）",
        )
    settle(ledger, name, region)
    log.info("extracted %s: %d rows, %d goals, %d problems", name, len(ledger.rows),
             len(ledger.goals), len(ledger.problems))
    return ledger


def bound_prose(ledger: Ledger, name: str) -> None:
    """A ledger read from prose held to what a workbook holds, as a sheet's cells are when read: no more rows
    than ``rows`` allows, no text longer than a cell's 32,767 characters (cut, with a cell-too-long problem at
    its line; the document keeps the whole text)."""
    limits = current()
    count = len(ledger.rows) + len(ledger.goals)
    if count > limits.rows:
        raise LimitExceeded(f"{name}: {count} ledger rows, over the limit rows={limits.rows}",
                            f"台账行数过多，未读取：{name} 有 {count:,} 行任务和目标，超过上限 {limits.rows:,} 行"
                            f"（如确需读取，可用 --limit rows=… 调整）", "rows")
    most = limits.cell_chars
    for item in (*ledger.goals, *ledger.rows):
        fields = ("text",) if item.__class__ is not TaskRow else ("task", "content")
        for attr in fields:
            value = getattr(item, attr)
            if len(value) > most:
                setattr(item, attr, value[:most])
                ledger.problems.append(Problem(
                    "cell-too-long", f"一段文字有 {len(value):,} 个字，超过单元格上限 {most:,} 字，只读取了前 {most:,} 字"
                    "（原文件已保留，全文见原文件）", severity="error", value=value[:60] + "…",
                    suggestion="请把过长的内容拆分或精简", **item.origin.where(name)))


def settle(ledger: Ledger, name: str, region: str | None = None,
           hint: str = "请用 --region 指定（如 --region 章丘区）") -> Ledger:
    """What every extracted ledger gets last: its source name, its region (``region`` overrides the title's)
    and, without one, an unknown-region problem whose message ends with ``hint``."""
    ledger.source = name
    if ledger.region and not ledger.region_from:
        ledger.region_from = "title"
    ledger.numbering = ledger.numbering or ledger.region
    if region:
        ledger.region = region
        ledger.level = "市" if region.endswith("市") else "区县"
        ledger.region_from = "option"
    elif not ledger.region:
        ledger.problems.append(Problem(
            "unknown-region", f"无法从标题判断所属地区，{hint}", severity="warning", file=name))
    return ledger


def _title_before(lines: list[str], header: int) -> tuple[str, int]:
    """The table's own title: the nearest title-like line above the header, and where the attachment starts."""
    for i in range(header - 1, max(-1, header - 12), -1):
        title = find_title([[lines[i]]])
        if title:
            start = i
            if i and lines[i - 1].strip().startswith("附件") or (i > 1 and lines[i - 2].strip().startswith("附件")):
                start = i - 1 if lines[i - 1].strip().startswith("附件") else i - 2
            return title, start
    return "", header


def extract_text(text: str, file: str | None = None) -> Ledger:
    """A text document: an attached ledger table if there is one (compared with the body), else the prose."""
    lines = text.split("\n")
    tsv = find_tsv_header(lines)
    cells = find_cell_header(lines) if tsv is None else None
    if tsv is None and cells is None:
        return parse_plan(lines, file)
    header = tsv if tsv is not None else cells
    title, table_start = _title_before(lines, header)
    if tsv is not None:
        rows, problems = tsv_rows(lines, header, file), []
    else:
        rows, problems = cell_rows(lines, header, file)
    ledger = parse_grid(rows, file, title=title)
    ledger.problems[:0] = problems
    body = parse_plan(lines[:table_start], file)
    if body.rows:
        ledger.problems.extend(compare_body(body, ledger, file))
        if not ledger.region and body.region:
            ledger.region, ledger.level, ledger.city = body.region, body.level, body.city
    if not ledger.title:
        ledger.title = body.title
        ledger.region, ledger.level, ledger.city = parse_region(ledger.title)
    return ledger
