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

from .carry import NO_PLACE
from .display import safe_name
from .errors import OutputError, XltoolsError, os_error_zh
from .limits import check_memory
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
    uncovered: int = 0  # city tasks it neither covers nor says 不涉及 of (blank rows and deleted rows included)
    short: int = 0
    unmapped: int = 0
    stale: bool = False  # ``path`` is an earlier run's feedback this run did not write again
    blank: bool = False  # the file came back with nothing of the district's in it


@dataclass
class Cover:
    """What a feedback workbook's cover (反馈说明) says: whose file, its batch and deadline, what to fix."""

    city: str
    region: str
    file: str
    version: int
    meta: dict  # the returned form's metadata (batch, deadline), empty for other ledgers
    counts: dict[str, int]
    blank: bool
    uncovered: list[int]
    not_applicable: list[int]
    short: int
    unmapped: int
    tasks: int


NAME_BYTES = 240  # a feedback workbook's name at most (255 on every common file system; room for a temp suffix)


def feedback_name(rec: Received) -> str:
    """``{region}_反馈_{original stem}.xlsx`` (.xlsm kept, so the district's macros come back with it); a feedback
    workbook sent back keeps its name."""
    suffix = ".xlsm" if Path(rec.name).suffix.lower() == ".xlsm" else ".xlsx"
    stem = Path(rec.name).stem
    name = stem if stem.startswith(f"{rec.region}{MARK}") else f"{rec.region}{MARK}{stem}"  # feedback sent back
    name = safe_name(name)
    if len((name + suffix).encode()) > NAME_BYTES:  # file systems take 255 bytes: a long name is cut, marked …
        while len((name + "…" + suffix).encode()) > NAME_BYTES:
            name = name[:-1]
        name += "…"
    return name + suffix


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
    uncovered = rollup.uncovered()
    na: dict[str, set[int]] = {}
    for seq, by in rollup.not_applicable().items():
        for region in by:
            na.setdefault(region, set()).add(seq)
    items: list[FeedbackItem] = []
    jobs: list[tuple] = []  # write_marked's arguments, one workbook each
    job_items: list[FeedbackItem] = []
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
        gaps = uncovered_tasks(rollup, rec, mine, na.get(rec.region, set()))
        short = short_targets(rollup, rec, mine)
        rows = unmapped_rows(rec, unmapped.get((rec.region, rec.name), []))
        problems = list(rec.problems) + gaps + short + rows
        item.path = out
        item.counts = {s: sum(p.severity == s for p in problems) for s in ("error", "warning", "info")}
        item.uncovered = len(uncovered.get(rec.region, ()))
        item.short = len(short)
        item.unmapped = len(rows)
        item.blank = rec.blank
        if rec.blank:
            item.reason = "报送的是空白表，未填写任何内容"
        cover = Cover(
            city=rollup.city.region or "", region=rec.region, file=rec.name, version=rec.version,
            meta=dict(rec.ledger.meta), counts=item.counts, blank=rec.blank,
            uncovered=uncovered.get(rec.region, []),
            not_applicable=sorted(na.get(rec.region, ())),
            short=len(short), unmapped=len(rows), tasks=sum(1 for r in rollup.city.rows if r.seq is not None))
        jobs.append((rec.path, out, rec.ledger, problems, rec.region, rec.name, rec.sha256, cover,
                     rollup.city, rollup.city_sha256 or "", rollup.created))
        job_items.append(item)
    written = []
    for item, done in zip(job_items, _write_all(jobs, directory, workers), strict=True):
        if isinstance(done, Path):
            written.append(done)
        else:  # one district's workbook could not be written: the others are, and the manifest says why
            item.path, item.reason = None, f"生成反馈失败：{done}"
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
    """One feedback workbook: the district's own file marked (xlsx/xlsm), its form rebuilt with its values when
    it sent a distributed form in another format, else a ledger filled from it; then the cover and 问题清单."""
    from . import template as tpl
    from .layout import grow_rows
    from .marks import PROBLEMS_SHEET
    from .validation import marked_workbook
    from .xlio import atomic_save

    source, out, ledger, problems, region, name, sha256, cover, city, city_sha256, created = job
    wb, placed = marked_workbook(source, out, ledger, problems, region=region, directory=directory or _DIRECTORY,
                                 marks_only=True, record=True, city=city, city_sha256=city_sha256,
                                 meta={"filled_at": "", "source": name, "source_sha256": sha256})
    # The district's rows as tall as what it typed in them needs: its form's rows were sized for the form.
    check_memory(name)  # the workbook is in memory now: its size is known
    sheet = next((i.origin.sheet for i in (*ledger.rows, *ledger.goals) if i.origin.sheet), None)
    sheet = sheet if sheet in wb.sheetnames else "工作台账" if "工作台账" in wb.sheetnames else None
    if sheet is not None:
        grow_rows(wb[sheet], 2, wb[sheet].max_row)
    write_cover(wb, cover, placed)
    tpl.name_footers(wb)
    _first(wb, [COVER_SHEET, PROBLEMS_SHEET])
    return atomic_save(wb, out, when=created) or out  # the rollup's time: made again, the same bytes


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
        return [_write_safely(job, directory) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=start_context(), initializer=_init_worker,
                             initargs=(directory, os.getpid())) as pool:
        return list(pool.map(_write_safely, jobs, chunksize=4))


def _write_safely(job: tuple, directory=None) -> Path | str:
    """``_write_one``, or what stopped it in Chinese: one district's failure never costs the others theirs."""
    try:
        return _write_one(job, directory)
    except XltoolsError as exc:
        log.warning("feedback for %s not written: %s", job[5], exc)
        return exc.message_zh
    except OSError as exc:
        log.warning("feedback for %s not written: %s", job[5], exc)
        return os_error_zh(exc)
    except Exception:  # a damaged workbook openpyxl cannot take: named, not the end of everyone's feedback
        log.exception("feedback for %s not written", job[5])
        return "该文件无法生成标注副本（文件结构异常），请查看汇总表“问题清单”"


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


def uncovered_tasks(rollup: Rollup, rec: Received, covered: set[int], na: set[int] | None = None) -> list[Problem]:
    """A warning for each city task none of the district's rows serves (nor says 不涉及 of), but those a returned
    form reports at their place; none for a free-form file no row of which maps to any city task (it is not a
    ledger of this plan: 60 warnings would bury the one that matters). ``na``: the tasks it says 不涉及 of (found
    here when not given: once per rollup is cheaper for many districts)."""
    from .returned import is_distributed

    form = is_distributed(rec.ledger)
    if not covered and not form:
        return []
    if na is None:
        na = {seq for seq, by in rollup.not_applicable().items() if rec.region in by}
    problems, seen = [], _reported_uncovered(rollup, rec) | na
    advice = ("本区承担的，请在该任务行填写；不承担的，完成情况选“不涉及”，并在工作内容中写明原因" if form else
              "本区承担的请补充；不承担的，请注明“不涉及”及原因")
    for row in rollup.city.rows:
        if row.seq is None or row.seq in covered or row.seq in seen:
            continue
        seen.add(row.seq)
        problems.append(Problem(
            "feedback-uncovered-task", f"未覆盖市级任务{row.seq}“{row.task}”", severity="warning", file=rec.name,
            suggestion=advice))
    return problems


def _reported_uncovered(rollup: Rollup, rec: Received) -> set[int]:
    """City tasks a returned distributed workbook already reports at their place, as uncovered: rows left
    blank (``returned-blank-row``, at the row) and rows deleted (``returned-row-deleted``, naming the task)."""
    seqs = {int(p.value) for p in rec.problems
            if p.type == "returned-row-deleted" and p.value and str(p.value).isdigit()}
    keyed = [row.extra.get("任务键", "") for row, (_seqs, _c, method) in zip(rec.rows, rec.row_maps)
             if method == "blank"]
    seqs.update(int(k) for k in keyed if k.isdigit())
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
            if t.city_seq not in covered:
                continue
            where = f"市级任务{t.city_seq}“{t.city_task}”"
        total = t.district_sum or 0
        when = "每年" if t.per_year else (f"{t.year}年" if t.year else "")
        if t.city_task.startswith(when):
            when = ""  # 2025年工作目标 names its year already
        others = t.other.get(rec.region)
        figure = _format_amount(mine, t.unit) if mine is not None else \
            f"报“{'；'.join(others)}”（指标不同，未计入）" if others else "未填写数值"
        problems.append(Problem(
            "feedback-target-short",
            f"{where}的目标“{when}{t.metric}”：市级{_format_amount(t.city_value, t.unit)}，各区县合计"
            f"{_format_amount(total, t.unit)}，本区{figure}，尚差{_format_amount(t.city_value - total, t.unit)}",
            severity="info", file=rec.name, value=figure if mine is not None else None,
            suggestion="请核实本区目标能否提高，或说明原因" if mine is not None else
            f"请按市级指标“{t.metric}”在目标列写明本区的目标数值" if others else "请在工作内容或目标中写明本区的目标数值"))
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
    return atomic_save(wb, path, when=rollup.created)


# ------------------------------------------------------------------------------------------------- cover


COVER_SHEET = "反馈说明"
COVER_KINDS = 8  # kinds of problem named on the cover; the rest are on 问题清单


def write_cover(wb, cover: Cover, problems: list[Problem]) -> None:
    """The feedback's first sheet: whose file this is, its batch and deadline, what was found and how many of
    each, the kinds of problem to fix first, and how to correct and send the workbook back. An earlier run's
    cover (a feedback workbook sent back) is replaced."""
    from openpyxl.styles import Alignment

    from . import template as tpl
    from .layout import fit_rows, needed_height, text_lines
    from .marks import PROBLEMS_SHEET
    from .printing import fit_widths
    from .problems import SEVERITY_ZH, problem_overview

    if COVER_SHEET in wb.sheetnames:
        del wb[COVER_SHEET]
    ws = wb.create_sheet(COVER_SHEET, 0)
    ws.sheet_view.showGridLines = False
    widths = fit_widths([18, 60], {1: 40}, landscape=False)
    for c, w in enumerate(widths, 1):
        ws.column_dimensions[chr(64 + c)].width = w
    meta = cover.meta
    deadline = meta.get("deadline", "")
    when = _date_words(deadline)
    # (Nothing here depends on when the file came or the run was made: the same bytes, the same feedback.)
    lines: list[tuple[str, str]] = [("报送文件", f"{cover.file}（第{cover.version}版）")]
    if meta.get("batch"):
        lines.append(("分发批次", meta["batch"]))
    if when:
        lines.append(("报送截止", when))
    counts = cover.counts
    lines.append(("问题", f"错误 {counts.get('error', 0)} 条，警告 {counts.get('warning', 0)} 条，提示 "
                         f"{counts.get('info', 0)} 条。问题单元格已按严重程度标色（红色为错误，黄色为警告，蓝色为提示），"
                         f"批注中写明问题和建议；全部问题见“{PROBLEMS_SHEET}”表，点单元格地址可跳转到该单元格。"))
    if cover.blank:
        lines.append(("空白表", f"本区报送的表中没有填写任何内容，{cover.tasks}项市级任务均视为未覆盖。请填写后重新报送。"))
    lines.append(("未覆盖的市级任务", f"{len(cover.uncovered)} 项" + (
        f"：任务{_seqs(cover.uncovered)}（未填写、被删除或没有对应的行）" if cover.uncovered else "")))
    if cover.not_applicable:
        lines.append(("不涉及的市级任务", f"{len(cover.not_applicable)} 项：任务{_seqs(cover.not_applicable)}"))
    if cover.short:
        lines.append(("目标差距", f"{cover.short} 项市级目标各区县合计尚未达到，见“{PROBLEMS_SHEET}”表"))
    if cover.unmapped:
        lines.append(("未对应的行", f"{cover.unmapped} 行未能对应到市级任务，见“{PROBLEMS_SHEET}”表"))
    title = f"{cover.city}{cover.region}工作台账反馈"
    put(ws, 1, 1, title).font = tpl.font(tpl.HEI, 16, bold=True)
    ws.merge_cells("A1:B1")
    ws.row_dimensions[1].height = 32
    put(ws, 2, 1, f"{cover.city}汇总各区县报送的工作台账后，就本区报送的文件反馈如下。请改正后重新报送。").font = \
        tpl.font(tpl.FANG, 11)
    ws.merge_cells("A2:B2")
    label, body = tpl.font(tpl.HEI, 11, bold=True), tpl.font(tpl.FANG, 11)
    top = Alignment(wrap_text=True, vertical="top")
    r = 3
    for name, text in lines:
        r += 1
        put(ws, r, 1, name).font = label
        cell = put(ws, r, 2, text)
        cell.font, cell.alignment = body, top
        ws.cell(r, 1).alignment, ws.cell(r, 1).border, cell.border = top, tpl.BOX, tpl.BOX
    # The kinds of problem, the worst first: what to fix first.
    kinds = problem_overview(problems, lambda p: None)
    if kinds:
        r += 2
        put(ws, r, 1, "主要问题").font = tpl.font(tpl.HEI, 12, bold=True)
        for kind in kinds[:COVER_KINDS]:
            r += 1
            put(ws, r, 1, f"{SEVERITY_ZH[kind.severity]}·{kind.count}处").font = body
            put(ws, r, 2, kind.title).font = body
            for c in (1, 2):
                ws.cell(r, c).border, ws.cell(r, c).alignment = tpl.BOX, top
        if len(kinds) > COVER_KINDS:
            r += 1
            put(ws, r, 2, f"……另有{len(kinds) - COVER_KINDS}类，见“{PROBLEMS_SHEET}”表").font = body
    r += 2
    put(ws, r, 1, "如何改正和报送").font = tpl.font(tpl.HEI, 12, bold=True)
    steps = [
        "在“工作台账”表中逐一改正标色的单元格（选中单元格可看到批注）；颜色和批注可以保留，重新汇总时会再次检查。",
        "本区不承担的市级任务，不要删除该行：完成情况选“不涉及”，并在工作内容中写明原因。",
        "灰色的市级任务和隐藏的工作表、隐藏的“任务键”列请勿改动，汇总时靠它们识别每一行。",
        (f"改正后请于{when}前" if when else "改正后请按通知要求") + f"将本工作簿报送{cover.city}"
        "（保留 .xlsx 格式和文件名中的地区名称）；本表和“问题清单”表不必删除。",
    ]
    for i, step in enumerate(steps, 1):
        r += 1
        cell = put(ws, r, 1, f"{i}. {step}")
        cell.font, cell.alignment = body, top
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
    leftovers = [p for p in problems if p.type == NO_PLACE]
    if leftovers:
        r += 2
        put(ws, r, 1, "未能放回表中的内容").font = tpl.font(tpl.HEI, 12, bold=True)
        r += 1
        note = put(ws, r, 1, "以下是本区报送文件中的内容，反馈表中没有对应的位置，请核对后填入合适的单元格：")
        note.font, note.alignment = body, top
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        for p in leftovers:
            r += 1
            put(ws, r, 1, p.message.split("的内容", 1)[0]).font = body
            cell = put(ws, r, 2, p.value)
            cell.font, cell.alignment = body, top
    # Heights: merged lines are as wide as both columns.
    fit_rows(ws, 3, {1: widths[0], 2: widths[1]})
    for merged in ws.merged_cells.ranges:
        if merged.min_row > 2:
            text = str(ws.cell(merged.min_row, 1).value or "")
            ws.row_dimensions[merged.min_row].height = needed_height(text_lines(text, sum(widths) * 7, 11), 11)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    tpl.setup_print(ws, header_rows=(1, 1), area=f"A1:B{r}", landscape=False)
    ws.print_title_rows = None
    ws.oddFooter.center.text = f"{COVER_SHEET}　第&P页 共&N页"
    ws.sheet_properties.tabColor = "1F4E79"


def _seqs(seqs: list[int], limit: int = 40) -> str:
    shown = "、".join(map(str, seqs[:limit]))
    return shown + (f"……共{len(seqs)}项" if len(seqs) > limit else "")


def _date_words(text: str) -> str:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text or "")
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日" if m else ""


def _first(wb, names: list[str]) -> None:
    """The named sheets first, in that order, and the first of them the one the workbook opens on."""
    present = [wb[n] for n in names if n in wb.sheetnames]
    rest = [ws for ws in wb._sheets if ws not in present]
    wb._sheets = [*present, *rest]
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is present[0] if present else False
