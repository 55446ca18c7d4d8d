"""The rollup workbook the city office reports from, written with xlsxwriter.

Sheets, in order: 汇总, 覆盖矩阵, 目标对比, 图表, 未报送, 问题概览, 问题清单, 映射, one sheet per district (or one
明细 sheet when there are many), 来源. Every row a district sent appears on its district sheet (or 明细)
and on 映射, with the file / sheet / row it came from.

Speed. xlsxwriter spends ~10 µs a cell even in constant_memory mode, and 3,000 districts × 60 rows put
~4 million cells on 映射 and 明细 alone: 29 s for the whole rollup, most of it there. So xlsxwriter writes
everything but the data rows of the growing sheets (titles, headers, styles, merges, charts, names,
validation, print setup) into memory, and :func:`_package` copies that package into the output,
streaming each growing sheet's rows as XML into its ``<sheetData>``, made from per-style templates in
this thread while ``zlib`` deflates the previous chunk in another: ~6.5 s for the same rollup
(``tests/test_rollup_writer.py::test_benchmark_3000_districts``). constant_memory would not help what is
left to xlsxwriter. The only xlsxwriter internal used is a format's xf index (``Format._get_xf_index``),
the number a cell's ``s=`` attribute names; ``_write(stream=False)`` writes the same rows through
xlsxwriter's own cell writers, and the tests hold the two to the same cells.
"""

from __future__ import annotations

import gc
import io
import math
import posixpath
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path
from xml.etree import ElementTree

from ..archive import sha256_of
from ..layout import MAX_ROW_PT, needed_height, text_lines
from ..model import TaskRow
from ..patch import CODE_COLUMN, FILLS, PROBLEMS_SHEET, WRAPPED, problem_columns, problem_values
from ..printing import A4, DEFAULT_FONT, MARGIN_IN, columns_px, fit_scale, fit_widths, footer, printable_px
from ..problems import SEVERITIES, SEVERITY_ZH, Problem, group_problems, problem_overview, problem_summary
from ..returned import goal_reported
from ..template import ACTION_FILL, FANG, FIELD_FILL, HEADER_FILL, HEI, KAI
from ..xlio import ROLLUP_FORMAT as FORMAT
from ..xlio import atomic_write, check_output
from .mapping_sheet import CITY_SEQS_HELP, METHOD_ZH, format_seqs
from .mapping_sheet import COLUMNS as MAPPING_COLUMNS
from .mapping_sheet import DEFINED_NAME as MAPPING_NAME
from .mapping_sheet import FLEXIBLE as MAPPING_FLEXIBLE
from .mapping_sheet import HIDDEN as MAPPING_HIDDEN
from .mapping_sheet import INSTRUCTION as MAPPING_INSTRUCTION
from .mapping_sheet import SHEET as MAPPING_SHEET
from .model import Mapping, Received, Rollup, TargetComparison

SUMMARY, MATRIX, TARGETS, CHARTS, MISSING = "汇总", "覆盖矩阵", "目标对比", "图表", "未报送"
OVERVIEW, DETAIL, SOURCES = "问题概览", "明细", "来源"
RESERVED = (SUMMARY, MATRIX, TARGETS, CHARTS, MISSING, OVERVIEW, PROBLEMS_SHEET, MAPPING_SHEET, DETAIL, SOURCES)
OVERVIEW_REGIONS = 30  # district names in one 问题概览 cell; the rest are counted
SEE_PROBLEMS = f"详见“{OVERVIEW}”和“{PROBLEMS_SHEET}”表"  # after a rollup's problem summary, wherever it is shown
FORMAT_VERSION = "1"

MATRIX_TRANSPOSE_AT = 200  # more districts than this: districts become the rows of 覆盖矩阵
CHART_MAX_DISTRICTS = 50  # the coverage chart shows at most this many (the least covered)
STACK_MAX_DISTRICTS = 15  # the target chart stacks each district's share up to this many
CHART_COLUMNS = 7  # 图表's charts are as wide as columns A:G (36 + 6 × 9 units), a portrait page
LIST_MAX_REGIONS = 40  # region names in one 汇总 cell; the rest are counted
LEAD_MAX_LINES = 30

HEADER_HEX, ACTION_HEX, FIELD_HEX = (f.fgColor.rgb[-6:] for f in (HEADER_FILL, ACTION_FILL, FIELD_FILL))
COVERED_FILL, UNCOVERED_FILL = "C6EFCE", "FCE4D6"
UNMAPPED_FILL = FILLS["warning"]
GOOD_FILL, SHORT_FILL, PART_FILL = "C6EFCE", "FFC7CE", "FFEB9C"
COMPARATOR_ZH = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=", "~": "约"}
REGION_FROM_ZH = {"meta": "模板信息", "title": "标题", "filename": "文件名", "option": "汇总时指定"}
MAPPING_NOTES = {"none": "未找到对应的市级任务，如有请填写序号", "similarity": "按文字相似度对应，请核对",
                 "manual": "人工指定", "seq": "按序号对应", "name": "按任务名对应", "key": "",
                 "blank": "该行未填写本区内容，不计为覆盖", "own": "本区自行增加的任务，不对应市级任务",
                 "na": "本区不涉及该市级任务"}

DISTRICT_COLUMNS = (("序号", 4.5), ("重点任务", 14), ("工作内容", 50), ("牵头单位", 13), ("责任单位", 15),
                    ("对应市级任务", 10), ("置信度", 5.5), ("来源", 20))
# The template's hidden key column (machinery) and a distributed form's reference columns (the city's text,
# shown once on 汇总): not something a district reported.
HIDDEN_EXTRAS = {"任务键", "市级工作内容(参考)", "市级牵头单位(参考)", "市级工作内容(全文)"}
EXTRA_WIDTHS = {"目标": 16, "完成时限": 11.5, "进展情况": 20, "完成情况": 8}
# (which districts cover a task is on 覆盖矩阵 and in 地区牵头单位: here the count and those that do not)
# (the city's 工作内容 is the city ledger's, whose file 汇总 names: a page a task would be most of the rollup)
SUMMARY_COLUMNS = (("序号", 5), ("重点任务", 15), ("市级牵头单位", 16), ("覆盖地区数", 8), ("未覆盖地区", 18),
                   ("地区牵头单位", 34))
SOURCE_COLUMNS = (("地区", 9), ("文件名", 28), ("版本", 5), ("sha256", 66), ("接收时间", 19), ("行数", 6),
                  ("已对应", 6.5), ("未对应", 6.5), ("状态", 14), ("地区依据", 9))
TARGET_FIXED = (("序号", 5), ("指标", 16), ("年份", 6), ("单位", 6), ("比较", 4.5), ("市级目标", 10.5),
                ("各区合计", 10.5), ("差距", 10.5), ("完成比例", 7))
TARGET_DISTRICT_W = 8.5  # a district's column of 目标对比: four characters (未填数值) on a line
TARGET_GROUPS_MAX = 40  # more districts than this: their columns are on 目标对比 but do not print (明细 has them)

_EPOCH = datetime(1899, 12, 30)
SUMMARY_SCALE = 1.0  # 汇总 prints at 100% (0.92 was tried: the same 9 pages on the test cycle, in smaller text)
# What a district reported for a city target, as its cell on 目标对比 says it (a figure is the number itself).
TARGET_STATUS_ZH = {"other": "指标不同", "missing": "未填数值", "uncovered": "未覆盖", "na": "不涉及"}
TARGET_STATUS_FILLS = {"other": "DDEBF7", "missing": "FFEB9C", "uncovered": "FCE4D6", "na": "EDEDED"}


def target_notes(t: TargetComparison) -> str:
    """目标对比's 说明 of one target: the figures given for another metric (both named), then who covers the task
    without a figure, who does not cover it, who says 不涉及."""
    parts = [f"{d}报“{'；'.join(texts)}”，与市级指标“{t.metric}”不同，未计入合计" for d, texts in t.other.items()]
    for label, regions in (("未填数值", t.missing), ("未覆盖", t.uncovered), ("不涉及", t.not_applicable)):
        if regions:
            parts.append(f"{label}：{_cap(list(regions), LIST_MAX_REGIONS)}")
    return "。".join(parts)


def write_rollup(rollup: Rollup, out: str | Path, *, district_sheets_max: int = 40) -> Path:
    """Write the rollup workbook to ``out`` (atomically: a temp file beside it, then a rename)."""

    out = check_output(out, rollup.city_path or rollup.city_file, *(r.path for r in rollup.received))
    collecting = gc.isenabled()
    gc.disable()  # the rollup holds millions of objects; each collection would walk them all (~25% of the time)
    try:
        atomic_write(out, lambda tmp: _write(rollup, Path(tmp), district_sheets_max, stream=True))
    finally:
        if collecting:
            gc.enable()
    return out


def _write(rollup: Rollup, path: Path, district_sheets_max: int, stream: bool) -> None:
    """``stream=False`` writes every row through xlsxwriter: slow, but the reference the tests hold
    the streamed rows to."""
    import xlsxwriter

    package = io.BytesIO() if stream else str(path)
    wb = xlsxwriter.Workbook(package, {"in_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False, "strings_to_numbers": False,
                                       "default_format_properties": DEFAULT_FONT})
    writer = _Writer(wb, rollup, district_sheets_max, stream)
    writer.write()
    wb.close()
    writer.sealed = True
    if stream:
        _package(package, path, writer.blocks)


# ----------------------------------------------------------------------------------------------- rows


class _Style:
    """The formats of one kind of row, column by column (and the row templates made from them)."""

    def __init__(self, formats: Sequence):
        self.formats = list(formats)
        self.xfs = [f._get_xf_index() if f is not None else 0 for f in self.formats]
        self.templates: dict[tuple, tuple[Callable[..., str], int]] = {}  # cell types → formatter, count of <


Row = tuple[Sequence, _Style, float]  # values, style, height in points


class _Block:
    """The data rows of one sheet, from row ``first`` (0-based) on, made when the package is written."""

    def __init__(self, ws, first: int, ncols: int, count: int, rows: Callable[[], Iterable[Row]]):
        from xlsxwriter.utility import xl_col_to_name

        self.ws, self.first, self.ncols, self.count, self.rows = ws, first, ncols, count, rows
        self.letters = [xl_col_to_name(c) for c in range(ncols)]

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def xml(self) -> Iterable[bytes]:
        """Row XML as UTF-8, ~2,000 rows a chunk.

        Values go into the templates unchecked and the chunk is checked after: its markup has a known
        number of < and no &, ] (of "]]>"), _ (of "_x0041_") or control character, so a count and a few
        memchr find the rare chunk holding such a value, which is then made again value by value. Floats
        must be finite (callers pass confidences and targets through :func:`_finite`)."""
        rows = iter(self.rows())
        r = self.first
        while batch := list(islice(rows, 2000)):
            parts, marks = [], 0
            for values, style, height in batch:
                r += 1  # XML rows are 1-based
                height = int(height * 4 / 3 + 0.5) * 0.75  # whole pixels, as xlsxwriter keeps them
                if "" in values:
                    values = [None if v == "" else v for v in values]
                key = tuple(map(type, values))
                made = style.templates.get(key)
                if made is None:
                    made = style.templates[key] = self._template(style.xfs, key)
                parts.append(made[0](r, height, *values))
                marks += made[1]
            data = "".join(parts).encode("utf-8", "replace")  # lone surrogates from a broken file: ?
            if data.count(b"<") != marks or b"&" in data or b"]" in data:
                data = self._careful(batch, r - len(batch))
            if (b"_" in data and b"_x" in data) or any(c in data for c in _CONTROL_BYTES):
                data = _CONTROL.sub(_control_escape, data.decode("utf-8")).encode("utf-8")
            yield data
        if r - self.first != self.count:
            raise AssertionError(f"{self.ws.name}: {r - self.first} rows written, {self.count} announced")

    def _careful(self, batch: list[Row], r: int) -> bytes:
        parts = []
        for values, style, height in batch:
            r += 1
            height = int(height * 4 / 3 + 0.5) * 0.75
            values = [_escape(v) if v.__class__ is str else v if v.__class__ in (int, float) and math.isfinite(v)
                      else None for v in values]
            values = [None if v == "" else v for v in values]
            parts.append(self._template(style.xfs, tuple(map(type, values)))[0](r, height, *values))
        return "".join(parts).encode("utf-8", "replace")

    def _template(self, xfs: list[int], types: tuple) -> tuple[Callable[..., str], int]:
        """The formatter of a row whose cells have these types, and the number of < in its markup."""
        cells = []
        for i, (letter, s, t) in enumerate(zip(self.letters, xfs, types)):
            a = i + 2  # {0} is the row number, {1} the height
            if t is str:  # preserve: a district's "工作台账 " must come back with its space
                cells.append(f'<c r="{letter}{{0}}" s="{s}" t="inlineStr"><is><t xml:space="preserve">{{{a}}}'
                             "</t></is></c>")
            elif t is int or t is float:
                cells.append(f'<c r="{letter}{{0}}" s="{s}"><v>{{{a}}}</v></c>')
            elif s:
                cells.append(f'<c r="{letter}{{0}}" s="{s}"/>')
        template = '<row r="{0}" ht="{1:.16g}" customHeight="1">' + "".join(cells) + "</row>"
        return template.format, template.count("<")

    def write_public(self) -> None:
        """The same rows through xlsxwriter's own cell writers."""
        ws = self.ws
        for r, (values, style, height) in enumerate(self.rows(), start=self.first):
            ws.set_row(r, height)
            for col, (v, f) in enumerate(zip(values, style.formats)):
                if v is None or v == "" or (isinstance(v, float) and not math.isfinite(v)):
                    if f is not None:
                        ws.write_blank(r, col, None, f)
                elif isinstance(v, str):
                    ws.write_string(r, col, v, f)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(r, col, v, f)


_CONTROL_BYTES = [bytes([c]) for c in (*range(9), 11, 12, *range(14, 32))]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finite(v):
    """A number for a cell, None for nan and infinities (which XML cannot hold)."""
    return v if v is None or math.isfinite(v) else None


def _control_escape(m: re.Match) -> str:
    """A control character as Excel's _xHHHH_, and a literal "_x0041_" as "_x005F_x0041_" so it stays text.
    Markup holds neither, so whole chunks of row XML are fixed at once."""
    return "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_"


_WIDE_CHARS = re.compile("[\u2e80-\U0010ffff]+")


def _text_units(text: str) -> float:
    """Width units an 11pt line of ``text`` takes: a CJK character two, anything else 1.1 (counted by one
    regex pass: 汇总 measures a line for every district and task)."""
    narrow = len(_WIDE_CHARS.sub("", text))
    return 2 * (len(text) - narrow) + 1.1 * narrow


def _widest(texts: Iterable[str], enough: float, default: float) -> float:
    """The most width units any of ``texts`` takes, or ``enough`` once one takes that many (a column capped
    there measures no further: 3,000 districts × 60 tasks are 180,000 lines)."""
    widest = None
    for text in texts:
        units = _text_units(text)
        if widest is None or units > widest:
            widest = units
            if widest >= enough:
                return widest
    return default if widest is None else widest


def _per_line(width: float) -> int:
    """Full-width characters on one line of an 11pt cell ``width`` wide."""
    return max(math.floor((width * 7 - 8) / 14.67), 1)


def _lines(text: str, per_line: int) -> int:
    """Lines of wrapped 11pt text. :func:`layout.text_lines` is exact but ~50 µs a cell; this counts
    CJK characters by UTF-8 length (within a line of it on the seed ledgers)."""
    if not text:
        return 1
    if "\n" in text:
        return sum(_lines(part, per_line) for part in text.split("\n"))
    n = len(text)
    if n + (n >> 1) <= per_line:  # at most 1.5 units a character (4 UTF-8 bytes): one line, no need to count
        return 1
    wide = (len(text.encode("utf-8")) - n) >> 1
    units = wide + 0.55 * (n - wide)
    return 1 if units <= per_line else math.ceil(units * 1.03 / per_line)


def _name_lines(names: list[str], per_line: int) -> int:
    """Lines of unit names, one name a line, each by its length (Chinese names)."""
    lengths = list(map(len, names))
    if lengths and 0 < min(lengths) and max(lengths) <= per_line:  # the usual case: each name on its line
        return len(lengths)
    return sum(-(-n // per_line) for n in lengths)


def _height(lines: int) -> float:
    """Points, in whole pixels as xlsxwriter's set_row keeps them."""
    return int(min(needed_height(lines, 11), MAX_ROW_PT) * 4 / 3 + 0.5) * 0.75


_HEIGHTS = [_height(n) for n in range(30)]  # 29 lines reach Excel's 409 pt


# ---------------------------------------------------------------------------------------------- package


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _package(package: io.BytesIO, path: Path, blocks: list[_Block]) -> None:
    """Copy xlsxwriter's package to ``path``, streaming each block's rows into its sheet's XML."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = _sheet_parts(zin)
        by_part = {parts[b.ws.name]: b for b in blocks if b.count}
        for info in zin.infolist():
            data = zin.read(info)
            block = by_part.get(info.filename)
            if block is None:
                zout.writestr(info, data)
                continue
            xml = data.decode("utf-8")
            before, rows, after = _split_sheet_data(xml)
            held = [int(n) for n in re.findall(r'<row r="(\d+)"', rows)]
            if held and max(held) > block.first:
                raise AssertionError(f"{block.ws.name}: xlsxwriter rows overlap the streamed block")
            last = xl_rowcol_to_cell(block.last, max(block.ncols - 1, _max_col(before)))
            before = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', before, count=1)
            zout.compresslevel = 1  # 3× faster than the default on ~200 MB of XML, 15% larger
            with zout.open(info.filename, "w", force_zip64=block.count * block.ncols > 10_000_000) as f:
                f.write(f"{before}<sheetData>{rows}".encode())
                _stream(f, block.xml())
                f.write(f"</sheetData>{after}".encode())
            zout.compresslevel = None


def _stream(f, chunks: Iterable[bytes]) -> None:
    """Make chunks in this thread while another deflates and writes them (zlib lets go of the GIL)."""
    q: queue.Queue = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def drain() -> None:
        while (data := q.get()) is not None:
            if not failed:
                try:
                    f.write(data)
                except BaseException as err:  # disk full: stop the producer, re-raise below
                    failed.append(err)

    worker = threading.Thread(target=drain, name="xltools-deflate", daemon=True)
    worker.start()
    try:
        for data in chunks:
            q.put(data)
            if failed:
                break
    finally:
        q.put(None)
        worker.join()
    if failed:
        raise failed[0]


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part (xl/worksheets/sheet3.xml), from workbook.xml and its relationships."""
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
    return {s.get("name"): posixpath.normpath(posixpath.join("xl", targets[s.get(f"{_REL_NS}id")]))
            for s in book.iter(f"{_MAIN_NS}sheet")}


def _split_sheet_data(xml: str) -> tuple[str, str, str]:
    if "<sheetData/>" in xml:
        before, after = xml.split("<sheetData/>", 1)
        return before, "", after
    before, rest = xml.split("<sheetData>", 1)
    rows, after = rest.split("</sheetData>", 1)
    return before, rows, after


def _max_col(head: str) -> int:
    from xlsxwriter.utility import xl_cell_to_rowcol

    m = re.search(r'<dimension ref="[A-Z]+\d+:([A-Z]+\d+)"/>', head)
    return xl_cell_to_rowcol(m.group(1))[1] if m else 0


# ----------------------------------------------------------------------------------------------- helpers


def problem_region(rollup: Rollup, city: bool = True) -> Callable[[Problem], str | None]:
    """The district a problem of the rollup is about: the region of the file it is in, or the district that
    sent nothing; the city ledger's problems are the city's (``city=False``: no district's, for counting them)."""
    region_of = {rec.name: rec.region for rec in (*rollup.received, *rollup.superseded) if rec.region}
    region_of[Path(rollup.city_file).name] = rollup.city.region if city else None

    def region(p: Problem) -> str | None:
        return region_of.get(p.file or "") or (p.value if p.type == "missing-district" else None)

    return region


def outcome_lines(rollup: Rollup, out) -> list[str]:
    """What a consolidation did, as the CLI and the add-in tell the clerk: the rollup written, the districts
    that sent nothing, those whose files could not be used and those that sent their form back blank."""
    mapped = sum(m.mapped for m in rollup.mappings)
    lines = [f"已写出汇总：{out}（{len(rollup.regions)} 个地区，{len(rollup.mappings)} 行，已对应 {mapped} 行）"]
    if rollup.missing_regions:
        lines.append(f"未报送：{'、'.join(rollup.missing_regions)}")
    if rollup.unreadable_regions:
        lines.append(f"报送文件无法使用：{'、'.join(rollup.unreadable_regions)}（见“{MISSING}”表）")
    if rollup.blank_regions:
        lines.append(f"报送空白表（计为已报送，未覆盖任何任务）：{'、'.join(rollup.blank_regions)}（见“{MISSING}”表）")
    return lines


def problems_line(rollup: Rollup) -> str:
    """"问题：错误 1,234 条（12 个地区），…；详见…": how many problems, in how many districts, and where listed."""
    return f"问题：{problem_summary(rollup.problems, problem_region(rollup, city=False))}；{SEE_PROBLEMS}"


def _page_px(landscape: bool, top: float = 0.5, bottom: float = 0.6) -> float:
    """Height between the margins of A4, in pixels."""
    return ((210 if landscape else 297) / 25.4 - top - bottom) * 96


def _excel_date(dt: datetime) -> float:
    return (dt.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400


def _cap(items: list[str], limit: int, rest: str = "地区") -> str:
    if len(items) <= limit:
        return "、".join(items)
    return "、".join(items[:limit]) + f"……等共{len(items)}个{rest}"


def _scale(t: TargetComparison) -> tuple[float, str]:
    """Large amounts in 万 or 亿 of their unit (13000000000 元 → 130 亿元), so cells stay readable."""
    unit = t.unit or ""
    if unit in ("%", "个百分点"):
        return 1, unit
    values = [v for v in (t.city_value, t.district_sum, *t.districts.values()) if v is not None and math.isfinite(v)]
    top = max(map(abs, values), default=0)
    if top >= 1e8:
        return 1e8, "亿" + unit
    if top >= 1e5:
        return 1e4, "万" + unit
    return 1, unit


def _scaled(v, factor: float):
    if v is None or factor == 1:
        return v
    x = round(v / factor, 4)
    return int(x) if x.is_integer() else x


def _whole(v) -> bool:
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


def _safe_sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", name or "").strip("' ")[:31] or "地区"
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f"（{n}）"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.casefold())
    return candidate


def _sha256(path: Path) -> str:
    """The city ledger's digest when the file is at hand (the districts' come with them)."""
    try:
        return sha256_of(path)
    except OSError:
        return ""


# ------------------------------------------------------------------------------------------------ writer


class _Writer:
    def __init__(self, wb, rollup: Rollup, district_sheets_max: int, stream: bool):
        self.wb = wb
        self.rollup = rollup
        self.stream = stream
        self.blocks: list[_Block] = []
        self.per_district = len(rollup.received) <= district_sheets_max
        self._formats: dict[tuple, object] = {}
        self.sealed = False  # set once xlsxwriter has written styles.xml: blocks may not add formats
        self.city_names = {r.seq: r.task for r in rollup.city.rows if r.seq is not None}
        self.coverage = rollup.coverage()
        self.na = rollup.not_applicable()
        # Districts in the order received, then any region only the mappings name.
        self.districts = list(dict.fromkeys(
            [*rollup.regions, *(m.region for m in rollup.mappings if m.region)]))
        # (region, file) → its mappings, and [mapped, unmapped]; a file's rows find theirs when its rows are
        # written (a dict of every district row at once is 90 bytes a row, ~15 MB at 3,000 files).
        self.by_file: dict[tuple[str | None, str], list[Mapping]] = {}
        self.counts: dict[tuple[str | None, str], list[int]] = {}
        for m in rollup.mappings:
            self.by_file.setdefault((m.region, m.file), []).append(m)
            c = self.counts.setdefault((m.region, m.file), [0, 0])
            c[0 if m.city_seqs else 1] += m.city_seqs != [] or m.unmatched  # (not rows left blank, own, 不涉及)
        self._seq_text: dict[tuple, tuple] = {}
        self._city_per_line = 1  # set by write_mapping, which sizes the columns
        self._district_city_per_line = _per_line(next(w for h, w in DISTRICT_COLUMNS if h == "对应市级任务"))

    # formats and layout ---------------------------------------------------------------------------

    def fmt(self, *, font: str = FANG, size: float = 11, bold: bool = False, wrap: bool = False,
            align: str = "left", fill: str | None = None, num: str | None = None, border: bool = True,
            color: str | None = None, italic: bool = False, rotation: int = 0, valign: str = "vcenter"):
        key = (font, size, bold, wrap, align, fill, num, border, color, italic, rotation, valign)
        f = self._formats.get(key)
        if f is None:
            props = {"font_name": font, "font_size": size, "font_charset": 134, "valign": valign,
                     "align": align, "bold": bold, "text_wrap": wrap, "italic": italic}
            if fill:
                props.update(bg_color="#" + fill, pattern=1)
            if num:
                props["num_format"] = num
            if border:
                props["border"] = 1
            if color:
                props["font_color"] = "#" + color
            if rotation:
                props["rotation"] = rotation
            if self.sealed:
                raise AssertionError(f"format {props} made after the styles were written")
            f = self._formats[key] = self.wb.add_format(props)
            f._get_xf_index()  # styles.xml lists only formats holding an index when the workbook closes
        return f

    def header_fmt(self, rotation: int = 0):
        return self.fmt(font=HEI, bold=True, wrap=True, align="center", fill=HEADER_HEX, rotation=rotation,
                        valign="top" if rotation else "vcenter")

    def title(self, ws, text: str, widths: Sequence[float], sub: str | None = None) -> int:
        """Title (and a line under it) across columns this wide; returns the header row."""
        ncols = len(widths)
        ws.set_row(0, 36)
        title_fmt = self.fmt(font=HEI, size=16, bold=True, align="center", border=False)
        if ncols > 1:
            ws.merge_range(0, 0, 0, ncols - 1, text, title_fmt)
        else:
            ws.write_string(0, 0, text, title_fmt)
        if sub is None:
            return 1
        sub_fmt = self.fmt(border=False, wrap=True)
        ws.set_row(1, 8 + 15 * text_lines(sub, sum(widths) * 7, 11))
        if ncols > 1:
            ws.merge_range(1, 0, 1, ncols - 1, sub, sub_fmt)
        else:
            ws.write_string(1, 0, sub, sub_fmt)
        return 2

    def header(self, ws, row: int, columns, rotated: range = range(0), hidden: Sequence[int] = ()) -> float:
        """Header cells in 黑体 on grey; ``rotated`` columns stack their text top to bottom (narrow columns
        of region names), ``hidden`` ones are machinery (hidden columns do not print). The row is as tall
        as the longest header needs; returns its height in points."""
        lines = max((text_lines(t, w * 7, 11) for c, (t, w) in enumerate(columns)
                     if c not in rotated and c not in hidden), default=1)
        tall = max((len(t) for c, (t, _w) in enumerate(columns) if c in rotated), default=0)
        height = min(max(12 + 15 * lines, 15 * tall + 12, 24), 300)
        ws.set_row(row, height)
        for c, (text, width) in enumerate(columns):
            ws.set_column(c, c, width, None, {"hidden": True} if c in hidden else None)
            ws.write_string(row, c, text, self.header_fmt(270 if c in rotated else 0))
        return height

    def page(self, ws, header_row: int, ncols: int, last_row: int, *, fit: bool = True, freeze_cols: int = 0,
             filter_: bool = True, landscape: bool = True, repeat_cols: int = 0) -> None:
        """A4, one page wide (columns are chosen to fit, so at 100%), the header row on every page, and
        ``repeat_cols`` columns on every page when the sheet runs several pages wide (``fit=False``)."""
        ws.freeze_panes(header_row + 1, freeze_cols)
        if filter_ and last_row > header_row:
            ws.autofilter(header_row, 0, last_row, ncols - 1)
        ws.repeat_rows(header_row)
        if repeat_cols:
            ws.repeat_columns(0, repeat_cols - 1)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.set_paper(A4)
        ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.5, bottom=0.6)
        ws.center_horizontally()
        if fit:
            ws.fit_to_pages(1, 0)
        ws.set_footer(footer(ws.name))

    @staticmethod
    def fitted(columns, flexible: dict[int, float], landscape: bool = True,
               hidden: Sequence[int] = (), scale: float = 1.0) -> list[tuple[str, float]]:
        """``columns`` (header, width) with the flexible ones sized so the row fills the printed page
        (``hidden`` columns, which do not print, keep their width) at ``scale``."""
        widths = fit_widths([0 if i in hidden else w for i, (_h, w) in enumerate(columns)], flexible, landscape,
                            scale=scale)
        return [(h, w if i in hidden else fw) for i, ((h, w), fw) in enumerate(zip(columns, widths))]

    def block(self, ws, first: int, ncols: int, count: int, rows: Callable[[], Iterable[Row]]) -> None:
        """Rows ``first`` … ``first + count - 1`` of ``ws``; nothing may be written below them."""
        block = _Block(ws, first, ncols, count, rows)
        if self.stream:
            self.blocks.append(block)
        else:
            block.write_public()

    def seq_text(self, seqs: list[int]) -> tuple:
        """("10、12", "10 加快…\\n12 …", "10 加快…；12 …", its lines on 映射, the lines of the second on a
        district sheet) for a mapping's city seqs; cached, as 180,000 rows share a few hundred."""
        key = tuple(seqs)
        got = self._seq_text.get(key)
        if got is None:
            if not seqs:
                got = self._seq_text[key] = (None, None, None, 1, 1)
                return got
            names = [f"{s} {self.city_names.get(s, '（市级台账无此序号）')}" for s in seqs]
            flat, lines = "；".join(names), "\n".join(names)
            got = self._seq_text[key] = (format_seqs(seqs), lines, flat, _lines(flat, self._city_per_line),
                                         _lines(lines, self._district_city_per_line))
        return got

    # the workbook --------------------------------------------------------------------------------

    def write(self) -> None:
        r, wb = self.rollup, self.wb
        wb.set_properties({"title": self.book_title(), "author": "xltools", "created": r.created,
                           "comments": "xltools consolidate"})
        wb.set_custom_property("xltools_format", FORMAT)
        wb.set_custom_property("xltools_format_version", FORMAT_VERSION)
        if r.archive_run:
            wb.set_custom_property("xltools_archive_run", r.archive_run)
        used = {n.casefold() for n in RESERVED}
        sheets = {n: wb.add_worksheet(n) for n in (SUMMARY, MATRIX, TARGETS)}
        # 目标对比 takes a sheet for each group of districts that fits a page beside the comparison
        more = [f"{TARGETS}（续{i}）" for i in range(1, len(self.target_groups()))]
        target_sheets = [sheets[TARGETS], *(wb.add_worksheet(n) for n in more)]
        used.update(n.casefold() for n in more)
        sheets.update({n: wb.add_worksheet(n) for n in (CHARTS, MISSING, OVERVIEW, PROBLEMS_SHEET, MAPPING_SHEET)})
        district_sheets = []
        if self.per_district:
            for rec in r.received:
                if rec.ledger is not None:
                    label = rec.region or Path(rec.name).stem
                    district_sheets.append((wb.add_worksheet(_safe_sheet_name(label, used)), rec))
        else:
            sheets[DETAIL] = wb.add_worksheet(DETAIL)
        sheets[SOURCES] = wb.add_worksheet(SOURCES)

        self.write_summary(sheets[SUMMARY])
        self.write_matrix(sheets[MATRIX])
        self.write_charts(sheets[CHARTS])
        self.write_targets(target_sheets)
        self.write_missing(sheets[MISSING])
        self.write_overview(sheets[OVERVIEW])
        self.write_problems(sheets[PROBLEMS_SHEET])
        self.write_mapping(sheets[MAPPING_SHEET])
        if self.per_district:
            for ws, rec in district_sheets:
                self.write_district(ws, [rec], with_region=False)
        else:
            self.write_district(sheets[DETAIL], [rec for rec in r.received if rec.ledger is not None],
                                with_region=True)
        self.write_sources(sheets[SOURCES])
        sheets[SUMMARY].activate()

    def book_title(self) -> str:
        t = self.rollup.city.title or ""
        if t.endswith("工作台账"):
            return t[:-4] + "工作汇总"
        if t.endswith("台账"):
            return t[:-2] + "汇总"
        return f"{self.rollup.city.region or ''}推动大规模设备更新和消费品以旧换新工作汇总"

    # 汇总 ---------------------------------------------------------------------------------------------

    def write_summary(self, ws) -> None:
        r = self.rollup
        ncols = len(SUMMARY_COLUMNS)
        missing = r.missing_regions
        # The scope names who is in the figures and who is not: "全部地区" must never hide a missing one.
        sent = self.districts
        parts = [f"生成时间：{r.created:%Y-%m-%d %H:%M}", f"市级台账：{Path(r.city_file).name}"]
        scope = f"已报送 {len(sent)} 个地区" + (f"：{_cap(sent, LIST_MAX_REGIONS)}" if sent else "")
        blank = r.blank_regions
        if blank:
            scope += f"（其中报送空白表 {len(blank)} 个：{_cap(blank, LIST_MAX_REGIONS)}）"
        unusable = r.unreadable_regions
        if unusable:
            scope += f"；报送文件无法使用 {len(unusable)} 个：{_cap(unusable, LIST_MAX_REGIONS)}"
        if r.expected_regions:
            scope = f"应报送 {len(r.expected_regions)} 个地区，{scope}；" + (
                f"未报送 {len(missing)} 个：{_cap(missing, LIST_MAX_REGIONS)}" if missing else "无未报送地区")
        parts.append(scope + "。")
        if r.problems:
            parts.append(f"问题：{problem_summary(r.problems, problem_region(r, city=False))}；{SEE_PROBLEMS}。")
        if not self.per_district:
            parts.append("各地区台账行见“明细”表。")
        # 工作内容 as its first words (the whole text is the city ledger's: a page a task would be 汇总's most);
        # the region columns as wide as their longest text needs (a few districts: narrow), 地区牵头单位 the rest.
        columns = list(SUMMARY_COLUMNS)
        n_all = len(self.districts)
        names = _text_units(_cap(self.districts, LIST_MAX_REGIONS)) / 2 + 1 if n_all else 8
        columns[4] = (columns[4][0], min(max(names, 9.5), columns[4][1]))
        columns = self.fitted(columns, {5: 22}, scale=SUMMARY_SCALE)
        hr = self.title(ws, self.book_title(), [w for _, w in columns], "　　".join(parts))
        columns[3] = (f"覆盖地区数（共{len(self.districts)}个）", columns[3][1])
        self.header(ws, hr, columns)
        widths = [w for _, w in columns]
        everyone = "全部已报送地区" if missing else "全部地区"
        body, center = self.fmt(wrap=True), self.fmt(wrap=True, align="center")
        action = self.fmt(font=HEI, bold=True, fill=ACTION_HEX, wrap=True)
        field_ = self.fmt(font=KAI, bold=True, fill=FIELD_HEX, wrap=True)
        n = len(self.districts)
        row, section, subsection = hr, None, None
        for task in self.rollup.city.rows:
            if task.section and task.section != section:
                section, subsection = task.section, None
                row += 1
                ws.set_row(row, 21)
                ws.merge_range(row, 0, row, ncols - 1, task.section, action)
            if task.subsection and task.subsection != subsection:
                subsection = task.subsection
                row += 1
                ws.set_row(row, 20)
                ws.merge_range(row, 0, row, ncols - 1, task.subsection, field_)
            row += 1
            by_region = self.coverage.get(task.seq, {}) if task.seq is not None else {}
            na = self.na.get(task.seq, {}) if task.seq is not None else {}
            covered = [d for d in self.districts if d in by_region]
            uncovered = [d for d in self.districts if d not in by_region and d not in na]
            not_applicable = [d for d in self.districts if d in na]
            # Districts naming the same lead units share a line: "历城区、长清区：区工业和信息化局".
            by_units: dict[str, list[str]] = {}
            for d in covered:
                ms = by_region[d]
                units = ms[0].row.lead_units if len(ms) == 1 else dict.fromkeys(u for m in ms for u in m.row.lead_units)
                by_units.setdefault("、".join(units) or "（未填）", []).append(d)
            leads = [f"{_cap(ds, LIST_MAX_REGIONS // 2)}：{units}" for units, ds in by_units.items()]
            if len(leads) > LEAD_MAX_LINES:
                rest = sum(len(ds) for ds in list(by_units.values())[LEAD_MAX_LINES:])
                leads = [*leads[:LEAD_MAX_LINES], f"……另有{rest}个地区，见“{'各地区' if self.per_district else DETAIL}”表"]
            missing_text = _cap(uncovered, LIST_MAX_REGIONS)
            if len(uncovered) > 2 and len(uncovered) > len(covered) + len(not_applicable):
                # most do not cover it: the few that do (or say 不涉及) are the shorter list
                others = [d for d in self.districts if d not in uncovered]
                missing_text = f"除{'、'.join(others)}外的{len(uncovered)}个地区" if others else "全部地区"
            if not_applicable:
                missing_text = "\n".join(filter(None, (missing_text, f"不涉及：{_cap(not_applicable, LIST_MAX_REGIONS)}")))
            if covered and not uncovered and not not_applicable:
                missing_text = f"无（{everyone}均已覆盖）"
            values = [task.seq if task.seq is not None else "", task.task, "、".join(task.lead_units), len(covered),
                      missing_text, "；".join(leads)]
            ratio_fill = GOOD_FILL if n and len(covered) == n else SHORT_FILL if not covered else PART_FILL
            formats = [center, body, center, self.fmt(align="center", fill=ratio_fill),
                       self.fmt(wrap=True, fill=UNCOVERED_FILL) if uncovered else body, body]
            lines = max(text_lines(str(v), widths[c] * 7, 11) for c, v in enumerate(values) if v not in ("", None))
            ws.set_row(row, _height(lines))
            for c, (v, f) in enumerate(zip(values, formats)):
                if isinstance(v, int):
                    ws.write_number(row, c, v, f)
                else:
                    ws.write_string(row, c, v, f)
        self.page(ws, hr, ncols, row, freeze_cols=2, filter_=False)
        ws.set_tab_color("#1F4E79")

    # 覆盖矩阵 -----------------------------------------------------------------------------------------

    def write_matrix(self, ws) -> None:
        tasks = [t for t in self.rollup.city.rows if t.seq is not None]
        districts = self.districts
        transpose = len(districts) > MATRIX_TRANSPOSE_AT
        note = ("数字为该地区对应到此任务的台账行数，绿色为已覆盖，红色空白为未覆盖，灰色“不涉及”为该地区说明不承担的任务。"
                + ("地区较多，按地区逐行列出。" if transpose else ""))
        covered_fmt = self.fmt(align="center", fill=COVERED_FILL)
        blank_fmt = self.fmt(fill=UNCOVERED_FILL)
        na_fmt = self.fmt(align="center", fill=TARGET_STATUS_FILLS["na"], color="595959")
        nas = [self.na.get(t.seq, {}) for t in tasks]
        name_fmt, center = self.fmt(wrap=True), self.fmt(align="center")
        total_fmt = self.fmt(font=HEI, bold=True, align="center", fill=HEADER_HEX)
        cov = [self.coverage.get(t.seq, {}) for t in tasks]
        if not transpose:
            # District names across the top when they fit the page that way (a few districts), else
            # standing on end in narrow columns; portrait while it fits, then landscape, then several
            # pages wide with 序号 and 重点任务 repeated.
            name_w = max((_text_units(d) for d in districts), default=4) + 1.5
            layout = None
            for rotated, w in ((False, max(name_w, 6.5)), (True, 4.5)):
                for landscape in (False, True):
                    cols = [5.5, 26, *(w for _ in districts), 6.5]
                    if layout is None and fit_scale(cols, landscape) >= 1:
                        layout = rotated, w, landscape
            fits = layout is not None
            rotated, w, landscape = layout or (True, 4.5, True)
            columns = [("序号", 5.5), ("重点任务", 26), *((d, w) for d in districts), ("覆盖地区数", 6.5)]
            if fits:
                columns = self.fitted(columns, {1: 26}, landscape)
            ncols = len(columns)
            hr = self.title(ws, "覆盖矩阵（市级任务 × 地区）", [w for _, w in columns][:40], note)
            self.header(ws, hr, columns, rotated=range(2, ncols - 1) if rotated else range(0))
            per_line = _per_line(columns[1][1])

            def rows() -> Iterable[Row]:
                per_district = [0] * len(districts)
                for t, by_region, na in zip(tasks, cov, nas):
                    counts = [len(by_region[d]) if d in by_region else "不涉及" if d in na else None
                              for d in districts]
                    for i, c in enumerate(counts):
                        if c.__class__ is int:
                            per_district[i] += 1
                    style = _Style([center, name_fmt, *(covered_fmt if c.__class__ is int else na_fmt if c else blank_fmt
                                                        for c in counts), total_fmt])
                    yield ([t.seq, t.task, *counts, sum(1 for c in counts if c.__class__ is int)], style,
                           6 + 15 * _lines(t.task, per_line))
                yield [None, "覆盖任务数", *per_district, None], _Style([total_fmt] * ncols), 22

            self.block(ws, hr + 1, ncols, len(tasks) + 1, rows)
            self.page(ws, hr, ncols, hr + len(tasks), fit=fits, freeze_cols=2, landscape=landscape,
                      repeat_cols=0 if fits else 2)
            return
        columns = [("地区", 10), *((f"{t.seq} {t.task}", 4.2) for t in tasks), ("覆盖任务数", 5)]
        ncols = len(columns)
        hr = self.title(ws, "覆盖矩阵（地区 × 市级任务）", [w for _, w in columns][:40], note)
        self.header(ws, hr, columns, rotated=range(1, ncols))

        def rows_t() -> Iterable[Row]:
            per_task = [0] * len(tasks)
            styles: dict[tuple, _Style] = {}
            for d in districts:
                counts = [len(c[d]) if d in c else "不涉及" if d in na else None for c, na in zip(cov, nas)]
                key = tuple(1 if c.__class__ is int else 2 if c else 0 for c in counts)
                style = styles.get(key)
                if style is None:
                    style = styles[key] = _Style([name_fmt, *(covered_fmt if k == 1 else na_fmt if k else blank_fmt
                                                              for k in key), total_fmt])
                for i, k in enumerate(key):
                    per_task[i] += k == 1
                yield [d, *counts, sum(k == 1 for k in key)], style, 18
            yield ["覆盖地区数", *per_task, None], _Style([total_fmt] * ncols), 22

        self.block(ws, hr + 1, ncols, len(districts) + 1, rows_t)
        self.page(ws, hr, ncols, hr + len(districts), fit=False, freeze_cols=1, repeat_cols=1)

    # 图表 ---------------------------------------------------------------------------------------------

    def chart_targets(self) -> list[tuple[TargetComparison, str]]:
        out = []
        for t in self.rollup.targets:
            if t.summable and t.city_value and t.districts and math.isfinite(t.district_sum / t.city_value):
                label = f"{t.city_seq if t.city_seq is not None else '目标'} {t.metric}"
                unit = _scale(t)[1]
                out.append((t, f"{label}（{unit}）" if unit else label))
        return out

    def write_charts(self, ws) -> tuple | None:
        """Each chart above the table it draws; returns where the target data is, for 目标对比's chart."""
        ws.set_column(0, 0, 36)
        ws.set_column(1, 4 + STACK_MAX_DISTRICTS, 9)
        ws.set_row(0, 36)
        ws.write_string(0, 0, "图表", self.fmt(font=HEI, size=16, bold=True, border=False))
        head, text = self.header_fmt(), self.fmt(wrap=True)
        num, pct = self.fmt(align="center", num="#,##0.##"), self.fmt(align="center", num='0.0"%"')
        section = self.fmt(font=HEI, size=12, bold=True, border=False)
        targets = self.chart_targets()
        stack = [d for d in self.districts if any(d in t.districts for t, _ in targets)]
        stack = stack if len(stack) <= STACK_MAX_DISTRICTS else []
        ws.set_row(2, 22)
        ws.write_string(2, 0, "一、目标完成情况：各区目标合计占市级目标的比例", section)
        row, target_rows = 3, None
        # Portrait pages; each chart starts a page (the first under the title) and is no taller than one, and
        # no wider than the columns that print (A:G, as LibreOffice measures them too: its units are wider).
        chart_width = int(min(printable_px(False), columns_px([36, *[9] * (CHART_COLUMNS - 1)])) * 0.92)
        # The districts' shares beside the table when they all fit the page, else past the printed columns
        # (the chart reads them there): never a page cut through the middle of them.
        fits = fit_scale([36, *([9] * (3 + len(stack)))], False) >= 1
        at = 4 if fits else CHART_COLUMNS
        room = _page_px(landscape=False) - (36 + 22) * 4 / 3 - 16
        if targets:
            chart_rows = math.ceil(min(self.target_chart_height(len(targets)), room) / 20) + 1
            row += chart_rows
            ws.set_row(row, 30)
            for c, h in enumerate(["指标", "市级目标", "各区合计", "完成比例（%）"]):
                ws.write_string(row, c, h, head)
            for c, d in enumerate(stack, start=at):
                ws.write_string(row, c, d, head)
            first = row + 1
            for t, label in targets:
                row += 1
                share = t.district_sum / t.city_value * 100
                factor = _scale(t)[0]
                label = f"{label} 合计{share:.0f}%"
                ws.set_row(row, _height(text_lines(label, 40 * 7, 11)))
                ws.write_string(row, 0, label, text)
                ws.write_number(row, 1, _scaled(t.city_value, factor), num)
                ws.write_number(row, 2, _scaled(t.district_sum, factor), num)
                ws.write_number(row, 3, round(share, 1), pct)
                for c, d in enumerate(stack, start=at):
                    if d in t.districts:
                        ws.write_number(row, c, round(t.districts[d] / t.city_value * 100, 1), pct)
            target_rows = (first, row, stack, at)
            ws.insert_chart(3, 0, self.target_chart(target_rows, width=chart_width, max_height=room),
                            {"x_offset": 4, "y_offset": 6})
        else:
            row += 1
            ws.write_string(row, 0, "没有可合计的数值目标（或各区均未填报数值）。", self.fmt(border=False))
        # Coverage per district, least covered first: those are the ones to call.
        row += 2
        ws.set_row(row, 22)
        ws.write_string(row, 0, "二、各地区覆盖市级任务数（由少到多）", section)
        ws.set_h_pagebreaks([row])
        n_tasks = sum(1 for t in self.rollup.city.rows if t.seq is not None)
        unmapped: dict[str, int] = {}
        for (region, _file), (_m, u) in self.counts.items():
            unmapped[region] = unmapped.get(region, 0) + u
        rows_of: dict[str, int] = {}
        for rec in self.rollup.received:
            if rec.region:
                rows_of[rec.region] = rows_of.get(rec.region, 0) + len(rec.rows)
        covered = {d: 0 for d in self.districts}
        for by_region in self.coverage.values():
            for d in by_region:
                if d in covered:
                    covered[d] += 1
        stats = sorted((covered[d], i, d) for i, d in enumerate(self.districts))
        shown = min(len(stats), CHART_MAX_DISTRICTS)
        chart_at = row + 1
        height = int(min(160 + (26 if shown <= 20 else 20) * shown, room))  # room for every region's label
        header_row = chart_at + (math.ceil(height / 20) + 1 if stats else 0)
        ws.set_row(header_row, 30)
        for c, h in enumerate(["地区", "覆盖任务数", "未覆盖任务数", "台账行数", "未对应行数"]):
            ws.write_string(header_row, c, h, head)
        style = _Style([text, num, num, num, num])
        self.block(ws, header_row + 1, 5, len(stats), lambda: (
            ([d, c, max(n_tasks - c, 0), rows_of.get(d, 0), unmapped.get(d, 0)], style, 18) for c, _i, d in stats))
        if stats:
            chart = self.wb.add_chart({"type": "bar", "subtype": "stacked"})
            for c, color in ((1, "#5B9BD5"), (2, "#F4B183")):
                chart.add_series({
                    "name": [CHARTS, header_row, c],
                    "categories": [CHARTS, header_row + 1, 0, header_row + shown, 0],
                    "values": [CHARTS, header_row + 1, c, header_row + shown, c],
                    "fill": {"color": color}, "gap": 40,
                    "data_labels": {"value": True, "font": {"size": 10}} if c == 1 else {},
                })
            title = "各地区覆盖市级任务数" if shown == len(stats) else f"覆盖市级任务最少的{shown}个地区"
            self._chart_style(chart, title)
            chart.set_x_axis({"name": f"市级任务数（共{n_tasks}项）", "name_font": {"name": FANG, "size": 10},
                              "num_font": {"size": 10}, "min": 0, "max": n_tasks or None,
                              "major_unit": 1 if n_tasks <= 10 else 5 if n_tasks <= 50 else 10,
                              "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
            chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"size": 10, "name": FANG}})
            chart.set_size({"width": chart_width, "height": height})
            ws.insert_chart(chart_at, 0, chart, {"x_offset": 4, "y_offset": 6})
        # The per-district share columns print only when all of them fit beside the four of the chart.
        ncols = 4 + len(stack) if fits else 4
        ws.print_area(0, 0, header_row + max(len(stats), 1), max(ncols, CHART_COLUMNS) - 1)  # charts span A:G
        ws.freeze_panes(1, 0)
        ws.set_portrait()
        ws.set_paper(A4)
        ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.5, bottom=0.6)
        ws.center_horizontally()
        ws.fit_to_pages(1, 0)
        ws.set_footer(footer(CHARTS))
        return target_rows

    @staticmethod
    def target_chart_height(n: int) -> int:
        return max(280, 110 + 34 * n)

    def _chart_style(self, chart, title: str) -> None:
        chart.set_title({"name": title, "name_font": {"name": HEI, "size": 12, "bold": True}})
        chart.set_legend({"position": "bottom", "font": {"name": FANG, "size": 10}})
        chart.set_chartarea({"border": {"color": "#BFBFBF"}})

    def target_chart(self, target_rows: tuple, width: int = 760, max_height: float = 10_000):
        """各区合计 as a share of the city's target, per district stacked when there are few."""
        first, last, stack, at = target_rows
        chart = self.wb.add_chart({"type": "bar", "subtype": "stacked"} if stack else {"type": "bar"})
        palette = ["#5B9BD5", "#ED7D31", "#A5A5A5", "#FFC000", "#4472C4", "#70AD47", "#264478", "#9E480E",
                   "#636363", "#997300", "#255E91", "#43682B", "#698ED0", "#F1975A", "#B7B7B7"]
        categories = [CHARTS, first, 0, last, 0]
        if stack:
            for i, d in enumerate(stack):
                chart.add_series({"name": d, "categories": categories, "values": [CHARTS, first, at + i, last, at + i],
                                  "fill": {"color": palette[i % len(palette)]}, "gap": 50})
        else:
            chart.add_series({"name": "各区合计占市级目标", "categories": categories,
                              "values": [CHARTS, first, 3, last, 3], "fill": {"color": "#5B9BD5"}, "gap": 50,
                              "data_labels": {"value": True, "num_format": '0"%"', "font": {"size": 10}}})
        self._chart_style(chart, "各区目标合计占市级目标（%）")
        top = max((t.district_sum / t.city_value * 100 for t, _ in self.chart_targets()), default=100)
        chart.set_x_axis({"name": "占市级目标的百分比（100% 即达到市级目标）", "name_font": {"name": FANG, "size": 10},
                          "min": 0, "max": max(100, math.ceil(top / 25) * 25), "major_unit": 25,
                          "num_format": '0"%"', "num_font": {"size": 10},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"size": 10, "name": FANG}})
        if not stack:
            chart.set_legend({"none": True})
        chart.set_size({"width": width, "height": int(min(self.target_chart_height(last - first + 1), max_height))})
        return chart

    # 目标对比 -----------------------------------------------------------------------------------------

    def target_list(self) -> list[TargetComparison]:
        return sorted(self.rollup.targets, key=lambda t: (t.city_seq is None, t.city_seq or 0))

    def target_groups(self) -> list[list[str]]:
        """The districts of 目标对比, in groups that fit one page width beside the comparison: a sheet a group
        (目标对比, 目标对比（续1）…). Past ``TARGET_GROUPS_MAX`` districts, one sheet whose printed page holds the
        comparison alone (the districts' columns are there to filter, not to print: 明细 has their rows)."""
        targets = self.target_list()
        regions = [d for d in self.districts if any(t.status(d) != "none" for t in targets)]
        if len(regions) > TARGET_GROUPS_MAX or not regions:
            return [regions]
        fixed = [w for _h, w in TARGET_FIXED]
        fit = max((k for k in range(1, len(regions) + 1) if fit_scale([*fixed, *[TARGET_DISTRICT_W] * k], True) >= 1),
                  default=1)
        groups = math.ceil(len(regions) / fit)
        size = math.ceil(len(regions) / groups)  # the groups as even as they can be
        return [regions[i:i + size] for i in range(0, len(regions), size)]

    def write_targets(self, sheets: list) -> None:
        """目标对比: each numeric city target, its figure, the districts' sum, the gap, and each district's figure
        or what it reported instead (指标不同, 未填数值, 未覆盖, 不涉及); the figures given under another metric listed
        under the table, both metrics named."""
        targets = self.target_list()
        groups = self.target_groups()
        for i, (ws, regions) in enumerate(zip(sheets, groups, strict=True)):
            self._target_sheet(ws, targets, regions, i, len(groups))

    def _target_sheet(self, ws, targets: list[TargetComparison], regions: list[str], index: int, count: int) -> None:
        wide = len(regions) > TARGET_GROUPS_MAX  # the page prints the comparison, not thousands of columns
        ncols = len(TARGET_FIXED) + len(regions)
        note = ("差距 = 市级目标 − 各区合计（正数为尚差的数量），绿色为已达到、红色为未达到；比例、增速等只列各区数值，"
                "不合计；大数以万、亿为单位。各地区一栏：数字为计入合计的数值；“指标不同”（蓝）为报了数值但指标与市级"
                "不同，未计入合计（见表下）；“未填数值”（黄）为覆盖该任务但未写数值；“未覆盖”（橙）为没有对应该任务的"
                "行；“不涉及”（灰）为说明不承担该任务。")
        if count > 1:
            note += f"地区较多，分{count}张表列出，本表为第{index + 1}张：{'、'.join(regions)}。"
        columns = [*TARGET_FIXED, *((d, TARGET_DISTRICT_W) for d in regions)]
        if wide:
            columns[:len(TARGET_FIXED)] = self.fitted(TARGET_FIXED, {1: 12})
        else:
            columns = self.fitted(columns, {1: 12})
        title = "目标对比（市级目标与各区目标合计）" + (f"（续{index}）" if index else "")
        printed = [w for _, w in columns][:len(TARGET_FIXED) if wide else ncols]
        hr = self.title(ws, title, printed, note)
        self.header(ws, hr, columns)
        center, body = self.fmt(align="center", wrap=True), self.fmt(wrap=True)
        ints, floats = self.fmt(align="right", num="#,##0"), self.fmt(align="right", num="#,##0.00")
        grey = self.fmt(align="center", color="808080", italic=True)
        status_fmts = {status: self.fmt(align="center", wrap=True, fill=fill) for status, fill in TARGET_STATUS_FILLS.items()}
        gap_fmts = {(fill, whole): self.fmt(align="right", num="#,##0" if whole else "#,##0.##", fill=fill)
                    for fill in (None, GOOD_FILL, SHORT_FILL) for whole in (True, False)}
        share_fmts = {fill: self.fmt(align="right", num="0%", fill=fill) for fill in (None, GOOD_FILL, SHORT_FILL)}
        per_metric = _per_line(columns[1][1])

        def rows() -> Iterable[Row]:
            for t in targets:
                factor, unit = _scale(t)
                city, total, gap = (_finite(_scaled(v, factor)) for v in (t.city_value, t.district_sum, t.gap))
                share = t.district_sum / t.city_value if t.district_sum is not None and t.city_value else None
                fill = None
                if gap is not None:
                    met = total <= city if t.comparator in ("<=", "<") else total >= city
                    fill = GOOD_FILL if met else SHORT_FILL
                year = t.year if t.year is not None else "每年" if t.per_year else None
                values = [t.city_seq if t.city_seq is not None else "目标", t.metric, year, unit or None,
                          COMPARATOR_ZH.get(t.comparator, t.comparator), city, total if t.summable else "不合计", gap,
                          _finite(share)]
                formats = [center, body, center, center, center, ints if _whole(city) else floats,
                           (ints if _whole(total) else floats) if t.summable else grey,
                           gap_fmts[fill, _whole(gap) or gap is None], share_fmts[fill]]
                for d in regions:
                    status = t.status(d)
                    if status == "figure":
                        v = _finite(_scaled(t.districts[d], factor))
                        values.append(v)
                        formats.append(ints if _whole(v) or v is None else floats)
                    else:
                        values.append(TARGET_STATUS_ZH.get(status))
                        formats.append(status_fmts.get(status, body))
                yield values, _Style(formats), _height(_lines(t.metric, per_metric))

        last = hr + len(targets)
        if wide:  # thousands of districts: streamed, as 映射 is
            self.block(ws, hr + 1, ncols, len(targets), rows)
            ws.print_area(0, 0, last, len(TARGET_FIXED) - 1)
        else:
            _Block(ws, hr + 1, ncols, len(targets), rows).write_public()
            last = self._other_metrics(ws, targets, regions, last, ncols, sum(w for _, w in columns))
        self.page(ws, hr, ncols, hr + len(targets), fit=True, freeze_cols=2)
        if not targets:
            ws.write_string(hr + 2, 1, "市级台账中没有可比较的数值目标。", self.fmt(border=False))

    def _other_metrics(self, ws, targets, regions, row: int, ncols: int, width: float) -> int:
        """Under the table, a line for each figure a district gave under another metric than the city's."""
        lines = [f"{t.city_seq if t.city_seq is not None else '目标'}　{d}报“{'；'.join(t.other[d])}”，"
                 f"与市级指标“{t.metric}”不同，未计入合计" for t in targets for d in regions if d in t.other]
        if not lines:
            return row
        row += 2
        ws.write_string(row, 0, "指标不同的数值（未计入合计）", self.fmt(font=HEI, bold=True, border=False))
        text = self.fmt(wrap=True, border=False)
        for line in lines:
            row += 1
            ws.set_row(row, _height(_lines(line, _per_line(width))))
            ws.merge_range(row, 0, row, ncols - 1, line, text)
        return row

    # 未报送 -------------------------------------------------------------------------------------------

    def write_missing(self, ws) -> None:
        """The districts the figures lack: those that sent nothing, those whose files could not be used, and those
        that sent their form back blank."""
        r = self.rollup
        missing, unusable, blank = r.missing_regions, r.unreadable_regions, r.blank_regions
        sub = (f"应报送 {len(r.expected_regions)} 个地区，未报送 {len(missing)} 个" if r.expected_regions
               else "未提供应报送地区名单（单位名录中也没有本市的区县），无法判断哪些地区未报送")
        sub += f"，报送文件无法使用 {len(unusable)} 个" if unusable else ""
        sub += f"，报送空白表 {len(blank)} 个（计为已报送，不覆盖任何任务）。" if blank else "。"
        widths = (18, 18, 60)
        hr = self.title(ws, "未报送地区", widths, sub)
        self.header(ws, hr, (("地区", widths[0]), ("状态", widths[1]), ("说明", widths[2])))
        body, red = self.fmt(), self.fmt(align="center", fill=SHORT_FILL)
        note = self.fmt(wrap=True)
        per_line = _per_line(widths[2])
        row = hr
        for region in missing:
            row += 1
            ws.set_row(row, 22)
            ws.write_string(row, 0, region, body)
            ws.write_string(row, 1, "未报送", red)
            ws.write_blank(row, 2, None, note)
        for region in unusable:
            row += 1
            # Each file and why it could not be used (its error problem); the rest is on 问题清单.
            why = "\n".join(f"“{rec.name}”：" + next((p.message for p in rec.problems if p.severity == "error"),
                                                     "无法使用") for rec in r.unusable_files(region))
            ws.set_row(row, max(22, _height(_lines(why, per_line))))
            ws.write_string(row, 0, region, body)
            ws.write_string(row, 1, "报送文件无法使用", red)
            ws.write_string(row, 2, why, note)
        n_tasks = sum(1 for t in r.city.rows if t.seq is not None)
        for region in blank:
            row += 1
            why = "\n".join(f"“{rec.name}”：表中没有填写任何内容，{n_tasks}项市级任务均未覆盖"
                            for rec in r.received if rec.region == region and rec.blank)
            ws.set_row(row, max(22, _height(_lines(why, per_line))))
            ws.write_string(row, 0, region, body)
            ws.write_string(row, 1, "已报送（空白）", self.fmt(align="center", fill=PART_FILL))
            ws.write_string(row, 2, why, note)
        if not missing and not unusable and not blank and r.expected_regions:
            ws.write_string(row + 1, 0, "所有地区均已报送", self.fmt(border=False, color="548235"))
        self.page(ws, hr, len(widths), row, landscape=False)
        if missing or unusable or blank:
            ws.set_tab_color("#C00000")

    # 问题概览 -----------------------------------------------------------------------------------------

    def write_overview(self, ws) -> None:
        """A line for each kind of problem: its severity, how many, in how many districts and which — what the
        thousands of lines of 问题清单 come to, before a clerk filters it by 问题类型."""
        r = self.rollup
        region = problem_region(r, city=False)
        kinds = problem_overview(r.problems, region)
        columns = [("严重程度", 9), ("问题类型", 18), ("地区数", 7), ("问题数", 8), ("涉及地区", 60)]
        columns = self.fitted(columns, {4: 60})
        sub = (f"共 {len(r.problems):,} 条问题，分 {len(kinds)} 类：{problem_summary(r.problems, region)}。"
               f"逐条说明见“{PROBLEMS_SHEET}”表（可按“问题类型”筛选）。") if kinds else "未发现问题。"
        hr = self.title(ws, "问题概览", [w for _h, w in columns], sub)
        self.header(ws, hr, columns)
        wrap, count = self.fmt(wrap=True), self.fmt(align="center", num="#,##0")
        per_type, per_where = _per_line(columns[1][1]), _per_line(columns[4][1])
        row = hr
        for kind in kinds:
            row += 1
            where = _cap(kind.regions, OVERVIEW_REGIONS)
            if kind.unplaced:
                where = "、".join(filter(None, [where, f"市级台账或映射表 {kind.unplaced:,} 条"]))
            ws.set_row(row, _height(max(_lines(where, per_where), _lines(kind.title, per_type))))
            ws.write_string(row, 0, SEVERITY_ZH[kind.severity], self.fmt(align="center", fill=FILLS[kind.severity]))
            ws.write_string(row, 1, kind.title, wrap)
            ws.write_number(row, 2, len(kind.regions), count)
            ws.write_number(row, 3, kind.count, count)
            ws.write_string(row, 4, where or "", wrap)
        self.page(ws, hr, len(columns), row)
        if kinds:
            ws.set_tab_color("#C00000" if kinds[0].severity == "error" else "#FFC000")

    # 问题清单 -----------------------------------------------------------------------------------------

    def write_problems(self, ws) -> None:
        """The same columns and colours as validate's 问题清单 (patch.py); cells name the district file."""
        r = self.rollup
        problems = r.problems
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        # one line per kind of problem in a file (a district's 37 unknown units: one line naming the cells)
        ordered = group_problems(sorted(problems, key=lambda p: (rank[p.severity], p.file or "", p.sheet or "",
                                                                 p.line or 0)))
        region = problem_region(r)
        columns = problem_columns()
        self.header(ws, 0, columns, hidden=(CODE_COLUMN,))
        plain, wrap, left = self.fmt(align="center"), self.fmt(wrap=True), self.fmt()
        # The text columns wrap as in validate's list (patch.WRAPPED); 严重程度 takes its severity's fill.
        base = [wrap if c in WRAPPED else plain if c in (0, 9, 10) else left for c in range(len(columns))]
        base[2] = None
        styles = {s: _Style([f if f is not None else self.fmt(align="center", fill=FILLS[s]) for f in base])
                  for s in SEVERITIES}
        texts = sorted(WRAPPED)
        per_lines = [_per_line(columns[c][1]) for c in texts]

        def rows() -> Iterable[Row]:
            for i, p in enumerate(ordered, start=1):
                values = problem_values(i, p, region(p))
                lines = max(_lines(values[c] or "", per) for c, per in zip(texts, per_lines))
                yield values, styles[p.severity], _height(lines)

        self.block(ws, 1, len(columns), len(ordered), rows)
        self.page(ws, 0, len(columns), max(len(ordered), 1))
        if problems:
            ws.set_tab_color("#C00000" if any(p.severity == "error" for p in problems) else "#FFC000")

    # 映射 ----------------------------------------------------------------------------------------------

    def write_mapping(self, ws) -> None:
        from xlsxwriter.utility import xl_rowcol_to_cell

        # The rows a clerk may correct: not those a distributed form's 任务键 maps (certain by construction), nor
        # rows left blank (nothing to map); each is on its district's sheet, and every row in --json.
        mappings = [m for m in self.rollup.mappings if m.method not in ("blank", "key")]
        keyed = sum(m.method == "key" for m in self.rollup.mappings)
        ncols = len(MAPPING_COLUMNS)
        sub = MAPPING_INSTRUCTION.format(help=CITY_SEQS_HELP)
        if keyed:
            sub += f"按分发表的任务键对应的 {keyed:,} 行确定无误，不列在此表（见各地区表）。"
        fields = [f for f, _h, _w in MAPPING_COLUMNS]
        # Where each row came from (file, sheet, row) is for reading the sheet back, not for the clerk, who
        # knows a row by 地区, 序号 and 重点任务: hidden, so it does not print.
        lineage = [fields.index(f) for f in MAPPING_HIDDEN]
        columns = self.fitted([(h, w) for _f, h, w in MAPPING_COLUMNS],
                              {fields.index(f): w for f, w in MAPPING_FLEXIBLE.items()}, hidden=lineage)
        hr = self.title(ws, "地区台账行与市级任务的对应关系", [w for i, (_h, w) in enumerate(columns)
                                                              if i not in lineage], sub)
        self.header(ws, hr, columns, hidden=lineage)
        widths = {f: w for f, (_h, w) in zip(fields, columns)}
        # (align, wrap, number format) per column; unmapped rows add a fill.
        spec = [("left", False, None), ("left", False, None), ("left", False, None), ("center", False, None),
                ("center", False, None), ("left", True, None), ("left", True, None),
                ("center", False, "@"),  # text: Excel must not read "10,12" as 1012
                ("left", True, None), ("center", False, "0.00"), ("center", False, None), ("left", True, None)]
        mapped, unmapped = (_Style([self.fmt(align=a, wrap=w, num=n, fill=fill) for a, w, n in spec])
                            for fill in (None, UNMAPPED_FILL))
        p_task, p_content = _per_line(widths["task"]), _per_line(widths["content"])
        self._city_per_line = _per_line(widths["city_tasks"])
        self._seq_text.clear()  # their line counts depend on that width
        p_note = _per_line(widths["note"])
        methods = {k: (METHOD_ZH.get(k, k), MAPPING_NOTES.get(k) or None, _lines(MAPPING_NOTES.get(k, ""), p_note))
                   for k in {m.method for m in mappings}}

        cut = min(p_content - 1, 39)  # a line: the whole text is on the district's sheet

        def rows() -> Iterable[Row]:
            # Heights by length: task names and a two-line summary are Chinese text.
            seq_text, heights, top = self.seq_text, _HEIGHTS, len(_HEIGHTS) - 1
            for m in mappings:
                t = m.row
                o = t.origin
                content = t.content if len(t.content) <= cut else t.content[:cut - 1] + "…"
                if "\n" in content:
                    content = content.replace("\n", " ")
                seqs, _names, city_text, city_lines, _n = seq_text(m.city_seqs)
                if m.method == "key" and len(m.city_seqs) == 1 and self.city_names.get(m.city_seqs[0]) == t.task:
                    city_text, city_lines = None, 1  # the city task is the row's own name: its number says it
                method, note, note_lines = methods[m.method]
                if m.na_seqs:
                    note = f"本区不涉及市级任务{'、'.join(map(str, m.na_seqs))}"
                lines = max(-(-len(t.task) // p_task), -(-len(content) // p_content), city_lines, note_lines)
                yield ((m.region, m.file or o.file, o.sheet, o.row if o.row is not None else o.line, t.seq,
                        t.task or None, content or None, seqs, city_text, _finite(m.confidence), method, note),
                       unmapped if m.unmatched else mapped, heights[min(lines, top)])

        self.block(ws, hr + 1, ncols, len(mappings), rows)
        last = hr + max(len(mappings), 1)
        area = f"{xl_rowcol_to_cell(hr, 0, True, True)}:{xl_rowcol_to_cell(last, ncols - 1, True, True)}"
        self.wb.define_name(MAPPING_NAME, f"='{MAPPING_SHEET}'!{area}")
        col = next(i for i, (f, _h, _w) in enumerate(MAPPING_COLUMNS) if f == "city_seqs")
        # Validation (the input message) reaches past the data, to the rows a clerk appends.
        ws.data_validation(hr + 1, col, last + 1000, col, {
            "validate": "any", "input_title": "对应市级任务序号", "input_message": CITY_SEQS_HELP})
        ws.ignore_errors({"number_stored_as_text": f"{xl_rowcol_to_cell(hr + 1, col)}:"
                                                  f"{xl_rowcol_to_cell(last + 1000, col)}"})
        self.page(ws, hr, ncols, hr + len(mappings), freeze_cols=1)

    # district rows ------------------------------------------------------------------------------------

    def write_district(self, ws, received: list[Received], with_region: bool) -> None:
        """Every goal and task row of these files, in sheet order, with the reporting columns they filled."""
        extras = list(dict.fromkeys(k for rec in received for t in (*rec.ledger.goals, *rec.rows)
                                    for k, v in t.extra.items() if v not in (None, "") and k not in HIDDEN_EXTRAS))
        base_columns = [*DISTRICT_COLUMNS[:5], *((k, EXTRA_WIDTHS.get(k, 14)) for k in extras), *DISTRICT_COLUMNS[5:]]
        columns = [("地区", 7), *base_columns] if with_region else base_columns
        # 工作内容, 来源 and the long reporting columns give way so the sheet prints at 100%.
        if not with_region:
            columns[-1] = ("来源", 8.5)
        flexible = {i: (20 if h == "工作内容" else 14 if h == "来源" else 10) for i, (h, _w) in enumerate(columns)
                    if h in ("工作内容", "目标", "进展情况") or (h == "来源" and with_region)}
        columns = self.fitted(columns, flexible)
        ncols = len(columns)
        # Rows with nothing of the district's in them (a form's city rows and goal rows left as they came) are
        # named under the title, not printed a row each: a blank form is a line, not pages of empty rows.
        blank: dict[int, list] = {}
        for i, rec in enumerate(received):
            left = [row for row, (_s, _c, method) in zip(rec.rows, rec.row_maps) if method == "blank"]
            left += [g for g in rec.ledger.goals if not goal_reported(g)]
            blank[i] = left
        skipped = {id(item) for left in blank.values() for item in left}
        total = sum(len(rec.rows) + len(rec.ledger.goals) for rec in received) - len(skipped)
        note = (f"“来源”为地区文件中的位置（{'文件!工作表!行' if with_region else '行，或工作表!行'}）；"
                "黄色为未对应到市级任务的行。")
        if with_region:
            hr = self.title(ws, "各地区台账明细", [w for _, w in columns],
                            f"{len(received)} 个文件，列出 {total} 行（含工作目标行），未填写的市级任务行和工作目标行"
                            f" {len(skipped)} 行未列出。{note}")
        else:
            rec = received[0]
            keys = [row.extra.get("任务键") or str(row.seq) for row in blank[0] if row.__class__ is TaskRow]
            left = f"未填写的市级任务（不计为覆盖，未列出）：{'、'.join(keys)}。" if keys else ""
            hr = self.title(ws, f"{rec.region or rec.name} 工作台账", [w for _, w in columns],
                            f"文件：{rec.name}（第 {rec.version} 版），列出 {total} 行（含工作目标行）。{left}{note}")
        self.header(ws, hr, columns)
        off = 1 if with_region else 0
        center, left, wrap = self.fmt(align="center"), self.fmt(), self.fmt(wrap=True)
        base = [center, wrap, wrap, wrap, wrap, *(wrap for _ in extras), wrap, self.fmt(align="center", num="0.00"), wrap]
        lead = [left] if with_region else []
        plain = _Style(lead + base)
        city_col = 5 + len(extras)
        flagged = _Style(lead + base[:city_col] + [self.fmt(wrap=True, fill=UNMAPPED_FILL)] + base[city_col + 1:])
        goal_style = _Style(lead + base[:1] + [self.fmt(font=KAI, bold=True, wrap=True)] + base[2:])
        widths = [w for _, w in columns[off:]]
        p_task, p_content, p_lead, p_resp = (_per_line(w) for w in widths[1:5])
        p_extra = [_per_line(w) for w in widths[5:city_col]]
        p_src = _per_line(widths[-1])
        no_mapping = (None, "（未对应）", None, 1, 1)
        goal_mapping = (None, "（工作目标）", None, 1, 1)
        # what a row mapped to no city task on purpose says in 对应市级任务
        quiet = {"blank": (None, "（未填写）", None, 1, 1), "own": (None, "（本区任务）", None, 1, 1)}

        one_sheet = {id(rec): len({i.origin.sheet for i in (*rec.rows, *rec.ledger.goals)}) <= 1 for rec in received}

        def source_of(o, rec) -> str:
            # A district's own sheet names its file in the line under the title: 来源 is the sheet and row (the
            # row alone when the file's rows are all on one sheet).
            file = o.file or rec.name
            if o.sheet or o.row is not None:
                if not with_region and one_sheet[id(rec)] and o.row is not None:
                    return f"第{o.row}行"
                where = f"{o.sheet or ''}!{'' if o.row is None else o.row}"
                return f"{file}!{where}" if with_region else where
            if o.line is not None:
                return f"{file} 第{o.line}行" if with_region else f"第{o.line}行"
            return file

        def in_order(rec) -> list:
            goals = rec.ledger.goals
            if not goals:
                return rec.rows
            items = [*goals, *rec.rows]
            where = [i.origin.row if i.origin.row is not None else i.origin.line for i in items]
            if None in where:
                return items  # no position for some: goals first, as plans state them
            return [items[k] for k in sorted(range(len(items)), key=where.__getitem__)]

        def rows() -> Iterable[Row]:
            seq_text, heights, top = self.seq_text, _HEIGHTS, len(_HEIGHTS) - 1
            for rec in received:
                region = rec.region or None
                by_row = {id(m.row): m for m in self.by_file.get((rec.region, rec.name), ())}
                for t in in_order(rec):
                    if id(t) in skipped:
                        continue
                    o = t.origin
                    source = source_of(o, rec)
                    if t.__class__ is not TaskRow:  # a 工作目标 line, with whatever its row reports
                        task = f"{t.year}年工作目标" if t.year else "工作目标"
                        lead = (t.raw.get("lead") or "").strip() or "\n".join(t.lead_units)
                        resp = (t.raw.get("resp") or "").strip() or "\n".join(t.responsible_units)
                        values = [None, task, t.text or None, lead or None, resp or None, goal_mapping[1], None,
                                  source]
                        lines = max(_lines(t.text, p_content), len(t.lead_units), len(t.responsible_units),
                                    _lines(source, p_src))
                        if extras:
                            filled = [str(v) if (v := t.extra.get(k)) not in (None, "") else None for k in extras]
                            values[5:5] = filled
                            lines = max([lines, *(_lines(v, p) for v, p in zip(filled, p_extra) if v)])
                        if with_region:
                            values.insert(0, region)
                        yield values, goal_style, heights[min(lines, top)]
                        continue
                    m = by_row.get(id(t))
                    mapped = m is not None and m.city_seqs
                    if mapped:
                        _seqs, city_text, _flat, _l, city_lines = seq_text(m.city_seqs)
                        if len(m.city_seqs) == 1 and self.city_names.get(m.city_seqs[0]) == t.task:
                            city_text, city_lines = str(m.city_seqs[0]), 1  # its own name: the number says it
                    elif m is not None and m.na_seqs:
                        city_text, city_lines = f"（不涉及{'、'.join(map(str, m.na_seqs))}）", 1
                    else:
                        _seqs, city_text, _flat, _l, city_lines = quiet.get(m.method if m else "", no_mapping)
                    # The unit cells as typed (一格两个单位, 顿号 or line break), else the names read from them.
                    raw = t.raw
                    lead = (raw.get("lead") or "").strip() if raw else ""
                    resp = (raw.get("resp") or "").strip() if raw else ""
                    values = [t.seq if t.seq is not None else (t.label or None), t.task or None, t.content or None,
                              lead or "\n".join(t.lead_units) or None, resp or "\n".join(t.responsible_units) or None,
                              city_text, _finite(m.confidence) if m is not None and m.mapped else None, source]
                    # Heights: the content measured, the rest by length (Chinese names; file names err tall).
                    lines = max(_lines(t.content, p_content), -(-len(t.task) // p_task), city_lines,
                                _lines(lead, p_lead) if lead else _name_lines(t.lead_units, p_lead),
                                _lines(resp, p_resp) if resp else _name_lines(t.responsible_units, p_resp),
                                _lines(source, p_src))
                    if extras:
                        filled = [str(v) if (v := t.extra.get(k)) not in (None, "") else None for k in extras]
                        values[5:5] = filled
                        lines = max([lines, *(_lines(v, p) for v, p in zip(filled, p_extra) if v)])
                    if with_region:
                        values.insert(0, region)
                    style = flagged if m is None or m.unmatched else plain
                    yield values, style, heights[min(lines, top)]

        self.block(ws, hr + 1, ncols, total, rows)
        self.page(ws, hr, ncols, hr + total, freeze_cols=off + 2)

    # 来源 ----------------------------------------------------------------------------------------------

    def write_sources(self, ws) -> None:
        r = self.rollup
        ncols = len(SOURCE_COLUMNS)
        sub = f"生成时间：{r.created:%Y-%m-%d %H:%M:%S}"
        if r.archive_run:
            sub += f"　　归档编号：{r.archive_run}（负责汇总的同志可凭此编号从归档中重新生成本汇总）"
        # The digests identify files for the archive and for programs; a clerk prints the rest.
        sha = next(i for i, (h, _w) in enumerate(SOURCE_COLUMNS) if h == "sha256")
        columns = self.fitted(SOURCE_COLUMNS, {1: 16}, hidden=(sha,))
        hr = self.title(ws, "汇总所用文件", [w for i, (_h, w) in enumerate(columns) if i != sha], sub)
        self.header(ws, hr, columns, hidden=(sha,))
        left, center, wrap = self.fmt(), self.fmt(align="center"), self.fmt(wrap=True)
        base = [left, wrap, center, self.fmt(font="Consolas", wrap=True),
                self.fmt(align="center", num="yyyy-mm-dd hh:mm:ss"), center, center, center]
        styles = {status: _Style([*base, f, center]) for status, f in (
            ("使用中", center), ("市级台账", self.fmt(align="center", fill=ACTION_HEX)),
            ("无法读取", self.fmt(align="center", fill=SHORT_FILL)),
            ("已被新版本取代", self.fmt(align="center", color="808080", italic=True)))}
        files = [*((x, "使用中" if x.ledger is not None else "无法读取") for x in r.received),
                 *((x, "已被新版本取代") for x in r.superseded)]
        city = Path(r.city_file)
        per_line = _per_line(columns[1][1])

        def rows() -> Iterable[Row]:
            yield ([r.city.region or "", city.name, None, r.city_sha256 or _sha256(city), None, len(r.city.rows),
                    None, None,
                    "市级台账", None], styles["市级台账"], _height(2))
            for rec, status in files:
                mapped, unmapped = self.counts.get((rec.region, rec.name), (None, None)) if status == "使用中" \
                    else (None, None)
                yield ([rec.region or "（未知）", rec.name, rec.version, rec.sha256, _excel_date(rec.received),
                        len(rec.rows) if rec.ledger is not None else None, mapped, unmapped, status,
                        REGION_FROM_ZH.get(rec.region_from or "", rec.region_from)],
                       styles[status], _height(max(2, _lines(rec.name, per_line))))

        self.block(ws, hr + 1, ncols, len(files) + 1, rows)
        self.page(ws, hr, ncols, hr + len(files) + 1)
