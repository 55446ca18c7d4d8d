"""fill: the three real plans into the template, a restyled template, and a re-fill after the plan changed."""

import hashlib
from copy import copy, deepcopy
from pathlib import Path

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU
from openpyxl import load_workbook
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

from xltools import template as tpl
from xltools.errors import OutputError
from xltools.filler import Change, fill, ledger_title
from xltools.layout import text_lines
from xltools.model import Ledger, TaskRow
from xltools.readers import extract

SEEDS = [CITY, SHIZHONG, ZHANGQIU]
SEED_IDS = ["city-003", "shizhong-000", "zhangqiu-002"]


@pytest.fixture
def blank_template(tmp_path) -> Path:
    return tpl.build_ledger_template(tmp_path / "template.xlsx")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def keyed_rows(t: tpl.LedgerTemplate) -> dict[str, list[int]]:
    """任务键 -> sheet rows."""
    rows: dict[str, list[int]] = {}
    first, last = t.data
    for r in range(first, last + 1):
        key = t.sheet.cell(r, t.columns["key"]).value
        if key:
            rows.setdefault(str(key), []).append(r)
    return rows


def merged(ws) -> set[str]:
    return {str(m) for m in ws.merged_cells.ranges}


def assert_no_overlapping_merges(ws) -> None:
    """Excel refuses (repairs) a sheet whose merged ranges overlap; openpyxl would write it silently."""
    ranges = list(ws.merged_cells.ranges)
    for i, a in enumerate(ranges):
        for b in ranges[i + 1:]:
            assert a.isdisjoint(b), f"{a} overlaps {b}"


@pytest.mark.parametrize("seed", SEEDS, ids=SEED_IDS)
def test_fill_writes_every_row_with_the_template_look(seed, tmp_path, blank_template):
    result = fill(seed, tmp_path / "out.xlsx", template=blank_template)
    ledger = result.ledger
    wb = load_workbook(result.path)
    t = tpl.locate(wb)
    ws, cols = t.sheet, t.columns
    assert t.filled
    assert ws["A1"].value == ledger_title(ledger) and ws["A1"].value.endswith("工作台账")

    # Every task and goal row, in order, by its key.
    first, last = t.data
    keys = [str(v) for r in range(first, last + 1) if (v := ws.cell(r, cols["key"]).value)]
    goal_keys = [k for k in keys if k.startswith("g")]
    assert [k for k in keys if not k.startswith("g")] == [row.key for row in ledger.rows]
    assert len(goal_keys) == len(ledger.goals)
    by_key = keyed_rows(t)
    for row in ledger.rows[:5]:
        r = by_key[row.key][0]
        assert ws.cell(r, cols["content"]).value == row.content
        assert ws.cell(r, cols["lead_units"]).value == "\n".join(row.lead_units)
        if row.responsible_units:
            assert ws.cell(r, cols["responsible_units"]).value.split("\n") == row.responsible_units

    # Bands: 一、工作目标, then each action and field once, merged across the visible columns.
    band_rows = [r for r in range(first, last + 1) if f"A{r}:I{r}" in merged(ws)]
    bands = [ws.cell(r, 1).value for r in band_rows]
    want = ["一、工作目标"] if ledger.goals else []
    for row in ledger.rows:
        if row.section and row.section not in want:
            want.append(row.section)
        if row.subsection and row.subsection not in want:
            want.append(row.subsection)
    assert bands == want
    assert ws.cell(band_rows[0], 1).fill.fgColor.rgb != ws.cell(band_rows[2], 1).fill.fgColor.rgb

    # Goal rows: the year label merged down over its goals and across 序号+重点任务.
    years = {}
    for g in ledger.goals:
        years[g.year] = years.get(g.year, 0) + 1
    g_first = by_key[goal_keys[0]][0]
    assert ws.cell(g_first, 1).value == f"{ledger.goals[0].year}年工作目标"
    assert f"A{g_first}:B{g_first + years[ledger.goals[0].year] - 1}" in merged(ws)

    assert_no_overlapping_merges(ws)

    # Fonts, borders, wrapping, heights.
    header = ws.cell(t.header_row, cols["content"])
    assert header.font.name == "黑体" and header.font.b
    r = by_key[ledger.rows[0].key][0]
    body = ws.cell(r, cols["content"])
    assert body.font.name == "仿宋" and body.font.charset == 134
    assert body.alignment.wrap_text and body.border.top.style == "thin" and body.border.right.style == "thin"
    assert ws.cell(r, cols["seq"]).alignment.horizontal == "center"
    for row in ledger.rows:
        r = by_key[row.key][0]
        lines = text_lines(row.content, 7 * ws.column_dimensions["C"].width, body.font.size)
        assert ws.row_dimensions[r].height >= lines * body.font.size * 1.2

    # Print setup, panes, filter and names follow the data.
    assert ws.print_title_rows == "$3:$3"
    assert ws.print_area == f"'{tpl.SHEET}'!$A$1:$I${last}"
    assert ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == f"A3:J{last}"
    assert tpl.defined_range(wb, tpl.N_DATA)[1] == (1, 4, 10, last)
    for kind in ("action", "field", "goal", "task"):
        assert first <= tpl.defined_range(wb, tpl.PROTO_NAMES[kind])[1][1] <= last

    # 完成情况 offers its list on every task row.
    (dv,) = [dv for dv in ws.data_validations.dataValidation if "已完成" in dv.formula1]
    task_rows = [r for k, rs in by_key.items() if not k.startswith("g") for r in rs]
    assert all(f"I{r}" in dv.sqref for r in task_rows)

    meta = t.meta
    assert meta["kind"] == "ledger" and meta["region"] == ledger.region
    assert meta["source"] == seed.name and meta["source_sha256"] == sha256(seed)
    assert meta["filled_at"] and meta["xltools_version"]


def test_continued_task_rows_share_merged_seq_and_task_cells(tmp_path, blank_template):
    result = fill(SHIZHONG, tmp_path / "out.xlsx", template=blank_template)
    wb = load_workbook(result.path)
    t = tpl.locate(wb)
    r1, r2 = keyed_rows(t)["29"]
    assert r2 == r1 + 1
    assert {f"A{r1}:A{r2}", f"B{r1}:B{r2}"} <= merged(t.sheet)
    assert (t.sheet.cell(r1, 1).value, t.sheet.cell(r1, 2).value) == (29, "打造产业创新平台")
    assert t.sheet.cell(r1, 3).value != t.sheet.cell(r2, 3).value


def test_default_template_and_a_ledger_object_as_source(tmp_path):
    ledger = extract(ZHANGQIU)
    before = deepcopy(ledger)
    result = fill(ledger, tmp_path / "章丘区.xlsx", region="章丘区")
    assert ledger.to_dict() == before.to_dict()  # the caller's ledger is not changed
    meta = tpl.locate(load_workbook(result.path)).meta
    assert meta["region"] == "章丘区" and meta["source_sha256"] == ""
    assert meta["title"] == "济南市章丘区推动大规模设备更新和消费品以旧换新工作台账"


def test_title_is_built_from_the_region_when_the_plan_has_none():
    assert ledger_title(Ledger(region="历城区", city="济南市")) == "济南市历城区推动大规模设备更新和消费品以旧换新工作台账"
    assert ledger_title(Ledger(title="某某区推动大规模设备更新和消费品以旧换新实施方案")).endswith("以旧换新工作台账")


def test_fill_never_writes_over_its_inputs(tmp_path, blank_template):
    plan = tmp_path / "plan.txt"
    plan.write_bytes(CITY.read_bytes())
    hashes = sha256(plan), sha256(blank_template)
    with pytest.raises(OutputError):
        fill(plan, plan, template=blank_template)
    with pytest.raises(OutputError) as err:
        fill(plan, blank_template, template=blank_template)
    assert "不能覆盖" in err.value.message_zh
    with pytest.raises(OutputError):
        fill(plan, tmp_path / "out.xls", template=blank_template)
    assert (sha256(plan), sha256(blank_template)) == hashes


# ----------------------------------------------------------------------------------- restyled template


def insert_row_like_excel(wb, ws, idx: int) -> None:
    """Insert a row above ``idx`` and shift what Excel shifts: names, merges, heights, validations, panes."""
    def shift(rng: CellRange) -> CellRange:
        lo = rng.min_row + (rng.min_row >= idx)
        hi = rng.max_row + (rng.max_row >= idx)
        return CellRange(min_col=rng.min_col, min_row=lo, max_col=rng.max_col, max_row=hi)

    ws.insert_rows(idx)
    ranges = [shift(m) for m in ws.merged_cells.ranges]
    for m in list(ws.merged_cells.ranges):
        ws.merged_cells.remove(m)
    for rng in ranges:
        ws.merge_cells(rng.coord)
    heights = {r: d.height for r, d in ws.row_dimensions.items()}
    for r in list(ws.row_dimensions):
        del ws.row_dimensions[r]
    for r, h in heights.items():
        ws.row_dimensions[r + (r >= idx)].height = h
    for name in list(wb.defined_names):
        found = tpl.defined_range(wb, name)
        if found and found[0] is ws:
            c1, r1, c2, r2 = found[1]
            tpl.set_name(wb, name, ws, c1, r1 + (r1 >= idx), c2, r2 + (r2 >= idx))
    for dv in ws.data_validations.dataValidation:
        dv.sqref = MultiCellRange([shift(rng) for rng in dv.sqref.ranges])
    ws.auto_filter.ref = shift(CellRange(ws.auto_filter.ref)).coord
    ws.print_title_rows = f"{idx + 1}:{idx + 1}"
    ws.freeze_panes = f"A{idx + 2}"


def test_restyled_template_is_followed(tmp_path, blank_template):
    wb = load_workbook(blank_template)
    ws = wb[tpl.SHEET]
    insert_row_like_excel(wb, ws, 3)  # the header moves down to row 4
    ws["A3"] = "注：每月5日前报送。"
    task = tpl.defined_range(wb, "xlt_proto_task")[1][1]
    for c in range(1, 10):
        bigger = copy(ws.cell(task, c).font)
        bigger.size = 14
        ws.cell(task, c).font = bigger
    ws.row_dimensions[task].height = 40
    ws.column_dimensions["C"].width = 60
    footer = tpl.defined_range(wb, tpl.N_DATA)[1][3] + 1
    ws.cell(footer, 1, "填表人：　　　　审核人：　　　　联系电话：")
    ws.merge_cells(start_row=footer, start_column=1, end_row=footer, end_column=9)
    restyled = tmp_path / "restyled.xlsx"
    wb.save(restyled)

    result = fill(CITY, tmp_path / "out.xlsx", template=restyled)
    wb = load_workbook(result.path)
    t = tpl.locate(wb)
    ws = t.sheet
    assert t.header_row == 4 and ws["A3"].value == "注：每月5日前报送。"
    assert ws["A1"].value == "济南市推动大规模设备更新和消费品以旧换新工作台账"
    rows = keyed_rows(t)
    assert len([k for k in rows if not k.startswith("g")]) == 60
    first_task = rows["1"][0]
    assert ws.cell(first_task, 3).font.size == 14 and ws.cell(first_task, 3).font.name == "仿宋"
    assert all(ws.row_dimensions[r[0]].height >= 40 for k, r in rows.items() if not k.startswith("g"))
    first, last = t.data
    assert first == 5 and ws.print_title_rows == "$4:$4" and ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == f"A4:J{last}"
    assert ws.cell(last + 1, 1).value.startswith("填表人") and f"A{last + 1}:I{last + 1}" in merged(ws)
    assert ws.print_area.endswith(f"$I${last + 1}")
    assert_no_overlapping_merges(ws)
    (dv,) = ws.data_validations.dataValidation
    assert f"I{first_task}" in dv.sqref and f"I{last}" in dv.sqref


# ---------------------------------------------------------------------------------------------- re-fill


def type_values(path: Path, values: dict[str, dict[str, str]]) -> None:
    """What a clerk does: type into the reporting columns of the rows with these keys, save."""
    wb = load_workbook(path)
    t = tpl.locate(wb)
    rows = keyed_rows(t)
    cols = t.reporting_columns
    for key, typed in values.items():
        for header, value in typed.items():
            t.sheet.cell(rows[key][0], cols[header], value)
    wb.save(path)


def newer_plan() -> Ledger:
    """003 a year later: task 20 dropped (later ones renumbered), task 10 reworded, one task added."""
    ledger = extract(CITY)
    rows = []
    for row in ledger.rows:
        if row.seq == 20:
            continue
        row = deepcopy(row)
        if row.seq == 10:
            row.content += "2025年底前完成全部改造。"
        if row.seq > 20:
            row.seq -= 1
        rows.append(row)
    last = rows[-1]
    rows.append(TaskRow(60, "强化督导考核", "定期调度各单位工作进展，纳入年度综合考核。", ["市发展改革委"], [],
                        last.section, last.subsection))
    ledger.rows = rows
    ledger.source = "newer-plan.json"
    return ledger


def test_refill_carries_clerk_values_and_lists_changes(tmp_path, blank_template):
    first = fill(CITY, tmp_path / "2024.xlsx", template=blank_template).path
    type_values(first, {
        "5": {"进展情况": "已完成技改项目30个", "完成情况": "推进中"},
        "10": {"完成情况": "已完成"},
        "20": {"进展情况": "已召开推进会", "完成时限": "2025年6月底"},
        "40": {"完成时限": "2025年12月底", "目标": "新增5处"},
        "g2025-1": {"进展情况": "达到全省平均水平"},
    })
    hashes = sha256(first), sha256(CITY)

    result = fill(newer_plan(), tmp_path / "2025.xlsx", template=first)
    assert (sha256(first), sha256(CITY)) == hashes

    changes = {(c.kind, c.seq, c.field): c for c in result.changes}
    assert changes["changed", 39, "序号"].old == "40"  # renumbered, matched by task and content
    assert changes["kept", 39, "完成时限"].new == "2025年12月底"
    assert changes["changed", 10, "工作内容"].new.endswith("2025年底前完成全部改造。")
    assert ("kept", 10, "完成情况") in changes
    assert changes["added", 60, ""].task == "强化督导考核"
    assert changes["removed", 20, "进展情况"].old == "已召开推进会"
    assert ("kept", None, "进展情况") in changes  # the goal row
    assert not [c for c in result.changes if c.kind == "removed" and c.seq != 20]
    assert "第39项“" in changes["changed", 39, "序号"].describe()
    (warning,) = [p for p in result.problems if p.type == "removed-row-with-values"]
    assert warning.severity == "warning" and "第20项" in warning.message

    wb = load_workbook(result.path)
    t = tpl.locate(wb)
    ws, rows, cols = t.sheet, keyed_rows(t), t.reporting_columns
    assert ws.cell(rows["5"][0], cols["进展情况"]).value == "已完成技改项目30个"
    assert ws.cell(rows["39"][0], cols["目标"]).value == "新增5处"
    assert ws.cell(rows["20"][0], cols["进展情况"]).value is None  # old 21 now numbered 20: nothing typed
    assert ws.cell(rows["g2025-1"][0], cols["进展情况"]).value == "达到全省平均水平"
    assert result.ledger.rows[4].extra == {"进展情况": "已完成技改项目30个", "完成情况": "推进中"}

    log = [[c.value for c in row] for row in wb["变更记录"].iter_rows()]
    assert log[0] == ["时间", "类型", "序号", "重点任务", "字段", "原值", "新值"]
    assert ["删除", 20, "进展情况", "已召开推进会"] in [[r[1], r[2], r[4], r[5]] for r in log]
    assert ["删除", 20, "完成时限", "2025年6月底"] in [[r[1], r[2], r[4], r[5]] for r in log]
    kinds = [r[1] for r in log[1:]]
    assert kinds.index("保留") > max(i for i, k in enumerate(kinds) if k != "保留")  # real changes first

    # Filling again from the new ledger changes nothing but keeps the history.
    again = fill(newer_plan(), tmp_path / "2025b.xlsx", template=result.path)
    assert {c.kind for c in again.changes} == {"kept"}
    assert wb["变更记录"].max_row < load_workbook(again.path)["变更记录"].max_row


def test_rows_with_the_same_task_name_are_matched_by_content(tmp_path, blank_template):
    first = fill(SHIZHONG, tmp_path / "old.xlsx", template=blank_template).path
    type_values(first, {"27": {"进展情况": "揭榜挂帅项目3个"}, "28": {"进展情况": "转化成果12项"}})
    ledger = extract(SHIZHONG)
    # A new task before 26: 26–28 (all named 提高产业创新能力) become 27–29.
    at = next(i for i, r in enumerate(ledger.rows) if r.seq == 26)
    for row in ledger.rows[at:]:
        row.seq += 1
    ledger.rows.insert(at, TaskRow(26, "提高产业创新能力", "新建产业创新综合体一处。", ["区科技局"], [],
                                   ledger.rows[at].section, ledger.rows[at].subsection))
    result = fill(ledger, tmp_path / "new.xlsx", template=first)
    t = tpl.locate(load_workbook(result.path))
    rows, cols = keyed_rows(t), t.reporting_columns
    assert t.sheet.cell(rows["28"][0], cols["进展情况"]).value == "揭榜挂帅项目3个"
    assert t.sheet.cell(rows["29"][0], cols["进展情况"]).value == "转化成果12项"
    assert t.sheet.cell(rows["27"][0], cols["进展情况"]).value is None
    assert [c.seq for c in result.changes if c.kind == "added"] == [26]


def test_change_descriptions_are_chinese_sentences():
    assert Change("added", 3, "推动汽车以旧换新").describe() == "新增第3项“推动汽车以旧换新”"
    assert Change("changed", 3, "任务", "牵头单位", "市商务局", "市发展改革委").describe() == (
        "第3项“任务”的牵头单位由“市商务局”改为“市发展改革委”")
    assert "变更记录" in Change("removed", 3, "任务", "进展情况", "已完成").describe()
    assert Change("kept", None, "2025年工作目标", "进展情况", "达标", "达标").describe() == (
        "“2025年工作目标”保留已填写的进展情况“达标”")


def test_text_lines_wraps_chinese_by_width():
    assert text_lines("一二三四五", 16 * 5 + 8, 12) == 1
    assert text_lines("一二三四五六", 16 * 5 + 8, 12) == 2
    assert text_lines("甲\n乙", 200, 12) == 2
    assert text_lines("一二三四五，", 16 * 5 + 8, 12) == 2  # the comma may not start a line alone


def test_another_regions_ledger_lends_only_its_look(tmp_path, blank_template):
    city = fill(CITY, tmp_path / "city.xlsx", template=blank_template).path
    type_values(city, {"5": {"进展情况": "全市已完成"}})
    result = fill(ZHANGQIU, tmp_path / "zhangqiu.xlsx", template=city)
    assert result.changes == []
    assert [p.type for p in result.problems] == ["template-other-region"]
    t = tpl.locate(load_workbook(result.path))
    assert t.sheet.cell(keyed_rows(t)["5"][0], t.reporting_columns["进展情况"]).value is None
    assert "变更记录" not in t.workbook.sheetnames


def test_filled_ledger_that_lost_its_data_name_is_still_read_whole(tmp_path, blank_template):
    first = fill(CITY, tmp_path / "old.xlsx", template=blank_template).path
    type_values(first, {"60": {"进展情况": "已印发政策清单"}})
    wb = load_workbook(first)
    tpl.remove_name(wb, tpl.N_DATA)
    wb.save(first)
    result = fill(CITY, tmp_path / "new.xlsx", template=first)
    assert {c.kind for c in result.changes} == {"kept"} and len(result.changes) == 1
