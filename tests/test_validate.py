"""validate: a ledger workbook with the defects real districts send, marked and safely fixed."""

import hashlib
import json

import pytest
from click.testing import CliRunner
from conftest import SHIZHONG, ZHANGQIU, correct_as_a_clerk
from openpyxl import load_workbook

from xltools import extract, fill
from xltools.cli import cli
from xltools.marks import FILLS, PROBLEMS_SHEET
from xltools.validation import validate

# row seq → (牵头单位, 责任单位) written over 市中区's filled ledger
DEFECTS = {
    1: ("区工信局", None),  # alias
    2: ("区发展与统计服务中心", None),  # typo
    3: (None, "区人力资源社会保障局区卫生健康局"),  # run together
    4: ("市财政局", None),  # wrong level
    5: ("区宇宙开发局", None),  # unknown
    6: ("区农业农村局，区财政局", None),  # separator
    7: (None, "区水务局\n区水务局"),  # duplicate
    8: ("区商务局", "区商务局"),  # the same unit leads and is responsible
}


@pytest.fixture
def district_workbook(tmp_path):
    """市中区's ledger filled from the real plan, then edited as a clerk might."""
    path = tmp_path / "市中区.xlsx"
    fill(SHIZHONG, path)
    wb = load_workbook(path)
    ws = wb["工作台账"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)}
    for seq, (lead, resp) in DEFECTS.items():
        if lead is not None:
            ws.cell(rows[seq], 4).value = lead
        if resp is not None:
            ws.cell(rows[seq], 5).value = resp
    wb.save(path)
    return path, rows


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_defect_is_found_at_its_cell_with_the_right_suggestion(district_workbook):
    path, rows = district_workbook
    result = validate(path)
    assert result.ledger.region == "市中区" and not result.learned
    found = {(p.type, p.cell): p for p in result.report if p.type.startswith("unit-")}
    r = rows
    assert found[("unit-alias", f"D{r[1]}")].suggestion == "区工业和信息化局"
    assert found[("unit-typo", f"D{r[2]}")].suggestion == "区发展与服务统计中心"
    assert found[("unit-split", f"E{r[3]}")].suggestion == "区人力资源社会保障局、区卫生健康局"
    assert found[("unit-wrong-level", f"D{r[4]}")].suggestion == "区财政局"
    assert found[("unit-unknown", f"D{r[5]}")].severity == "error"
    assert ("unit-separator", f"D{r[6]}") in found
    assert ("unit-duplicate", f"E{r[7]}") in found
    assert ("unit-lead-and-responsible", f"E{r[8]}") in found
    # clean rows raise nothing: every unit problem is on a row we broke (or a collective entry)
    broken = {f"{c}{r[s]}" for s in DEFECTS for c in "DE"}
    assert {p.cell for p in result.report if p.type.startswith("unit-") and p.type != "unit-collective"} <= broken


def test_marked_copy_has_colours_notes_and_a_linked_problem_list(district_workbook, tmp_path):
    path, rows = district_workbook
    before = _sha(path)
    out = tmp_path / "marked.xlsx"
    result = validate(path, out=out)
    assert _sha(path) == before  # the input is never touched
    wb = load_workbook(out)
    ws = wb["工作台账"]
    typo = ws[f"D{rows[2]}"]
    assert typo.fill.fgColor.rgb.endswith(FILLS["warning"])
    assert "区发展与服务统计中心" in typo.comment.text and typo.comment.author == "xltools"
    assert ws[f"D{rows[5]}"].fill.fgColor.rgb.endswith(FILLS["error"])
    assert ws[f"D{rows[9]}"].comment is None  # an untouched row stays unmarked
    sheet = wb[PROBLEMS_SHEET]
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["序号", "地区", "严重程度", "问题类型", "问题说明", "建议", "内容", "文件"]
    listed = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(listed) == len(result.report)
    assert listed[0][2] == "错误"  # errors first
    at = header.index("单元格")
    for row in sheet.iter_rows(min_row=2):
        if row[at].value:
            link = row[at].hyperlink
            assert link.location == f"'工作台账'!{row[at].value}"
            target = wb["工作台账"][row[at].value]
            assert target.comment is not None  # the link lands on a marked cell


def test_fixed_copy_has_the_safe_fixes_and_nothing_else(district_workbook, tmp_path):
    path, rows = district_workbook
    out = tmp_path / "fixed.xlsx"
    result = validate(path, fix=True, fixed_out=out)
    original = load_workbook(path)["工作台账"]
    fixed_wb = load_workbook(out)
    fixed = fixed_wb["工作台账"]
    r = rows
    assert fixed[f"D{r[1]}"].value == "区工业和信息化局"
    assert fixed[f"E{r[3]}"].value == "区人力资源社会保障局、区卫生健康局"
    assert fixed[f"D{r[6]}"].value == "区农业农村局、区财政局"
    for ref in (f"D{r[2]}", f"D{r[4]}", f"D{r[5]}", f"E{r[7]}"):  # typo, wrong level, unknown, duplicate
        assert fixed[ref].value == original[ref].value
    changed = {(c.coordinate) for row in fixed.iter_rows() for c in row if c.value != original[c.coordinate].value}
    assert changed == {f"D{r[1]}", f"E{r[3]}", f"D{r[6]}"} == {f.cell for f in result.fixes}
    log = list(fixed_wb["修正记录"].iter_rows(min_row=2, values_only=True))
    assert {(x[1], x[5], x[6]) for x in log} == {(f.cell, f.old, f.new) for f in result.fixes}


def test_cli_exit_codes_and_json(district_workbook, tmp_path):
    path, _ = district_workbook
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["region"] == "市中区" and not data["valid"]
    assert {"type", "severity", "message", "sheet", "cell", "suggestion"} <= set(data["problems"][0])
    clean = tmp_path / "clean.xlsx"
    fill(ZHANGQIU, clean)
    correct_as_a_clerk(clean)
    result = runner.invoke(cli, ["validate", str(clean)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli, ["validate", str(tmp_path / "none.xlsx")]).exit_code == 2
    assert runner.invoke(cli, ["validate", str(path), "-o", str(path)]).exit_code == 2


def test_units_check_cli_contract():
    result = CliRunner().invoke(cli, ["units", "check", "区人力资源社会保障局区卫生健康局", "--region", "市中区", "--json"])
    data = json.loads(result.output)
    assert set(data) == {"input", "status", "canonical", "suggestions", "parts"}
    assert data["status"] == "split" and [p["canonical"] for p in data["parts"]] == ["区人力资源社会保障局", "区卫生健康局"]
    assert result.exit_code == 1
    ok = CliRunner().invoke(cli, ["units", "check", "区财政局", "--region", "章丘区"])
    assert ok.exit_code == 0 and "规范" in ok.output


def test_a_text_plan_is_marked_in_a_filled_ledger(tmp_path):
    out = tmp_path / "章丘区_标注.xlsx"
    result = validate(ZHANGQIU, out=out)
    alias = [p for p in result.report if p.type == "unit-alias"]
    assert alias[0].line == 111 and alias[0].cell is None  # reported against the document's line
    wb = load_workbook(out)
    marked = [c for row in wb["工作台账"].iter_rows() for c in row if c.comment is not None]
    assert any(c.value == "区市场监管局" for c in marked)


def test_without_a_directory_spellings_are_learned_from_the_ledger(tmp_path):
    ledger = extract(ZHANGQIU)
    ledger.region = "历城区"  # a region the directory does not have
    for row in ledger.rows[:3]:
        row.raw["lead"] = "区工业信息化和科枝局"  # a rare misspelling of a name used 21 times
    path = tmp_path / "历城区.json"
    path.write_text(json.dumps({**ledger.to_dict(), "rows": [
        {**r.to_dict(), "lead_units": [r.raw.get("lead") or "、".join(r.lead_units)]} for r in ledger.rows]},
        ensure_ascii=False), encoding="utf-8")
    result = validate(path)
    assert result.learned
    types = {(p.type, p.value, p.suggestion) for p in result.report if p.type.startswith("unit-")}
    assert ("unit-rare-spelling", "区工业信息化和科枝局", "区工业信息化和科技局") in types
    assert ("unit-inconsistent-form", "区市场监管局", "区市场监督管理局") in types
    assert not [p for p in result.report if p.type == "unit-unknown"]


def test_plan_period_is_set_per_ledger():
    default = validate(ZHANGQIU)
    assert not [p for p in default.report if p.type == "target-year-out-of-period"]
    short = validate(ZHANGQIU, period=(2024, 2025))
    late = [p for p in short.report if p.type == "target-year-out-of-period"]
    assert {p.value for p in late} == {"农机报废更新实施覆盖率达到100%", "累计70%的城市生活污水处理厂（站）完成准Ⅳ类提标改造"}
    assert all("2027年" in p.message for p in late)  # the 2027 targets fall outside 2024–2025
    result = CliRunner().invoke(cli, ["validate", str(ZHANGQIU), "--period", "2024-2025"])
    assert result.exit_code == 1 and "不在规划期（2024—2025年）内" in result.output


def test_a_functional_zone_titled_by_its_own_name_is_validated_as_the_directorys_region(tmp_path):
    """A ledger titled 济南高新区… is 高新区's (the unit directory's name): its 问题清单 says so."""
    from districts import two_row_header

    src = two_row_header(extract(ZHANGQIU), tmp_path / "src.xlsx", "章丘区")
    wb = load_workbook(src)
    wb.active["A1"] = "济南高新区推动大规模设备更新和消费品以旧换新工作台账"
    wb.save(tmp_path / "台账.xlsx")
    result = validate(tmp_path / "台账.xlsx", out=tmp_path / "marked.xlsx")
    assert result.ledger.region == "高新区"
    listed = load_workbook(tmp_path / "marked.xlsx")[PROBLEMS_SHEET]
    assert {listed.cell(r, 2).value for r in range(2, listed.max_row + 1)} == {"高新区"}
