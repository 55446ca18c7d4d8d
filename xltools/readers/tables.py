"""Ledgers attached to text documents, in the two shapes converters produce.

* tab-separated: one row per line, cells split by TAB, the header repeated on every page (003_…);
* cell-per-line: docx-to-text output where each line that starts with a TAB opens a new cell, a line
  without one continues the cell (a new paragraph in it), and rows are only known by their width
  (000_…'s attachment: task rows have 5 cells, goal rows 4 because 序号+重点任务 are merged).
"""

from __future__ import annotations

from ..model import Origin
from ..problems import Problem
from ..text import ACTION_RE, FIELD_RE, clean, fold
from .grid import HEADER_ALIASES, REPORT_WORDS, GridRow, header_columns

# Every word a ledger header cell may hold: the known fields and the usual reporting columns.
HEADER_WORDS = {w for names in HEADER_ALIASES.values() for w in names} | REPORT_WORDS


def find_tsv_header(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if line.count("\t") >= 2 and header_columns(line.split("\t")):
            return i
    return None


def tsv_rows(lines: list[str], start: int, file: str | None) -> list[GridRow]:
    return [GridRow(line.split("\t"), Origin(file=file, line=i + 1))
            for i, line in enumerate(lines) if i >= start and line.strip()]


def find_cell_header(lines: list[str]) -> int | None:
    """Index of a '\\t序号' line followed by single-cell header lines."""
    for i, line in enumerate(lines):
        if line.startswith("\t") and fold(line) in ("序号", "编号"):
            cells = []
            for nxt in lines[i:i + 12]:
                if nxt.startswith("\t"):
                    cells.append(nxt)
                elif nxt.strip():
                    break
            if header_columns(cells):
                return i
    return None


def _tokenize(lines: list[str], start: int) -> list[tuple[list[str], int, bool]]:
    """Cells as (paragraphs, first line number, preceded by a blank line)."""
    cells: list[tuple[list[str], int, bool]] = []
    blank = True
    for i in range(start, len(lines)):
        line = lines[i]
        if line.startswith("\t"):
            cells.append(([line[1:]], i + 1, blank))
            blank = False
        elif not line.strip():
            blank = True
        elif cells:
            cells[-1][0].append(line)
        # text before the first cell cannot happen: start is a cell line
    return cells


def cell_rows(lines: list[str], start: int, file: str | None) -> tuple[list[GridRow], list[Problem]]:
    """Group the cell-per-line stream into rows of the header's width."""
    cells = _tokenize(lines, start)
    problems: list[Problem] = []
    width = 0
    while width < len(cells) and len(cells[width][0]) == 1 and fold(cells[width][0][0]) in HEADER_WORDS:
        width += 1
    rows: list[GridRow] = [GridRow([p[0] for p, _, _ in cells[:width]], Origin(file=file, line=cells[0][1]))]
    goal_mode = False
    i = width
    while i < len(cells):
        paras, line_no, after_blank = cells[i]
        first = clean(paras[0]) if len(paras) == 1 else ""
        if first and (ACTION_RE.match(first) or FIELD_RE.match(first)):
            rows.append(GridRow([first], Origin(file=file, line=line_no)))
            if ACTION_RE.match(first):
                goal_mode = "目标" in first
            i += 1
            continue
        span = width - 1 if goal_mode else width
        group = cells[i:i + span]
        if not after_blank:
            problems.append(Problem(
                "cell-alignment", "表格单元格可能错位：新行未从空行后开始，请核对该行",
                severity="warning", file=file, line=line_no, value=clean("".join(paras))[:40]))
        if len(group) < span:
            problems.append(Problem(
                "incomplete-row", f"表格最后一行只有{len(group)}个单元格（应为{span}个），缺少的单元格按空白处理",
                severity="info", file=file, line=line_no))
        texts = ["\n".join(p) for p, _, _ in group]
        if goal_mode:
            texts.insert(1, "")  # 序号 and 重点任务 are one merged cell in goal rows
        rows.append(GridRow(texts, Origin(file=file, line=line_no)))
        i += span
    return rows, problems
