"""Where a plan's body and its attached ledger disagree (the ledger is the official table)."""

from __future__ import annotations

from difflib import SequenceMatcher

from ..model import Ledger, TaskRow
from ..problems import Problem
from ..text import fold

MATCH_AT = 0.6  # content similarity above which a body task and a ledger row are the same task


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, fold(a), fold(b), autojunk=False).ratio()


def _units(units: list[str]) -> list[str]:
    return [fold(u) for u in units]


def compare_body(body: Ledger, ledger: Ledger, file: str | None) -> list[Problem]:
    """Problems for ledger rows missing from the body, body tasks missing from the ledger, and differences."""
    problems: list[Problem] = []
    pairs = sorted(
        ((_similarity(b.content, r.content), bi, ri)
         for bi, b in enumerate(body.rows) for ri, r in enumerate(ledger.rows)),
        reverse=True,
    )
    body_used: dict[int, int] = {}
    ledger_used: dict[int, int] = {}
    for score, bi, ri in pairs:
        if score < MATCH_AT:
            break
        if bi in body_used or ri in ledger_used:
            continue
        body_used[bi], ledger_used[ri] = ri, bi
    for ri, row in enumerate(ledger.rows):
        if ri not in ledger_used:
            problems.append(_at(row, "ledger-only-task", f"台账任务{row.seq}“{row.task}”在正文中找不到对应内容",
                                "info", file))
            continue
        b = body.rows[ledger_used[ri]]
        for label, mine, theirs in (("牵头单位", row.lead_units, b.lead_units),
                                    ("责任单位", row.responsible_units, b.responsible_units)):
            if _units(mine) != _units(theirs):
                problems.append(_at(
                    row, "body-ledger-units",
                    f"任务{row.seq}“{row.task}”的{label}与正文不一致：台账为“{'、'.join(mine) or '（空）'}”，"
                    f"正文（第{b.origin.line}行）为“{'、'.join(theirs) or '（空）'}”",
                    "warning", file, suggestion="、".join(theirs)))
        if fold(row.content) != fold(b.content):
            problems.append(_at(
                row, "body-ledger-text",
                f"任务{row.seq}“{row.task}”的工作内容与正文（第{b.origin.line}行）文字不同："
                f"{_diff(b.content, row.content)}", "info", file))
    for bi, b in enumerate(body.rows):
        if bi not in body_used:
            problems.append(Problem(
                "body-only-task", f"正文任务“{b.task}”未列入台账", severity="info", file=file,
                line=b.origin.line, value=b.content[:40]))
    return problems


def _at(row: TaskRow, type_: str, message: str, severity: str, file: str | None, suggestion=None) -> Problem:
    return Problem(type_, message, severity=severity, file=file, line=row.origin.line,
                   value=row.content[:40], suggestion=suggestion)


def _diff(body: str, ledger: str, limit: int = 3) -> str:
    a, b = fold(body), fold(ledger)
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        out.append(f"正文“{a[max(0, i1 - 4):i2 + 4]}”→台账“{b[max(0, j1 - 4):j2 + 4]}”")
        if len(out) >= limit:
            out.append("…")
            break
    return "；".join(out)
