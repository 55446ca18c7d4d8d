"""The three real documents against expectations written by reading them (tests/data/expected)."""

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU, expected, row_view

from xltools import extract


@pytest.mark.parametrize("seed", [CITY, SHIZHONG, ZHANGQIU], ids=["city-003", "shizhong-000", "zhangqiu-002"])
def test_every_task_matches_the_hand_read_ledger(seed):
    ledger = extract(seed)
    want = expected(seed)
    assert (ledger.region, ledger.level) == (want["region"], want["level"])
    assert [row_view(r) for r in ledger.rows] == [row_view(r) for r in want["rows"]]
    assert [(g.year, g.lead_units) for g in ledger.goals] == [(g["year"], g["lead_units"]) for g in want["goals"]]


def test_city_ledger_skips_repeated_headers_and_keeps_full_content():
    ledger = extract(CITY)
    assert ledger.title == "济南市推动大规模设备更新和消费品以旧换新工作台账"
    assert [r.seq for r in ledger.rows] == list(range(1, 61))
    task10 = ledger.rows[9]
    assert task10.content.endswith("到2025年，全市建成充换电站1000座，充换电基础设施保有量超过10万个。")
    assert "GB 55015" in ledger.rows[10].content  # spaces only dropped next to Chinese text
    assert ledger.goals[0].text == "工业重点领域达到能效标杆水平的产能比例高于全省平均水平。"
    assert all(r.origin.line for r in ledger.rows)
    assert ledger.rows[0].origin.line == 21
    assert not [p for p in ledger.problems if p.severity != "info"]


def test_attached_ledger_wins_over_body_and_disagreements_are_reported():
    ledger = extract(SHIZHONG)
    assert ledger.title == "济南市市中区推动大规模设备更新和消费品以旧换新工作台账"
    assert ledger.city == "济南市"
    types = {p.type for p in ledger.problems}
    # The body's 保障措施 items have no ledger rows; the ledger adds 的 to task 10's text.
    body_only = [p for p in ledger.problems if p.type == "body-only-task"]
    assert [p.line for p in body_only] == [113, 115, 117]
    text_diff = [p for p in ledger.problems if p.type == "body-ledger-text"]
    assert len(text_diff) == 1 and "内的新建建筑" in text_diff[0].message and text_diff[0].line == 252
    assert "body-ledger-units" not in types
    # merged cells: 27 and 28 inherit 26's task; the row after 29 inherits seq and task
    by_seq = [(r.seq, r.task) for r in ledger.rows]
    assert by_seq[25:30] == [(26, "提高产业创新能力"), (27, "提高产业创新能力"), (28, "提高产业创新能力"),
                             (29, "打造产业创新平台"), (29, "打造产业创新平台")]
    assert ledger.rows[16].responsible_units == ["区教育体育局", "区人力资源社会保障局", "区卫生健康局"]
    assert ledger.rows[3].task == "能源装备更新改造"  # broken over two lines in the cell


def test_zhangqiu_untitled_tasks_take_their_field_name_and_units_keep_parentheses():
    ledger = extract(ZHANGQIU)
    assert ledger.rows[58].task == "加强组织领导" and ledger.rows[58].content.startswith("各级各有关部门")
    assert ledger.rows[54].lead_units == ["国家金融监督管理总局章丘监管支局（筹备组）", "区财政局"]
    assert ledger.rows[54].responsible_units == ["区发展和改革局"]
    assert ledger.goals[0].text.startswith("到2025年，工业重点领域")
    assert not ledger.problems
