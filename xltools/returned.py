"""A distributed workbook coming back: what the district changed in the structure the city gave it.

``xltools distribute`` writes each city task's row with its 任务键 and, in the hidden metadata, the keys of every
row (``row_keys``) and a fingerprint of each row's locked cells (``row_locks``: 重点任务 and the city's 工作内容 and
牵头单位 shown for reference). Coming back, rows map by key whatever a clerk typed in them; what changed the
structure becomes a problem, never a silent change:

- a city row deleted (its task then shows as not covered), a key on two rows, a locked cell typed over (both
  texts shown when the city's is known), a city row left blank (not counted as covered);
- the file of another district (the metadata's region against the file name);
- a workbook distributed from an older city ledger (the tasks changed, added or removed since are named).

``check_returned`` works on one file alone (``validate``) and, given the city, in a consolidation.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .model import Ledger, TaskRow
from .problems import Problem
from .text import column_letter, fold

KIND = "distributed"
REF_CONTENT = "市级工作内容(参考)"  # as extract reads the headers (folded)
REF_LEAD = "市级牵头单位(参考)"
REF_FULL = "市级工作内容(全文)"  # a hidden column: the city's whole text, which the form shows as an excerpt
KEY = "任务键"
EXCERPT = "excerpt"  # meta ``reference``: the form shows the city's 工作内容 as ``reference_text`` gives it
# A district's own columns: what it fills in. A city row with none of them filled has not been answered.
_NOT_DISTRICT = {KEY, REF_CONTENT, REF_LEAD, REF_FULL}
EXCERPT_CHARS = 13  # the first words of the city's 工作内容 a form shows
_WS = re.compile(r"\s+")


def is_distributed(ledger: Ledger | None) -> bool:
    return ledger is not None and ledger.meta.get("kind") == KIND


def as_city(ledger: Ledger) -> Ledger:
    """The city's ledger as a consolidation or a distribution takes it: a distributed form (any district's, in
    any format it was saved in) stands for the city ledger it was made from — its city rows with the city's
    工作内容 and 牵头单位 from the reference columns, its goals likewise; the district's own columns and rows are
    not the city's. Any other ledger is itself."""
    if not is_distributed(ledger):
        return ledger
    from .model import Goal
    from .unitnames import split_units

    meta = ledger.meta
    city = meta.get("city") or ledger.city
    title = ledger.title
    region = meta.get("region") or ""
    if city and region and title.startswith(city + region):
        title = city + title[len(city + region):]
    view = Ledger(title=title, region=city, level="市", city=city, source=ledger.source, columns={},
                  region_from="meta", numbering=city, meta={"kind": "city-view", "city": city or ""})
    for row in ledger.rows:
        if row.extra.get(KEY, "").isdigit():
            view.rows.append(TaskRow(row.seq, row.task, row.extra.get(REF_FULL) or row.extra.get(REF_CONTENT, ""),
                                     split_units(row.extra.get(REF_LEAD, "")), [], row.section, row.subsection,
                                     row.origin, label=row.label))
    for goal in ledger.goals:
        text = goal.extra.get(REF_FULL) or goal.extra.get(REF_CONTENT)
        if goal.extra.get(KEY, "").startswith("g") and text:
            view.goals.append(Goal(goal.year, text, split_units(goal.extra.get(REF_LEAD, "")), goal.origin))
    view.problems = [p for p in ledger.problems if p.type in ("cell-too-long", "unreadable-sheet")]
    return view


def reference_text(content: str) -> str:
    """The city's 工作内容 as a distributed form shows it beside the district's columns: its first words, two
    lines where the whole text took a page (the city's targets are in the 目标 column's input message; the whole
    text in the form's hidden 全文 column, and in the city's plan)."""
    text = " ".join((content or "").split())
    first = re.split(r"[，,。；;：:]", text, maxsplit=1)[0]
    if len(first) > EXCERPT_CHARS:
        first = first[:EXCERPT_CHARS - 1]
    return first + "…" if len(first) < len(text.rstrip("。；")) else first


def reference_lead(units: list[str]) -> str:
    """The city's 牵头单位 as a distributed form shows them: on one line, separated by 、."""
    return "、".join(units)


def city_targets(content: str) -> str:
    """The city's numeric targets in a text, compact (“2025年充换电站1000座；…”), for a form's input message."""
    from .target_text import format_target, parse_targets

    return "；".join(dict.fromkeys(format_target(t).replace(" ", "") for t in parse_targets(content).targets
                                   if t.value is not None and not t.qualitative))


def fingerprint(task: str, content: str, lead: str) -> str:
    """What the locked cells of one row say, insensitive to how a reader spaces or folds the text."""
    text = "\x1f".join(_WS.sub("", fold(t or "")) for t in (task, content, lead))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def city_fingerprint(row: TaskRow, excerpt: bool = True) -> str:
    """The fingerprint of a city task as ``distribute`` writes it (its 工作内容 as ``reference_text``, its lead
    units as ``reference_lead``); ``excerpt=False``: as forms made before excerpts showed it, whole, one unit a
    line."""
    if excerpt:  # the excerpt and the whole text (hidden, locked too): a change anywhere in the text is seen
        return fingerprint(row.task, reference_text(row.content) + row.content, reference_lead(row.lead_units))
    return fingerprint(row.task, row.content, "\n".join(row.lead_units))


def row_fingerprint(row: TaskRow) -> str:
    content = row.extra.get(REF_CONTENT, "") + row.extra.get(REF_FULL, "")
    return fingerprint(row.task, content, row.extra.get(REF_LEAD, ""))


_LOCKED = ("task", REF_CONTENT, REF_LEAD)  # the locked cells of a city row, in the order fingerprinted


def _cell_prints(task: str, content: str, lead: str) -> str:
    """A short fingerprint of each locked cell: which one was typed over can be told without the city ledger."""
    return ":".join(hashlib.sha256(_WS.sub("", fold(t or "")).encode()).hexdigest()[:6] for t in (task, content, lead))


def encode_locks(rows: list[TaskRow]) -> str:
    """``row_locks``: key:fingerprint of the row's locked cells:fingerprints of each (task, content, lead)."""
    return ",".join(f"{r.key}:{city_fingerprint(r)}:"
                    f"{_cell_prints(r.task, reference_text(r.content), reference_lead(r.lead_units))}"
                    for r in rows if r.key)


def _decode_locks(text: str) -> dict[str, tuple[str, list[str]]]:
    """key → (the row's fingerprint, each locked cell's; none in a form made before they were recorded)."""
    out = {}
    for item in text.split(","):
        key, _, prints = item.partition(":")
        if prints:
            whole, *cells = prints.split(":")
            out[key] = (whole, cells if len(cells) == len(_LOCKED) else [])
    return out


def is_blank(row: TaskRow) -> bool:
    """A row with nothing of the district's in it: no content, units or reporting values (a city row of a
    distributed form left as it came, or a district row that names a task and says nothing of it)."""
    return not (row.content.strip() or row.lead_units or row.responsible_units
                or any(v.strip() for k, v in row.extra.items() if k not in _NOT_DISTRICT))


def goal_reported(goal) -> bool:
    """Whether a goal row carries anything of the district's (its text, units or reporting values)."""
    return bool(goal.text.strip() or goal.lead_units or goal.responsible_units
                or any(v.strip() for k, v in goal.extra.items() if k not in _NOT_DISTRICT))


NA = "不涉及"  # what a district chooses in 完成情况 for a city task it does not carry out
STATUS = "完成情况"
_NA_TEXT = re.compile(r"^(?:本区|我区|本县|我县|本镇)?(?:不涉及|无此项任务|无此任务|无此项|无相关任务)[。，,；;：:、\s]*")


def not_applicable(row: TaskRow) -> str | None:
    """The reason a district gives for not carrying out a task ("" when it gives none), or None when the row
    does not say 不涉及: 完成情况 chosen as 不涉及 (the reason in 工作内容), or 工作内容 starting with it (不涉及，本区无
    煤电机组)."""
    content = row.content.strip()
    m = _NA_TEXT.match(content)
    if fold(row.extra.get(STATUS, "")) != NA and m is None:
        return None
    reason = content[m.end():] if m is not None else content
    return reason.strip() or row.extra.get("进展情况", "").strip()


def row_states(ledger: Ledger, row_maps: list, name: str) -> list[Problem]:
    """What each row of a district's ledger reports, set on its mapping (``row_maps``: city seqs, confidence,
    method), and the problems of rows that say 不涉及 without a reason:

    - a row in the own-task area of a distributed form is the district's own task, always (``own``), never
      mapped to a city task, however alike their words;
    - a row with nothing of the district's in it covers nothing (``blank``);
    - a row saying 不涉及 keeps the city tasks it answers, as not applicable (``na``), not as covered.
    """
    problems: list[Problem] = []
    own_section = ledger.meta.get("own_section") if is_distributed(ledger) else None
    for i, row in enumerate(ledger.rows[:len(row_maps)]):
        seqs, confidence, _method = row_maps[i]
        keyed = row.extra.get(KEY, "").isdigit()
        if own_section and row.section == own_section and not keyed:
            row_maps[i] = ([], confidence, "own")
        elif is_blank(row):
            row_maps[i] = ([], 0.0, "blank")
        elif (reason := not_applicable(row)) is not None and seqs:
            row_maps[i] = (seqs, confidence, "na")
            if not reason:
                tasks = "、".join(map(str, seqs))
                problems.append(Problem(
                    "na-without-reason", f"市级任务{tasks}“{shown(row.task)}”填写了“不涉及”，但没有说明原因",
                    severity="warning", value=row.task,
                    suggestion="请在工作内容中写明本区不涉及该任务的原因（如“本区无煤电机组”）",
                    **_cell(ledger, row, "content")))
    for p in problems:
        p.file = name
    return problems


def quiet_rows(ledger: Ledger) -> None:
    """A row that needs no lead unit is not reported as lacking one: a city row left blank (reported once, as
    ``returned-blank-row``) and a row saying 不涉及 (the district does not carry the task out)."""
    quiet = {(r.origin.sheet, r.origin.row) for r in ledger.rows
             if (r.extra.get(KEY, "").isdigit() and is_blank(r)) or not_applicable(r) is not None}
    if quiet:
        ledger.problems[:] = [p for p in ledger.problems if not (
            p.type == "missing-lead-unit" and (p.sheet, _row_of(p.cell)) in quiet)]


def _row_of(cell: str | None) -> int | None:
    digits = re.sub(r"[A-Z]+", "", cell or "")
    return int(digits) if digits.isdigit() else None


def _cell(ledger: Ledger, row: TaskRow, field: str) -> dict:
    col = ledger.columns.get(field)
    return row.origin.where(ledger.source, column_letter(col + 1) if col is not None else None)


def shown(text: str, limit: int = 40) -> str:
    """What a clerk typed, quoted in a message as typed (full-width punctuation kept), its lines joined with 、
    (two units on two lines stay two), cut at ``limit`` characters."""
    text = "、".join(line.strip() for line in (text or "").splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + "…"


def check_returned(ledger: Ledger, name: str, city: Ledger | None = None, city_sha256: str | None = None,
                   regions: tuple[str, ...] = ()) -> list[Problem]:
    """The structure problems of a returned distributed workbook (none for any other file)."""
    if not is_distributed(ledger):
        return []
    meta = ledger.meta
    problems: list[Problem] = []
    region = meta.get("region") or ""
    named = _region_in_name(name, tuple(r for r in regions if r != meta.get("city")))
    if region and named and named != region:
        problems.append(Problem(
            "returned-other-region", f"这是分发给{region}的填报表，文件名却写的是{named}", severity="error",
            file=name, value=name, suggestion=f"请确认是哪个地区的报送：如是{named}，请用分发给{named}的表重新填报"))

    city_tasks = {r.key: r for r in city.rows if r.key} if city is not None else {}
    locks = _decode_locks(meta.get("row_locks", ""))
    older = bool(city_sha256 and meta.get("city_ledger_sha256") and meta["city_ledger_sha256"] != city_sha256)
    # Tasks the city changed since this workbook was made: typed-over checks use the old fingerprint.
    excerpt = meta.get("reference") == EXCERPT  # (a form made before excerpts shows the city's text whole)
    changed = {k for k, r in city_tasks.items() if k in locks and locks[k][0] != city_fingerprint(r, excerpt)}

    seen: dict[str, TaskRow] = {}
    for row in ledger.rows:
        key = row.extra.get(KEY, "").strip()
        if not key:
            continue
        if key in seen:
            first = seen[key]
            problems.append(Problem(
                "returned-key-duplicate", f"任务键“{key}”出现在两行（另一行在第{first.origin.row}行），"
                "可能是复制了市级任务行", severity="error", value=key,
                suggestion="请删除复制出的行；本区新增的任务请填在“本区自行增加的任务”下", **_cell(ledger, row, KEY)))
            continue
        seen[key] = row
        lock = locks.get(key)
        if lock and row_fingerprint(row) != lock[0]:
            problems.append(_typed_over(ledger, row, key, city_tasks.get(key) if key not in changed else None,
                                        lock[1], excerpt))
        if key.isdigit() and is_blank(row):
            problems.append(Problem(
                "returned-blank-row", f"市级任务{key}“{shown(row.task)}”未填写本区内容，视为未覆盖", severity="warning",
                value=row.task, suggestion="请填写本区的工作内容、牵头单位和责任单位；本区不承担该任务的，"
                "完成情况选“不涉及”，并在工作内容中写明原因",
                **_cell(ledger, row, "content")))

    expected = [k for k in (meta.get("row_keys") or "").split(",") if k.isdigit()]
    for key in expected:
        if key not in seen:
            task = city_tasks.get(key)
            what = f"“{shown(task.task)}”" if task is not None else ""
            problems.append(Problem(
                "returned-row-deleted", f"市级任务{key}{what}所在的行被删除，该任务视为未覆盖", severity="error",
                file=name, value=key, suggestion="请用分发的原表重新填写该任务，不要删除市级任务行"))

    if older:
        added = [k for k in city_tasks if k.isdigit() and k not in set(expected)]
        removed = [k for k in expected if city is not None and k not in city_tasks]
        parts = []
        if changed:
            parts.append(f"修改了任务{_keys(changed)}")
        if added:
            parts.append(f"新增了任务{_keys(added)}")
        if removed:
            parts.append(f"删除了任务{_keys(removed)}")
        # Another file with the same tasks (the .txt the filled .xlsx came from, or a later save) is the same
        # city ledger: only a change to its tasks is worth a word.
        if parts:
            when = meta.get("distributed_at", "")[:10]
            problems.append(Problem(
                "returned-older-city", f"本表按较早的市级台账分发（{when}，批次 {meta.get('batch', '')}），"
                "此后市级台账" + "，".join(parts), severity="warning", file=name, value=meta.get("batch"),
                suggestion="请向该地区下发新版填报表，或核对上述任务后再汇总"))
    for p in problems:
        p.file = name
    return problems


def _typed_over(ledger: Ledger, row: TaskRow, key: str, city_row: TaskRow | None, prints: list[str],
                excerpt: bool = True) -> Problem:
    """A locked city cell changed: which one (from the city's text, else from each cell's fingerprint in the
    form), and both texts when the city's are known."""
    typed = dict(zip(_LOCKED, (row.task, row.extra.get(REF_CONTENT, ""), row.extra.get(REF_LEAD, ""))))
    field, was = "task", ""
    if city_row is not None:
        content = reference_text(city_row.content) if excerpt else city_row.content
        lead = reference_lead(city_row.lead_units) if excerpt else "\n".join(city_row.lead_units)
        for f, original in zip(_LOCKED, (city_row.task, content, lead)):
            if _WS.sub("", fold(original)) != _WS.sub("", fold(typed[f])):
                field, was = f, original
                break
    elif prints:
        now = _cell_prints(*typed.values()).split(":")
        field = next((f for f, a, b in zip(_LOCKED, prints, now) if a != b), "task")
    now = typed[field]
    label = {"task": "重点任务", REF_CONTENT: "市级工作内容（参考）", REF_LEAD: "市级牵头单位（参考）"}[field]
    detail = f"：原为“{shown(was)}”，现为“{shown(now)}”" if city_row is not None else f"，现为“{shown(now)}”"
    return Problem(
        "returned-locked-changed", f"市级任务{key}的“{label}”被改动{detail}（市级内容不能修改，汇总仍按原任务对应）",
        severity="error", value=now[:200],
        suggestion="市级任务如有疑问请与市里联系；本区的内容请填在本区的列中", **_cell(ledger, row, field))


def _keys(keys) -> str:
    return "、".join(sorted(keys, key=lambda k: (len(k), k)))


def _region_in_name(name: str, regions: tuple[str, ...]) -> str | None:
    stem = re.sub(r"^[\u4e00-\u9fff]{2,3}?市", "", Path(name).stem)  # 济南市章丘区… names 章丘区
    for region in sorted(regions, key=len, reverse=True):
        if region in stem:
            return region
    m = re.search(r"([\u4e00-\u9fff]{1,4}?(?:区|县))", re.sub(r"^[\u4e00-\u9fff]{2,3}?市", "", stem))
    return m.group(1) if m else None
