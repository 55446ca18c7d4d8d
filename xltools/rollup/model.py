"""Plain data of a consolidation: what was received, how rows map to city tasks, what was summed.

Every door (CLI, API, add-in) and the rollup writer work on these; nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..model import Ledger, TaskRow
from ..problems import Problem

ROLLUP_FORMAT = "xltools-rollup"  # the rollup workbook's custom property xltools_format


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


@dataclass
class Mapping:
    """A district row and the city tasks it serves (none when unmapped)."""

    region: str
    row: TaskRow
    city_seqs: list[int]
    confidence: float
    method: str  # key | seq | name | similarity | manual | none | blank (a distributed row left blank) | own
    file: str = ""

    @property
    def mapped(self) -> bool:
        return bool(self.city_seqs)

    @property
    def unmatched(self) -> bool:
        """Mapped to no city task although meant to be: not a district's own task, not a city row left blank
        (each reported as such)."""
        return not self.city_seqs and self.method not in ("own", "blank")

    def to_dict(self) -> dict:
        return {"region": self.region, "row_seq": self.row.seq, "task": self.row.task,
                "city_seq": list(self.city_seqs), "confidence": round(self.confidence, 3), "method": self.method,
                "file": self.file, "sheet": self.row.origin.sheet, "row": self.row.origin.row,
                "line": self.row.origin.line}


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
    missing: list[str] = field(default_factory=list)  # regions covering the task without a figure
    summable: bool = True  # False for shares (%) and growth rates: shown, not added up
    per_year: bool = False  # 每年…: a yearly figure, with no year of its own

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
                "missing": list(self.missing), "summable": self.summable,
                "per_year": self.per_year}


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

    def coverage(self) -> dict[int, dict[str, list[Mapping]]]:
        """city seq → region → the district rows mapped to it."""
        out: dict[int, dict[str, list[Mapping]]] = {row.seq: {} for row in self.city.rows if row.seq is not None}
        for m in self.mappings:
            for seq in m.city_seqs:
                out.setdefault(seq, {}).setdefault(m.region, []).append(m)
        return out

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
            "problems": [p.to_dict() for p in self.problems],
            "archive_run": self.archive_run,
            "feedback": [str(p) for p in self.feedback],  # the workbooks of --feedback, if asked for
            "feedback_stale": [str(p) for p in self.feedback_stale],  # earlier runs' feedback in that folder
        }
