"""Plain data of a consolidation: what was received, how rows map to city tasks, what was summed.

Every door (CLI, API, add-in) and the rollup writer work on these; nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..model import Ledger, TaskRow
from ..problems import Problem


@dataclass
class Received:
    """One file from a district's inbox (or the archive), as read."""

    path: Path
    name: str  # file name as received
    sha256: str
    size: int
    received: datetime  # file modification time, or when the archive took it in
    region: str | None = None
    region_from: str | None = None  # meta | title | filename | option
    ledger: Ledger | None = None  # None when the file could not be read
    version: int = 1  # 1, 2, … per region in order received
    superseded_by: str | None = None  # sha256 of the newer file that replaced this one
    problems: list[Problem] = field(default_factory=list)
    row_targets: list = field(default_factory=list)  # per ledger row: the Targets in its text
    goal_targets: list = field(default_factory=list)  # per goal: the Targets in its text
    row_maps: list = field(default_factory=list)  # per ledger row: (city seqs, confidence, method)
    own_output: bool = False  # a rollup xltools wrote, found in the inbox: noted, never read as a district

    @property
    def rows(self) -> list[TaskRow]:
        return self.ledger.rows if self.ledger else []

    @property
    def blank(self) -> bool:
        """A file sent back with nothing of the district's in it (a distributed form as it came, or with only
        the 填报单位 line filled): it counts as submitted, covering nothing (已报送（空白）)."""
        from ..returned import goal_reported, is_blank

        return self.ledger is not None and all(map(is_blank, self.ledger.rows)) \
            and not any(map(goal_reported, self.ledger.goals))


@dataclass
class Mapping:
    """A district row and the city tasks it serves (none when unmapped)."""

    region: str
    row: TaskRow
    city_seqs: list[int]
    confidence: float
    # key | seq | name | similarity | manual | none | blank (nothing of the district's in the row) | own (a task
    # of the district's own) | na (the district does not carry out the tasks in ``na_seqs``: 不涉及)
    method: str
    file: str = ""
    na_seqs: list[int] = field(default_factory=list)

    @property
    def mapped(self) -> bool:
        return bool(self.city_seqs)

    @property
    def unmatched(self) -> bool:
        """Mapped to no city task although meant to be: not a district's own task, not a row left blank, not a
        task it does not carry out (each reported as such)."""
        return not self.city_seqs and self.method not in QUIET_METHODS

    def to_dict(self) -> dict:
        return {"region": self.region, "row_seq": self.row.seq, "task": self.row.task,
                "city_seq": list(self.city_seqs), "confidence": round(self.confidence, 3), "method": self.method,
                "not_applicable": list(self.na_seqs), "file": self.file, "sheet": self.row.origin.sheet,
                "row": self.row.origin.row, "line": self.row.origin.line}


QUIET_METHODS = ("own", "blank", "na")  # rows mapped to no city task on purpose


@dataclass
class TargetComparison:
    """A numeric target of the city and the districts' figures for it."""

    city_seq: int | None  # None for a goal (工作目标) row
    city_task: str
    metric: str
    unit: str | None
    year: int | None
    comparator: str
    city_value: float | int | None
    districts: dict[str, float | int] = field(default_factory=dict)  # region → its figure (summable units)
    missing: list[str] = field(default_factory=list)  # regions covering the task (or goal) without a figure
    summable: bool = True  # False for shares (%) and growth rates: shown, not added up
    per_year: bool = False  # 每年…: a yearly figure, with no year of its own
    # region → the figures it gives for the task under another metric (新建充电桩 120座 for 充换电站): shown, not summed
    other: dict[str, list[str]] = field(default_factory=dict)
    uncovered: list[str] = field(default_factory=list)  # regions not covering the task at all
    not_applicable: list[str] = field(default_factory=list)  # regions saying they do not carry it out (不涉及)
    target: object = field(default=None, repr=False, compare=False)  # the city's Target
    _statuses: dict | None = field(default=None, init=False, repr=False, compare=False)

    def status(self, region: str) -> str:
        """What a district reported for this target: figure | other | missing | na | uncovered | none (a
        district not in the comparison). Looked up in a table made at the first call, once the comparison is
        complete: 3,000 districts would otherwise scan lists of 3,000 for each."""
        if self._statuses is None:
            table = dict.fromkeys(self.missing, "missing")
            table.update(dict.fromkeys(self.uncovered, "uncovered"))
            table.update(dict.fromkeys(self.not_applicable, "na"))
            table.update(dict.fromkeys(self.other, "other"))
            table.update(dict.fromkeys(self.districts, "figure"))
            self._statuses = table
        return self._statuses.get(region, "none")

    @property
    def district_sum(self) -> float | int | None:
        if not self.summable or not self.districts:
            return None
        return sum(self.districts.values())

    @property
    def gap(self) -> float | int | None:
        total = self.district_sum
        if total is None or self.city_value is None:
            return None
        return self.city_value - total

    def to_dict(self) -> dict:
        return {"city_seq": self.city_seq, "city_task": self.city_task, "metric": self.metric, "unit": self.unit,
                "year": self.year, "comparator": self.comparator, "city_value": self.city_value,
                "district_sum": self.district_sum, "gap": self.gap, "districts": dict(self.districts),
                "missing": list(self.missing), "other_metric": {k: list(v) for k, v in self.other.items()},
                "uncovered": list(self.uncovered), "not_applicable": list(self.not_applicable),
                "summable": self.summable, "per_year": self.per_year}


def missing_regions(expected: list[str], received: list[Received]) -> list[str]:
    """Expected districts that sent nothing (not those whose files could not be used: ``unreadable_regions``)."""
    have = {r.region for r in received if r.region}
    return [r for r in expected if r not in have]


@dataclass
class Rollup:
    """Everything the rollup workbook and the JSON summary show."""

    city: Ledger
    city_file: str
    received: list[Received]  # every file used, latest version per region first
    superseded: list[Received]  # older versions of a region's file, kept in the archive
    mappings: list[Mapping]
    targets: list[TargetComparison]
    expected_regions: list[str]
    problems: list[Problem]
    created: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    archive_run: str | None = None  # id of this run in the archive, to reproduce it
    city_sha256: str | None = None
    city_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (see ``consolidate``)
    feedback: list[Path] = field(default_factory=list)  # feedback workbooks written (``--feedback``)
    feedback_stale: list[Path] = field(default_factory=list)  # feedback left in that folder by an earlier run

    @property
    def regions(self) -> list[str]:
        return [r.region for r in self.received if r.region and r.ledger is not None]

    @property
    def unreadable_regions(self) -> list[str]:
        """Districts that sent files, none of them usable (unreadable, over a limit, no task rows): the
        expected ones in their order, then any other the file names give."""
        have = set(self.regions)
        sent = {r.region for r in self.received if r.region and r.ledger is None and r.region not in have}
        return [r for r in self.expected_regions if r in sent] + sorted(sent - set(self.expected_regions))

    @property
    def missing_regions(self) -> list[str]:
        return missing_regions(self.expected_regions, self.received)

    def unusable_files(self, region: str) -> list[Received]:
        """A district's files in use that gave no ledger (``unreadable_regions``)."""
        return [r for r in self.received if r.region == region and r.ledger is None]

    @property
    def blank_regions(self) -> list[str]:
        """Districts whose file in use is blank (``Received.blank``): submitted, covering nothing."""
        return [r.region for r in self.received if r.region and r.blank]

    def coverage(self) -> dict[int, dict[str, list[Mapping]]]:
        """city seq → region → the district rows mapped to it."""
        out: dict[int, dict[str, list[Mapping]]] = {row.seq: {} for row in self.city.rows if row.seq is not None}
        for m in self.mappings:
            for seq in m.city_seqs:
                out.setdefault(seq, {}).setdefault(m.region, []).append(m)
        return out

    def not_applicable(self) -> dict[int, dict[str, list[Mapping]]]:
        """city seq → region → the district rows saying it does not carry out the task (不涉及); a region that
        also covers the task counts as covering it."""
        covered = self.coverage()
        out: dict[int, dict[str, list[Mapping]]] = {}
        for m in self.mappings:
            for seq in m.na_seqs:
                if m.region not in covered.get(seq, {}):
                    out.setdefault(seq, {}).setdefault(m.region, []).append(m)
        return out

    def uncovered(self) -> dict[str, list[int]]:
        """region (every district with a usable file) → the city tasks it neither covers nor says 不涉及 of:
        rows left blank, rows deleted, tasks no row of it serves."""
        covered, na = self.coverage(), self.not_applicable()
        seqs = [row.seq for row in self.city.rows if row.seq is not None]
        return {region: [s for s in seqs if region not in covered.get(s, {}) and region not in na.get(s, {})]
                for region in self.regions}

    def summary(self) -> dict:
        """The JSON contract of ``xltools consolidate --json``."""
        by_file: dict[tuple, list[Mapping]] = {}  # two districts may both send 工作台账.xlsx
        for m in self.mappings:
            by_file.setdefault((m.region, m.file), []).append(m)
        return {
            "city": {"region": self.city.region, "file": self.city_file, "sha256": self.city_sha256,
                     "tasks": len(self.city.rows)},
            "districts": [
                {"region": r.region, "file": r.name, "sha256": r.sha256, "version": r.version,
                 "rows": len(r.rows), "mapped": sum(m.mapped for m in by_file.get((r.region, r.name), [])),
                 "unmapped": sum(not m.mapped for m in by_file.get((r.region, r.name), []))}
                for r in self.received
            ],
            "superseded": [{"region": r.region, "file": r.name, "sha256": r.sha256, "version": r.version}
                           for r in self.superseded],
            "mapping": [m.to_dict() for m in self.mappings],
            "targets": [t.to_dict() for t in self.targets],
            "missing_regions": self.missing_regions,
            "unreadable_regions": self.unreadable_regions,
            "blank_regions": self.blank_regions,
            "uncovered": self.uncovered(),
            "not_applicable": {str(seq): sorted(by) for seq, by in self.not_applicable().items()},
            "problems": [p.to_dict() for p in self.problems],
            "archive_run": self.archive_run,
            "feedback": [str(p) for p in self.feedback],  # the workbooks of --feedback, if asked for
            "feedback_stale": [str(p) for p in self.feedback_stale],  # earlier runs' feedback in that folder
        }
