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

from ..limits import clip_long_cells
from ..model import Goal, Ledger, Origin, TaskRow
from ..problems import Problem
from ..text import (
    ACTION_RE,
    FIELD_RE,
    clean,
    clean_cells,
    cn_number,
    column_letter,
    fold,
    norm_action_heading,
    norm_field_heading,
    parse_region,
)
from ..unitnames import split_units

# Header text → field. The first match wins; other headers become reporting columns (extra).
HEADER_ALIASES = {
    "seq": ("序号", "编号", "任务序号", "序列号", "seq"),
    "task": ("重点任务", "主要任务", "任务名称", "重点工作", "任务", "task"),
    "content": ("工作内容", "具体措施", "工作措施", "主要内容", "任务内容", "具体内容", "主要措施", "content"),
    "lead": ("牵头单位", "牵头部门", "牵头", "lead_units", "lead"),
    "resp": ("责任单位", "责任部门", "配合单位", "参与单位", "配合部门", "responsible_units", "responsible"),
    "section": ("section", "所属行动", "行动"),
    "subsection": ("subsection", "所属领域", "领域"),
}
# Longer header words also name their field with a tail: 工作内容及措施, 牵头单位及责任人.
_HEADER_PREFIXES = tuple((w, k) for k, names in HEADER_ALIASES.items() for w in names if len(w) >= 4 and not w.isascii())
_HEADING_START = set("一二三四五六七八九十（(")
_GOAL_LABEL = re.compile(r"^(\d{4})年(?:度)?(?:工作|主要)?目标$")
_YEAR_IN_SECTION = re.compile(r"目标")
_NOTE_IN_HEADER = re.compile(r"[（(][^（()）]*[）)]")
# Headers of a column of targets ("年内完成93个"): it is read as the 目标 column, its targets parsed.
TARGET_WORDS = {"目标", "工作目标", "量化目标", "目标任务", "任务目标", "年度目标", "年度工作目标", "主要目标",
                "具体目标", "预期目标", "目标值", "量化指标", "目标要求"}
TARGET_COLUMN = "目标"  # the name a column of targets is kept under (filler writes it so)
# Reporting columns offices add: words of a header row besides the fields above.
REPORT_WORDS = TARGET_WORDS | {"完成时限", "时间节点", "完成时间", "进展情况", "完成情况", "备注", "责任人", "联系人",
                               "任务键", "对应市级任务序号"}


@dataclass
class GridRow:
    cells: list[str]
    origin: Origin


_HEADER_WORDS = {w for names in HEADER_ALIASES.values() for w in names}
# Band headings and task names repeat in every district's copy of a template: normalized once each.
_action_heading = lru_cache(maxsize=4096)(norm_action_heading)
_field_heading = lru_cache(maxsize=4096)(norm_field_heading)
_fold_name = lru_cache(maxsize=16384)(fold)


_FIELD_OF: dict[str, str] = {}
for _field, _names in HEADER_ALIASES.items():  # the first field that lists a word wins
    for _word in _names:
        _FIELD_OF.setdefault(_word, _field)


@lru_cache(maxsize=4096)
def header_field(text: str) -> str | None:
    """The field a header cell names (序号 → seq, 牵头单位（部门） → lead), or None."""
    if not text or len(text) > 24:
        return None
    key = fold(text)
    if key in _FIELD_OF:
        return _FIELD_OF[key]
    key = _NOTE_IN_HEADER.sub("", key).rstrip(":：")
    if key in _FIELD_OF:
        return _FIELD_OF[key]
    for word, field in _HEADER_PREFIXES:
        if key.startswith(word):
            return field
    return None


def is_target_header(text: str) -> bool:
    """Whether a header names the column of targets: 目标, 工作目标, 量化目标（2025年）…"""
    key = fold(text)
    return key in TARGET_WORDS or _NOTE_IN_HEADER.sub("", key).rstrip(":：") in TARGET_WORDS


def _is_header_word(text: str) -> bool:
    return header_field(text) is not None or fold(text) in REPORT_WORDS


def header_columns(cells: list[str]) -> dict[str, int] | None:
    """Map a header row to column indexes, or None when the row is not a ledger header."""
    # Cheap test first: this runs on every row to skip headers repeated on each page.
    fields = [header_field(c) if c and len(c) <= 24 else None for c in cells]
    if sum(1 for f in fields if f) < 3:
        return None
    found: dict[str, int] = {}
    for i, f in enumerate(fields):
        if f and f not in found:
            found[f] = i
    if "task" in found and ("content" in found or "lead" in found) and len(found) >= 3:
        return found
    return None


def _header_like(cells: list[str], least: int) -> bool:
    """A row that may be one row of a two-row header: short cells, at least one a header word."""
    texts = [c.strip() for c in cells if c and c.strip()]
    return len(texts) >= least and all(len(t) <= 24 for t in texts) and any(_is_header_word(t) for t in texts)


def merge_header(upper: list[str], lower: list[str]) -> list[str]:
    """Two header rows as one: a lower cell under a group label (责任分工 → 牵头单位), else the cell merged
    down from the upper row (工作内容 over both rows)."""
    width = max(len(upper), len(lower))
    upper, lower = upper + [""] * (width - len(upper)), lower + [""] * (width - len(lower))
    return [b if b and b.strip() else a for a, b in zip(upper, lower)]


def find_header(rows: list[list[str]], limit: int | None = None) -> tuple[int, int, list[str]] | None:
    """The ledger header: (its first row, its last row, the header text of each column), or None.

    A header is one row, or two where offices merge a group label over some columns (任务 over
    序号/重点任务, 责任分工 over 牵头单位/责任单位) and others down over both rows (工作内容, 备注).
    """
    for i, cells in enumerate(rows[:limit]):
        single = header_columns(cells)
        if i + 1 < len(rows) and _header_like(cells, 2) and _header_like(rows[i + 1], 1):
            merged = merge_header(cells, rows[i + 1])
            both = header_columns(merged)
            if both and (not single or len(both) > len(single)):
                return i, i + 1, merged
        if single:
            return i, i, list(cells)
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


_CN_NUM = "一二三四五六七八九十百"
# A band split over two cells: 一、 (or 一) in 序号 and the action's name in 重点任务; （一） for a field.
_ACTION_NUMBER = re.compile(rf"^([{_CN_NUM}]+)[、.．]?$")
_FIELD_NUMBER = re.compile(rf"^[（(]([{_CN_NUM}]+)[）)][、.．]?$")
# Task numbers as offices write them: 1  1.  1、 （1） 第1项. Hierarchical ones (1.1, 2-3) are kept as written.
_INT_NUMBER = re.compile(r"^第?[（(]?(\d{1,4})[）)]?[项条]?[.、．]?$")
_HIER_NUMBER = re.compile(r"^\d{1,3}(?:[.．\-－_]\d{1,3})+[.、．]?$")
# Signature and contact lines under (or over) the table: 填报人：张三　联系电话：…　审核人：…
_FORM_LABEL = re.compile(
    r"^[（(]?(填报人|填表人|联系人|联系电话|电话|手机|审核人|审核|签发人|分管领导|单位负责人|负责人|主要负责人|填报单位|"
    r"报送单位|填报日期|报送日期|日期|制表人|制表|盖章)[）)]?\s*[（(]?[^：:）)]{0,4}[）)]?\s*[:：]|^[（(]?盖章[）)]?$")
_BLANK_FORM = re.compile(r"^(?:[^：:]{1,12}[:：][\s\u3000年月日_＿（）()]*)+$")  # labels with nothing filled in
_NOTE = re.compile(r"^(?:注|备注|说明|填报说明|填表说明)\s*[0-9一二三四五六七八九十]*\s*[:：.、]")
_ANNEX = re.compile(r"^附件\s*[0-9一二三四五六七八九十]*\s*[:：]?$")
_FORM_CELL_MAX = 80


def _band(cells: list[str], nonempty: list[str], c_seq: int, c_task: int) -> str | None:
    """The heading a band row states (一、… action, （一）… field), or None for any other row."""
    first = nonempty[0]
    if len(nonempty) == 1:
        if first[0] in _HEADING_START and (ACTION_RE.match(first) or FIELD_RE.match(first)) \
                and cells.index(first) in (0, 1, c_seq, c_task):
            return first
        return None
    if len(nonempty) == 2 and c_seq >= 0 and c_task >= 0 and cells[c_seq] and cells[c_task]:
        number, name = cells[c_seq], cells[c_task]
        if m := _ACTION_NUMBER.match(number):
            return f"{m.group(1)}、{name}"
        if m := _FIELD_NUMBER.match(number):
            return f"（{m.group(1)}）{name}"
    return None


def _aside(nonempty: list[str]) -> str | None:
    """'form' for a signature/contact line, 'blank' for one with nothing filled in, 'note' for 注：…; else None."""
    first = nonempty[0]
    if _FORM_LABEL.match(first) and all(len(c) <= _FORM_CELL_MAX for c in nonempty):
        return "blank" if all(_BLANK_FORM.match(c) for c in nonempty) else "form"
    if _NOTE.match(first) and len(nonempty) <= 2:
        return "note"
    return None


def _aside_problem(kind: str, nonempty: list[str], where: dict) -> Problem:
    text = "　".join(nonempty)
    if kind == "form":
        return Problem("form-text", f"填报信息（不是任务）：{text[:80]}", severity="info", value=text, **where)
    return Problem("note-row", f"表中的说明文字（不是任务）：{text[:80]}", severity="info", value=text, **where)


def _number(seq_text: str) -> tuple[int | None, str, bool]:
    """序号 as written → (number, label kept as written when not a plain number, understood)."""
    if seq_text.isdigit():
        return int(seq_text), "", True
    if m := _INT_NUMBER.match(seq_text):
        return int(m.group(1)), "", True
    if m := _FIELD_NUMBER.match(seq_text):
        return cn_number(m.group(1)), "", True
    return None, seq_text, bool(_HIER_NUMBER.match(seq_text))


def parse_cells(rows: list[list[str]], origin_of: Callable[[int], Origin], source: str | None = None,
                title: str = "") -> Ledger:
    """Parse rows of cells into a ledger; ``origin_of(i)`` tells where row i came from (asked for kept rows only).

    Nothing with text is dropped: a row is a task, a goal, a band (一、/（一）), a header repeated on a new page,
    or it becomes a problem that carries its text (signature lines, notes, rows that cannot be read); a cell
    under no header is kept with the row (as column “K列”) and reported.
    """
    ledger = Ledger(source=source)
    for r, c, length in clip_long_cells(rows):
        ledger.problems.append(Problem(
            "cell-too-long", f"{column_letter(c + 1)}列单元格有 {length:,} 个字，超过上限 {len(rows[r][c]):,} 字，只读取了前 {len(rows[r][c]):,} 字"
            "（原文件已保留，全文见原文件）", severity="error", value=rows[r][c][:60] + "…",
            suggestion="请把过长的内容拆分或精简后重新填报", **origin_of(r).where(source, column_letter(c + 1))))
    found = find_header(rows)
    if found is None:
        ledger.problems.append(Problem(
            "missing-header", "未找到台账表头（序号、重点任务、工作内容、牵头单位、责任单位）",
            severity="error", file=source))
        return ledger
    header_start, header_at, header_texts = found
    columns = header_columns(header_texts) or {}
    ledger.columns = dict(columns)
    ledger.title = title or find_title(rows[:header_start])
    ledger.region, ledger.level, ledger.city = parse_region(ledger.title)
    _preamble(rows[:header_start], ledger, origin_of)
    header_cells = [fold(c) for c in header_texts]
    header_rows = {tuple(fold(c) for c in rows[r] if c and c.strip()) for r in range(header_start, header_at + 1)}
    extra_cols = {i: h for i, h in enumerate(header_cells) if h and i not in columns.values()}
    if TARGET_COLUMN not in extra_cols.values():  # a column of targets under another name (工作目标): its targets
        at = next((i for i, h in extra_cols.items() if is_target_header(h)), None)  # are read as 目标's are
        if at is not None:
            extra_cols[at] = TARGET_COLUMN
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
    labelled = set(columns.values()) | set(extra_cols)
    unlabelled = [j for j in range(width) if j not in labelled]
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
        if len(nonempty) >= 2 and all(len(c) <= 24 for c in nonempty) and (
                tuple(fold(c) for c in nonempty) in header_rows
                or (len(nonempty) >= 3 and (task_text in _HEADER_WORDS or seq_text in _HEADER_WORDS)
                    and header_columns(raw_cells))):
            continue  # header repeated on every page
        heading = _band(cells, nonempty, c_seq, c_task) if nonempty[0][0] in _HEADING_START or len(nonempty) == 2 \
            else None
        if heading is not None:
            if ACTION_RE.match(heading):
                section, subsection = _action_heading(heading), ""
                goal_mode = bool(_YEAR_IN_SECTION.search(section))
            else:
                subsection = _field_heading(heading)
            prev = None
            continue
        aside = _aside(nonempty) if nonempty[0][0] in _ASIDE_START else None
        if aside is not None:
            if aside != "blank":  # (the text as typed, its spaces kept)
                typed = [c.strip() for c in raw_cells if c and c.strip()]
                ledger.problems.append(_aside_problem(aside, typed, origin_of(i).where()))
            prev = None
            continue

        content = cells[c_content]
        if "\n" in content:
            content = "\n".join(filter(None, (clean(x) for x in content.split("\n"))))
        lead_raw = raw_cells[c_lead] if c_lead >= 0 else ""
        resp_raw = raw_cells[c_resp] if c_resp >= 0 else ""
        m = _GOAL_LABEL.match(fold(seq_text or task_text)) if (seq_text or task_text).endswith("目标") else None
        goal = bool(m) or (goal_mode and not seq_text.isdigit())
        extra = {h: cells[j] for j, h in extra_cols.items() if cells[j]}
        loose = [j for j in [*unlabelled, *range(width, len(cells) - 1)] if cells[j]] \
            if unlabelled or len(cells) > width + 1 else ()
        for j in loose:
            extra[f"{column_letter(j + 1)}列"] = cells[j]
        if goal:
            if m:
                goal_year = int(m.group(1))
            # Every goal row is kept with its text (工作内容, else a goal written in 重点任务) and whatever else it
            # reports: a district's goal row may fill 目标 and 牵头单位 alone.
            text = content or (task_text if not m else "")
            if text or lead_raw or resp_raw or extra:
                ledger.goals.append(Goal(goal_year, text, split_units(lead_raw), origin_of(i),
                                         split_units(resp_raw), extra, {"lead": lead_raw, "resp": resp_raw}))
                _unlabelled(ledger, cells, loose, origin_of(i))
            continue
        goal_mode = False

        # The name as written, full-width brackets and all (names are folded where they are compared); a name
        # broken over lines in its cell is one name.
        task = "".join(map(clean, task_text.split("\n"))) if "\n" in task_text else task_text
        label = ""
        if seq_text:
            seq, label, understood = _number(seq_text)
            if not understood:
                ledger.problems.append(Problem(
                    "bad-seq", f"序号“{seq_text}”不是数字，已按原文保留", severity="info", value=seq_text,
                    **origin_of(i).where()))
        elif prev is not None and (not task or _fold_name(task) == _fold_name(prev.task)):
            seq, label = prev.seq, prev.label  # a merged 序号 cell covering several rows
        else:
            seq = None
        if not task and prev is not None:
            task = prev.task  # merged 重点任务 cell covering several rows
        if not seq_text and not task_text and not lead_raw and not resp_raw and prev is not None \
                and content and len(nonempty) == 1 and not prev.content.endswith(("。", "；")):
            prev.content += content  # a row broken over a page break
            continue
        if not content and not task:
            ledger.problems.append(Problem(
                "unrecognized-row", f"无法识别的行：{'｜'.join(nonempty)[:60]}", severity="warning",
                value="｜".join(nonempty), **origin_of(i).where()))
            continue
        _unlabelled(ledger, cells, loose, origin_of(i))
        row = TaskRow(
            seq=seq, task=task, content=content,
            lead_units=split_units(lead_raw), responsible_units=split_units(resp_raw),
            section=norm_action_heading(cells[c_section]) if cells[c_section] else section,
            subsection=norm_field_heading(cells[c_subsection]) if cells[c_subsection] else subsection,
            origin=origin_of(i), extra=extra, raw={"lead": lead_raw, "resp": resp_raw}, label=label,
        )
        if not row.lead_units:
            ledger.problems.append(Problem(
                "missing-lead-unit", f"任务{row.number}“{task}”没有牵头单位",
                severity="warning", value=task, **origin_of(i).where()))
        ledger.rows.append(row)
        prev = row
    return ledger


def _unlabelled(ledger: Ledger, cells: list[str], loose, origin: Origin) -> None:
    """A note for the cells under no header of a row kept (their text stays with the row, as “K列”): one for
    the row, at its first such cell — a sheet with thousands of columns past its table is a note a row, not a
    note a cell (a million notes took validate past 8 GB)."""
    loose = list(loose)
    if not loose:
        return
    first = loose[0]
    if len(loose) == 1:
        message = f"{column_letter(first + 1)}列没有表头，其中的内容已随该行保留：{cells[first][:40]}"
        value = cells[first]
    else:
        names = "、".join(column_letter(j + 1) for j in loose[:5]) + ("等" if len(loose) > 5 else "")
        message = f"{names}共{len(loose):,}列没有表头，其中的内容已随该行保留：{cells[first][:40]}"
        value = "；".join(f"{column_letter(j + 1)}列：{cells[j]}" for j in loose[:20])
        value += f"……（共{len(loose):,}列）" if len(loose) > 20 else ""
    ledger.problems.append(Problem("unlabelled-cell", message, severity="info", value=value,
                                   **origin.where(column=column_letter(first + 1))))


_ASIDE_START = set("注备说填联电手审签分单负主报日制盖（(")


def _preamble(rows: list[list[str]], ledger: Ledger, origin_of: Callable[[int], Origin]) -> None:
    """Text above the header besides the title and 附件N: filled-in form lines and notes, kept as problems."""
    for i, raw in enumerate(rows):
        nonempty = [c for c in clean_cells([c or "" for c in raw]) if c]
        if not nonempty or (len(nonempty) == 1 and (fold(nonempty[0]) == ledger.title or _ANNEX.match(nonempty[0]))):
            continue
        kind = _aside(nonempty) or "note"
        if kind != "blank":
            typed = [str(c).strip() for c in raw if c and str(c).strip()]  # as typed, its spaces kept
            ledger.problems.append(_aside_problem(kind, typed, origin_of(i).where()))
