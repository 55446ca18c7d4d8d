"""Plan documents in prose (工作方案): numbered tasks with their units in brackets.

Handles "（牵头单位：A、B；责任单位：C）", "（牵头单位：A，责任单位：B）", "（A负责）",
"（A、B按职责分工负责）", 〔…〕 brackets, "1." / "1、" numbering, fields (（一）…) that are tasks
themselves, a task spread over several paragraphs, a paragraph holding several attributed tasks, and
lines broken inside a bracket. Paragraphs it cannot place become problems with their line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Goal, Ledger, Origin, TaskRow
from ..problems import Problem
from ..text import ACTION_RE, FIELD_RE, NUMBER_RE, clean, cn_number, fold, heading_title, parse_region
from ..unitnames import ends_like_unit, split_units

_OPEN, _CLOSE = "（(〔【", "）)〕】"
_ROLE_RE = re.compile(r"(牵头单位|牵头部门|责任单位|责任部门|配合单位|参与单位)\s*[:：]")
_DUTY_RE = re.compile(r"^(?P<units>.+?)(?:按职责分工|按照职责分工|分别|共同)?负责$")
_GENERAL = re.compile(r"总体要求|指导思想|工作目标|基本原则|主要目标|总体目标")
_GOAL_YEAR = re.compile(r"(?:到|至)\s*(20\d\d)\s*年")
_TITLE_END = re.compile(r"(工作方案|实施方案|行动方案|工作台账|实施意见)$")
_MAX_TITLE = 30


@dataclass
class Paragraph:
    text: str
    line: int  # 1-based line of its first line


@dataclass
class _Pending:
    number: int | None
    task: str
    line: int
    section: str
    subsection: str
    parts: list[str] = field(default_factory=list)


def paragraphs(lines: list[str], first_line: int = 1) -> list[Paragraph]:
    """Non-blank lines, with a line broken inside a bracket joined to the next one."""
    out: list[Paragraph] = []
    # A bracket left open joins every following line: the paragraph's lines are collected and joined
    # once, and its depth counted line by line, so that stays linear in the length of the document.
    pieces: list[list[str]] = []
    open_depth = 0
    for offset, raw in enumerate(lines):
        text = clean(raw)
        if not text:
            continue
        depth = sum(text.count(c) for c in _OPEN) - sum(text.count(c) for c in _CLOSE)
        if out and open_depth > 0:
            pieces[-1].append(text)  # a bracket (often a unit name) broken across lines
            open_depth += depth
        else:
            out.append(Paragraph(text, first_line + offset))
            pieces.append([text])
            open_depth = depth
    for paragraph, texts in zip(out, pieces):
        if len(texts) > 1:
            paragraph.text = "".join(texts)
    return out


def _closing(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] in _OPEN:
            depth += 1
        elif text[i] in _CLOSE:
            depth -= 1
            if depth == 0:
                return i
    return None


def parse_attribution(inner: str) -> tuple[list[str], list[str]] | None:
    """Bracket contents → (lead units, responsible units), or None if not an attribution."""
    found = attribution_text(inner)
    return None if found is None else (split_units(found[0]), split_units(found[1]))


def attribution_text(inner: str) -> tuple[str, str] | None:
    """Bracket contents → (lead units, responsible units) as written, or None if not an attribution."""
    inner = clean(inner)
    if _ROLE_RE.search(inner):
        lead: list[str] = []
        resp: list[str] = []
        pieces = _ROLE_RE.split(inner)
        for role, names in zip(pieces[1::2], pieces[2::2]):
            (lead if role.startswith("牵头") else resp).append(names.strip().strip("，,；;。"))
        return "、".join(lead), "、".join(resp)
    m = _DUTY_RE.match(inner)
    if m:
        units = split_units(m.group("units"))
        if units and all(ends_like_unit(u) for u in units):
            return m.group("units"), ""
    return None


def split_attributions(text: str) -> list[tuple[str, tuple[list[str], list[str]] | None]]:
    """'内容A（牵头单位：X）内容B（Y负责）' → [('内容A', ('X', '')), ('内容B', ('Y', ''))]; a tail has None.

    Units come as written (one string per role); callers split them.
    """
    out = []
    pos = 0
    i = 0
    while i < len(text):
        if text[i] in _OPEN:
            end = _closing(text, i)
            if end is None:
                break
            attribution = attribution_text(text[i + 1:end])
            if attribution is not None:
                seg, aside = text[pos:i].strip(), _aside(text[i + 1:end])
                out.append((f"{seg}（{aside}）" if aside else seg, attribution))
                pos = end + 1
            i = end + 1
            continue
        i += 1
    tail = text[pos:].strip()
    if tail:
        out.append((tail, None))
    return out


def _aside(inner: str) -> str:
    """What an attribution bracket says before its first role word (（省级以上项目，牵头单位：…）): content."""
    inner = clean(inner)
    m = _ROLE_RE.search(inner)
    return inner[:m.start()].strip("，,；;。：: ") if m else ""


def split_title(text: str) -> tuple[str | None, str]:
    """'推动产业现代化改造。聚焦…' → ('推动产业现代化改造', '聚焦…'); a long first sentence has no title."""
    head, sep, rest = text.partition("。")
    if sep and 0 < len(head) <= _MAX_TITLE and not re.search(r"[，,；;：:]", head):
        return head, rest.strip()
    return None, text


def find_title(paras: list[Paragraph]) -> str:
    for i, p in enumerate(paras):
        if _TITLE_END.search(p.text) and len(p.text) < 60 and not p.text.startswith(("关于", "现将", "《")):
            title = p.text
            if i and not parse_region(title)[0] and not re.search(r"[。，：；）)]$", paras[i - 1].text):
                title = paras[i - 1].text + title  # a title broken over two lines
            return fold(title)
    return ""


def parse_plan(lines: list[str], file: str | None = None, first_line: int = 1) -> Ledger:
    """Parse the body of a plan document into a ledger."""
    paras = paragraphs(lines, first_line)
    ledger = Ledger(source=file, title=find_title(paras))
    ledger.region, ledger.level, ledger.city = parse_region(ledger.title)
    section = subsection = ""
    general = False
    started = False
    pending: _Pending | None = None
    numbered: list[TaskRow] = []

    def emit(text: str, units: tuple[str, str] | None, line: int) -> None:
        nonlocal pending
        assert pending is not None
        if text:
            pending.parts.append(text)
        lead_raw, resp_raw = units or ("", "")
        row = TaskRow(
            seq=pending.number, task=pending.task, content="".join(pending.parts),
            lead_units=split_units(lead_raw), responsible_units=split_units(resp_raw),
            section=section, subsection=pending.subsection, origin=Origin(file=file, line=pending.line),
            raw={"lead": lead_raw, "resp": resp_raw},
        )
        if units is None or not row.lead_units:
            ledger.problems.append(Problem(
                "missing-lead-unit", f"任务“{row.task}”未写明牵头单位", severity="warning",
                file=file, line=pending.line, value=row.content[:40]))
        ledger.rows.append(row)
        if pending.number is not None:
            numbered.append(row)
        pending = None

    def feed(text: str, line: int) -> None:
        """Add text to the pending task; each attribution closes one row."""
        nonlocal pending
        for seg, units in split_attributions(text):
            if pending is None:  # text after an attribution in the same field: another row
                pending = _Pending(None, heading_title(subsection), line, section, subsection)
            if units is None:
                pending.parts.append(seg)
            else:
                emit(seg, units, line)

    def flush() -> None:
        if pending is not None:
            emit("", None, pending.line)

    # A heading is kept in its rows' section/subsection, and an action's in the problems raised under it;
    # one with nothing under it would be lost and is reported instead. (paragraph, rows + problems then)
    action_heading: tuple[Paragraph, int] | None = None
    field_heading: tuple[Paragraph, int] | None = None

    def placed() -> int:
        return len(ledger.rows) + len(ledger.problems)

    def close_heading(heading: tuple[Paragraph, int] | None) -> None:
        if heading is not None and placed() == heading[1]:
            where = f"（在“{section}”中）" if heading is field_heading else ""
            ledger.problems.append(Problem(
                "unplaced-text", f"标题“{heading[0].text}”下没有任务{where}", severity="info", file=file,
                line=heading[0].line, value=heading[0].text))

    for p in paras:
        text = p.text
        m_action = ACTION_RE.match(text)
        if m_action and len(text) <= 40 and "。" not in text.rstrip("。"):
            flush()
            close_heading(field_heading)
            close_heading(action_heading)
            started = True
            section, subsection = f"{m_action.group(1)}、{m_action.group(2).rstrip('。')}", ""
            general = bool(_GENERAL.search(section))
            action_heading = None if general else (p, placed())
            field_heading = None
            continue
        if not started:
            continue  # the notice, title and preamble before 一、
        m_field = FIELD_RE.match(text)
        if m_field and not general:
            flush()
            close_heading(field_heading)
            field_heading = (p, placed())
            title, rest = split_title(m_field.group(2).strip())
            if title is None and "。" not in text.rstrip("。"):
                title, rest = m_field.group(2).strip().rstrip("。"), ""
            subsection = f"（{m_field.group(1)}）{title or ''}"
            if rest or title is None:
                pending = _Pending(None, title or heading_title(subsection), p.line, section, subsection)
                feed(rest, p.line)
            continue
        m_num = NUMBER_RE.match(text)
        if m_num and not general:
            flush()
            title, rest = split_title(m_num.group(2).strip())
            pending = _Pending(int(m_num.group(1)), title or heading_title(subsection), p.line, section, subsection)
            feed(rest, p.line)
            continue
        if general:
            m_goal = _GOAL_YEAR.search(text[:12])
            if m_goal:
                ledger.goals.append(Goal(int(m_goal.group(1)), text, [], Origin(file=file, line=p.line)))
            continue
        if pending is not None:
            feed(text, p.line)
        elif subsection:
            pending = _Pending(None, heading_title(subsection), p.line, section, subsection)
            feed(text, p.line)
        else:
            ledger.problems.append(Problem(
                "unplaced-text", f"“{section}”下无法归入任何任务的段落（不在任何“（一）”或编号任务之下）",
                severity="info", file=file, line=p.line, value=text))
    flush()
    close_heading(field_heading)
    close_heading(action_heading)
    _assign_seq(ledger, numbered, file)
    return ledger


def _assign_seq(ledger: Ledger, numbered: list[TaskRow], file: str | None) -> None:
    """Keep the written numbers unless they restart in each section; then number rows in order.

    A gap (a task deleted from the plan) is a gap, not a restart: the numbers stay those of the printed
    plan. A plan that numbers its tasks as fields, （一）…（三十三） through all its sections, has those as 序号.
    """
    numbers = [r.seq for r in numbered]
    if not numbers:
        fields = [FIELD_RE.match(r.subsection) for r in ledger.rows]
        values = [cn_number(m.group(1)) if m else None for m in fields]
        if values and None not in values and all(b > a for a, b in zip(values, values[1:])):
            for row, value in zip(ledger.rows, values):
                row.seq = value
        return
    if all(b > a for a, b in zip(numbers, numbers[1:])):
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        if missing:
            ledger.problems.append(Problem(
                "numbering-gap", f"任务编号不连续，缺少第{'、'.join(map(str, missing[:10]))}"
                f"{'等' if len(missing) > 10 else ''}项（按原编号保留）", severity="info", file=file,
                value="、".join(map(str, missing))))
        return
    for i, row in enumerate(ledger.rows, start=1):
        row.seq = i
    ledger.problems.append(Problem(
        "renumbered", "正文任务编号在各节内重新开始，已按出现顺序统一编号（1、2、3…）",
        severity="info", file=file))
