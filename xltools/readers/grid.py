"""Ledgers in table form: rows of cells → a Ledger.

Every tabular source ends here: tab-separated text (header repeated per page), the cell-per-line
text that docx converters write, tables inside .docx files, and sheets of workbooks. Merged cells
arrive as empty cells and are inherited from the row above.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..model import Goal, Ledger, Origin, TaskRow
from ..problems import Problem
from ..text import (
    ACTION_RE,
    FIELD_RE,
    clean,
    clean_cells,
    fold,
    norm_action_heading,
    norm_field_heading,
    parse_region,
)
from ..unitnames import split_units

# Header text → field. The first match wins; other headers become reporting columns (extra).
HEADER_ALIASES = {
    "seq": ("序号", "编号", "任务序号", "seq"),
    "task": ("重点任务", "主要任务", "任务名称", "任务", "task"),
    "content": ("工作内容", "具体措施", "工作措施", "主要内容", "任务内容", "content"),
    "lead": ("牵头单位", "牵头部门", "牵头", "lead_units", "lead"),
    "resp": ("责任单位", "责任部门", "配合单位", "参与单位", "responsible_units", "responsible"),
    "section": ("section", "所属行动", "行动"),
    "subsection": ("subsection", "所属领域", "领域"),
}
_HEADING_START = set("一二三四五六七八九十（(")
_GOAL_LABEL = re.compile(r"^(\d{4})年(?:度)?(?:工作|主要)?目标$")
_YEAR_IN_SECTION = re.compile(r"目标")


@dataclass
class GridRow:
    cells: list[str]
    origin: Origin


_HEADER_WORDS = {w for names in HEADER_ALIASES.values() for w in names}
# Band headings and task names repeat in every district's copy of a template: normalized once each.
_action_heading = lru_cache(maxsize=4096)(norm_action_heading)
_field_heading = lru_cache(maxsize=4096)(norm_field_heading)
_fold_name = lru_cache(maxsize=16384)(fold)


def header_columns(cells: list[str]) -> dict[str, int] | None:
    """Map a header row to column indexes, or None when the row is not a ledger header."""
    # Cheap test first: this runs on every row to skip headers repeated on each page.
    if sum(1 for c in cells if c and len(c) < 24 and fold(c) in _HEADER_WORDS) < 3:
        return None
    folded = [fold(c) for c in cells]
    found: dict[str, int] = {}
    for key, names in HEADER_ALIASES.items():
        for i, text in enumerate(folded):
            if i in found.values():
                continue
            if text in names:
                found[key] = i
                break
    if "task" in found and ("content" in found or "lead" in found) and len(found) >= 3:
        return found
    return None


def find_title(rows: list[list[str]]) -> str:
    """The ledger's title among the rows above its header: one cell ending 台账, 方案 or 清单."""
    for cells in rows:
        texts = [clean(c) for c in cells if clean(c)]
        if len(texts) == 1 and re.search(r"(台账|方案|清单)$", texts[0]) and not texts[0].startswith("关于"):
            return fold(texts[0])
    return ""


def parse_grid(rows: list[GridRow], source: str | None = None, title: str = "") -> Ledger:
    """Parse table rows into a ledger. Rows before the first header may hold the title."""
    return parse_cells([r.cells for r in rows], lambda i: rows[i].origin, source, title)


def parse_cells(rows: list[list[str]], origin_of: Callable[[int], Origin], source: str | None = None,
                title: str = "") -> Ledger:
    """Parse rows of cells into a ledger; ``origin_of(i)`` tells where row i came from (asked for kept rows only)."""
    ledger = Ledger(source=source)
    header_at = None
    columns: dict[str, int] = {}
    for i, cells in enumerate(rows):
        columns = header_columns(cells) or {}
        if columns:
            header_at = i
            break
    if header_at is None:
        ledger.problems.append(Problem(
            "missing-header", "未找到台账表头（序号、重点任务、工作内容、牵头单位、责任单位）",
            severity="error", file=source))
        return ledger
    ledger.columns = dict(columns)
    ledger.title = title or find_title(rows[:header_at])
    ledger.region, ledger.level, ledger.city = parse_region(ledger.title)
    header_cells = [fold(c) for c in rows[header_at]]
    extra_cols = {i: h for i, h in enumerate(header_cells) if h and i not in columns.values()}
    ledger.columns.update({h: i for i, h in extra_cols.items()})  # reporting columns by header text

    section = subsection = ""
    goal_mode = False
    goal_year: int | None = None
    prev: TaskRow | None = None
    # Column positions once, not per row: this loop runs for every row of every district file. Each row's
    # cells are padded to the header's width plus one empty cell, which a column the header lacks (-1) reads.
    c_seq, c_task, c_content, c_lead, c_resp, c_section, c_subsection = (
        -1 if columns.get(k) is None else columns[k]
        for k in ("seq", "task", "content", "lead", "resp", "section", "subsection"))
    width = max([*columns.values(), *extra_cols]) + 1
    pad = [""] * (width + 1)
    for i in range(header_at + 1, len(rows)):
        raw_cells = rows[i]
        if len(raw_cells) < width:
            raw_cells = raw_cells + pad[len(raw_cells):width]
        cells = clean_cells(raw_cells)
        cells.append("")
        nonempty = list(filter(None, cells))
        if not nonempty:
            continue
        seq_text, task_text = cells[c_seq], cells[c_task]
        if len(nonempty) >= 3 and (task_text in _HEADER_WORDS or seq_text in _HEADER_WORDS) \
                and header_columns(raw_cells):
            continue  # header repeated on every page
        first = nonempty[0]
        if len(nonempty) == 1 and first[0] in _HEADING_START and (ACTION_RE.match(first) or FIELD_RE.match(first)) \
                and cells.index(first) <= 1:
            if ACTION_RE.match(first):
                section, subsection = _action_heading(first), ""
                goal_mode = bool(_YEAR_IN_SECTION.search(section))
            else:
                subsection = _field_heading(first)
            prev = None
            continue

        content = cells[c_content]
        if "\n" in content:
            content = "\n".join(filter(None, (clean(x) for x in content.split("\n"))))
        lead_raw = raw_cells[c_lead] if c_lead >= 0 else ""
        resp_raw = raw_cells[c_resp] if c_resp >= 0 else ""
        m = _GOAL_LABEL.match(fold(seq_text or task_text)) if (seq_text or task_text).endswith("目标") else None
        if m or (goal_mode and not seq_text.isdigit()):
            if m:
                goal_year = int(m.group(1))
            text = content or (task_text if not m else "")
            if text:
                ledger.goals.append(Goal(goal_year, text, split_units(lead_raw), origin_of(i)))
            continue
        goal_mode = False

        seq: int | None
        if seq_text.isdigit():
            seq = int(seq_text)
        elif not seq_text:
            seq = prev.seq if prev else None
        else:
            seq = None
            ledger.problems.append(Problem(
                "bad-seq", f"序号“{seq_text}”不是数字", severity="warning", value=seq_text, **origin_of(i).where()))
        task = _fold_name(task_text)
        if not task and prev is not None:
            task = prev.task  # merged 重点任务 cell covering several rows
        if not seq_text and not task_text and not lead_raw and not resp_raw and prev is not None \
                and content and not prev.content.endswith(("。", "；")):
            prev.content += content  # a row broken over a page break
            continue
        if not content and not task:
            ledger.problems.append(Problem(
                "unrecognized-row", f"无法识别的行：{'｜'.join(nonempty)[:60]}", severity="warning",
                value="｜".join(nonempty), **origin_of(i).where()))
            continue
        row = TaskRow(
            seq=seq, task=task, content=content,
            lead_units=split_units(lead_raw), responsible_units=split_units(resp_raw),
            section=norm_action_heading(cells[c_section]) if cells[c_section] else section,
            subsection=norm_field_heading(cells[c_subsection]) if cells[c_subsection] else subsection,
            origin=origin_of(i),
            extra={h: cells[i] for i, h in extra_cols.items() if cells[i]},
            raw={"lead": lead_raw, "resp": resp_raw},
        )
        if not row.lead_units:
            ledger.problems.append(Problem(
                "missing-lead-unit", f"任务{seq if seq is not None else ''}“{task}”没有牵头单位",
                severity="warning", value=task, **origin_of(i).where()))
        ledger.rows.append(row)
        prev = row
    return ledger
