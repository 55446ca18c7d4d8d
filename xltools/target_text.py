"""Numeric targets written inside ledger text, as data, and the format problems they carry.

"到2025年，全区建成充换电站90座，新能源汽车充电桩保有量超过1.3万个" gives two targets for 2025:
充换电站 = 90 座 and 新能源汽车充电桩保有量 > 13000 个. The parser is a scanner driven by the word
tables below (comparators, units, magnitudes, lead words): it finds each number, reads its magnitude,
unit and comparator words around it, and takes the year, 每年 and 累计 from the clause and sentence.

Rules worth knowing:

- A sentence (up to 。) is the scope of a year: "到2025年，…；…" carries 2025 to every following
  clause until another year; 每年 does the same for "per year", and a new year ends it.
- 累计 only marks targets in its own clause ("累计建成A 350家、B 30个" marks both).
- The metric is the noun phrase before the number, minus leading verbs and scope words (全区建成 →
  充换电站), keeping qualifiers: "亿元以上重点技术改造项目" is not the same count as
  "重点技术改造项目", so districts are not added up against the city on different definitions.
  When nothing is left before the number, the phrase after it is used (培育10家工业互联网园区;
  60%的城市生活污水处理厂（站）完成准IV类提标改造), else the previous target's metric (…达到2.8万，
  较2023年增长20%).
- Values are in the unit's base magnitude: 1.3万个 → 13000 个, 130亿元 → 13000000000 元, 30万千瓦 →
  300000 千瓦; an int when whole, else a float. Growth is signed: 下降10% → -10.
- No comparator word gives "="; 达到 (reach) means ">=" unless a suffix says otherwise (达到…左右 → "~").
- "30万千瓦及以上煤电机组": a number bounded by 以上/以下 that goes on into a noun describes what is
  counted; it is part of the metric, not a target. A number needs a unit from UNITS (or a magnitude, or
  a comparator before a clause end) to be one, so 超过10年以上, 2级标准, 12导心电图仪 are not; nor are
  codes (GB 55015, 5G), text in 《》 or “”, dates, and base years.
- Problems (PROBLEM_TITLES) are data in the project's Problem model: parse_targets reports those of one
  text, check_ledger_targets adds the ledger-wide ones with their location.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from .problems import TARGET_TITLES, Problem
from .text import clean, column_letter, fold

PLAN_PERIOD = (2024, 2027)
COMPARATORS = (">=", ">", "<=", "<", "=", "~")
CONTRACT_KEYS = ("text", "year", "per_year", "cumulative", "kind", "base_year", "metric", "comparator",
                 "value", "unit", "qualitative")

# ---------------------------------------------------------------------------------------------------
# Word tables. Text is matched after _WIDTH (full-width digits, ％, （） → ASCII), so "台(套)" below is
# also "台（套）" in a document.

# Words right before a number. "cmp" states the comparator; "reach" verbs state a direction that a
# suffix may refine (达到…左右 → ~); "growth" verbs make a change against a base (较2023年增长15%).
BEFORE: dict[str, tuple[str, object]] = {
    **{w: ("cmp", ">=") for w in ("不少于", "不低于", "至少", "≥", ">=")},
    **{w: ("cmp", ">") for w in ("超过", "高于", "大于", "多于", "突破", ">")},
    **{w: ("cmp", "<=") for w in ("不超过", "不高于", "不多于", "控制在", "≤", "<=")},
    **{w: ("cmp", "<") for w in ("低于", "少于", "小于", "<")},
    **{w: ("cmp", "~") for w in ("约", "大约", "≈")},
    "=": ("cmp", "="),
    **{w: ("reach", ">=") for w in ("达到", "达", "提高到", "提高至", "提升到", "提升至", "增至", "增加到")},
    **{w: ("reach", "<=") for w in ("降至", "降到", "降低到", "降低至", "下降到", "下降至", "减少到", "减少至")},
    "为": ("reach", "="),
    **{w: ("growth", 1) for w in ("增长", "增加", "提高", "提升", "上升")},
    **{w: ("growth", -1) for w in ("下降", "减少", "降低")},
}
# Words right after the unit.
AFTER = {"及以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<=", "左右": "~", "上下": "~"}
# A bound that runs on into a noun names a kind of thing (30万千瓦及以上煤电机组), not a target.
BOUNDS = ("及以上", "以上", "及以下", "以下")
# 1000余家, 30多个: more than the number.
INFIXES = {"余": ">", "多": ">"}
MAGNITUDES = {"亿": 10**8, "千万": 10**7, "百万": 10**6, "万": 10**4, "千": 10**3}
# Changes written in words: 增加约一倍 → +100%.
MULTIPLES = {"翻两番": 300, "翻一番": 100, "翻番": 100, "一倍": 100}

# Units as written (after _WIDTH) → the unit a target carries. Magnitudes are not units: 万千瓦 is
# 万 + 千瓦, 亿元 is 亿 + 元.
UNITS = {
    **{u: u for u in (
        "个", "家", "座", "辆", "台", "套", "场", "项", "处", "所", "条", "栋", "户", "人次", "人", "名", "件",
        "批", "只", "张", "块", "次", "款", "种", "吨", "公里", "千米", "米", "平方米", "亩", "公顷", "千瓦时",
        "千瓦", "兆瓦", "吨标准煤", "元", "%", "个百分点", "床", "台次", "辆次", "标台")},
    "台(套)": "台（套）", "台套": "台（套）", "台/套": "台（套）", "百分点": "个百分点",
}
PERCENT_UNITS = ("%", "个百分点")

# Outcomes without a number: a goal when a year applies (国三及以下非营运柴油货车基本淘汰).
QUALITATIVE = ("基本淘汰", "全部淘汰", "全面淘汰", "基本替代退出", "替代退出", "关停退出", "全部完成",
               "全面完成", "基本完成", "全覆盖")
QUALITATIVE_PATTERNS = {r"高于全[国省市区县]平均水平": ">", r"不低于全[国省市区县]平均水平": ">=",
                        r"低于全[国省市区县]平均水平": "<"}

# Stripped from the start of a metric: scope, context and action words (全区建成充换电站 → 充换电站).
LEAD_WORDS = (
    "全市", "全区", "全县", "全省", "其中", "力争", "争取", "确保", "累计", "每年", "年均", "共", "新增", "新建",
    "建成", "建设", "实施", "新培育", "培育", "举办", "完成", "改造提升", "推广应用", "推广", "积极", "发展",
    "遴选", "创建", "打造", "认定", "引进", "更新", "淘汰", "开展", "组织", "实现", "将", "对", "突破",
    # when, before the verb: 年内完成93个, 全年新增200台
    "年内", "全年", "当年", "今年", "本年度", "本年", "年度",
)
# A verb left alone is not a metric (年内完成93个 and 改造30个 name no thing): such a target has no metric, so
# it is never compared with another row's.
VERB_ONLY = frozenset((
    "完成", "实施", "新增", "新建", "建成", "建设", "改造", "推进", "推动", "开展", "更新", "提升", "落实", "办理",
    "组织", "举办", "实现", "达到", "达成", "累计完成", "改造提升", "整治", "治理", "打造", "培育", "引进",
))
TAIL_WORDS = ("的", "将", "要", "力争", "分别", "均", "需")
# A metric read after the number stops before these (遴选40项左右优秀品牌进行集中宣传 → 优秀品牌).
AFTER_STOPS = ("进行", "开展", "实施", "参与", "用于")
# Before a base year: 较2023年增长, 比2023年底增加, 同比增长.
BASE_MARKERS = ("相较于", "相较", "相比", "较", "比", "同比")

# Every problem type this module reports, with a title for a 问题清单 (kept with the other titles, in problems.py).
PROBLEM_TITLES = TARGET_TITLES

# ---------------------------------------------------------------------------------------------------

_WIDTH = str.maketrans({
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
    **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
    "％": "%", "（": "(", "）": ")", "．": ".", "＋": "+", "～": "~", "＞": ">", "＜": "<", "＝": "=",
    "－": "-", "／": "/", "\u3000": " ",
})
_WIDE = re.compile("[" + "".join(map(chr, _WIDTH)) + "]")
_WIDE_PAIRS = tuple((chr(k), v if isinstance(v, str) else chr(v)) for k, v in _WIDTH.items())
_QUOTED = re.compile(r"《[^《》]*》|“[^“”]*”|\"[^\"\n]*\"")
_SENTENCE = re.compile(r"[^。！？!?\n]+")
_CLAUSE = re.compile(r"(?:[^，,；;：:]|(?<=[0-9]),(?=[0-9]{3}(?![0-9])))+")  # 1,000 is one number
_CLAUSE_PLAIN = re.compile(r"[^，,；;：:]+")  # the same where no "," is written (nearly all Chinese text)
_TOKEN = re.compile("[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\\.[0-9]+)?|[0-9]+(?:\\.[0-9]+)?|" + "|".join(MULTIPLES))
_CONTEXT = re.compile(r"每年|年均|累计")
_QUALITATIVE = re.compile("|".join([*QUALITATIVE_PATTERNS, *sorted(QUALITATIVE, key=len, reverse=True)]))
_BASE = re.compile(rf"(?:{'|'.join(BASE_MARKERS)})(?:(20[0-9]{{2}})年(?:底|末)?(?:同期)?)?$")
_RANGE_BEFORE = re.compile(r"(?:19|20)[0-9]{2}年?\s*[-—–~至到]\s*$")
_RANGE_AFTER = re.compile(r"\s*[-—–~至到]\s*(?:19|20)[0-9]{2}")
_HAS_SIGNAL = re.compile("[0-9０-９]|" + "|".join(MULTIPLES) + "|" + _QUALITATIVE.pattern)
_CLAUSE_SIGNAL = re.compile(_HAS_SIGNAL.pattern + "|每年|年均")  # 每年 carries to later clauses
# A character each signal ends with: one scan for these rules out most text without trying every alternative.
_SIGNAL_END = re.compile("[0-9０-９" + "".join(sorted({w[-1] for w in (*MULTIPLES, *QUALITATIVE,
                                                                          *QUALITATIVE_PATTERNS)})) + "]")
_OUTCOME_END = re.compile("[" + "".join(sorted({w[-1] for w in (*QUALITATIVE, *QUALITATIVE_PATTERNS)})) + "]")
_CLAUSE_SIGNAL_END = re.compile(_SIGNAL_END.pattern[:-1] + "年均]")
_BRACKETED_UNIT = re.compile(r"\(([^()]{1,3})\)")
_DATE_AFTER = re.compile(r"[0-9]{1,2}月(?:[0-9]{1,2}日)?")  # 2024年8月21日
_YEAR_END = re.compile(r"(?:[0-9]{1,2}月(?:[0-9]{1,2}日)?)?(?:底前|年底|底|末|前)|")  # 2025年12月底前
# Not part of a metric: enumeration (（1）, 2., 一是, ①) and a date (8月底前).
_ENUMERATION = re.compile(r"^(?:[（(][0-9一二三四五六七八九十]{1,3}[)）]|[0-9]{1,2}[.、．](?![0-9])|"
                          r"[一二三四五六七八九十]{1,3}是|[①-⑳]|[0-9]{1,2}月(?:[0-9]{1,2}日)?(?:底前|底|末|前)?)")
_RANGE_SEPARATORS = ("-", "—", "–", "~", "至", "到")

_TERMINATORS = set("，,；;。：:、)）(（!！?？ \n")
_NOT_BEFORE_NUMBER = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/#.第")
_NOT_AFTER_NUMBER = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+")
_DIRECTION = {">": 1, ">=": 1, "<": -1, "<=": -1, "=": 0, "~": 0}
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "", "~": "约"}


class _Lexicon:
    """Longest-match lookup of a word table at a position, forwards or backwards."""

    def __init__(self, table: Iterable[str]):
        self.words = set(table)
        self.lengths = sorted({len(w) for w in self.words}, reverse=True)

    def at(self, s: str, j: int, b: int) -> str | None:
        """The longest word starting at ``j`` and ending by ``b``."""
        for n in self.lengths:
            if j + n <= b and s[j:j + n] in self.words:
                return s[j:j + n]
        return None

    def ending(self, s: str, a: int, p: int) -> str | None:
        """The longest word ending at ``p`` and starting from ``a``."""
        for n in self.lengths:
            if p - n >= a and s[p - n:p] in self.words:
                return s[p - n:p]
        return None


_BEFORE, _AFTER, _UNIT = _Lexicon(BEFORE), _Lexicon(AFTER), _Lexicon(UNITS)
_MAGNITUDE, _LEAD = _Lexicon(MAGNITUDES), _Lexicon(LEAD_WORDS)


@dataclass
class Target:
    """One target read from text; ``to_dict`` is the contract other tools rely on."""

    text: str
    year: int | None = None
    per_year: bool = False
    cumulative: bool = False
    kind: str = "level"  # level | growth
    base_year: int | None = None
    metric: str | None = None
    comparator: str = "="
    value: int | float | None = None  # in the unit's base magnitude; None for qualitative goals
    unit: str | None = None
    qualitative: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    def __reduce__(self):  # by position: consolidation sends many of these between processes
        return Target, (self.text, self.year, self.per_year, self.cumulative, self.kind, self.base_year,
                        self.metric, self.comparator, self.value, self.unit, self.qualitative)


@dataclass
class TargetResult:
    """The targets of one text and the format problems found in it."""

    targets: list[Target] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"targets": [t.to_dict() for t in self.targets], "problems": [p.to_dict() for p in self.problems]}


def parse_targets(text: str | None, *, default_year: int | None = None,
                  period: tuple[int, int] | None = PLAN_PERIOD) -> TargetResult:
    """Every target in ``text`` with its format problems; never raises on bad text.

    ``default_year`` is the year of text that states none (a 2025年工作目标 row); ``period`` the plan
    period a target year must fall in (None: no check).
    """
    result = _scan(text, default_year, period)
    result.problems.extend(p for p, _ in consistency_problems((t, {}) for t in result.targets))
    return result


def ledger_targets(ledger, *, period: tuple[int, int] | None = PLAN_PERIOD) -> list[tuple[object, TargetResult]]:
    """(goal or row, its targets) for every goal and task row, problems located at the goal or row.

    A row's (or goal's) 工作内容 is read, and its 目标 column when the ledger has one (a target stated in both, once).
    """
    columns = getattr(ledger, "columns", None) or {}
    content, target_column = _column_letter(columns.get("content")), _column_letter(columns.get("目标"))
    source = ledger.source
    out = []
    for goal in ledger.goals:
        result = _found(_scan_cached(goal.text, goal.year, period), goal.origin, source, content)
        _with_column(result, goal, goal.year, period, source, target_column)
        out.append((goal, result))
    for row in ledger.rows:
        result = _found(_scan_cached(row.content, None, period), row.origin, source, content)
        _with_column(result, row, None, period, source, target_column)
        out.append((row, result))
    return out


def _with_column(result: TargetResult, item, year: int | None, period, source: str | None,
                 column: str | None) -> None:
    """``result`` (the targets of an item's text) with those of its 目标 cell: a target the cell states again
    (``fill`` writes the text's targets there in normalized form; clerks restate theirs) counts once."""
    text = item.extra.get("目标") if item.extra else None
    if not text or not text.strip():
        return
    more = _scan_cached(text, year, period)
    for t in more.targets:
        same = next((i for i, known in enumerate(result.targets) if same_target(known, t)), None)
        if same is None:
            result.targets.append(t)
        elif result.targets[same].year is None and t.year is not None:
            result.targets[same] = t  # the cell says the year the text left to its context
    if more.problems:
        where = item.origin.where(source, column)
        result.problems += [replace(p, **where) for p in more.problems]


def same_target(a: Target, b: Target) -> bool:
    """Whether two targets state the same thing: one metric, kind, figure and unit, for the same year (or one
    of them without a year), however their words differ (到2025年，全区建成充换电站90座 / 2025年 充换电站 90座)."""
    if a.qualitative or b.qualitative:
        return a.qualitative and b.qualitative and fold(a.metric or "") == fold(b.metric or "") and a.year == b.year
    return (a.value == b.value and a.unit == b.unit and a.kind == b.kind and a.base_year == b.base_year
            and a.per_year == b.per_year and (a.year is None or b.year is None or a.year == b.year)
            and fold(a.metric or "") == fold(b.metric or ""))


def _found(cached: TargetResult, origin, source: str | None, column: str | None) -> TargetResult:
    """A fresh copy of a cached result, its problems located (most rows have none: no location is made)."""
    if not cached.problems:
        return TargetResult(list(cached.targets), [])
    where = origin.where(source, column)
    return TargetResult(list(cached.targets), [replace(p, **where) for p in cached.problems])


def check_ledger_targets(ledger, *, period: tuple[int, int] | None = PLAN_PERIOD) -> list[Problem]:
    """Format problems of every target in a ledger, plus ledger-wide ones: one metric in several
    units, or targets for one metric and year that cannot all hold."""
    return checked_ledger_targets(ledger, period=period)[1]


def checked_ledger_targets(ledger, *, period: tuple[int, int] | None = PLAN_PERIOD
                           ) -> tuple[list[tuple[object, TargetResult]], list[Problem]]:
    """``ledger_targets`` and ``check_ledger_targets`` in one pass: (goal or row, its targets), and the problems."""
    content = _column_letter((getattr(ledger, "columns", None) or {}).get("content"))
    results = ledger_targets(ledger, period=period)
    problems: list[Problem] = []
    located = []
    for item, result in results:
        problems += result.problems
        if result.targets:
            task = _task_of(item)
            located += [(t, item, task) for t in result.targets]
    # located by item: a location is made only for the few targets a problem is about
    problems += [replace(p, **item.origin.where(ledger.source, content)) for p, item in consistency_problems(located)]
    return results, problems


def format_target(target: Target) -> str:
    """One normalized form for the template's 目标 column: "2025年 充换电站 90座",
    "每年 重点技术改造项目 ≥30个", "2027年 二手车交易量 较2023年增长45%",
    "2025年 国三及以下非营运柴油货车 基本淘汰". Parsing it gives the target back."""
    parts = []
    if target.year is not None:
        parts.append(f"{target.year}年")
    if target.per_year:
        parts.append("每年")
    if target.cumulative:
        parts.append("累计")
    if target.metric:
        parts.append(target.metric)
    if target.qualitative:
        parts.append(_outcome(target.text) or "")
    elif target.value is not None:
        # a bare number reads as a target only after a comparator: keep "=" for one without a unit
        symbol = "=" if target.comparator == "=" and target.unit is None else _SYMBOL.get(target.comparator, "")
        if target.kind == "growth":
            base = f"较{target.base_year}年" if target.base_year else ""
            verb = "下降" if target.value < 0 else "增长"
            parts.append(f"{base}{verb}{symbol}{_format_amount(abs(target.value), target.unit)}")
        else:
            parts.append(f"{symbol}{_format_amount(target.value, target.unit)}")
    return " ".join(p for p in parts if p)


def target_column_text(text: str | None, year: int | None = None) -> str:
    """What the ledger's 目标 column shows for a row: one normalized target per line."""
    return "\n".join(format_target(t) for t in parse_targets(text, default_year=year).targets)


def format_targets(targets: Iterable[Target]) -> str:
    """The 目标 cell of a row: its targets in normalized form, joined with "；".

    A cell is read like prose, where a year, 每年 and a metric carry over "；" to the next target;
    "。" ends a sentence so that a target with none of them does not inherit its neighbour's.
    """
    out, prev = "", None
    for t in targets:
        if prev is not None:
            inherits = t.year is None and not t.per_year and (prev.year is not None or prev.per_year)
            out += "。" if inherits or not t.metric else "；"
        out += format_target(t)
        prev = t
    return out


_GOALS = ("goals",)


def _task_of(item) -> tuple:
    """Which task a target belongs to: a row's 序号 (rows continuing one task share it), else the row itself;
    the plan's goals are one group of their own."""
    if not hasattr(item, "task"):
        return _GOALS
    if item.seq is not None:
        return ("task", item.seq, item.label)
    return ("row", id(item))


def consistency_problems(located: Iterable[tuple]) -> list[tuple[Problem, object]]:
    """Problems across targets: one metric in different units (anywhere in the ledger), and bounds that
    cannot all hold for one metric and year within one task. ``located`` gives each target with where it is
    (a location, or the row it is in) and, optionally, its task (targets without one count as one task); each
    problem comes back with the ``where`` of the target it is about. The same metric in two tasks is two goals, not a contradiction; the
    plan's goals (task ``_GOALS``) hold across every task. Linear in the number of targets."""
    by_metric: dict[tuple, list[tuple[Target, object, object]]] = defaultdict(list)
    for target, where, *task in located:
        if target.qualitative or not target.metric or target.value is None or target.unit is None:
            continue
        by_metric[(fold(target.metric), target.kind)].append((target, where, task[0] if task else None))
    out: list[tuple[Problem, object]] = []
    for items in by_metric.values():
        if len(items) < 2:  # a metric named once has nothing to disagree with
            continue
        first_unit = items[0][0].unit
        for target, where, _task in items[1:]:
            if target.unit != first_unit:
                out.append((Problem(
                    "target-unit-mismatch",
                    f"指标“{target.metric}”前后单位不一致：先用“{first_unit}”，此处用“{target.unit}”",
                    severity="warning", value=target.text,
                    suggestion=f"统一使用“{first_unit}”"), where))
        # Bounds are compared within one task; the plan's goals hold for the whole region, so each task's
        # targets are compared with them too (goals first, so a clash is reported at the task's target).
        bounds: dict[tuple, list[tuple[Target, dict, bool]]] = defaultdict(list)
        goals: dict[tuple, list[tuple[Target, dict, bool]]] = defaultdict(list)
        for target, where, task in items:
            key = (target.year, target.per_year, target.cumulative, target.base_year, target.unit)
            if task == _GOALS:
                goals[key].append((target, where, True))
            else:
                bounds[(task, *key)].append((target, where, False))
        groups = [goals.get(key[1:], []) + group for key, group in bounds.items()]
        groups += list(goals.values())  # goals among themselves, once
        for group in groups:
            goals_only = all(is_goal for *_, is_goal in group)
            # An interval misses some earlier one only if it misses the one with the highest lower bound or
            # the one with the lowest upper bound: two candidates per target, not every earlier target.
            highest_lo = lowest_hi = None
            for target, where, is_goal in group:
                b = _bounds(target)
                if b is None:
                    continue
                clash = next((t for t in (highest_lo, lowest_hi) if t is not None and _disjoint(t, target)), None)
                if highest_lo is None or (b[0], b[1]) > _bounds(highest_lo)[:2]:
                    highest_lo = target
                if lowest_hi is None or (b[2], not b[3]) < (_bounds(lowest_hi)[2], not _bounds(lowest_hi)[3]):
                    lowest_hi = target
                if clash is not None and (goals_only or not is_goal):
                    out.append((Problem(
                        "target-comparator-conflict",
                        f"指标“{target.metric}”{_year_words(target)}的目标相互矛盾："
                        f"“{format_target(clash)}”与“{format_target(target)}”不能同时成立",
                        severity="error", value=target.text, suggestion="核对两处目标，保留正确的一处"), where))
    return out


# ---------------------------------------------------------------------------------------------------
# Scanning


@dataclass
class _Quantity:
    lead: int  # where its comparator / growth words begin
    start: int  # the number
    end: int  # after unit and suffix
    value: Decimal
    written_end: int = 0  # after the unit, before the suffix
    magnitude: int = 1
    unit: str | None = None
    written_unit: str | None = None  # a malformed unit as written: （套）
    prefix: str | None = None
    reach: bool = False  # the prefix is a "reach" verb a suffix may refine
    suffix: str | None = None
    infix: str | None = None
    growth: int = 0  # +1 / -1 for a change against a base, 0 for a level
    base_year: int | None = None
    issue: str | None = None  # unit-missing | unit-malformed | magnitude-ambiguous
    bare: bool = False  # a number with no unit (yet): the first of "300、200个"
    respectively: bool = False  # 分别 right before it


@dataclass
class _Sentence:
    year: int | None
    per_year: bool = False
    last_metric: str | None = None


def _scan(text: str | None, default_year: int | None, period: tuple[int, int] | None) -> TargetResult:
    """A fresh result each call (callers extend it); the parse itself is done once per text."""
    cached = _scan_cached(text, default_year, period)
    return TargetResult(list(cached.targets), list(cached.problems))


@lru_cache(maxsize=100_000)
def _scan_cached(text: str | None, default_year: int | None, period: tuple[int, int] | None) -> TargetResult:
    # Consolidation reads the same 工作内容 in many districts' copies of a distributed template; districts
    # writing their own ledgers recombine the city's sentences, so sentences are remembered too.
    result = TargetResult()
    original = clean(text)
    if not original or not _signal(_HAS_SIGNAL, _SIGNAL_END, original, 0, len(original)):
        return result
    norm = _narrow(original)  # one character for one: indices stay valid in `original`
    masked = _QUOTED.sub(_mask, norm) if ("《" in norm or "“" in norm or '"' in norm) else norm
    malformed = False
    for sentence in _SENTENCE.finditer(masked):
        a, b = sentence.span()
        if (a or b < len(masked)) and not _signal(_HAS_SIGNAL, _SIGNAL_END, masked, a, b):
            continue
        text = original[a:b]
        normalized = masked[a:b]
        targets, problems = _sentence(text if normalized == text else normalized, text, default_year)
        result.targets += targets
        if problems:
            result.problems += problems
            malformed = malformed or any(p.type == "target-unit-malformed" for p in problems)
    if malformed:  # the suggestion names the full unit used anywhere in the text, not only in the sentence
        result.problems = [_malformed_suggestion(p, masked) if p.type == "target-unit-malformed" else p
                           for p in result.problems]
    if period:
        seen = set()
        for t in result.targets:
            if t.year is not None and not period[0] <= t.year <= period[1] and t.year not in seen:
                seen.add(t.year)
                result.problems.append(Problem(
                    "target-year-out-of-period",
                    f"目标年份{t.year}年不在规划期（{period[0]}—{period[1]}年）内", severity="warning",
                    value=t.text, suggestion=f"核对年份，规划期为{period[0]}—{period[1]}年"))
    return result


def _signal(pattern: re.Pattern, ends: re.Pattern, s: str, a: int, b: int) -> bool:
    """Whether ``pattern`` occurs in ``s[a:b]``; ``ends`` holds the last character of each of its alternatives,
    so one scan for those rules out most text and a digit (the usual signal) settles it."""
    m = ends.search(s, a, b)
    if m is None:
        return False
    return m.group() in _DIGITS or pattern.search(s, a, b) is not None


_DIGITS = frozenset("0123456789０１２３４５６７８９")


def _narrow(text: str) -> str:
    """``text.translate(_WIDTH)``, 2–3 times faster: translate looks every character up in a dict, while
    a text holds only a few of the wide ones, each replaced in one C-speed pass."""
    if not _WIDE.search(text):
        return text
    for wide, narrow in _WIDE_PAIRS:
        if wide in text:
            text = text.replace(wide, narrow)
    return text


def _mask(m: re.Match) -> str:
    return "□" * len(m.group())


@lru_cache(maxsize=32_768)  # the city's sentences, which districts copy, are a few thousand
def _sentence(s: str, original: str, default_year: int | None) -> tuple[tuple[Target, ...], tuple[Problem, ...]]:
    """The targets and problems of one sentence (``s`` normalized and masked, ``original`` as written): a
    year, 每年 and a metric carry to the sentence's end and no further, so a sentence reads the same in any
    text. Callers copy what they keep."""
    result = TargetResult()
    state = _Sentence(default_year)
    b = len(s)
    for clause in (_CLAUSE if "," in s else _CLAUSE_PLAIN).finditer(s, 0, b):
        for x, y in _windows(s, clause.start(), clause.end()):
            if _signal(_CLAUSE_SIGNAL, _CLAUSE_SIGNAL_END, s, x, y):
                _clause(s, original, x, y, state, default_year, result)
    return tuple(result.targets), tuple(result.problems)


def _malformed_suggestion(p: Problem, s: str) -> Problem:
    """A target-unit-malformed problem whose suggestion names the unit the whole text ``s`` uses."""
    m = _BRACKETED_UNIT.search((p.value or "").translate(_WIDTH))
    used = _unit_used_with(s, f"（{m.group(1)}）") if m else None
    if not used:
        return p
    number = _strip((p.value or "")[:m.start()])
    return replace(p, suggestion=f"改为“{number}{used}”（与本条其他数值的单位一致）")


MAX_CLAUSE = 300  # characters one target may span: a real clause is shorter; a longer run is cut into pieces
_NUMBERISH = frozenset("0123456789.,万亿千百十%")


def _windows(s: str, a: int, b: int):
    """A clause as pieces of at most MAX_CLAUSE characters, never cut inside a number: the work on one
    clause grows with the square of its length, so a line of text with no punctuation stays linear."""
    while b - a > MAX_CLAUSE:
        cut = a + MAX_CLAUSE
        floor = cut - 40
        while cut > floor and s[cut - 1] in _NUMBERISH and s[cut] in _NUMBERISH:
            cut -= 1
        yield a, cut
        a = cut
    yield a, b


def _clause(s: str, original: str, a: int, b: int, state: _Sentence, default_year: int | None,
            result: TargetResult) -> None:
    """Read one clause (between ，；：) of a sentence: its year markers, context words, quantities."""
    events: list[tuple[int, str, object]] = []
    quantities: list[_Quantity] = []
    for m in _TOKEN.finditer(s, a, b):
        year = _year_token(s, m, a, b)
        if year is not None:
            if year[0]:
                events.append((m.start(), "year", year))
            continue
        q = _quantity(s, m, a, b)
        if q is not None:
            quantities.append(q)
    _groups(s, quantities, b)
    # Where each target's words begin, sorted: a metric read after a number ends at the next of them.
    leads = sorted(q.lead for q in quantities if not q.bare)
    for q in quantities:
        if q.bare:
            continue
        events.append((q.lead, "quantity", q))
    for m in _CONTEXT.finditer(s, a, b):
        events.append((m.start(), m.group(), m.end()))
    outcomes = [m for m in _QUALITATIVE.finditer(s, a, b)
                if not any(q.start <= m.start() < q.end for q in quantities)] if _OUTCOME_END.search(s, a, b) else []
    events += [(m.start(), "qualitative", m) for m in outcomes]
    events.sort(key=lambda e: e[0])

    year_here = False
    cumulative = False
    region = a  # where the next metric may begin
    group_metrics: list[str | None] = []
    for _, kind, data in events:
        if kind == "year":
            state.year, region = data[0], max(region, data[1])
            state.per_year, year_here = False, True
        elif kind in ("每年", "年均"):
            state.per_year = True
            if not year_here:
                state.year = default_year
        elif kind == "累计":
            cumulative = True
        elif kind == "quantity":
            q = data
            if q.respectively and not group_metrics:
                group_metrics = _respectively_metrics(original, region, q, quantities)
            if group_metrics:
                metric = group_metrics.pop(0)
                text = _group_text(original, region, q, quantities)
            else:
                metric, end = _metric(original[region:q.lead]), q.end
                if metric is None:
                    metric = _metric_after(s, original, q, leads, b)
                    end = _after_end(s, q, leads, b) if metric else q.end
                text = _strip(original[region:end])
            metric = metric or state.last_metric
            target = _target(q, text, metric, state, cumulative)
            result.targets.append(target)
            result.problems.extend(_quantity_problems(q, target, original, s))
            state.last_metric = metric
            if not group_metrics:
                region = q.end
        elif kind == "qualitative":
            m = data
            if state.year is None or m.start() < region:
                continue  # none without a year; none inside the text of the one before (基本淘汰基本淘汰)
            metric = _metric(original[region:m.start()])
            phrase = m.group()
            comparator = next((c for p, c in QUALITATIVE_PATTERNS.items() if re.fullmatch(p, phrase)), "=")
            end = _lead_from(leads, m.end(), b)
            # A基本淘汰、B全部淘汰: the text runs to the 、 before the next outcome, which begins its own
            following = next((o.start() for o in outcomes if m.end() <= o.start() < end), None)
            if following is not None and s.rfind("、", m.end(), following) >= 0:
                end = s.rfind("、", m.end(), following)
            result.targets.append(Target(
                text=_strip(original[region:end]), year=state.year, per_year=state.per_year, cumulative=cumulative,
                metric=metric, comparator=comparator, qualitative=True))
            region = end


def _year_token(s: str, m: re.Match, a: int, b: int) -> tuple[int, int] | None:
    """A 4-digit year followed by 年: (year, where its phrase ends) when it sets the target year
    (到2025年底, 2025年12月底前); (0, end) when it is a date, a base year (较2023年), part of a range
    or past (2023年以来); None when the token is no year at all."""
    token = m.group()
    if len(token) != 4 or not token.isdigit() or not s.startswith("年", m.end()) or token[:2] not in ("19", "20"):
        return None
    i, start = m.end() + 1, m.start()
    end = _YEAR_END.match(s, i, b).end()
    if end == i and (_DATE_AFTER.match(s, i, b) or s.startswith(("月", "版", "以来", "以前", "之前", "起", "开始"), i, b)):
        return 0, i
    if s.endswith(BASE_MARKERS, a, start) or _RANGE_AFTER.match(s, i, b):
        return 0, i
    k = start
    while k > a and s[k - 1].isspace():
        k -= 1
    if k > a and s[k - 1] in _RANGE_SEPARATORS and _RANGE_BEFORE.search(s, a, start):  # 2024—2025年
        return 0, i
    return int(token), end


def _quantity(s: str, m: re.Match, a: int, b: int) -> _Quantity | None:
    """The number at ``m`` with magnitude, unit and comparator words; None when it is not a target
    (a code like GB 55015 or 5G, an ordinal, a bound that describes a noun)."""
    token, start, j = m.group(), m.start(), m.end()
    if token in MULTIPLES:
        q = _Quantity(start, start, j, Decimal(MULTIPLES[token]), unit="%", growth=1)
    else:
        if len(token) > 15:
            return None
        before = s[a:start].rstrip(" ")
        if (before and before[-1] in _NOT_BEFORE_NUMBER) or (j < b and s[j] in _NOT_AFTER_NUMBER):
            return None
        q = _Quantity(start, start, j, Decimal(token.replace(",", "")))
        unit, j = _unit_at(s, j, b)
        if unit is None:
            if s[j:j + 1] in INFIXES and j + 1 < b:
                q.infix, j = INFIXES[s[j]], j + 1
            word = _MAGNITUDE.at(s, j, b)
            if word:
                q.magnitude, j = MAGNITUDES[word], j + len(word)
            if not q.infix and s[j:j + 1] in INFIXES and _unit_at(s, j + 1, b)[0]:
                q.infix, j = INFIXES[s[j]], j + 1
            unit, j = _unit_at(s, j, b)
        q.value *= q.magnitude
        q.unit = unit
        if unit is None:
            bracket = _BRACKETED_UNIT.match(s, j, b)
            if bracket and bracket.group(1) in UNITS:  # 428（套）
                q.issue, q.written_unit, j = "unit-malformed", f"（{bracket.group(1)}）", bracket.end()
            elif q.magnitude > 1 and s.startswith("级", j):  # 400亿级
                q.issue, j = "magnitude-ambiguous", j + 1
            elif q.magnitude > 1:  # 2.8万
                q.issue = "unit-missing"
            else:
                q.bare = True
    q.written_end = j
    word = _AFTER.at(s, j, b)
    if word:
        q.suffix, j = AFTER[word], j + len(word)
        if word in BOUNDS and j < b and s[j] not in _TERMINATORS and not (s[j] == "的" and q.unit == "%"):
            return None
    q.end = j
    _read_before(s, q, a)
    return q


def _unit_at(s: str, j: int, b: int) -> tuple[str | None, int]:
    word = _UNIT.at(s, j, b)
    return (UNITS[word], j + len(word)) if word else (None, j)


def _read_before(s: str, q: _Quantity, a: int) -> None:
    """Comparator, growth verb and base year written before the number."""
    p = q.start
    for _ in range(4):
        while p > a and s[p - 1] == " ":
            p -= 1
        word = _BEFORE.ending(s, a, p)
        if word is None:
            break
        kind, value = BEFORE[word]
        if kind == "growth":
            q.growth = value
            base = _BASE.search(s, a, p - len(word))
            if base:
                q.base_year = int(base.group(1)) if base.group(1) else None
                p = base.start()
            else:
                p -= len(word)
            break
        if q.prefix is None:  # the word nearest the number states the comparator (达到约 → 约)
            q.prefix, q.reach = value, kind == "reach"
        p -= len(word)
    if q.growth and not q.base_year:
        base = _BASE.search(s, a, p)
        if base:  # 较2023年翻一番
            q.base_year = int(base.group(1)) if base.group(1) else None
            p = base.start()
    if s.startswith("分别", p - 2) and p - 2 >= a:
        q.respectively, p = True, p - 2
    q.lead = p


def _groups(s: str, quantities: list[_Quantity], b: int) -> None:
    """Numbers listed with 、: "分别超过92%、75%" and "300、200个" share comparator and unit."""
    runs: list[list[_Quantity]] = []
    for q in quantities:
        if runs and s[runs[-1][-1].end:q.lead] in ("、", "和", "及"):
            runs[-1].append(q)
        else:
            runs.append([q])
    for run in runs:
        if len(run) < 2:
            continue
        last = run[-1]
        for q in run[:-1]:
            if q.bare and not last.bare:
                q.bare, q.unit, q.issue = False, last.unit, last.issue
                q.magnitude, q.value = last.magnitude, q.value * last.magnitude
            if q.suffix is None:
                q.suffix = last.suffix
        for q in run[1:]:
            if q.prefix is None:
                q.prefix, q.reach = run[0].prefix, run[0].reach
            q.growth, q.base_year = q.growth or run[0].growth, q.base_year or run[0].base_year
            q.respectively = q.respectively or run[0].respectively
    for first, second in zip(quantities, quantities[1:]):  # 10-20座: at least the lower bound
        if first.bare and s[first.end:second.lead] in _RANGE_SEPARATORS and not second.bare:
            second.value = first.value * second.magnitude
            second.start, second.lead = first.start, first.lead
            second.prefix, second.reach = second.prefix or ">=", False
            if second.suffix in ("<=", "~"):
                second.suffix = None
    for q in quantities:  # a unitless number is a target only when a comparator says so: 达到300。
        if q.bare and (q.prefix or q.suffix) and (q.end >= b or s[q.end] in _TERMINATORS):
            q.bare, q.issue = False, "unit-missing"


def _comparator(q: _Quantity) -> tuple[str, bool]:
    """The comparator of a quantity and whether its words contradict each other (超过…以内)."""
    prefix, suffix = q.prefix, q.suffix
    conflict = bool(prefix and suffix and _DIRECTION[prefix] * _DIRECTION[suffix] < 0)
    if suffix and (prefix is None or q.reach or (prefix == "~" and _DIRECTION[suffix])):
        return suffix, conflict
    return prefix or q.infix or "=", conflict


def _target(q: _Quantity, text: str, metric: str | None, state: _Sentence, cumulative: bool) -> Target:
    comparator, _ = _comparator(q)
    value = q.value * q.growth if q.growth else q.value
    return Target(
        text=text, year=state.year, per_year=state.per_year, cumulative=cumulative,
        kind="growth" if q.growth else "level", base_year=q.base_year, metric=metric, comparator=comparator,
        value=_number(value), unit=q.unit or q.written_unit, qualitative=False)


def _unit_used_with(s: str, bracket: str) -> str | None:
    """The full unit written elsewhere in the text for a bare （套）: 台（套）."""
    inner = bracket.strip("（）")
    for word in UNITS:
        if word.endswith(f"({inner})") and word != f"({inner})" and re.search(f"[0-9]{re.escape(word)}", s):
            return UNITS[word]
    return None


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else 0


def _quantity_problems(q: _Quantity, target: Target, original: str, s: str) -> list[Problem]:
    """The format problems of one quantity; ``s`` is the whole text, for the units used elsewhere."""
    written = _strip(original[q.start:q.written_end])
    problems = []
    if q.issue == "unit-missing":
        problems.append(Problem(
            "target-unit-missing", f"目标数值“{written}”缺少计量单位", severity="warning", value=written,
            suggestion="在数值后写明计量单位，如“万辆”“个”“亿元”"))
    elif q.issue == "magnitude-ambiguous":
        problems.append(Problem(
            "target-magnitude-ambiguous", f"“{written}”的数量级表述不明确，无法确定目标值和单位",
            severity="warning", value=written, suggestion="写成确切的数值和单位，如“400亿元”"))
    elif q.issue == "unit-malformed":
        bracket = q.written_unit or ""
        number = _strip(original[q.start:q.written_end - len(bracket)])
        used = _unit_used_with(s, bracket)
        problems.append(Problem(
            "target-unit-malformed", f"目标数值“{written}”的计量单位不完整", severity="warning", value=written,
            suggestion=f"改为“{number}{used}”（与本条其他数值的单位一致）" if used
            else "写明完整的计量单位，如“台（套）”"))
    comparator, conflict = _comparator(q)
    if conflict:
        problems.append(Problem(
            "target-comparator-conflict", f"“{_strip(original[q.lead:q.end])}”前后的比较词方向相反",
            severity="error", value=_strip(original[q.lead:q.end]),
            suggestion="保留一个比较词，如“不少于…”或“…以内”"))
    if target.unit == "%" and target.kind == "level" and target.value is not None and target.value > 100:
        problems.append(Problem(
            "target-share-over-100", f"比例目标“{written}”超过100%", severity="error", value=written,
            suggestion="核对数值，比例不能超过100%"))
    return problems


# ---------------------------------------------------------------------------------------------------
# Metrics


_NAMEISH = re.compile(r"[A-Za-z\u3400-\u9fff]")  # a metric names something: a letter or a character


@lru_cache(maxsize=65_536)  # the words before a number repeat across districts more than their sentences do
def _metric(text: str) -> str | None:
    """The noun phrase in ``text`` (between the previous target and this number)."""
    text = _strip(_ENUMERATION.sub("", _strip(text)))
    changed = True
    while changed and text:
        changed = False
        if text[0] in "（(" and not any(c in text for c in "）)"):
            text, changed = _strip(text[1:]), True
        if text and text[-1] in "）)" and not any(c in text for c in "（("):
            text, changed = _strip(text[:-1]), True
        word = _LEAD.at(text, 0, len(text))
        if word and len(text) - len(word) != 1:  # 完成率 stays whole
            text, changed = _strip(text[len(word):]), True
        for word in TAIL_WORDS:
            if text.endswith(word):
                text, changed = _strip(text[:-len(word)]), True
                break
    if not _NAMEISH.search(text) or text in VERB_ONLY:
        return None
    return text


def _strip(text: str) -> str:
    return text.strip(" 、，,；;：:。")


def _lead_from(leads: list[int], pos: int, b: int) -> int:
    """The first of the sorted ``leads`` at or after ``pos``, else ``b`` (a bisection: a clause of a
    hundred numbers would otherwise scan them all for each one)."""
    i = bisect_left(leads, pos)
    return leads[i] if i < len(leads) else b


def _after_end(s: str, q: _Quantity, leads: list[int], b: int) -> int:
    """Where a metric written after the number ends."""
    end = _lead_from(leads, q.end, b)
    if s.startswith("的", q.end):
        return end
    stops = [i for i in (s.find(w, q.end, end) for w in AFTER_STOPS) if i >= 0]
    outcome = _QUALITATIVE.search(s, q.end, end)  # …10家基本完成: the outcome is no noun
    return min([*stops, outcome.start() if outcome else end], default=end)


def _metric_after(s: str, original: str, q: _Quantity, leads: list[int], b: int) -> str | None:
    """培育10家工业互联网园区 → 工业互联网园区; 60%的城市生活污水处理厂（站）完成准IV类提标改造."""
    start = q.end + 1 if s.startswith("的", q.end) else q.end
    return _metric(original[start:_after_end(s, q, leads, b)])


def _respectively_metrics(original: str, region: int, first: _Quantity,
                          quantities: list[_Quantity]) -> list[str | None]:
    """A、B分别超过92%、75% → [A, B]; the whole phrase for each value when the counts differ."""
    members = [first] + [q for q in quantities if q.respectively and q.lead > first.lead]
    phrase = _metric(original[region:first.lead]) or ""
    for separators in ("、", "、和及"):
        items = [m for m in (_metric(i) for i in re.split(f"[{separators}]", phrase)) if m]
        if len(items) == len(members):
            return list(items)
    return [phrase or None] * len(members)


def _group_text(original: str, region: int, q: _Quantity, quantities: list[_Quantity]) -> str:
    last = max((o.end for o in quantities if o.respectively and o.lead >= q.lead), default=q.end)
    return _strip(original[region:last])


def _outcome(text: str) -> str | None:
    m = _QUALITATIVE.search(text.translate(_WIDTH))
    return _strip(text[m.start():]) if m else None


def _format_amount(value: int | float, unit: str | None) -> str:
    """13000, 个 → 1.3万个; 13000000000, 元 → 130亿元; 90, 座 → 90座."""
    amount = Decimal(str(value))
    word = ""
    if unit not in PERCENT_UNITS:
        for w, factor in (("亿", 10**8), ("万", 10**4)):
            if abs(amount) >= factor:
                amount, word = amount / factor, w
                break
    text = format(amount.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{word}{unit or ''}"


def _year_words(target: Target) -> str:
    return "".join([f"{target.year}年" if target.year else "", "每年" if target.per_year else "",
                    "累计" if target.cumulative else ""])


def _disjoint(x: Target, y: Target) -> bool:
    """Whether two bounds on one metric cannot both hold ("~" never contradicts)."""
    bounds = [_bounds(t) for t in (x, y)]
    if None in bounds:
        return False
    (lo1, lo1_open, hi1, hi1_open), (lo2, lo2_open, hi2, hi2_open) = bounds
    lo, lo_open = max((lo1, lo1_open), (lo2, lo2_open))
    hi, hi_open = min((hi1, not hi1_open), (hi2, not hi2_open))
    hi_open = not hi_open
    return lo > hi or (lo == hi and (lo_open or hi_open))


def _bounds(t: Target):
    v, inf = t.value, math.inf
    return {">=": (v, False, inf, True), ">": (v, True, inf, True), "<=": (-inf, True, v, False),
            "<": (-inf, True, v, True), "=": (v, False, v, False)}.get(t.comparator)


def _column_letter(index: int | None) -> str | None:
    """0 → A, 25 → Z, 26 → AA; None for no column."""
    if index is None or index < 0:
        return None
    return column_letter(index + 1)

