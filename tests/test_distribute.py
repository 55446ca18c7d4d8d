"""xltools distribute: one workbook per district, built from the template, read back by extract and
consolidate.

Source: the 济南市 city ledger seed (003_…, also the sample `make demo` uses) and the bundled unit directory,
which lists units for 市中区 and 章丘区 and none for 历城区.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from datetime import datetime

import pytest
from click.testing import CliRunner
from conftest import CITY
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

import xltools
from xltools import template as tpl
from xltools.cli import cli
from xltools.distribution import OWN_ROWS, REF_CONTENT, REF_FULL, REF_LEAD, file_name, parse_deadline
from xltools.returned import reference_text
from xltools.units import load_directory

REGIONS = ["市中区", "章丘区", "历城区"]
DISTRICT_HEADERS = ["工作内容", "牵头单位", "责任单位", "目标", "完成时限", "进展情况", "完成情况"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = xltools.distribute(
        CITY, out, regions=",".join(REGIONS), deadline="2030-06-30", zip=True, batch="TEST-1"
    )
    return result


def _open(result, region):
    item = next(f for f in result.files if f.region == region)
    return load_workbook(item.path), item


def _layout(ws):
    """Header text → column, and the data rows by kind: city task rows, goal rows, own rows."""
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "序号")
    cols = {
        ws.cell(header_row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(header_row, c).value
    }
    key = cols["任务键"]
    tasks, goals, own = [], [], []
    band = None
    for r in range(header_row + 1, ws.max_row + 1):
        value = ws.cell(r, key).value
        first = ws.cell(r, 1).value
        if isinstance(first, str) and first.endswith("本区自行增加的任务"):
            band = r
        elif value and value.startswith("g"):
            goals.append(r)
        elif value:
            tasks.append(r)
        elif band:
            own.append(r)
    return header_row, cols, tasks, goals, own


def _dv_at(ws, col: int, row: int):
    found = [
        dv
        for dv in ws.data_validations.dataValidation
        if any(g.min_col <= col <= g.max_col and g.min_row <= row <= g.max_row for g in dv.sqref.ranges)
    ]
    assert len(found) <= 1, f"two validations on {get_column_letter(col)}{row}"
    return found[0] if found else None


def test_one_workbook_per_district_named_for_it(dist):
    assert [f.region for f in dist.files] == REGIONS
    for item in dist.files:
        assert item.path.name == f"济南市{item.region}_工作台账（填报）.xlsx"
        assert item.sha256 == hashlib.sha256(item.path.read_bytes()).hexdigest()
        assert item.tasks == 60
    assert file_name("济南市", "高新区") == "济南市高新区_工作台账（填报）.xlsx"
    wb, _ = _open(dist, "市中区")
    assert wb.sheetnames == ["工作台账", "填报说明", "单位名录", "_xltools"]
    assert wb["工作台账"]["A1"].value == "济南市市中区推动大规模设备更新和消费品以旧换新工作台账"


def test_city_columns_locked_district_columns_open(dist):
    wb, _ = _open(dist, "市中区")
    ws = wb["工作台账"]
    header_row, cols, tasks, goals, own = _layout(ws)
    assert list(cols)[:4] == ["序号", "重点任务", REF_CONTENT, REF_LEAD]
    assert [h for h in cols if h in DISTRICT_HEADERS] == DISTRICT_HEADERS
    assert len(tasks) == 60 and len(goals) == 8 and len(own) == OWN_ROWS
    city = xltools.extract(CITY)
    assert [ws.cell(r, cols["序号"]).value for r in tasks] == [row.seq for row in city.rows]
    # The city's text as an excerpt (its first words) the row can show; the whole text in a hidden column.
    assert [ws.cell(r, cols[REF_CONTENT]).value for r in tasks] == [reference_text(row.content) for row in city.rows]
    assert all(len(ws.cell(r, cols[REF_CONTENT]).value) <= 16 for r in tasks)
    assert [ws.cell(r, cols[REF_FULL]).value for r in tasks] == [row.content for row in city.rows]
    assert ws.column_dimensions[get_column_letter(cols[REF_FULL])].hidden
    assert ws.cell(tasks[0], cols[REF_LEAD]).value == "、".join(city.rows[0].lead_units)
    for r in tasks:
        for h in ("序号", "重点任务", REF_CONTENT, REF_LEAD, "任务键"):
            assert ws.cell(r, cols[h]).protection.locked, (h, r)
        for h in ("序号", "重点任务", REF_CONTENT, REF_LEAD):
            assert ws.cell(r, cols[h]).fill.fgColor.rgb.endswith("E8E8E8")
        for h in DISTRICT_HEADERS:
            assert not ws.cell(r, cols[h]).protection.locked, (h, r)
            assert ws.cell(r, cols[h]).value is None  # the district's to write
    for r in own:
        for h in ("序号", "重点任务", *DISTRICT_HEADERS):
            assert not ws.cell(r, cols[h]).protection.locked, (h, r)
    for r in goals:
        assert not ws.cell(r, cols["工作内容"]).protection.locked
        assert ws.cell(r, cols[REF_CONTENT]).protection.locked
    assert ws.column_dimensions[get_column_letter(cols["任务键"])].hidden
    assert not ws.cell(header_row - 1, 1).protection.locked  # 填报单位（盖章）： is typed into
    assert ws.cell(header_row, 1).protection.locked


def test_unit_lists_come_from_the_district_directory(dist):
    directory = load_directory()
    wb, item = _open(dist, "市中区")
    ws = wb["工作台账"]
    _, cols, tasks, goals, own = _layout(ws)
    names = [u.name for u in directory.region_units("市中区")]
    assert item.units == len(names) > 20
    ref = wb.defined_names["xlt_unit_list"].attr_text
    sheet, cells = ref.split("!")
    assert sheet.strip("'") == "单位名录"
    c1, r1, c2, r2 = range_boundaries(cells.replace("$", ""))
    units = wb["单位名录"]
    assert [units.cell(r, c1).value for r in range(r1, r2 + 1)] == names
    assert units.cell(1, c1).value == "规范名称"
    assert {units.cell(r, 1).value for r in range(2, r2 + 1)} == {"市中区"}
    for h in ("牵头单位", "责任单位"):
        for r in (tasks[0], tasks[-1], goals[0], own[0]):
            dv = _dv_at(ws, cols[h], r)
            assert dv.type == "list" and dv.formula1 == "xlt_unit_list"  # a range, never an inline list
            assert not dv.showErrorMessage  # several units in one cell: the list guides, typing is free
            assert "顿号" in dv.prompt


def test_dates_status_and_a_message_on_every_open_cell(dist):
    wb, _ = _open(dist, "市中区")
    ws = wb["工作台账"]
    _, cols, tasks, goals, own = _layout(ws)
    dv = _dv_at(ws, cols["完成时限"], tasks[5])
    assert dv.type == "date" and dv.errorStyle == "warning" and dv.showErrorMessage
    assert ws.cell(tasks[5], cols["完成时限"]).number_format == "yyyy-mm-dd"
    status = _dv_at(ws, cols["完成情况"], own[-1])
    assert status.type == "list" and "未启动" in status.formula1 and "推进中" in status.formula1
    for r in tasks + goals + own:
        for c in range(1, ws.max_column + 1):
            if not ws.cell(r, c).protection.locked:
                dv = _dv_at(ws, c, r)
                assert dv is not None and dv.showInputMessage and dv.prompt and dv.promptTitle, (c, r)
                assert len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32


def test_district_without_units_gets_no_empty_list(dist):
    wb, item = _open(dist, "历城区")
    ws = wb["工作台账"]
    _, cols, tasks, _, _ = _layout(ws)
    assert item.units == 0
    dv = _dv_at(ws, cols["牵头单位"], tasks[0])
    assert dv.type is None and "全称" in dv.prompt
    assert wb["单位名录"].max_row == 1
    assert [p.type for p in dist.problems] == ["distribute-no-units"] and "历城区" in dist.problems[0].message


def test_protection_guards_structure_without_password(dist, tmp_path):
    wb, _ = _open(dist, "章丘区")
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password
    p = wb["工作台账"].protection
    assert p.insertRows is False and p.deleteRows is False and p.formatRows is False  # False: allowed
    assert p.insertColumns and p.deleteColumns and p.formatCells  # True: protected
    assert wb.security.lockStructure and wb["_xltools"].sheet_state == "hidden"
    locked = xltools.distribute(CITY, tmp_path, regions="章丘区", password="jn2025")
    wb = load_workbook(locked.files[0].path)
    assert wb["工作台账"].protection.password not in (None, "", "jn2025")  # stored hashed
    assert wb.security.workbookPassword not in (None, "", "jn2025")


def test_metadata(dist):
    wb, _ = _open(dist, "市中区")
    meta = tpl.read_meta(wb)
    assert meta["kind"] == "distributed" and meta["region"] == "市中区" and meta["city"] == "济南市"
    assert (
        meta["source_sha256"] == meta["city_ledger_sha256"] == hashlib.sha256(CITY.read_bytes()).hexdigest()
    )
    assert meta["format_version"] == tpl.FORMAT_VERSION and meta["template_version"] == tpl.TEMPLATE_VERSION
    assert meta["batch"] == "TEST-1" and meta["deadline"] == "2030-06-30"
    assert meta["task_keys"] == "济南市" and meta["level"] == "区县"
    assert meta["own_section"] == "九、本区自行增加的任务"
    ws = wb["工作台账"]
    _, cols, tasks, goals, _ = _layout(ws)
    assert meta["row_keys"].split(",") == [ws.cell(r, cols["任务键"]).value for r in sorted(goals + tasks)]


def test_guide_sheet_with_an_example_row(dist):
    directory = load_directory()
    wb, _ = _open(dist, "市中区")
    guide = wb["填报说明"]
    texts = [guide.cell(r, 1).value for r in range(1, guide.max_row + 1)]
    assert any("请市中区于2030年6月30日前" in (t or "") for t in texts)
    header_at = texts.index("序号")
    ledger = wb["工作台账"]
    header_row, cols, *_ = _layout(ledger)
    visible = [h for h in cols if h not in ("任务键", REF_FULL)]
    assert [guide.cell(header_at + 1, c).value for c in range(1, len(visible) + 1)] == visible
    example = {h: guide.cell(header_at + 2, c).value for c, h in enumerate(visible, 1)}
    assert example["重点任务"] == "推动产业现代化改造"
    # the district's own unit answering to the city's lead unit of that task
    expected = directory.counterpart_units("市中区", "市工业和信息化局")[0].name
    assert example["牵头单位"] == expected
    assert isinstance(example["完成时限"], datetime) and example["完成情况"] in tpl.STATUS_CHOICES


def test_manifest_and_zips(dist):
    wb = load_workbook(dist.manifest)
    ws = wb["分发清单"]
    assert [c.value for c in ws[2]] == ["地区", "文件", "任务数", "单位数", "压缩包", "校验码"]
    assert ws.column_dimensions["F"].hidden  # the sha256, for programs
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert [r[0] for r in rows] == REGIONS
    for (region, name, tasks, _, zip_name, sha), item in zip(rows, dist.files):
        assert region == item.region
        assert (name, tasks, sha) == (item.path.name, 60, item.sha256)
        with zipfile.ZipFile(item.path.parent / zip_name) as zf:
            (info,) = zf.infolist()
            # GBK name for Chinese Windows' own unzip; the UTF-8 name in the Info-ZIP extra field
            assert info.filename.encode("cp437").decode("gbk") == item.path.name
            assert item.path.name.encode("utf-8") in info.extra
            assert zf.read(info) == item.path.read_bytes()
    assert "TEST-1" in ws["A1"].value and "2030年6月30日" in ws["A1"].value


def test_extract_gives_back_the_city_tasks_with_their_keys(dist):
    city = xltools.extract(CITY)
    item = next(f for f in dist.files if f.region == "章丘区")
    ledger = xltools.extract(item.path)
    assert (ledger.region, ledger.region_from, ledger.city, ledger.numbering) == (
        "章丘区",
        "meta",
        "济南市",
        "济南市",
    )
    assert [(r.seq, r.task) for r in ledger.rows] == [(r.seq, r.task) for r in city.rows]
    assert [r.extra["任务键"] for r in ledger.rows] == [r.key for r in city.rows]
    assert {p.type for p in ledger.problems} == {"missing-lead-unit"}  # nothing filled in yet


def test_filled_workbook_maps_by_key_and_own_tasks_come_back(dist, tmp_path):
    from xltools.rollup import ConsolidateOptions

    item = next(f for f in dist.files if f.region == "章丘区")
    wb = load_workbook(item.path)
    ws = wb["工作台账"]
    _, cols, tasks, _, own = _layout(ws)
    for r in tasks:
        ws.cell(r, cols["工作内容"]).value = "本区按市里部署推进。"
        ws.cell(r, cols["牵头单位"]).value = "区发展改革局"
        ws.cell(r, cols["完成情况"]).value = "推进中"
    ws.cell(own[0], cols["重点任务"]).value = "推进明水古城设施更新"
    ws.cell(own[0], cols["工作内容"]).value = "完成古城景区照明、导览设备更新。"
    ws.cell(own[0], cols["牵头单位"]).value = "区文化和旅游局"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wb.save(inbox / item.path.name)

    ledger = xltools.extract(inbox / item.path.name)
    assert len(ledger.rows) == 61
    mine = ledger.rows[-1]
    assert (mine.task, mine.section, mine.extra.get("任务键")) == (
        "推进明水古城设施更新",
        "九、本区自行增加的任务",
        None,
    )
    assert not [p for p in ledger.problems if p.severity != "info"]

    rollup = xltools.consolidate(
        CITY,
        inbox,
        tmp_path / "汇总.xlsx",
        ConsolidateOptions(regions=["章丘区"], use_archive=False, workers=1),
    )
    by_task = {m.row.task: m for m in rollup.mappings}
    assert sum(1 for m in rollup.mappings if m.method == "key" and m.confidence == 1.0) == 60
    assert by_task["推进明水古城设施更新"].method != "key"


def test_fast_path_equals_openpyxl_build(dist, tmp_path):
    """Each district's zip patched from one built workbook is the workbook openpyxl builds for it."""
    slow = xltools.distribute(
        CITY, tmp_path, regions=["市中区", "历城区"], deadline="2030-06-30", batch="TEST-1", fast=False
    )
    for item in slow.files:
        fast = next(f for f in dist.files if f.region == item.region)
        assert _snapshot(fast.path) == _snapshot(item.path), item.region


def _snapshot(path):
    wb = load_workbook(path)
    out = {"names": {n: d.attr_text for n, d in wb.defined_names.items()}, "sheets": wb.sheetnames}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None or c.has_style:
                    cells[c.coordinate] = (
                        c.value,
                        c.font.name,
                        c.font.sz,
                        c.fill.fgColor.rgb,
                        c.border.left.style,
                        c.alignment.wrap_text,
                        c.number_format,
                        c.protection.locked,
                    )
        if ws.title == "_xltools":
            cells = {k: v for k, v in cells.items() if ws[f"A{k[1:]}"].value != "distributed_at"}
        out[ws.title] = (
            cells,
            sorted(str(m) for m in ws.merged_cells.ranges),
            sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.prompt) for dv in ws.data_validations.dataValidation
            ),
            {k: v.height for k, v in ws.row_dimensions.items() if v.height},
            {k: (v.width, v.hidden) for k, v in ws.column_dimensions.items()},
            repr(ws.protection),
            ws.print_area,
            ws.print_title_rows,
            ws.sheet_state,
        )
    return out


def test_restyled_template_restyles_the_workbooks(tmp_path):
    from openpyxl.styles import Font, PatternFill

    restyled = tmp_path / "模板.xlsx"
    wb = load_workbook(tpl.default_template())
    t = tpl.locate(wb)
    proto = t.protos["task"]
    for c in range(t.first_col, t.last_col + 1):
        t.sheet.cell(proto, c).font = Font(name="楷体", size=13, color="1F4E79")
    t.sheet.cell(t.header_row, t.columns["content"]).fill = PatternFill("solid", fgColor="FFF2CC")
    wb.save(restyled)
    result = xltools.distribute(CITY, tmp_path / "out", regions="市中区", template=restyled)
    ws = load_workbook(result.files[0].path)["工作台账"]
    header_row, cols, tasks, _, _ = _layout(ws)
    for h in ("重点任务", REF_CONTENT, "工作内容", "牵头单位"):
        assert (ws.cell(tasks[3], cols[h]).font.name, ws.cell(tasks[3], cols[h]).font.sz) == ("楷体", 13)
    # the reference column is styled as the column it copies
    assert ws.cell(header_row, cols[REF_CONTENT]).fill.fgColor.rgb.endswith("FFF2CC")


def test_prints_one_page_wide_with_its_text_at_10_pt_or_more(dist):
    from xltools.distribution import FORM_SCALE
    from xltools.printing import sheet_scale

    wb, _ = _open(dist, "市中区")
    ws = wb["工作台账"]
    # eleven columns on a landscape page: at 92%, so the 11 pt body prints at 10 pt
    assert FORM_SCALE - 0.01 <= sheet_scale(ws) <= 1 and sheet_scale(ws) * 11 >= 10
    assert ws.print_title_rows and ws.page_setup.orientation == "landscape"
    _, cols, _, _, own = _layout(ws)
    area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    assert range_boundaries(area.split("!")[-1].replace("$", ""))[3] >= own[-1]


def test_cli(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "distribute",
            str(CITY),
            "-o",
            str(tmp_path / "out"),
            "--regions",
            "市中区、不存在区",
            "--deadline",
            "2030年6月30日",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output  # a region the directory lacks is a warning
    data = json.loads(result.output)
    assert [f["region"] for f in data["files"]] == ["市中区", "不存在区"]
    assert [p["type"] for p in data["problems"]] == ["distribute-unknown-region"]
    result = runner.invoke(
        cli, ["distribute", str(CITY), "-o", str(tmp_path / "out2"), "--regions", "市中区"]
    )
    assert result.exit_code == 0 and "已写出 1 个区县" in result.output and "分发清单" in result.output
    result = runner.invoke(
        cli, ["distribute", str(CITY), "-o", str(tmp_path / "out3"), "--deadline", "下月底"]
    )
    assert result.exit_code == 2 and "2025-06-30" in result.output


def test_default_regions_are_the_city_districts(tmp_path):
    result = xltools.distribute(CITY, tmp_path, zip=False)
    assert [f.region for f in result.files] == load_directory().children("济南市")
    assert len(result.files) >= 12


def test_a_deadline_already_past_is_said(tmp_path):
    result = xltools.distribute(CITY, tmp_path / "out", regions="市中区", deadline="2024-06-30")
    [past] = [p for p in result.problems if p.type == "distribute-deadline-past"]
    assert past.severity == "warning" and "2024年6月30日已经过去" in past.message
    assert not [p for p in xltools.distribute(CITY, tmp_path / "out2", regions="市中区",
                                              deadline="2030-06-30").problems if p.type == "distribute-deadline-past"]


def test_an_earlier_distribution_is_never_replaced_silently(tmp_path):
    """Distributing again into a folder that holds a batch (whose forms may be with the districts) is refused;
    --replace moves that batch aside, whole, into 已替换_<batch>, and only then writes the new one."""
    out = tmp_path / "分发"
    first = xltools.distribute(CITY, out, regions="市中区,章丘区", zip=True, batch="OLD-1")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    runner = CliRunner()
    refused = runner.invoke(cli, ["distribute", str(CITY), "-o", str(out), "--regions", "市中区"])
    assert refused.exit_code == 2 and "已有以前分发的文件（批次 OLD-1）" in refused.output and "--replace" in refused.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing written, nothing moved
    done = runner.invoke(cli, ["distribute", str(CITY), "-o", str(out), "--regions", "市中区", "--replace"])
    assert done.exit_code == 0, done.output
    aside = out / "已替换_OLD-1"
    assert {p.name: p.read_bytes() for p in aside.iterdir()} == before
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(
        [first.files[0].path.name, "分发清单.xlsx"])
    manifest = load_workbook(out / "分发清单.xlsx")["分发清单"]
    assert [r[0] for r in manifest.iter_rows(min_row=3, values_only=True)] == ["市中区"]


def test_deadline_forms():
    assert parse_deadline("2025/6/30") == parse_deadline("2025年6月30日") == parse_deadline("2025-06-30")
    assert parse_deadline(None) is None
    with pytest.raises(ValueError):
        parse_deadline("六月底")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_keeps_validations_and_prints(dist, tmp_path):
    item = next(f for f in dist.files if f.region == "市中区")
    src = tmp_path / "sz.xlsx"
    shutil.copy(item.path, src)
    for fmt in ("pdf", "xlsx:Calc MS Excel 2007 XML"):
        subprocess.run(
            [
                "soffice",
                "--headless",
                f"-env:UserInstallation=file://{tmp_path}/lo",
                "--convert-to",
                fmt,
                "--outdir",
                str(tmp_path / "lo-out"),
                str(src),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    assert (tmp_path / "lo-out" / "sz.pdf").stat().st_size > 10_000
    wb = load_workbook(tmp_path / "lo-out" / "sz.xlsx")
    ws = wb["工作台账"]
    _, cols, tasks, _, own = _layout(ws)
    lead = _dv_at(ws, cols["牵头单位"], tasks[10])
    assert lead.type == "list" and lead.formula1 in (
        "xlt_unit_list",
        "$单位名录.$B$2:$B$33",
        "'单位名录'!$B$2:$B$33",
    )
    assert not lead.showErrorMessage
    assert _dv_at(ws, cols["完成时限"], own[0]).type == "date"
    assert _dv_at(ws, cols["完成情况"], tasks[0]).type == "list"
    assert ws.protection.sheet and not ws.cell(tasks[0], cols["工作内容"]).protection.locked
    assert ws.cell(tasks[0], cols[REF_CONTENT]).protection.locked
