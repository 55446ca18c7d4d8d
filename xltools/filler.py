"""Fill the ledger template from a plan: ``fill(source, out)`` writes a 工作台账 workbook.

Given a filled ledger as the template (a re-fill after the plan changed), rows are matched to the
new plan, the clerk's typed columns are carried over and every change is listed and written to a
变更记录 sheet; nothing a clerk typed is dropped silently.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from copy import copy, deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation

from . import template as tpl
from .errors import UnreadableInput
from .layout import MAX_ROW_PT, column_widths_px, text_lines
from .layout import needed_height as _needed_height
from .limits import inspect
from .model import LEVEL_CITY, LEVEL_COUNTY, Ledger
from .problems import Problem
from .text import value_text
from .xlio import atomic_save, check_output, merge, put

log = logging.getLogger(__name__)

CHANGES_SHEET = "变更记录"
CHANGE_HEADERS = (("时间", 19), ("类型", 7), ("序号", 6), ("重点任务", 22), ("字段", 10), ("原值", 50), ("新值", 50))
KIND_ZH = {"added": "新增", "removed": "删除", "changed": "修改", "kept": "保留"}
GOALS_BAND = "一、工作目标"
TARGET_HEADER = "目标"  # filled from the row's text unless the clerk typed something else
DEFAULT_SUBJECT = "推动大规模设备更新和消费品以旧换新工作台账"


@dataclass
class Change:
    """One difference between the ledger a clerk had and the one fill wrote."""

    kind: str  # added | removed | changed | kept
    seq: int | str | None
    task: str
    field: str = ""  # column header (工作内容, 进展情况 …); empty for the row as a whole
    old: str = ""
    new: str = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "seq": self.seq, "task": self.task, "field": self.field,
                "old": self.old, "new": self.new}

    def describe(self) -> str:
        """The change in a sentence for the clerk."""
        what = f"第{self.seq}项“{self.task}”" if self.seq is not None else f"“{self.task}”"
        if self.kind == "added":
            return f"新增{what}"
        if self.kind == "removed":
            if self.field and self.field != "工作内容":
                return f"删除{what}，原{self.field}“{_short(self.old)}”已保存在“{CHANGES_SHEET}”表"
            return f"删除{what}"
        if self.kind == "changed":
            old, new = _difference(self.old, self.new)
            return f"{what}的{self.field}由“{old}”改为“{new}”"
        return f"{what}保留已填写的{self.field}“{_short(self.old)}”"


@dataclass
class FillResult:
    """What fill wrote: the output path, the ledger as written, changes against the old ledger, problems."""

    path: Path
    ledger: Ledger
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class SheetRow:
    """A ledger row as written to (or read back from) the sheet."""

    kind: str  # action | field | goal | task
    key: str = ""
    seq: int | str | None = None  # a number, or 序号 as written (1.1)
    task: str = ""  # 重点任务; the year label of a goal row; the text of a band
    content: str = ""
    lead: str = ""
    resp: str = ""
    report: dict[str, str] = field(default_factory=dict)  # clerk columns: header -> value
    auto: dict[str, str] = field(default_factory=dict)  # computed values for clerk columns (目标)
    origin: object = None  # the TaskRow of the returned ledger


def fill(source, out, template=None, region: str | None = None) -> FillResult:
    """Write the ledger for ``source`` (a plan document path or a Ledger) to ``out`` using ``template``."""
    from .readers import extract

    out = Path(out)
    template = Path(template) if template is not None else tpl.default_template()
    source_path = None if isinstance(source, Ledger) else Path(source)
    check_output(out, source_path, template, suffix=".xlsx")

    if source_path is None:
        ledger = deepcopy(source)
        if region:
            ledger.region = region
            ledger.level = LEVEL_CITY if region.endswith("市") else LEVEL_COUNTY
        digest = ""
    else:
        ledger = extract(source_path, region=region)
        digest = hashlib.sha256(source_path.read_bytes()).hexdigest()
    if not ledger.rows and not ledger.goals:
        raise UnreadableInput(
            f"{ledger.source or source}: no tasks found, nothing to fill",
            f"未能从“{ledger.source or source}”中读出任何重点任务，无法生成台账。请确认它是工作方案或工作台账。",
        )

    try:
        inspect(Path(template))
        wb = load_workbook(template)
    except UnreadableInput:
        raise
    except FileNotFoundError as err:
        raise UnreadableInput(f"template {template} not found", f"找不到模板文件：{template}") from err
    except Exception as err:  # openpyxl raises many types for non-xlsx or damaged files
        raise UnreadableInput(
            f"cannot read template {template}: {err}",
            f"无法读取模板“{template.name}”：{err}。请确认它是 .xlsx 工作簿。",
        ) from err
    t = tpl.locate(wb)
    now = datetime.now().replace(microsecond=0)

    problems: list[Problem] = list(ledger.problems)
    rows = _plan(ledger, t)
    changes: list[Change] = []
    other = t.meta.get("region")
    if t.filled and other and ledger.region and other != ledger.region:
        # Another region's ledger is only a style here: its progress notes must not leak into this one.
        problems.append(Problem(
            "template-other-region",
            f"模板是{other}的台账，本次填写的是{ledger.region}，未沿用模板中已填写的内容",
            severity="warning", file=template.name,
            suggestion=f"如需保留已填写的内容，请用{ledger.region}自己的台账作为模板",
        ))
    elif t.filled:
        changes, carried = _carry_over(_read_rows(t), rows)
        for p in carried:
            p.file = out.name
        problems.extend(carried)
    for row in rows:
        if row.kind == "task" and row.origin is not None:
            row.origin.extra = {**row.origin.extra, **row.report}

    meta = {
        "format": tpl.FORMAT,
        "format_version": tpl.FORMAT_VERSION,
        "template_version": t.meta.get("template_version", tpl.TEMPLATE_VERSION),
        "kind": "ledger",
        "region": ledger.region or "",
        "level": ledger.level or "",
        "city": ledger.city or "",
        "title": ledger_title(ledger),
        "source": ledger.source or (source_path.name if source_path else ""),
        "source_sha256": digest,
        # Whose numbering 任务键 follows: a city ledger handed to a district keeps the city's.
        "task_keys": ledger.numbering or ledger.region or "",
        "filled_at": now.isoformat(),
        "xltools_version": _version(),
        # Prototype minimum heights, read before fill overwrites the prototype rows with data.
        **{f"height.{k}": "" if h is None else str(h) for k, h in _proto_heights(t).items()},
    }
    problems.extend(write_sheet_rows(t, rows, ledger_title(ledger), out.name))
    if changes:
        _write_changes(wb, changes, now)
    tpl.write_meta(wb, meta)
    tpl.name_footers(wb)
    atomic_save(wb, out)
    log.info("filled %s: %d rows, %d changes", out, len(rows), len(changes))
    return FillResult(out, ledger, changes, problems)


def ledger_title(ledger: Ledger) -> str:
    """The plan's title with 工作方案 turned into 工作台账, or one built from the region."""
    title = (ledger.title or "").strip()
    if title:
        title = re.sub(r"(工作|实施|行动)方案$", "工作台账", title)
        return title if title.endswith("台账") else title + "工作台账"
    region = ledger.region or ""
    if ledger.city and region and not region.startswith(ledger.city):
        region = ledger.city + region
    return region + DEFAULT_SUBJECT


# --------------------------------------------------------------------------------------------- rows


def _plan(ledger: Ledger, t: tpl.LedgerTemplate) -> list[SheetRow]:
    """The rows to write, in order: goals band and goal rows, then bands and task rows."""
    by_header = {tpl.norm_header(h): h for h in t.reporting_columns}
    rows: list[SheetRow] = []
    if ledger.goals:
        numbered = any(r.section.startswith("一、") for r in ledger.rows)
        rows.append(SheetRow("action", task=GOALS_BAND if not numbered else "工作目标"))
        counts: dict = {}
        for goal in ledger.goals:
            counts[goal.year] = counts.get(goal.year, 0) + 1
            label = f"{goal.year}年工作目标" if goal.year else "工作目标"
            key = f"g{goal.year or ''}-{counts[goal.year]}"
            rows.append(SheetRow("goal", key=key, task=label, content=goal.text, lead="\n".join(goal.lead_units),
                             auto=_auto_columns(goal.text, goal.year, by_header)))
    section = subsection = None
    for row in ledger.rows:
        if row.section and row.section != section:
            rows.append(SheetRow("action", task=row.section))
            subsection = None
        if row.subsection and row.subsection != subsection:
            rows.append(SheetRow("field", task=row.subsection))
        section, subsection = row.section, row.subsection
        report = {}
        for name, value in row.extra.items():
            header = by_header.get(tpl.norm_header(name))
            if header and value not in (None, ""):
                report[header] = str(value)
        rows.append(SheetRow(
            "task", key=row.key, seq=row.seq if row.seq is not None else (row.label or None), task=row.task,
            content=row.content,
            lead="\n".join(row.lead_units), resp="\n".join(row.responsible_units), report=report, origin=row,
            auto=_auto_columns(row.content, None, by_header),
        ))
    return rows


def _auto_columns(content: str, year: int | None, by_header: dict[str, str]) -> dict[str, str]:
    """The 目标 column: the row's targets in one normalized form (when the template has the column)."""
    header = by_header.get(TARGET_HEADER)
    if not header:
        return {}
    from .target_text import target_column_text

    text = target_column_text(content, year)
    return {header: text} if text else {}


def _read_rows(t: tpl.LedgerTemplate) -> list[SheetRow]:
    """Goal and task rows of a filled ledger, with what the clerk typed; rows without a key too."""
    ws = t.sheet
    first, last = t.data
    merged = {}  # continuation cells of vertical merges read as their top-left value
    for m in ws.merged_cells.ranges:
        if m.max_row >= first and m.min_row <= last:
            top = ws.cell(m.min_row, m.min_col).value
            for r in range(m.min_row, m.max_row + 1):
                for c in range(m.min_col, m.max_col + 1):
                    merged[r, c] = top
    bands = {m.min_row for m in ws.merged_cells.ranges
             if m.max_col - m.min_col >= 2 and m.min_row == m.max_row}
    cols = t.columns

    def val(r, c):
        if c is None:
            return ""
        v = ws.cell(r, c).value
        return value_text(merged.get((r, c)) if v is None else v)

    rows = []
    for r in range(first, last + 1):
        key = val(r, cols["key"])
        report = {h: v for h, c in t.reporting_columns.items() if (v := val(r, c))}
        plan = [val(r, cols[f]) for f in tpl.PLAN_FIELDS]
        if not key and (r in bands or not (report or any(plan))):
            continue
        kind = "goal" if key.startswith("g") else "task"
        seq = plan[0]
        by_header = {tpl.norm_header(h): h for h in t.reporting_columns}
        year = int(plan[0][:4]) if kind == "goal" and plan[0][:4].isdigit() else None
        for header, value in _auto_columns(plan[2], year, by_header).items():
            if tpl.norm_header(report.get(header, "")) == tpl.norm_header(value):
                del report[header]  # what fill computed last time, not what a clerk typed
        rows.append(SheetRow(
            kind, key=key, seq=int(seq) if seq.isdigit() else (seq or None),
            task=plan[0] if kind == "goal" else plan[1],
            content=plan[2], lead=plan[3], resp=plan[4], report=report,
        ))
    return rows


# ---------------------------------------------------------------------------------------- re-fill


def _similar(a: str, b: str) -> float:
    a, b = tpl.norm_header(a), tpl.norm_header(b)
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sm.ratio() if sm.quick_ratio() >= 0.3 else 0.0


def _match(old: list[SheetRow], new: list[SheetRow]) -> dict[int, int]:
    """Pair new rows with old ones: same task and content first, then the best-scoring candidates.

    Keys (序号) alone are not trusted: when a newer plan inserts a task, every later number shifts,
    and several rows may share a task name (000's 26–28), so content similarity decides.
    """
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for i, n in enumerate(new):
        exact = [j for j, o in enumerate(old)
                 if j not in used and tpl.norm_header(o.task) == tpl.norm_header(n.task) and tpl.norm_header(o.content) == tpl.norm_header(n.content)]
        if exact:
            j = next((j for j in exact if old[j].key == n.key), exact[0])
            pairs[i] = j
            used.add(j)
    scored = []
    for i, n in enumerate(new):
        if i in pairs:
            continue
        for j, o in enumerate(old):
            if j in used:
                continue
            sim = _similar(o.content, n.content)
            same_task = bool(n.task) and tpl.norm_header(o.task) == tpl.norm_header(n.task)
            same_key = bool(n.key) and o.key == n.key
            if sim >= 0.6 or (same_task and (same_key or sim >= 0.3)):
                scored.append((2 * sim + same_task + 0.5 * same_key, i, j))
    for _, i, j in sorted(scored, reverse=True):
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def _compared(row: SheetRow) -> list[tuple[str, str]]:
    """The plan columns compared between an old and a new row: (header, value)."""
    first = [("序号", value_text(row.seq)), ("重点任务", row.task)] if row.kind == "task" else [("年度", row.task)]
    return first + [("工作内容", row.content), ("牵头单位", row.lead), ("责任单位", row.resp)]


def _carry_over(old: list[SheetRow], rows: list[SheetRow]) -> tuple[list[Change], list[Problem]]:
    """Match old rows to new ones, carry the clerk's values over, list every change."""
    changes: list[Change] = []
    problems: list[Problem] = []
    removed: list[SheetRow] = []
    for kind in ("goal", "task"):
        o_rows = [r for r in old if r.kind == kind]
        n_rows = [r for r in rows if r.kind == kind]
        pairs = _match(o_rows, n_rows)
        for i, n in enumerate(n_rows):
            if i not in pairs:
                changes.append(Change("added", n.seq, n.task, "", "", n.content))
                continue
            o = o_rows[pairs[i]]
            for (header, ov), (_, nv) in zip(_compared(o), _compared(n)):
                if tpl.norm_header(ov) != tpl.norm_header(nv):
                    changes.append(Change("changed", n.seq, n.task, header, ov, nv))
            for header, value in o.report.items():
                incoming = n.report.get(header)
                if incoming and tpl.norm_header(incoming) != tpl.norm_header(value):
                    problems.append(Problem(
                        "kept-clerk-value",
                        f"第{n.seq}项“{n.task}”的{header}：保留了台账中已填写的“{_short(value)}”，"
                        f"新文件中的“{_short(incoming)}”未采用",
                        severity="info", sheet=tpl.SHEET, value=incoming,
                    ))
                n.report[header] = value
                changes.append(Change("kept", n.seq, n.task, header, value, value))
        matched = set(pairs.values())
        removed.extend(o for j, o in enumerate(o_rows) if j not in matched)
    for o in removed:
        changes.append(Change("removed", o.seq, o.task, "工作内容", o.content, ""))
        for header, value in o.report.items():
            changes.append(Change("removed", o.seq, o.task, header, value, ""))
        if o.report:
            what = f"第{o.seq}项“{o.task}”" if o.seq is not None else f"“{o.task or o.content[:20]}”"
            problems.append(Problem(
                "removed-row-with-values",
                f"新方案中已没有{what}，原已填写的{'、'.join(o.report)}已保存在“{CHANGES_SHEET}”表，"
                "请核对是否需要转填到其他任务",
                severity="warning", sheet=CHANGES_SHEET, value=o.content[:50],
                suggestion=f"打开“{CHANGES_SHEET}”表查看类型为“删除”的行",
            ))
    return changes, problems


# ------------------------------------------------------------------------------------------ writing



def _proto_heights(t: tpl.LedgerTemplate) -> dict[str, float | None]:
    return {k: t.row_style(k).height for k in t.protos}


def _row_styles(t: tpl.LedgerTemplate) -> tuple[dict[str, tpl.RowStyle], list[Problem]]:
    """Prototype looks per kind; a missing prototype borrows a similar one (goal from task …)."""
    fallbacks = {"action": ("field", "task"), "field": ("action", "task"), "goal": ("task",), "task": ()}
    styles, problems = {}, []
    for kind, others in fallbacks.items():
        style = t.row_style(kind)
        for other in others:
            if style is not None:
                break
            style = t.row_style(other)
            if style is not None:
                problems.append(Problem(
                    "template-missing-prototype",
                    f"模板中没有{tpl.PROTO_ZH[kind]}原型（名称“{tpl.PROTO_NAMES[kind]}”），"
                    f"已按{tpl.PROTO_ZH[other]}的样式填写",
                    severity="info", sheet=t.sheet.title,
                ))
        styles[kind] = style
    return styles, problems


def _validation_columns(t: tpl.LedgerTemplate) -> list[tuple[DataValidation, dict[str, list[int]]]]:
    """For every data validation: which columns of the goal/task prototype rows it covers."""
    found = []
    for dv in t.sheet.data_validations.dataValidation:
        kinds = {}
        for kind in ("goal", "task"):
            row = t.protos.get(kind)
            if row is None:
                continue
            cols = [c for c in range(t.first_col, t.last_col + 1)
                    if any(rng.min_row <= row <= rng.max_row and rng.min_col <= c <= rng.max_col
                           for rng in dv.sqref.ranges)]
            if cols:
                kinds[kind] = cols
        found.append((dv, kinds))
    return found


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """[3,4,5,9] -> [(3,5),(9,9)]"""
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def write_sheet_rows(t: tpl.LedgerTemplate, rows: list[SheetRow], title: str, out_name: str) -> list[Problem]:
    """Replace the template's data rows (or a filled ledger's) with ``rows``; fix names, filter, print."""
    writer = _SheetWriter(t)
    footer = writer.clear()
    put(t.sheet, *t.title, title)
    last = writer.write(rows)
    problems = writer.problems + writer.fit_heights(out_name)
    writer.extend_validations()
    bottom = writer.restore_footer(footer, last)
    writer.update_places(last, bottom)
    return problems


class _SheetWriter:
    """Writes rows in the prototypes' looks and keeps merges, heights and validations in step."""

    def __init__(self, t: tpl.LedgerTemplate):
        self.t, self.ws, self.cols = t, t.sheet, t.columns
        self.styles, self.problems = _row_styles(t)
        self.validations = _validation_columns(t)
        self.widths = column_widths_px(self.ws, t.first_col, t.last_col)
        goal_spans = self.styles["goal"].spans
        seq, task = self.cols["seq"], self.cols["task"]
        self.label_span = next((s for s in goal_spans if s[0] <= seq <= s[1]), (seq, task))
        self.positions: dict[str, list[int]] = {}  # kind -> sheet rows
        self.heights: dict[int, float] = {}
        self.merged_labels: list[tuple] = []  # (first row, last row, width px, text, font size)

    def clear(self) -> list:
        """Empty the data rows; return what lay below them (a 填表人/审核人 line, notes) to put back later."""
        ws, (start, end) = self.ws, self.t.data
        footer = []
        for r in range(end + 1, ws.max_row + 1):
            cells = {c.column: (c.value, copy(c._style)) for c in ws[r] if c.value is not None or c.has_style}
            footer.append((cells, ws.row_dimensions[r].height))
        footer_merges = [m for m in ws.merged_cells.ranges if m.min_row > end]
        for m in list(ws.merged_cells.ranges):
            if m.max_row >= start:
                ws.merged_cells.remove(m)
        if ws.max_row >= start:
            ws.delete_rows(start, ws.max_row - start + 1)
        for r in [r for r in ws.row_dimensions if r >= start]:
            del ws.row_dimensions[r]
        for dv, _ in self.validations:
            keep = [CellRange(min_col=g.min_col, min_row=g.min_row, max_col=g.max_col,
                              max_row=min(g.max_row, start - 1))
                    for g in dv.sqref.ranges if g.min_row < start]
            dv.sqref = MultiCellRange(keep)
        return [footer, footer_merges]

    def write(self, rows: list[SheetRow]) -> int:
        """Write all rows from the first data row on; return the last row written."""
        r, i = self.t.data[0], 0
        while i < len(rows):
            j = i + 1
            # A run shares merged cells: the goals of one year, or rows continuing one task (000's 29).
            while j < len(rows) and self._continues(rows[i], rows[j]):
                j += 1
            self._write_run(r, rows[i:j])
            r += j - i
            i = j
        return r - 1

    @staticmethod
    def _continues(first: SheetRow, row: SheetRow) -> bool:
        if first.kind == "goal":
            return row.kind == "goal" and row.task == first.task
        return (first.kind == "task" and first.seq is not None and row.kind == "task"
                and row.seq == first.seq and row.task == first.task)

    def _write_run(self, r: int, run: list[SheetRow]) -> None:
        ws, cols = self.ws, self.cols
        kind = run[0].kind
        style = self.styles[kind]
        merged_down = kind == "goal" or (kind == "task" and len(run) > 1)
        for k, item in enumerate(run):
            rr = r + k
            self.positions.setdefault(kind, []).append(rr)
            for c, st in style.styles.items():
                ws.cell(rr, c)._style = copy(st)
            self.heights[rr] = style.height or 0
            if kind in ("action", "field"):
                c1, c2 = style.spans[0] if style.spans else (cols["seq"], cols["seq"])
                self._put(rr, c1, item.task, width=sum(self.widths[x] for x in range(c1, c2 + 1)))
            else:
                if k == 0 and kind == "goal":
                    put(ws, rr, self.label_span[0], item.task)
                elif k == 0 and merged_down:
                    put(ws, rr, cols["seq"], item.seq)
                    put(ws, rr, cols["task"], item.task)
                elif k == 0:
                    self._put(rr, cols["seq"], item.seq)
                    self._put(rr, cols["task"], item.task)
                self._put(rr, cols["content"], item.content)
                self._put(rr, cols["lead_units"], item.lead)
                self._put(rr, cols["responsible_units"], item.resp)
                for header, c in self.t.reporting_columns.items():
                    self._put(rr, c, item.report.get(header) or item.auto.get(header))
                put(ws, rr, cols["key"], item.key)
            for c1, c2 in style.spans:
                # Spans over the label columns are merged down the whole run below instead.
                if merged_down and c1 <= cols["task"] and c2 >= cols["seq"]:
                    continue
                merge(ws, rr, c1, rr, c2)
        if kind == "goal":
            labels = [(self.label_span, run[0].task)]
        elif merged_down:
            seq, task = cols["seq"], cols["task"]
            labels = [((seq, seq), value_text(run[0].seq)), ((task, task), run[0].task)]
        else:
            labels = []
        last = r + len(run) - 1
        for (c1, c2), text in labels:
            if last > r or c2 > c1:
                merge(ws, r, c1, last, c2)
            width = sum(self.widths[x] for x in range(c1, c2 + 1))
            self.merged_labels.append((r, last, width, text, ws.cell(r, c1).font.size or 11))

    def _put(self, r: int, c: int | None, value, width: float | None = None) -> None:
        """Write a value and raise the row's height to fit it."""
        if c is None or value in (None, ""):
            return
        cell = put(self.ws, r, c, value)
        width = width or self.widths.get(c, 64)
        if not width:
            return  # a hidden column: its text is not shown, and does not make the row taller
        size = cell.font.size or 11
        need = _needed_height(text_lines(str(value), width, size), size)
        self.heights[r] = max(self.heights.get(r, 0), need)

    def fit_heights(self, out_name: str) -> list[Problem]:
        """Set row heights; a merged label that needs more than its rows have grows its last row."""
        for r1, r2, width, text, size in self.merged_labels:
            need = _needed_height(text_lines(text, width, size), size)
            have = sum(self.heights.get(x, 0) for x in range(r1, r2 + 1))
            if need > have:
                self.heights[r2] += need - have
        problems = []
        for r, h in self.heights.items():
            if h > MAX_ROW_PT:
                problems.append(Problem(
                    "row-too-tall", f"第{r}行文字过长，行高已达 Excel 上限，打印时可能显示不全",
                    severity="warning", file=out_name, sheet=self.ws.title, cell=f"A{r}",
                    suggestion="加宽“工作内容”列或减小字号后重新生成",
                ))
            self.ws.row_dimensions[r].height = round(min(h, MAX_ROW_PT), 1)
        return problems

    def extend_validations(self) -> None:
        """Each data validation of a prototype row now covers every row of that kind."""
        ws, status = self.ws, self.cols.get("status")
        has_status = False
        for dv, kinds in self.validations:
            ranges = list(dv.sqref.ranges)
            for kind, dv_cols in kinds.items():
                for r1, r2 in _runs(self.positions.get(kind, [])):
                    for c1, c2 in _runs(dv_cols):
                        ranges.append(CellRange(min_col=c1, min_row=r1, max_col=c2, max_row=r2))
                has_status |= kind == "task" and status in dv_cols
            dv.sqref = MultiCellRange(ranges)
        ws.data_validations.dataValidation = [dv for dv, _ in self.validations if dv.sqref.ranges]
        if status and not has_status and self.positions.get("task"):
            # A person removed the list from the template: 完成情况 still needs it for consolidation.
            choices = tpl.STATUS_CHOICES
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                showErrorMessage=True, error="请从下拉列表中选择：" + "、".join(choices))
            for r1, r2 in _runs(self.positions["task"]):
                dv.add(CellRange(min_col=status, min_row=r1, max_col=status, max_row=r2))
            ws.add_data_validation(dv)

    def restore_footer(self, footer: list, last: int) -> int:
        """Put the rows that were below the data back below the new data; return the sheet's last row."""
        ws = self.ws
        rows, merges = footer
        shift = last - self.t.data[1]
        for k, (cells, height) in enumerate(rows):
            for c, (value, st) in cells.items():
                ws.cell(last + 1 + k, c, value)._style = st
            if height is not None:
                ws.row_dimensions[last + 1 + k].height = height
        for m in merges:
            merge(ws, m.min_row + shift, m.min_col, m.max_row + shift, m.max_col)
        return last + len(rows)

    def update_places(self, last: int, bottom: int) -> None:
        """Defined names, filter, print area and titles, frozen panes: all follow the data."""
        t, ws, wb = self.t, self.ws, self.t.workbook
        tpl.set_name(wb, tpl.N_DATA, ws, t.first_col, t.data[0], t.last_col, last)
        for kind, name in tpl.PROTO_NAMES.items():
            # A filled ledger's first row of each kind is the prototype for the next re-fill.
            if self.positions.get(kind):
                row = self.positions[kind][0]
                tpl.set_name(wb, name, ws, t.first_col, row, t.last_col, row)
            else:
                tpl.remove_name(wb, name)
        first = get_column_letter(t.first_col)
        last_visible = max(c for c in range(t.first_col, t.last_col + 1) if self.widths[c] > 0)
        ws.auto_filter.ref = f"{first}{t.header_row}:{get_column_letter(t.last_col)}{last}"
        ws.print_title_rows = f"{t.header_rows[0]}:{t.header_rows[1]}"
        ws.print_area = f"{first}1:{get_column_letter(last_visible)}{bottom}"
        frozen_col = re.sub(r"\d", "", ws.freeze_panes or "") or "A"
        ws.freeze_panes = f"{frozen_col}{t.header_row + 1}"


def _write_changes(wb, changes: list[Change], when: datetime) -> None:
    """Append the changes to the 变更记录 sheet (real changes first, carried-over values after)."""
    if CHANGES_SHEET in wb.sheetnames:
        ws = wb[CHANGES_SHEET]
    else:
        ws = wb.create_sheet(CHANGES_SHEET, index=1)
        tpl.style_header_row(ws, 1, CHANGE_HEADERS)
        ws.freeze_panes = "A2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
    body = tpl.font(tpl.FANG, 11)
    stamp = when.strftime("%Y-%m-%d %H:%M")
    r = ws.max_row
    for ch in sorted(changes, key=lambda c: c.kind == "kept"):
        r += 1
        values = (stamp, KIND_ZH[ch.kind], ch.seq, ch.task, ch.field, ch.old, ch.new)
        for c, value in enumerate(values, 1):
            cell = put(ws, r, c, value)
            cell.font = body
            cell.border = tpl.BOX
            cell.alignment = tpl.WRAP_LEFT if c >= 6 else tpl.WRAP_CENTER
        lines = max(text_lines(value_text(v), w * 7, 11) for v, (_, w) in zip(values, CHANGE_HEADERS))
        ws.row_dimensions[r].height = _needed_height(lines, 11)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(CHANGE_HEADERS))}{r}"


def _difference(old: str, new: str, context: int = 8, limit: int = 40) -> tuple[str, str]:
    """The changed middle of two long texts with a little context, so a clerk sees what changed."""
    old, new = tpl.norm_header(old), tpl.norm_header(new)
    if len(old) <= limit and len(new) <= limit:
        return old, new
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1

    def cut(text: str) -> str:
        start = max(0, head - context)
        end = len(text) - max(0, tail - context)
        middle = text[start:end]
        if len(middle) > limit:
            middle = middle[:limit] + "…"
        return ("…" if start else "") + middle + ("…" if end < len(text) else "")

    return cut(old), cut(new)


def _short(text: str, limit: int = 30) -> str:
    text = tpl.norm_header(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _version() -> str:
    from . import __version__

    return __version__
