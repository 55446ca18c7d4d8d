"""Unit names without a directory for the region: short and long forms learned within and across districts,
and ``units learn``, the directory proposal clerks confirm (issue 9)."""

import csv
import json

import pytest
from click.testing import CliRunner
from conftest import CITY, SHIZHONG, ZHANGQIU
from openpyxl import load_workbook

from xltools import extract, validate
from xltools.cli import cli
from xltools.rollup import ConsolidateOptions, consolidate
from xltools.units import Directory, learn_directory, load_directory
from xltools.units.learn import abbreviates, learn_across, learn_spellings

# A district the directory does not list, writing its departments as a real office does: mostly in full,
# sometimes short, once misspelt, two names space-separated in one cell.
LICHENG_UNITS = [
    ("区住房城乡建设局", "区财政局"), ("区住房城乡建设局", ""), ("区住房城乡建设局", "区民政局"),
    ("区住房城乡建设局", "区公安分局"), ("区住建局", "区财政局 区商务局"), ("区住建局", "各街道"),
    ("区住房城乡建没局", ""), ("区发展改革局", "区城乡水务局"), ("区发展改革局", "区水务局"),
    ("区发展改革局", "区公安局"), ("区发改局", ""), ("区卫生健康局", "区城乡水务局"), ("区卫生健康局", ""),
    ("区卫生健康局", "区财政局"), ("区卫健局", ""), ("区人力资源社会保障局", "区城乡水务局"),
    ("区人力资源社会保障局", ""), ("区人社局", ""), ("区市场监督管理局", ""), ("区市场监督管理局", ""),
    ("区市场监督管理局", ""), ("区市场监管局", ""),
]
SHORT_FORMS = {"区住建局": "区住房城乡建设局", "区发改局": "区发展改革局", "区卫健局": "区卫生健康局",
               "区人社局": "区人力资源社会保障局", "区市场监管局": "区市场监督管理局"}


def write_ledger(path, units, region_word="区"):
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["序号", "重点任务", "工作内容", "牵头单位", "责任单位"])
        for i, (lead, resp) in enumerate(units, 1):
            out.writerow([i, f"任务{i}", f"推进第{i}项工作，全{region_word}完成。", lead, resp])
    return path


@pytest.fixture
def licheng(tmp_path):
    return write_ledger(tmp_path / "历城区_工作台账.csv", LICHENG_UNITS)


@pytest.mark.parametrize("short, long", list(SHORT_FORMS.items()) + [
    ("区城管局", "区城市管理局"), ("区文旅局", "区文化和旅游局"), ("区工信局", "区工业和信息化局")])
def test_abbreviations_are_short_forms(short, long):
    assert abbreviates(short, long) and abbreviates(short, long, variants=False)
    assert not abbreviates(long, short)


@pytest.mark.parametrize("one, other", [
    ("区民政局", "区财政局"), ("区公安局", "区公安分局"), ("区水务局", "区城乡水务局"),
    ("区教育局", "区教育和体育局"),  # the long name with its last word cut off is another unit
    ("区工业信息化局", "区工业信息化和科技局"), ("区科技局", "区工业信息化和科技局"),
])
def test_different_units_are_kept_apart(one, other):
    assert not abbreviates(one, other) and not abbreviates(other, one)
    assert learn_spellings([one] * 3 + [other] * 3) == {}


def test_a_name_that_only_drops_he_is_a_variant_within_a_district_not_across():
    assert abbreviates("区发展改革局", "区发展和改革局") and not abbreviates("区发展改革局", "区发展和改革局", variants=False)
    assert learn_across([["区发展改革局"] * 5, ["区发展和改革局"] * 5]) == {}
    within = learn_spellings(["区发展改革局"] * 5 + ["区发展和改革局"])
    assert within["区发展和改革局"].canonical == "区发展改革局"


def test_within_a_district_short_forms_and_misspellings_are_flagged_with_the_long_form(licheng):
    ledger = extract(licheng)
    learned = learn_spellings(ledger.unit_names())
    assert {k: c.canonical for k, c in learned.items() if c.status == "alias"} == SHORT_FORMS
    assert learned["区住房城乡建没局"].status == "typo"
    assert learned["区住房城乡建没局"].suggestions == ["区住房城乡建设局"]


def test_validate_without_a_directory_reports_short_forms_and_spaces_split(licheng):
    result = validate(licheng, region="历城区")
    assert result.learned
    forms = {(p.value, p.suggestion) for p in result.report if p.type == "unit-inconsistent-form"}
    assert forms == set(SHORT_FORMS.items())
    assert [p.value for p in result.report if p.type == "unit-rare-spelling"] == ["区住房城乡建没局"]
    assert not [p for p in result.report if p.type == "unit-unknown"]
    spaced = next(r for r in result.ledger.rows if r.raw["resp"] == "区财政局 区商务局")
    assert spaced.responsible_units == ["区财政局", "区商务局"]


def test_across_districts_a_short_form_gets_the_long_form_most_districts_write(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_ledger(inbox / "历城区_工作台账.csv", [("区住建局", "区发展改革局"), ("区卫健局", "区财政局")] * 3)
    write_ledger(inbox / "天桥区_工作台账.csv", [("区住房城乡建设局", "区发展和改革局"), ("区卫生健康局", "")] * 3)
    write_ledger(inbox / "槐荫区_工作台账.csv", [("区住房城乡建设局", "区发展和改革局"), ("区卫生健康局", "")] * 2
                 + [("区住房和城乡建设局", "")])
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(use_archive=False, workers=1))
    forms = sorted({(p.file, p.value, p.suggestion) for p in rollup.problems if p.type == "unit-inconsistent-form"})
    assert forms == [("历城区_工作台账.csv", "区住建局", "区住房城乡建设局"),  # two districts write it so
                     ("历城区_工作台账.csv", "区卫健局", "区卫生健康局"),
                     ("槐荫区_工作台账.csv", "区住房和城乡建设局", "区住房城乡建设局")]  # within 槐荫区 only
    flagged = [p for p in rollup.problems if p.value == "区住建局"]
    assert flagged[0].line == 2 and flagged[0].severity == "warning"  # the CSV line of the first row
    # 区发展改革局 / 区发展和改革局: each district's own official wording, not flagged across districts
    assert not [p for p in rollup.problems if p.value and "发展" in p.value]
    assert "历下区" in rollup.missing_regions and "高新区" in rollup.missing_regions


def test_learning_across_many_districts_groups_before_comparing():
    # 3,000 districts × 60 names, most of them each district's own: compared within (head, kind) groups only
    names = [[f"区{chr(0x4e00 + i % 500)}{chr(0x4f00 + i // 500)}{k}局" for k in range(55)]
             + ["区住房城乡建设局"] * 4 + ["区住建局" if i % 10 == 0 else "区卫生健康局"] for i in range(3000)]
    learned = learn_across(names)
    assert learned["区住建局"].canonical == "区住房城乡建设局"
    assert "区卫生健康局" not in learned


def _city_only():
    full = load_directory()
    return Directory([u for u in full.units if u.region == "济南市"], full.regions)


def test_learn_directory_on_the_zhangqiu_seed_proposes_only_names_it_uses(tmp_path):
    out = tmp_path / "提议名录.xlsx"
    proposal = learn_directory([ZHANGQIU], "章丘区", out=out, units=_city_only())
    written = {n for r in extract(ZHANGQIU).rows for n in r.lead_units + r.responsible_units} | {
        n for g in extract(ZHANGQIU).goals for n in g.lead_units}
    rows = [[c.value for c in r] for r in load_workbook(out)["单位名录"].iter_rows()]
    assert rows[0] == ["地区", "规范名称", "别名", "类型", "市级对应单位", "备注"]
    listed = {r[1]: r for r in rows[1:]}
    aliases = {a for r in rows[1:] if r[2] for a in r[2].split("、")}
    assert set(listed) | aliases == written  # every spelling, and nothing invented
    assert all(r[0] == "章丘区" and r[5].startswith("待核实：共出现") for r in rows[1:])
    assert listed["区市场监督管理局"][2] == "区市场监管局"  # the short form is an alias of the majority long form
    assert listed["区市场监督管理局"][4] == "市市场监管局"
    assert listed["区卫生健康局"][4] == "市卫生健康委" and listed["区公安分局"][3:5] == ["派出机构", "市公安局"]
    assert listed["区税务局"][3] == "垂直管理" and listed["区有关部门、单位"][3] == "集体"
    assert "002_af702fcffa170051.txt 10次" in listed["区财政局"][5]
    assert proposal.known == [] and len(proposal.units) == len(rows) - 1
    regions = [[c.value for c in r] for r in load_workbook(out)["地区"].iter_rows()]
    assert regions[1][:3] == ["章丘区", "区县", "济南市"]


def test_units_learn_cli_on_a_generated_ledger(tmp_path, licheng):
    out = tmp_path / "历城区_提议名录.xlsx"
    result = CliRunner().invoke(cli, ["units", "learn", str(licheng), str(SHIZHONG), "--region", "历城区", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "已跳过 000_6f872f8f8959f392.txt（是市中区的台账）" in result.output
    rows = {r[1].value: [c.value for c in r] for r in load_workbook(out)["单位名录"].iter_rows(min_row=2)}
    housing = rows["区住房城乡建设局"]
    assert housing[2:5] == ["区住建局、区住房城乡建没局", "部门", "市住房城乡建设局"]
    assert "“区住房城乡建没局”1次（疑似错字）" in housing[5]
    assert rows["区人力资源社会保障局"][2] == "区人社局" and rows["各街道"][3] == "集体"
    for apart in ("区民政局", "区财政局", "区公安分局", "区公安局", "区城乡水务局", "区水务局", "区商务局"):
        assert apart in rows and not rows[apart][2], apart
    again = load_directory(out)  # what the clerk pastes is a directory the loader accepts
    assert again.problems == [] and again.has_region("历城区")
    data = json.loads(CliRunner().invoke(cli, ["units", "learn", str(licheng), "--region", "历城区", "-o",
                                              str(tmp_path / "again.xlsx"), "--json"]).output)
    assert {u["name"] for u in data["units"]} == set(rows)
    wrong = CliRunner().invoke(cli, ["units", "learn", str(SHIZHONG), "--region", "历城区", "-o", str(out)])
    assert wrong.exit_code == 2 and "没有历城区的台账" in wrong.output
