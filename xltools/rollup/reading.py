"""The two phases of a consolidation that run in worker processes: read, then check.

Phase 1, read: each district file becomes a ``Received`` (its ledger with file/sheet/row lineage, its
region, the problems of reading it). Phase 2, check: each district's unit names are validated (against
the unit directory, or against spellings learned from every district, known only once all are read),
its targets are parsed, and its rows are mapped to city tasks. The same worker processes serve both
phases; fewer than ``PARALLEL_FROM`` files are done in this process.

The parent keeps every row of every district, so while the phases run it pauses Python's cyclic
garbage collector (``paused_gc``): rows hold no reference cycles, and each full collection would walk
all of them again (it cost a third of the read phase at 3,000 files).
"""

from __future__ import annotations

import gc
import logging
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from ..errors import XltoolsError
from ..model import Ledger
from ..problems import Problem
from .model import Received

log = logging.getLogger(__name__)

PARALLEL_FROM = 8  # fewer files than this are done in this process: starting workers costs more

_DIRECTORY: dict = {}
_CITY_INDEX = None  # set in each worker: district rows are mapped where they are checked


@contextmanager
def paused_gc():
    """Cyclic garbage collection off while large acyclic data is built (reference counting still frees)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def directory(units: str | None):
    """The unit directory, loaded once per process."""
    from ..units.directory import load_directory

    if units not in _DIRECTORY:
        _DIRECTORY[units] = load_directory(units)
    return _DIRECTORY[units]


def _init_worker(city: Ledger | None, units: str | None, in_pool: bool = True) -> None:
    global _CITY_INDEX
    from .mapping import CityIndex

    _CITY_INDEX = CityIndex(city) if city is not None else None
    directory(units)
    if in_pool:
        gc.freeze()  # what a worker starts with is never walked again; its per-file garbage still is


# -------------------------------------------------------------------------------------- phase 1: read


def read_file(path: Path, name: str, received: datetime, version: int | None = None,
              expected: tuple[str, ...] = ()) -> Received:
    """Read one district file: its ledger, region and the problems of reading it."""
    from ..archive import sha256_of
    from ..readers import extract

    rec = Received(path, name, sha256_of(path), path.stat().st_size, received, version=version or 0)
    try:
        ledger = extract(path)
    except XltoolsError as exc:
        rec.problems.append(Problem("unreadable-file", f"无法读取：{exc.message_zh}", severity="error",
                                    file=name, suggestion="请该地区重新报送可打开的文件（xlsx、xls、csv 等）"))
        return rec
    except Exception as exc:  # a reader bug must not lose the other districts' work
        log.exception("reading %s failed", name)
        rec.problems.append(Problem("unreadable-file", f"读取出错：{type(exc).__name__}: {exc}", severity="error",
                                    file=name))
        return rec
    for p in ledger.problems:
        p.file = name
    if not ledger.rows:
        rec.problems.extend(ledger.problems)
        rec.problems.append(Problem("empty-ledger", "文件中没有读到任何任务行", severity="error", file=name))
        return rec
    rec.ledger = ledger
    ledger.source = name
    rec.region, rec.region_from = file_region(ledger, name, expected)
    rec.problems.extend(p for p in ledger.problems if p.type != "unknown-region")
    if rec.region is None:
        rec.problems.append(Problem(
            "unknown-district", "无法判断该文件属于哪个地区（模板信息、标题和文件名中都没有地区名称）",
            severity="error", file=name, suggestion="在文件名中写明地区，如“章丘区_工作台账.xlsx”"))
    else:
        ledger.region = rec.region
    return rec


def file_region(ledger: Ledger, name: str, expected: tuple[str, ...]) -> tuple[str | None, str | None]:
    """A file's district and how it was known: template metadata, else the title, else the file name."""
    if ledger.region_from == "meta" and ledger.region:
        return ledger.region, "meta"
    if ledger.region and ledger.level != "市":
        return ledger.region, "title"
    for region in sorted(expected, key=len, reverse=True):
        if region in name:
            return region, "filename"
    m = re.search(r"([\u4e00-\u9fff]{1,4}?(?:区|县))", re.sub(r"^[\u4e00-\u9fff]{2,3}市", "", Path(name).stem))
    if m:
        return m.group(1), "filename"
    return None, None


# ------------------------------------------------------------------------------------- phase 2: check


class Checked(NamedTuple):
    """What checking one district's ledger found; applied to its ``Received`` in the parent."""

    problems: list[Problem]
    row_targets: list  # per ledger row: the Targets in its text
    goal_targets: list  # per goal
    row_maps: list  # per ledger row: (city seqs, confidence, method)


def check_ledger(ledger: Ledger, region: str | None, name: str, units: str | None = None,
                 spellings: dict | None = None) -> Checked:
    """Validate one district's ledger, parse its targets and map its rows to city tasks.

    ``spellings``: for a district the unit directory does not list, the rare spellings learned across
    all districts that occur in this one (a typo is a typo anywhere); short and long forms of one name
    are learned from this district alone, since districts name their departments differently.
    """
    from ..target_text import consistency_problems, ledger_targets
    from ..units.learn import learn_spellings
    from ..validation import check_units

    problems: list[Problem] = []
    row_maps: list = []
    if region is not None:
        units_dir = directory(units)
        if units_dir.has_region(region):
            problems.extend(check_units(ledger, units_dir, region)[0])
        else:
            names = [n for row in ledger.rows for n in row.lead_units + row.responsible_units]
            own = {k: c for k, c in learn_spellings(names).items() if c.status == "alias"}
            learned = {**(spellings or {}), **own}
            if learned:  # nothing to flag in most districts: the common case, kept cheap
                problems.extend(check_units(ledger, units_dir, region, spellings=learned)[0])
        if _CITY_INDEX is not None:
            city_keys = bool(_CITY_INDEX.region) and ledger.numbering == _CITY_INDEX.region
            row_maps = [_CITY_INDEX.match(row, city_keys) for row in ledger.rows]
    results = ledger_targets(ledger)
    by_item = {id(item): result for item, result in results}
    row_targets = [by_item[id(r)].targets if id(r) in by_item else [] for r in ledger.rows]
    goal_targets = [by_item[id(g)].targets if id(g) in by_item else [] for g in ledger.goals]
    located = []
    for item, result in results:
        problems.extend(result.problems)
        where = {"file": name, "sheet": item.origin.sheet, "line": item.origin.line,
                 "cell": f"A{item.origin.row}" if item.origin.row else None}
        located.extend((t, where) for t in result.targets)
    for problem, where in consistency_problems(located):
        problem.file, problem.sheet, problem.cell, problem.line = where["file"], where["sheet"], where["cell"], where["line"]
        problems.append(problem)
    for p in problems:
        p.file = name
    return Checked(problems, row_targets, goal_targets, row_maps)


def rare_spellings(received: list[Received], units: str | None) -> dict[int, dict]:
    """id(rec) → the spellings learned across all districts without a directory entry that occur in rec."""
    from ..units.directory import name_key
    from ..units.learn import learn_spellings

    units_dir = directory(units)
    learners = [r for r in received if r.ledger is not None and r.region and not units_dir.has_region(r.region)]
    if not learners:
        return {}
    names = {id(r): [n for row in r.rows for n in row.lead_units + row.responsible_units] for r in learners}
    rare = {k: c for k, c in learn_spellings([n for ns in names.values() for n in ns]).items() if c.status == "typo"}
    out = {}
    for rec in learners:
        mine = {k: rare[k] for k in {name_key(n) for n in names[id(rec)]} if k in rare}
        if mine:
            out[id(rec)] = mine
    return out


# ------------------------------------------------------------------------------------------ workers


def _read_task(item: tuple) -> tuple[Received, float]:
    start = time.process_time()
    rec = read_file(*item)
    return rec, time.process_time() - start


def _check_task(item: tuple) -> tuple[Checked, float]:
    start = time.process_time()
    checked = check_ledger(*item)
    return checked, time.process_time() - start


class Workers:
    """The worker processes of one consolidation (or this process, for a few files); CPU time per phase."""

    def __init__(self, city: Ledger | None, units: str | None, workers: int | None, total: int, progress=None):
        self.units = units
        self.workers = workers or min(8, os.cpu_count() or 1)
        self.total = total
        self.progress = progress or (lambda done, total: None)
        self.done = 0
        self.cpu: dict[str, float] = {}
        self.pool = None
        if total >= PARALLEL_FROM and self.workers > 1:
            # Imported here, before the pool forks, so each worker starts with them loaded.
            from .. import target_text, validation  # noqa: F401
            from ..readers import workbook  # noqa: F401
            from . import mapping  # noqa: F401

            directory(units)
            self.pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                            initargs=(city, units))
        else:
            _init_worker(city, units, in_pool=False)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def _run(self, phase: str, fn, items: list[tuple]) -> list:
        start = time.process_time()
        worker_cpu = 0.0
        out = []
        if self.pool is None:
            results = map(fn, items)
        else:
            chunk = max(1, min(64, len(items) // (self.workers * 8)))
            results = self.pool.map(fn, items, chunksize=chunk)
        for result, cpu in results:
            out.append(result)
            worker_cpu += cpu
            self.done += 1
            self.progress(self.done, 2 * self.total)
        parent = time.process_time() - start
        # In this process the tasks' CPU is already part of the parent's.
        self.cpu[phase] = parent + (worker_cpu if self.pool is not None else 0.0)
        return out

    def read(self, items: list[tuple]) -> list[Received]:
        """Phase 1: items are (path, name, received, version, expected regions)."""
        return self._run("read", _read_task, items)

    def check(self, received: list[Received]) -> None:
        """Phase 2: check every readable file; the results are added to each ``Received``."""
        spellings = rare_spellings(received, self.units)
        todo = [r for r in received if r.ledger is not None]
        self.done += len(received) - len(todo)
        items = [(r.ledger, r.region, r.name, self.units, spellings.get(id(r))) for r in todo]
        for rec, checked in zip(todo, self._run("check", _check_task, items), strict=True):
            rec.problems.extend(checked.problems)
            rec.row_targets, rec.goal_targets, rec.row_maps = (
                checked.row_targets, checked.goal_targets, checked.row_maps)
