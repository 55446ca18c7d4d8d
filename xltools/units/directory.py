"""The unit directory clerks maintain in Excel (workbooks/units.xlsx).

Sheet 单位名录: 地区 / 规范名称 / 别名 / 类型 / 市级对应单位 / 备注 — one row per unit. Sheet 地区:
地区 / 级别 (市, 区县, 功能区) / 上级地区 / 备注 — every region, also those with no units listed yet. Loading checks it: a canonical name listed twice in a region, an alias claimed
by two units, an unknown kind or a counterpart that is not a unit of the parent region are problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import UnreadableInput
from ..problems import Problem
from ..text import fold

UNITS_SHEET = "单位名录"
REGIONS_SHEET = "地区"
UNIT_HEADERS = ("地区", "规范名称", "别名", "类型", "市级对应单位", "备注")
REGION_HEADERS = ("地区", "级别", "上级地区", "备注", "别名")  # 别名 last: directories made before it still load
LEVELS = ("市", "区县", "功能区")  # a 功能区 (高新区, 起步区) keeps a ledger of its own, like a district
KINDS = {"部门": "department", "派出机构": "branch", "垂直管理": "vertical", "企业/中心": "company", "集体": "collective"}
KIND_ZH = {v: k for k, v in KINDS.items()}

PACKAGE_DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "units.xlsx"
REPO_DIRECTORY = Path(__file__).resolve().parents[2] / "workbooks" / "units.xlsx"

_LIST_SPLIT = re.compile(r"[、,，;；\n]+")

# Long → short forms used interchangeably in real ledgers; applied to both sides before comparing,
# so 区市场监督管理局 and 区市场监管局 (or 市卫生健康委员会 and 市卫生健康委) are one unit.
_SHORTENINGS = (
    ("监督管理", "监管"), ("委员会", "委"), ("应急管理局", "应急局"), ("城市管理局", "城管局"),
    ("发展和改革", "发展改革"), ("住房和城乡建设", "住房城乡建设"), ("人力资源和社会保障", "人力资源社会保障"),
    ("文化和旅游", "文化旅游"), ("教育和体育", "教育体育"), ("工业和信息化", "工业信息化"),
    ("办公室", "办"), ("供销合作社", "供销社"), ("科学技术", "科技"),
)


@lru_cache(maxsize=100_000)
def name_key(name: str) -> str:
    """Comparison form of a name: NFKC (full-width brackets and letters folded), no whitespace."""
    return fold(name or "")


@lru_cache(maxsize=100_000)  # every district's names are keyed again when spellings are learned
def short_key(name: str) -> str:
    """A name with the usual long forms shortened (区市场监督管理局 → 区市场监管局)."""
    key = name_key(name)
    for long, short in _SHORTENINGS:
        key = key.replace(long, short)
    return key


def split_list(text: str | None) -> list[str]:
    return [p.strip() for p in _LIST_SPLIT.split(str(text or "")) if p.strip()]


@dataclass
class Unit:
    region: str
    name: str
    aliases: list[str] = field(default_factory=list)
    kind: str = "department"
    counterparts: list[str] = field(default_factory=list)  # the city units a district unit answers to
    notes: str = ""
    row: int | None = None  # row in the directory sheet


@dataclass
class Region:
    name: str
    level: str  # 市 | 区县 | 功能区
    parent: str | None = None
    notes: str = ""  # the full name (济南高新技术产业开发区), for the clerk
    aliases: list[str] = field(default_factory=list)  # other names ledgers give it (济南高新区)
    row: int | None = None  # row in the 地区 sheet


@dataclass
class _Index:
    exact: dict[str, Unit] = field(default_factory=dict)  # canonical name key → unit
    alias: dict[str, Unit] = field(default_factory=dict)  # alias key → unit
    short: dict[str, list[Unit]] = field(default_factory=dict)  # short key → units
    choices: dict[str, Unit] = field(default_factory=dict)  # every key (names and aliases) → unit


@dataclass
class Directory:
    units: list[Unit] = field(default_factory=list)
    regions: dict[str, Region] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str | None = None
    _index: dict[str, _Index] = field(default_factory=dict, repr=False)
    _region_names: tuple | None = field(default=None, repr=False)  # (key → region, (key, region) longest first)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._index = {}
        self._region_names = None
        for unit in self.units:
            index = self._index.setdefault(unit.region, _Index())
            index.exact.setdefault(name_key(unit.name), unit)
            index.choices.setdefault(name_key(unit.name), unit)
            index.short.setdefault(short_key(unit.name), []).append(unit)
            for alias in unit.aliases:
                index.alias.setdefault(name_key(alias), unit)
                index.choices.setdefault(name_key(alias), unit)
                if unit not in index.short.setdefault(short_key(alias), []):
                    index.short[short_key(alias)].append(unit)

    def has_region(self, region: str | None) -> bool:
        """Whether the directory lists units of ``region`` (names in a region without any are learned)."""
        return bool(region) and region in self._index

    def index(self, region: str) -> _Index:
        return self._index.get(region) or _Index()

    def region_units(self, region: str) -> list[Unit]:
        return [u for u in self.units if u.region == region]

    def parent(self, region: str) -> str | None:
        info = self.regions.get(region)
        if info and info.parent:
            return info.parent
        cities = [r.name for r in self.regions.values() if r.level == "市"]
        if region and not region.endswith("市") and len(cities) == 1:
            return cities[0]
        return None

    def level(self, region: str) -> str:
        info = self.regions.get(region)
        if info:
            return info.level
        return "市" if region.endswith("市") else "区县"

    def region_names(self) -> list[str]:
        """Every region the directory names: the 地区 sheet's, in order, then those only its units name."""
        return [*self.regions, *(r for r in self._index if r not in self.regions)]

    def resolve_region(self, name: str | None) -> str | None:
        """The directory's region a ledger's title or file names: the region itself, one of its aliases (the
        地区 sheet's 别名), or the region after its city's name (济南高新区 → 高新区); None when none is."""
        return self._names()[0].get(name_key(name)) if name else None

    def find_region(self, text: str) -> str | None:
        """The region whose name or alias occurs in ``text`` (the longest that does), for a title the region
        could not be read from (济南新旧动能转换起步区推动…)."""
        folded = name_key(text)
        return next((region for key, region in self._names()[1] if key in folded), None)

    def _names(self) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """The regions' names and aliases by key (before the city-prefixed forms: a name wins), made once."""
        if self._region_names is None:
            names = [(n, region.name) for region in self.regions.values() for n in (region.name, *region.aliases)]
            by_key: dict[str, str] = {}
            for n, region in names:
                by_key.setdefault(name_key(n), region)
            for region in self.regions.values():
                parent = self.parent(region.name)
                if parent:
                    by_key.setdefault(name_key(parent + region.name), region.name)
                    by_key.setdefault(name_key(parent.removesuffix("市") + region.name), region.name)
            longest = sorted(names, key=lambda pair: len(pair[0]), reverse=True)
            self._region_names = by_key, [(name_key(n), region) for n, region in longest if n]
        return self._region_names

    def children(self, region: str) -> list[str]:
        """The districts and 功能区 under ``region``, in the 地区 sheet's order, with or without units listed."""
        return [r for r in self.region_names() if r != region and self.parent(r) == region]

    def siblings(self, region: str) -> list[str]:
        parent = self.parent(region)
        return [r for r in self._index if r != region and parent and self.parent(r) == parent]

    def counterpart_units(self, region: str, city_unit: str) -> list[Unit]:
        """Units of ``region`` that answer to the city's ``city_unit``."""
        key = name_key(city_unit)
        return [u for u in self.region_units(region) if key in {name_key(c) for c in u.counterparts}]


def _rows(workbook, sheet: str) -> list[list[str]]:
    from ..readers.workbook import sheet_values

    return sheet_values(workbook, sheet)


def default_directory_path() -> Path:
    """The bundled directory: workbooks/units.xlsx in a checkout, else the package's copy."""
    return REPO_DIRECTORY if REPO_DIRECTORY.is_file() else PACKAGE_DIRECTORY


_LOADED: dict = {}


def cached_directory(path: str | Path | None = None) -> Directory:
    """``load_directory(path)``, read again only when its file changes: for callers that check again and again
    while the clerk may edit the directory (the add-in's worksheet functions, the desk's workbook checks)."""
    path = Path(path) if path else default_directory_path()
    key = (str(path), path.stat().st_mtime_ns if path.is_file() else None)
    found = _LOADED.get(key)
    if found is None:
        found = load_directory(path)
        _LOADED.clear()
        _LOADED[key] = found
    return found


def load_directory(path: str | Path | None = None) -> Directory:
    """Read a unit directory workbook (default: the bundled workbooks/units.xlsx) and check it."""
    from ..readers.workbook import open_workbook

    path = Path(path) if path else default_directory_path()
    if not path.is_file():
        raise UnreadableInput(f"{path}: no such unit directory", f"找不到单位名录：{path}")
    workbook = open_workbook(path)
    if UNITS_SHEET not in workbook.sheet_names:
        raise UnreadableInput(f"{path}: no sheet {UNITS_SHEET!r}", f"单位名录“{path.name}”中没有“{UNITS_SHEET}”工作表")
    directory = Directory(source=path.name)
    rows = _rows(workbook, UNITS_SHEET)
    header_at = next((i for i, r in enumerate(rows[:10]) if [c.strip() for c in r[:2]] == ["地区", "规范名称"]), None)
    if header_at is None:
        raise UnreadableInput(f"{path}: header 地区/规范名称 not found",
                              f"单位名录“{path.name}”的“{UNITS_SHEET}”表缺少表头：地区、规范名称、别名、类型、市级对应单位、备注")
    for i, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        r = (r + [""] * 6)[:6]
        region, name = r[0].strip(), r[1].strip()
        if not region and not name:
            continue
        where = {"file": path.name, "sheet": UNITS_SHEET, "cell": f"B{i}"}
        if not region or not name:
            directory.problems.append(Problem("directory-incomplete-row", "单位名录中缺少地区或规范名称的行",
                                              severity="error", value="｜".join(r[:2]), **where))
            continue
        kind = KINDS.get(r[3].strip() or "部门")
        if kind is None:
            directory.problems.append(Problem(
                "directory-bad-kind", f"未知的单位类型“{r[3]}”", severity="warning", value=r[3],
                suggestion="、".join(KINDS), **{**where, "cell": f"D{i}"}))
            kind = "department"
        directory.units.append(Unit(region, name, split_list(r[2]), kind, split_list(r[4]), r[5].strip(), i))
    if REGIONS_SHEET in workbook.sheet_names:
        for i, r in enumerate(_rows(workbook, REGIONS_SHEET)[1:], start=2):
            r = (r + [""] * 5)[:5]
            if r[0].strip():
                directory.regions[r[0].strip()] = Region(r[0].strip(), r[1].strip() or "区县", r[2].strip() or None,
                                                         r[3].strip(), split_list(r[4]), i)
    for unit in directory.units:
        directory.regions.setdefault(unit.region, Region(unit.region, "市" if unit.region.endswith("市") else "区县"))
    directory.reindex()
    directory.problems.extend(check_directory(directory))
    return directory


def check_directory(directory: Directory) -> list[Problem]:
    """Duplicates, aliases claimed twice, counterparts that do not exist in the parent region."""
    problems: list[Problem] = []
    claimed: dict[tuple[str, str], Unit] = {}
    for unit in directory.units:
        where = {"file": directory.source, "sheet": UNITS_SHEET, "cell": f"B{unit.row}" if unit.row else None}
        key = (unit.region, name_key(unit.name))
        if key in claimed:
            other = claimed[key]
            kind = "directory-duplicate" if name_key(other.name) == key[1] else "directory-alias-conflict"
            problems.append(Problem(kind, f"{unit.region}的“{unit.name}”重复（第{other.row}行已有）",
                                    severity="error", value=unit.name, **where))
        else:
            claimed[key] = unit
        for alias in unit.aliases:
            akey = (unit.region, name_key(alias))
            other = claimed.get(akey)
            if other is not None and other is not unit:
                problems.append(Problem(
                    "directory-alias-conflict",
                    f"别名“{alias}”同时属于“{other.name}”（第{other.row}行）和“{unit.name}”", severity="error",
                    value=alias, **{**where, "cell": f"C{unit.row}" if unit.row else None}))
            else:
                claimed[akey] = unit
        parent = directory.parent(unit.region)
        for counterpart in unit.counterparts:
            if parent and directory.has_region(parent) and name_key(counterpart) not in directory.index(parent).choices:
                problems.append(Problem(
                    "directory-bad-counterpart", f"“{unit.name}”的市级对应单位“{counterpart}”不在{parent}的名录中",
                    severity="warning", value=counterpart, **{**where, "cell": f"E{unit.row}" if unit.row else None}))
    problems.extend(_region_alias_problems(directory))
    return problems


def _region_alias_problems(directory: Directory) -> list[Problem]:
    """A region alias that is another region's name or alias: a title naming it could be either."""
    problems: list[Problem] = []
    owner = {name_key(r.name): r.name for r in directory.regions.values()}
    for region in directory.regions.values():
        for alias in region.aliases:
            other = owner.setdefault(name_key(alias), region.name)
            if other != region.name:
                problems.append(Problem(
                    "directory-alias-conflict", f"地区别名“{alias}”同时指“{other}”和“{region.name}”", severity="error",
                    file=directory.source, sheet=REGIONS_SHEET, cell=f"E{region.row}" if region.row else None, value=alias,
                    suggestion="一个别名只能属于一个地区"))
    return problems


def write_directory(directory: Directory, path: str | Path) -> Path:
    """Write a directory workbook clerks can edit (used to seed workbooks/units.xlsx)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from ..layout import fit_rows
    from ..printing import fit_widths
    from ..template import _default_font, setup_print
    from ..xlio import atomic_save, put

    wb = Workbook()
    _default_font(wb)  # widths in Arial's units, measured alike by Excel, WPS and LibreOffice
    ws = wb.active
    ws.title = UNITS_SHEET
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append(list(UNIT_HEADERS))
    for r, unit in enumerate(directory.units, 2):  # names come from ledgers (units learn): text stays text
        for c, value in enumerate([unit.region, unit.name, "、".join(unit.aliases), KIND_ZH[unit.kind],
                                   "、".join(unit.counterparts), unit.notes], 1):
            put(ws, r, c, value)
    regions = wb.create_sheet(REGIONS_SHEET)
    regions.append(list(REGION_HEADERS))
    for r, region in enumerate(directory.regions.values(), 2):
        for c, value in enumerate([region.name, region.level, region.parent or "", region.notes,
                                   "、".join(region.aliases)], 1):
            put(regions, r, c, value)
    # Widths that fill landscape A4 at 100% (11 pt prints at 11 pt): the long-text columns share the room,
    # never narrower than their least widths (index → least).
    layouts = ((ws, (10, 30, 30, 10, 26, 30), {1: 20, 2: 18, 4: 16, 5: 16}),
               (regions, (14, 10, 14, 34, 40), {3: 20, 4: 24}))
    for sheet, want, flexible in layouts:
        widths = fit_widths(want, flexible, landscape=True)
        for row in sheet.iter_rows():
            for cell in row:
                cell.border = box
                cell.font = Font(name="仿宋", size=11, charset=134)
                cell.alignment = Alignment(vertical="center", wrap_text=True,
                                           horizontal="center" if cell.row == 1 else None)
        for cell in sheet[1]:
            cell.font = Font(name="黑体", size=11, charset=134, bold=True)
            cell.fill = PatternFill("solid", fgColor="D9D9D9")
        for col, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(col)].width = width
        fit_rows(sheet, 2, dict(enumerate(widths, 1)))  # Excel and WPS do not fit wrapped rows on open
        sheet.freeze_panes = "A2"
        # landscape A4, one page wide, the header on every page
        setup_print(sheet, (1, 1), f"A1:{get_column_letter(len(widths))}{sheet.max_row}")
    ws.auto_filter.ref = f"A1:F{ws.max_row}"
    kinds = DataValidation(type="list", formula1='"' + ",".join(KINDS) + '"', allow_blank=True)
    kinds.add(f"D2:D{max(ws.max_row, 2) + 500}")
    ws.add_data_validation(kinds)
    levels = DataValidation(type="list", formula1='"' + ",".join(LEVELS) + '"', allow_blank=True)
    levels.add(f"B2:B{regions.max_row + 100}")
    regions.add_data_validation(levels)
    return atomic_save(wb, Path(path)) or Path(path)



def suggest_region(directory: Directory, name: str) -> str | None:
    """The one region of ``directory`` a clerk probably meant by ``name``: the name itself when the directory
    names it, the region one of its aliases is (济南高新区 → 高新区), else a region whose name or alias is
    ``name`` with 区, 县 or 市 added (历下 → 历下区), else one that starts with ``name`` (高新技术 → 高新区),
    else one a character away, changed, added or left out (章邱区 → 章丘区). None when there is none, or
    when the first of these rules that finds any finds several regions (历区: 历下区 or 历城区)."""
    key = name_key(name)
    if not key:
        return None
    regions = directory.region_names()
    if name in regions:
        return name
    resolved = directory.resolve_region(name)
    if resolved:
        return resolved

    def one_apart(other: str) -> bool:
        if len(other) == len(key):
            return sum(x != y for x, y in zip(key, other)) == 1
        short, long = sorted((key, other), key=len)
        return len(long) - len(short) == 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))

    keys = [(name_key(n), region) for region in regions
            for n in (region, *(directory.regions[region].aliases if region in directory.regions else ()))]
    rules = (
        lambda k: k in {key + suffix for suffix in "区县市"},
        lambda k: len(key) > 1 and k.startswith(key),  # one character starts too many names to guess from
        lambda k: len(key) > 1 and one_apart(k),
    )
    for rule in rules:
        found = {region for k, region in keys if rule(k)}
        if found:
            return found.pop() if len(found) == 1 else None
    return None
