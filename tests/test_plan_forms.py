"""Attribution styles and layouts seen in real plans, each with a sentence in their shape."""

from xltools.readers import extract_text
from xltools.readers.plan import parse_attribution, split_attributions

HEAD = "济南市历城区推动大规模设备更新和消费品以旧换新工作方案\n一、实施设备更新行动\n（一）工业设备更新改造\n"


def rows(body: str):
    ledger = extract_text(HEAD + body, "t.txt")
    return ledger, [(r.seq, r.task, r.lead_units, r.responsible_units) for r in ledger.rows]


def test_lead_and_responsible_with_semicolon_or_comma():
    assert parse_attribution("牵头单位：区发展改革局、区工业和信息化局；责任单位：区水务局") == (
        ["区发展改革局", "区工业和信息化局"], ["区水务局"])
    assert parse_attribution("牵头单位：区农业农村局，责任单位：区财政局") == (["区农业农村局"], ["区财政局"])


def test_responsible_for_forms():
    assert parse_attribution("区商务局负责") == (["区商务局"], [])
    assert parse_attribution("区发展改革局、区财政局按职责分工负责") == (["区发展改革局", "区财政局"], [])
    assert parse_attribution("含技工院校") is None  # ordinary parentheses are content


def test_hexagonal_brackets_and_numbering_with_dun():
    ledger, got = rows("1、推动产业现代化改造。每年实施项目30个以上。〔牵头单位：区工业和信息化局〕\n"
                       "2、加快产业数字化发展。推广应用智能制造设备。（区工业和信息化局、区大数据局按职责分工负责）\n")
    assert got == [(1, "推动产业现代化改造", ["区工业和信息化局"], []),
                   (2, "加快产业数字化发展", ["区工业和信息化局", "区大数据局"], [])]
    assert ledger.rows[0].content == "每年实施项目30个以上。"
    assert ledger.region == "历城区"


def test_unit_name_broken_across_lines_inside_the_bracket():
    _, got = rows("1.推动产业现代化改造。内容。（牵头单位：区工业和信\n息化局；责任单位：区财政局）\n")
    assert got == [(1, "推动产业现代化改造", ["区工业和信息化局"], ["区财政局"])]


def test_task_spread_over_paragraphs():
    ledger, got = rows("1.推动产业现代化改造。第一段内容。\n第二段内容。\n第三段内容。（牵头单位：区工业和信息化局）\n"
                       "2.加快产业数字化发展。内容。（区科技局负责）\n")
    assert got[0][:3] == (1, "推动产业现代化改造", ["区工业和信息化局"])
    assert ledger.rows[0].content == "第一段内容。第二段内容。第三段内容。"
    assert ledger.rows[0].origin.line == 4


def test_fields_as_tasks_and_several_attributions_in_one_paragraph():
    body = ("（二）能源装备更新改造。实施老旧变电设备改造。（牵头单位：区发展改革局）\n"
            "（三）提高产业创新能力。建设园区。（牵头单位：区工业和信息化局；责任单位：市中城投集团）"
            "推动“揭榜挂帅”项目实施。（牵头单位：区科技局）\n")
    ledger, got = rows(body)
    assert [g[1:] for g in got] == [
        ("能源装备更新改造", ["区发展改革局"], []),
        ("提高产业创新能力", ["区工业和信息化局"], ["市中城投集团"]),
        ("提高产业创新能力", ["区科技局"], []),
    ]
    assert [r.subsection for r in ledger.rows] == ["（二）能源装备更新改造", "（三）提高产业创新能力", "（三）提高产业创新能力"]


def test_numbering_restarting_in_each_field_is_renumbered_in_order():
    body = ("1.甲任务。内容。（区商务局负责）\n2.乙任务。内容。（区商务局负责）\n"
            "（二）能源装备更新改造。内容。（区发展改革局负责）\n（三）农业机械装备更新\n1.丙任务。内容。（区农业农村局负责）\n")
    ledger, got = rows(body)
    assert [(g[0], g[1]) for g in got] == [(1, "甲任务"), (2, "乙任务"), (3, "能源装备更新改造"), (4, "丙任务")]
    assert [p.type for p in ledger.problems] == ["renumbered"]


def test_task_without_units_and_unplaced_text_are_reported_with_line_numbers():
    body = "1.甲任务。内容没有写牵头单位。\n2.乙任务。内容。（区商务局负责）\n"
    ledger, got = rows(body)
    assert [g[0] for g in got] == [1, 2]  # the row is kept, not dropped
    missing = ledger.problems[0]
    assert (missing.type, missing.line, missing.severity) == ("missing-lead-unit", 4, "warning")
    ledger = extract_text("济南市历城区推动大规模设备更新和消费品以旧换新工作方案\n一、实施设备更新行动\n一段不属于任何任务的文字。\n", "t.txt")
    assert [(p.type, p.line) for p in ledger.problems] == [("unplaced-text", 3)]


def test_goals_come_from_the_general_sections():
    text = ("济南市历城区推动大规模设备更新和消费品以旧换新工作方案\n一、总体要求\n指导思想的文字。\n"
            "到2025年，新能源汽车保有量达到1.5万辆左右。\n到2027年，二手车交易量较2023年增长45%。\n"
            "二、实施设备更新行动\n（一）工业设备更新改造\n1.甲任务。内容。（区商务局负责）\n")
    ledger = extract_text(text, "t.txt")
    assert [(g.year, g.text[:10]) for g in ledger.goals] == [(2025, "到2025年，新能源"), (2027, "到2027年，二手车")]
    assert len(ledger.rows) == 1


def test_split_attributions_keeps_names_with_their_own_parentheses():
    parts = split_attributions("内容（含技工院校）。（牵头单位：国家金融监督管理总局章丘监管支局（筹备组）、区财政局）")
    assert parts == [("内容（含技工院校）。", ("国家金融监督管理总局章丘监管支局（筹备组）、区财政局", ""))]


def test_a_deleted_task_leaves_a_gap_not_a_restart():
    """章丘区's plan (tests/data/seeds/002_…) with task 7 deleted: the others keep their printed numbers."""
    from conftest import ZHANGQIU

    lines = [ln for ln in ZHANGQIU.read_text(encoding="utf-8").split("\n") if not ln.startswith("7.推广应用新型农业机械")]
    ledger = extract_text("\n".join(lines), "章丘区_删去第7项.txt")
    assert [r.seq for r in ledger.rows] == [*range(1, 7), *range(8, 61)]
    assert [(p.type, p.value) for p in ledger.problems] == [("numbering-gap", "7")]


def test_tasks_numbered_as_fields_through_all_sections():
    """（一）…（三十三）: a plan whose tasks are fields numbered across its actions; those numbers are 序号."""
    from conftest import CITY

    from xltools import extract
    from xltools.text import cn_number, heading_title

    city = extract(CITY)
    numerals = "一二三四五六七八九十"

    def cn(n):
        return (numerals[n // 10 - 1] if n >= 20 else "") + ("十" if n >= 10 else "") + (numerals[n % 10 - 1] if n % 10 else "")

    body, section = [], None
    for row in city.rows[:33]:
        if row.section != section:
            section = row.section
            body.append(section)
        body.append(f"（{cn(row.seq)}）{row.task}。{row.content}（牵头单位：{'、'.join(row.lead_units)}）")
    ledger = extract_text("济南市槐荫区推动大规模设备更新和消费品以旧换新工作方案\n" + "\n".join(body), "槐荫区.txt")
    assert [r.seq for r in ledger.rows] == list(range(1, 34))
    assert [r.task for r in ledger.rows] == [r.task for r in city.rows[:33]]
    assert cn_number(cn(33)) == 33 and heading_title(ledger.rows[32].subsection) == city.rows[32].task
    assert not [p for p in ledger.problems if p.type == "renumbered"]
