import pytest

from xltools.unitnames import split_units


@pytest.mark.parametrize("cell, names", [
    ("区人力资源社会保障局区卫生健康局", ["区人力资源社会保障局", "区卫生健康局"]),
    ("区委宣传部区市场监督管理局、区财政局", ["区委宣传部", "区市场监督管理局", "区财政局"]),
    ("市生态环境局市中分局", ["市生态环境局市中分局"]),
    ("市公安局市中区分局", ["市公安局市中区分局"]),
    ("区生态环境分局区公安分局", ["区生态环境分局", "区公安分局"]),
    ("国网济南供电公司、 国网莱芜供电公司", ["国网济南供电公司", "国网莱芜供电公司"]),
    ("各区县人民政府（功能区管委会），市政府有关部门（单位）", ["各区县人民政府（功能区管委会）", "市政府有关部门（单位）"]),
    ("市教育局、市卫生健康委等有关部门（单位）", ["市教育局", "市卫生健康委", "有关部门（单位）"]),
    ("区有关部门、单位", ["区有关部门、单位"]),
    ("区发展改革局\n\n区工业和信息化局", ["区发展改革局", "区工业和信息化局"]),
    (["区工业和信", "息化局", "区科技局"], ["区工业和信息化局", "区科技局"]),
    ("区财政局；区商务局/区民政局,区税务局", ["区财政局", "区商务局", "区民政局", "区税务局"]),
    ("明水经济技术开发区管理委员会", ["明水经济技术开发区管理委员会"]),
    ("区大学园区管理服务中心", ["区大学园区管理服务中心"]),
    ("", []),
])
def test_split_units(cell, names):
    assert split_units(cell) == names


@pytest.mark.parametrize("cell, names", [
    # a space between two names separates them, as a 填报说明 asked (ASCII, full-width, NBSP, runs of them)
    ("区财政局 公安天桥分局", ["区财政局", "公安天桥分局"]),
    ("区财政局\u3000区商务局\xa0\xa0区民政局", ["区财政局", "区商务局", "区民政局"]),
    ("区发改局  区工信局、区卫健局", ["区发改局", "区工信局", "区卫健局"]),
    ("区财政局 公安天桥 分局", ["区财政局", "公安天桥分局"]),  # the second name spaced as well
    ("区委 区政府", ["区委", "区政府"]),
    ("区生态环境分局 区公安分局", ["区生态环境分局", "区公安分局"]),  # a district's own 分局, not a branch tail
    # a space inside one name is an artefact
    ("区 财政局", ["区财政局"]),
    ("区住房 城乡建设局", ["区住房城乡建设局"]),
    # a branch, a head office's branch, an organ's department, a bracket, a collective tail stay with their name
    ("市公安局 天桥分局", ["市公安局天桥分局"]),
    ("市公安局 市中区分局", ["市公安局市中区分局"]),
    ("国家金融监督管理总局 济南监管分局", ["国家金融监督管理总局济南监管分局"]),
    ("国家税务总局 济南市税务局", ["国家税务总局济南市税务局"]),
    ("区委 宣传部", ["区委宣传部"]),
    ("国家金融监督管理总局章丘监管支局 （筹备组）", ["国家金融监督管理总局章丘监管支局（筹备组）"]),
    ("市卫生健康委 等有关部门（单位）", ["市卫生健康委", "有关部门（单位）"]),
    ("区有关部门 单位", ["区有关部门、单位"]),
    # lines and separators as before
    ("区财政局 \n区商务局", ["区财政局", "区商务局"]),
    ("区财政局、 区商务局", ["区财政局", "区商务局"]),
])
def test_spaces_separate_names_only_between_names(cell, names):
    assert split_units(cell) == names


def test_a_space_separated_cell_from_a_workbook_is_split_and_the_validator_notes_the_separator(tmp_path):
    from conftest import SHIZHONG
    from openpyxl import load_workbook

    from xltools import extract, fill, validate
    from xltools.text import column_letter

    filled = fill(SHIZHONG, tmp_path / "市中区_工作台账.xlsx").path
    ledger = extract(filled)
    lead = f"{column_letter(ledger.columns['lead'] + 1)}{ledger.rows[0].origin.row}"
    wb = load_workbook(filled)
    wb["工作台账"][lead].value = "区财政局\u3000区商务局 区民政局"
    spaced = tmp_path / "spaced.xlsx"
    wb.save(spaced)
    row = extract(spaced).rows[0]
    assert row.lead_units == ["区财政局", "区商务局", "区民政局"]
    result = validate(spaced, fix=True, fixed_out=tmp_path / "fixed.xlsx")
    here = [(p.type, p.suggestion) for p in result.report if p.cell == lead and p.type.startswith("unit-")]
    assert here == [("unit-separator", "区财政局、区商务局、区民政局")]  # a note, no unknown name
    assert load_workbook(tmp_path / "fixed.xlsx")["工作台账"][lead].value == "区财政局、区商务局、区民政局"
