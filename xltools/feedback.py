"""Feedback to districts: each district's own file, marked, with what the city rollup found about it.

``consolidate --feedback DIR`` calls :func:`write_feedback` once the rollup is built: for every district
file the rollup used, one workbook the city clerk sends back. It is the district's own file (or, for a
format openpyxl cannot edit, a ledger filled from it) with the consolidation's problems marked at their
cells (the marker and 问题清单 of ``validate``), plus the city tasks the district has not covered and the
city targets its figures fall short of, listed in 问题清单. Nothing depends on the time or order of the run,
so a file of the same bytes gets the same feedback; ``反馈清单.xlsx`` says what went to whom.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import OutputError
from .problems import Problem
from .rollup.model import Received, Rollup, TargetComparison
from .text import column_letter
from .xlio import check_output, put

log = logging.getLogger(__name__)

MANIFEST_NAME = "反馈清单.xlsx"
MARK = "_反馈_"  # between the district and its file's name in a feedback workbook's name (``feedback_name``)
EDITABLE = {".xlsx", ".xlsm"}
# Comparators for which a district sum below the city's figure means the city target is not met; a ceiling
# (漏损率降至7.8%以下) is not "short" when the sum is lower.
AT_LEAST = {">=", ">", "=", "~"}


@dataclass
class FeedbackItem:
    """One received file and what feedback it got (``path`` None: none, ``reason`` says why)."""

    region: str | None
    name: str
    version: int
    path: Path | None = None
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)  # severity → problems listed
    uncovered: int = 0
    short: int = 0
    unmapped: int = 0
    stale: bool = False  # ``path`` is an earlier run's feedback this run did not write again


def feedback_name(rec: Received) -> str:
    """``{region}_反馈_{original stem}.xlsx`` (.xlsm kept, so the district's macros come back with it)."""
    suffix = ".xlsm" if Path(rec.name).suffix.lower() == ".xlsm" else ".xlsx"
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", f"{rec.region}{MARK}{Path(rec.name).stem}")
    return safe + suffix


def check_feedback_dir(out_dir, inbox=None, archive=None) -> Path:
    """Where feedback may go: a folder (made if missing) that is not the inbox, inside it (the next run
    would read the feedback as submissions) or inside the archive."""
    out_dir = Path(out_dir)
    where = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"feedback folder {out_dir} is a file",
                          f"反馈文件夹“{out_dir}”是一个文件，请另选一个文件夹。")
    if inbox is not None:
        box = Path(inbox).resolve()
        if where == box or box in where.parents:
            raise OutputError(f"refusing to write feedback into the inbox {box}",
                              f"反馈文件夹不能是收件文件夹或其中的子文件夹（下次汇总会把反馈当作报送读取）：{out_dir}。"
                              "请另选一个文件夹。")
    if archive is not None:
        root = Path(archive).resolve()
        if where == root or root in where.parents:
            raise OutputError(f"refusing to write feedback inside the archive {root}",
                              f"反馈文件夹不能在归档文件夹中：{out_dir}。请另选一个文件夹。")
    return out_dir


def write_feedback(rollup: Rollup, out_dir, units=None, *, inbox=None, archive=None,
                   workers: int | None = None) -> list[Path]:
    """One feedback workbook per district file used in ``rollup``, and 反馈清单.xlsx, in ``out_dir``.

    Superseded and unreadable files, and files whose district is unknown, get none and are listed in the
    manifest. ``units``: the unit directory (a path or a loaded ``Directory``) for the 单位名录 of filled
    ledgers. Returns the feedback workbooks written. Each workbook is loaded, marked and saved by openpyxl
    (~35 ms): from ``PARALLEL_FROM`` files on they are written by ``workers`` processes (default: the CPU
    count, at most 8); the workbooks are the same either way.
    """
    from .archive import sha256_of
    from .units.directory import Directory, load_directory

    out_dir = check_feedback_dir(out_dir, inbox, archive)
    out_dir.mkdir(parents=True, exist_ok=True)
    directory = units if isinstance(units, Directory) else load_directory(units)
    covered = _covered(rollup)
    unmapped = _unmapped(rollup)
    items: list[FeedbackItem] = []
    jobs: list[tuple] = []  # write_marked's arguments, one workbook each
    for rec in rollup.received:
        item = FeedbackItem(rec.region, rec.name, rec.version)
        items.append(item)
        if rec.ledger is None:
            item.reason = "文件无法读取或没有任务行，未生成反馈（见汇总表“问题清单”）"
            continue
        if rec.region is None:
            item.reason = "无法判断报送地区，未生成反馈"
            continue
        if not rec.path.is_file() or sha256_of(rec.path) != rec.sha256:
            item.reason = "汇总后文件被移走或改动，未生成反馈；请重新汇总"
            continue
        out = out_dir / feedback_name(rec)
        check_output(out, rec.path, rollup.city_path, inbox=inbox, archive=archive)
        mine = covered.get(rec.region, set())
        extra = uncovered_tasks(rollup, rec, mine) + short_targets(rollup, rec, mine)
        rows = unmapped_rows(rec, unmapped.get((rec.region, rec.name), []))
        problems = list(rec.problems) + extra + rows
        jobs.append((rec.path, out, rec.ledger, problems, rec.region, rec.name, rec.sha256))
        item.path = out
        item.counts = {s: sum(p.severity == s for p in problems) for s in ("error", "warning", "info")}
        item.uncovered = sum(p.type == "feedback-uncovered-task" for p in extra)
        item.short = len(extra) - item.uncovered
        item.unmapped = len(rows)
    written = _write_all(jobs, directory, workers)
    for rec in rollup.superseded:
        items.append(FeedbackItem(rec.region, rec.name, rec.version, reason="已被该地区较新的报送取代，未生成反馈"))
    rollup.feedback_stale = stale_feedback(out_dir, written)
    for path in rollup.feedback_stale:
        items.append(FeedbackItem(path.name.split(MARK, 1)[0] or None, "", 0, path, stale=True,
                                  reason="以前汇总留下的反馈，本次未重新生成，内容可能已过时：请勿发出"))
    _write_manifest(rollup, out_dir / MANIFEST_NAME, items, inbox, archive)
    log.info("feedback: %d workbooks in %s", len(written), out_dir)
    return written


def stale_feedback(out_dir: Path, written: list[Path]) -> list[Path]:
    """Feedback workbooks (by ``feedback_name``'s pattern) an earlier run left in ``out_dir`` that this run did
    not write again: a district whose file was renamed, superseded or not sent this time. They are listed in
    the manifest and named to the clerk, never deleted (they are the clerk's files now)."""
    fresh = {p.name for p in written}
    return sorted(p for p in Path(out_dir).iterdir()
                  if p.is_file() and MARK in p.name and p.suffix.lower() in EDITABLE
                  and not p.name.startswith(("~$", ".")) and p.name not in fresh)


PARALLEL_FROM = 8  # fewer workbooks than this are written in this process: starting workers costs more

_DIRECTORY = None  # the unit directory, in a worker process


def _write_one(job: tuple, directory=None) -> Path:
    from .validation import write_marked

    source, out, ledger, problems, region, name, sha256 = job
    return write_marked(source, out, ledger, problems, region=region, directory=directory or _DIRECTORY,
                        marks_only=True, meta={"filled_at": "", "source": name, "source_sha256": sha256})


def _init_worker(directory, parent: int) -> None:
    from .rollup.reading import _die_with_parent

    global _DIRECTORY
    _DIRECTORY = directory
    _die_with_parent(parent)  # a consolidation killed stops its feedback writers too


def _write_all(jobs: list[tuple], directory, workers: int | None) -> list[Path]:
    """Write every feedback workbook, in order; in worker processes when there are enough of them."""
    from .rollup.reading import start_context, worker_count

    workers = worker_count(workers, len(jobs))
    if workers < 2 or len(jobs) < PARALLEL_FROM:
        return [_write_one(job, directory) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=start_context(), initializer=_init_worker,
                             initargs=(directory, os.getpid())) as pool:
        return list(pool.map(_write_one, jobs, chunksize=4))


def _covered(rollup: Rollup) -> dict[str, set[int]]:
    """region → the city tasks its rows are mapped to."""
    out: dict[str, set[int]] = {}
    for m in rollup.mappings:
        out.setdefault(m.region, set()).update(m.city_seqs)
    return out


def _unmapped(rollup: Rollup) -> dict[tuple[str, str], list]:
    """(region, file) → its rows no city task was found for (``Mapping.unmatched``)."""
    out: dict[tuple[str, str], list] = {}
    for m in rollup.mappings:
        if m.unmatched:
            out.setdefault((m.region, m.file), []).append(m)
    return out


def unmapped_rows(rec: Received, mappings: list) -> list[Problem]:
    """A note at the name of each row of the district that no city task was found for: the district knows best
    which city task the row carries out, if any (the city clerk sees the same rows on the rollup's 映射)."""
    col = rec.ledger.columns.get("task") if rec.ledger is not None else None
    letter = column_letter(col + 1) if col is not None else None
    return [Problem("feedback-unmapped-row", f"本行“{m.row.task}”未能对应到市级任务", severity="info",
                    value=m.row.task or None, **m.row.origin.where(rec.name, letter),
                    suggestion="如落实的是某项市级任务，请改用市级台账中的任务名称；本区自有任务可不改")
            for m in mappings]


def uncovered_tasks(rollup: Rollup, rec: Received, covered: set[int]) -> list[Problem]:
    """A warning for each city task none of the district's rows serves; none when no row maps to any city
    task (the file is not a ledger of this plan: 60 warnings would bury the one that matters)."""
    if not covered:
        return []
    problems, seen = [], _reported_uncovered(rollup, rec)
    for row in rollup.city.rows:
        if row.seq is None or row.seq in covered or row.seq in seen:
            continue
        seen.add(row.seq)
        problems.append(Problem(
            "feedback-uncovered-task", f"未覆盖市级任务{row.seq}“{row.task}”", severity="warning", file=rec.name,
            suggestion="承担的请补充，不承担的请注明原因"))
    return problems


def _reported_uncovered(rollup: Rollup, rec: Received) -> set[int]:
    """City tasks a returned distributed workbook already reports at their place, as uncovered: rows left
    blank (``returned-blank-row``, at the row) and rows deleted (``returned-row-deleted``, naming the task)."""
    seqs = {int(p.value) for p in rec.problems
            if p.type == "returned-row-deleted" and p.value and str(p.value).isdigit()}
    seqs.update(m.row.seq for m in rollup.mappings
                if m.region == rec.region and m.method == "blank" and m.row.seq is not None)
    return seqs


def short_targets(rollup: Rollup, rec: Received, covered: set[int]) -> list[Problem]:
    """A note for each city target the districts' figures add up short of, where this district takes part:
    it covers the task (with or without a figure) or, for a 工作目标, gave a figure."""
    from .target_text import _format_amount

    problems = []
    for t in rollup.targets:
        if not _short(t):
            continue
        mine = t.districts.get(rec.region)
        if t.city_seq is None:
            if mine is None:
                continue
            where = f"市级{t.city_task}"
        else:
            if t.city_seq not in covered or (mine is None and rec.region not in t.missing):
                continue
            where = f"市级任务{t.city_seq}“{t.city_task}”"
        total = t.district_sum or 0
        when = "每年" if t.per_year else (f"{t.year}年" if t.year else "")
        if t.city_task.startswith(when):
            when = ""  # 2025年工作目标 names its year already
        figure = _format_amount(mine, t.unit) if mine is not None else "未填写数值"
        problems.append(Problem(
            "feedback-target-short",
            f"{where}的目标“{when}{t.metric}”：市级{_format_amount(t.city_value, t.unit)}，各区县合计"
            f"{_format_amount(total, t.unit)}，本区{figure}，尚差{_format_amount(t.city_value - total, t.unit)}",
            severity="info", file=rec.name, value=figure if mine is not None else None,
            suggestion="请核实本区目标能否提高，或说明原因" if mine is not None else "请在工作内容或目标中写明本区的目标数值"))
    return problems


def _short(t: TargetComparison) -> bool:
    if not t.summable or t.city_value is None or t.comparator not in AT_LEAST:
        return False
    return (t.district_sum or 0) < t.city_value


# ---------------------------------------------------------------------------------------------- manifest


MANIFEST_HEADERS = (("地区", 9), ("报送文件", 30), ("版本", 5), ("反馈文件", 34), ("错误", 5), ("警告", 5), ("提示", 5),
                    ("未覆盖任务", 7), ("目标差距", 9), ("未对应行", 9), ("说明", 30))


def _write_manifest(rollup: Rollup, path: Path, items: list[FeedbackItem], inbox, archive) -> Path:
    """反馈清单.xlsx: which district gets which feedback file, and the files that got none, with why."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from . import template as tpl
    from .layout import fit_rows
    from .printing import fit_widths
    from .xlio import atomic_save

    check_output(path, inbox=inbox, archive=archive)
    wb = Workbook()
    tpl._default_font(wb)
    ws = wb.active
    ws.title = "反馈清单"
    run = f"（汇总记录 {rollup.archive_run}）" if rollup.archive_run else ""
    put(ws, 1, 1, f"{rollup.city.region or ''}工作台账汇总反馈清单{run}")
    ws.cell(1, 1).font = tpl.font(tpl.HEI, 14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(MANIFEST_HEADERS))
    ws.row_dimensions[1].height = 28
    widths = fit_widths([w for _h, w in MANIFEST_HEADERS], {1: 20, 3: 20, 10: 20}, True)
    headers = tuple((h, w) for (h, _w), w in zip(MANIFEST_HEADERS, widths, strict=True))
    tpl.style_header_row(ws, 2, headers)
    ws.row_dimensions[2].height = 30  # 未覆盖任务 / 目标差距 / 未对应行 wrap to two lines
    body = tpl.font(tpl.FANG, 11)
    order = sorted(items, key=lambda i: (i.stale, i.region is None, i.region or "", i.path is None, -i.version,
                                         i.name, i.path.name if i.path else ""))
    for r, item in enumerate(order, 3):
        done = item.path is not None and not item.stale
        values = (item.region or "（未知）", item.name or None, item.version or None, item.path.name if item.path else "",
                  item.counts.get("error"), item.counts.get("warning"), item.counts.get("info"),
                  *((item.uncovered, item.short, item.unmapped) if done else (None, None, None)),
                  item.reason or None)
        for c, value in enumerate(values, 1):
            cell = put(ws, r, c, value)
            cell.font, cell.border = body, tpl.BOX
            cell.alignment = tpl.WRAP_LEFT if c in (2, 4, 11) else tpl.WRAP_CENTER
    last = 2 + len(order)
    fit_rows(ws, 3, {c: w for c, (_h, w) in enumerate(headers, 1)})
    ws.freeze_panes = "A3"
    end = get_column_letter(len(headers))
    ws.auto_filter.ref = f"A2:{end}{last}"
    tpl.setup_print(ws, header_rows=(2, 2), area=f"A1:{end}{last}")
    return atomic_save(wb, path)
