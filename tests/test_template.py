"""The ledger template: built from code, found by defined names and header text, never by address."""

import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xltools import template as tpl
from xltools.errors import OutputError, TemplateError
from xltools.xlio import atomic_save, check_output, same_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def blank_template(tmp_path) -> Path:
    return tpl.build_ledger_template(tmp_path / "template.xlsx")


def test_built_template_has_every_named_place(blank_template):
    wb = load_workbook(blank_template)
    names = set(wb.defined_names)
    assert {tpl.N_TITLE, tpl.N_SUBTITLE, tpl.N_HEADER, tpl.N_DATA, tpl.N_UNITS, tpl.N_META} <= names
    assert set(tpl.PROTO_NAMES.values()) <= names
    t = tpl.locate(wb)
    assert t.sheet.title == tpl.SHEET
    assert [t.columns[c.field] for c in tpl.COLUMNS] == list(range(1, len(tpl.COLUMNS) + 1))
    assert t.extra_columns == {}
    assert t.header_row == 3 and t.title == (1, 1)
    assert t.protos == {"action": 4, "field": 5, "goal": 6, "task": 7}
    assert t.data == (4, 7)
    assert not t.filled
    assert t.meta["format"] == tpl.FORMAT and t.meta["kind"] == "template"
    assert wb[tpl.META_SHEET].sheet_state == "hidden"


def test_built_template_looks_like_a_government_ledger(blank_template):
    wb = load_workbook(blank_template)
    ws = wb[tpl.SHEET]
    title = ws["A1"]
    assert (title.font.name, title.font.size, title.font.b) == ("黑体", 18, True)
    assert title.font.charset == 134
    assert "A1:I1" in {str(m) for m in ws.merged_cells.ranges}
    for c in range(1, 10):
        head = ws.cell(3, c)
        assert (head.font.name, head.font.b, head.alignment.wrap_text) == ("黑体", True, True)
        assert head.border.left.style == "thin" and head.fill.fgColor.rgb.endswith("D9D9D9")
    task = ws.cell(7, 3)
    assert task.font.name == "仿宋" and task.alignment.wrap_text and task.border.bottom.style == "thin"
    assert ws.cell(7, 1).alignment.horizontal == "center"
    assert ws.column_dimensions["J"].hidden  # 任务键
    widest = max("ABCDEFGHI", key=lambda col: ws.column_dimensions[col].width)
    assert ws.cell(3, ord(widest) - 64).value == "工作内容"
    assert {str(m) for m in ws.merged_cells.ranges} >= {"A4:I4", "A5:I5", "A6:B6"}
    # Print setup: A4 landscape, one page wide, header repeated, page numbers.
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9  # A4
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$3:$3"
    assert ws.print_options.horizontalCentered
    assert ws.oddFooter.center.text == "工作台账　第&P页 共&N页"  # which table a printed page is
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:J7"
    (dv,) = ws.data_validations.dataValidation
    assert dv.formula1 == '"已完成,推进中,未启动,滞后"' and str(dv.sqref) == "I6:I7"


def test_side_sheets_explain_columns_and_hold_the_unit_directory(blank_template):
    wb = load_workbook(blank_template)
    assert wb.sheetnames == [tpl.SHEET, tpl.NOTES_SHEET, tpl.UNITS_SHEET, tpl.META_SHEET]
    notes = " ".join(str(c.value) for row in wb[tpl.NOTES_SHEET].iter_rows() for c in row if c.value)
    for word in ("进展情况", "完成情况", "任务键", "仿宋_GB2312", "FangSong", "Noto Serif CJK SC", "变更记录"):
        assert word in notes
    units = wb[tpl.UNITS_SHEET]
    assert [c.value for c in units[1]] == ["地区", "规范名称", "别名", "类型", "市级对应单位", "备注"]
    assert tpl.defined_range(wb, tpl.N_UNITS)[1] == (1, 1, 6, 1)


def test_header_text_is_matched_without_spaces_and_by_alias(blank_template):
    wb = load_workbook(blank_template)
    ws = wb[tpl.SHEET]
    ws["C3"] = "工作\n内　容"
    ws["E3"] = "配合单位"
    ws["F3"] = "备注"  # a column a person retitled: carried like a reporting column
    t = tpl.locate(wb)
    assert (t.columns["content"], t.columns["responsible_units"]) == (3, 5)
    assert "target" not in t.columns and t.extra_columns == {"备注": 6}
    assert t.reporting_columns == {"完成时限": 7, "进展情况": 8, "完成情况": 9, "备注": 6}


@pytest.mark.parametrize("name", [tpl.N_HEADER, tpl.N_TITLE, "xlt_proto_task"])
def test_missing_defined_name_is_named_in_both_languages(blank_template, name):
    wb = load_workbook(blank_template)
    tpl.remove_name(wb, name)
    with pytest.raises(TemplateError) as err:
        tpl.locate(wb)
    assert name in str(err.value) and name in err.value.message_zh


def test_missing_header_is_named(blank_template):
    wb = load_workbook(blank_template)
    wb[tpl.SHEET]["D3"] = "单位"
    with pytest.raises(TemplateError) as err:
        tpl.locate(wb)
    assert "牵头单位" in err.value.message_zh and "xlt_header" in err.value.message_zh


def test_optional_prototypes_may_be_missing(blank_template):
    wb = load_workbook(blank_template)
    tpl.remove_name(wb, "xlt_proto_goal")
    assert tpl.locate(wb).row_style("goal") is None
    assert tpl.locate(wb).row_style("task").styles[3]


def test_build_hook_writes_the_package_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(tpl, "PACKAGE_TEMPLATE", tmp_path / "pkg" / "ledger_template.xlsx")
    out = tmp_path / "wb" / "ledger_template.xlsx"
    assert tpl.main([str(out)]) == 0
    assert out.read_bytes() == tpl.PACKAGE_TEMPLATE.read_bytes()
    # --sync checks a restyled workbook and copies it unchanged.
    wb = load_workbook(out)
    wb[tpl.SHEET]["A1"].font = tpl.font("方正小标宋简体", 20)
    wb.save(out)
    assert tpl.main([str(out), "--sync"]) == 0
    assert load_workbook(tpl.PACKAGE_TEMPLATE)[tpl.SHEET]["A1"].font.size == 20


def test_committed_template_and_package_copy_agree():
    committed = ROOT / "workbooks" / "ledger_template.xlsx"
    assert committed.read_bytes() == tpl.PACKAGE_TEMPLATE.read_bytes(), (
        "run: python -m xltools.template workbooks/ledger_template.xlsx --sync")
    tpl.locate(load_workbook(committed))
    assert tpl.default_template() == committed


def test_check_output_refuses_inputs_and_missing_folders(tmp_path):
    src = tmp_path / "plan.txt"
    src.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError) as err:
        check_output(tmp_path / "sub" / ".." / "plan.txt", src)
    assert "不能覆盖" in err.value.message_zh
    with pytest.raises(OutputError):
        check_output(tmp_path / "nowhere" / "out.xlsx", src)
    assert check_output(tmp_path / "out.xlsx", src, None) == tmp_path / "out.xlsx"
    assert same_file(src, tmp_path / "./plan.txt") and not same_file(src, tmp_path / "out.xlsx")


def test_atomic_save_leaves_no_temporary_file_and_keeps_old_file_on_failure(tmp_path, blank_template):
    wb = load_workbook(blank_template)
    out = tmp_path / "out.xlsx"
    atomic_save(wb, out)
    before = out.read_bytes()

    class Broken:
        def save(self, path):
            Path(path).write_bytes(b"half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_save(Broken(), out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx", "template.xlsx"]
    if os.name == "posix":  # an ordinary file's mode, not a private temporary file's 0600
        umask = os.umask(0)
        os.umask(umask)
        assert out.stat().st_mode & 0o777 == 0o666 & ~umask
