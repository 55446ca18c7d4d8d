"""The unit directory and name checks, over the real seed documents and the defects named in the issue."""

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU
from hypothesis import given, settings
from hypothesis import strategies as st

from xltools import extract
from xltools.units import check_cell, check_name, load_directory
from xltools.units.directory import Directory, Region, Unit, write_directory


@pytest.fixture(scope="module")
def directory():
    return load_directory()


def test_the_package_ships_the_committed_directory():
    from xltools.units.directory import PACKAGE_DIRECTORY, REPO_DIRECTORY

    if REPO_DIRECTORY.is_file():
        assert REPO_DIRECTORY.read_bytes() == PACKAGE_DIRECTORY.read_bytes(), (
            "copy workbooks/units.xlsx to xltools/data/units.xlsx after editing it")


def test_bundled_directory_is_clean_and_has_the_three_regions(directory):
    assert directory.problems == []
    assert {"济南市", "市中区", "章丘区"} <= set(directory.regions)
    assert directory.parent("章丘区") == "济南市" and directory.level("济南市") == "市"
    kinds = {u.name: u.kind for u in directory.units}
    assert kinds["市生态环境局市中分局"] == "branch" and kinds["市中城发集团"] == "company"
    assert kinds["区有关部门、单位"] == "collective" and kinds["区税务局"] == "vertical"


@pytest.mark.parametrize("seed", [CITY, SHIZHONG, ZHANGQIU], ids=["city", "shizhong", "zhangqiu"])
def test_every_unit_name_in_the_seeds_is_classified_and_clean_names_raise_nothing(directory, seed):
    ledger = extract(seed)
    names = {n for r in ledger.rows for n in r.lead_units + r.responsible_units} | {
        n for g in ledger.goals for n in g.lead_units}
    found = {n: check_name(n, ledger.region, directory) for n in names}
    assert all(c.status in ("ok", "alias", "collective") for c in found.values()), {
        n: c.status for n, c in found.items() if c.status not in ("ok", "alias", "collective")}
    not_ok = {n: (c.status, c.canonical) for n, c in found.items() if c.status != "ok"}
    expected = {
        "济南市": {"市应急局": ("alias", "市应急管理局"), "市文化旅游局": ("alias", "市文化和旅游局"),
                "各区县人民政府（功能区管委会）": ("collective", "各区县人民政府（功能区管委会）"),
                "市政府有关部门（单位）": ("collective", "市政府有关部门（单位）"),
                "有关部门（单位）": ("collective", "市政府有关部门（单位）")},
        "市中区": {"属地街道办事处": ("collective", "属地街道办事处"),
                "区各产业链群工作专班": ("collective", "区各产业链群工作专班")},
        "章丘区": {"区市场监管局": ("alias", "区市场监督管理局"), "区有关部门、单位": ("collective", "区有关部门、单位")},
    }[ledger.region]
    assert not_ok == expected


@pytest.mark.parametrize("name, region, status, canonical, suggestions", [
    # short forms
    ("区发展改革局", "章丘区", "alias", "区发展和改革局", []),
    ("区发展和改革局", "市中区", "alias", "区发展改革局", []),
    ("区市场监督管理局", "市中区", "alias", "区市场监管局", []),
    ("市应急局", "济南市", "alias", "市应急管理局", []),
    ("市文化旅游局", "济南市", "alias", "市文化和旅游局", []),
    ("市发改委", "济南市", "alias", "市发展改革委", []),
    ("区工信局", "市中区", "alias", "区工业和信息化局", []),
    ("市卫生健康委员会", "济南市", "alias", "市卫生健康委", []),  # by the shortening rules, not a listed alias
    # typos
    ("区发展与统计服务中心", "市中区", "typo", None, ["区发展与服务统计中心"]),
    ("区财攻局", "市中区", "typo", None, ["区财政局"]),
    ("市住房城乡建没局", "济南市", "typo", None, ["市住房城乡建设局"]),
    # departments that differ by district
    ("区科技局", "章丘区", "unknown", None, ["区工业信息化和科技局"]),
    ("区工业和信息化局", "章丘区", "unknown", None, ["区工业信息化和科技局"]),
    ("区工业信息化和科技局", "市中区", "unknown", None, ["区工业和信息化局", "区科技局"]),
    # wrong level
    ("市财政局", "市中区", "wrong_level", "市财政局", ["区财政局"]),
    ("市市场监督管理局", "章丘区", "wrong_level", "市市场监管局", ["区市场监督管理局"]),
    ("区财政局", "济南市", "wrong_level", "区财政局", ["市财政局"]),
    ("市口岸物流办", "市中区", "ok", "市口岸物流办", []),  # a city unit with no district counterpart
    # collectives
    ("各镇（街道）", "章丘区", "collective", "各镇（街道）", []),
    ("区有关部门、单位", "章丘区", "collective", "区有关部门、单位", []),
    ("区直各相关部门", "市中区", "collective", "区有关部门、单位", []),
    ("各有关单位", "济南市", "collective", None, []),
    # nothing like it
    ("区宇宙开发局", "市中区", "unknown", None, []),
])
def test_name_classification(directory, name, region, status, canonical, suggestions):
    got = check_name(name, region, directory)
    assert (got.status, got.canonical, got.suggestions) == (status, canonical, suggestions), got.message
    if status != "ok":
        assert got.message  # every finding says why, in Chinese


def test_full_width_half_width_and_spaces_are_the_same_name(directory):
    assert check_name("国家金融监督管理总局章丘监管支局(筹备组)", "章丘区", directory).status == "ok"
    assert check_name(" 区 财政局 ", "市中区", directory).status == "ok"


def test_run_together_broken_and_badly_separated_cells(directory):
    cell = check_cell("区人力资源社会保障局区卫生健康局", "市中区", directory)
    assert cell.status == "split" and [n.canonical for n in cell.names] == ["区人力资源社会保障局", "区卫生健康局"]
    assert cell.fixed == "区人力资源社会保障局、区卫生健康局"
    cell = check_cell("区财政局区商务局", "市中区", directory)  # split by the directory, not by the heuristic
    assert cell.split and cell.fixed == "区财政局、区商务局"
    cell = check_cell("区工业和信\n息化局\n区科技局", "市中区", directory)
    assert cell.broken == ["区工业和信息化局"] and cell.fixed == "区工业和信息化局\n区科技局"
    cell = check_cell("区发展和改\n革局", "章丘区", directory)  # the line-end rule misses it; the directory does not
    assert cell.fixed == "区发展和改革局" and cell.status == "ok"
    cell = check_cell("区财政局，区商务局； 区民政局", "市中区", directory)
    assert cell.separators and cell.fixed == "区财政局、区商务局、区民政局"
    cell = check_cell("区市场监管局、区财攻局", "章丘区", directory)
    assert cell.fixed == "区市场监督管理局、区财攻局"  # the alias is fixed, the typo left for the clerk
    assert check_name("市财政局、市商务局", "济南市", directory).to_dict()["parts"][1] == {
        "input": "市商务局", "status": "ok", "canonical": "市商务局", "suggestions": []}


def _directory_file(tmp_path, units):
    return write_directory(Directory(units, {"济南市": Region("济南市", "市")}), tmp_path / "units.xlsx")


def test_loading_a_directory_checks_duplicates_alias_conflicts_and_counterparts(tmp_path):
    path = _directory_file(tmp_path, [
        Unit("济南市", "市财政局", ["市财政"]),
        Unit("济南市", "市财政局"),
        Unit("济南市", "市商务局", ["市财政"]),
        Unit("历下区", "区财政局", counterparts=["市财务局"]),
    ])
    problems = load_directory(path).problems
    assert sorted((p.type, p.cell) for p in problems) == [
        ("directory-alias-conflict", "C4"), ("directory-bad-counterpart", "E5"), ("directory-duplicate", "B3")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_checking_arbitrary_text_never_raises(text):
    directory = load_directory()
    check_cell(text, "市中区", directory)
    check_name(text, "济南市", directory)


def test_the_region_sheet_lists_every_district_and_functional_area_of_jinan(directory):
    children = directory.children("济南市")
    assert children[:3] == ["历下区", "市中区", "槐荫区"] and len(children) == 15
    assert {"天桥区", "历城区", "长清区", "济阳区", "莱芜区", "钢城区", "平阴县", "商河县"} < set(children)
    assert [directory.level(r) for r in ("高新区", "起步区", "南部山区")] == ["功能区"] * 3
    assert directory.regions["高新区"].notes == "济南高新技术产业开发区"
    # only 市中区 and 章丘区 list units: the others are checked with learned spellings, not name by name
    assert [r for r in children if directory.has_region(r)] == ["市中区", "章丘区"]
    assert directory.siblings("章丘区") == ["市中区"]


@pytest.mark.parametrize("region", ["高新区", "历城区"])
def test_a_functional_area_sees_its_city_units_as_a_district_does(directory, region):
    got = check_name("市口岸物流办", region, directory)
    assert (got.status, got.canonical) == ("ok", "市口岸物流办")
    assert check_name("市财政局", region, directory).status == "ok"  # no unit of its own to suggest


def test_spaces_in_a_checked_cell_separate_names_and_a_listed_name_split_by_them_is_mended(directory):
    cell = check_cell("区财政局　区商务局 区民政局", "市中区", directory)
    assert cell.separators and cell.status == "ok" and cell.fixed == "区财政局、区商务局、区民政局"
    # the space rule splits here (a 支队, then a name with a prefix), but the directory knows the whole
    cell = check_cell("市公安局交通警察支队 市中区大队、区财政局", "市中区", directory)
    assert [(n.status, n.canonical) for n in cell.names] == [("alias", "市中交警大队"), ("ok", "区财政局")]
    assert cell.fixed == "市中交警大队、区财政局"
    cell = check_cell("区财政局 公安天桥分局", "市中区", directory)
    assert [n.input for n in cell.names] == ["区财政局", "公安天桥分局"] and cell.names[1].status == "unknown"


def test_a_region_is_known_by_its_aliases_and_after_its_citys_name(directory):
    """The 地区 sheet's 别名 column: a 功能区 is written under its full name in its own ledgers."""
    assert directory.regions["起步区"].aliases == ["济南新旧动能转换起步区", "新旧动能转换起步区"]
    resolved = {name: directory.resolve_region(name) for name in (
        "济南高新区", "济南市高新区", "济南高新技术产业开发区", "济南章丘区", "章丘区", "南部山区管委会", "济南", "长安区", "")}
    assert resolved == {"济南高新区": "高新区", "济南市高新区": "高新区", "济南高新技术产业开发区": "高新区",
                        "济南章丘区": "章丘区", "章丘区": "章丘区", "南部山区管委会": "南部山区", "济南": None,
                        "长安区": None, "": None}
    assert directory.find_region("济南新旧动能转换起步区推动大规模") == "起步区"  # the longest name in the text
    assert directory.find_region("推动大规模设备更新") is None


def test_region_aliases_load_from_the_fifth_column_and_a_directory_without_it_still_loads(tmp_path):
    import openpyxl

    path = write_directory(Directory([Unit("济南市", "市财政局")], {
        "济南市": Region("济南市", "市"),
        "高新区": Region("高新区", "功能区", "济南市", "", ["济南高新区"]),
        "起步区": Region("起步区", "功能区", "济南市", "", ["济南高新区", "新旧动能转换起步区"])}),
        tmp_path / "units.xlsx")
    loaded = load_directory(path)
    assert [(p.type, p.sheet, p.cell, p.value) for p in loaded.problems] == [
        ("directory-alias-conflict", "地区", "E4", "济南高新区")]  # a title 济南高新区 could be either
    assert loaded.resolve_region("新旧动能转换起步区") == "起步区"

    wb = openpyxl.load_workbook(path)  # as made before the 别名 column: four columns
    wb["地区"].delete_cols(5)
    wb.save(path)
    old = load_directory(path)
    assert not old.problems and old.regions["高新区"].aliases == [] and old.resolve_region("济南高新区") == "高新区"


def test_the_directory_prints_one_page_wide_with_its_header_on_every_page():
    from openpyxl import load_workbook

    from xltools.printing import sheet_scale
    from xltools.units.directory import REPO_DIRECTORY

    wb = load_workbook(REPO_DIRECTORY)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
        assert sheet_scale(ws) >= 0.85  # 11 pt names print at 9.4 pt or more
        assert all(ws.row_dimensions[r].height for r in range(2, ws.max_row + 1))  # wrapped rows fitted
    assert wb["地区"]["E15"].value == "济南高新技术产业开发区、高新技术产业开发区" and wb["地区"]["E15"].data_type == "s"
