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
KEY = "任务键"
# A district's own columns: what it fills in. A city row with none of them filled has not been answered.
_NOT_DISTRICT = {KEY, REF_CONTENT, REF_LEAD}
_WS = re.compile(r"\s+")


def is_distributed(ledger: Ledger | None) -> bool:
    return ledger is not None and ledger.meta.get("kind") == KIND


def fingerprint(task: str, content: str, lead: str) -> str:
    """What the locked cells of one row say, insensitive to how a reader spaces or folds the text."""
    text = "\x1f".join(_WS.sub("", fold(t or "")) for t in (task, content, lead))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def city_fingerprint(row: TaskRow) -> str:
    """The fingerprint of a city task as ``distribute`` writes it (lead units one per line)."""
    return fingerprint(row.task, row.content, "\n".join(row.lead_units))


def row_fingerprint(row: TaskRow) -> str:
    return fingerprint(row.task, row.extra.get(REF_CONTENT, ""), row.extra.get(REF_LEAD, ""))


def encode_locks(rows: list[TaskRow]) -> str:
    return ",".join(f"{r.key}:{city_fingerprint(r)}" for r in rows if r.key)


def _decode_locks(text: str) -> dict[str, str]:
    return dict(item.split(":", 1) for item in text.split(",") if ":" in item)


def is_blank(row: TaskRow) -> bool:
    """A city row the district filled nothing into."""
    return not (row.content.strip() or row.lead_units or row.responsible_units
                or any(v.strip() for k, v in row.extra.items() if k not in _NOT_DISTRICT))


def quiet_blank_rows(ledger: Ledger) -> None:
    """A city row left blank is reported once (``returned-blank-row``), not also as lacking its lead unit."""
    blank = {(r.origin.sheet, r.origin.row) for r in ledger.rows if r.extra.get(KEY, "").isdigit() and is_blank(r)}
    if blank:
        ledger.problems[:] = [p for p in ledger.problems if not (
            p.type == "missing-lead-unit" and (p.sheet, _row_of(p.cell)) in blank)]


def _row_of(cell: str | None) -> int | None:
    digits = re.sub(r"[A-Z]+", "", cell or "")
    return int(digits) if digits.isdigit() else None


def _cell(ledger: Ledger, row: TaskRow, field: str) -> dict:
    col = ledger.columns.get(field)
    return row.origin.where(ledger.source, column_letter(col + 1) if col is not None else None)


def _named(text: str, limit: int = 40) -> str:
    text = _WS.sub("", text)
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
    changed = {k for k, r in city_tasks.items() if k in locks and locks[k] != city_fingerprint(r)}

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
        if lock and row_fingerprint(row) != lock:
            problems.append(_typed_over(ledger, row, key, city_tasks.get(key) if key not in changed else None))
        if key.isdigit() and is_blank(row):
            problems.append(Problem(
                "returned-blank-row", f"市级任务{key}“{_named(row.task)}”未填写本区内容，视为未覆盖", severity="warning",
                value=row.task, suggestion="请填写本区的工作内容、牵头单位和责任单位；不涉及的，请在备注中说明",
                **_cell(ledger, row, "content")))

    expected = [k for k in (meta.get("row_keys") or "").split(",") if k.isdigit()]
    for key in expected:
        if key not in seen:
            task = city_tasks.get(key)
            what = f"“{_named(task.task)}”" if task is not None else ""
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
        when = meta.get("distributed_at", "")[:10]
        problems.append(Problem(
            "returned-older-city", f"本表按较早的市级台账分发（{when}，批次 {meta.get('batch', '')}），"
            + ("此后市级台账" + "，".join(parts) if parts else "此后市级台账有改动，但任务未变"),
            severity="warning" if parts else "info", file=name, value=meta.get("batch"),
            suggestion="请向该地区下发新版填报表，或核对上述任务后再汇总" if parts else None))
    for p in problems:
        p.file = name
    return problems


def _typed_over(ledger: Ledger, row: TaskRow, key: str, city_row: TaskRow | None) -> Problem:
    """A locked city cell changed: which one, and both texts when the city's are known."""
    field, was, now = "task", "", row.task
    if city_row is not None:
        for f, original, typed in (("task", city_row.task, row.task),
                                   (REF_CONTENT, city_row.content, row.extra.get(REF_CONTENT, "")),
                                   (REF_LEAD, "\n".join(city_row.lead_units), row.extra.get(REF_LEAD, ""))):
            if _WS.sub("", fold(original)) != _WS.sub("", fold(typed)):
                field, was, now = f, original, typed
                break
    label = {"task": "重点任务", REF_CONTENT: "市级工作内容（参考）", REF_LEAD: "市级牵头单位（参考）"}[field]
    detail = f"：原为“{_named(was)}”，现为“{_named(now)}”" if city_row is not None else ""
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
