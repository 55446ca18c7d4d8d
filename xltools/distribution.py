"""Distribute the city ledger to its districts: one workbook a district to fill in and send back.

``distribute(city_ledger, out_dir)`` writes, for every district, the ledger template with the city's tasks
pre-filled and locked (序号, 重点任务, and the city's 工作内容 and 牵头单位 as reference columns) and the
district's own columns open (工作内容, 牵头单位, 责任单位, 目标, 完成时限, 进展情况, 完成情况): drop-down lists
of the district's units from a sheet of its own directory, date and status validations, an input message on
every column it fills, an area below for tasks of its own, sheet protection as a guardrail, a 填报说明 sheet,
and the hidden ``_xltools`` metadata (kind = distributed) that lets consolidation map its rows by 任务键.

Speed: the workbook is built with openpyxl once (with placeholders where district text goes) and every
district's file is that workbook's zip with three parts rewritten: the shared strings (placeholders replaced),
the unit sheet and the defined names pointing into it. ``fast=False`` builds each district with openpyxl
instead; the tests check both give the same workbook.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import time
import zlib
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import load_workbook
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.datavalidation import DataValidation

from . import template as tpl
from .errors import OutputError, UnreadableInput
from .layout import needed_height, text_lines
from .model import Ledger
from .printing import fit_widths
from .problems import Problem
from .returned import EXCERPT, NA, as_city, city_targets, encode_locks, reference_lead, reference_text
from .text import cn_number
from .xlio import atomic_write, check_not_in_archive, merge, put

log = logging.getLogger(__name__)

KIND = "distributed"
GUIDE_SHEET = "填报说明"
MANIFEST_NAME = "分发清单.xlsx"
FILE_SUFFIX = "_工作台账（填报）"
REF_CONTENT = "市级工作内容（参考）"  # an excerpt: the first words and the targets (``returned.reference_text``)
REF_LEAD = "市级牵头单位（参考）"
REF_FULL = "市级工作内容（全文）"  # hidden: the city's whole text, for a form taken as the city ledger
REFERENCES = (REF_CONTENT, REF_LEAD, REF_FULL)
OWN_BAND = "本区自行增加的任务"
OWN_ROWS = 10
LINE_ROW_PT = 21  # a band row or an empty row of the form: one line of 12pt text
UNIT_LIST_NAME = "xlt_unit_list"  # the district's unit names: the drop-down lists' source
REF_FILL = PatternFill("solid", fgColor="E8E8E8")  # what the district reads but does not change
DATE_FORMAT = "yyyy-mm-dd"
DATE_RANGE = (date(2024, 1, 1), date(2030, 12, 31))
# Private-use characters stand for district text in the workbook built once; each district's copy
# replaces them.
TOKEN = {"region": "\ue000", "level": "\ue001", "lead": "\ue002", "resp": "\ue003", "unit": "\ue004",
         "code": "\ue005"}
MEASURE_CODE = "WWWWWWWW"
# Text is measured (row heights) with a long stand-in, so every district's copy has the same heights.
MEASURE_REGION = "某某某某某区"
MEASURE_UNIT = "某某某某某某某某局"

_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass
class Distributed:
    """One district's workbook as written."""

    region: str
    path: Path
    tasks: int
    sha256: str
    units: int  # names in its drop-down lists
    zip_path: Path | None = None
    code: str = ""  # its upload code at the desk (``desk``), if the batch goes to one

    def to_dict(self) -> dict:
        return {
            "region": self.region,
            "file": self.path.name,
            "tasks": self.tasks,
            "sha256": self.sha256,
            "units": self.units,
            "zip": self.zip_path.name if self.zip_path else None,
            "code": self.code or None,
        }


@dataclass
class DistributeResult:
    """What distribute wrote: a workbook per district, the manifest, problems (never fatal)."""

    out_dir: Path
    city: str
    batch: str
    files: list[Distributed] = field(default_factory=list)
    manifest: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "city": self.city,
            "batch": self.batch,
            "out_dir": str(self.out_dir),
            "manifest": self.manifest.name if self.manifest else None,
            "files": [f.to_dict() for f in self.files],
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass
class _District:
    """What differs between two districts' workbooks."""

    region: str
    level: str
    units: list  # directory Units listed for the region
    lead: str  # example units in 填报说明
    resp: str
    code: str = ""  # its upload code at the desk, in 填报说明


@dataclass
class _Batch:
    """What every district's workbook shares."""

    ledger: Ledger
    city: str
    title: str  # the city's title: 济南市推动…工作台账
    source: str
    sha256: str
    batch: str
    deadline: date | None
    created: datetime
    template: Path
    password: str | None
    own_rows: int
    desk: str | None = None  # the desk's address (xltools serve), where districts hand in with their codes


# ------------------------------------------------------------------------------------------------- API


def distribute(
    city_ledger,
    out_dir,
    regions=None,
    deadline=None,
    password=None,
    zip=False,
    units=None,
    template=None,
    city=None,
    batch=None,
    own_rows=OWN_ROWS,
    fast=True,
    replace=False,
    desk=None,
    archive=None,
) -> DistributeResult:
    """Write one workbook per district of ``city_ledger`` into ``out_dir`` (and the manifest 分发清单.xlsx).

    ``regions``: names (a list, or text separated by ,，、); default the city's districts in the unit directory
    ``units`` (a path or a loaded Directory; default the bundled one). ``deadline``: the date districts send
    their workbooks back by (a date already past is a warning). ``password``: for the sheet protection (none by
    default: a guardrail against mistakes, not security). ``zip``: also one zip per district. A folder holding an
    earlier distribution is refused (its files may have gone out to districts); ``replace``: its files are moved
    into a folder ``已替换_{its batch}`` inside it first, never deleted. ``desk``: the address of the desk
    (``xltools serve`` over ``archive``, default the default archive) where districts hand in: each district's
    upload code goes into its 填报说明 and into 分发清单.
    """
    from .filler import ledger_title
    from .readers import extract
    from .units.directory import Directory, load_directory

    started = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(
            f"{out_dir} is a file, not a folder", f"“{out_dir}”是文件，不是文件夹，请另选输出文件夹"
        )
    if not out_dir.parent.is_dir():
        raise OutputError(
            f"folder {out_dir.parent} does not exist",
            f"输出文件夹的上级文件夹不存在：{out_dir.parent}。请先创建它或另选输出位置。",
        )
    check_not_in_archive(out_dir)
    out_dir.mkdir(exist_ok=True)
    template = Path(template) if template is not None else tpl.default_template()
    if not template.is_file():
        raise UnreadableInput(f"template {template} not found", f"找不到模板文件：{template}")

    if isinstance(city_ledger, Ledger):
        ledger, source, digest = city_ledger, city_ledger.source or "", ""
    else:
        path = Path(city_ledger)
        ledger = as_city(extract(path))  # a district's form stands for the city ledger it was made from
        source, digest = path.name, hashlib.sha256(path.read_bytes()).hexdigest()
    city = city or ledger.region
    if not city:
        raise UnreadableInput(
            f"{source}: the city cannot be told from the title",
            f"无法从“{source}”的标题判断是哪个市的台账，请用 --city 指定（如 --city 济南市）",
        )
    if not ledger.rows:
        raise UnreadableInput(f"{source}: no tasks found", f"未能从“{source}”中读出任何重点任务，无法分发。")
    directory = units if isinstance(units, Directory) else load_directory(units)
    problems: list[Problem] = []
    names = _region_list(regions) if regions is not None else directory.children(city)
    if not names:
        raise UnreadableInput(
            f"no districts of {city} in the unit directory",
            f"单位名录的“地区”表中没有{city}下属的区县，请用 --regions 指定（如 --regions 市中区,章丘区）",
        )
    created = datetime.now().replace(microsecond=0)
    batch_info = _Batch(
        ledger=ledger,
        city=city,
        title=ledger_title(ledger),
        source=source,
        sha256=digest,
        batch=batch
        or f"{created:%Y%m%d-%H%M%S}-{(digest or hashlib.sha256(source.encode()).hexdigest())[:6]}",
        deadline=parse_deadline(deadline),
        created=created,
        template=template,
        password=password or None,
        own_rows=own_rows,
        desk=desk or None,
    )
    codes: dict[str, str] = {}
    if desk:
        from .archive import desk_secret, upload_code

        secret = desk_secret(archive)
        codes = {name: upload_code(secret, name) for name in names}
    by_region: dict[str, list] = {}  # directory.region_units scans every unit: once per district is quadratic
    for unit in directory.units:
        by_region.setdefault(unit.region, []).append(unit)
    known = set(directory.regions) | set(by_region)
    for name in names:
        if name not in known:
            problems.append(
                Problem(
                    "distribute-unknown-region",
                    f"单位名录中没有“{name}”，已照常生成，但单位下拉列表为空",
                    severity="warning",
                    value=name,
                    suggestion="请核对地区名称，或先在单位名录的“地区”表中补上该地区",
                )
            )
    bare = [n for n in names if n in known and not by_region.get(n)]
    if bare:  # one note for all: most districts start without a directory
        problems.append(
            Problem(
                "distribute-no-units",
                f"单位名录中还没有{'、'.join(bare)}的单位，这些地区的单位下拉列表为空，由区县直接填写",
                severity="info",
                value="、".join(bare),
                suggestion="可用 xltools units learn 从各区县报回的台账整理其单位名录",
            )
        )
    if batch_info.deadline is not None and batch_info.deadline < created.date():
        problems.append(
            Problem(
                "distribute-deadline-past",
                f"报送截止日期{_date_zh(batch_info.deadline)}已经过去（今天是{_date_zh(created.date())}）",
                severity="warning",
                value=batch_info.deadline.isoformat(),
                suggestion="请核对 --deadline；如确需按原日期下发，可忽略本提示",
            )
        )
    earlier = earlier_distribution(out_dir)
    if earlier:
        if not replace:
            raise OutputError(
                f"{out_dir} holds an earlier distribution ({len(earlier[0])} files)",
                f"文件夹“{out_dir}”中已有以前分发的文件（{earlier_label(earlier)}），其中的表可能已下发给区县，"
                "不能直接覆盖。请另选一个空文件夹；如确要以新批次替换，请加 --replace（旧文件移到该文件夹下的"
                "“已替换_批次号”文件夹，不会删除）。",
            )
        moved = _set_aside(out_dir, earlier)
        problems.append(
            Problem(
                "distribute-replaced",
                f"文件夹中以前分发的 {len(earlier[0])} 个文件（{earlier_label(earlier)}）已移到“{moved.name}”",
                severity="info",
                value=str(moved),
            )
        )
    result = DistributeResult(out_dir, city, batch_info.batch, problems=problems)
    result.timings["prepare"] = time.perf_counter() - started

    started = time.perf_counter()
    render = _Patcher(batch_info).render if fast else (lambda d: build_district_workbook(batch_info, d))
    tasks = len(ledger.rows)
    for name in names:
        district = _district(name, by_region.get(name, []), directory.level(name), ledger)
        district.code = codes.get(name, "")
        data = render(district)
        path = out_dir / file_name(city, name)
        atomic_write(path, lambda tmp, data=data: Path(tmp).write_bytes(data))
        item = Distributed(name, path, tasks, hashlib.sha256(data).hexdigest(), len(district.units),
                           code=district.code)
        if zip:
            item.zip_path = path.with_suffix(".zip")
            packed = _zip([(path.name, data, batch_info.created)], store=True)  # (``archive`` is the desk's)
            atomic_write(item.zip_path, lambda tmp, packed=packed: Path(tmp).write_bytes(packed))
        result.files.append(item)
    result.timings["write"] = time.perf_counter() - started

    started = time.perf_counter()
    result.manifest = write_manifest(result, batch_info)
    result.timings["manifest"] = time.perf_counter() - started
    log.info(
        "distributed %s to %d districts in %s (batch %s)", source, len(result.files), out_dir, result.batch
    )
    return result


def earlier_distribution(out_dir: Path) -> tuple[list[Path], str | None] | None:
    """The files an earlier ``distribute`` left in ``out_dir`` (its manifest, workbooks and zips) and its batch
    (from the manifest, if it can be read), or None."""
    if not out_dir.is_dir():
        return None
    files = sorted(p for p in out_dir.iterdir() if p.is_file() and not p.name.startswith(("~$", ".")) and (
        p.name == MANIFEST_NAME or p.stem.endswith(FILE_SUFFIX) and p.suffix.lower() in (".xlsx", ".zip")))
    if not files:
        return None
    batch = None
    manifest = out_dir / MANIFEST_NAME
    if manifest.is_file():
        try:
            from .readers.workbook import open_workbook, sheet_values

            rows = sheet_values(open_workbook(manifest), "批次信息", manifest)
            batch = next((r[1] for r in rows if len(r) > 1 and r[0] == "批次" and r[1]), None)
        except Exception:  # a damaged manifest still marks the folder as used; its batch is then unknown
            batch = None
    return files, batch


def earlier_label(earlier: tuple[list[Path], str | None]) -> str:
    files, batch = earlier
    return f"批次 {batch}" if batch else f"{len(files)} 个文件"


def _set_aside(out_dir: Path, earlier: tuple[list[Path], str | None]) -> Path:
    """Move an earlier distribution's files into ``已替换_{batch}`` (made anew: ``(2)``… when taken)."""
    import os

    files, batch = earlier
    when = batch or f"{datetime.fromtimestamp(max(p.stat().st_mtime for p in files)):%Y%m%d-%H%M%S}"
    stem = f"已替换_{when}"
    target, n = out_dir / stem, 2
    while target.exists():
        target, n = out_dir / f"{stem}({n})", n + 1
    target.mkdir()
    for path in files:
        os.replace(path, target / path.name)
    return target


def file_name(city: str, region: str) -> str:
    """济南市市中区_工作台账（填报）.xlsx"""
    whole = region if region.startswith(city) else city + region
    return _UNSAFE_NAME.sub("_", whole) + FILE_SUFFIX + ".xlsx"


def parse_deadline(value) -> date | None:
    """2025-06-30, 2025/6/30, 2025.6.30, 2025年6月30日, a date or a datetime → a date; ValueError otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value))
    if not m:
        raise ValueError(f"not a date: {value!r}")
    return date(*map(int, m.groups()))


def _region_list(regions) -> list[str]:
    items = re.split(r"[,，、;；\s]+", regions) if isinstance(regions, str) else list(regions)
    seen: dict[str, None] = {}
    for item in items:
        if item and item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)


def _district(region: str, units: list, level: str, ledger: Ledger) -> _District:
    from .units.directory import name_key

    prefix = "县" if region.endswith("县") else "区"

    def example(city_units: list[str], fallback: str) -> str:
        """The district's unit answering to the city's (for 填报说明), else the city's name with 区 for 市."""
        for name in city_units:
            found = [u for u in units if name_key(name) in {name_key(c) for c in u.counterparts}]
            if found:
                return found[0].name
        return re.sub(r"^市", prefix, city_units[0]) if city_units else fallback

    first = ledger.rows[0]
    return _District(
        region,
        level,
        units,
        example(first.lead_units, prefix + "发展改革局"),
        example(first.responsible_units, prefix + "财政局"),
    )


# ---------------------------------------------------------------------------------------- the workbook


def build_district_workbook(batch: _Batch, district: _District) -> bytes:
    """One district's workbook, built with openpyxl from the template (the plain way)."""
    wb = _build(batch, district)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _build(batch: _Batch, d: _District, inserted: dict[str, int] | None = None):
    """The workbook; ``inserted``: open rows to add under the city row of a key (rows a clerk inserted there)."""
    from .filler import SheetRow, write_sheet_rows

    try:
        wb = load_workbook(batch.template)
    except Exception as err:  # openpyxl raises many types for non-xlsx or damaged files
        raise UnreadableInput(
            f"cannot read template {batch.template}: {err}",
            f"无法读取模板“{batch.template.name}”：{err}。请确认它是 .xlsx 工作簿。",
        ) from err
    first = tpl.locate(wb)
    template_meta = dict(first.meta)
    _insert_reference_columns(wb, first)
    t = tpl.locate(wb)
    _fit_widths(t)

    ledger = batch.ledger
    rows: list = []
    kinds: list[str] = []  # per sheet row: goal, task, own, band

    def add(row, kind):
        rows.append(row)
        kinds.append(kind)

    numbered = any(r.section.startswith("一、") for r in ledger.rows)
    sections = {r.section for r in ledger.rows if r.section}
    if ledger.goals:
        add(SheetRow("action", task="一、工作目标" if not numbered else "工作目标"), "band")
        sections.add("一、工作目标")
        counts: dict = {}
        for goal in ledger.goals:
            counts[goal.year] = counts.get(goal.year, 0) + 1
            label = f"{goal.year}年工作目标" if goal.year else "工作目标"
            add(
                SheetRow(
                    "goal",
                    key=f"g{goal.year or ''}-{counts[goal.year]}",
                    task=label,
                    report={REF_CONTENT: reference_text(goal.text), REF_LEAD: reference_lead(goal.lead_units),
                            REF_FULL: goal.text},
                ),
                "goal",
            )
    section = subsection = None
    for row in ledger.rows:
        if row.section and row.section != section:
            add(SheetRow("action", task=row.section), "band")
            subsection = None
        if row.subsection and row.subsection != subsection:
            add(SheetRow("field", task=row.subsection), "band")
        section, subsection = row.section, row.subsection
        add(
            SheetRow(
                "task",
                key=row.key,
                seq=row.seq if row.seq is not None else (row.label or None),
                task=row.task,
                report={REF_CONTENT: reference_text(row.content), REF_LEAD: reference_lead(row.lead_units),
                        REF_FULL: row.content},
            ),
            "task",
        )
        for _ in range((inserted or {}).get(row.key, 0)):
            add(SheetRow("task"), "own")
    own_band = own_heading(sections)
    add(SheetRow("action", task=own_band), "band")
    for _ in range(batch.own_rows):
        add(SheetRow("task"), "own")

    title = district_title(batch, d.region)
    write_sheet_rows(t, rows, title, "")
    first_row = t.data[0]
    positions = {
        kind: [first_row + i for i, k in enumerate(kinds) if k == kind] for kind in ("goal", "task", "own")
    }
    _lock_and_mark(t, positions)
    # Band rows and the empty own-task rows a line high (the prototypes' heights leave air a printed form pays
    # for in pages: the form prints in about a dozen).
    for i, k in enumerate(kinds):
        if k in ("band", "own"):
            dim = t.sheet.row_dimensions[first_row + i]
            dim.height = min(dim.height or LINE_ROW_PT, LINE_ROW_PT)
    # The city's targets of each row, in its 目标 cell's input message (the row shows an excerpt of the text).
    city_targets_at = {r: text for r, item in zip(positions["goal"] + positions["task"], [*ledger.goals, *ledger.rows])
                       if (text := city_targets(getattr(item, "content", None) or getattr(item, "text", "")))}
    _validations(t, positions, bool(d.units), city_targets_at)

    unit_rows = _unit_sheet(wb, d)
    _guide_sheet(wb, t, batch, d, own_band)
    if tpl.NOTES_SHEET in wb.sheetnames:
        wb.remove(wb[tpl.NOTES_SHEET])  # how to restyle the template: not for the district
    tpl.write_meta(
        wb,
        {
            "format": tpl.FORMAT,
            "format_version": tpl.FORMAT_VERSION,
            "template_version": template_meta.get("template_version", tpl.TEMPLATE_VERSION),
            "kind": KIND,
            "region": d.region,
            "level": d.level,
            "city": batch.city,
            "title": title,
            "source": batch.source,
            "source_sha256": batch.sha256,
            "city_ledger_sha256": batch.sha256,
            # Whose numbering 任务键 follows: the city's, so consolidation maps each row by its key.
            "task_keys": batch.city,
            "batch": batch.batch,
            "deadline": batch.deadline.isoformat() if batch.deadline else "",
            "distributed_at": batch.created.isoformat(),
            "row_keys": ",".join(r.key for r, k in zip(rows, kinds) if k in ("goal", "task")),
            "own_section": own_band,
            # What each city row's locked cells say: a returned workbook shows which were typed over.
            "row_locks": encode_locks(ledger.rows),
            "reference": EXCERPT,  # 市级工作内容（参考） shows reference_text; the whole text is in 全文, hidden
            "xltools_version": _version(),
        },
    )
    _protect(wb, t, batch.password)
    _set_unit_names(wb, unit_rows)
    tpl.name_footers(wb)
    wb.properties.title = title
    wb.properties.creator = "xltools"
    wb.properties.created = wb.properties.modified = batch.created
    wb.active = 0
    return wb


@dataclass
class Form:
    """A district's form built with openpyxl, to carry a district's values into (``district_form``)."""

    workbook: object
    template: tpl.LedgerTemplate
    keys: dict[str, int]  # 任务键 (city rows and goals) → sheet row
    own: list[int]  # the rows of the own-task area, in order
    after: dict[str, list[int]]  # 任务键 → the open rows added under its row (``inserted``)


def district_form(city: Ledger, meta: dict[str, str], directory, sha256: str = "", own_rows: int = OWN_ROWS,
                  inserted: dict[str, int] | None = None) -> Form:
    """The form ``distribute`` made for ``meta``'s district (a returned form's metadata: its batch, deadline and
    time), from the city ledger as it is now, built with openpyxl: what a district that sent its form back in
    a format openpyxl cannot edit (xls, ods) gets its values and marks in. ``sha256``: the city ledger's."""
    from .filler import ledger_title

    region = meta.get("region") or ""
    try:
        created = datetime.fromisoformat(meta.get("distributed_at") or "")
    except ValueError:
        created = datetime(2024, 1, 1)
    try:
        deadline = parse_deadline(meta.get("deadline"))
    except ValueError:
        deadline = None
    batch = _Batch(ledger=city, city=meta.get("city") or city.region or "", title=ledger_title(city),
                   source=meta.get("source", ""), sha256=sha256, batch=meta.get("batch", ""), deadline=deadline,
                   created=created, template=tpl.default_template(), password=None, own_rows=own_rows)
    units = [u for u in directory.units if u.region == region]
    wb = _build(batch, _district(region, units, directory.level(region), city), inserted)
    t = tpl.locate(wb)
    ws, key_col = t.sheet, t.columns["key"]
    keys: dict[str, int] = {}
    after: dict[str, list[int]] = {}
    own: list[int] = []
    last_key, in_own = None, False
    for r in range(t.data[0], t.data[1] + 1):
        key = ws.cell(r, key_col).value
        first = ws.cell(r, t.first_col).value
        if key:
            keys[str(key)], last_key = r, str(key)
        elif isinstance(first, str) and first.endswith(OWN_BAND):
            in_own = True
        elif in_own:
            own.append(r)
        elif last_key is not None and not first:
            after.setdefault(last_key, []).append(r)
    return Form(wb, t, keys, own, after)


def own_heading(sections) -> str:
    """九、本区自行增加的任务: numbered after the city's last action, so readers take it as a band."""
    numbers = [
        cn_number(m.group(1)) for s in sections if (m := re.match(r"^([一二三四五六七八九十]+)、", s or ""))
    ]
    return f"{_cn(max(numbers, default=0) + 1)}、{OWN_BAND}"


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n <= 10:
        return "十" if n == 10 else digits[n]
    if n < 20:
        return "十" + digits[n % 10]
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def district_title(batch: _Batch, region: str) -> str:
    """济南市推动…工作台账 → 济南市市中区推动…工作台账."""
    title = batch.title
    if title.startswith(batch.city) and not title[len(batch.city) :].startswith(region):
        return batch.city + region + title[len(batch.city) :]
    from .filler import DEFAULT_SUBJECT

    return f"{batch.city}{region}{DEFAULT_SUBJECT}"


def _insert_reference_columns(wb, t: tpl.LedgerTemplate) -> None:
    """Three columns before 工作内容 for the city's 工作内容 (an excerpt) and 牵头单位, styled as the columns they
    copy, and the city's whole 工作内容, hidden (it does not print).

    openpyxl moves the cells but nothing that points at them: merges, widths, validations and defined names
    are moved here."""
    ws, at, n = t.sheet, t.columns["content"], len(REFERENCES)
    sources = (t.columns["content"], t.columns["lead_units"], t.columns["content"])
    widths = _widths(ws, 1, max(ws.max_column, t.last_col))
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    for m in list(ws.merged_cells.ranges):
        ws.merged_cells.remove(m)
    ws.insert_cols(at, n)
    for r1, c1, r2, c2 in merges:
        if c1 >= at:
            c1, c2 = c1 + n, c2 + n
        elif c2 >= at:
            c2 += n
        merge(ws, r1, c1, r2, c2)
    for k, src in enumerate(sources):
        moved = src + n if src >= at else src
        for r in range(1, ws.max_row + 1):
            cell = ws.cell(r, moved)
            if cell.has_style and not _merged_inside(ws, r, at + k):
                ws.cell(r, at + k)._style = copy(cell._style)
    for c, (width, hidden) in sorted(widths.items(), reverse=True):
        letter = get_column_letter(c + n if c >= at else c)
        ws.column_dimensions[letter].width = width
        ws.column_dimensions[letter].hidden = hidden
    for k, src in enumerate(sources):
        ws.column_dimensions[get_column_letter(at + k)].width = widths[src][0]
        ws.column_dimensions[get_column_letter(at + k)].hidden = REFERENCES[k] == REF_FULL
    for k, header in enumerate(REFERENCES):
        for r in range(t.header_rows[0], t.header_rows[1] + 1):
            src = ws.cell(r, sources[k] + n)
            if r == t.header_row or src.value not in (None, ""):
                put(ws, r, at + k, header if r == t.header_row else src.value)
    for dv in ws.data_validations.dataValidation:
        dv.sqref = type(dv.sqref)([_shifted(g, at, n) for g in dv.sqref.ranges])
    for name in list(wb.defined_names):
        found = tpl.defined_range(wb, name)
        if found and found[0] is ws:
            c1, r1, c2, r2 = found[1]
            c1, c2 = (c1 + n, c2 + n) if c1 >= at else (c1, c2 + n if c2 >= at else c2)
            tpl.set_name(wb, name, ws, c1, r1, c2, r2)


def _merged_inside(ws, r: int, c: int) -> bool:
    return type(ws._cells.get((r, c))).__name__ == "MergedCell"


def _shifted(g: CellRange, at: int, n: int) -> CellRange:
    c1, c2 = (
        (g.min_col + n, g.max_col + n)
        if g.min_col >= at
        else (g.min_col, g.max_col + n if g.max_col >= at else g.max_col)
    )
    return CellRange(min_col=c1, min_row=g.min_row, max_col=c2, max_row=g.max_row)


def _widths(ws, first: int, last: int) -> dict[int, tuple[float, bool]]:
    """Column → (width, hidden), reading grouped <col min max> entries too."""
    default = ws.sheet_format.defaultColWidth or 8.43
    out = {c: (float(default), False) for c in range(first, last + 1)}
    for letter, dim in ws.column_dimensions.items():
        # A dimension made in code has no min/max until the workbook is written.
        lo, hi = dim.min or column_index_from_string(letter), dim.max or column_index_from_string(letter)
        for c in range(max(lo, first), min(hi, last) + 1):
            out[c] = (float(dim.width or default), bool(dim.hidden))
    return out


# Least widths when the columns are narrowed to one page: a date must fit on one line, text stays readable.
_LEAST = {
    "seq": 4,
    "task": 8,
    "content": 16,
    "lead_units": 9,
    "responsible_units": 9,
    "target": 10,
    "deadline": 11.5,  # 2025-12-31 on one line
    "progress": 10,
    "status": 8,
}


# The form's columns as wide as what goes in them (Excel units), before they are fitted to the page: the city's
# excerpt and the district's 工作内容 the widest, names of units a line each.
_PREFERRED = {"seq": 4.5, "task": 13, "content": 23, "lead_units": 12, "responsible_units": 13, "target": 11,
              "deadline": 11.5, "progress": 10, "status": 7.5, REF_CONTENT: 17, REF_LEAD: 13}
FORM_SCALE = 0.92  # the form prints at 92%: its 11 pt text at 10 pt, eleven columns on a landscape page


def _fit_widths(t: tpl.LedgerTemplate) -> None:
    """Eleven columns where the template has nine: share the page so it still prints one page wide at 100%."""
    ws = t.sheet
    widths = _widths(ws, t.first_col, t.last_col)
    visible = [c for c in range(t.first_col, t.last_col + 1) if not widths[c][1]]
    field_of = {c: f for f, c in t.columns.items()}
    field_of.update({c: h for h in (REF_CONTENT, REF_LEAD) if (c := t.extra_columns.get(tpl.norm_header(h)))})
    widths.update({c: (_PREFERRED[field_of[c]], False) for c in visible if field_of.get(c) in _PREFERRED})
    least = {}
    for i, c in enumerate(visible):
        f = field_of.get(c)
        if f != "seq":
            least[i] = _LEAST.get(f, 16 if f == REF_CONTENT else 9)
    landscape = ws.page_setup.orientation == "landscape"
    left = ws.page_margins.left if ws.page_margins.left is not None else 0.7
    right = ws.page_margins.right if ws.page_margins.right is not None else 0.7
    fitted = fit_widths([widths[c][0] for c in visible], least, landscape, left, right, FORM_SCALE)
    for c, w in zip(visible, fitted):
        ws.column_dimensions[get_column_letter(c)].width = w
    # Narrower columns wrap the header text onto more lines: the header row grows to show it whole.
    row = t.header_row
    need = max(
        (
            needed_height(
                text_lines(str(ws.cell(row, c).value), w * 7, ws.cell(row, c).font.size or 11),
                ws.cell(row, c).font.size or 11,
            )
            for c, w in zip(visible, fitted)
            if ws.cell(row, c).value
        ),
        default=0,
    )
    ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0, round(need, 1))


def _district_columns(t: tpl.LedgerTemplate) -> list[int]:
    """The columns a district fills on the city's rows."""
    fields = ("content", "lead_units", "responsible_units", "target", "deadline", "progress", "status")
    cols = [t.columns[f] for f in fields if f in t.columns]
    refs = {t.extra_columns.get(tpl.norm_header(h)) for h in REFERENCES}
    cols += [c for c in t.extra_columns.values() if c not in refs]  # columns a person added to the template
    return sorted(cols)


def _lock_and_mark(t: tpl.LedgerTemplate, positions: dict[str, list[int]]) -> None:
    """Every cell locked (Excel's default) but what the district fills; the city's cells greyed."""
    ws = t.sheet
    open_cols = set(_district_columns(t))
    own_cols = open_cols | {t.columns["seq"], t.columns["task"]}
    unlocked = Protection(locked=False)
    key = t.columns["key"]
    for kind in ("goal", "task", "own"):
        for r in positions[kind]:
            for c in range(t.first_col, t.last_col + 1):
                cell = ws.cell(r, c)
                if c == key:
                    continue
                if c in (own_cols if kind == "own" else open_cols):
                    if not _merged_inside(ws, r, c):
                        cell.protection = unlocked
                    if c == t.columns.get("deadline"):
                        cell.number_format = DATE_FORMAT
                elif kind != "own":
                    cell.fill = REF_FILL
    for c1, r1, c2, r2 in [t.subtitle] if t.subtitle else []:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                ws.cell(r, c).protection = unlocked  # 填报单位, 填报日期: typed after the colon
    for r in range(max(t.data[1], max(positions["own"], default=0)) + 1, ws.max_row + 1):
        for c in range(t.first_col, t.last_col + 1):  # the template's lines under the table (填表人, 审核人)
            if not _merged_inside(ws, r, c):
                ws.cell(r, c).protection = unlocked


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _ranges(col: int, rows: list[int]) -> str:
    letter = get_column_letter(col)
    return " ".join(f"{letter}{a}:{letter}{b}" for a, b in _runs(rows))


UNITS_PROMPT = (
    "可从下拉列表选择本区单位（列表来自“单位名录”表），也可直接输入；一格填多个单位时，用顿号“、”或换行分隔。"
)
NO_UNITS_PROMPT = "单位名录中还没有本区单位，请直接填写单位全称；一格填多个单位时，用顿号“、”或换行分隔。"
PROMPTS = {
    "content": (
        "工作内容（本区填写）",
        "填写本区落实该项市级任务的具体措施。左侧灰色的“市级工作内容”仅供参考。",
    ),
    "target": (
        "目标（本区填写）",
        "填写本区该任务的量化目标，写明年份、数值和计量单位，如“2025年完成技术改造项目30个”。",
    ),
    "deadline": (
        "完成时限",
        "填写日期，如 2025-12-31。确实无法给出日期的（如“长期坚持”），可在提示时点“是”保留文字。",
    ),
    "progress": ("进展情况", "简要填写已开展的工作、取得的成效和存在的问题。"),
}
GOAL_PROMPT = ("工作目标（本区填写）", "填写本区该年度的工作目标。左侧灰色的是市级目标，仅供参考。")
OWN_PROMPTS = {
    "seq": ("序号（本区任务）", "本区自行增加的任务：序号可不填，或按本区编号填写。"),
    "task": (
        "重点任务（本区任务）",
        "填写本区自行增加、市级台账中没有的任务名称。空行不够时，可在本区域内插入行。",
    ),
}


def _validations(t: tpl.LedgerTemplate, positions: dict[str, list[int]], has_units: bool,
                 city_targets_at: dict[int, str] | None = None) -> None:
    """Lists from the unit sheet (a guide: anything may be typed), dates, and an input message on every
    column the district fills. One validation per cell: Excel keeps only one."""
    ws, cols = t.sheet, t.columns
    rows = positions["goal"] + positions["task"] + positions["own"]
    tasks = positions["task"] + positions["own"]

    def add(dv: DataValidation, col: int | None, where: list[int]) -> None:
        if col is None or not where:
            return
        dv.showInputMessage = True
        dv.sqref = type(dv.sqref)(_ranges(col, where))
        ws.add_data_validation(dv)

    for f in ("lead_units", "responsible_units"):
        header = tpl.COLUMN_BY_FIELD[f].header
        if has_units:
            dv = DataValidation(
                type="list",
                formula1=UNIT_LIST_NAME,
                allow_blank=True,
                showErrorMessage=False,
                promptTitle=f"{header}（本区填写）",
                prompt=UNITS_PROMPT,
            )
        else:
            dv = DataValidation(allow_blank=True, promptTitle=f"{header}（本区填写）", prompt=NO_UNITS_PROMPT)
        add(dv, cols.get(f), rows)
    lo, hi = (d.toordinal() - date(1899, 12, 30).toordinal() for d in DATE_RANGE)
    add(
        DataValidation(
            type="date",
            operator="between",
            formula1=str(lo),
            formula2=str(hi),
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle="完成时限",
            error="完成时限应为2024年至2030年间的日期，如 2025-12-31。确需填写文字的，请点“是”。",
            promptTitle=PROMPTS["deadline"][0],
            prompt=PROMPTS["deadline"][1],
        ),
        cols.get("deadline"),
        rows,
    )
    city_targets_at = city_targets_at or {}
    for f in ("target", "progress"):
        add(
            DataValidation(allow_blank=True, promptTitle=PROMPTS[f][0], prompt=PROMPTS[f][1]),
            cols.get(f),
            [r for r in rows if f != "target" or r not in city_targets_at],
        )
    for r, targets in city_targets_at.items():  # one message a row: the city's own figures to set against
        prompt = f"{PROMPTS['target'][1]}市级目标：{targets}"
        add(DataValidation(allow_blank=True, promptTitle=PROMPTS["target"][0],
                           prompt=prompt if len(prompt) <= 255 else prompt[:254] + "…"), cols.get("target"), [r])
    add(
        DataValidation(allow_blank=True, promptTitle=PROMPTS["content"][0], prompt=PROMPTS["content"][1]),
        cols.get("content"),
        tasks,
    )
    add(
        DataValidation(allow_blank=True, promptTitle=GOAL_PROMPT[0], prompt=GOAL_PROMPT[1]),
        cols.get("content"),
        positions["goal"],
    )
    for f in ("seq", "task"):
        add(
            DataValidation(allow_blank=True, promptTitle=OWN_PROMPTS[f][0], prompt=OWN_PROMPTS[f][1]),
            cols.get(f),
            positions["own"],
        )
    status = cols.get("status")
    for dv in ws.data_validations.dataValidation:
        covers = any(g.min_col <= (status or 0) <= g.max_col for g in dv.sqref.ranges)
        if covers and dv.type == "list":
            # 不涉及 joins the list (a restyled template's own list too): a task the district does not carry out
            # is said so on its row, with the reason in 工作内容.
            listed = dv.formula1 or ""
            if listed.startswith('"') and NA not in listed:
                dv.formula1 = listed[:-1] + f',{NA}"'
            choices = "、".join(listed.strip('"').split(",") + ([NA] if NA not in listed else []))
            dv.showInputMessage = True
            dv.promptTitle = dv.promptTitle or "完成情况"
            dv.prompt = f"请选择：{choices}。本区不承担该任务的，选“{NA}”，并在工作内容中写明原因。"
            dv.error = f"请从下拉列表中选择：{choices}"


def _date_zh(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _unit_sheet(wb, d: _District) -> int:
    """The district's units under the unit sheet's header; returns the number of rows written."""
    found = tpl.defined_range(wb, tpl.N_UNITS)
    ws = (
        found[0]
        if found
        else (wb[tpl.UNITS_SHEET] if tpl.UNITS_SHEET in wb.sheetnames else wb.create_sheet(tpl.UNITS_SHEET))
    )
    if not found:
        tpl.style_header_row(ws, 1, tpl.UNIT_HEADERS)
    ws.auto_filter.ref = None
    body = tpl.font(tpl.FANG, 11)
    for r, values in enumerate(unit_rows(d), 2):
        for c, value in enumerate(values, 1):
            cell = put(ws, r, c, value or None)
            cell.font, cell.border, cell.alignment = body, tpl.BOX, tpl.WRAP_LEFT
        ws.row_dimensions[r].height = unit_row_height(values)
    return len(d.units)


def unit_rows(d: _District) -> list[tuple[str, ...]]:
    from .units.directory import KIND_ZH

    return [
        (u.region, u.name, "、".join(u.aliases), KIND_ZH.get(u.kind, ""), "、".join(u.counterparts), u.notes)
        for u in d.units
    ]


def unit_row_height(values) -> float:
    # Most names fit their column on one line at two units a character: measured only when they may not.
    lines = max(
        (text_lines(v, w * 7, 11) if v and len(v) * 2 > w - 1 else 1)
        for v, (_, w) in zip(values, tpl.UNIT_HEADERS)
    )
    return round(needed_height(lines, 11), 1)


def _set_unit_names(wb, n: int) -> None:
    """xlt_units covers header and rows; xlt_unit_list the names (a blank cell when there are none)."""
    ws = wb[tpl.UNITS_SHEET]
    last = 1 + n
    ncols = len(tpl.UNIT_HEADERS)
    tpl.set_name(wb, tpl.N_UNITS, ws, 1, 1, ncols, last)
    ref = f"{quote_sheetname(ws.title)}!$B$2:$B${max(last, 2)}"
    wb.defined_names[UNIT_LIST_NAME] = DefinedName(UNIT_LIST_NAME, attr_text=ref)
    ws.print_area = f"A1:{get_column_letter(ncols)}{last}"
    ws.print_title_rows = "1:1"


def _protect(wb, t: tpl.LedgerTemplate, password: str | None) -> None:
    """Sheets protected against mistakes: rows may be inserted, deleted (not those with locked cells), resized
    and filtered. The workbook's structure too, so the hidden metadata sheet stays hidden."""
    for ws in wb.worksheets:
        p = ws.protection
        p.sheet = True
        p.selectLockedCells = p.selectUnlockedCells = False
        p.formatRows = p.formatColumns = False  # False: allowed
        if ws is t.sheet:
            p.insertRows = p.deleteRows = p.autoFilter = False
        if password:
            p.password = password
    wb.security = WorkbookProtection(lockStructure=True)
    if password:
        wb.security.workbookPassword = password


# ------------------------------------------------------------------------------------------ 填报说明


def guide_lines(batch: _Batch, region: str, own_band: str, has_units: bool = True, code: str = "") -> list[str]:
    """The numbered lines of 填报说明 (and of a feedback workbook's cover, which repeats the ones on filling in)."""
    when = f"于{_date_zh(batch.deadline)}前" if batch.deadline else "按通知要求"
    units = ("牵头单位、责任单位可从下拉列表选择本区单位（列表来自“单位名录”表），也可直接输入；" if has_units else
             "牵头单位、责任单位请填写单位全称（不要用简称）；")
    return [
        f"本表由{batch.city}下发，请{region}{when}填写“工作台账”表并报送（请保留 .xlsx 格式和文件名中的地区名称）。",
        f"灰色底纹的单元格是{batch.city}的任务（序号、重点任务、{REF_CONTENT[:-4]}、{REF_LEAD[:-4]}），仅供参考，不能修改。",
        "白色单元格由本区填写：工作内容（本区落实该任务的具体措施）、牵头单位、责任单位、目标、完成时限、进展情况、完成情况。"
        "选中单元格时会显示填写提示。",
        units + "一格填多个单位时，用顿号“、”或换行分隔。",
        "完成时限请填日期（如 2025-12-31）；完成情况从下拉列表选择（" + "、".join(status_choices()) + "）。",
        f"本区不承担的市级任务，不要删除该行：完成情况选“{NA}”，并在工作内容中写明原因（如“本区无煤电机组”）。",
        "“工作目标”各行填写本区该年度的目标：工作内容写目标内容，量化目标写明年份、数值和计量单位。",
        f"本区自行增加的任务，填在“{own_band}”下方的空行中；空行不够时，可在该区域内插入行。",
        "工作表设置了保护，只为防止误改市级任务和表格结构，不影响填写；可以调整行高、列宽，可以筛选。"
        "隐藏的“任务键”列和隐藏的工作表用于汇总时识别每一行，请勿删除。",
        f"市级任务或单位名录有误的，请与{batch.city}联系，不要直接修改。",
        *([f"网上报送：用浏览器打开 {batch.desk} ，输入本区上传码 {code}，选择填好的本表报送，即可看到检查结果和标注副本；"
           "改正后可再次报送，每次都保留。"] if batch.desk and code else []),
    ]


def status_choices() -> tuple[str, ...]:
    """完成情况's list in a distributed form: the template's, and 不涉及."""
    return (*tpl.STATUS_CHOICES, NA)


def _guide_sheet(wb, t: tpl.LedgerTemplate, batch: _Batch, d: _District, own_band: str) -> None:
    """Numbered instructions, then the ledger's header and one example row in the ledger's own look."""
    src = t.sheet
    ws = wb.create_sheet(GUIDE_SHEET, index=1)
    ws.sheet_view.showGridLines = False
    full = t.extra_columns.get(tpl.norm_header(REF_FULL))
    cols = [c for c in range(t.first_col, t.last_col + 1) if c not in (t.columns["key"], full)]
    widths = _widths(src, t.first_col, t.last_col)
    for i, c in enumerate(cols, 1):
        ws.column_dimensions[get_column_letter(i)].width = widths[c][0]
    total_px = sum(widths[c][0] for c in cols) * 7
    top = Alignment(wrap_text=True, vertical="top")
    ws.cell(1, 1, GUIDE_SHEET).font = tpl.font(tpl.HEI, 16, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    ws.row_dimensions[1].height = 30
    r = 2
    # Heights measured on a long stand-in for the district's name: the same in every district's copy.
    measured = guide_lines(batch, MEASURE_REGION, own_band, bool(d.units), MEASURE_CODE if d.code else "")
    for i, line in enumerate(guide_lines(batch, d.region, own_band, bool(d.units), d.code), 1):
        cell = put(ws, r, 1, f"{i}. {line}")
        cell.font, cell.alignment = tpl.font(tpl.FANG, 12), top
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(cols))
        ws.row_dimensions[r].height = needed_height(text_lines(f"{i}. {measured[i - 1]}", total_px, 12), 12)
        r += 1
    r += 1
    ws.cell(r, 1, "填写示例").font = tpl.font(tpl.HEI, 12, bold=True)
    ws.row_dimensions[r].height = 22
    r += 1
    header_row, example_row = r, r + 1
    for i, c in enumerate(cols, 1):
        h = src.cell(t.header_row, c)
        cell = put(ws, header_row, i, h.value)
        cell._style = copy(h._style)
    ws.row_dimensions[header_row].height = src.row_dimensions[t.header_row].height
    task_row = tpl.defined_range(wb, tpl.PROTO_NAMES["task"])
    proto = task_row[1][1] if task_row else t.data[0]
    first = batch.ledger.rows[0]
    values = {
        t.columns["seq"]: first.seq if first.seq is not None else first.label,
        t.columns["task"]: first.task,
        t.extra_columns[tpl.norm_header(REF_CONTENT)]: reference_text(first.content),
        t.extra_columns[tpl.norm_header(REF_LEAD)]: reference_lead(first.lead_units),
        t.columns["content"]: "（示例）组织实施重点技术改造项目，建立项目清单，按月调度推进。",
        t.columns["lead_units"]: d.lead,
        t.columns["responsible_units"]: d.resp,
        t.columns.get("target"): "2025年完成技术改造项目30个",
        t.columns.get("deadline"): datetime(2025, 12, 31),
        t.columns.get("progress"): "已建立项目清单，开工12个。",
        t.columns.get("status"): tpl.STATUS_CHOICES[1],
    }
    measured = {**values, t.columns["lead_units"]: MEASURE_UNIT, t.columns["responsible_units"]: MEASURE_UNIT}
    height = 0.0
    for i, c in enumerate(cols, 1):
        proto_cell = src.cell(proto, c)
        cell = put(ws, example_row, i, values.get(c))
        cell._style = copy(proto_cell._style)
        cell.protection = Protection(locked=True)
        if c == t.columns.get("deadline"):
            cell.number_format = DATE_FORMAT
        if measured.get(c) not in (None, ""):
            size = cell.font.size or 11
            shown = str(measured[c]) if not isinstance(measured[c], datetime) else "2025-12-31"
            height = max(height, needed_height(text_lines(shown, widths[c][0] * 7, size), size))
    ws.row_dimensions[example_row].height = round(height, 1)
    tpl.setup_print(ws, header_rows=(1, 1), area=f"A1:{get_column_letter(len(cols))}{example_row}")
    ws.print_title_rows = None
    ws.page_setup.fitToHeight = 1


# --------------------------------------------------------------------------------------------- manifest


# The last column, each file's sha256 (to know it when it comes back), is for programs: hidden, not printed.
MANIFEST_HEADERS = (("地区", 12), ("文件", 40), ("任务数", 8), ("单位数", 8), ("压缩包", 36), ("校验码", 66))


def write_manifest(result: DistributeResult, batch: _Batch) -> Path:
    """分发清单.xlsx: what was sent to whom, with each file's sha256 to recognise it when it comes back."""
    from openpyxl import Workbook

    wb = Workbook()
    tpl._default_font(wb)
    ws = wb.active
    ws.title = "分发清单"
    coded = any(item.code for item in result.files)
    headers = (*MANIFEST_HEADERS[:4], ("上传码", 11), *MANIFEST_HEADERS[4:]) if coded else MANIFEST_HEADERS
    when = f"，报送截止：{_date_zh(batch.deadline)}" if batch.deadline else ""
    put(ws, 1, 1, f"{batch.city}工作台账分发清单（批次 {batch.batch}，{batch.created:%Y-%m-%d %H:%M}{when}）")
    ws.cell(1, 1).font = tpl.font(tpl.HEI, 14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.row_dimensions[1].height = 28
    tpl.style_header_row(ws, 2, headers)
    body = tpl.font(tpl.FANG, 11)
    mono = copy(body)
    mono.name, mono.size = "Courier New", 9
    for r, item in enumerate(result.files, 3):
        values = (
            item.region,
            item.path.name,
            item.tasks,
            item.units,
            *((item.code,) if coded else ()),
            item.zip_path.name if item.zip_path else "",
            item.sha256,
        )
        for c, value in enumerate(values, 1):
            cell = put(ws, r, c, value)
            cell.font = mono if c == len(headers) else body
            cell.border = tpl.BOX
            cell.alignment = tpl.WRAP_CENTER if c in (1, 3, 4) else tpl.WRAP_LEFT
    last = 2 + len(result.files)
    ws.freeze_panes = "A3"
    ws.column_dimensions[get_column_letter(len(headers))].hidden = True
    ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{last}"
    tpl.setup_print(ws, header_rows=(2, 2), area=f"A1:{get_column_letter(len(headers) - 1)}{last}")
    ws.page_setup.fitToWidth = 1
    info = wb.create_sheet("批次信息")
    rows = (
        ("市", batch.city),
        ("市级台账", batch.source),
        ("批次", batch.batch),
        ("分发时间", batch.created.isoformat(sep=" ")),
        ("报送截止", _date_zh(batch.deadline) if batch.deadline else ""),
        ("区县数", len(result.files)),
        *((("网上报送", f"{batch.desk} （各区县凭上传码报送）"),) if batch.desk else ()),
    )
    for r, (k, v) in enumerate(rows, 1):
        put(info, r, 1, k).font = tpl.font(tpl.HEI, 11, bold=True)
        put(info, r, 2, v).font = body
        for c in (1, 2):
            info.cell(r, c).border, info.cell(r, c).alignment = tpl.BOX, tpl.WRAP_LEFT
    put(info, 2, 3, batch.sha256).font = mono  # the city ledger's sha256: for programs, in a hidden column
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 14, 60
    info.column_dimensions["C"].width, info.column_dimensions["C"].hidden = 66, True
    tpl.setup_print(info, header_rows=(1, 1), area=f"A1:B{len(rows)}", landscape=False)
    info.print_title_rows = None
    path = result.out_dir / MANIFEST_NAME
    from .xlio import atomic_save

    return atomic_save(wb, path)


# ------------------------------------------------------------------------------------------ fast path


class _Patcher:
    """Each district's workbook from one built with placeholders: shared strings, the unit sheet and the
    defined names into it are rewritten; every other part is copied, compressed once."""

    def __init__(self, batch: _Batch):
        self.batch = batch
        self._bases: dict[bool, _Base] = {}

    def render(self, d: _District) -> bytes:
        has_units = bool(d.units)
        if has_units not in self._bases:
            placeholder = _District(
                TOKEN["region"],
                TOKEN["level"],
                [_placeholder_unit()] if has_units else [],
                TOKEN["lead"],
                TOKEN["resp"],
                TOKEN["code"] if self.batch.desk else "",
            )
            self._bases[has_units] = _Base(build_district_workbook(self.batch, placeholder), has_units)
        return self._bases[has_units].render(d)


def _placeholder_unit():
    from .units.directory import Unit

    return Unit(TOKEN["region"], TOKEN["unit"], [], "department", [], "")


class _Base:
    """A district's workbook with placeholders, split into the zip parts each district shares and those
    holding a placeholder (its text replaced per district), the unit sheet and workbook.xml (rewritten)."""

    def __init__(self, data: bytes, has_units: bool):
        import zipfile

        with zipfile.ZipFile(BytesIO(data)) as zf:
            self.parts = [(info.filename, zf.read(info)) for info in zf.infolist()]
        parts = dict(self.parts)
        self.units_part = _sheet_part(parts, tpl.UNITS_SHEET)
        self.units_index = _sheet_index(parts[_WORKBOOK], tpl.UNITS_SHEET)
        # openpyxl writes private-use characters as character references (&#57344;); other writers may not.
        marks = [m.encode("utf-8") for t in TOKEN.values() for m in _forms(t)]
        self.variable = {name for name, body in self.parts if any(m in body for m in marks)}
        self.variable |= {_WORKBOOK, self.units_part}
        self.compressed = {name: _deflate(body) for name, body in self.parts if name not in self.variable}
        self.text = {name: parts[name].decode("utf-8") for name in self.variable}
        sheet = self.text[self.units_part]
        start, end = sheet.index("<sheetData"), sheet.index("</sheetData>") + len("</sheetData>")
        self.sheet_head, self.sheet_tail = sheet[:start], sheet[end:]
        rows = re.findall(r"<row [^>]*>.*?</row>|<row [^>]*/>", sheet[start:end], re.S)
        self.header_row = rows[0] if rows else ""
        self.cell_styles = {}  # column letter -> ' s="n"'
        if has_units and len(rows) > 1:
            for m in re.finditer(r'<c r="([A-Z]+)2"([^>]*?)(?:/>|>)', rows[1]):
                self.cell_styles[m.group(1)] = re.sub(r'\s*t="[^"]*"', "", m.group(2))

    def render(self, d: _District) -> bytes:
        values = {
            TOKEN["region"]: d.region,
            TOKEN["level"]: d.level,
            TOKEN["lead"]: d.lead,
            TOKEN["resp"]: d.resp,
            TOKEN["unit"]: "",
            TOKEN["code"]: d.code,
        }
        changed = {}
        for name in self.variable:
            text = self.text[name]
            for token, value in values.items():
                for form in _forms(token):
                    if form in text:
                        text = text.replace(form, escape(value, {'"': "&quot;"}))
            changed[name] = text
        changed[self.units_part] = self._unit_sheet(d)
        last = 1 + len(d.units)
        ncols = get_column_letter(len(tpl.UNIT_HEADERS))
        quoted = escape(quote_sheetname(tpl.UNITS_SHEET))
        workbook = _defined(changed[_WORKBOOK], UNIT_LIST_NAME, None, f"{quoted}!$B$2:$B${max(last, 2)}")
        workbook = _defined(workbook, tpl.N_UNITS, None, f"{quoted}!$A$1:${ncols}${last}")
        changed[_WORKBOOK] = _defined(
            workbook, "_xlnm.Print_Area", self.units_index, f"{quoted}!$A$1:${ncols}${last}"
        )
        entries = [
            (name, _deflate(changed[name].encode("utf-8")) if name in changed else self.compressed[name])
            for name, _ in self.parts
        ]
        return _zip_raw(entries)

    def _unit_sheet(self, d: _District) -> str:
        """The unit sheet's rows written as openpyxl writes them (inline strings), with the base's styles."""
        body = [self.header_row]
        for r, row in enumerate(unit_rows(d), 2):
            cells = []
            for c, v in enumerate(row, 1):
                letter = get_column_letter(c)
                style = self.cell_styles.get(letter, "")
                cells.append(
                    f'<c r="{letter}{r}"{style} t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                    if v
                    else f'<c r="{letter}{r}"{style}/>'
                )
            body.append(f'<row r="{r}" ht="{unit_row_height(row)}" customHeight="1">{"".join(cells)}</row>')
        last = 1 + len(d.units)
        ncols = get_column_letter(len(tpl.UNIT_HEADERS))
        head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{ncols}{last}"/>', self.sheet_head)
        return head + "<sheetData>" + "".join(body) + "</sheetData>" + self.sheet_tail


_WORKBOOK = "xl/workbook.xml"


def _forms(token: str) -> tuple[str, str]:
    return token, f"&#{ord(token)};"


def _sheet_index(workbook_xml: bytes, name: str) -> int:
    names = re.findall(r'<sheet [^>]*name="([^"]*)"', workbook_xml.decode("utf-8"))
    return names.index(escape(name))


def _sheet_part(parts: dict[str, bytes], name: str) -> str:
    workbook = parts[_WORKBOOK].decode("utf-8")
    m = re.search(r'<sheet [^>]*name="' + re.escape(escape(name)) + r'"[^>]*/>', workbook)
    rid = re.search(r'r:id="([^"]+)"|id="([^"]+)"', m.group(0))
    rid = rid.group(1) or rid.group(2)
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    rel = re.search(r'<Relationship [^>]*Id="' + re.escape(rid) + r'"[^>]*/>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', rel).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _defined(workbook: str, name: str, local: int | None, value: str) -> str:
    """Set a defined name's text in workbook.xml (``local``: the sheet index of a sheet-level name)."""
    attrs = f'name="{name}"' + (f' localSheetId="{local}"' if local is not None else "")
    pattern = re.compile(
        r"(<definedName [^>]*" + re.escape(f'name="{name}"') + r"[^>]*>)([^<]*)(</definedName>)"
    )
    for m in pattern.finditer(workbook):
        if local is None and "localSheetId" in m.group(1):
            continue
        if local is not None and f'localSheetId="{local}"' not in m.group(1):
            continue
        return workbook[: m.start(2)] + value + workbook[m.end(2) :]
    return workbook.replace("</definedNames>", f"<definedName {attrs}>{value}</definedName></definedNames>")


# ------------------------------------------------------------------------------------------------- zip


def _deflate(data: bytes) -> tuple[bytes, int, int]:
    """(raw deflate stream, crc32, size)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


def _dos_time(when: datetime) -> tuple[int, int]:
    return (
        (when.hour << 11) | (when.minute << 5) | (when.second // 2),
        ((max(when.year, 1980) - 1980) << 9) | (when.month << 5) | when.day,
    )


def _zip_raw(entries, when: datetime | None = None, stored: bool = False) -> bytes:
    """A zip of (name, (data, crc, size)) entries, data deflated (or stored). Names that GBK can hold are
    written in GBK with the UTF-8 name in an Info-ZIP extra field: Windows Explorer of Chinese Windows 7 reads
    the first, 7-Zip, WinRAR and Bandizip the second; other names are UTF-8 with the UTF-8 flag."""
    dtime, ddate = _dos_time(when or datetime(2024, 1, 1))
    out = BytesIO()
    central = []
    for name, (data, crc, size) in entries:
        method = 0 if stored else 8
        try:
            raw = name.encode("ascii")
            flags, extra = 0, b""
        except UnicodeEncodeError:
            try:
                raw = name.encode("gbk")
                utf = name.encode("utf-8")
                payload = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + utf
                flags, extra = 0, struct.pack("<HH", 0x7075, len(payload)) + payload
            except UnicodeEncodeError:
                raw, flags, extra = name.encode("utf-8"), 0x800, b""
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                flags,
                method,
                dtime,
                ddate,
                crc,
                len(data),
                size,
                len(raw),
                len(extra),
            )
            + raw
            + extra
        )
        out.write(data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                flags,
                method,
                dtime,
                ddate,
                crc,
                len(data),
                size,
                len(raw),
                len(extra),
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
            + extra
        )
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0)
    )
    return out.getvalue()


def _zip(files: list[tuple[str, bytes, datetime]], store: bool = False) -> bytes:
    """A zip for the clerk: (name, data, time) each; xlsx files are compressed already, so stored."""
    entries = [
        (name, (data, zlib.crc32(data), len(data)) if store else _deflate(data)) for name, data, _ in files
    ]
    return _zip_raw(entries, files[0][2] if files else None, stored=store)


def _version() -> str:
    from . import __version__

    return __version__
