"""Targets in ledger text (xltools.target_text): the three seed documents read by hand, the traps, the
malformed forms, each construction with a real sentence, and property tests.

Sentences marked "constructed" are not in the seeds; all others are quoted from them.
"""

import json
import math

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xltools import extract
from xltools.model import Goal, Ledger, Origin, TaskRow
from xltools.target_text import (
    COMPARATORS,
    CONTRACT_KEYS,
    PROBLEM_TITLES,
    UNITS,
    Target,
    check_ledger_targets,
    format_target,
    format_targets,
    ledger_targets,
    parse_targets,
)

# ---------------------------------------------------------------------------------------------------
# Expected targets, written by reading the documents: where (goal N = Nth 工作目标 row, row N = 序号 N),
# year, metric, comparator, value (base magnitude), unit, then per_year / cumulative / growth base year.


def T(where, year, metric, comparator, value, unit, *, per_year=False, cumulative=False, growth_from=None,
      growth=False):
    kind = "growth" if growth or growth_from else "level"
    return (where, {"year": year, "per_year": per_year, "cumulative": cumulative, "kind": kind,
                    "base_year": growth_from, "metric": metric, "comparator": comparator, "value": value,
                    "unit": unit, "qualitative": False})


def Q(where, year, metric, comparator="="):
    return (where, {"year": year, "per_year": False, "cumulative": False, "kind": "level", "base_year": None,
                    "metric": metric, "comparator": comparator, "value": None, "unit": None, "qualitative": True})


RATE_DIGITAL = "规模以上工业企业数字化研发设计工具普及率"
RATE_CNC = "关键工序数控化率"
REVENUE = "装备制造业营业收入"
SEWAGE = "城市生活污水处理厂（站）完成准IV类提标改造"
FACTORIES = "工业互联网标杆工厂、5G工厂、晨星工厂"

CITY_TARGETS = [  # 003 济南市 city ledger
    Q("goal 1", 2025, "工业重点领域达到能效标杆水平的产能比例", ">"),  # 高于全省平均水平
    T("goal 2", 2025, RATE_DIGITAL, ">", 90, "%"),
    T("goal 2", 2025, RATE_CNC, ">", 70, "%"),
    T("goal 2", 2025, REVENUE, "~", 500_000_000_000, "元"),
    T("goal 3", 2025, "新能源汽车保有量", ">=", 300_000, "辆"),
    Q("goal 4", 2025, "国三及以下非营运柴油货车"),
    T("goal 5", 2025, "报废汽车规范回收拆解量", ">=", 25_000, "辆"),
    T("goal 5", 2025, "二手车交易量", ">=", 300_000, "辆"),
    T("goal 5", 2025, "废旧家电回收量", "=", 15, "%", growth_from=2023),
    Q("goal 6", 2027, "工业重点领域低于能效基准水平"),  # 全部完成更新改造
    T("goal 6", 2027, RATE_DIGITAL, ">", 92, "%"),
    T("goal 6", 2027, RATE_CNC, ">", 75, "%"),
    T("goal 6", 2027, REVENUE, "~", 600_000_000_000, "元"),
    T("goal 7", 2027, "新能源汽车保有量", ">=", 400_000, "辆"),
    T("goal 8", 2027, "报废汽车回收量", "~", 100, "%", growth_from=2023),  # 增加约一倍
    T("goal 8", 2027, "二手车交易量", "=", 45, "%", growth_from=2023),
    T("goal 8", 2027, "废旧家电回收量", "=", 30, "%", growth_from=2023),
    T("row 1", None, "亿元以上重点技术改造项目", ">=", 300, "个", per_year=True),
    T("row 2", None, FACTORIES, ">=", 30, "家", per_year=True),
    T("row 2", 2025, "规模以上工业企业关键业务环节全面数字化率", ">=", 70, "%"),
    T("row 2", 2025, "工业互联网园区", "=", 10, "家", cumulative=True),
    T("row 3", 2025, "市级以上绿色工厂", "=", 350, "家", cumulative=True),
    T("row 3", 2025, "绿色工业园区", "=", 30, "个", cumulative=True),
    Q("row 4", 2025, "30万千瓦以下抽凝机组和达到退役条件的背压机组"),  # 基本替代退出
    T("row 6", 2027, "主要农业区县（功能区）农机报废更新实施覆盖率", ">=", 100, "%"),
    T("row 7", 2025, "农作物耕种收综合机械化率", ">=", 92, "%"),
    Q("row 9", 2025, "国三及以下排放标准非营运柴油货车"),
    T("row 10", 2025, "充换电站", "=", 1000, "座"),
    T("row 10", 2025, "充换电基础设施保有量", ">", 100_000, "个"),
    T("row 15", 2025, "城镇公共供水管网漏损率", "<=", 7.8, "%"),
    T("row 16", 2025, SEWAGE, "=", 60, "%", cumulative=True),
    T("row 16", 2027, SEWAGE, "=", 70, "%", cumulative=True),
    T("row 17", 2025, "生活垃圾处理厂", "=", 1, "座"),
    T("row 25", 2025, "特色专科卫生院", "=", 20, "家"),
    T("row 25", 2025, "村卫生室", ">=", 2000, "所"),
    T("row 26", 2025, "智慧化预防接种门诊占比", ">=", 100, "%"),
    T("row 30", None, "新能源汽车促销活动", ">=", 10, "场", per_year=True),
    T("row 30", None, "下乡展销", ">=", 5, "场", per_year=True),
    T("row 37", 2027, "济南市优势工业产品", "=", 500, "个"),
    T("row 40", 2025, "省级及以上产业创新平台", ">=", 1000, "家"),
    T("row 41", None, "优秀品牌", "~", 40, "项", per_year=True),
    T("row 41", 2025, "“好品山东”品牌（制造业）", ">=", 50, "个", cumulative=True),
    T("row 42", 2027, "绿色数智化分拣中心", "=", 12, "个"),
    T("row 42", 2027, "现代化回收网点", "=", 120, "个"),
]

SHIZHONG_TARGETS = [  # 000 市中区: the ledger attached to the plan
    Q("goal 1", 2025, "工业重点领域达到能效标杆水平的产能比例", ">"),  # 高于全市平均水平
    T("goal 2", 2025, RATE_DIGITAL, ">", 90, "%"),
    T("goal 2", 2025, RATE_CNC, ">", 70, "%"),
    T("goal 2", 2025, REVENUE, "~", 10_000_000_000, "元"),
    Q("goal 3", 2025, "国三及以下非营运柴油货车"),
    T("goal 4", 2025, "二手车交易量", ">=", 40_000, "辆"),
    T("goal 4", 2025, "废旧家电回收量", "=", 15, "%", growth_from=2023),
    Q("goal 5", 2027, "工业重点领域低于能效基准水平"),
    T("goal 5", 2027, RATE_DIGITAL, ">", 92, "%"),
    T("goal 5", 2027, RATE_CNC, ">", 75, "%"),
    T("goal 5", 2027, REVENUE, "~", 13_000_000_000, "元"),
    T("goal 6", 2027, "二手车交易量", "=", 45, "%", growth_from=2023),
    T("goal 6", 2027, "废旧家电回收量", "=", 30, "%", growth_from=2023),
    T("row 1", None, "重点技术改造项目", ">=", 20, "个", per_year=True),
    T("row 2", None, FACTORIES, ">=", 2, "家", per_year=True),
    T("row 2", 2025, "规模以上工业企业关键业务环节全面数字化率", ">=", 70, "%"),
    T("row 3", 2025, "市级以上绿色工厂", "=", 7, "家", cumulative=True),
    Q("row 4", 2026, "济南热电集团南郊热电和金鸡岭热电的燃气、燃煤机组"),  # 关停退出
    T("row 5", 2024, "各类农机具补贴", ">=", 30, "台"),
    T("row 5", 2027, "农机报废更新实施覆盖率", ">=", 100, "%"),
    T("row 7", None, "新能源环卫作业车辆比例", ">=", 80, "%"),
    Q("row 8", 2025, "国三及以下排放标准非营运柴油货车"),
    T("row 9", 2025, "充换电站", "=", 90, "座"),
    T("row 9", 2025, "新能源汽车充电桩保有量", ">", 13_000, "个"),
    T("row 19", 2025, "智慧化预防接种门诊占比", ">=", 100, "%"),
    T("row 19", 2026, "村卫生室", ">=", 50, "所"),
    T("row 21", None, "新能源汽车下乡展销", ">=", 1, "场", per_year=True),
]

ZHANGQIU_TARGETS = [  # 002 章丘区 plan: one goal paragraph, tasks in prose
    Q("goal 1", 2025, "工业重点领域达到能效标杆水平的产能比例", ">"),
    T("goal 1", 2025, "新能源汽车保有量", "~", 15_000, "辆"),
    Q("goal 1", 2025, "国三及以下非营运柴油货车"),
    T("goal 1", 2025, "二手车交易量", ">=", 28_000, None),  # 2.8万: no unit, reported
    T("goal 1", 2025, "二手车交易量", "=", 20, "%", growth_from=2023),
    T("row 1", None, "亿元以上重点技术改造项目", ">=", 30, "个", per_year=True),
    T("row 2", None, FACTORIES, ">=", 5, "家", per_year=True),
    T("row 2", 2025, "规模以上工业企业关键业务环节全面数字化率", ">=", 70, "%"),
    T("row 2", 2025, "工业互联网园区", "=", 1, "家"),
    T("row 3", 2025, "市级以上绿色工厂", "=", 80, "家", cumulative=True),
    T("row 3", 2025, "绿色工业园区", "=", 7, "个", cumulative=True),
    Q("row 4", 2025, "30万千瓦以下抽凝机组和达到退役条件的背压机组"),
    T("row 6", 2027, "农机报废更新实施覆盖率", ">=", 100, "%"),
    T("row 7", 2025, "农作物耕种收综合机械化率", ">=", 97.6, "%"),
    Q("row 9", 2025, "国三及以下排放标准非营运类柴油货车"),
    T("row 10", 2025, "充换电站", "=", 120, "座"),
    T("row 10", 2025, "充换电基础设施保有量", ">=", 5000, "个"),
    T("row 15", 2025, "试点区域城镇供水管网漏损率", "<=", 8.5, "%"),  # written 8.5％
    T("row 16", 2025, "城市生活污水处理厂（站）完成准Ⅳ类提标改造", "=", 60, "%", cumulative=True),
    T("row 16", 2027, "城市生活污水处理厂（站）完成准Ⅳ类提标改造", "=", 70, "%", cumulative=True),
    T("row 25", 2025, "特色专科卫生院", "=", 4, "家"),
    T("row 25", 2025, "村卫生室", ">=", 200, "所"),
    T("row 26", 2025, "智慧化预防接种门诊占比", ">=", 100, "%"),
    T("row 30", None, "新能源汽车促销活动", ">=", 2, "场", per_year=True),
    T("row 30", None, "下乡展销", ">=", 1, "场", per_year=True),
    T("row 36", 2025, REVENUE, "~", 40_000_000_000, None),  # 400亿级左右: ambiguous, reported
    T("row 40", 2025, "省级及以上产业创新平台", ">=", 30, "家"),
    T("row 41", 2025, "“山东制造”品牌（制造业）", ">=", 55, "个", cumulative=True),
]

SEEDS = [(CITY, CITY_TARGETS), (SHIZHONG, SHIZHONG_TARGETS), (ZHANGQIU, ZHANGQIU_TARGETS)]
SEED_IDS = ["city-003", "shizhong-000", "zhangqiu-002"]


def parsed(ledger) -> list[tuple[str, dict]]:
    """Every target of a ledger as (where, contract fields without text)."""
    out = []
    goal_no = {id(g): i for i, g in enumerate(ledger.goals, 1)}
    for item, result in ledger_targets(ledger):
        where = f"goal {goal_no[id(item)]}" if isinstance(item, Goal) else f"row {item.seq}"
        out.extend((where, {k: v for k, v in t.to_dict().items() if k != "text"}) for t in result.targets)
    return out


@pytest.mark.parametrize("seed, want", SEEDS, ids=SEED_IDS)
def test_every_target_in_the_seed_documents(seed, want):
    assert parsed(extract(seed)) == want


def test_seed_target_counts():
    numeric = [sum(not t["qualitative"] for _, t in want) for _, want in SEEDS]
    qualitative = [sum(t["qualitative"] for _, t in want) for _, want in SEEDS]
    assert numeric == [39, 22, 24] and qualitative == [5, 5, 4]


def test_seed_ledger_problems():
    assert check_ledger_targets(extract(CITY)) == []
    assert check_ledger_targets(extract(SHIZHONG)) == []
    problems = check_ledger_targets(extract(ZHANGQIU))
    assert [[p.line, p.type, p.value] for p in problems] == [
        [31, "target-unit-missing", "2.8万"],
        [84, "target-magnitude-ambiguous", "400亿级"],
    ]
    assert all(p.file == "002_af702fcffa170051.txt" and p.message and p.suggestion for p in problems)


# ---------------------------------------------------------------------------------------------------
# The examples and each construction, with real sentences.


def one(text, **kwargs) -> dict:
    result = parse_targets(text, **kwargs)
    assert len(result.targets) == 1, result.targets
    return result.targets[0].to_dict()


def fields(target: Target, *keys) -> tuple:
    return tuple(getattr(target, k) for k in keys)


KEYS = ("year", "metric", "comparator", "value", "unit")


def test_two_targets_in_one_sentence_and_construction_words_are_not_comparators():
    result = parse_targets("到2025年，全区建成充换电站90座，新能源汽车充电桩保有量超过1.3万个")
    assert [fields(t, *KEYS) for t in result.targets] == [
        (2025, "充换电站", "=", 90, "座"), (2025, "新能源汽车充电桩保有量", ">", 13000, "个")]
    assert result.targets[0].text == "全区建成充换电站90座"
    assert result.problems == []


def test_per_year_and_a_condition_inside_the_metric():
    t = one("每年实施亿元以上重点技术改造项目30个以上。")
    assert (t["per_year"], t["metric"], t["comparator"], t["value"], t["unit"]) == (
        True, "亿元以上重点技术改造项目", ">=", 30, "个")


def test_growth_against_a_base_year():
    t = one("二手车交易量较2023年增长45%", default_year=2027)
    assert (t["kind"], t["base_year"], t["metric"], t["value"], t["unit"], t["year"]) == (
        "growth", 2023, "二手车交易量", 45, "%", 2027)
    t = one("报废汽车回收量较2023年增加约一倍")
    assert (t["kind"], t["base_year"], t["comparator"], t["value"], t["unit"]) == ("growth", 2023, "~", 100, "%")


def test_growth_inherits_the_metric_of_the_clause_before():
    result = parse_targets("二手车交易量达到2.8万，较2023年增长20%。")
    assert [(t.metric, t.kind, t.value) for t in result.targets] == [
        ("二手车交易量", "level", 28000), ("二手车交易量", "growth", 20)]


def test_respectively_pairs_metrics_with_values():
    result = parse_targets("规模以上工业企业数字化研发设计工具普及率、关键工序数控化率分别超过92%、75%，"
                           "装备制造业营业收入达到6000亿元左右。", default_year=2027)
    assert [fields(t, *KEYS) for t in result.targets] == [
        (2027, RATE_DIGITAL, ">", 92, "%"), (2027, RATE_CNC, ">", 75, "%"),
        (2027, REVENUE, "~", 600_000_000_000, "元")]


def test_respectively_with_a_shared_unit_and_suffix():  # constructed
    result = parse_targets("绿色工厂、绿色园区分别达到300、200个以上")
    assert [fields(t, "metric", "comparator", "value", "unit") for t in result.targets] == [
        ("绿色工厂", ">=", 300, "个"), ("绿色园区", ">=", 200, "个")]


def test_year_carries_to_following_clauses_until_the_next_year():
    result = parse_targets("到2025年，累计60%的城市生活污水处理厂（站）完成准IV类提标改造；"
                           "到2027年，累计70%的城市生活污水处理厂（站）完成准IV类提标改造。")
    assert [(t.year, t.cumulative, t.metric, t.value) for t in result.targets] == [
        (2025, True, SEWAGE, 60), (2027, True, SEWAGE, 70)]
    result = parse_targets("到2025年，建成特色专科卫生院20家；全面推进村卫生室“七有四提升”，改造提升村卫生室2000所以上。")
    assert [(t.year, t.value, t.unit) for t in result.targets] == [(2025, 20, "家"), (2025, 2000, "所")]


def test_year_does_not_cross_a_full_stop():
    result = parse_targets("到2025年，智慧化预防接种门诊占比达到100%。实施村卫生室改造提升行动，改造提升村卫生室50所以上。")
    assert [t.year for t in result.targets] == [2025, None]


@pytest.mark.parametrize("text, year", [
    ("到2026年，改造提升村卫生室50所以上", 2026),
    ("到2026年底，改造提升村卫生室50所以上", 2026),  # constructed
    ("2027年力争改造提升村卫生室50所以上", 2027),  # constructed
    ("力争到2027年底前改造提升村卫生室50所以上", 2027),  # constructed
    ("2024年，完成各类农机具补贴30台以上", 2024),
])
def test_year_forms(text, year):
    t = one(text)
    assert (t["year"], t["metric"]) == (year, t["metric"]) and t["value"] in (50, 30)


def test_per_year_carries_through_the_sentence():
    result = parse_targets("每年举办新能源汽车促销活动10场以上，其中下乡展销不少于5场。")
    assert [(t.per_year, t.metric, t.comparator, t.value, t.unit) for t in result.targets] == [
        (True, "新能源汽车促销活动", ">=", 10, "场"), (True, "下乡展销", ">=", 5, "场")]


def test_cumulative_marks_its_clause_only():
    result = parse_targets("到2025年，累计建成市级以上绿色工厂350家、绿色工业园区30个。")
    assert [(t.cumulative, t.metric, t.value, t.unit) for t in result.targets] == [
        (True, "市级以上绿色工厂", 350, "家"), (True, "绿色工业园区", 30, "个")]
    result = parse_targets("每年培育工业互联网标杆工厂、5G工厂、晨星工厂30家以上，力争突破灯塔工厂。到2025年，"
                           "规模以上工业企业关键业务环节全面数字化率达到70%以上，力争累计培育10家工业互联网园区。")
    assert [(t.per_year, t.cumulative, t.metric) for t in result.targets] == [
        (True, False, FACTORIES), (False, False, "规模以上工业企业关键业务环节全面数字化率"),
        (False, True, "工业互联网园区")]


@pytest.mark.parametrize("text, comparator, value, unit", [
    ("省级及以上产业创新平台达到1000家以上", ">=", 1000, "家"),  # 以上
    ("其中下乡展销不少于5场", ">=", 5, "场"),  # 不少于
    ("每年举办新能源汽车下乡展销不少于1场", ">=", 1, "场"),
    ("充换电基础设施保有量超过10万个", ">", 100_000, "个"),  # 超过
    ("二手车交易量达到30万辆", ">=", 300_000, "辆"),  # 达到: reach
    ("城镇公共供水管网漏损率降至7.8%以内", "<=", 7.8, "%"),  # 降至…以内
    ("装备制造业营业收入达到130亿元左右", "~", 13_000_000_000, "元"),  # 达到…左右
    ("每年遴选40项左右优秀品牌进行集中宣传", "~", 40, "项"),  # 左右
    ("新建生活垃圾处理厂1座", "=", 1, "座"),  # none
    ("建成充电站至少5座", ">=", 5, "座"),  # constructed: 至少
    ("单位产值能耗不超过0.5吨标准煤", "<=", 0.5, "吨标准煤"),  # constructed: 不超过
    ("建成充电站约5座", "~", 5, "座"),  # constructed: 约
    ("建成充电站1000余座", ">", 1000, "座"),  # constructed: 余
    ("控制在5%以内", "<=", 5, "%"),  # constructed
    ("低于5%", "<", 5, "%"),  # constructed
])
def test_comparators(text, comparator, value, unit):
    t = one(text)
    assert (t["comparator"], t["value"], t["unit"]) == (comparator, value, unit)


@pytest.mark.parametrize("text, value, unit", [
    ("新能源汽车充电桩保有量超过1.3万个", 13_000, "个"),
    ("装备制造业营业收入达到130亿元左右", 13_000_000_000, "元"),
    ("报废汽车规范回收拆解量达到2.5万辆", 25_000, "辆"),
    ("新增装机30万千瓦", 300_000, "千瓦"),  # constructed: 万 + 千瓦
    ("新增储能5千千瓦", 5_000, "千瓦"),  # constructed: 千 as a magnitude before 千瓦 as a unit
    ("回收家电5千台", 5_000, "台"),  # constructed
    ("投资3千万元", 30_000_000, "元"),  # constructed
    ("改造提升村卫生室2000所以上", 2000, "所"),
    ("建成特色专科卫生院20家", 20, "家"),
    ("建成充换电站1000座", 1000, "座"),
    ("新能源汽车保有量达到40万辆以上", 400_000, "辆"),
    ("更新农机具1200台（套）", 1200, "台（套）"),  # constructed
    ("更新农机具1200台(套)", 1200, "台（套）"),  # constructed: ASCII brackets
    ("更新农机具1200台套", 1200, "台（套）"),  # constructed
    ("农作物耕种收综合机械化率达到97.6%以上", 97.6, "%"),
    ("试点区域城镇供水管网漏损率降至8.5％以内", 8.5, "%"),
    ("每年举办新能源汽车促销活动10场以上", 10, "场"),
    ("每年遴选40项左右优秀品牌", 40, "项"),
    ("建设口袋公园12处", 12, "处"),  # constructed
    ("提高5个百分点", 5, "个百分点"),  # constructed
    ("建成充电站１０座", 10, "座"),  # constructed: full-width digits
])
def test_magnitudes_and_units(text, value, unit):
    t = one(text)
    assert (t["value"], t["unit"]) == (value, unit)
    assert isinstance(t["value"], int) == (value == int(value))


@pytest.mark.parametrize("text, year, metric, phrase", [
    ("国三及以下非营运柴油货车基本淘汰。", 2025, "国三及以下非营运柴油货车", "基本淘汰"),
    ("工业重点领域低于能效基准水平的全部完成更新改造，", 2027, "工业重点领域低于能效基准水平", "全部完成更新改造"),
    ("加快淘汰国三及以下排放标准非营运柴油货车，到2025年，国三及以下排放标准非营运柴油货车基本淘汰。", None,
     "国三及以下排放标准非营运柴油货车", "基本淘汰"),
    ("到2026年，在确保电力、热力稳定接续供应前提下，将济南热电集团南郊热电和金鸡岭热电的燃气、燃煤机组关停退出。", None,
     "济南热电集团南郊热电和金鸡岭热电的燃气、燃煤机组", "关停退出"),
])
def test_qualitative_goals_with_their_year(text, year, metric, phrase):
    t = one(text, default_year=year)
    assert t["qualitative"] and t["value"] is None and t["unit"] is None
    assert t["year"] in (2025, 2026, 2027) and t["metric"] == metric
    assert format_target(Target(**t)).endswith(phrase)


@pytest.mark.parametrize("text, form", [  # constructed: forms clerks write in district workbooks
    ("建成充电站10-20座", "充电站 ≥10座"),  # a range: its lower bound
    ("建成充电站10至20座", "充电站 ≥10座"),
    ("建成充电站1,000座", "充电站 1000座"),  # thousands separator, not a clause break
    ("（1）建成充电站5座", "充电站 5座"),  # enumeration is not part of the metric
    ("一是建成充电站5座；二是建成充电桩10个", "充电站 5座；充电桩 10个"),
    ("到2025年，建成充电站90座（其中超充站10座）", "2025年 充电站 90座；2025年 超充站 10座"),
    ("完成率达到95%", "完成率 ≥95%"),  # a lead word that is part of the noun stays
    ("2025年12月底前完成充电站建设10座", "2025年 充电站建设 10座"),  # a deadline sets the year
    ("到 2025 年，建成充电站 90 座", "2025年 充电站 90座"),  # spaces as in the city ledger's raw text
    ("目标：到2025年，新能源汽车保有量达到30万辆以上", "2025年 新能源汽车保有量 ≥30万辆"),
    ("新能源汽车保有量增加500辆", "新能源汽车保有量 增长500辆"),
    ("单位能耗同比下降15%", "单位能耗 下降15%"),
    ("年均增长8%", "每年 增长8%"),
])
def test_clerk_written_forms(text, form):
    assert format_targets(parse_targets(text).targets) == form


def test_qualitative_words_without_a_year_are_not_goals():
    assert parse_targets("加快推进小煤电机组关停退出").targets == []
    assert parse_targets("国三及以下非营运柴油货车基本淘汰").targets == []


# ---------------------------------------------------------------------------------------------------
# Traps: conditions, names, codes, titles and dates give no target and no problem.


@pytest.mark.parametrize("text", [
    "对30万千瓦及以上煤电机组实施对标行动，积极推进节煤降耗改造、供热改造、灵活性改造“三改联动”。",
    "支持医院将部分四人间及以上病房改造为二人间或三人间，优化病区内部流线布局。",
    "按照《重点用能产品设备能效先进水平、节能水平和准入水平（2024年版）》《建筑节能与可再生能源利用通用规范》"
    "（GB 55015）等要求，更新改造超出使用寿命、能效低、存在安全隐患且无维修价值的热泵机组。",
    "《建筑节能与可再生能源利用通用规范》（GB55015）",
    "形成我市推动大规模设备更新和消费品以旧换新“1+N”政策体系，打好政策“组合拳”。",
    "更新改造超过使用寿命、能效等级不满足工业锅炉节能水平或2级标准、烟气排放不达标的燃煤锅炉。",
    "实现CT、DR、彩超、全自动生化分析仪、血凝仪、眼底检查、颈动脉斑块检查、血氧仪、手持式血糖仪、12导心电图仪等医疗设备“应配尽配”。",
    "深入实施“千项技改、千企转型”工程，优化支持技术改造投资的相关政策。",
    "2024年8月21日",
    "济南市章丘区人民政府 2024年8月21日",
    "济政发〔2024〕9号",
    "更新改造使用年限超过10年以上的老旧电梯。",  # constructed
    "淘汰超过10年以上的老旧设备，",  # constructed
    "11.持续提升建筑用能水平。",
    "2023年以来，新能源汽车消费快速增长。",  # constructed
    "2024—2027年工作台账",  # constructed
])
def test_traps_give_nothing(text):
    result = parse_targets(text)
    assert result.targets == [] and result.problems == []


def test_traps_inside_a_target_sentence():
    t = one("每年培育工业互联网标杆工厂、5G工厂、晨星工厂30家以上，力争突破灯塔工厂。")
    assert (t["metric"], t["value"]) == (FACTORIES, 30)
    t = one("到2025年，在确保电力、热力稳定接续供应的前提下，实现30万千瓦以下抽凝机组和达到退役条件的背压机组基本替代退出。")
    assert t["qualitative"] and t["metric"].startswith("30万千瓦以下")


# ---------------------------------------------------------------------------------------------------
# Malformed forms, each reported with its type.


@pytest.mark.parametrize("text, kwargs, type_, value", [
    ("到2025年，…二手车交易量达到2.8万，较2023年增长20%。", {}, "target-unit-missing", "2.8万"),
    ("到2025年，装备制造业营业收入达到400亿级左右。", {}, "target-magnitude-ambiguous", "400亿级"),
    ("到2025年，更新农机具1200台（套），其中大中型拖拉机428（套）。", {}, "target-unit-malformed", "428（套）"),  # constructed
    ("到2030年，全区建成充换电站90座。", {}, "target-year-out-of-period", "全区建成充换电站90座"),  # constructed
    ("到2027年，全区建成充换电站90座。", {"period": (2024, 2025)}, "target-year-out-of-period", "全区建成充换电站90座"),
    ("到2025年，智慧化预防接种门诊占比达到120%。", {}, "target-share-over-100", "120%"),  # constructed
    ("每年举办新能源汽车下乡展销不超过3场以上。", {}, "target-comparator-conflict", "不超过3场以上"),  # constructed
    ("到2025年，充换电站不少于90座；充换电站不超过80座。", {}, "target-comparator-conflict", "充换电站不超过80座"),
    ("到2025年，充换电站达到90座，充换电站达到100个。", {}, "target-unit-mismatch", "充换电站达到100个"),
    ("达到300。", {}, "target-unit-missing", "300"),  # constructed: a bare number after a comparator
])
def test_malformed_forms_are_reported(text, kwargs, type_, value):
    result = parse_targets(text, **kwargs)
    assert [(p.type, p.value) for p in result.problems] == [(type_, value)]
    assert all(p.message and p.suggestion and p.severity in ("error", "warning") for p in result.problems)
    assert type_ in PROBLEM_TITLES


def test_malformed_unit_suggests_the_unit_used_beside_it():
    problem = parse_targets("更新农机具1200台（套），其中大中型拖拉机428（套）").problems[0]
    assert problem.suggestion.startswith("改为“428台（套）”")
    problem = parse_targets("大中型拖拉机428（套）").problems[0]
    assert "台（套）" in problem.suggestion


def test_a_growth_may_exceed_100_percent():
    assert parse_targets("较2023年增长150%").problems == []


def shizhong_like_ledger() -> Ledger:
    def row(seq, line, content):
        return TaskRow(seq, f"任务{seq}", content, origin=Origin(file="district.txt", line=line))

    return Ledger(
        title="测试区推动大规模设备更新和消费品以旧换新工作台账", region="测试区", source="district.txt",
        goals=[Goal(2025, "新能源汽车保有量达到1.5万辆以上。", origin=Origin(file="district.txt", line=5))],
        rows=[
            row(1, 10, "到2025年，全区建成充换电站90座。"),
            row(2, 11, "到2025年，充换电站保有量达到100个，新能源汽车保有量不超过1万辆。"),
            row(3, 12, "到2030年，建成充电站5座。"),
            row(4, 13, "到2025年，充换电站达到120个。"),
        ])


def test_ledger_wide_checks_are_located():
    problems = check_ledger_targets(shizhong_like_ledger())
    assert sorted([p.line, p.type] for p in problems) == [
        [11, "target-comparator-conflict"],  # ≥1.5万辆 (goal) and ≤1万辆 (row 2)
        [12, "target-year-out-of-period"],
        [13, "target-unit-mismatch"],  # 充换电站: 座 in row 1, 个 in row 4
    ]
    assert all(p.file == "district.txt" for p in problems)
    [conflict] = [p for p in problems if p.type == "target-comparator-conflict"]
    assert "新能源汽车保有量" in conflict.message and conflict.severity == "error"
    wider = check_ledger_targets(shizhong_like_ledger(), period=(2024, 2030))
    assert "target-year-out-of-period" not in {p.type for p in wider}


def test_workbook_rows_and_a_target_column():
    ledger = Ledger(source="book.xlsx", rows=[TaskRow(
        1, "任务", "到2025年，全区建成充换电站90座。", origin=Origin(file="book.xlsx", sheet="台账", row=7),
        extra={"目标": "2025年 充换电站 ≥100个"})])
    [(row, result)] = ledger_targets(ledger)
    assert [format_target(t) for t in result.targets] == ["2025年 充换电站 90座", "2025年 充换电站 ≥100个"]
    [problem] = check_ledger_targets(ledger)
    assert (problem.type, problem.sheet, problem.cell) == ("target-unit-mismatch", "台账", "A7")
    ledger.columns = {"seq": 0, "task": 1, "content": 2}  # when the reader knows the 工作内容 column
    assert check_ledger_targets(ledger)[0].cell == "C7"


# ---------------------------------------------------------------------------------------------------
# The contract and the 目标 column form.


def test_contract_keys_and_json():
    result = parse_targets("到2025年，全区建成充换电站90座，国三及以下非营运柴油货车基本淘汰；二手车交易量达到2.8万。")
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) == {"targets", "problems"}
    assert all(tuple(t) == CONTRACT_KEYS for t in data["targets"])
    assert data["targets"][1]["qualitative"] is True and data["targets"][1]["value"] is None
    assert data["problems"][0]["type"] == "target-unit-missing"


@pytest.mark.parametrize("text, kwargs, form", [
    ("到2025年，全区建成充换电站90座", {}, "2025年 充换电站 90座"),
    ("到2025年，充换电站达到90座以上", {}, "2025年 充换电站 ≥90座"),
    ("每年实施亿元以上重点技术改造项目30个以上", {}, "每年 亿元以上重点技术改造项目 ≥30个"),
    ("二手车交易量较2023年增长45%", {"default_year": 2027}, "2027年 二手车交易量 较2023年增长45%"),
    ("国三及以下非营运柴油货车基本淘汰", {"default_year": 2025}, "2025年 国三及以下非营运柴油货车 基本淘汰"),
    ("新能源汽车充电桩保有量超过1.3万个", {}, "新能源汽车充电桩保有量 >1.3万个"),
    ("装备制造业营业收入达到130亿元左右", {}, "装备制造业营业收入 约130亿元"),
    ("城镇公共供水管网漏损率降至7.8%以内", {}, "城镇公共供水管网漏损率 ≤7.8%"),
    ("到2025年，累计建成市级以上绿色工厂350家", {}, "2025年 累计 市级以上绿色工厂 350家"),
])
def test_format_target(text, kwargs, form):
    assert format_target(parse_targets(text, **kwargs).targets[0]) == form


def test_format_targets_joins_a_row():
    targets = parse_targets("到2025年，全区建成充换电站90座，新能源汽车充电桩保有量超过1.3万个").targets
    assert format_targets(targets) == "2025年 充换电站 90座；2025年 新能源汽车充电桩保有量 >1.3万个"
    assert format_targets([]) == ""
    # a target with no year after one with a year starts a new sentence, so it does not inherit 2025
    targets = parse_targets("到2025年，全区建成充换电站90座。新能源环卫作业车辆比例达到80%。").targets
    assert format_targets(targets) == "2025年 充换电站 90座。新能源环卫作业车辆比例 ≥80%"


def same(t: Target) -> dict:
    return {k: v for k, v in t.to_dict().items() if k != "text"}


@pytest.mark.parametrize("seed", [CITY, SHIZHONG, ZHANGQIU], ids=SEED_IDS)
def test_the_normalized_form_parses_back_to_the_same_targets(seed):
    for _, result in ledger_targets(extract(seed)):
        for target in result.targets:
            back = parse_targets(format_target(target)).targets
            assert [same(t) for t in back] == [same(target)], format_target(target)
        cell = format_targets(result.targets)
        assert [same(t) for t in parse_targets(cell).targets] == [same(t) for t in result.targets]


# ---------------------------------------------------------------------------------------------------
# Properties: any text parses without raising, into well-formed targets.


def well_formed(result) -> None:
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    for t in result.targets:
        assert tuple(t.to_dict()) == CONTRACT_KEYS
        assert t.comparator in COMPARATORS and t.kind in ("level", "growth")
        if t.qualitative:
            assert t.value is None and t.unit is None
        else:
            assert isinstance(t.value, (int, float)) and math.isfinite(t.value)
        assert t.year is None or 1900 <= t.year <= 2099
    for p in data["problems"]:
        assert p["type"] in PROBLEM_TITLES and p["message"]


FRAGMENTS = st.sampled_from([
    "到2025年", "到2026年底", "2027年力争", "2024年", "2030年", "较2023年", "2024年8月21日", "（2024年版）", "《规范》",
    "每年", "累计", "分别", "其中", "全区建成", "新能源汽车保有量", "充换电站", "亿元以上", "重点技术改造项目",
    "达到", "超过", "不少于", "至少", "不超过", "降至", "约", "增长", "增加", "下降", "提高到", "≥", "≤",
    "1", "30", "1.3", "7.8", "97.6", "2.8", "400", "428", "10", "12", "0", "99999999999999999999",
    "万", "亿", "千", "余", "多", "个", "家", "座", "辆", "台（套）", "（套）", "%", "％", "元", "场", "项", "处", "所",
    "千瓦", "级", "以上", "及以上", "以下", "以内", "左右", "一倍", "翻一番", "的", "GB ", "5G", "“1+N”", "四人间",
    "基本淘汰", "全部完成", "高于全省平均水平", "，", "；", "、", "。", "：", "（", "）", "\n", " ",
])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join), st.sampled_from([None, 2025, 2027]))
@example("一倍（", None)  # found by a longer run: a metric of one bracket
def test_target_like_text_never_raises(text, default_year):
    well_formed(parse_targets(text, default_year=default_year))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    well_formed(parse_targets(text))


METRICS = ["充换电站", "新能源汽车保有量", "亿元以上重点技术改造项目", "“好品山东”品牌（制造业）", FACTORIES, SEWAGE,
           "完成率", "30万千瓦以下抽凝机组"]
NUMERIC_UNITS = sorted(set(UNITS.values()))


@st.composite
def targets(draw):
    """Targets the parser can produce: numeric (sometimes without a metric) or qualitative."""
    year = draw(st.sampled_from([None, 2024, 2025, 2026, 2027]))
    if draw(st.integers(0, 4)) == 0:
        metric = draw(st.sampled_from(METRICS))
        phrase = draw(st.sampled_from(["基本淘汰", "全部完成更新改造", "关停退出", "高于全省平均水平"]))
        return Target(text=metric + phrase, year=year or 2025, metric=metric, qualitative=True,
                      comparator=">" if phrase.startswith("高于") else "=")
    kind = draw(st.sampled_from(["level", "growth"]))
    unit = draw(st.sampled_from(NUMERIC_UNITS))
    base_year = draw(st.sampled_from([None, 2023])) if kind == "growth" else None
    magnitude = draw(st.integers(min_value=0, max_value=4))
    value = draw(st.decimals(min_value=0, max_value=99999, places=magnitude % 3, allow_nan=False,
                             allow_infinity=False))
    value = value * 10 ** (4 * (magnitude // 2))
    number = int(value) if value == value.to_integral_value() else float(value)
    if kind == "growth" and draw(st.booleans()):
        number = -number
    if number == 0:
        number = 1
    return Target(
        text="", year=year, per_year=draw(st.booleans()), cumulative=draw(st.booleans()), kind=kind,
        base_year=base_year, metric=draw(st.sampled_from([*METRICS, None])),
        comparator=draw(st.sampled_from(COMPARATORS)), value=number, unit=unit)


@settings(max_examples=300, deadline=None)
@given(st.lists(targets(), min_size=1, max_size=4))
def test_the_normalized_form_round_trips(items):
    back = parse_targets(format_targets(items)).targets
    assert [same(t) for t in back] == [same(t) for t in items], format_targets(items)


def test_parsing_is_fast_enough_for_big_workbooks():
    import time

    cells = [r.content for r in extract(CITY).rows] * 170  # ~10 000 cells of real paragraphs
    start = time.perf_counter()
    for cell in cells:
        parse_targets(cell)
    assert time.perf_counter() - start < 10  # ~0.4 s here; 100 000 cells take a few seconds


def test_one_metric_in_many_tasks_is_no_conflict_but_within_one_task_it_is():
    """A conflict is between targets of one task (or a task and the plan's goals), never across tasks:
    60 tasks each with their own count of the same metric are 60 goals, not 1,770 contradictions."""
    rows = [TaskRow(n, f"任务{n}", f"到2025年，全区建成充换电站{n * 7}座以上。",
                    origin=Origin(file="d.xlsx", sheet="台账", row=n + 3)) for n in range(1, 61)]
    rows.append(TaskRow(None, "", "到2025年，全区建成充换电站3座以下。",  # no 序号: a task of its own
                        origin=Origin(file="d.xlsx", sheet="台账", row=70)))
    ledger = Ledger(source="d.xlsx", rows=rows)
    assert "target-comparator-conflict" not in {p.type for p in check_ledger_targets(ledger)}

    # Two rows of one task (the second continues task 5) that cannot both hold: one conflict, at the second.
    rows.insert(5, TaskRow(5, "任务5", "到2025年，全区建成充换电站不超过20座。",
                           origin=Origin(file="d.xlsx", sheet="台账", row=71)))
    [conflict] = [p for p in check_ledger_targets(ledger) if p.type == "target-comparator-conflict"]
    assert (conflict.cell, conflict.value) == ("A71", "全区建成充换电站不超过20座")
    assert "≥35座" in conflict.message and "≤20座" in conflict.message

    # The verbs of a schedule are not a metric: 年内完成93个 and 年内完成195个 in two tasks say nothing together.
    schedule = Ledger(source="d.xlsx", rows=[
        TaskRow(1, "任务1", "年内完成93个。", origin=Origin(file="d.xlsx", sheet="台账", row=4)),
        TaskRow(2, "任务2", "年内完成不超过5个。", origin=Origin(file="d.xlsx", sheet="台账", row=5))])
    assert "target-comparator-conflict" not in {p.type for p in check_ledger_targets(schedule)}
    assert all(t.metric is None for _, result in ledger_targets(schedule) for t in result.targets)
