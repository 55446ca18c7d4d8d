"""Whatever text arrives, reading it never raises: problems are data."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltools.readers import extract_text
from xltools.unitnames import split_units

FRAGMENTS = st.sampled_from([
    "一、实施设备更新行动", "（一）工业设备更新改造", "(二) 能源", "1.", "2、", "12．", "推动产业现代化改造。",
    "（牵头单位：", "区工业和信息化局", "、", "；责任单位：", "）", "〔", "〕", "（", "负责）", "按职责分工",
    "\t", "\n", "\n\n", "序号", "重点任务", "工作内容", "牵头单位", "责任单位", "2025年工作目标", "到2025年，",
    "工作目标", "附件", "济南市章丘区推动大规模设备更新和消费品以旧换新工作台账", "内容。", " ", "30个以上",
])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(FRAGMENTS, max_size=60).map("".join))
def test_plan_text_never_raises(text):
    ledger = extract_text(text, "fuzz.txt")
    for row in ledger.rows:
        assert isinstance(row.task, str) and isinstance(row.lead_units, list)
    for problem in ledger.problems:
        assert problem.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text):
    extract_text(text, "fuzz.txt")
    split_units(text)
