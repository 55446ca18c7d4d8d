"""The rollup workbook: every sheet, the charts, the mapping sheet round trip, and its speed."""

import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from conftest import CITY
from openpyxl import load_workbook

from xltools import extract
from xltools.errors import UnreadableInput
from xltools.model import Goal, Ledger, Origin, TaskRow
from xltools.problems import SEVERITY_ZH, Problem, problem_title
from xltools.rollup.mapping_sheet import MappingOverride, parse_seqs, read_mapping
from xltools.rollup.model import Mapping, Received, Rollup, TargetComparison
from xltools.rollup.writer import write_rollup

CITY_TASKS = [
    (1, "二、实施多领域设备更新行动", "（一）工业装备更新改造", "推动产业现代化改造", "聚焦钢铁、化工、建材等重点行业，实施技术改造。",
     ["市工业和信息化局"]),
    (2, "二、实施多领域设备更新行动", "（一）工业装备更新改造", "加快产业数字化发展", "实施制造业数字化转型提标行动。",
     ["市工业和信息化局", "市口岸物流办"]),
    (3, "二、实施多领域设备更新行动", "（二）交通运输装备转型", "加快绿色交通基础设施建设",
     "有序推进充换电、加气、加氢等基础设施建设，到2025年全市建成充换电站1000座。",
     ["市发展改革委", "市交通运输局"]),
    (4, "三、实施消费品以旧换新行动", "（一）汽车以旧换新", "推动汽车以旧换新", "落实汽车以旧换新补贴政策。",
     ["市商务局"]),
    (5, "三、实施消费品以旧换新行动", "（二）家电以旧换新", "推动家电以旧换新", "开展家电以旧换新促销活动，新能源汽车渗透率提高15%。",
     ["市商务局", "市财政局"]),
]
DISTRICT_ROWS = {
    # region → [(seq, task, lead, city seqs, method)]
    "市中区": [(1, "推动产业高端化跃升", "区工业和信息化局", [1], "similarity"),
              (2, "有序推进充换电基础设施建设", "区发展改革局", [3], "similarity"),
              (3, "推动住房以旧换新", "区住房城乡建设局", [], "none"),
              (4, "推动汽车家电以旧换新", "区商务局", [4, 5], "similarity")],
    "章丘区": [(1, "推动产业现代化改造", "区工业和信息化局", [1], "key"),
              (2, "加快产业数字化发展", "区工业和信息化局", [2], "key"),
              (3, "加快绿色交通基础设施建设", "区发展改革局", [3], "key"),
              (4, "推动汽车以旧换新", "区商务局", [4], "key"),
              (5, "推动家电以旧换新", "区商务局", [5], "key")],
    "历下区": [(1, "推动产业现代化改造", "区工业和信息化局", [1], "key"),
              (2, "推动家电以旧换新", "区财政局", [5], "manual")],
}


def city_ledger() -> Ledger:
    rows = [TaskRow(seq, task, content, lead, [], section, sub, Origin("济南市工作台账.xlsx", "工作台账", 3 + seq))
            for seq, section, sub, task, content, lead in CITY_TASKS]
    return Ledger(title="济南市推动大规模设备更新和消费品以旧换新工作台账", region="济南市", level="市", rows=rows)


def small_rollup(tmp_path: Path) -> Rollup:
    """Three districts, one unmapped and one multi-task row, targets, problems, a re-submission, one missing."""
    received, mappings = [], []
    for region, rows in DISTRICT_ROWS.items():
        name = f"{region}工作台账.xlsx"
        ledger = Ledger(title=f"{region}工作台账", region=region, level="区县")
        ledger.goals.append(Goal(2025, f"到2025年，{region}建成充换电站若干座", ["区发展改革局"],
                                 Origin(name, "工作台账", 3)))
        for i, (seq, task, lead, seqs, method) in enumerate(rows):
            row = TaskRow(seq, task, f"{task}的工作内容，" * 4, [lead], ["区财政局"], origin=Origin(name, "工作台账", 4 + i))
            if region == "章丘区":
                row.extra = {"进展情况": f"已完成{10 * (i + 1)}%", "任务键": str(seq)}
            ledger.rows.append(row)
            confidence = {"key": 1.0, "manual": 1.0, "none": 0.2}.get(method, 0.81)
            mappings.append(Mapping(region, row, seqs, confidence, method, name))
        received.append(Received(tmp_path / name, name, f"{region}-sha", 1000, datetime(2024, 5, 6, 9, 30), region,
                                 "meta", ledger, version=2 if region == "市中区" else 1))
    old = Received(tmp_path / "市中区工作台账(旧).xlsx", "市中区工作台账(旧).xlsx", "old-sha", 900,
                   datetime(2024, 5, 1, 8, 0), "市中区", "meta", None, 1, superseded_by="市中区-sha")
    targets = [
        TargetComparison(3, "加快绿色交通基础设施建设", "充换电站", "座", 2025, ">=", 1000,
                         {"市中区": 90, "章丘区": 120}, ["历下区"]),
        TargetComparison(5, "推动家电以旧换新", "新能源汽车渗透率", "%", 2025, ">=", 15,
                         {"章丘区": 12, "历下区": 18}, [], summable=False),
        TargetComparison(1, "推动产业现代化改造", "技术改造项目", "个", 2025, ">=", 300,
                         {"市中区": 150, "章丘区": 100, "历下区": 80}, []),
    ]
    problems = [
        Problem("unit-alias", "“区工信局”是简称，应写全称", "warning", "市中区工作台账.xlsx", "工作台账", "D4",
                value="区工信局", suggestion="区工业和信息化局"),
        Problem("missing-lead-unit", "缺少牵头单位", "error", "历下区工作台账.xlsx", "工作台账", "D5"),
        Problem("unknown-region", "无法判断地区", "info", "未知.xlsx"),
    ]
    return Rollup(city_ledger(), str(tmp_path / "济南市工作台账.xlsx"), received, [old], mappings, targets,
                  ["市中区", "章丘区", "历下区", "历城区"], problems, created=datetime(2024, 5, 6, 10, 0))


def sheet_rows(ws) -> list[tuple]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def find_row(ws, col: int, value) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, col).value == value)


@pytest.fixture
def rollup(tmp_path):
    return small_rollup(tmp_path)


@pytest.fixture
def written(rollup, tmp_path):
    return write_rollup(rollup, tmp_path / "汇总.xlsx")


def test_sheets_in_order(written, rollup):
    wb = load_workbook(written)
    assert wb.sheetnames == ["汇总", "覆盖矩阵", "目标对比", "图表", "未报送", "问题概览", "问题清单", "映射",
                             "市中区", "章丘区", "历下区", "来源"]
    assert not list(written.parent.glob(".~xltools-*")), "no temp file left beside the output"


def test_summary(written):
    ws = load_workbook(written)["汇总"]
    assert ws["A1"].value == "济南市推动大规模设备更新和消费品以旧换新工作汇总"
    assert "已报送 3 个地区：市中区、章丘区、历下区；未报送 1 个：历城区" in ws["A2"].value
    header = find_row(ws, 1, "序号")
    # (the city's 工作内容 is the city ledger's: not repeated here, a page a task)
    assert [c.value for c in ws[header]][1:6] == ["重点任务", "市级牵头单位", "覆盖地区数（共3个）", "未覆盖地区",
                                                  "地区牵头单位"]
    assert ws.cell(header + 1, 1).value == "二、实施多领域设备更新行动"  # band rows
    r = find_row(ws, 1, 3)
    assert ws.cell(r, 2).value == "加快绿色交通基础设施建设"
    assert ws.cell(r, 4).value == 2
    assert ws.cell(r, 5).value == "历下区"
    assert ws.cell(r, 6).value == "市中区、章丘区：区发展改革局"  # districts with the same lead units share a line
    r1 = find_row(ws, 1, 1)
    # Every district that sent a ledger covers it, but 历城区 sent none: not "全部地区".
    assert ws.cell(r1, 4).value == 3 and ws.cell(r1, 5).value == "无（全部已报送地区均已覆盖）"
    assert ws.cell(find_row(ws, 1, 5), 6).value == "市中区、章丘区：区商务局；历下区：区财政局"
    assert ws.cell(r, 2).font.name == "仿宋" and ws.cell(header, 1).font.name == "黑体"
    assert ws.freeze_panes is not None
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0


def test_matrix(written):
    ws = load_workbook(written)["覆盖矩阵"]
    header = find_row(ws, 1, "序号")
    regions = [c.value for c in ws[header]][2:]
    assert regions == ["市中区", "章丘区", "历下区", "覆盖地区数"]
    r4 = find_row(ws, 1, 4)
    assert [ws.cell(r4, c).value for c in range(3, 7)] == [1, 1, None, 2]
    assert ws.cell(r4, 5).fill.fgColor.rgb.endswith("FCE4D6")  # uncovered
    assert ws.cell(r4, 3).fill.fgColor.rgb.endswith("C6EFCE")
    totals = find_row(ws, 2, "覆盖任务数")
    assert [ws.cell(totals, c).value for c in range(3, 6)] == [4, 5, 2]
    assert ws.freeze_panes == "C4"


def test_targets(written):
    ws = load_workbook(written)["目标对比"]
    header = find_row(ws, 1, "序号")
    head = [c.value for c in ws[header]]
    assert head[:9] == ["序号", "指标", "年份", "单位", "比较", "市级目标", "各区合计", "差距", "完成比例"]
    assert head[9:] == ["市中区", "章丘区", "历下区"]
    r = find_row(ws, 2, "充换电站")
    assert [ws.cell(r, c).value for c in (5, 6, 7, 8)] == ["≥", 1000, 210, 790]
    # 历下区 covers the task without a figure: said in its cell, in yellow
    assert [ws.cell(r, c).value for c in (10, 11, 12)] == [90, 120, "未填数值"]
    assert ws.cell(r, 12).fill.fgColor.rgb.endswith("FFEB9C") and ws.cell(r, 10).fill.fgColor.rgb in (None, "00000000")
    r = find_row(ws, 2, "新能源汽车渗透率")
    assert ws.cell(r, 7).value == "不合计" and ws.cell(r, 8).value is None
    assert [ws.cell(r, c).value for c in (11, 12)] == [12, 18]


def test_missing_sources_and_problems(written):
    wb = load_workbook(written)
    assert [r[:2] for r in sheet_rows(wb["未报送"]) if r[1] == "未报送"] == [("历城区", "未报送")]
    src = sheet_rows(wb["来源"])
    status = {r[1]: r[8] for r in src if r[8]}
    assert status["济南市工作台账.xlsx"] == "市级台账"
    assert status["市中区工作台账.xlsx"] == "使用中"
    assert status["市中区工作台账(旧).xlsx"] == "已被新版本取代"
    zhangqiu = next(r for r in src if r[1] == "章丘区工作台账.xlsx")
    assert zhangqiu[2:4] == (1, "章丘区-sha") and zhangqiu[5:8] == (5, 5, 0)
    assert zhangqiu[4] == datetime(2024, 5, 6, 9, 30)
    ws = wb["问题清单"]
    assert [c.value for c in ws[1]] == ["序号", "地区", "严重程度", "问题类型", "问题说明", "建议", "内容", "文件",
                                         "工作表", "单元格", "行", "代码"]
    rows = sheet_rows(ws)[1:]
    assert [(r[1], r[2], r[3], r[9], r[7], r[11]) for r in rows] == [
        ("历下区", "错误", "缺少牵头单位", "D5", "历下区工作台账.xlsx", "missing-lead-unit"),
        ("市中区", "警告", "单位简称或别称", "D4", "市中区工作台账.xlsx", "unit-alias"),
        (None, "提示", "无法判断地区", None, "未知.xlsx", "unknown-region"),
    ]
    assert ws["C2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.column_dimensions["L"].hidden  # 代码: for programs, not printed
    # the text columns wrap, as in validate's list: a long 问题类型 (市级任务行被删除) is not cut off in print
    from xltools.marks import WRAPPED

    assert {c.column - 1 for c in ws[2] if c.alignment.wrap_text} == WRAPPED


def test_charts_are_in_the_package(written):
    with zipfile.ZipFile(written) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = "".join(z.read(n).decode("utf-8") for n in charts)
    assert len(charts) == 2  # coverage and targets, on 图表 (目标对比 is the table: no chart twice on paper)
    assert "<c:barChart>" in xml and "各地区覆盖市级任务数" in xml and "各区目标合计占市级目标" in xml
    assert "'图表'!$A$" in xml or "图表!$A$" in xml


def test_every_district_row_on_its_sheet(written, rollup):
    wb = load_workbook(written)
    for rec in rollup.received:
        ws = wb[rec.region]
        header = find_row(ws, 1, "序号")
        head = [c.value for c in ws[header]]
        extra = ["进展情况"] if rec.region == "章丘区" else []  # a reporting column only 章丘区 filled
        assert head == ["序号", "重点任务", "工作内容", "牵头单位", "责任单位", *extra, "对应市级任务", "置信度", "来源"]
        got = sheet_rows(ws)[header:]
        goal, *rows = got
        assert goal[:4] == (None, "2025年工作目标", rec.ledger.goals[0].text, "区发展改革局")
        assert [(r[0], r[1], r[2]) for r in rows] == [(t.seq, t.task, t.content) for t in rec.rows]
        assert all(r[-1] == f"第{t.origin.row}行" for r, t in zip(rows, rec.rows))  # the file is in A2, one sheet
        assert rec.name in ws["A2"].value
        if extra:
            assert [r[5] for r in rows] == [t.extra["进展情况"] for t in rec.rows]
    ws = wb["市中区"]
    r = find_row(ws, 2, "推动住房以旧换新")
    assert ws.cell(r, 6).value == "（未对应）" and ws.cell(r, 6).fill.fgColor.rgb.endswith("FFEB9C")
    r = find_row(ws, 2, "推动汽车家电以旧换新")
    assert ws.cell(r, 6).value == "4 推动汽车以旧换新\n5 推动家电以旧换新"


def test_detail_sheet_over_the_limit(rollup, tmp_path):
    out = write_rollup(rollup, tmp_path / "汇总.xlsx", district_sheets_max=2)
    wb = load_workbook(out)
    assert "明细" in wb.sheetnames and "市中区" not in wb.sheetnames
    ws = wb["明细"]
    header = find_row(ws, 1, "地区")
    assert [c.value for c in ws[header]][:3] == ["地区", "序号", "重点任务"]
    got = [(r[0], r[1], r[2]) for r in sheet_rows(ws)[header:]]
    expected = []  # each file's goal line, then its task rows
    for rec in rollup.received:
        expected.append((rec.region, None, "2025年工作目标"))
        expected += [(rec.region, t.seq, t.task) for t in rec.rows]
    assert got == expected
    assert [c.value for c in ws[header]][6] == "进展情况"


def test_mapping_sheet(written, rollup):
    wb = load_workbook(written)
    ws = wb["映射"]
    dn = wb.defined_names["xlt_mapping"]
    (sheet, ref), = dn.destinations
    listed = [m for m in rollup.mappings if m.method not in ("key", "blank")]  # the rows to check, not the keyed
    assert sheet == "映射" and ref == f"$A$3:$L${3 + len(listed)}" and len(listed) < len(rollup.mappings)
    assert "按分发表的任务键对应的" in ws["A2"].value
    assert [c.value for c in ws[3]] == ["地区", "文件", "工作表", "行号", "序号", "重点任务", "工作内容摘要",
                                         "对应市级任务序号", "市级重点任务", "置信度", "方式", "备注"]
    r = find_row(ws, 6, "推动汽车家电以旧换新")
    assert ws.cell(r, 8).value == "4、5" and ws.cell(r, 11).value == "相似度"
    assert ws.cell(r, 9).value == "4 推动汽车以旧换新；5 推动家电以旧换新"
    r = find_row(ws, 6, "推动住房以旧换新")
    assert ws.cell(r, 8).value is None and ws.cell(r, 11).value == "未对应"
    assert ws.cell(r, 1).fill.fgColor.rgb.endswith("FFEB9C")
    assert len(ws.cell(r, 7).value) <= 39
    dv = ws.data_validations.dataValidation[0]
    assert "H4" in str(dv.sqref) and dv.prompt == "填写市级任务序号，多个用顿号分隔，留空表示不对应"
    assert ws.cell(4, 8).number_format == "@"


def test_mapping_round_trip(written, rollup):
    expected = [MappingOverride(m.region, m.file, m.row.origin.sheet, m.row.origin.row, m.row.seq, m.row.task,
                                m.city_seqs) for m in rollup.mappings if m.method not in ("key", "blank")]
    got = read_mapping(written)
    assert [replace(o, cell=None) for o in got] == expected
    assert [o.cell for o in got] == [f"H{4 + i}" for i in range(len(expected))]  # 对应市级任务序号, below the header


def test_corrected_mapping_reads_back(written):
    wb = load_workbook(written)
    ws = wb["映射"]
    unmapped = find_row(ws, 6, "推动住房以旧换新")
    ws.cell(unmapped, 8).value = "3， 5"
    multi = find_row(ws, 6, "推动汽车家电以旧换新")
    ws.cell(multi, 8).value = 4.0
    ws.insert_rows(2)  # a line above the table (openpyxl leaves the defined name behind)
    wb.save(written)
    got = {o.task: o.city_seqs for o in read_mapping(written)}
    assert got["推动住房以旧换新"] == [3, 5] and got["推动汽车家电以旧换新"] == [4]

    wb = load_workbook(written)
    del wb.defined_names["xlt_mapping"]  # found by sheet name and header text instead
    ws = wb["映射"]
    ws.cell(find_row(ws, 6, "推动住房以旧换新"), 8).value = "十"
    wb.save(written)
    with pytest.raises(UnreadableInput) as err:
        read_mapping(written)
    assert "映射表 H" in err.value.message_zh and "“十”" in err.value.message_zh


@pytest.mark.parametrize("value, seqs", [("10、12", [10, 12]), ("10,12", [10, 12]), ("10，12", [10, 12]),
                                         (" 10 12 ", [10, 12]), (10.0, [10]), (7, [7]), ("", []), (None, []),
                                         ("１０", [10]), ("10.0", [10])])
def test_parse_seqs(value, seqs):
    assert parse_seqs(value) == seqs


@pytest.mark.parametrize("value", ["十", "10a", 0, 1.5, "-3", True])
def test_parse_seqs_rejects(value):
    with pytest.raises(UnreadableInput):
        parse_seqs(value, "H9")


def test_odd_inputs(rollup, tmp_path):
    """A region needing a safe sheet name, a text-document district, an unreadable file, no targets."""
    rec = rollup.received[0]
    text_row = TaskRow(9, "正文任务", "来自方案正文的行", ["区商务局"], origin=Origin("方案.txt", None, None, 12))
    odd = Received(tmp_path / "方案.txt", "方案.txt", "txt-sha", 10, datetime(2024, 5, 6), "高新区[管委会]/东区",
                   "filename", Ledger(region="高新区[管委会]/东区", rows=[text_row]))
    broken = Received(tmp_path / "坏.xlsx", "坏.xlsx", "bad", 1, datetime(2024, 5, 6), None, None, None)
    rollup = replace(rollup, received=[*rollup.received, odd, broken], targets=[],
                     mappings=[*rollup.mappings, Mapping(odd.region, text_row, [], 0.0, "none", "方案.txt")])
    rollup.received[0] = replace(rec, region="汇总")  # a region named like a rollup sheet
    out = write_rollup(rollup, tmp_path / "odd.xlsx")
    wb = load_workbook(out)
    assert "汇总（2）" in wb.sheetnames and "高新区管委会东区" in wb.sheetnames
    ws = wb["高新区管委会东区"]
    assert ws.cell(find_row(ws, 2, "正文任务"), 8).value == "第12行"
    status = {r[1]: r[8] for r in sheet_rows(wb["来源"])}
    assert status["坏.xlsx"] == "无法读取"
    back = [replace(o, cell=None) for o in read_mapping(out) if o.file == "方案.txt"]
    assert back == [MappingOverride("高新区[管委会]/东区", "方案.txt", None, 12, 9, "正文任务", [])]


def test_empty_rollup(tmp_path):
    """Nothing received yet: every sheet is still there, saying so."""
    rollup = Rollup(city_ledger(), "济南市工作台账.xlsx", [], [], [], [], ["历城区"], [])
    wb = load_workbook(write_rollup(rollup, tmp_path / "empty.xlsx"))
    assert wb.sheetnames == ["汇总", "覆盖矩阵", "目标对比", "图表", "未报送", "问题概览", "问题清单", "映射", "来源"]
    assert "未发现问题" in sheet_rows(wb["问题概览"])[1][0]
    assert [r[:2] for r in sheet_rows(wb["未报送"]) if r[1] == "未报送"] == [("历城区", "未报送")]
    assert read_mapping(tmp_path / "empty.xlsx") == []


def test_never_half_a_file(rollup, tmp_path, monkeypatch):
    out = tmp_path / "汇总.xlsx"
    out.write_bytes(b"old rollup")
    import xltools.rollup.writer as writer

    def boom(self, ws):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer._Writer, "write_sources", boom)
    with pytest.raises(RuntimeError):
        write_rollup(rollup, out)
    assert out.read_bytes() == b"old rollup"
    assert [p.name for p in tmp_path.iterdir()] == ["汇总.xlsx"]


def test_streamed_rows_match_xlsxwriter(rollup, tmp_path):
    """The rows streamed into the package are what xlsxwriter's own write_* would have written."""
    from xltools.rollup.writer import _write

    rec = rollup.received[0]
    rec.rows[0].content = "A&B <tag> 控制\x07字符\t制表 "  # XML escapes, a control character, edge space
    rec.rows[0].task = " 前导空格"
    rollup.mappings[0].confidence = float("nan")
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    _write(rollup, fast, 40, stream=True)
    _write(rollup, slow, 40, stream=False)
    a, b = load_workbook(fast), load_workbook(slow)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        assert sheet_rows(a[name]) == sheet_rows(b[name]), name
        cells = [[(c.fill.fgColor.rgb, c.number_format, c.font.name, c.alignment.wrap_text) for c in row]
                 for row in a[name].iter_rows()]
        assert cells == [[(c.fill.fgColor.rgb, c.number_format, c.font.name, c.alignment.wrap_text) for c in row]
                         for row in b[name].iter_rows()], name
        assert [a[name].row_dimensions[r].height for r in range(1, a[name].max_row + 1)] == \
            [b[name].row_dimensions[r].height for r in range(1, b[name].max_row + 1)], name
        assert a[name].dimensions == b[name].dimensions, name
    assert a["市中区"].cell(5, 3).value == "A&B <tag> 控制_x0007_字符\t制表 "  # openpyxl leaves _xHHHH_ as is


def test_excel_escapes(rollup, tmp_path):
    """A control character becomes _xHHHH_, and text that looks like one is escaped so Excel shows it as typed."""
    rollup.received[0].rows[0].content = "\x07 and _x0041_"
    out = write_rollup(rollup, tmp_path / "esc.xlsx")
    with zipfile.ZipFile(out) as z:
        xml = z.read("xl/worksheets/sheet8.xml").decode()
    assert "_x0007_ and _x005F_x0041_" in xml


# ------------------------------------------------------------------------------------------ benchmark


def synthetic_rollup(n_districts: int, rows_per: int = 60, base: Path = Path("/tmp")) -> Rollup:
    """The real 济南市 ledger as city; districts that copied its rows into their own files."""
    city = extract(CITY)
    received, mappings, problems = [], [], []
    seqs = [r.seq for r in city.rows]
    for d in range(n_districts):
        region = f"第{d + 1}区"
        name = f"{region}工作台账.xlsx"
        ledger = Ledger(title=f"{region}工作台账", region=region, level="区县")
        ledger.goals.append(Goal(2025, city.goals[0].text if city.goals else "工作目标", ["区发展改革局"],
                                 Origin(name, "工作台账", 3)))
        for i in range(rows_per):
            src = city.rows[i % len(city.rows)]
            row = TaskRow(i + 1, src.task, src.content, [u.replace("市", "区", 1) for u in src.lead_units],
                          [u.replace("市", "区", 1) for u in src.responsible_units], src.section, src.subsection,
                          Origin(name, "工作台账", 4 + i))
            ledger.rows.append(row)
            if i % 17 == 5:
                mappings.append(Mapping(region, row, [], 0.3, "none", name))
            elif i % 23 == 7:
                mappings.append(Mapping(region, row, [src.seq, seqs[(i + 1) % len(seqs)]], 0.72, "similarity", name))
            else:
                mappings.append(Mapping(region, row, [src.seq], 1.0, "key", name))
        received.append(Received(base / name, name, f"{d:064x}", 30000, datetime(2024, 5, 6, 9, 0), region, "meta",
                                 ledger))
        problems.append(Problem("unit-alias", "“区工信局”是简称，应写全称", "warning", name, "工作台账", "D5",
                                value="区工信局", suggestion="区工业和信息化局"))
    regions = [r.region for r in received]
    targets = [
        TargetComparison(10, "加快绿色交通基础设施建设", "充换电站", "座", 2025, ">=", 1000,
                         {r: 1 + i % 3 for i, r in enumerate(regions[:-5])}, regions[-5:]),
        TargetComparison(1, "推动产业现代化改造", "技术改造项目", "个", 2025, ">=", 3000,
                         {r: 1 for r in regions}, []),
        TargetComparison(20, "推进汽车以旧换新", "新能源汽车渗透率", "%", 2025, ">=", 50,
                         {r: 40 + i % 20 for i, r in enumerate(regions)}, [], summable=False),
    ]
    return Rollup(city, str(CITY), received, [], mappings, targets, [*regions, "缺一区"], problems,
                  created=datetime(2024, 5, 6, 10, 0))


def test_the_problem_overview_counts_each_kind_in_its_districts(tmp_path):
    """问题概览: a line a kind of problem, the worst first, then the widest spread; its districts counted and
    named (the first 30, then how many in all); the city ledger's own problems counted apart."""
    from xltools.rollup.writer import OVERVIEW_REGIONS, problem_region

    rollup = synthetic_rollup(45, rows_per=3)
    names = [r.name for r in rollup.received]
    rollup.problems += [Problem("unit-unknown", "“区数字办”不在名录中", "error", name, "工作台账", "E6")
                        for name in names[:3] for _ in range(4)]
    rollup.problems += [Problem("missing-district", "缺一区未报送", "warning", value="缺一区"),
                        Problem("bad-seq", "序号“一”不是数字", "info", Path(rollup.city_file).name, line=12)]
    wb = load_workbook(write_rollup(rollup, tmp_path / "汇总.xlsx"))
    rows = sheet_rows(wb["问题概览"])
    header = next(i for i, r in enumerate(rows) if r[0] == "严重程度")
    assert rows[header] == ("严重程度", "问题类型", "地区数", "问题数", "涉及地区")
    got = rows[header + 1:]
    region = problem_region(rollup, city=False)
    want = {}
    for p in rollup.problems:
        kind = want.setdefault((SEVERITY_ZH[p.severity], problem_title(p.type)), [0, []])
        kind[0] += 1
        if region(p) and region(p) not in kind[1]:
            kind[1].append(region(p))
    assert {(r[0], r[1]): (r[3], r[2]) for r in got} == {k: (n, len(rs)) for k, (n, rs) in want.items()}
    assert [r[0] for r in got] == ["错误", "警告", "警告", "提示"]  # worst first, then the most districts
    assert got[1][1] == problem_title("unit-alias") and got[1][2] == 45
    assert got[1][4] == "、".join(names[i].removesuffix("工作台账.xlsx") for i in range(OVERVIEW_REGIONS)) \
        + "……等共45个地区"
    assert got[0][4] == "第1区、第2区、第3区" and got[0][3] == 12
    assert got[3][2] == 0 and got[3][4] == "市级台账或映射表 1 条"  # the city ledger's problem: no district's
    assert f"共 {len(rollup.problems):,} 条问题，分 4 类" in rows[1][0]


def test_many_districts_go_to_one_detail_sheet_and_read_back_whole(tmp_path):
    # Speed is measured by benchmarks/bench_consolidate.py; this checks the large-rollup path is complete.
    rollup = synthetic_rollup(300)
    out = write_rollup(rollup, tmp_path / "rollup.xlsx")
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[8] == "明细"
    assert len(read_mapping(out)) == sum(m.method not in ("key", "blank") for m in rollup.mappings) > 1_000


@pytest.mark.parametrize("n", [15, 45])
def test_target_comparison_fits_the_page_at_any_number_of_districts(tmp_path, n):
    """目标对比 with many districts: a sheet for each group of districts that fits one page width beside the
    comparison columns (目标对比, 目标对比（续1）…), every district in exactly one group, in order, the groups even;
    past TARGET_GROUPS_MAX districts one sheet whose print area is the comparison alone. The chart is sized to
    the page whatever the count."""
    from xltools.printing import sheet_scale
    from xltools.rollup.writer import TARGET_GROUPS_MAX

    rollup = synthetic_rollup(n, rows_per=3)
    wb = load_workbook(write_rollup(rollup, tmp_path / "汇总.xlsx"))
    names = [s for s in wb.sheetnames if s.startswith("目标对比")]
    regions = [r.region for r in rollup.received]
    seen = []
    for i, name in enumerate(names):
        ws = wb[name]
        assert name == ("目标对比" if i == 0 else f"目标对比（续{i}）")
        header = find_row(ws, 1, "序号")
        head = [c.value for c in ws[header]][9:]
        seen += head
        assert ws.page_setup.fitToWidth in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage
        assert sheet_scale(ws) >= 0.9, (name, sheet_scale(ws))  # 11 pt stays ≥ 9.9 pt on paper
        assert ws.print_title_rows == f"${header}:${header}"
        assert find_row(ws, 2, "充换电站")  # every sheet repeats the comparison columns
        if len(names) > 1:
            assert f"分{len(names)}张表列出，本表为第{i + 1}张" in ws.cell(2, 1).value
    assert seen == regions
    if n > TARGET_GROUPS_MAX:
        ws = wb["目标对比"]
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        assert len(names) == 1 and area.endswith(f"$A$1:$I${find_row(ws, 1, '序号') + len(rollup.targets)}"), area
    else:
        sizes = [len([c for c in wb[s][find_row(wb[s], 1, "序号")][9:] if c.value]) for s in names]
        assert len(names) > 1 and max(sizes) - min(sizes) <= 1, sizes
