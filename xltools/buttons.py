"""What the ribbon's workbook buttons do, for every door: a workbook :class:`~xltools.patch.Snapshot` in, a
:class:`~xltools.patch.Patch` out.

校验单位名称, 校验目标, 清除标注, 应用安全修正 and 查询所选单位 decide everything here — the checks ``xltools
validate`` makes, which cells to mark and how, the 问题清单 and 修正记录 rows, the clerk's message — and the Excel
add-in (xlwings), the WPS add-in (its JS API, through the desk) and any later door only apply the patch. The
functions have the names of the add-in's handlers.
"""

from __future__ import annotations

from pathlib import Path

from .errors import UnreadableInput, XltoolsError
from .model import Ledger
from .patch import MARKS_SHEET, PROBLEMS_SHEET, Patch, Snapshot, Table, clear_patch, mark_patch
from .problems import Problem
from .units.directory import Directory
from .validation import FIXES_COLUMNS, FIXES_SHEET

KINDS_ZH = {"units": "单位名称", "targets": "目标"}
OURS = {PROBLEMS_SHEET, FIXES_SHEET, MARKS_SHEET}  # sheets xltools adds: never read as the ledger


def file_snapshot(path: Path) -> Snapshot:
    """A workbook file as the checks see it: its values read as ``xltools validate`` reads them (calamine), each
    cell's look and merged ranges from openpyxl."""
    from .display import file_name
    from .marks import FileSnapshot
    from .readers.workbook import open_workbook, sheet_values
    from .xlio import load_editable

    path = Path(path)
    reader = open_workbook(path)
    return FileSnapshot(load_editable(path), file_name(path), lambda sheet: sheet_values(reader, sheet, path))


def read_ledger(snapshot: Snapshot, region: str | None = None) -> Ledger:
    """The workbook as a Ledger, read from its values by the same reader as a file's."""
    from .readers import settle
    from .readers.workbook import META_SHEET, extract_sheets

    def meta() -> dict[str, str]:
        rows = snapshot.values(META_SHEET) if META_SHEET in snapshot.sheet_names else []
        return {r[0]: r[1] for r in rows if len(r) >= 2 and r[0]}

    names = [n for n in snapshot.sheet_names if n not in OURS]
    ledger = extract_sheets(names, snapshot.values, snapshot.name, meta)
    return settle(ledger, snapshot.name, region, hint="请在台账标题中写明地区（如“章丘区……工作台账”）")


def ledger_or_stop(snapshot: Snapshot) -> Ledger:
    ledger = read_ledger(snapshot)
    if not ledger.rows:
        raise UnreadableInput(
            f"{snapshot.name}: no ledger header in any sheet",
            f"当前工作簿“{snapshot.name}”中没有找到台账表头（序号、重点任务、工作内容、牵头单位、责任单位）。"
            "请在台账工作簿中点击此按钮。")
    return ledger


def check(snapshot: Snapshot, directory: Directory):
    """The checks ``xltools validate`` makes, on the workbook: (ledger, report, fixes)."""
    from .validation import check_ledger

    ledger = ledger_or_stop(snapshot)
    report, fixes, _learned = check_ledger(ledger, directory)
    return ledger, report, fixes


def kind_of(p: Problem) -> str:
    """Which button's problem: 校验目标's (target-…) or 校验单位名称's (the rest)."""
    return "targets" if p.type.startswith("target-") else "units"


def _mark(snapshot: Snapshot, directory: Directory, kind: str) -> Patch:
    """This kind's problems replace its earlier ones; marks and 问题清单 follow."""
    ledger, report, _fixes = check(snapshot, directory)
    found = [p for p in report if kind_of(p) == kind]
    patch = mark_patch(snapshot, found, kind=kind, region=ledger.region)
    counts = {s: sum(p.severity == s for p in found) for s in ("error", "warning", "info")}
    if found:
        patch.message = (f"{KINDS_ZH[kind]}校验完成：错误 {counts['error']} 条，警告 {counts['warning']} 条，"
                         f"提示 {counts['info']} 条。\n问题单元格已着色并加批注，详见“{PROBLEMS_SHEET}”表"
                         "（点单元格地址可跳转）。\n改正后可再次校验；点“清除标注”可去掉标注。")
    else:
        patch.message = f"{KINDS_ZH[kind]}校验完成：未发现问题。"
    return patch


def check_units(snapshot: Snapshot, directory: Directory) -> Patch:
    """校验单位名称: unit names (and the ledger's own problems) marked at their cells and listed."""
    return _mark(snapshot, directory, "units")


def check_targets(snapshot: Snapshot, directory: Directory) -> Patch:
    """校验目标: target formats marked at their cells and listed."""
    return _mark(snapshot, directory, "targets")


def clear_marks(snapshot: Snapshot, directory: Directory | None = None) -> Patch:
    """清除标注: the cells xltools marked get their fill and note back; 问题清单 goes; nothing else changes."""
    patch = clear_patch(snapshot)
    if not patch.restore and not patch.delete:
        patch.message = "当前工作簿中没有台账工具的标注。"
    else:
        patch.message = f"已清除标注：{len(patch.restore)} 个单元格恢复原样，已删除“{PROBLEMS_SHEET}”表。"
    return patch


def apply_fixes(snapshot: Snapshot, directory: Directory) -> Patch:
    """应用安全修正: the fixes ``validate --fix`` makes, in the cells they name, listed in 修正记录."""
    from .patch import Write

    _ledger, _report, fixes = check(snapshot, directory)
    fixes = [f for f in fixes if f.sheet and f.cell]
    if not fixes:
        return Patch(message="没有可以安全修正的单元格（简称、分隔符、断行、连写）。其他问题请人工核对。")
    rows = [[h for h, _w in FIXES_COLUMNS]] + [list(f.row()) for f in fixes]
    table = Table(FIXES_SHEET, rows, [w for _h, w in FIXES_COLUMNS], numeric=[3, 4])
    shown = "\n".join(f.describe() for f in fixes[:15]) + ("\n……" if len(fixes) > 15 else "")
    return Patch(writes=[Write(f.sheet, f.cell, f.new) for f in fixes], tables=[table],
                 message=f"已安全修正 {len(fixes)} 个单元格（明细见“{FIXES_SHEET}”表）：\n{shown}\n\n"
                         "修正后的内容尚未保存；请核对后保存，并再次点“校验单位名称”更新标注。")


def region_of(snapshot: Snapshot) -> str | None:
    """The workbook's region: its ledger's, else its file name's."""
    from .text import parse_region

    try:
        region = read_ledger(snapshot).region
    except XltoolsError:
        region = None
    return region or parse_region(Path(snapshot.name).stem)[0]


def lookup_unit(snapshot: Snapshot, directory: Directory) -> Patch:
    """查询所选单位: each selected cell's names as ``xltools units check`` classifies them (a message only)."""
    from .units import check_name, describe_check

    names = [str(v).strip() for row in snapshot.selection for v in row if v not in (None, "") and str(v).strip()]
    if not names:
        return Patch(message="请先选中写有单位名称的单元格，再点“查询所选单位”。")
    region = region_of(snapshot)
    if not region:
        return Patch(message="无法判断当前台账属于哪个地区：请在台账标题中写明地区（如“章丘区……工作台账”）后再查询。")
    lines = [describe_check(check_name(name, region, directory)) for name in names[:20]]
    more = f"\n……（共选中 {len(names)} 个单元格，只列出前 20 个）" if len(names) > 20 else ""
    return Patch(message=f"{region}单位名录查询：\n" + "\n".join(lines) + more)


# button tag → what it does to a workbook; the other buttons make files (their handlers call the CLI's functions)
ACTIONS = {"check_units": check_units, "check_targets": check_targets, "clear_marks": clear_marks,
           "apply_fixes": apply_fixes, "lookup_unit": lookup_unit}

__all__ = ["ACTIONS", "KINDS_ZH", "apply_fixes", "check", "check_targets", "check_units", "clear_marks",
           "file_snapshot", "kind_of", "ledger_or_stop", "lookup_unit", "read_ledger", "region_of"]
