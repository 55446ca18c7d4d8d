"""The 映射 sheet of a rollup: how district rows map to city tasks, as the clerk corrected it.

``write_rollup`` writes the sheet (one row per district row, columns in :data:`COLUMNS`) and names its
header and data ``xlt_mapping``; :func:`read_mapping` reads a corrected copy back so the next run
(``xltools consolidate --mapping rollup.xlsx``) uses the clerk's city task numbers instead of its own.
The clerk may add or move columns, sort, filter or append rows: columns are found by header text.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from ..display import file_name
from ..errors import UnreadableInput
from ..text import column_letter, value_text

SHEET = "映射"
DEFINED_NAME = "xlt_mapping"
CITY_SEQS_HEADER = "对应市级任务序号"
CITY_SEQS_HELP = "填写市级任务序号，多个用顿号分隔，留空表示不对应"
# field → header text, width. Fields the reader needs: region, file, sheet, row, row_seq, task, city_seqs.
COLUMNS = (
    ("region", "地区", 7),
    ("file", "文件", 16),
    ("sheet", "工作表", 9),
    ("row", "行号", 5),  # worksheet row, or the line of a text document
    ("row_seq", "序号", 5),
    ("task", "重点任务", 20),
    ("content", "工作内容摘要", 26),
    ("city_seqs", CITY_SEQS_HEADER, 9),
    ("city_tasks", "市级重点任务", 18),
    ("confidence", "置信度", 6),
    ("method", "方式", 6.5),
    ("note", "备注", 12),
)
FLEXIBLE = {"content": 20, "city_tasks": 16, "note": 10}  # least widths; the writer fills the page
HIDDEN = ("file", "sheet", "row")  # lineage for read_mapping: hidden columns do not print
# For the clerk who corrects the sheet: what to change and whom to give it back to (no command line:
# the person who runs the rollup reads it back with ``--mapping``).
INSTRUCTION = (f"如对应关系有误，请直接改正“{CITY_SEQS_HEADER}”列（{{help}}），改好后保存，把本工作簿交回负责汇总的"
               "同志，下次汇总即按此表对应。黄色行为未对应到市级任务的地区台账行；未填写的市级任务行不列在此表；市级任务名称与本行相同的，只列序号。")
HEADERS = {f: h for f, h, _ in COLUMNS}
METHOD_ZH = {"key": "任务键", "seq": "序号", "name": "任务名", "similarity": "相似度", "manual": "人工",
             "none": "未对应", "blank": "未填写", "own": "本区任务", "na": "不涉及"}
_SPLIT = re.compile(r"[、,，;；/\s]+")
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass
class MappingOverride:
    """One row of a corrected 映射 sheet: a district row and the city tasks the clerk says it serves."""

    region: str
    file: str
    sheet: str | None
    row: int | None  # worksheet row, or line of a text document
    row_seq: int | None
    task: str
    city_seqs: list[int] = field(default_factory=list)
    cell: str | None = None  # where the clerk wrote city_seqs (映射!H12), for problems with it


def format_seqs(seqs) -> str:
    """City seqs as the 映射 sheet shows them: "10、12"."""
    return "、".join(str(s) for s in seqs)


def parse_seqs(value, cell: str = "") -> list[int]:
    """"10、12", "10,12", "10，12", 10, 10.0 → [10, 12] / [10]; blank → []; anything else raises."""
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        raise _bad_seq(value, cell)
    if isinstance(value, (int, float)):
        if float(value).is_integer() and value > 0:
            return [int(value)]
        raise _bad_seq(value, cell)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    seqs: list[int] = []
    for token in _SPLIT.split(text):
        if not token:
            continue
        try:
            number = float(token)
        except ValueError:
            raise _bad_seq(value, cell) from None
        if not number.is_integer() or number <= 0:
            raise _bad_seq(value, cell)
        if int(number) not in seqs:
            seqs.append(int(number))
    return seqs


def _bad_seq(value, cell: str) -> UnreadableInput:
    where = f"{SHEET}表 {cell} 单元格" if cell else f"{SHEET}表"
    return UnreadableInput(
        f"{SHEET}!{cell}: {value!r} is not a list of city task numbers",
        f"{where}“{value}”不是市级任务序号。请填写数字，多个用顿号分隔（如“10、12”），留空表示不对应。",
    )


def read_mapping(path: str | Path) -> list[MappingOverride]:
    """The rows of the 映射 sheet of a (corrected) rollup workbook, in sheet order."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableInput(f"mapping workbook {path} not found", f"找不到映射文件：{path}")
    from ..limits import inspect

    inspect(path)
    located = _named_range(path)
    rows = _read_sheet(path, located[0] if located else None)
    header_row = located[1] if located else -1
    if not _is_header(rows[header_row] if 0 <= header_row < len(rows) else []):
        header_row = _find_header(rows, path)  # no name, or a tool that moved rows without moving it
    header = rows[header_row]
    cols: dict[str, int] = {}
    for i, text in enumerate(header):
        for f, h, _ in COLUMNS:
            if isinstance(text, str) and text.strip() == h and f not in cols:
                cols[f] = i
    if "city_seqs" not in cols or "region" not in cols:
        raise UnreadableInput(
            f"{file_name(path)}: mapping sheet lacks the {CITY_SEQS_HEADER} / 地区 columns",
            f"“{file_name(path)}”的{SHEET}表缺少“地区”或“{CITY_SEQS_HEADER}”列，请使用 xltools 生成的汇总表修改后再读入。",
        )

    def get(row: list, f: str):
        i = cols.get(f)
        return row[i] if i is not None and i < len(row) else None

    out: list[MappingOverride] = []
    seq_col = _col_letter(cols["city_seqs"])
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        if all(v is None or v == "" for v in row):
            continue
        region = value_text(get(row, "region"))
        if not region:
            continue
        out.append(MappingOverride(
            region=region,
            file=value_text(get(row, "file")),
            sheet=value_text(get(row, "sheet")) or None,
            row=_int(get(row, "row")),
            row_seq=_int(get(row, "row_seq")),
            task=value_text(get(row, "task")),
            city_seqs=parse_seqs(get(row, "city_seqs"), f"{seq_col}{r + 1}"),
            cell=f"{seq_col}{r + 1}",
        ))
    return out


def _named_range(path: Path) -> tuple[str, int] | None:
    """(sheet, 0-based header row) of the ``xlt_mapping`` name, read from xl/workbook.xml."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as z:
            root = ElementTree.fromstring(z.read("xl/workbook.xml"))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    for node in root.iter(f"{_NS}definedName"):
        if node.get("name") != DEFINED_NAME or node.get("localSheetId") is not None or not node.text:
            continue
        m = re.fullmatch(r"\s*=?\s*(?:'((?:[^']|'')+)'|([^'!]+))!\$?[A-Z]{1,3}\$?(\d+)(?::.*)?", node.text)
        if m:
            sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
            return sheet, int(m.group(3)) - 1
    return None


def _read_sheet(path: Path, sheet: str | None) -> list[list]:
    """Rows of the mapping sheet from A1 (python-calamine: fast on 180,000 rows)."""
    try:
        import python_calamine  # noqa: F401
    except ImportError as err:  # pragma: no cover - a dependency of xltools
        raise UnreadableInput("python-calamine is not installed", "缺少 python-calamine，请安装 xltools 的依赖。") from err
    from ..readers.workbook import calamine

    try:
        wb = calamine(path)
    except Exception as err:
        raise UnreadableInput(f"cannot read {path}: {err}", f"无法读取映射文件“{file_name(path)}”：文件损坏或格式不支持。") from err
    with wb:
        names = wb.sheet_names
        if sheet not in names:
            sheet = SHEET if SHEET in names else None
        if sheet is None:
            raise UnreadableInput(
                f"{file_name(path)} has no {SHEET} sheet",
                f"“{file_name(path)}”中没有“{SHEET}”工作表。请读入 xltools 生成的汇总表（含“{SHEET}”表）。",
            )
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def _is_header(row: list) -> bool:
    texts = {v.strip() for v in row if isinstance(v, str)}
    return CITY_SEQS_HEADER in texts and HEADERS["region"] in texts


def _find_header(rows: list[list], path: Path) -> int:
    for r, row in enumerate(rows[:50]):
        if _is_header(row):
            return r
    raise UnreadableInput(
        f"{file_name(path)}: no header with {CITY_SEQS_HEADER} in the {SHEET} sheet",
        f"“{file_name(path)}”的{SHEET}表中找不到表头（需含“地区”和“{CITY_SEQS_HEADER}”）。",
    )


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = float(unicodedata.normalize("NFKC", str(value)).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _col_letter(col: int) -> str:
    """0-based column → letter."""
    return column_letter(col + 1)
