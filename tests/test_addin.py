"""The add-in's handlers, run on Linux through xlwings' remote engine.

Each test builds a workbook with openpyxl from the real seeds, turns it into the JSON an Excel client sends,
runs ``dispatch(tag)`` with ``xw.Book.caller`` patched, replays every recorded action onto an openpyxl copy
(an action the replayer does not know fails the test) and checks the resulting workbook against the
original and against what the CLI's functions write for the same file.
"""

import hashlib
import json
import os
import re
import shutil
import sys
from copy import copy
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CITY, SHIZHONG, ZHANGQIU
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from xltools import addin, fill, marks, validate
from xltools.cli import cli
from xltools.marks import FILLS, NOTE_SEPARATOR, PROBLEMS_SHEET, note_text
from xltools.patch import NO_NOTE, OWN_NOTE, CellState
from xltools.problems import Problem
from xltools.validation import FIXES_SHEET
from xltools.xlio import set_text


def _import_xlwings():
    """xlwings with its remote engine: the licence key is set for the import only (tests, noncommercial)."""
    before = os.environ.get("XLWINGS_LICENSE_KEY")
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
    try:
        xw = pytest.importorskip("xlwings")
    finally:
        if before is None:
            del os.environ["XLWINGS_LICENSE_KEY"]
        else:
            os.environ["XLWINGS_LICENSE_KEY"] = before
    assert "remote" in [e.name for e in xw.engines], "xlwings was imported earlier without the test key"
    return xw


xw = _import_xlwings()
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


# ------------------------------------------------------------------------------------------ harness


def _sent(value):
    """A cell value as the client sends it: "" for empty, dates as ISO strings with Z. The payload has no type
    for text that looks like a date (the engine reads any such string as a date), so such text (the filled_at
    of ``_xltools``) is sent as the date it looks like."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, str) and DATE_LIKE.match(value):
        return value + "Z"
    return value


def payload(path: Path, selection: str = "A1", name: str | None = None) -> dict:
    """What an Excel client sends for the workbook at ``path``: every sheet's values from A1, its notes."""
    wb = load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        rows = ws.iter_rows(max_row=max(ws.max_row, 1), max_col=max(ws.max_column, 1), values_only=True)
        values = [[_sent(v) for v in row] for row in rows]
        notes = [{"address": c.coordinate} for row in ws.iter_rows() for c in row if c.comment is not None]
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": [], "notes": notes})
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": name or path.name, "active_sheet_index": 0, "selection": selection},
            "names": [], "sheets": sheets}


def _cells(ws, a):
    # a whole column (1,048,576 rows) as far as the sheet's used rows; any other range as it is
    count = a["row_count"] if a["row_count"] < 65536 else max(ws.max_row, 1)
    rows = range(a["start_row"] + 1, a["start_row"] + 1 + count)
    cols = range(a["start_column"] + 1, a["start_column"] + 1 + min(a["column_count"], 16384))
    return [ws.cell(r, c) for r in rows for c in cols]


def _cell_at(ws, address: str):
    return ws[address.replace("$", "")]


def _font(cell, **changes):
    font = copy(cell.font)
    for key, value in changes.items():
        setattr(font, key, value)
    cell.font = font


FONT_PROPERTIES = {"bold": "b", "name": "name", "size": "sz", "italic": "i"}


class Replayer:
    """Applies recorded xlwings actions to an openpyxl workbook as Excel does; refuses any it doesn't know."""

    def __init__(self, wb):
        self.wb = wb
        self.alerts: list[str] = []
        self.seen: set[str] = set()

    def sheet(self, a):
        return self.wb.worksheets[a["sheet_position"]]

    def run(self, actions: list[dict]):
        for a in actions:
            method = getattr(self, f"do_{a['func']}", None)
            if method is None:
                raise AssertionError(f"action {a['func']!r} is not replayed")
            self.seen.add(a["func"])
            method(a)
        return self.wb

    def do_setValues(self, a):  # noqa: N802 - named after the action
        ws = self.sheet(a)
        for i, row in enumerate(a["values"]):
            for j, value in enumerate(row):
                cell = ws.cell(a["start_row"] + 1 + i, a["start_column"] + 1 + j)
                if isinstance(value, str) and value.startswith(tuple("=+-@")) and cell.number_format != "@":
                    raise AssertionError(f"{ws.title}!{cell.coordinate}: {value!r} would become a formula")
                cell.value = None if value == "" else value
                if cell.data_type == "f":
                    cell.data_type = "s"

    def do_setNumberFormat(self, a):  # noqa: N802
        for cell in _cells(self.sheet(a), a):
            cell.number_format = a["args"][0]

    def do_setRangeColor(self, a):  # noqa: N802
        color = a["args"][0]
        for cell in _cells(self.sheet(a), a):
            cell.fill = PatternFill() if color is None else PatternFill("solid", fgColor=color[1:])

    def do_setFontProperty(self, a):  # noqa: N802
        prop, value = a["args"]
        for cell in _cells(self.sheet(a), a):
            if prop == "color":
                _font(cell, color=value[1:])
            else:
                _font(cell, **{FONT_PROPERTIES[prop]: value})

    def do_setColumnWidth(self, a):  # noqa: N802
        ws, width = self.sheet(a), a["args"][0]
        for col in range(a["start_column"] + 1, a["start_column"] + 1 + a["column_count"]):
            dim = ws.column_dimensions[get_column_letter(col)]
            dim.width, dim.hidden = width, width == 0

    def do_setWrapText(self, a):  # noqa: N802
        for cell in _cells(self.sheet(a), a):
            alignment = copy(cell.alignment)
            alignment.wrap_text = a["args"][0]
            cell.alignment = alignment

    def do_addHyperlink(self, a):  # noqa: N802
        address, text, tip = a["args"]
        for cell in _cells(self.sheet(a), a):
            assert address.startswith("#"), "a link inside the workbook"
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=address[1:], tooltip=tip)
            if text is not None:
                cell.value = text

    def do_addSheet(self, a):  # noqa: N802
        index, name = a["args"]
        assert name not in self.wb.sheetnames, f"sheet {name} added twice"
        self.wb.create_sheet(name, index)

    def do_sheetDelete(self, a):  # noqa: N802
        self.wb.remove(self.sheet(a))

    def do_setSheetVisibility(self, a):  # noqa: N802
        self.sheet(a).sheet_state = {"Hidden": "hidden", "Visible": "visible"}[a["args"][0]]

    def do_activateSheet(self, a):  # noqa: N802
        self.wb.active = a["args"][0]  # 0-based

    def do_addNote(self, a):  # noqa: N802
        address, text = a["args"]
        cell = _cell_at(self.sheet(a), address)
        assert cell.comment is None, f"{address} already has a note (Excel refuses AddComment)"
        cell.comment = Comment(text, "Excel")

    def do_setNoteText(self, a):  # noqa: N802
        address, text = a["args"]
        cell = _cell_at(self.sheet(a), address)
        assert cell.comment is not None, f"{address} has no note to change"
        cell.comment = Comment(text, cell.comment.author)

    def do_deleteNote(self, a):  # noqa: N802
        cell = _cell_at(self.sheet(a), a["args"][0])
        assert cell.comment is not None, f"{a['args'][0]} has no note to delete"
        cell.comment = None

    def do_alert(self, a):  # noqa: N802
        self.alerts.append(a["args"][0])


def press(monkeypatch, path: Path, tag: str, selection: str = "A1", work: Path | None = None, **kwargs):
    """Press a button in the workbook at ``path``; returns (replayed copy, alerts, actions).
    ``work`` is the workbook the clerk has open (default: ``path`` itself)."""
    book = xw.Book(json=payload(work or path, selection, name=path.name))
    monkeypatch.setattr(xw.Book, "caller", lambda: book)
    addin.dispatch(tag, **kwargs)
    actions = book.json()["actions"]
    replayer = Replayer(load_workbook(work or path))
    wb = replayer.run(actions)
    return wb, replayer.alerts, actions


@pytest.fixture(autouse=True)
def addin_env(tmp_path, monkeypatch):
    monkeypatch.setenv("XLTOOLS_ADDIN_LOG", str(tmp_path / "addin.log"))
    monkeypatch.setenv("XLTOOLS_ARCHIVE", str(tmp_path / "archive"))
    monkeypatch.delenv("XLTOOLS_UNITS", raising=False)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hex(path) -> str:
    """What the VBA HexPath gives: each UTF-16 code unit as 4 upper-case hex digits."""
    return str(path).encode("utf-16-be").hex().upper()


def _seq_rows(ws) -> dict[int, int]:
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)}


# 章丘区's ledger as a clerk left it: defects typed over the filled rows (seq → 牵头单位, 责任单位).
DEFECTS = {
    1: ("区工信局", None),  # alias: safe fix
    2: ("区发改局", None),  # alias
    3: ("区财政局，区商务局", None),  # separator: safe fix
    4: ("区宇宙开发局", None),  # unknown
    5: ("=1+1", None),  # formula-like text a clerk typed: must stay text everywhere
}
PERSON_NOTE = "请核实（王科长）"


@pytest.fixture
def ledger(tmp_path):
    """章丘区's ledger filled from its real plan, with DEFECTS, a person's note on a cell xltools will mark and a
    person's fill on one it will not."""
    path = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, path)
    wb = load_workbook(path)
    ws = wb["工作台账"]
    rows = _seq_rows(ws)
    for seq, (lead, resp) in DEFECTS.items():
        if lead is not None:
            set_text(ws.cell(rows[seq], 4), lead)
        if resp is not None:
            set_text(ws.cell(rows[seq], 5), resp)
    ws.cell(rows[4], 4).comment = Comment(PERSON_NOTE, "王科长")
    ws.cell(rows[6], 8).fill = PatternFill("solid", fgColor="00B050")
    ws.cell(rows[6], 8).value = "已完成一半"
    wb.save(path)
    return path


def _snapshot(wb, skip=(PROBLEMS_SHEET, addin.MARKS_SHEET, FIXES_SHEET)) -> dict:
    """Every cell's value, fill and note of every sheet but xltools' own."""
    out = {}
    for ws in wb.worksheets:
        if ws.title in skip:
            continue
        for row in ws.iter_rows():
            for c in row:
                out[(ws.title, c.coordinate)] = (c.value, c.fill.fill_type, c.fill.fgColor.rgb,
                                                 c.comment.text if c.comment else None)
    return out


def _list_rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]


# ------------------------------------------------------------------------------------------ marks


def test_the_open_workbook_reads_as_the_same_ledger_as_its_file(ledger):
    from xltools import extract

    live = addin.read_ledger(xw.Book(json=payload(ledger)))
    on_disk = extract(ledger)
    assert live.to_dict(with_origin=True) == on_disk.to_dict(with_origin=True)
    assert live.problems == on_disk.problems and live.region == "章丘区"


def test_check_units_marks_what_validate_finds_and_lists_it_like_validate(ledger, monkeypatch, tmp_path):
    before = load_workbook(ledger)
    wb, alerts, actions = press(monkeypatch, ledger, "check_units")
    expected = [p for p in validate(ledger).report if not p.type.startswith("target-")]
    assert expected and {p.type for p in expected} >= {"unit-alias", "unit-separator", "unit-unknown"}
    ws = wb["工作台账"]
    by_cell: dict[str, list] = {}
    for p in expected:
        if p.cell:
            by_cell.setdefault(p.cell, []).append(p)
    rows = _seq_rows(ws)
    for cell, found in by_cell.items():
        worst = min((p.severity for p in found), key=("error", "warning", "info").index)
        assert ws[cell].fill.fgColor.rgb.endswith(FILLS[worst]), cell
        if cell == f"D{rows[4]}":
            assert ws[cell].comment.text == PERSON_NOTE  # a note this engine cannot read stays as it was
        else:
            assert ws[cell].comment.text == note_text(found), cell
    # Nothing else touched: every other cell as it was (values, fills, notes), no sheet lost.
    old, new = _snapshot(before), _snapshot(wb)
    changed = {k for k in old if old[k] != new.get(k)}
    assert changed == {("工作台账", c) for c in by_cell}
    assert [s for s in wb.sheetnames if s not in before.sheetnames] == [PROBLEMS_SHEET, addin.MARKS_SHEET]
    assert wb[addin.MARKS_SHEET].sheet_state == "hidden"
    # 问题清单: the rows validate --out writes for the same file, links included.
    marked = tmp_path / "marked.xlsx"
    validate(ledger, out=marked)
    cli_list = load_workbook(marked)[PROBLEMS_SHEET]
    cli_rows = [r for r in _list_rows(cli_list) if not str(r[-1]).startswith("target-")]
    cli_rows = [[i, *r[1:]] for i, r in enumerate(cli_rows, start=1)]
    ours = wb[PROBLEMS_SHEET]
    assert [c.value for c in ours[1]] == [c.value for c in cli_list[1]]
    assert _list_rows(ours) == cli_rows
    links = [(r[9].value, r[9].hyperlink.location if r[9].hyperlink else None)
             for r in cli_list.iter_rows(min_row=2) if not str(r[-1].value).startswith("target-")]
    assert [(c.value, c.hyperlink.location if c.hyperlink else None) for c in ours["J"][1:]] == links
    assert all(location == f"'工作台账'!{cell}" for cell, location in links if cell)
    assert ours.column_dimensions["L"].hidden  # 代码, as in the file's list
    assert "单位名称校验完成" in alerts[0] and PROBLEMS_SHEET in alerts[0]
    assert {a["func"] for a in actions} - {"alert"}  # it wrote something, after its reads


def test_formula_like_text_stays_text_in_the_list_and_the_record(tmp_path, monkeypatch):
    path = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, path)
    wb = load_workbook(path)
    cell = f"D{_seq_rows(wb['工作台账'])[5]}"
    set_text(wb["工作台账"][cell], "=1+1")
    wb.save(path)
    wb, _alerts, _actions = press(monkeypatch, path, "check_units")  # the replayer refuses a formula
    listed = {r[9]: r for r in wb[PROBLEMS_SHEET].iter_rows(min_row=2, values_only=True)}
    assert listed[cell][6] == "=1+1"
    assert wb[PROBLEMS_SHEET][f"G{2 + list(listed).index(cell)}"].number_format == "@"
    recorded = [json.loads(r[5]) for r in wb[addin.MARKS_SHEET].iter_rows(min_row=2, values_only=True)
                if r[0] == "units"]
    assert "=1+1" in [p["value"] for p in recorded]
    assert wb["工作台账"][cell].value == "=1+1"


def test_running_again_replaces_marks_and_targets_keep_units(ledger, monkeypatch, tmp_path):
    original = load_workbook(ledger)
    first, _alerts, _a = press(monkeypatch, ledger, "check_units")
    once = tmp_path / "once.xlsx"
    first.save(once)
    again, _alerts, _a = press(monkeypatch, ledger, "check_units", work=once)
    assert _list_rows(again[PROBLEMS_SHEET]) == _list_rows(first[PROBLEMS_SHEET])  # no duplicates
    assert _list_rows(again[addin.MARKS_SHEET]) == _list_rows(first[addin.MARKS_SHEET])
    assert _snapshot(again) == _snapshot(first)
    twice = tmp_path / "twice.xlsx"
    again.save(twice)
    both, alerts, _a = press(monkeypatch, ledger, "check_targets", work=twice)
    targets = [p for p in validate(ledger).report if p.type.startswith("target-")]
    assert targets and "目标校验完成" in alerts[0]
    ws = both["工作台账"]
    for p in targets:
        assert ws[p.cell].fill.fgColor.rgb.endswith(FILLS[p.severity])
        assert p.message in ws[p.cell].comment.text
    codes = [r[-1] for r in _list_rows(both[PROBLEMS_SHEET])]
    units = [r[-1] for r in _list_rows(first[PROBLEMS_SHEET])]
    assert sorted(codes) == sorted(units + [p.type for p in targets])  # the unit problems are still listed
    # clear: every cell xltools marked is as it was, the list and the record are gone, nothing else changed.
    marked = tmp_path / "both.xlsx"
    both.save(marked)
    cleared, alerts, actions = press(monkeypatch, ledger, "clear_marks", work=marked)
    assert PROBLEMS_SHEET not in cleared.sheetnames and addin.MARKS_SHEET not in cleared.sheetnames
    assert cleared.sheetnames == original.sheetnames
    assert _snapshot(cleared) == _snapshot(original)
    assert "已清除标注" in alerts[0]
    assert {"setRangeColor", "deleteNote", "sheetDelete"} <= {a["func"] for a in actions}


def test_a_corrected_cell_loses_its_mark_when_checked_again(ledger, monkeypatch, tmp_path):
    first, _alerts, _a = press(monkeypatch, ledger, "check_units")
    ws = first["工作台账"]
    cell = f"D{_seq_rows(ws)[2]}"  # 区发改局, an alias
    assert ws[cell].fill.fgColor.rgb.endswith(FILLS["warning"])
    ws[cell].value = "区发展和改革局"  # the clerk corrects it (not saved)
    work = tmp_path / "corrected.xlsx"
    first.save(work)
    again, alerts, _a = press(monkeypatch, ledger, "check_units", work=work)
    c = again["工作台账"][cell]
    assert c.fill.fill_type is None and c.comment is None and c.value == "区发展和改革局"
    assert cell not in [r[9] for r in again[PROBLEMS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert ("mark", cell) not in [(r[0], r[2]) for r in again[addin.MARKS_SHEET].iter_rows(values_only=True)]
    assert "单位名称校验完成" in alerts[0]


def test_clear_puts_back_the_fill_and_note_a_cell_had_before(ledger, monkeypatch, tmp_path):
    """Excel (COM) reads a cell's fill and note before marking it; the record keeps them for clear."""
    marked, _alerts, _a = press(monkeypatch, ledger, "check_units")
    ws, record = marked["工作台账"], marked[addin.MARKS_SHEET]
    row = next(r for r in record.iter_rows(min_row=2) if r[0].value == "mark" and r[2].value != "D" + str(
        _seq_rows(ws)[4]))
    cell = row[2].value
    row[3].value, row[4].value, row[5].value = "#00B050", addin.OWN_NOTE, "原来的批注"
    path = tmp_path / "marked.xlsx"
    marked.save(path)
    cleared, _alerts, _a = press(monkeypatch, ledger, "clear_marks", work=path)
    c = cleared["工作台账"][cell]
    assert c.fill.fgColor.rgb.endswith("00B050") and c.comment.text == "原来的批注"


def test_a_person_note_readable_in_excel_is_kept_above_the_marks(ledger, monkeypatch):
    cell = f"D{_seq_rows(load_workbook(ledger)['工作台账'])[4]}"

    def before(rng):  # what the COM engine reads
        note = rng.note
        return CellState(rng.sheet.name, "", "", NO_NOTE if note is None else OWN_NOTE,
                         PERSON_NOTE if note is not None else "")

    monkeypatch.setattr(addin, "_before", before)
    wb, _alerts, _a = press(monkeypatch, ledger, "check_units")
    text = wb["工作台账"][cell].comment.text
    assert text.startswith(PERSON_NOTE + NOTE_SEPARATOR) and "区宇宙开发局" in text


def test_a_problem_in_the_unit_directory_is_listed_not_marked_in_the_ledger(ledger, monkeypatch, tmp_path):
    from xltools.units.directory import REPO_DIRECTORY

    units = tmp_path / "名录.xlsx"
    wb = load_workbook(REPO_DIRECTORY)
    wb["单位名录"].append(["章丘区", None])  # a row without a name: an error of the directory, at its B101
    wb.save(units)
    monkeypatch.setenv("XLTOOLS_UNITS", str(units))
    before = load_workbook(ledger)
    marked, _alerts, _a = press(monkeypatch, ledger, "check_units")
    listed = [r for r in marked[PROBLEMS_SHEET].iter_rows(min_row=2) if r[-1].value == "directory-incomplete-row"]
    assert len(listed) == 1 and listed[0][7].value == "名录.xlsx" and listed[0][9].hyperlink is None
    assert listed[0][8].value == "单位名录" and listed[0][9].value == "B101"
    assert {k: v for k, v in _snapshot(marked).items() if k[0] == "单位名录"} == \
        {k: v for k, v in _snapshot(before).items() if k[0] == "单位名录"}


def test_a_protected_sheet_is_refused_before_anything_is_written(ledger, monkeypatch):
    """Excel (COM) says which sheets are protected and which cells locked; the remote engine cannot."""
    monkeypatch.setattr(addin, "_protected", lambda sheet: sheet.name == "工作台账")
    monkeypatch.setattr(addin, "_locked", lambda rng: True)
    for tag in ("check_units", "apply_fixes"):
        _wb, alerts, actions = press(monkeypatch, ledger, tag)
        assert [a["func"] for a in actions] == ["alert"] and "受保护" in alerts[0], tag
    # A distributed workbook's district columns are unlocked: fixes go in, marks still need the protection off.
    monkeypatch.setattr(addin, "_locked", lambda rng: False)
    _wb, alerts, _a = press(monkeypatch, ledger, "apply_fixes")
    assert "已安全修正" in alerts[0]


def test_a_threaded_comment_on_a_cell_to_mark_is_refused_before_anything_is_written(ledger, monkeypatch):
    """Excel (COM) reports a Microsoft 365 threaded comment, which cannot take a note (AddComment fails mid-write);
    the remote engine has none, so one is reported here for cells the check notes."""
    rows = _seq_rows(load_workbook(ledger)["工作台账"])
    threaded = {f"D{rows[2]}"}
    seen = []

    def has_thread(rng):
        cell = rng.address.replace("$", "")
        seen.append((rng.sheet.name, cell))
        return rng.sheet.name == "工作台账" and cell in threaded

    monkeypatch.setattr(addin, "_threaded_comment", has_thread)
    _wb, alerts, actions = press(monkeypatch, ledger, "check_units")
    assert [a["func"] for a in actions] == ["alert"]  # nothing written
    assert alerts == [f"未能完成：工作表“工作台账”的 D{rows[2]} 单元格有新式批注（可回复的批注），台账工具无法在这些单元格上"
                      "加标注。请先记下批注内容，删除这些批注（右键单元格 → 删除批注），需要时改用备注（审阅 → 备注 → 新建备注），"
                      "再点击。工作簿没有被改动。"]
    noted = {(p.sheet, p.cell) for p in validate(ledger).report if p.cell and not p.type.startswith("target-")}
    # every cell to be noted was asked, and no other; the person's note this engine cannot read is left as it is
    assert set(seen) == noted - {("工作台账", f"D{rows[4]}")}
    # many: the first five named, the rest counted
    threaded = {cell for _sheet, cell in seen}
    _wb, alerts, actions = press(monkeypatch, ledger, "check_units")
    assert [a["func"] for a in actions] == ["alert"] and len(threaded) > addin.THREADED_SHOWN
    named = re.search(r"的 (\S+) 等 (\d+) 处单元格有新式批注", alerts[0])
    assert named and int(named[2]) == len(threaded) and len(named[1].split("、")) == addin.THREADED_SHOWN


def test_a_threaded_comment_where_clear_puts_a_note_back_is_refused(ledger, monkeypatch, tmp_path):
    marked, _alerts, _a = press(monkeypatch, ledger, "check_units")
    row = next(r for r in marked[addin.MARKS_SHEET].iter_rows(min_row=2) if r[0].value == "mark")
    cell = row[2].value
    row[4].value, row[5].value = addin.OWN_NOTE, "原来的批注"  # the note clear gives back
    path = tmp_path / "marked.xlsx"
    marked.save(path)
    monkeypatch.setattr(addin, "_threaded_comment", lambda rng: rng.address.replace("$", "") == cell)
    _wb, alerts, actions = press(monkeypatch, ledger, "clear_marks", work=path)
    assert [a["func"] for a in actions] == ["alert"]
    assert f"工作表“工作台账”的 {cell} 单元格有新式批注" in alerts[0]
    monkeypatch.setattr(addin, "_threaded_comment", lambda rng: False)
    _wb, alerts, _a = press(monkeypatch, ledger, "clear_marks", work=path)
    assert "已清除标注" in alerts[0]


def test_apply_fixes_changes_only_the_cells_validate_fix_changes(ledger, monkeypatch, tmp_path):
    original = load_workbook(ledger)
    wb, alerts, _a = press(monkeypatch, ledger, "apply_fixes")
    result = validate(ledger, fix=True, fixed_out=tmp_path / "fixed.xlsx")
    assert len(result.fixes) >= 2
    fixed = load_workbook(result.fixed)
    assert _snapshot(wb) == _snapshot(fixed, skip=(FIXES_SHEET,))  # the very cells validate --fix changes
    changed = {k for k, v in _snapshot(original).items() if _snapshot(wb)[k] != v}
    assert changed == {("工作台账", f.cell) for f in result.fixes}
    rows = lambda ws: list(ws.iter_rows(values_only=True))  # noqa: E731
    assert rows(wb[FIXES_SHEET]) == rows(fixed[FIXES_SHEET])
    assert f"已安全修正 {len(result.fixes)} 个单元格" in alerts[0]
    assert result.fixes[0].describe() in alerts[0]


def test_nothing_to_fix_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, path)
    wb = load_workbook(path)
    for row in wb["工作台账"].iter_rows():
        for c in row:
            if c.value == "区市场监管局":
                c.value = "区市场监督管理局"
    wb.save(path)
    assert not validate(path).fixes
    _wb, alerts, actions = press(monkeypatch, path, "apply_fixes")
    assert [a["func"] for a in actions] == ["alert"] and "没有可以安全修正" in alerts[0]


# ------------------------------------------------------------------------------------------ failures


def test_a_workbook_without_a_ledger_gets_a_chinese_alert_and_no_change(tmp_path, monkeypatch):
    from openpyxl import Workbook

    path = tmp_path / "随便.xlsx"
    wb = Workbook()
    wb.active["A1"] = "会议记录"
    wb.save(path)
    for tag in ("check_units", "check_targets", "apply_fixes", "distribute"):
        _wb, alerts, actions = press(monkeypatch, path, tag, path_hex=_hex(tmp_path))
        assert [a["func"] for a in actions] == ["alert"], tag
        assert "没有找到台账表头" in alerts[0]


def test_an_internal_error_is_an_alert_and_the_english_goes_to_the_log(ledger, monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("boom in the checker")

    monkeypatch.setattr("xltools.validation.check_units", broken)
    _wb, alerts, actions = press(monkeypatch, ledger, "check_units")
    assert [a["func"] for a in actions] == ["alert"]  # validated before any write: nothing half-changed
    assert alerts[0].startswith("内部错误") and str(tmp_path / "addin.log") in alerts[0]
    log = (tmp_path / "addin.log").read_text(encoding="utf-8")
    assert "boom in the checker" in log and "Traceback" in log


def test_an_unknown_button_says_so_in_chinese(ledger, monkeypatch):
    _wb, alerts, actions = press(monkeypatch, ledger, "no_such_button")
    assert [a["func"] for a in actions] == ["alert"] and "没有“no_such_button”这个功能" in alerts[0]


def test_every_tag_has_a_handler_that_takes_the_workbook_and_a_path():
    assert set(addin.HANDLERS) == {"plan_to_ledger", "refresh_ledger", "check_units", "check_targets",
                                   "apply_fixes", "clear_marks", "distribute", "consolidate", "feedback",
                                   "open_directory", "lookup_unit", "help"}


def test_importing_the_addin_does_not_import_xlwings(tmp_path):
    import subprocess

    code = "import sys, xltools.addin as a; assert a.HANDLERS; print('xlwings' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------ files


@pytest.fixture
def opened(monkeypatch):
    """The remote engine cannot open books: the opener is recorded instead."""
    calls = []
    monkeypatch.setattr(addin, "open_book", lambda book, path: calls.append(Path(path)))
    return calls


def test_plan_to_ledger_fills_beside_the_plan_and_never_overwrites(tmp_path, monkeypatch, opened, ledger):
    folder = tmp_path / "方案 文件夹"
    folder.mkdir()
    plan = folder / "章丘区_工作方案.txt"
    shutil.copy(ZHANGQIU, plan)
    _wb, alerts, actions = press(monkeypatch, ledger, "plan_to_ledger", path_hex=_hex(plan))
    out = folder / "章丘区_工作台账.xlsx"
    assert opened == [out] and "已生成台账" in alerts[0]
    reference = tmp_path / "ref.xlsx"
    fill(ZHANGQIU, reference)
    cells = lambda p: list(load_workbook(p)["工作台账"].iter_rows(values_only=True))  # noqa: E731
    assert cells(out) == cells(reference)
    assert {a["func"] for a in actions} == {"alert"}  # the open workbook is not touched
    before = _sha(out)
    press(monkeypatch, ledger, "plan_to_ledger", path_hex=_hex(plan))
    assert opened[-1] == folder / "章丘区_工作台账(2).xlsx" and _sha(out) == before


def test_refresh_ledger_keeps_what_the_clerk_typed_unsaved(tmp_path, monkeypatch, opened):
    saved = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, saved)
    live = tmp_path / "live.xlsx"  # the clerk typed progress and has not saved it
    wb = load_workbook(saved)
    ws = wb["工作台账"]
    row = _seq_rows(ws)[3]
    ws.cell(row, 8).value = "已开工建设"
    wb.save(live)
    plan = tmp_path / "新方案" / "章丘区_工作方案.txt"
    plan.parent.mkdir()
    shutil.copy(ZHANGQIU, plan)
    before = _sha(saved)
    _wb, alerts, actions = press(monkeypatch, saved, "refresh_ledger", work=live, path_hex=_hex(plan))
    out = plan.parent / "章丘区_工作台账_更新.xlsx"
    assert opened == [out] and _sha(saved) == before
    new = load_workbook(out)["工作台账"]
    assert new.cell(_seq_rows(new)[3], 8).value == "已开工建设"
    assert "已写出更新后的台账" in alerts[0] and {a["func"] for a in actions} == {"alert"}


@pytest.fixture
def city(tmp_path):
    path = tmp_path / "济南市_工作台账.xlsx"
    fill(CITY, path)
    return path


def test_distribute_writes_one_workbook_per_district_from_the_open_city_ledger(tmp_path, monkeypatch, opened,
                                                                                 city):
    out = tmp_path / "分发 输出"
    out.mkdir()
    before = _sha(city)
    _wb, alerts, actions = press(monkeypatch, city, "distribute", path_hex=_hex(out))
    from xltools.distribution import distribute

    reference = distribute(city, tmp_path / "ref")
    made = sorted(p.name for p in out.glob("*.xlsx"))
    assert made == sorted(p.name for p in (tmp_path / "ref").glob("*.xlsx")) and len(made) > 2
    assert opened == [out / "分发清单.xlsx"]
    assert f"已为 {len(reference.files)} 个区县生成填报表" in alerts[0] and "未保存的修改" in alerts[0]
    assert _sha(city) == before and {a["func"] for a in actions} == {"alert"}
    # A saved workbook is distributed from its own file: districts' workbooks name its bytes.
    monkeypatch.setattr(addin, "saved_file", lambda book: city)
    again = tmp_path / "再次"
    again.mkdir()
    _wb, alerts, _a = press(monkeypatch, city, "distribute", path_hex=_hex(again))
    assert "未保存" not in alerts[0]
    district = next(p for p in again.glob("*.xlsx") if p.name != "分发清单.xlsx")
    meta = {r[0]: r[1] for r in load_workbook(district)["_xltools"].iter_rows(values_only=True)}
    assert before in meta.values()


@pytest.fixture
def inbox(tmp_path):
    box = tmp_path / "收件 箱"
    box.mkdir()
    shutil.copy(SHIZHONG, box / "市中区_工作方案.txt")
    fill(ZHANGQIU, box / "章丘区_工作台账.xlsx")
    return box


def test_consolidate_writes_the_rollup_beside_the_inbox_and_opens_it(tmp_path, monkeypatch, opened, city,
                                                                      inbox):
    received = {p.name: _sha(p) for p in inbox.iterdir()}
    shown = []
    monkeypatch.setattr(addin.Excel, "status", lambda self, text: shown.append(text))
    _wb, alerts, actions = press(monkeypatch, city, "consolidate", path_hex=_hex(inbox))
    progress = [t for t in shown if t and t.startswith("正在读取并核对各区县文件：")]
    done, total = progress[-1].rpartition("：")[2].split("/")
    assert done == total and shown[-1] is None  # then Excel's own status bar back
    out = tmp_path / "济南市_汇总.xlsx"
    assert opened == [out] and out.is_file()
    rollup = load_workbook(out)
    assert PROBLEMS_SHEET in rollup.sheetnames
    assert {p.name: _sha(p) for p in inbox.iterdir()} == received
    assert alerts[0].startswith(f"已写出汇总：{out}") and "2 个地区" in alerts[0]
    assert re.search(r"问题：错误 \d+ 条(（\d+ 个地区）)?，警告 [\d,]+ 条（\d+ 个地区）", alerts[0])  # as the CLI says
    assert {a["func"] for a in actions} == {"alert"}
    press(monkeypatch, city, "consolidate", path_hex=_hex(inbox))
    assert opened[-1] == tmp_path / "济南市_汇总(2).xlsx"  # an earlier rollup is never replaced


def test_feedback_writes_one_workbook_per_district_beside_the_rollup(tmp_path, monkeypatch, opened, city,
                                                                     inbox):
    _wb, alerts, _a = press(monkeypatch, city, "feedback", path_hex=_hex(inbox))
    folder = tmp_path / "济南市_反馈"
    assert opened == [folder / "反馈清单.xlsx"]
    names = sorted(p.name for p in folder.glob("*.xlsx"))
    assert "反馈清单.xlsx" in names and any(n.startswith("章丘区_反馈") for n in names)
    assert any(n.startswith("市中区_反馈") for n in names)
    assert "已写出反馈：2 个地区" in alerts[0]


def test_a_missing_folder_is_an_alert(tmp_path, monkeypatch, opened, city):
    _wb, alerts, actions = press(monkeypatch, city, "consolidate", path_hex=_hex(tmp_path / "没有这个文件夹"))
    assert "找不到收件文件夹" in alerts[0] and not opened


# ------------------------------------------------------------------------------------------ directory


def test_open_directory_opens_the_configured_or_bundled_directory(tmp_path, monkeypatch, opened, ledger):
    from xltools.units.directory import REPO_DIRECTORY

    press(monkeypatch, ledger, "open_directory")
    assert opened == [REPO_DIRECTORY]
    mine = tmp_path / "我的名录.xlsx"
    shutil.copy(REPO_DIRECTORY, mine)
    monkeypatch.setenv("XLTOOLS_UNITS", str(mine))
    press(monkeypatch, ledger, "open_directory")
    assert opened[-1] == mine


def test_lookup_unit_says_what_units_check_says(ledger, monkeypatch):
    ws = load_workbook(ledger)["工作台账"]
    rows = _seq_rows(ws)
    selection = f"D{rows[1]}:D{rows[4]}"
    _wb, alerts, actions = press(monkeypatch, ledger, "lookup_unit", selection=selection)
    assert [a["func"] for a in actions] == ["alert"]
    for seq in (1, 2, 4):
        name = ws.cell(rows[seq], 4).value
        said = CliRunner().invoke(cli, ["units", "check", name, "--region", "章丘区"]).output.strip()
        assert said and said in alerts[0]
    assert "区发改局：简称/别称 → 区发展和改革局" in alerts[0]


def test_lookup_unit_without_a_selection_asks_for_one(ledger, monkeypatch):
    wb = load_workbook(ledger)
    empty = f"K{wb['工作台账'].max_row + 5}"
    _wb, alerts, _a = press(monkeypatch, ledger, "lookup_unit", selection=empty)
    assert "请先选中" in alerts[0]


def test_help_lists_every_button(ledger, monkeypatch):
    _wb, alerts, _a = press(monkeypatch, ledger, "help")
    for label in ("从方案生成台账", "更新台账", "校验单位名称", "校验目标", "应用安全修正", "清除标注", "分发模板",
                  "汇总全市", "生成反馈", "打开单位名录", "查询所选单位", "XLT_UNIT", "XLT_TARGETS"):
        assert label in alerts[0]


# ------------------------------------------------------------------------------------------ UDFs


def test_xlt_unit_gives_the_canonical_name_or_the_problem():
    assert addin.XLT_UNIT("区发改局", "章丘区") == "区发展和改革局"
    assert addin.XLT_UNIT("区财政局", "章丘区") == "区财政局"
    unknown = addin.XLT_UNIT("区宇宙开发局", "章丘区")
    assert unknown and unknown != "区宇宙开发局" and any("\u4e00" <= ch <= "\u9fff" for ch in unknown)
    assert "连写" in addin.XLT_UNIT("区财政局区商务局", "章丘区")
    assert addin.XLT_UNIT("区财政局、区发改局", "章丘区") == "区财政局；区发展和改革局"
    assert addin.XLT_UNIT(None, "章丘区") == "" and "地区" in addin.XLT_UNIT("区财政局", "")


def test_xlt_targets_gives_the_normalized_targets():
    assert addin.XLT_TARGETS("到2025年，全区建成充换电站90座") == "2025年 充换电站 90座"
    assert addin.XLT_TARGETS("加强宣传引导") == "" and addin.XLT_TARGETS(None) == ""


def test_path_hex_carries_a_chinese_path_as_vba_writes_it(tmp_path):
    path = tmp_path / "济南 市" / "收件箱😀.xlsx"
    assert bytes.fromhex(_hex(path)).decode("utf-16-be") == str(path)
    assert json.dumps(_hex(path)).isascii()


@pytest.mark.parametrize("saved_by", ["openpyxl", "libreoffice"])
def test_check_units_on_a_district_file_as_offices_send_it(saved_by, tmp_path, monkeypatch):
    """A district's own workbook: title and signed preamble, a two-row merged header in another column order,
    bands in 序号/重点任务, units separated by spaces, a note and a signature under the table, a unit typed as
    =HYPERLINK(…) — and the same saved again by LibreOffice. The button marks exactly the cells validate finds
    there, at the cells of this sheet, and changes nothing else; the typed formula stays text."""
    from districts import saved_by_libreoffice, two_row_header

    from xltools import extract

    path = two_row_header(extract(ZHANGQIU), tmp_path / "章丘区_台账.xlsx", "章丘区")
    wb = load_workbook(path)
    ws = wb["台账"]
    unit_col = next(c.column for c in ws[4] if c.value == "牵头单位")
    first = next(r for r in range(5, ws.max_row) if isinstance(ws.cell(r, 1).value, int))
    set_text(ws.cell(first, unit_col), '=HYPERLINK("http://x.example","区发展改革局")')
    wb.save(path)
    if saved_by == "libreoffice":
        if not shutil.which("soffice"):
            pytest.skip("LibreOffice is not installed")
        path = saved_by_libreoffice(path, ".xlsx", tmp_path / "lo")
    before = load_workbook(path)
    wb, alerts, _actions = press(monkeypatch, path, "check_units")
    expected = [p for p in validate(path).report if not p.type.startswith("target-")]
    cells = {p.cell for p in expected if p.cell and p.sheet == "台账"}
    assert f"{get_column_letter(unit_col)}{first}" in cells and len(cells) > 5
    old, new = _snapshot(before), _snapshot(wb)
    assert {k for k in old if old[k] != new.get(k)} == {("台账", c) for c in cells}
    assert wb["台账"].cell(first, unit_col).value == '=HYPERLINK("http://x.example","区发展改革局")'
    assert wb["台账"].cell(first, unit_col).data_type == "s"
    assert "单位名称校验完成" in alerts[0]
    listed = {r[9] for r in _list_rows(wb[PROBLEMS_SHEET])}
    assert f"{get_column_letter(unit_col)}{first}" in listed


def _wps_snapshot(path: Path) -> dict:
    """What the WPS add-in sends for the workbook at ``path``: each sheet's Value2 (numbers as numbers), merged
    ranges, and the cells with a fill or a note."""
    wb = load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        values = [["" if v is None else v for v in row]
                  for row in ws.iter_rows(max_row=max(ws.max_row, 1), max_col=max(ws.max_column, 1), values_only=True)]
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                fill = marks._fill_hex(c)
                if fill or c.comment is not None:
                    cells[c.coordinate] = {"fill": fill, "note": c.comment.text if c.comment else None}
        sheets.append({"name": ws.title, "values": values, "merged": [str(r) for r in ws.merged_cells.ranges],
                       "cells": cells})
    return {"name": path.name, "sheets": sheets, "selection": [["区发改局"]]}


def test_the_same_workbook_gets_the_same_patch_through_every_door(tmp_path, monkeypatch):
    """Issue 23, item 5: the checks make one patch (``buttons``) from a snapshot of the workbook; the Excel add-in
    (xlwings), a file (openpyxl: validate -o, the desk's marked copies) and the desk's JSON API (the WPS add-in's
    door) get the same patch for the same workbook — a person's note and fill, a merged range and "=1+1" included —
    and applying it through xlwings or openpyxl gives the same cells, fills, notes and 问题清单."""
    from starlette.testclient import TestClient

    from xltools import buttons
    from xltools.desk import Desk
    from xltools.desk.app import create_app
    from xltools.patch import Patch
    from xltools.units import load_directory

    path = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, path)
    wb = load_workbook(path)
    ws = wb["工作台账"]
    rows = _seq_rows(ws)
    set_text(ws[f"D{rows[5]}"], "=1+1")
    ws[f"D{rows[3]}"].comment = Comment(PERSON_NOTE, "王科员")
    ws[f"D{rows[3]}"].fill = PatternFill("solid", fgColor="00B050")
    ws[f"D{rows[3]}"].value = "区宇宙开发局"
    wb.save(path)
    directory = load_directory()

    def as_com(rng):  # what Excel's COM engine reads of a cell (the remote engine cannot): from the file
        cell = load_workbook(path)[rng.sheet.name][rng.address.replace("$", "")]
        state = marks.FileSnapshot(cell.parent.parent).state(rng.sheet.name, cell.coordinate)
        return CellState(rng.sheet.name, "", state.fill, state.note, state.text)

    monkeypatch.setattr(addin, "_before", as_com)
    for action in ("check_units", "check_targets", "apply_fixes", "lookup_unit", "clear_marks"):
        excel = buttons.ACTIONS[action](addin.BookSnapshot(xw.Book(json=payload(path, name=path.name))), directory)
        in_file = buttons.ACTIONS[action](buttons.file_snapshot(path), directory)
        desk = Desk(CITY, tmp_path / "archive", ["章丘区"])
        client = TestClient(create_app(desk, allowed_hosts=["testserver"], local=True))
        answer = client.post(f"/api/workbook/{action}", json=_wps_snapshot(path))
        assert answer.status_code == 200, answer.text
        if action != "lookup_unit":  # (the selection is the door's own: A1 in the payload, a name in the JSON)
            assert excel.to_dict() == in_file.to_dict() == answer.json(), action
        assert Patch.from_dict(answer.json()).to_dict() == answer.json()
    patch = buttons.check_units(buttons.file_snapshot(path), directory)
    person = next(p for p in patch.paint if p.cell == f"D{rows[3]}")
    assert person.note.startswith(PERSON_NOTE + NOTE_SEPARATOR) and "区宇宙开发局" in person.note
    assert ["mark", "工作台账", f"D{rows[3]}", "#00B050", "text", PERSON_NOTE] in patch.tables[-1].rows

    # applied through xlwings (replayed as Excel does) and through openpyxl: the same workbook
    in_excel, _alerts, _actions = press(monkeypatch, path, "check_units")
    applied = load_workbook(path)
    marks.apply_patch(applied, patch)
    for mark in patch.paint:
        a, b = in_excel[mark.sheet][mark.cell], applied[mark.sheet][mark.cell]
        assert a.fill.fgColor.rgb[-6:] == b.fill.fgColor.rgb[-6:] == mark.fill[1:]
        assert a.comment.text == b.comment.text == mark.note
    assert _list_rows(in_excel[PROBLEMS_SHEET]) == [[None if v == "" else v for v in r]
                                                     for r in patch.tables[0].rows[1:]]

    # the desk's marked copy (the feedback workbook) is made by the same planner
    desk = Desk(CITY, tmp_path / "archive2", ["章丘区"])
    checked = desk.hand_in("章丘区", path.name, path.read_bytes())
    name, data = desk.marked_copy("章丘区", 1)
    (tmp_path / name).write_bytes(data)
    got = load_workbook(tmp_path / name)
    at_desk = marks.plan_marks([Problem.from_dict(p) for p in checked.problems], got.sheetnames,
                               lambda sheet, ref: marks._anchor(got[sheet], ref))
    assert at_desk and all(got[m.sheet][m.cell].comment.text.endswith(m.note) for m in at_desk)
