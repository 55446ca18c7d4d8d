"""Every input format the fill/extract door accepts, built in code or taken from the real seeds."""

import json

import openpyxl
import pytest
from conftest import CITY, ZHANGQIU, expected, row_view

from xltools import extract
from xltools.errors import UnreadableInput

docx = pytest.importorskip("docx")


def _docx_from_lines(path, lines):
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(path)


def test_docx_body_gives_the_same_ledger_as_the_text(tmp_path):
    lines = ZHANGQIU.read_text(encoding="utf-8").split("\n")
    path = tmp_path / "章丘区工作方案.docx"
    _docx_from_lines(path, lines)
    ledger = extract(path)
    assert ledger.source == "章丘区工作方案.docx"
    assert [row_view(r) for r in ledger.rows] == [row_view(r) for r in expected(ZHANGQIU)["rows"]]


def test_docx_table_with_merged_cells_and_a_body_that_disagrees(tmp_path):
    document = docx.Document()
    for line in ["济南市历城区推动大规模设备更新和消费品以旧换新工作方案", "一、实施设备更新行动",
                 "（一）工业设备更新改造", "1.推动产业现代化改造。每年实施项目30个以上。（牵头单位：区工业和信息化局）",
                 "2.加快产业数字化发展。推广智能制造设备。（牵头单位：区工业和信息化局；责任单位：区财政局）",
                 "附件", "济南市历城区推动大规模设备更新和消费品以旧换新工作台账"]:
        document.add_paragraph(line)
    table = document.add_table(rows=7, cols=5)
    data = [
        ["序号", "重点任务", "工作内容", "牵头单位", "责任单位"],
        ["一、工作目标", "", "", "", ""],
        ["2025年工作目标", "", "新能源汽车保有量达到1.5万辆左右。", "区发展改革局", ""],
        ["二、实施设备更新行动", "", "", "", ""],
        ["1", "推动产业现代化改造", "每年实施项目30个以上。", "区工业和信息化局", ""],
        ["2", "加快产业数字化发展", "推广智能制造设备。", "区工业和信息化局", "区商务局"],
        ["", "", "培育工业互联网标杆工厂。", "区科技局", ""],
    ]
    for r, values in enumerate(data):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(1, 4))
    table.cell(3, 0).merge(table.cell(3, 4))
    table.cell(2, 0).merge(table.cell(2, 1))
    table.cell(5, 0).merge(table.cell(6, 0))  # 序号 and 重点任务 over two rows
    table.cell(5, 1).merge(table.cell(6, 1))
    path = tmp_path / "历城区.docx"
    document.save(path)
    ledger = extract(path)
    assert ledger.title == "济南市历城区推动大规模设备更新和消费品以旧换新工作台账"
    assert (ledger.region, ledger.level) == ("历城区", "区县")
    assert [(g.year, g.lead_units) for g in ledger.goals] == [(2025, ["区发展改革局"])]
    assert [(r.seq, r.task, r.lead_units, r.responsible_units) for r in ledger.rows] == [
        (1, "推动产业现代化改造", ["区工业和信息化局"], []),
        (2, "加快产业数字化发展", ["区工业和信息化局"], ["区商务局"]),
        (2, "加快产业数字化发展", ["区科技局"], []),
    ]
    units = [p for p in ledger.problems if p.type == "body-ledger-units"]
    assert len(units) == 1 and "区商务局" in units[0].message and units[0].suggestion == "区财政局"
    assert [p.type for p in ledger.problems if p.type == "ledger-only-task"] == ["ledger-only-task"]


def test_broken_docx_is_a_clear_error(tmp_path):
    path = tmp_path / "坏文件.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableInput) as err:
        extract(path)
    assert "坏文件.docx" in err.value.message_zh


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_text_encodings(tmp_path, encoding):
    path = tmp_path / "plan.txt"
    path.write_bytes(ZHANGQIU.read_text(encoding="utf-8").encode(encoding))
    ledger = extract(path)
    assert len(ledger.rows) == 60 and ledger.rows[54].lead_units[0] == "国家金融监督管理总局章丘监管支局（筹备组）"


def test_markdown_and_crlf(tmp_path):
    path = tmp_path / "plan.md"
    path.write_bytes(CITY.read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-8"))
    assert len(extract(path).rows) == 60


def test_csv_with_chinese_headers_and_region_option(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "序号,重点任务,工作内容,牵头单位,责任单位\n"
        "1,推动产业现代化改造,每年实施项目30个以上。,区工业和信息化局,\n"
        '2,加快产业数字化发展,推广设备。,"区工业和信息化局、区科技局",区财政局\n', encoding="gb18030")
    ledger = extract(path, region="章丘区")
    assert (ledger.region, ledger.level) == ("章丘区", "区县")
    assert [(r.seq, r.lead_units, r.responsible_units) for r in ledger.rows] == [
        (1, ["区工业和信息化局"], []), (2, ["区工业和信息化局", "区科技局"], ["区财政局"])]
    assert ledger.rows[1].origin.line == 3


def test_csv_with_english_headers_keeps_sections(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("seq,section,subsection,task,content,lead_units,responsible_units\n"
                    "1,二、实施设备更新行动,(一) 工业设备更新改造,甲,内容。,区商务局,\n", encoding="utf-8")
    row = extract(path, region="市中区").rows[0]
    assert (row.section, row.subsection, row.lead_units) == ("二、实施设备更新行动", "（一）工业设备更新改造", ["区商务局"])


def test_json_in_the_extract_contract_round_trips(tmp_path):
    data = extract(CITY).to_dict()
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = extract(path)
    assert again.to_dict()["rows"] == data["rows"] and again.region == "济南市"


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text('{"rows": [\n  {"seq": 1,}\n]}', encoding="utf-8")
    with pytest.raises(UnreadableInput) as err:
        extract(path)
    assert "第2行" in err.value.message_zh


def test_ledger_workbook_with_title_bands_merges_and_repeated_header(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工作台账"
    ws.append(["济南市章丘区推动大规模设备更新和消费品以旧换新工作台账"])
    ws.append([])
    ws.append(["序号", "重点任务", "工作内容", "牵头单位", "责任单位", "完成情况"])
    ws.append(["二、实施多领域设备更新行动"])
    ws.append(["(一) 工业装备更新改造"])
    ws.append([1, "推动产业现代化改造", "每年实施亿元以上重点技术改造项目30个以上。", "区工业信息化和科技局", None, "推进中"])
    ws.append([2, "加快产业数字化发展", "内容甲。", "区工业信息化和科技局\n区发展和改革局", "区财政局、区商务服务中心"])
    ws.append([None, None, "内容乙。", "区科技局"])
    ws.append(["序号", "重点任务", "工作内容", "牵头单位", "责任单位", "完成情况"])
    ws.append([3, "提升产业绿色化水平", "内容丙。", "区发展和改革局"])
    ws.merge_cells("A1:F1")
    ws.merge_cells("A4:F4")
    ws.merge_cells("A7:A8")
    ws.merge_cells("B7:B8")
    path = tmp_path / "章丘区.xlsx"
    wb.save(path)
    ledger = extract(path)
    assert (ledger.region, ledger.title) == ("章丘区", "济南市章丘区推动大规模设备更新和消费品以旧换新工作台账")
    assert [(r.seq, r.task, r.lead_units, r.responsible_units) for r in ledger.rows] == [
        (1, "推动产业现代化改造", ["区工业信息化和科技局"], []),
        (2, "加快产业数字化发展", ["区工业信息化和科技局", "区发展和改革局"], ["区财政局", "区商务服务中心"]),
        (2, "加快产业数字化发展", ["区科技局"], []),
        (3, "提升产业绿色化水平", ["区发展和改革局"], []),
    ]
    assert ledger.rows[0].subsection == "（一）工业装备更新改造"
    assert ledger.rows[0].extra == {"完成情况": "推进中"}
    assert (ledger.rows[2].origin.sheet, ledger.rows[2].origin.row) == ("工作台账", 8)


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(UnreadableInput):
        extract(tmp_path / "nothing.docx")
    other = tmp_path / "a.rtf"
    other.write_bytes(b"{\\rtf1}")
    with pytest.raises(UnreadableInput) as err:
        extract(other)
    assert "不支持的文件类型" in err.value.message_zh


@pytest.mark.parametrize("name", ["python-calamine/empty_file.xlsb", "ExcelDataReader/EmptyZipFile.xlsb",
                                  "calamine/pass_protected.xlsb"])
def test_broken_third_party_workbooks_raise_a_clear_error(shared_fixtures, name):
    with pytest.raises(UnreadableInput) as err:
        extract(shared_fixtures / name)
    assert name.split("/")[1] in err.value.message_zh
    expected = {"calamine/pass_protected.xlsb": "密码", "python-calamine/empty_file.xlsb": "空的"}.get(name, "无法读取")
    assert expected in err.value.message_zh


@pytest.mark.parametrize("name", ["python-calamine/base.xlsb", "pyxlsb/test_chart_sheet.xlsb",
                                  "calamine/any_sheets.xlsb", "easyexcel/t01.xls", "easyexcel/simple07.xlsx",
                                  "xlrd/corrupted_error.xls", "calamine/issue_666_panic.xlsb",
                                  "calamine/issue_666_lost_sheets.xlsb"])  # calamine reads past xlrd's CompDocError
def test_workbooks_without_a_ledger_report_it_instead_of_crashing(shared_fixtures, name):
    ledger = extract(shared_fixtures / name, region="市中区")
    assert ledger.rows == [] and [p.type for p in ledger.problems] == ["missing-header"]
