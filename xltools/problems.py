"""One problem model for every reader and validator.

Bad data never raises: it becomes a :class:`Problem` in a :class:`Report`. A problem carries its
location (file, sheet, cell or line), the offending value, a Chinese message for the clerk and a
suggestion. Reports render to JSON here, and to workbook marks / a 问题清单 sheet elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}

# Chinese titles of problem types, for the 问题清单 sheet (target-* titles live in target_text.py).
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
    # distributing the city ledger
    "distribute-unknown-region": "名录中没有该地区",
    "distribute-no-units": "名录中没有该地区的单位",
}


def problem_title(type_: str) -> str:
    """The Chinese title of a problem type (its code when none is known)."""
    if type_ in TITLES:
        return TITLES[type_]
    if type_.startswith("target-"):
        from .target_text import PROBLEM_TITLES

        return PROBLEM_TITLES.get(type_, type_)
    return type_


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
