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


def _clean_reference(text):
    """``clean`` as first written, one regex pass each: the fast version must agree with it."""
    import re

    from xltools.text import _BOOKMARK, _SPACE_NEAR_WIDE

    if text is None:
        return ""
    text = str(text)
    if not re.search(r"[\s\[\u200b\ufeff\xa0\u3000]", text):
        return text
    text = _BOOKMARK.sub("", text).replace("\u200b", "").replace("\ufeff", "")
    return _SPACE_NEAR_WIDE.sub("", text).strip()


CLEAN_ALPHABET = st.sampled_from(list(" \t\u3000\xa0\n\r\u200b\ufeff[]:中文，a1。“”\x0b\x0c\x1c\u2028\u0085") +
                                 ["[bookmark:_Toc1]", "工作 内容", " 区财政局 "])


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.lists(CLEAN_ALPHABET, max_size=20).map("".join), st.text(max_size=40)))
def test_clean_agrees_with_its_reference(text):
    from xltools.text import clean

    assert clean(text) == _clean_reference(text)


def test_every_problem_type_has_a_chinese_title():
    """The 问题清单 sheets show problem_title(type) to clerks: never a bare English code."""
    import re
    from pathlib import Path

    from xltools.problems import problem_title

    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("xltools").rglob("*.py"))
    types = set(re.findall(r'Problem\(\s*"([a-z]+(?:-[a-z0-9]+)+)"', source))
    types |= set(re.findall(r'^\s+"(target-[a-z-]+)":', source, re.M))
    assert len(types) > 30
    untitled = sorted(t for t in types if not re.search(r"[\u4e00-\u9fff]", problem_title(t)))
    assert untitled == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.lists(CLEAN_ALPHABET, max_size=8).map("".join), st.text(max_size=12)), max_size=6))
def test_clean_cells_is_clean_of_each_cell(row):
    from xltools.text import clean, clean_cells

    assert clean_cells(row) == [clean(c) for c in row]
