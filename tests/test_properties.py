"""Property tests for the three text parsers (issue 10): the plan extractor, the unit splitter and the
target parser never raise, never lose text, and stay linear on long input.

The strategies are built from the real seed documents (tests/data/seeds): fragments of their lines cut
at punctuation, whole lines, headings and numbering as plans write them, attribution brackets, tabs,
full-width punctuation, control characters and very long runs.
"""

import re
import time
import unicodedata
from collections import Counter

from conftest import CITY, SHIZHONG, ZHANGQIU
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from xltools.readers import extract_text
from xltools.readers.plan import _GENERAL, _GOAL_YEAR, paragraphs, parse_plan
from xltools.target_text import _scan_cached, parse_targets
from xltools.text import ACTION_RE, NUMBER_RE, clean, read_text
from xltools.unitnames import _split_cell, ends_like_unit, split_run_together, split_units

SEED_TEXT = {seed.name: read_text(seed)[0] for seed in (CITY, SHIZHONG, ZHANGQIU)}
SEED_LINES = sorted({clean(line) for text in SEED_TEXT.values() for line in text.split("\n")} - {""})
# Pieces of real lines cut after each punctuation mark or bracket, so they recombine into new sentences.
_PIECE = re.compile(r"[^，。；：、（）〔〕()\t]+[，。；：、（）〔〕()\t]?")
SEED_PIECES = sorted({p for line in SEED_LINES for p in _PIECE.findall(line)})
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.、])")
HEADINGS = [line for line in SEED_LINES if _HEADING.match(line)]
NUMBERING = ["一、", "二、", "十一、", "（一）", "(二)", "（ 三 ）", "（二十七）", "1.", "2、", "12．", "3 .", "（1）", "(2)",
             "①", "第1项", "1.1", "2-3"]
ATTRIBUTION = ["（牵头单位：", "；责任单位：", "，责任单位：", "牵头部门:", "）", "〔", "〕", "【", "】", "负责）",
               "按职责分工负责）", "（区商务局负责）", "（牵头单位：区工业和信息化局）",
               "（区发展改革局、区财政局按职责分工负责）"]
PUNCTUATION = list("，。；：、“”‘’《》！？…—·（）〔〕【】") + [",", ".", ";", ":", "(", ")", "/", "／"]
CONTROL = ["\t", "\t\t", "\r", "\x0b", "\x0c", "\x00", "\x1c", "\x1f", "\u2028", "\x85", "\u200b", "\ufeff",
           "\xa0", "\u3000", " ", "  ", "[bookmark:_Toc1]"]
TABLE = ["序号", "重点任务", "工作内容", "牵头单位", "责任单位", "序号\t重点任务\t工作内容\t牵头单位\t责任单位",
         "2025年工作目标", "附件", "附件1", "济南市章丘区推动大规模设备更新和消费品以旧换新工作台账", "填报人：", "注："]

piece = st.one_of(
    st.sampled_from(SEED_PIECES), st.sampled_from(NUMBERING), st.sampled_from(ATTRIBUTION),
    st.sampled_from(PUNCTUATION), st.sampled_from(CONTROL), st.text(max_size=3),
)
line = st.one_of(
    st.sampled_from(SEED_LINES), st.sampled_from(HEADINGS),
    st.lists(piece, max_size=12).map("".join),
    # very long lines: a piece repeated hundreds of times
    st.tuples(st.sampled_from(SEED_PIECES + NUMBERING + ATTRIBUTION), st.integers(20, 400))
    .map(lambda t: t[0] * t[1]),
)
document = st.lists(line, max_size=40).map("\n".join)
table_document = st.lists(st.one_of(line, st.sampled_from(TABLE)), max_size=40).map("\n".join)


# ---------------------------------------------------------------------------------------------------
# The plan extractor: xltools.readers.extract_text (what extract uses for .txt/.md; a .docx's paragraphs go
# to parse_plan the same way), parse_plan for prose.


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(document, table_document))
def test_plan_extractor_never_raises(text):
    ledger = extract_text(text, "fuzz.txt")
    for row in ledger.rows:
        assert isinstance(row.task, str) and isinstance(row.content, str)
        assert all(isinstance(u, str) and u for u in row.lead_units + row.responsible_units)
    assert all(p.message for p in ledger.problems)


_ROLE_WORDS = re.compile(r"(?:牵头单位|牵头部门|责任单位|责任部门|配合单位|参与单位)\s*[:：]"
                         r"|(?:按职责分工|按照职责分工|分别|共同)?负责")


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _everything_kept(ledger) -> str:
    """Every text the ledger carries: rows, goals, title, problems (value, message, suggestion)."""
    kept = [ledger.title or ""]
    for r in ledger.rows:
        kept += [r.task, r.content, r.section, r.subsection, r.label, *r.lead_units, *r.responsible_units,
                 *r.raw.values(), *r.extra.values()]
    for g in ledger.goals:
        kept += [g.text, *g.lead_units]
    for p in ledger.problems:
        kept += [p.value or "", p.message, p.suggestion or ""]
    return "\x00".join(_fold(t) for t in kept)


def lost_text(lines: list[str], ledger) -> list[tuple[int, str]]:
    """Words of the plan's paragraphs (lines joined where a bracket is broken across them, as the parser
    joins them) that the ledger does not carry, with their line.

    Left out by design, and only these: the notice, title and preamble before the first action heading
    (一、…); the prose of the general sections (总体要求, 指导思想, 工作目标…) other than goal lines, which are
    not tasks; a task's number (its 序号, renumbered when numbering restarts); role words and 负责 in an
    attribution (the units are kept); punctuation, spacing and conversion artefacts (``clean``). A word is
    a run of letters, digits and CJK characters between those.
    """
    kept = _everything_kept(ledger)
    started = general = False
    lost = []
    for p in paragraphs(lines):
        text = p.text
        action = ACTION_RE.match(text)
        if action and len(text) <= 40 and "。" not in text.rstrip("。"):
            started, general = True, bool(_GENERAL.search(action.group(2)))
            if general:
                continue
        elif not started or (general and not _GOAL_YEAR.search(text[:12])):
            continue
        number = NUMBER_RE.match(text)
        if number and not general:
            text = number.group(2)
        for word in re.findall(r"\w+", unicodedata.normalize("NFKC", _ROLE_WORDS.sub(" ", text))):
            if word not in kept:
                lost.append((p.line, word))
    return lost


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=40))
@example(["一、实施设备更新行动", "二、实施消费品以旧换新行动", "（一）汽车以旧换新"])  # a section without tasks
@example(["一、实施设备更新行动", "（一）工业设备更新改造", "（二）能源装备更新改造", "1.甲。内容。（区商务局负责）"])
@example(["一、实施设备更新行动", "一段不属于任何任务的文字，" * 10])  # unplaced text longer than a problem's 60
def test_plan_extractor_loses_no_text(lines):
    ledger = parse_plan(lines, "fuzz.txt")
    assert lost_text(lines, ledger) == []


def test_the_seed_plans_lose_no_text():
    for name, text in SEED_TEXT.items():
        lines = text.split("\n")
        assert lost_text(lines, parse_plan(lines, name)) == [], name


def _seconds(function, text: str) -> float:
    best = float("inf")
    for _ in range(3):  # the best of three: the least disturbed by whatever else the machine runs
        start = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - start)
    return best


def _linear(function, unit: str, size: int = 200_000) -> tuple[float, float]:
    """Seconds for a quarter of ``size`` bytes of ``unit`` repeated, and for ``size`` bytes: four times the
    text takes about four times as long when the work is linear, sixteen when quadratic. Callers allow 8:
    a margin for a busy machine that a quadratic step still exceeds."""
    repeats = size // len(unit.encode()) + 1
    big = unit * repeats
    # whole units when there are enough of them (a cut name or number is another input); else a quarter
    small = unit * (repeats // 4) if repeats >= 8 else big[:len(big) // 4]
    return _seconds(function, small), _seconds(function, big)


def test_plan_extractor_time_is_linear_on_long_input():
    zhangqiu = SEED_TEXT[ZHANGQIU.name]
    body = zhangqiu[zhangqiu.index("二、实施"):]
    cases = {
        "章丘区 plan repeated": body,
        "章丘区 plan on one line": body.replace("\n", ""),
        # an unclosed bracket joins every following line into one paragraph (was quadratic: 5.8 s)
        "a bracket left open": "（牵头单位：区财政局\n推动产业现代化改造。\n",
        "attributions on one line": "内容。（区财政局负责）",
        "numbered tasks": "1.推动。内容（区财政局负责）\n",
    }
    for name, unit in cases.items():
        small, big = _linear(lambda text: extract_text("一、实施行动\n（一）工业\n" + text, "long.txt"), unit)
        assert big < 2, (name, big)
        assert big < 8 * small + 0.02, (name, small, big)  # four times the input, not sixteen times the time


def test_a_bracket_left_open_joins_the_following_lines_in_linear_time():
    lines = ["一、实施设备更新行动", "（一）工业设备更新改造", "1.推动产业现代化改造。内容（牵头单位：区财政局"]
    lines += ["推动产业现代化改造。"] * 20_000
    start = time.perf_counter()
    ledger = parse_plan(lines, "open.txt")
    assert time.perf_counter() - start < 1  # 5.8 s before paragraphs were joined once
    assert len(ledger.rows) == 1 and ledger.rows[0].content.count("推动产业现代化改造。") == 20_000


def test_unplaced_text_is_reported_whole():
    long = "一段不属于任何任务的文字，" * 10
    ledger = parse_plan(["一、实施设备更新行动", long], "t.txt")
    assert [(p.type, p.line, p.value) for p in ledger.problems] == [("unplaced-text", 2, long)]


def test_a_section_and_a_field_without_tasks_are_reported():
    ledger = parse_plan(["一、实施设备更新行动", "二、实施消费品以旧换新行动", "（一）汽车以旧换新",
                         "三、实施回收循环利用行动", "（一）完善废旧物资回收网络",
                         "1.甲任务。内容。（区商务局负责）"], "t.txt")
    # the empty field's message names its section: the section's heading is kept there
    assert [(p.type, p.line, p.value) for p in ledger.problems] == [
        ("unplaced-text", 1, "一、实施设备更新行动"), ("unplaced-text", 3, "（一）汽车以旧换新")]
    assert "二、实施消费品以旧换新行动" in ledger.problems[1].message
    assert [r.section for r in ledger.rows] == ["三、实施回收循环利用行动"]


def test_text_before_the_role_words_of_an_attribution_is_content():
    lines = ["一、实施设备更新行动", "（一）工业设备更新改造", "1.甲任务。内容。（省级以上项目，牵头单位：区发展改革局）"]
    row = parse_plan(lines, "t.txt").rows[0]
    assert (row.content, row.lead_units) == ("内容。（省级以上项目）", ["区发展改革局"])


# ---------------------------------------------------------------------------------------------------
# The unit splitter: xltools.unitnames.split_units


def _seed_units() -> list[str]:
    from xltools import extract

    names = {u for seed in (CITY, SHIZHONG, ZHANGQIU) for r in extract(seed).rows
             for u in r.lead_units + r.responsible_units}
    return sorted(names)


SEED_UNITS = _seed_units()
UNIT_SEPARATORS = ["、", "，", ",", "；", ";", "/", "／", "\n", " ", "\u3000", "\xa0", "\t", "  ", "、 ", "\n\n"]
UNIT_WORDS = ["等有关部门（单位）", "（", "）", "(", ")", "区", "市", "局", "分局", "公安", "市中", "委员会", "等", "单位"]
unit_piece = st.one_of(st.sampled_from(SEED_UNITS), st.sampled_from(UNIT_SEPARATORS),
                       st.sampled_from(UNIT_WORDS), st.text(max_size=3))
unit_cell = st.lists(unit_piece, max_size=12).map("".join)
_DROPPED = re.compile(r"[\s、，,；;/／。.\u200b\ufeff]+")  # separators, spacing, artefacts


@settings(max_examples=300, deadline=None)
@given(st.one_of(unit_cell, st.text(max_size=60)))
def test_unit_splitter_never_raises_and_loses_only_separators(cell):
    names = split_units(cell)
    assert all(isinstance(n, str) and n for n in names)
    assert split_units(cell.split("\n")) == names  # a cell's lines give what its text gives
    written = _DROPPED.sub("", "".join(clean(x) for x in cell.split("\n")))
    got = _DROPPED.sub("", "".join(names))
    assert _is_subsequence(got, written), (cell, names)
    # 市卫生健康委等有关部门（单位）: the 等 joining a unit to its collective tail is the only word dropped
    tails = sum(1 for n in names if n.startswith(("有关", "相关", "其他", "各")))
    missing = Counter(written) - Counter(got)
    assert set(missing) <= {"等"} and missing["等"] <= tails, (cell, names)


def _is_subsequence(part: str, whole: str) -> bool:
    chars = iter(whole)
    return all(ch in chars for ch in part)


def _closes_its_brackets(name: str) -> bool:
    """Whether a name leaves no bracket open (counted as split_top_level counts them)."""
    depth = 0
    for ch in name:
        depth = depth + 1 if ch in "（(〔[【" else max(0, depth - 1) if ch in "）)〕]】" else depth
    return depth == 0


@settings(max_examples=300, deadline=None)
@given(unit_cell)
def test_unit_splitter_is_idempotent(cell):
    names = split_units(cell)
    # A name that leaves a bracket open (a line break closed it) takes the 、 after it inside the bracket
    # (各区县人民政府（功能区管委会、… are one name): by design, joined again it is another cell.
    assume(all(_closes_its_brackets(n) for n in names))
    assert split_units("、".join(names)) == names


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SEED_UNITS), max_size=8))
def test_names_joined_come_back_as_the_same_list(names):
    assert split_units("、".join(names)) == names
    assert split_units("，".join(names)) == names
    if all(ends_like_unit(n) for n in names):  # a line not ending like a unit continues on the next one
        assert split_units("\n".join(names)) == names


def _run_together_reference(name: str) -> list[str]:
    """``split_run_together`` as first written (recursive, one slice per position, the suffix searched in the
    whole text): the linear version must agree with it on every name short enough for the reference to run."""
    from xltools.unitnames import _BRANCH_TAIL_RE, _SUFFIX_RE, UNIT_PREFIXES

    if len(name) < 7:
        return [name]
    for i in range(3, len(name) - 3):
        left, right = name[:i], name[i:]
        if not _SUFFIX_RE.search(left) or not right.startswith(UNIT_PREFIXES):
            continue
        if _BRANCH_TAIL_RE.match(right) or not _SUFFIX_RE.search(right):
            continue
        if left.count("（") != left.count("）") or left.count("(") != left.count(")"):
            continue
        return [left, *_run_together_reference(right)]
    return [name]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SEED_UNITS), st.sampled_from(UNIT_WORDS)), max_size=10)
       .map("".join))
def test_run_together_names_are_cut_as_before(name):
    assert split_run_together(name) == _run_together_reference(name)


def test_a_cell_of_thousands_of_names_run_together_is_split():
    # RecursionError before: split_run_together recursed once per name (1,000 names broke it)
    cell = "区财政局区商务局" * 2_000
    start = time.perf_counter()
    assert split_units(cell) == ["区财政局", "区商务局"] * 2_000
    assert time.perf_counter() - start < 1


def test_a_generic_word_on_the_next_line_stays_with_its_name():
    # 区有关部门、单位 is one entry; broken over two lines it was two (区有关部门 / 单位)
    assert split_units("区有关部门\n单位") == split_units("区有关部门、单位") == ["区有关部门、单位"]
    assert split_units("市财政局\n单位、单位") == ["市财政局、单位、单位"]


def test_names_after_a_collective_tail_are_split():
    cell = "市卫生健康委等有关部门（单位）区财政局等有关部门（单位）区商务局"
    assert split_units(cell) == ["市卫生健康委", "有关部门（单位）", "区财政局", "有关部门（单位）", "区商务局"]
    # 区等有关部门 follows no unit's name: the 等 after 区财政局 is the one that starts a collective tail
    assert split_units("区等有关部门（单位）区财政局等有关部门（单位）") == [
        "区等有关部门（单位）", "区财政局", "有关部门（单位）"]


def test_unit_splitter_time_is_linear_on_long_cells():
    def split(text):
        _split_cell.cache_clear()  # each cell is split once and remembered: time the splitting
        split_units(text)

    # the first three were quadratic (20,000 characters took 1.7 s, 2.7 s and 3.0 s); the last is read
    # tail after tail since names may follow a collective tail
    for unit in ("区财政局", "区 财政 ", "区财政\n", "区财政局等有关部门（单位）"):
        small, big = _linear(split, unit)
        assert big < 1, (unit, big)  # 200 KB: 0.05–0.1 s
        assert big < 8 * small + 0.02, (unit, small, big)


# ---------------------------------------------------------------------------------------------------
# The target parser: xltools.target_text.parse_targets (what `xltools targets` calls)

TARGET_WORDS = [
    "到2025年", "到2026年底", "2027年力争", "较2023年", "每年", "累计", "分别", "达到", "超过", "不少于", "以上", "左右",
    "约", "增长", "下降", "降至", "以内", "万", "亿", "个", "辆", "座", "%", "％", "台（套）", "（套）", "级", "1.3",
    "2.8", "30", "400", "90", "1,000", "９０", "基本淘汰", "全部完成", "高于全省平均水平", "“1+N”", "《规范》", "GB 55015",
]
target_piece = st.one_of(st.sampled_from(SEED_PIECES), st.sampled_from(TARGET_WORDS),
                         st.sampled_from(PUNCTUATION), st.sampled_from(CONTROL), st.text(max_size=3))
target_text = st.lists(target_piece, max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(target_text, st.sampled_from(SEED_LINES), st.text(max_size=100)),
       st.sampled_from([None, 2025]))
def test_target_parser_never_raises_and_quotes_the_text(text, year):
    result = parse_targets(text, default_year=year)
    cleaned = clean(text)
    # spans are cut from the text as ``clean`` leaves it (spaces next to Chinese, bookmarks, zero widths
    # dropped); where it only strips, from the text itself
    within = [cleaned] + ([text] if cleaned == text.strip() else [])
    for t in result.targets:
        assert t.text and all(t.text in w for w in within), (text, t.text)
        assert t.metric is None or all(t.metric in w for w in within), (text, t.metric)
    for p in result.problems:
        assert p.message and p.type.startswith("target-")
        assert all(p.value in w for w in within), (text, p.value)


def test_an_outcome_written_twice_gives_one_target():
    # a second target with an empty text and no metric before: 基本淘汰 then nothing
    targets = parse_targets("基本淘汰基本淘汰", default_year=2025).targets
    assert [(t.text, t.qualitative) for t in targets] == [("基本淘汰基本淘汰", True)]


def test_two_outcomes_listed_with_dun_are_two_targets():
    targets = parse_targets("到2025年，国三柴油货车基本淘汰、老旧燃气车全部淘汰。").targets
    assert [(t.text, t.metric, t.year) for t in targets] == [
        ("国三柴油货车基本淘汰", "国三柴油货车", 2025), ("老旧燃气车全部淘汰", "老旧燃气车", 2025)]


def test_target_parser_time_is_linear_on_a_200_kb_line():
    """Issue 10: a 200 KB line took 3.8 s. The densest text, a target every three characters (40,000 targets
    in 200 KB), now takes ~0.6 s (1.0 s before the metric after a number found its end by bisection); the
    seed documents on one line, a few hundredths. The bounds are generous: the machine may be busy."""
    def parse(text):
        _scan_cached.cache_clear()  # each text is parsed once and remembered: time the parsing
        parse_targets(text)

    seeds = "".join(SEED_TEXT.values()).replace("\n", "")
    for unit, bound in (("90座", 2.5), ("较2023年增长15%", 2.5), (seeds, 0.5)):
        small, big = _linear(parse, unit)
        assert big < bound, (unit[:20], big)
        assert big < 8 * small + 0.02, (unit[:20], small, big)
