"""Rows given as data: CSV/TSV with a header row (Chinese or English names) or JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..display import file_name
from ..errors import UnreadableInput
from ..model import Ledger, Origin
from ..text import read_text
from .grid import GridRow, parse_grid

CELL_MAX = 10_000_000  # characters one CSV cell may hold


def extract_rows(path: Path) -> Ledger:
    name = file_name(path)
    text, _ = read_text(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableInput(
                f"{path}: invalid JSON at line {exc.lineno}",
                f"JSON 格式错误：{name} 第{exc.lineno}行第{exc.colno}列") from exc
        if isinstance(data, list):
            data = {"rows": data}
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise UnreadableInput(f"{path}: expected an object with 'rows' or a list of rows",
                                  f"JSON 应为含 rows 列表的对象或行列表：{name}")
        ledger = Ledger.from_dict(data)
        for i, row in enumerate(ledger.rows):
            row.origin = Origin(file=name, row=i + 1)
        return ledger
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" or text.count("\t") > text.count(",") else "excel"
    csv.field_size_limit(max(csv.field_size_limit(), CELL_MAX))  # a long cell is data, not a broken file
    try:
        records = list(csv.reader(io.StringIO(text), dialect=dialect))
    except csv.Error as exc:
        raise UnreadableInput(f"{path}: not a readable CSV ({exc})",
                              f"CSV 文件格式有误，无法读取：{name}（{exc}）") from exc
    rows = [GridRow(r, Origin(file=name, line=i + 1)) for i, r in enumerate(records)]
    return parse_grid(rows, name)
