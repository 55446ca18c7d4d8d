"""Ledger workbooks (xlsx, xlsm, xls, xlsb, ods) read with python-calamine."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from ..display import file_name, has_escapes
from ..errors import UnreadableInput
from ..limits import LimitExceeded, check_sheet, inspect
from ..model import Ledger, Origin
from ..problems import Problem
from ..text import cell_text
from .grid import find_header, parse_cells

log = logging.getLogger(__name__)

META_SHEET = "_xltools"
PREFERRED_SHEETS = ("工作台账", "台账")


def calamine(path: Path):
    """``CalamineWorkbook`` of ``path``; a name of GBK bytes too (calamine takes only UTF-8 paths: given the bytes)."""
    from python_calamine import CalamineWorkbook

    if has_escapes(str(path)):
        with open(path, "rb") as f:
            return CalamineWorkbook.from_filelike(io.BytesIO(f.read()))
    return CalamineWorkbook.from_path(str(path))


def open_workbook(path: Path):
    if path.stat().st_size == 0:
        raise UnreadableInput(f"{path}: empty file (0 bytes)", f"文件是空的（0 字节）：{file_name(path)}，请重新报送")
    inspect(path)  # size and zip directory, before calamine unpacks anything
    try:
        return calamine(path)
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        if type(exc).__name__ == "PasswordError":
            zh = f"工作簿设置了打开密码，无法读取：{file_name(path)}（请取消密码后重新报送）"
        else:
            zh = f"无法读取工作簿：{file_name(path)}（文件损坏或格式不符）"
        raise UnreadableInput(f"{path}: cannot read workbook ({type(exc).__name__}: {exc})", zh) from exc


def sheet_values(workbook, name: str, path: Path | None = None) -> list[list[str]]:
    sheet = workbook.get_sheet_by_name(name)
    end = sheet.end  # (last row, last column), 0-based; python-calamine's total_height is this last row
    if end is not None:
        check_sheet(path or Path("?"), name, end[0] + 1, end[1] + 1)
    # Most values are text or empty: test the type inline rather than call cell_text for each.
    return [[v if type(v) is str else cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]


def read_meta(workbook) -> dict[str, str]:
    if META_SHEET not in workbook.sheet_names:
        return {}
    return {r[0]: r[1] for r in sheet_values(workbook, META_SHEET) if len(r) >= 2 and r[0]}


def extract_workbook(path: Path) -> Ledger:
    workbook = open_workbook(path)
    charts = {s.name for s in getattr(workbook, "sheets_metadata", []) if "Chart" in str(s.typ)}
    return extract_sheets(workbook.sheet_names, lambda name: sheet_values(workbook, name, path), file_name(path),
                          lambda: read_meta(workbook), skip=charts)


def extract_sheets(names, values_of, file: str, meta_of=dict, skip=frozenset()) -> Ledger:
    """The ledger in the first sheet (工作台账 preferred) whose first rows hold a ledger header.

    ``values_of(name)`` gives a sheet's cells as text (:func:`cell_text`), anchored at A1; ``meta_of()`` the
    ``_xltools`` key/value pairs. The file reader and the add-in (a live workbook read through xlwings) both
    come here, so a ledger reads the same from disk and from Excel. ``skip``: sheets without cells (charts).
    """
    names = [n for n in names if n != META_SHEET]
    names.sort(key=lambda n: n not in PREFERRED_SHEETS)
    damaged = []
    for name in names:
        try:
            values = values_of(name)
        except LimitExceeded:
            raise
        except Exception as exc:  # chart sheets and damaged sheets have no cells to read
            if name not in skip:
                damaged.append(name)
            log.info("%s: sheet %r not read (%s: %s)", file, name, type(exc).__name__, exc)
            continue
        if find_header(values, 30) is None:
            continue
        ledger = parse_cells(values, lambda i: Origin(file, name, i + 1), file)  # noqa: B023 - used at once
        meta = meta_of()
        ledger.meta = meta
        if meta.get("region"):
            ledger.region_from = "meta"
        for key in ("region", "level", "city"):
            if meta.get(key):
                setattr(ledger, key, meta[key])
        ledger.numbering = meta.get("task_keys") or None
        return ledger
    ledger = Ledger(source=file)
    if damaged:
        ledger.problems.append(Problem(
            "unreadable-sheet", f"工作表“{'”“'.join(damaged)}”无法读取（文件损坏或内容不完整）", severity="error",
            file=file, suggestion="请用 Excel 或 WPS 打开后重新保存，再报送"))
    ledger.problems.append(Problem(
        "missing-header", "工作簿中没有含台账表头（序号、重点任务、工作内容、牵头单位、责任单位）的工作表",
        severity="error", file=file))
    return ledger
