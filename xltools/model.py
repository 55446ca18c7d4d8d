"""The ledger model: plain data that every door (CLI, API, add-in) passes around."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .problems import Problem

LEVEL_CITY = "市"
LEVEL_COUNTY = "区县"


@dataclass
class Origin:
    """Where a row came from: a line of a text document or a cell/row of a workbook."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None  # 1-based worksheet row
    line: int | None = None  # 1-based line in a text document

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def where(self, source: str | None = None, column: str | None = None) -> dict:
        """A problem's location (``Problem(**origin.where())``): a text line, or a worksheet cell in
        ``column`` (a letter), the row's first cell when the column is not known."""
        return {"file": self.file or source, "sheet": self.sheet, "line": self.line,
                "cell": f"{column or 'A'}{self.row}" if self.row else None}

    def __reduce__(self):  # by position: consolidation sends thousands of these between processes
        return Origin, (self.file, self.sheet, self.row, self.line)


@dataclass
class Goal:
    """A 工作目标 line: the plan's overall targets for a year. A district's goal row of a distributed form has
    the columns of a task row; what it reports besides the goal's text is kept as a task row's is."""

    year: int | None
    text: str
    lead_units: list[str] = field(default_factory=list)
    origin: Origin = field(default_factory=Origin)
    responsible_units: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # reporting columns (目标, 完成时限, …) and 任务键
    raw: dict[str, str] = field(default_factory=dict)  # the unit cells as written ("lead"/"resp")

    def to_dict(self) -> dict:
        return {"year": self.year, "text": self.text, "lead_units": list(self.lead_units),
                "responsible_units": list(self.responsible_units)}

    def __reduce__(self):
        return Goal, (self.year, self.text, self.lead_units, self.origin, self.responsible_units, self.extra,
                      self.raw)


@dataclass
class TaskRow:
    """One ledger row: a 重点任务 with its 工作内容 and units."""

    seq: int | None
    task: str
    content: str
    lead_units: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    section: str = ""  # 二、实施多领域设备更新行动
    subsection: str = ""  # （一）工业装备更新改造
    origin: Origin = field(default_factory=Origin)
    # Reporting columns a clerk fills in; kept across re-fills.
    extra: dict[str, str] = field(default_factory=dict)
    # The unit cells as written ("lead"/"resp"), before splitting: validators look at separators.
    raw: dict[str, str] = field(default_factory=dict)
    # 序号 as written when it is not a plain number (1.1, 2-3): kept, and the row is mapped by its content.
    label: str = ""

    def __reduce__(self):
        return TaskRow, (self.seq, self.task, self.content, self.lead_units, self.responsible_units, self.section,
                         self.subsection, self.origin, self.extra, self.raw, self.label)

    @property
    def number(self) -> str:
        """序号 as a clerk reads it: 5, 1.1, or empty."""
        return str(self.seq) if self.seq is not None else self.label

    @property
    def key(self) -> str:
        """Stable identity used in templates (hidden 任务键 column) and for re-fills."""
        return f"{self.seq}" if self.seq is not None else f"~{self.label or self.task}"

    def to_dict(self, with_origin: bool = False) -> dict:
        data = {
            "seq": self.seq,
            "label": self.label,
            "section": self.section,
            "subsection": self.subsection,
            "task": self.task,
            "content": self.content,
            "lead_units": list(self.lead_units),
            "responsible_units": list(self.responsible_units),
        }
        if with_origin:
            data["origin"] = self.origin.to_dict()
        return data


@dataclass
class Ledger:
    """A work ledger (工作台账): title, region, goals, task rows and what went wrong reading it."""

    title: str = ""
    region: str | None = None
    level: str | None = None  # 市 or 区县
    city: str | None = None  # the city a district belongs to (济南市)
    source: str | None = None
    goals: list[Goal] = field(default_factory=list)
    rows: list[TaskRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # For table sources: field ("seq", "task", "content", "lead", "resp", …) → 0-based column.
    columns: dict[str, int] = field(default_factory=dict)
    region_from: str | None = None  # how the region was known: meta | title | option
    numbering: str | None = None  # whose task numbers the seqs (and 任务键) are: the region that wrote the plan
    meta: dict[str, str] = field(default_factory=dict)  # a workbook's _xltools metadata, when it has one

    def to_dict(self, with_origin: bool = False) -> dict:
        return {
            "title": self.title,
            "region": self.region,
            "level": self.level,
            "city": self.city,
            "source": self.source,
            "goals": [g.to_dict() for g in self.goals],
            "rows": [r.to_dict(with_origin) for r in self.rows],
            "problems": [p.to_dict() for p in self.problems],
        }

    def unit_names(self) -> list[str]:
        """Every lead and responsible unit name of every task row, as often as written."""
        return [n for row in self.rows for n in row.lead_units + row.responsible_units]

    def to_json(self, **kwargs) -> str:
        kwargs.setdefault("ensure_ascii", False)
        kwargs.setdefault("indent", 1)
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict) -> Ledger:
        ledger = cls(
            title=data.get("title") or "",
            region=data.get("region"),
            level=data.get("level"),
            city=data.get("city"),
            source=data.get("source"),
        )
        for g in data.get("goals") or []:
            ledger.goals.append(Goal(g.get("year"), g.get("text", ""), list(g.get("lead_units") or []),
                                     responsible_units=list(g.get("responsible_units") or [])))
        for r in data.get("rows") or []:
            ledger.rows.append(
                TaskRow(
                    seq=r.get("seq"),
                    task=r.get("task", ""),
                    content=r.get("content", ""),
                    lead_units=list(r.get("lead_units") or []),
                    responsible_units=list(r.get("responsible_units") or []),
                    section=r.get("section", ""),
                    subsection=r.get("subsection", ""),
                    label=r.get("label") or "",
                )
            )
        ledger.problems = [Problem.from_dict(p) for p in data.get("problems") or []]
        return ledger
