"""The ledger template: build it from code, and find its places in any restyled copy.

Everything the code needs is found through defined names (``xlt_*``) and header text, never through
fixed addresses, so a person may restyle the template in Excel or WPS: move the header down, change
fonts, widths, fills or row heights, add columns. ``python -m xltools.template OUT`` writes a fresh one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .errors import TemplateError
from .printing import DEFAULT_FONT, FOOTER, MARGIN_IN
from .xlio import atomic_save

SHEET = "工作台账"
NOTES_SHEET = "说明"
UNITS_SHEET = "单位名录"
META_SHEET = "_xltools"

FORMAT = "xltools-ledger"
FORMAT_VERSION = "1"
TEMPLATE_VERSION = "1.0"

N_TITLE = "xlt_title"
N_SUBTITLE = "xlt_subtitle"
N_HEADER = "xlt_header"
N_DATA = "xlt_data"
N_UNITS = "xlt_units"
N_META = "xlt_meta"
PROTO_NAMES = {
    "action": "xlt_proto_action",
    "field": "xlt_proto_field",
    "goal": "xlt_proto_goal",
    "task": "xlt_proto_task",
}
PROTO_ZH = {"action": "行动标题行", "field": "领域标题行", "goal": "目标行", "task": "任务行"}

STATUS_CHOICES = ("已完成", "推进中", "未启动", "滞后")

# Fonts as named in Chinese government documents; Excel/WPS on Windows have all three.
# charset 134 (GB2312) lets Excel/WPS pick a Chinese substitute when the exact face is missing.
HEI, FANG, KAI = "黑体", "仿宋", "楷体"
FONT_FALLBACKS = {
    HEI: "方正小标宋简体（标题可选）、SimHei、Noto Sans CJK SC",
    FANG: "仿宋_GB2312、FangSong、Noto Serif CJK SC",
    KAI: "楷体_GB2312、KaiTi、AR PL UKai CN",
}


@dataclass(frozen=True)
class Column:
    """A ledger column: its field id, the header text written, other header texts accepted."""

    field: str
    header: str
    width: float
    required: bool = True
    reporting: bool = False  # typed by the clerk, carried over on re-fill
    aliases: tuple[str, ...] = ()


# The visible columns add up to 145 units: landscape A4 one page wide prints them at ~95%, body text (12pt)
# at ≥ 11pt and unit names (11pt) at ≥ 10pt (xltools.printing). 164 units had printed at 80%.
COLUMNS = (
    Column("seq", "序号", 5),
    Column("task", "重点任务", 12),
    Column("content", "工作内容", 40, aliases=("具体任务", "主要内容", "工作任务", "具体工作")),
    # 17 characters wide at 11pt: an 8-character unit name (区住房城乡建设局) fits on one line.
    Column("lead_units", "牵头单位", 17, aliases=("牵头部门",)),
    Column("responsible_units", "责任单位", 17, aliases=("配合单位", "责任部门")),
    Column("target", "目标", 16, required=False, reporting=True, aliases=("目标任务", "工作目标")),
    Column("deadline", "完成时限", 10, required=False, reporting=True, aliases=("完成时间", "时间节点")),
    Column("progress", "进展情况", 15, required=False, reporting=True, aliases=("工作进展", "推进情况")),
    Column("status", "完成情况", 10, required=False, reporting=True, aliases=("完成状态",)),
    Column("key", "任务键", 10),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
PLAN_FIELDS = ("seq", "task", "content", "lead_units", "responsible_units")

UNIT_HEADERS = (("地区", 10), ("规范名称", 28), ("别名", 36), ("类型", 10), ("市级对应单位", 24), ("备注", 24))


def norm_header(text) -> str:
    """Header text without any whitespace (clerks type 序　号, 工作\\n内容)."""
    return "".join(str(text or "").split())


# --------------------------------------------------------------------------------------------- locate


@dataclass
class RowStyle:
    """A prototype row's look: per-column cell styles, minimum height and horizontal merges."""

    row: int
    styles: dict[int, object]
    height: float | None
    spans: list[tuple[int, int]]


@dataclass
class LedgerTemplate:
    """Where things are in a ledger workbook (a blank template or a filled ledger)."""

    workbook: object
    sheet: Worksheet
    title: tuple[int, int]  # (row, col) of the title cell
    subtitle: tuple[int, int, int, int] | None  # bounds (min_col, min_row, max_col, max_row)
    header_rows: tuple[int, int]  # first and last header row
    first_col: int
    last_col: int
    columns: dict[str, int]  # field -> column number
    extra_columns: dict[str, int]  # headers a person added -> column number (carried like reporting columns)
    protos: dict[str, int]  # kind -> row; a filled ledger points them at its first row of each kind
    data: tuple[int, int]  # rows the data occupies (the prototype rows in a blank template)
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def header_row(self) -> int:
        return self.header_rows[1]

    @property
    def filled(self) -> bool:
        """True for a ledger written by fill (its metadata says so), False for a blank template."""
        return self.meta.get("kind") == "ledger"

    @property
    def reporting_columns(self) -> dict[str, int]:
        """Header text -> column for every clerk-typed column (reporting columns and added ones)."""
        cols = {COLUMN_BY_FIELD[f].header: c for f, c in self.columns.items() if COLUMN_BY_FIELD[f].reporting}
        cols.update(self.extra_columns)
        return cols

    def row_style(self, kind: str) -> RowStyle | None:
        """The look of prototype ``kind``; None when the workbook has no such prototype."""
        row = self.protos.get(kind)
        if row is None:
            return None
        ws = self.sheet
        styles = {c: copy(ws.cell(row, c)._style) for c in range(self.first_col, self.last_col + 1)}
        spans = [
            (m.min_col, m.max_col)
            for m in ws.merged_cells.ranges
            if m.min_row == row and m.max_col > m.min_col
        ]
        height = ws.row_dimensions[row].height
        stored = self.meta.get(f"height.{kind}")
        if self.filled and stored:
            # A filled ledger's rows carry estimated heights; the prototype minimum was kept in metadata.
            height = float(stored)
        return RowStyle(row, styles, height, sorted(spans))


def defined_range(workbook, name: str) -> tuple[Worksheet, tuple[int, int, int, int]] | None:
    """The sheet and bounds (min_col, min_row, max_col, max_row) a defined name points at, or None."""
    dn = workbook.defined_names.get(name)
    if dn is None:
        for ws in workbook.worksheets:
            if name in ws.defined_names:
                dn = ws.defined_names[name]
                break
    if dn is None:
        return None
    try:
        sheet_title, ref = next(iter(dn.destinations))
        ws = workbook[sheet_title]
        bounds = range_boundaries(ref.replace("$", ""))
    except (StopIteration, KeyError, ValueError, TypeError):
        return None  # #REF! after a person deleted the rows, or a formula instead of a range
    if None in bounds:
        return None
    return ws, bounds


def set_name(workbook, name: str, ws: Worksheet, min_col: int, min_row: int, max_col: int, max_row: int):
    """Point a workbook-level defined name at a range (replacing a sheet-level one of the same name)."""
    for sheet in workbook.worksheets:
        if name in sheet.defined_names:
            del sheet.defined_names[name]
    ref = f"${get_column_letter(min_col)}${min_row}:${get_column_letter(max_col)}${max_row}"
    workbook.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(ws.title)}!{ref}")


def remove_name(workbook, name: str) -> None:
    workbook.defined_names.pop(name, None)
    for sheet in workbook.worksheets:
        if name in sheet.defined_names:
            del sheet.defined_names[name]


def _missing_name(name: str, what_zh: str) -> TemplateError:
    return TemplateError(
        f"template has no usable defined name {name!r} ({what_zh})",
        f"模板缺少定义名称“{name}”（{what_zh}）。请在 Excel“公式→名称管理器”中新建该名称并指向{what_zh}，"
        f"或运行 python -m xltools.template 重新生成模板。",
    )


def read_meta(workbook) -> dict[str, str]:
    """Key/value pairs of the hidden metadata sheet (empty when a person removed it)."""
    found = defined_range(workbook, N_META)
    ws = found[0] if found else (workbook[META_SHEET] if META_SHEET in workbook.sheetnames else None)
    if ws is None:
        return {}
    meta = {}
    for key, value, *_ in ws.iter_rows(min_col=1, max_col=2, values_only=True):
        if key not in (None, ""):
            meta[str(key)] = "" if value is None else str(value)
    return meta


def locate(workbook) -> LedgerTemplate:
    """Find title, header columns, prototype and data rows; raise TemplateError naming what is missing."""
    found = defined_range(workbook, N_HEADER)
    if found is None:
        raise _missing_name(N_HEADER, "表头行")
    ws, (first_col, header_top, last_col, header_row) = found

    columns: dict[str, int] = {}
    extra: dict[str, int] = {}
    by_text = {}
    for col in COLUMNS:
        for text in (col.header, *col.aliases):
            by_text[text] = col.field
    for c in range(first_col, last_col + 1):
        # Two-row headers put the text in either row; take the lowest non-empty one.
        text = ""
        for r in range(header_row, header_top - 1, -1):
            text = norm_header(ws.cell(r, c).value)
            if text:
                break
        if not text:
            continue
        fld = by_text.get(text)
        if fld and fld not in columns:
            columns[fld] = c
        elif not fld:
            extra[text] = c
    for col in COLUMNS:
        if col.required and col.field not in columns:
            raise TemplateError(
                f"template header ({N_HEADER}) has no column {col.header!r}",
                f"模板表头（定义名称“{N_HEADER}”所指的行）中找不到“{col.header}”列。"
                f"请补上该列标题，或检查“{N_HEADER}”是否指向表头行。",
            )

    title = defined_range(workbook, N_TITLE)
    if title is None or title[0] is not ws:
        raise _missing_name(N_TITLE, f"“{ws.title}”表的标题单元格")
    subtitle = defined_range(workbook, N_SUBTITLE)

    protos: dict[str, int] = {}
    for kind, name in PROTO_NAMES.items():
        got = defined_range(workbook, name)
        if got is not None and got[0] is ws and got[1][1] > header_row:
            protos[kind] = got[1][1]
    if "task" not in protos:
        raise _missing_name(PROTO_NAMES["task"], f"表头下方的{PROTO_ZH['task']}（样式原型）")

    meta = read_meta(workbook)
    data = defined_range(workbook, N_DATA)
    if data is not None and data[0] is ws and data[1][1] > header_row:
        rows = (data[1][1], data[1][3])
    elif meta.get("kind") == "ledger":
        # A filled ledger that lost xlt_data: its data ends at the last row with a 任务键.
        key = columns["key"]
        last = max((r for r in range(header_row + 1, ws.max_row + 1) if ws.cell(r, key).value), default=0)
        rows = (min(protos.values()), max(last, *protos.values()))
    else:
        rows = (min(protos.values()), max(protos.values()))

    return LedgerTemplate(
        workbook=workbook,
        sheet=ws,
        title=(title[1][1], title[1][0]),
        subtitle=subtitle[1] if subtitle and subtitle[0] is ws else None,
        header_rows=(header_top, header_row),
        first_col=first_col,
        last_col=last_col,
        columns=columns,
        extra_columns=extra,
        protos=protos,
        data=rows,
        meta=meta,
    )


# ---------------------------------------------------------------------------------------------- build


def font(name: str, size: float, bold: bool = False) -> Font:
    return Font(name=name, size=size, bold=bold, charset=134, family=3)


THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
ACTION_FILL = PatternFill("solid", fgColor="D9E1F2")
FIELD_FILL = PatternFill("solid", fgColor="EEF2F9")

# Body alignment per field: long text left, short codes and unit lists centred.
LEFT_FIELDS = {"content", "target", "progress"}
UNIT_FIELDS = {"lead_units", "responsible_units"}

NOTES = [
    ("填表说明", None),
    ("本表为推动大规模设备更新和消费品以旧换新工作台账，由台账工具根据工作方案自动生成。", None),
    ("各列含义", None),
    ("序号", "工作方案中重点任务的编号。同一任务分为多行时，序号和重点任务合并显示。"),
    ("重点任务", "工作方案中的任务名称。"),
    ("工作内容", "工作方案对该任务的具体要求。"),
    ("牵头单位", "负责牵头的单位，每行一个单位。"),
    ("责任单位", "配合落实的单位，每行一个单位。"),
    ("目标", "该任务的量化目标，可由填报单位补充。"),
    ("完成时限", "按文字填写，如“2025年12月底”“长期坚持”。"),
    ("进展情况", "由填报单位填写，简要说明已开展的工作、取得的成效。"),
    ("完成情况", "从下拉列表选择：" + "、".join(STATUS_CHOICES) + "。"),
    ("任务键（隐藏列）", "用于更新台账和汇总时识别每一行，请勿删除或修改。"),
    ("更新台账", None),
    ("工作方案调整后重新生成台账时，已填写的目标、完成时限、进展情况、完成情况会自动保留，"
     "所有变化记入“变更记录”表；新方案中删除的任务如已填写内容，也会保存在“变更记录”表中。", None),
    ("字体", None),
    (f"表头和行动标题用{HEI}，领域标题用{KAI}，正文用{FANG}。电脑上没有这些字体时，可改用：", None),
    (HEI, FONT_FALLBACKS[HEI]),
    (FANG, FONT_FALLBACKS[FANG]),
    (KAI, FONT_FALLBACKS[KAI]),
    ("修改样式", None),
    ("可以在 Excel 或 WPS 中修改本模板的字体、颜色、列宽、行高，也可以插入行或列。"
     "表头下方的四行是样式原型（行动标题、领域标题、目标、任务），生成台账时按它们的样式填写数据。"
     "请勿删除“公式→名称管理器”中以 xlt_ 开头的名称。", None),
]


def build_ledger_template(path: str | Path) -> Path:
    """Write a blank ledger template to ``path`` and return the path."""
    wb = Workbook()
    _default_font(wb)
    ws = wb.active
    ws.title = SHEET
    ncols = len(COLUMNS)
    visible = ncols - 1  # the last column, 任务键, is hidden
    last = get_column_letter(visible)

    for i, col in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.column_dimensions[get_column_letter(ncols)].hidden = True

    # Title and subtitle.
    ws["A1"] = "（地区）推动大规模设备更新和消费品以旧换新工作台账"
    ws["A1"].font = font(HEI, 18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = 42
    split = 5  # 填报单位 on the left part, 填报日期 on the right
    ws.cell(2, 1, "填报单位（盖章）：").font = font(FANG, 11)
    ws.cell(2, 1).alignment = Alignment(horizontal="left", vertical="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=split)
    ws.cell(2, split + 1, "填报日期：　　　　年　　月　　日").font = font(FANG, 11)
    ws.cell(2, split + 1).alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(start_row=2, start_column=split + 1, end_row=2, end_column=visible)
    ws.row_dimensions[2].height = 24

    # Header.
    for i, col in enumerate(COLUMNS, 1):
        cell = ws.cell(3, i, col.header)
        cell.font = font(HEI, 12, bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = WRAP_CENTER
        cell.border = BOX
    ws.row_dimensions[3].height = 32

    # Prototype rows.
    body = font(FANG, 11)  # body text 11 pt: printed at 100% it is what a clerk reads at 10–11 pt
    samples = {
        "action": {1: "二、（行动名称，如：实施多领域设备更新行动）"},
        "field": {1: "（一）（领域名称，如：工业装备更新改造）"},
        "goal": {1: "2025年工作目标", 3: "（年度目标）", 4: "（牵头单位）"},
        "task": {1: 1, 2: "任务名称", 3: "（工作内容）", 4: "（牵头单位）", 5: "（责任单位）"},
    }
    for r, kind in enumerate(("action", "field", "goal", "task"), 4):
        for i, col in enumerate(COLUMNS, 1):
            cell = ws.cell(r, i, samples[kind].get(i))
            cell.border = BOX
            if kind == "action":
                cell.font, cell.fill, cell.alignment = font(HEI, 12, bold=True), ACTION_FILL, WRAP_LEFT
            elif kind == "field":
                cell.font, cell.fill, cell.alignment = font(KAI, 12, bold=True), FIELD_FILL, WRAP_LEFT
            else:
                cell.font = font(FANG, 11) if col.field in UNIT_FIELDS else body
                cell.alignment = WRAP_LEFT if col.field in LEFT_FIELDS else WRAP_CENTER
            if col.field == "key":
                cell.number_format = "@"  # keys like 29 must stay text
        if kind in ("action", "field"):
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=visible)
        ws.row_dimensions[r].height = {"action": 26, "field": 24, "goal": 30, "task": 30}[kind]
        set_name(wb, PROTO_NAMES[kind], ws, 1, r, ncols, r)
    ws.cell(6, 1).font = font(HEI, 12)  # the year label of goal rows
    ws.merge_cells("A6:B6")

    status_col = get_column_letter(next(i for i, c in enumerate(COLUMNS, 1) if c.field == "status"))
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(STATUS_CHOICES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle="完成情况",
        error="请从下拉列表中选择：" + "、".join(STATUS_CHOICES),
        promptTitle="完成情况",
        prompt="请选择：" + "、".join(STATUS_CHOICES),
    )
    dv.add(f"{status_col}6:{status_col}7")
    ws.add_data_validation(dv)

    set_name(wb, N_TITLE, ws, 1, 1, visible, 1)
    set_name(wb, N_SUBTITLE, ws, 1, 2, visible, 2)
    set_name(wb, N_HEADER, ws, 1, 3, ncols, 3)
    set_name(wb, N_DATA, ws, 1, 4, ncols, 7)

    ws.freeze_panes = "A4"
    ws.auto_filter.ref = f"A3:{get_column_letter(ncols)}7"
    setup_print(ws, header_rows=(3, 3), area=f"A1:{last}7")

    _notes_sheet(wb)
    _units_sheet(wb)
    write_meta(wb, {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "template_version": TEMPLATE_VERSION,
        "kind": "template",
    })
    wb.active = 0
    return atomic_save(wb, path)


def _default_font(wb) -> None:
    """Arial 10 as the workbook's default font: column widths are counted in its digits, which Excel,
    WPS and LibreOffice measure alike (Calibri becomes a wider font where LibreOffice lacks Carlito, and
    every sheet then prints ~25% smaller). Cells xltools writes name their own fonts."""
    from openpyxl.utils.indexed_list import IndexedList

    arial = Font(name=DEFAULT_FONT["font_name"], sz=DEFAULT_FONT["font_size"], family=2)
    wb._fonts = IndexedList([arial, *list(wb._fonts)[1:]])
    wb._named_styles["Normal"].font = arial


def setup_print(ws: Worksheet, header_rows: tuple[int, int], area: str, landscape: bool = True) -> None:
    """A4, one page wide, header repeated on every page, page numbers in the footer."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages high as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_IN
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.7
    ws.page_margins.header = 0.3
    ws.page_margins.footer = 0.3
    name_footer(ws)
    ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    ws.print_area = area


def name_footer(ws: Worksheet) -> None:
    """The footer every printed sheet carries: its name and the page number (工作台账　第1页 共8页)."""
    ws.oddFooter.center.text = f"{ws.title}　{FOOTER}"
    ws.oddFooter.center.font = f"{FANG},常规"
    ws.oddFooter.center.size = 11


def name_footers(workbook) -> None:
    """Every sheet whose footer is the bare page number (a template made before sheets were named on the page)
    gets its name in it: a printed page says which table it is."""
    for ws in workbook.worksheets:
        if ws.oddFooter.center.text in (None, "", FOOTER):
            name_footer(ws)


def style_header_row(ws: Worksheet, row: int, headers, size: float = 11) -> None:
    """A plain grey 黑体 header with widths, for the side sheets (说明 excepted)."""
    for i, (text, width) in enumerate(headers, 1):
        cell = ws.cell(row, i, text)
        cell.font = font(HEI, size, bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = WRAP_CENTER
        cell.border = BOX
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.row_dimensions[row].height = 24


def _notes_sheet(wb) -> None:
    """One portrait page: headings, then label / explanation rows, every row as tall as its wrapped text."""
    from .layout import needed_height, text_lines

    ws = wb.create_sheet(NOTES_SHEET)
    widths = (16, 70)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = widths
    ws.sheet_view.showGridLines = False
    top = Alignment(wrap_text=True, vertical="top")
    r = 1
    for left, right in NOTES:
        if right is None and len(left) <= 6:  # a heading
            if r > 1:
                ws.row_dimensions[r].height = 8
                r += 1
            size = 14 if r == 1 else 12
            ws.cell(r, 1, left).font = font(HEI, size, bold=True)
            ws.row_dimensions[r].height = needed_height(1, size)
        elif right is None:
            ws.cell(r, 1, left).font = font(FANG, 12)
            ws.cell(r, 1).alignment = top
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
            ws.row_dimensions[r].height = needed_height(text_lines(left, sum(widths) * 7, 12), 12)
        else:
            ws.cell(r, 1, left).font = font(FANG, 12, bold=True)
            ws.cell(r, 1).alignment = top
            ws.cell(r, 2, right).font = font(FANG, 12)
            ws.cell(r, 2).alignment = top
            lines = max(text_lines(left, widths[0] * 7, 12), text_lines(right, widths[1] * 7, 12))
            ws.row_dimensions[r].height = needed_height(lines, 12)
        r += 1
    setup_print(ws, header_rows=(1, 1), area=f"A1:B{r - 1}", landscape=False)
    ws.print_title_rows = None
    ws.page_setup.fitToHeight = 1  # one page: it is read as a whole


def _units_sheet(wb) -> None:
    ws = wb.create_sheet(UNITS_SHEET)
    style_header_row(ws, 1, UNIT_HEADERS)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(UNIT_HEADERS))}1"
    setup_print(ws, header_rows=(1, 1), area=f"A1:{get_column_letter(len(UNIT_HEADERS))}1")
    set_name(wb, N_UNITS, ws, 1, 1, len(UNIT_HEADERS), 1)


def write_meta(wb, values: dict[str, str]) -> None:
    """Update keys of the hidden metadata sheet (creating it if a person removed it)."""
    found = defined_range(wb, N_META)
    if found:
        ws = found[0]
    elif META_SHEET in wb.sheetnames:
        ws = wb[META_SHEET]
    else:
        ws = wb.create_sheet(META_SHEET)
    ws.sheet_state = "hidden"
    rows = {str(ws.cell(r, 1).value): r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    for key, value in values.items():
        r = rows.get(key)
        if r is None:
            r = rows[key] = max([0, *rows.values()]) + 1
            ws.cell(r, 1, key)
        ws.cell(r, 2, "" if value is None else str(value))
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 70
    set_name(wb, N_META, ws, 1, 1, 2, max(rows.values()))


# ------------------------------------------------------------------------------------------- defaults


PACKAGE_TEMPLATE = Path(__file__).resolve().parent / "data" / "ledger_template.xlsx"
REPO_TEMPLATE = Path(__file__).resolve().parent.parent / "workbooks" / "ledger_template.xlsx"


def default_template() -> Path:
    """The repository's workbooks/ledger_template.xlsx in a checkout, else the copy shipped in the package."""
    return REPO_TEMPLATE if REPO_TEMPLATE.is_file() else PACKAGE_TEMPLATE


def main(argv: list[str] | None = None) -> int:
    """Build hook: write the template to OUT and to the package data copy."""
    parser = argparse.ArgumentParser(
        prog="python -m xltools.template",
        description="Write the blank ledger template (and the package's copy of it).",
    )
    parser.add_argument("out", nargs="?", default=str(REPO_TEMPLATE), help="where to write the template")
    parser.add_argument(
        "--sync", action="store_true",
        help="do not rebuild: check OUT (for example restyled in Excel) and copy it into the package",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.sync:
        from openpyxl import load_workbook

        locate(load_workbook(out))  # refuse to ship a template fill could not use
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        build_ledger_template(out)
    PACKAGE_TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    if out.resolve() != PACKAGE_TEMPLATE:
        shutil.copyfile(out, PACKAGE_TEMPLATE)  # a copy, not a rebuild: both files stay byte-identical
    print(f"wrote {out} and {PACKAGE_TEMPLATE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
