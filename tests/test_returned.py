"""Issue 11, part 2: distributed workbooks taken back — mapped by key whatever a clerk typed, and every change to
their structure a problem at its cell (a city row deleted, a locked cell typed over, a key duplicated, a row left
blank, another district's file, an older city ledger), in consolidate and in validate."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

import xltools
from xltools.rollup import ConsolidateOptions, consolidate

SAMPLE_CITY = Path(__file__).resolve().parents[1] / "workbooks" / "samples" / "济南市_工作台账.txt"


def _columns(ws) -> tuple[int, dict[str, int]]:
    for row in ws.iter_rows(max_row=10):
        texts = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if "序号" in texts and "任务键" in texts:
            return row[0].row, texts
    raise AssertionError("no header")


def _units(wb) -> list[str]:
    ws = wb["单位名录"]
    # (a district the directory lists no units for gets no list: its clerk types the names)
    return [r[1] for r in ws.iter_rows(min_row=2, values_only=True) if r[1]] or ["区发展改革局", "区商务局", "区财政局"]


def fill_as_a_clerk(path: Path, region: str, *, changes: bool = False) -> dict:
    """Fill a distributed workbook as a district clerk would (openpyxl: protection does not stop it).

    With ``changes``, also: a unit typed outside the list, a task of the district's own, city task 5's row
    deleted, task 7's 重点任务 typed over, a malformed target on task 9, task 12's row copied (key duplicated),
    task 20 left blank. Returns where each change landed: {what: (row, column letter)}.
    """
    wb = openpyxl.load_workbook(path)
    ws = wb["工作台账"]
    header, cols = _columns(ws)
    units = _units(wb)
    letter = openpyxl.utils.get_column_letter
    at: dict = {}
    key_rows = {}
    for r in range(header + 1, ws.max_row + 1):
        key = ws.cell(r, cols["任务键"]).value
        if key and str(key).isdigit():
            key_rows[int(key)] = r
    for seq, r in key_rows.items():
        if changes and seq == 20:
            continue
        ws.cell(r, cols["工作内容"], f"{region}落实市级任务{seq}，制定本区实施方案并推进。")
        ws.cell(r, cols["牵头单位"], units[seq % len(units)])
        ws.cell(r, cols["责任单位"], f"{units[(seq + 1) % len(units)]}、{units[(seq + 2) % len(units)]}")
        ws.cell(r, cols["完成时限"], "2025年底")
        ws.cell(r, cols["完成情况"], "推进中")
    if changes:
        ws.cell(key_rows[3], cols["责任单位"], "区数字经济促进中心")  # not in the list
        at["outside"] = (key_rows[3], letter(cols["责任单位"]))
        ws.cell(key_rows[7], cols["重点任务"], "推动本区产业升级")
        at["locked"] = (key_rows[7], letter(cols["重点任务"]))
        ws.cell(key_rows[9], cols["目标"], "到2035年新增充电桩100个")
        at["target"] = (key_rows[9], letter(cols["目标"]))
        at["blank"] = (key_rows[20], letter(cols["工作内容"]))
        own = next(r for r in range(header + 1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("九、"))
        ws.cell(own + 1, cols["重点任务"], "举办全民健身运动会")
        ws.cell(own + 1, cols["工作内容"], "举办区级全民健身运动会一届，参与群众5000人次。")
        ws.cell(own + 1, cols["牵头单位"], units[0])
        at["own"] = (own + 1, letter(cols["重点任务"]))
        # The copied row goes just below the last city task, as a clerk would paste it.
        last = key_rows[60]
        ws.insert_rows(last + 1)
        for c in range(1, ws.max_column + 1):
            ws.cell(last + 1, c, ws.cell(key_rows[12], c).value)
        at["duplicate"] = (last + 1 - 1, letter(cols["任务键"]))  # (the deletion below moves it up a row)
        ws.delete_rows(key_rows[5])
    wb.save(path)
    return at


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    root = tmp_path_factory.mktemp("returned")
    result = xltools.distribute(SAMPLE_CITY, root / "dist", regions="市中区,章丘区")
    inbox = root / "inbox"
    inbox.mkdir()
    files = {d.region: shutil.copy(d.path, inbox / d.path.name) for d in result.files}
    fill_as_a_clerk(Path(files["章丘区"]), "章丘区")
    changes = fill_as_a_clerk(Path(files["市中区"]), "市中区", changes=True)
    rollup = consolidate(SAMPLE_CITY, inbox, root / "汇总.xlsx",
                         ConsolidateOptions(use_archive=False, feedback=str(root / "反馈")))
    return rollup, files, changes


def _by_type(rollup, region):
    rec = next(r for r in rollup.received if r.region == region)
    out: dict[str, list] = {}
    for p in rec.problems:
        out.setdefault(p.type, []).append(p)
    return rec, out


def test_an_untouched_returned_workbook_maps_60_of_60_by_key(returned):
    rollup, _, _ = returned
    maps = [m for m in rollup.mappings if m.region == "章丘区"]
    assert len(maps) == 60 and all(m.method == "key" and m.confidence == 1.0 for m in maps)
    assert sorted(s for m in maps for s in m.city_seqs) == list(range(1, 61))
    _, types = _by_type(rollup, "章丘区")
    assert not [t for t in types if t.startswith("returned-")]


def test_every_change_a_district_made_is_its_own_problem_at_its_cell(returned):
    rollup, files, at = returned
    rec, types = _by_type(rollup, "市中区")
    [deleted] = types["returned-row-deleted"]
    task5 = next(r.task for r in xltools.extract(SAMPLE_CITY).rows if r.seq == 5)
    assert deleted.value == "5" and task5[:10] in deleted.message and "被删除" in deleted.message
    [locked] = types["returned-locked-changed"]
    assert locked.cell == f"{at['locked'][1]}{at['locked'][0] - 1}"  # one row up: row 5 was deleted above it
    assert "推动本区产业升级" in locked.message and "原为" in locked.message
    [dup] = types["returned-key-duplicate"]
    assert dup.value == "12" and dup.cell == f"{at['duplicate'][1]}{at['duplicate'][0]}"
    [blank] = types["returned-blank-row"]
    assert blank.cell == f"{at['blank'][1]}{at['blank'][0] - 1}" and "20" in blank.message
    assert not any(p.type == "missing-lead-unit" and p.cell and p.cell[1:] == blank.cell[1:] for p in rec.problems)
    year = [p for p in rec.problems if p.type.startswith("target-") and "2035" in p.message]
    assert year and year[0].cell.startswith(at["target"][1])
    outside = [p for p in rec.problems if p.type.startswith("unit-") and "数字经济促进中心" in (p.value or "")]
    assert outside and outside[0].cell == f"{at['outside'][1]}{at['outside'][0]}"
    # Mapping: every other city row by key; 5 and 20 not covered; the district's own task is its own.
    maps = [m for m in rollup.mappings if m.region == "市中区"]
    by_key = {s for m in maps if m.method == "key" for s in m.city_seqs}
    assert by_key == set(range(1, 61)) - {5, 20}
    assert [m.row.task for m in maps if m.method == "own"] == ["举办全民健身运动会"]
    own = [p for p in rollup.problems if p.type == "own-task"]
    assert len(own) == 1 and own[0].severity == "info"
    covered = rollup.coverage()
    assert "市中区" not in covered.get(5, {}) and "市中区" not in covered.get(20, {}) and "市中区" in covered[6]


def test_validate_alone_finds_the_structure_changes(returned):
    _, files, at = returned
    result = xltools.validate(files["市中区"])
    types = {p.type for p in result.report.problems}
    assert {"returned-row-deleted", "returned-locked-changed", "returned-key-duplicate",
            "returned-blank-row"} <= types
    [locked] = [p for p in result.report.problems if p.type == "returned-locked-changed"]
    assert "原为" not in locked.message  # without the city its text is not known, only that it changed


def test_another_districts_workbook_and_an_older_city_ledger_are_named(tmp_path):
    result = xltools.distribute(SAMPLE_CITY, tmp_path / "dist", regions="历下区")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sent = inbox / "济南市槐荫区_工作台账.xlsx"  # 槐荫区 sends back the workbook made for 历下区
    shutil.copy(result.files[0].path, sent)
    fill_as_a_clerk(sent, "槐荫区")
    city = tmp_path / "济南市_工作台账.txt"  # the city edits task 3's text and adds nothing
    text = SAMPLE_CITY.read_text(encoding="utf-8")
    lines = text.split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith("3\t"))
    lines[i] = lines[i].replace("。", "，并加快推进。", 1)
    city.write_text("\n".join(lines), encoding="utf-8")
    rollup = consolidate(city, inbox, None, ConsolidateOptions(use_archive=False))
    rec = rollup.received[0]
    types = {p.type: p for p in rec.problems}
    assert "历下区" in types["returned-other-region"].message and "槐荫区" in types["returned-other-region"].message
    older = types["returned-older-city"]
    assert older.severity == "warning" and "修改了任务3" in older.message
    assert "returned-locked-changed" not in types  # the city changed task 3, not the district


def test_a_returned_workbook_saved_by_libreoffice_keeps_its_keys_and_metadata(returned, tmp_path):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    from districts import saved_by_libreoffice

    _, files, _ = returned
    for suffix in ("xlsx", "ods", "xls"):
        saved = saved_by_libreoffice(Path(files["章丘区"]), f".{suffix}", tmp_path / suffix)
        ledger = xltools.extract(saved)
        assert ledger.meta.get("kind") == "distributed" and ledger.meta.get("region") == "章丘区"
        assert sorted(int(r.extra["任务键"]) for r in ledger.rows if r.extra.get("任务键")) == list(range(1, 61))
        from xltools.returned import check_returned

        assert check_returned(ledger, saved.name, regions=("章丘区",)) == []


def test_each_districts_feedback_carries_its_changes_at_their_cells(returned):
    rollup, _, _ = returned
    rec, types = _by_type(rollup, "市中区")
    [path] = [p for p in rollup.feedback if p.name.startswith("市中区_反馈_")]
    wb = openpyxl.load_workbook(path)
    listed = [dict(zip([c.value for c in wb["问题清单"][1]], (c.value for c in row)))
              for row in wb["问题清单"].iter_rows(min_row=2)]
    codes = {r["代码"] for r in listed}
    assert {"returned-row-deleted", "returned-locked-changed", "returned-key-duplicate", "returned-blank-row"} <= codes
    assert any(c.startswith("unit-") for c in codes)  # the unit typed outside the list
    ws = wb["工作台账"]
    for kind in ("returned-locked-changed", "returned-key-duplicate", "returned-blank-row"):
        [p] = types[kind]
        cell = ws[p.cell]
        assert cell.comment is not None and p.message[:20] in cell.comment.text, kind
        assert cell.fill.fgColor.rgb not in (None, "00000000"), kind
    # Tasks 5 and 20 are told once, as the deleted and the blank row, not again as uncovered.
    assert not [r for r in listed if r["代码"] == "feedback-uncovered-task"]
    assert any(r["代码"].startswith("target-") for r in listed)  # the malformed target
