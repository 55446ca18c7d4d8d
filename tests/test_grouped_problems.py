"""Problems that stay readable at scale (issue 13, item 5): repeated problems of one type in one file are one
line of a 问题清单 with a count and the cells, in the rollup and in each district's feedback; the detail stays
in --json and in the cells' notes; the summary line counts the districts with errors."""

from dataclasses import replace

from conftest import CITY, SHIZHONG, ZHANGQIU, problem_lines
from openpyxl import load_workbook
from test_rollup_writer import synthetic_rollup

from xltools import fill
from xltools.feedback import feedback_name
from xltools.marks import PROBLEMS_SHEET
from xltools.problems import GROUP_AT, Problem, group_problems, problem_summary
from xltools.rollup import ConsolidateOptions, consolidate
from xltools.rollup.writer import write_rollup


def _unknown(file: str, row: int, unit: str = "区不存在局") -> Problem:
    return Problem("unit-unknown", f"牵头单位“{unit}”不在名录中", "error", file, "工作台账", f"D{row}", value=unit,
                   suggestion="核对单位名称")


def test_repeats_of_one_type_in_one_file_become_one_line_in_place():
    alias = Problem("unit-alias", "简称", "warning", "a.xlsx", "工作台账", "E2", value="区工信局")
    few = [_unknown("b.xlsx", r) for r in (4, 5, 6)]  # fewer than GROUP_AT: one line each
    many = [_unknown("a.xlsx", r, f"区{r}局") for r in range(4, 44)]
    run = [Problem("missing-district", f"地区{i}未报送", "warning", value=f"第{i}区") for i in range(9)]  # no file
    # a whole file's problems each say something of their own: never grouped
    whole = [Problem("feedback-uncovered-task", f"未覆盖市级任务{i}", "warning", "a.xlsx") for i in range(9)]
    grouped = group_problems([alias, *many, *few, *run, *whole])
    assert len(few) < GROUP_AT <= len(many)
    assert grouped[0] is alias and grouped[2:5] == few and grouped[5:] == run + whole
    line = grouped[1]
    assert (line.type, line.severity, line.file, line.sheet, line.cell) == ("unit-unknown", "error", "a.xlsx", "工作台账",
                                                                            "D4")
    assert line.message.startswith("共40处：\nD4、D5、D6、") and "D15……" in line.message and "D16" not in line.message
    assert line.message.endswith("例：牵头单位“区4局”不在名录中")
    assert line.value == "区4局、区5局、区6局、区7局、区8局……等40项" and line.suggestion == "核对单位名称"
    # one sheet's cells per line, so a cell named is unambiguous
    two = [replace(_unknown("c.xlsx", r), sheet=sheet) for sheet in ("工作台账", "续表") for r in range(4, 9)]
    assert [(p.sheet, p.message[:4]) for p in group_problems(two)] == [("工作台账", "共5处："), ("续表", "共5处：")]
    # lines of a text document are named when there are no cells
    lines = group_problems([Problem("unit-alias", "简称", "warning", "a.txt", line=n) for n in (3, 9, 12, 40)])
    assert [p.message for p in lines] == ["共4处：\n第3行、第9行、第12行、第40行。\n例：简称"]


def test_summary_counts_districts():
    problems = [_unknown(f"{d}.xlsx", r) for d in range(12) for r in range(4, 4 + 100 + d)] + [
        Problem("unit-alias", "简称", "warning", "0.xlsx"), Problem("unknown-region", "无法判断地区", "info", "x.xlsx")]
    region = {f"{d}.xlsx": f"第{d}区" for d in range(12)}.get
    assert problem_summary(problems, lambda p: region(p.file)) == \
        "错误 1,266 条（12 个地区），警告 1 条（1 个地区），提示 1 条"
    assert problem_summary([]) == "错误 0 条，警告 0 条，提示 0 条"


def test_rollup_problem_list_has_a_few_lines_per_district(tmp_path):
    """300 districts × 60 rows, each row with an unknown unit: 18,000 errors, a few lines per district."""
    rollup = synthetic_rollup(300, base=tmp_path)
    for rec in rollup.received:
        rollup.problems += [_unknown(rec.name, 4 + i, f"区{i % 7}号局") for i in range(60)]
    out = write_rollup(rollup, tmp_path / "汇总.xlsx")
    wb = load_workbook(out, read_only=True)
    rows = list(wb[PROBLEMS_SHEET].iter_rows(values_only=True))
    head, body = rows[0], rows[1:]
    col = {h: head.index(h) for h in ("地区", "问题类型", "问题说明", "单元格", "代码", "内容")}
    per_district: dict[str, int] = {}
    for r in body:
        per_district[r[col["地区"]]] = per_district.get(r[col["地区"]], 0) + 1
    assert len(per_district) == 300 and max(per_district.values()) <= 3
    first = next(r for r in body if r[col["代码"]] == "unit-unknown" and r[col["地区"]] == "第1区")
    assert first[col["问题类型"]] == "单位不在名录中" and first[col["单元格"]] == "D4"
    assert first[col["问题说明"]].startswith("共60处：\nD4、D5、D6") and first[col["内容"]].endswith("……等7项")
    assert sum(r[col["代码"]] == "unit-unknown" for r in body) == 300
    assert "问题：错误 18,000 条（300 个地区），警告 300 条（300 个地区），提示 0 条；详见“问题概览”和“问题清单”表。" in \
        wb["汇总"]["A2"].value
    assert len(rollup.summary()["problems"]) == 18_300  # --json keeps every problem


def test_feedback_lists_a_repeated_problem_once_and_marks_every_cell(tmp_path):
    """章丘区's own ledger with one unit spelled the same wrong way in many rows: one line, every cell noted."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ledger = inbox / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, ledger)
    wb = load_workbook(ledger)
    ws = wb["工作台账"]
    lead = next(c.column for c in ws[next(r for r in range(1, 10) if ws.cell(r, 1).value == "序号")]
                if c.value == "牵头单位")
    changed = []
    for row in range(1, ws.max_row + 1):
        if isinstance(ws.cell(row, 1).value, int) and len(changed) < 12:
            ws.cell(row, lead).value = "区有关部门"
            changed.append(ws.cell(row, lead).coordinate)
    wb.save(ledger)
    (inbox / "市中区_工作方案.txt").write_bytes(SHIZHONG.read_bytes())
    options = ConsolidateOptions(regions=["章丘区", "市中区"], use_archive=False, feedback=str(tmp_path / "反馈"))
    rollup = consolidate(CITY, inbox, tmp_path / "汇总.xlsx", options)
    rec = next(r for r in rollup.received if r.region == "章丘区")
    found = [p for p in rec.problems if p.cell in changed and p.type == "unit-collective"]
    assert len(found) == len(changed) == 12
    out = tmp_path / "反馈" / feedback_name(rec)
    listed = [r for r in problem_lines(out) if r["代码"] == "unit-collective"]
    assert len(listed) == 1
    # the seed's own two (区有关部门、单位 at E98 and D100) and the twelve typed; twelve cells are named
    assert listed[0]["问题说明"].startswith(f"共14处：\n{'、'.join(changed)}……。\n例：牵头单位“区有关部门”")
    assert listed[0]["单元格"] == changed[0]
    marked = load_workbook(out)["工作台账"]
    assert all(marked[c].comment is not None and "区有关部门" in marked[c].comment.text for c in changed)
    link = next(r for r in load_workbook(out)[PROBLEMS_SHEET].iter_rows(min_row=2)
                if r[-1].value == "unit-collective")[9].hyperlink
    assert link.location == f"'工作台账'!{changed[0]}"
    summary = next(r for r in load_workbook(tmp_path / "汇总.xlsx")[PROBLEMS_SHEET].iter_rows(values_only=True)
                   if r[-1] == "unit-collective" and r[1] == "章丘区")
    assert summary[4].startswith("共14处")


def test_the_command_line_counts_districts(tmp_path):
    from click.testing import CliRunner

    from xltools.cli import cli

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "市中区_工作方案.txt").write_bytes(SHIZHONG.read_bytes())
    (inbox / "章丘区_工作方案.txt").write_bytes(ZHANGQIU.read_bytes())
    result = CliRunner().invoke(cli, ["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "汇总.xlsx"),
                                      "--regions", "市中区,章丘区,历城区", "--no-archive"])
    # 历城区 sent nothing (a warning of its own); both plans have warnings and notes
    assert "问题：错误 0 条，警告 5 条（3 个地区），提示 11 条（2 个地区）；详见“问题概览”和“问题清单”表" in result.output
