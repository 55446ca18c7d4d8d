"""One problem model for every reader and validator.

Bad data never raises: it becomes a :class:`Problem` in a :class:`Report`. A problem carries its
location (file, sheet, cell or line), the offending value, a Chinese message for the clerk and a
suggestion. Reports render to JSON here, and to workbook marks / a 问题清单 sheet elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

from .display import has_escapes, readable

SEVERITIES = ("error", "warning", "info")
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}

# Chinese titles of problem types, for the 问题清单 sheet (target-* titles: TARGET_TITLES below).
TITLES = {
    "missing-header": "缺少台账表头",
    "missing-lead-unit": "缺少牵头单位",
    "unrecognized-row": "无法识别的行",
    "bad-seq": "序号不是数字",
    "form-text": "填报信息（非任务）",
    "note-row": "说明文字（非任务）",
    "unlabelled-cell": "无表头的单元格",
    "cell-alignment": "单元格可能错位",
    "incomplete-row": "末行单元格不全",
    "unplaced-text": "未归入任务的段落",
    "renumbered": "已重新编号",
    "numbering-gap": "任务编号不连续",
    "pdf-image-page": "PDF 中的图片页（未读取）",
    "pdf-unreadable-characters": "PDF 中无法识别的字符",
    "body-ledger-units": "正文与台账单位不一致",
    "body-ledger-text": "正文与台账文字不同",
    "body-only-task": "正文任务未列入台账",
    "ledger-only-task": "台账任务正文中没有",
    "unknown-region": "无法判断地区",
    "template-other-region": "模板属于其他地区",
    "unit-unknown": "单位不在名录中",
    "unit-typo": "单位名称疑似错字",
    "unit-wrong-level": "单位层级不符",
    "unit-alias": "单位简称或别称",
    "unit-collective": "泛指单位",
    "unit-split": "单位名称连写",
    "unit-broken-line": "单位名称被断行",
    "unit-separator": "单位分隔符不规范",
    "unit-duplicate": "单位重复",
    "unit-lead-and-responsible": "同一单位既牵头又负责",
    "unit-inconsistent-form": "同一单位写法不一",
    "unit-rare-spelling": "少见写法疑似错误",
    "directory-duplicate": "名录中单位重复",
    "directory-alias-conflict": "名录中别名冲突",
    "directory-incomplete-row": "名录行不完整",
    "directory-bad-kind": "名录单位类型未知",
    "directory-bad-counterpart": "名录市级对应单位不存在",
    # filling a template
    "kept-clerk-value": "保留了已填写的内容",
    "removed-row-with-values": "删除的任务原有填报内容",
    "row-too-tall": "行高已达上限",
    "template-missing-prototype": "模板缺少样式原型",
    # consolidation
    "unreadable-file": "文件无法读取",
    "over-limit": "文件超过读取上限",
    "unreadable-sheet": "工作表无法读取",
    "cell-too-long": "单元格文字过长",
    "empty-ledger": "文件中没有任务行",
    "unknown-district": "无法判断报送地区",
    "superseded-file": "已被新版本取代",
    "newer-in-archive": "归档中有更新版本",
    "check-failed": "核对出错",
    "unmapped-row": "未对应到市级任务",
    "mapping-unknown-task": "映射表中的市级任务序号不存在",
    "own-output": "汇总结果文件（未作为报送读取）",
    "missing-district": "地区未报送",
    "own-task": "本区自行增加的任务",
    # a distributed workbook coming back
    "returned-other-region": "不是本地区的填报表",
    "returned-key-duplicate": "任务键重复",
    "returned-locked-changed": "市级内容被改动",
    "returned-blank-row": "市级任务未填写",
    "returned-row-deleted": "市级任务行被删除",
    "returned-older-city": "按旧版市级台账填报",
    # feedback to districts (consolidate --feedback)
    "feedback-uncovered-task": "市级任务未覆盖",
    "feedback-target-short": "市级目标有差距",
    "feedback-unmapped-row": "未对应到市级任务",
    "form-no-place": "内容未能放回填报表",
    # distributing the city ledger
    "distribute-unknown-region": "名录中没有该地区",
    "distribute-deadline-past": "报送截止日期已过",
    "distribute-replaced": "以前分发的文件已移走",
    "na-without-reason": "不涉及未说明原因",
    "distribute-no-units": "名录中没有该地区的单位",
}


# The target format problems target_text.py reports.
TARGET_TITLES = {
    "target-unit-missing": "目标数值缺少单位",
    "target-unit-malformed": "目标单位写法不规范",
    "target-magnitude-ambiguous": "目标数量级不明确",
    "target-year-out-of-period": "目标年份不在规划期内",
    "target-share-over-100": "比例目标超过100%",
    "target-unit-mismatch": "同一指标单位不一致",
    "target-comparator-conflict": "目标比较关系矛盾",
}


def problem_title(type_: str) -> str:
    """The Chinese title of a problem type (its code when none is known)."""
    return TITLES.get(type_) or TARGET_TITLES.get(type_, type_)


@dataclass
class Problem:
    """One thing wrong (or worth a look) in an input."""

    type: str  # kebab-case, stable: tests and tools key on it
    message: str  # Chinese, for the clerk
    severity: str = "warning"
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    line: int | None = None
    value: str | None = None
    suggestion: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        # a file named in GBK bytes reaches us escaped: every text of a problem is written somewhere
        for name in ("message", "file", "value", "suggestion"):
            text = getattr(self, name)
            if text.__class__ is str and has_escapes(text):
                setattr(self, name, readable(text))

    def __reduce__(self):  # by position: cheaper to send between processes
        return Problem, (self.type, self.message, self.severity, self.file, self.sheet, self.cell, self.line,
                         self.value, self.suggestion)

    @property
    def where(self) -> str:
        """Location as a clerk reads it: 文件 / 工作表 / 单元格 or 行."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(self.sheet)
        if self.cell:
            parts.append(self.cell)
        if self.line is not None:
            parts.append(f"第{self.line}行")
        return " / ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __str__(self) -> str:
        where = f"[{self.where}] " if self.where else ""
        return f"{SEVERITY_ZH[self.severity]} {where}{self.message}"


@dataclass
class Report:
    """Problems collected while doing one job; ``valid`` when none is an error or warning."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> Problem:
        self.problems.append(problem)
        return problem

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def valid(self) -> bool:
        return not any(p.severity in ("error", "warning") for p in self.problems)

    def flatten(self, keys: Iterable[str]) -> list[list]:
        keys = list(keys)
        return [[getattr(p, k) for k in keys] for p in self.problems]

    def of_type(self, type_: str) -> list[Problem]:
        return [p for p in self.problems if p.type == type_]

    def to_list(self) -> list[dict]:
        return [p.to_dict() for p in self.problems]

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self):
        return iter(self.problems)


# ---------------------------------------------------------------------------------------------------
# Problems at scale: one line per kind of problem in a file, and a summary line.

GROUP_AT = 4  # this many problems of one type in one file become one line of a 问题清单
GROUP_PLACES = 12  # cells (or lines) named on a grouped line; the rest are counted
GROUP_VALUES = 5  # distinct values named in its 内容


def group_problems(problems: Iterable[Problem], at: int = GROUP_AT) -> list[Problem]:
    """Problems for a 问题清单: ``at`` or more of one type and severity in one file (and sheet, so a cell named
    is unambiguous) become one problem at the place of the first (its cell keeps the link), its message the
    count and the places ("共37处：D5、D9、E12……"),
    then the first one's message as an example. Order is kept (a group stands where its first member was).
    Only problems at a place (a cell or a line) are grouped: those of a whole file or of the run each say
    something of their own (未覆盖市级任务3…), and there are at most as many as the city has tasks. The full
    detail stays in the problems themselves (``--json``, the cells' notes)."""
    problems = list(problems)
    members: dict[tuple, list[Problem]] = {}
    for p in problems:
        if (key := _group_key(p)) is not None:
            members.setdefault(key, []).append(p)
    out = []
    for p in problems:
        group = members.get(_group_key(p))
        if group is None or len(group) < at:
            out.append(p)
        elif group[0] is p:
            out.append(_grouped(group))
    return out


def _group_key(p: Problem) -> tuple | None:
    return (p.file, p.sheet, p.type, p.severity) if p.file and (p.cell or p.line is not None) else None


def _grouped(group: list[Problem]) -> Problem:
    first = group[0]
    places = list(dict.fromkeys(_place(p) for p in group if _place(p)))
    named = "、".join(places[:GROUP_PLACES]) + ("……" if len(places) > GROUP_PLACES else "")
    message = f"共{len(group):,}处：\n{named}。\n例：{first.message}"  # (a list of cells wraps badly after ：)
    values = list(dict.fromkeys(p.value for p in group if p.value))
    value = "、".join(values[:GROUP_VALUES]) + (f"……等{len(values)}项" if len(values) > GROUP_VALUES else "")
    suggestions = {p.suggestion for p in group}
    suggestion = first.suggestion if len(suggestions) == 1 else (
        f"如：{first.suggestion}" if first.suggestion else None)
    return replace(first, message=message, value=value or None, suggestion=suggestion,
                   line=None if first.cell else first.line)


def _place(p: Problem) -> str | None:
    if p.cell:
        return p.cell
    return f"第{p.line}行" if p.line is not None else None


@dataclass
class TypeCount:
    """One kind of problem across a consolidation: how many, and in which districts (in the order first met)."""

    severity: str
    type: str
    count: int = 0
    regions: list[str] = field(default_factory=list)
    unplaced: int = 0  # problems of no district (the city ledger's, the mapping sheet's)

    @property
    def title(self) -> str:
        return problem_title(self.type)


def problem_overview(problems: Iterable[Problem], region: Callable[[Problem], str | None]) -> list[TypeCount]:
    """Problems counted by severity and type, the worst first, then those in the most districts: what 300
    districts' thousands of problems come to, a line a kind."""
    kinds: dict[tuple[str, str], TypeCount] = {}
    seen: dict[tuple[str, str], set] = {}
    for p in problems:
        key = (p.severity, p.type)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = TypeCount(p.severity, p.type)
            seen[key] = set()
        kind.count += 1
        where = region(p)
        if where is None:
            kind.unplaced += 1
        elif where not in seen[key]:
            seen[key].add(where)
            kind.regions.append(where)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(kinds.values(), key=lambda k: (rank[k.severity], -len(k.regions), -k.count, k.type))


def problem_summary(problems: Iterable[Problem], region: Callable[[Problem], str | None] | None = None) -> str:
    """"错误 1,234 条（12 个地区），警告 56 条（3 个地区），提示 7 条": how many, and in how many districts
    (``region`` names a problem's district; problems of none are counted, not placed)."""
    counts = {s: 0 for s in SEVERITIES}
    regions: dict[str, set] = {s: set() for s in SEVERITIES}
    for p in problems:
        counts[p.severity] += 1
        where = region(p) if region else None
        if where:
            regions[p.severity].add(where)
    parts = []
    for s in SEVERITIES:
        text = f"{SEVERITY_ZH[s]} {counts[s]:,} 条"
        if regions[s]:
            text += f"（{len(regions[s]):,} 个地区）"
        parts.append(text)
    return "，".join(parts)
