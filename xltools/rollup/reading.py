"""The two phases of a consolidation that run in worker processes: read, then check.

Phase 1, read: each district file becomes a ``Received`` (its ledger with file/sheet/row lineage, its
region, the problems of reading it). Phase 2, check: each district's unit names are validated (against
the unit directory, or against spellings learned from every district, known only once all are read),
its targets are parsed, and its rows are mapped to city tasks. The same worker processes serve both
phases: each keeps the files it read (pickled, a third of the objects' memory) and checks those, so no
ledger crosses between processes twice; fewer than ``PARALLEL_FROM`` files are done in this process.

The parent keeps every row of every district, so while the phases run it pauses Python's cyclic
garbage collector (``paused_gc``): rows hold no reference cycles, and each full collection would walk
all of them again (it cost a third of the read phase at 3,000 files).
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import re
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from ..errors import XltoolsError
from ..limits import LimitExceeded, configure, current, rss_mb
from ..model import Ledger
from ..problems import Problem
from ..returned import is_distributed, quiet_blank_rows
from .model import ROLLUP_FORMAT, Received

log = logging.getLogger(__name__)

PARALLEL_FROM = 8  # fewer files than this are done in this process: starting workers costs more
START_METHOD: str | None = None  # default: fork where there is one (Linux), else spawn (Windows, macOS)

_DIRECTORY: dict = {}
_CITY_INDEX = None  # district rows are mapped where they are checked; built once per run, before workers fork


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


def _init_worker(city: Ledger | None, units: str | None, in_worker: bool = True) -> None:
    global _CITY_INDEX
    from .mapping import CityIndex

    if city is None:
        _CITY_INDEX = None
    elif _CITY_INDEX is None or _CITY_INDEX.city is not city:  # a forked worker has the one its parent built
        _CITY_INDEX = CityIndex(city)
    directory(units)
    if in_worker:
        gc.freeze()  # what a forked worker inherited is never walked by the collector


# -------------------------------------------------------------------------------------- phase 1: read


def read_file(path: Path, name: str, received: datetime, version: int | None = None,
              expected: tuple[str, ...] = ()) -> Received:
    """Read one district file: its ledger, region and the problems of reading it."""
    from ..archive import sha256_of
    from ..readers import extract

    rec = Received(path, name, sha256_of(path), path.stat().st_size, received, version=version or 0)
    if is_rollup(path):
        rec.own_output = True
        rec.problems.append(Problem("own-output", f"“{name}”是汇总生成的汇总表，不作为地区报送读取",
                                    severity="info", file=name, suggestion="汇总表请保存在收件文件夹以外"))
        return rec
    try:
        ledger = extract(path)
    except LimitExceeded as exc:
        rec.problems.append(Problem("over-limit", exc.message_zh, severity="error", file=name,
                                    suggestion="请该地区检查文件后重新报送；确属正常的大文件，可用 --limit 调高上限"))
        return rec
    except XltoolsError as exc:
        rec.problems.append(Problem("unreadable-file", f"无法读取：{exc.message_zh}", severity="error",
                                    file=name, suggestion="请该地区重新报送可打开的文件（xlsx、xls、csv 等）"))
        return rec
    except Exception as exc:  # a reader bug must not lose the other districts' work
        log.exception("reading %s failed", name)
        rec.problems.append(Problem("unreadable-file", f"读取出错：{type(exc).__name__}: {exc}", severity="error",
                                    file=name))
        return rec
    if is_distributed(ledger):
        quiet_blank_rows(ledger)
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


def is_rollup(path: Path) -> bool:
    """Whether ``path`` is a rollup xltools wrote (its document properties say so): never a district's file."""
    import zipfile

    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            props = z.read("docProps/custom.xml") if "docProps/custom.xml" in z.namelist() else b""
    except (OSError, zipfile.BadZipFile):
        return False
    return ROLLUP_FORMAT.encode() in props


def file_region(ledger: Ledger, name: str, expected: tuple[str, ...]) -> tuple[str | None, str | None]:
    """A file's district and how it was known: template metadata, else the title, else the file name."""
    if ledger.region_from == "meta" and ledger.region:
        return ledger.region, "meta"
    if ledger.region and ledger.level != "市":
        return ledger.region, "title"
    for region in sorted(expected, key=len, reverse=True):
        if region in name:
            return region, "filename"
    m = re.search(r"([\u4e00-\u9fff]{1,4}?(?:区|县))", re.sub(r"^[\u4e00-\u9fff]{2,3}?市", "", Path(name).stem))
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

    ``spellings``: for a district the unit directory does not list, the spellings learned across all
    districts that occur in this one (a typo is a typo anywhere, and so is 区住建局 where other districts
    write 区住房城乡建设局); the variants of one name (区发展改革局 / 区发展和改革局) are learned from this
    district alone, since districts name their departments differently.
    """
    from ..target_text import checked_ledger_targets
    from ..units.learn import learn_spellings
    from ..validation import check_units

    problems: list[Problem] = []
    row_maps: list = []
    if region is not None:
        units_dir = directory(units)
        if units_dir.has_region(region):
            problems.extend(check_units(ledger, units_dir, region)[0])
        else:
            own = learn_spellings(ledger.unit_names(), typos=False)  # a typo is judged across districts
            learned = {**(spellings or {}), **own}
            if learned:  # nothing to flag in most districts: the common case, kept cheap
                problems.extend(check_units(ledger, units_dir, region, spellings=learned)[0])
        if _CITY_INDEX is not None:
            city_keys = bool(_CITY_INDEX.region) and ledger.numbering == _CITY_INDEX.region
            row_maps = _CITY_INDEX.map_rows(ledger.rows, city_keys)
    if is_distributed(ledger):
        problems.extend(_returned(ledger, name, row_maps))
    results, target_problems = checked_ledger_targets(ledger)
    problems.extend(target_problems)
    by_item = {id(item): result for item, result in results}
    row_targets = [by_item[id(r)].targets if id(r) in by_item else [] for r in ledger.rows]
    goal_targets = [by_item[id(g)].targets if id(g) in by_item else [] for g in ledger.goals]
    for p in problems:
        p.file = name
    return Checked(problems, row_targets, goal_targets, row_maps)


def _returned(ledger: Ledger, name: str, row_maps: list) -> list[Problem]:
    """A distributed workbook's structure checked against the city; its blank city rows cover nothing."""
    from ..returned import check_returned, is_blank

    city = _CITY_INDEX.city if _CITY_INDEX is not None else None
    sha = city.meta.get("sha256") if city is not None else None
    regions = tuple(directory_regions())
    problems = check_returned(ledger, name, city, sha, regions)
    own_section = ledger.meta.get("own_section")
    for i, row in enumerate(ledger.rows):
        if i >= len(row_maps):
            break
        if row.extra.get("任务键", "").isdigit():
            if is_blank(row):
                row_maps[i] = ([], 0.0, "blank")
        elif own_section and row.section == own_section and not row_maps[i][0]:
            row_maps[i] = ([], row_maps[i][1], "own")  # the district's own task, in the area made for it
    return problems


def directory_regions() -> list[str]:
    """Every region the unit directory names (loaded in this process already)."""
    return sorted({r for d in _DIRECTORY.values() for r in d.region_names()})


def rare_spellings(names_by_file: list[list[str]]) -> dict[int, dict]:
    """Spellings learned across all districts the unit directory does not list.

    ``names_by_file``: the unit names of each file read (``learner_names``); returns file index → the rare
    spellings and short forms found in that file (``learn_across``; the variants of a name are judged per
    district, in ``check_ledger``).
    """
    from ..units.directory import name_key
    from ..units.learn import learn_across

    learners = [(i, names) for i, names in enumerate(names_by_file) if names]
    if not learners:
        return {}
    rare = learn_across(names for _, names in learners)
    out = {}
    for i, names in learners:
        mine = {k: rare[k] for k in {name_key(n) for n in names} if k in rare}
        if mine:
            out[i] = mine
    return out


def learner_names(rec: Received, units: str | None) -> list[str]:
    """What the parent needs of a file between the phases: its unit names when its district's spellings are
    learned (the unit directory does not list it), else nothing."""
    learner = rec.ledger is not None and rec.region and not directory(units).has_region(rec.region)
    return rec.ledger.unit_names() if learner else []


def _check(rec: Received, units: str | None, spellings: dict | None) -> Checked | None:
    """Check one file's ledger; a checking bug becomes a problem on the file, which is kept all the same."""
    if rec.ledger is None:
        return None
    try:
        return check_ledger(rec.ledger, rec.region, rec.name, units, spellings)
    except Exception as exc:
        log.exception("checking %s failed", rec.name)
        problem = Problem("check-failed", f"核对出错：{type(exc).__name__}: {exc}", severity="error",
                          file=rec.name, suggestion="文件已读取并保留；请将此问题报告给 xltools 维护人员")
        return Checked([problem], [], [], [([], 0.0, "none") for _ in rec.ledger.rows])


def _apply(rec: Received, checked: Checked | None) -> Received:
    if checked is not None:
        rec.problems.extend(checked.problems)
        rec.row_targets, rec.goal_targets, rec.row_maps = checked.row_targets, checked.goal_targets, checked.row_maps
    return rec


# ------------------------------------------------------------------------------------------ workers


BATCH = 16  # files per message between a worker and the parent


def _malloc_trim():
    """glibc's malloc_trim: gives freed heap memory back to the system (free() alone keeps it for reuse)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and others: the memory is kept until the worker ends
        return None


_TRIM = _malloc_trim()


def _release_memory() -> None:
    """What a worker has sent to the parent is freed; return those pages, so the two copies do not add up."""
    if _TRIM is not None:
        _TRIM(0)


def _die_with_parent(parent: int) -> None:
    """A worker ends when its parent does, even killed with SIGKILL (Linux: PR_SET_PDEATHSIG). Elsewhere a
    worker ends when its pipe to the parent closes (``_worker_main``)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)


def _worker_main(conn, chunks, items: list[tuple], city: Ledger | None, units: str | None,
                 parent: int = 0, limits=None) -> None:
    """A worker: reads the chunks it takes from the shared queue, keeps what it read, checks it when told.

    What it read is kept pickled (a third of the memory of the objects, and sent to the parent as it is).
    Messages to the parent: ("read", [(index, learner_names)]),
    ("checked", [(index, pickled Received, Checked)]), ("done", CPU seconds).
    """
    _die_with_parent(parent)
    if limits is not None:  # a spawned worker does not inherit the parent's configuration
        configure(limits)
    _init_worker(city, units)
    gc.disable()  # nothing here makes reference cycles; the collector would only walk the rows again
    held: dict[int, bytes] = {}
    try:
        while True:
            command = conn.recv()
            start = time.process_time()
            if command[0] == "read":
                while (chunk := chunks.get()) is not None:
                    out = []
                    for i in chunk:
                        rec = read_file(*items[i])
                        held[i] = pickle.dumps(rec, pickle.HIGHEST_PROTOCOL)
                        out.append((i, learner_names(rec, units)))
                    conn.send(("read", out))
            elif command[0] == "check":
                spellings, batch = command[1], []
                for i in sorted(held):
                    blob = held.pop(i)
                    batch.append((i, blob, _check(pickle.loads(blob), units, spellings.get(i))))
                    if len(batch) == BATCH:
                        conn.send(("checked", batch))
                        batch = []
                        _release_memory()
                if batch:
                    conn.send(("checked", batch))
            else:
                return
            conn.send(("done", time.process_time() - start))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):  # the parent has gone: nothing left to do
        return


MEMORY_POLL = 0.5  # seconds between checks of the run's memory while workers run


def _check_memory(pids: list[int]) -> None:
    """Stop the run when it holds more memory than the limit allows (its workers are stopped on the way out)."""
    limit = current().memory_mb
    used = rss_mb(pids)
    if used > limit:
        raise LimitExceeded(
            f"consolidation uses {used:.0f} MB, over the limit memory_mb={limit:g}",
            f"汇总占用内存 {used:,.0f} MB，超过上限 {limit:,.0f} MB，已停止。请分批汇总（如按地区分几个收件文件夹），"
            f"或在内存充足的电脑上用 --limit memory_mb=… 调高上限", "memory_mb")


class Workers:
    """The worker processes of one consolidation (or this process, for a few files), phase by phase.

    ``read(items)`` reads every file; each worker keeps the ledgers it read, and sends the parent only
    the unit names of districts whose spellings are learned. ``check()`` learns spellings across all districts, has each worker
    check the files it holds, and gathers every ``Received`` into the parent, in the order of ``items``.
    ``cpu`` holds the CPU seconds of each phase, the parent's and the workers' together.
    """

    def __init__(self, city: Ledger | None, units: str | None, workers: int | None, total: int, progress=None):
        self.city, self.units = city, units
        self.workers = min(workers or min(8, os.cpu_count() or 1), max(1, total))
        self.total = total
        self.progress = progress or (lambda done, total: None)
        self.done = 0
        self.cpu: dict[str, float] = {}
        self.parallel = total >= PARALLEL_FROM and self.workers > 1
        self.procs: list = []
        self.conns: list = []
        self.child_ends: list = []
        self.held: dict[int, Received] = {}  # in this process, when not parallel
        self.names: list[list[str]] = []  # per file, for learning spellings (see ``learner_names``)
        # What every worker needs, loaded here (and inherited where workers fork): the modules and the directory.
        from .. import target_text, validation  # noqa: F401
        from ..readers import workbook  # noqa: F401
        from . import mapping  # noqa: F401

        _init_worker(city, units, in_worker=False)  # the city index and the directory, inherited by a fork

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop",))
            except OSError:
                pass  # that worker has ended already
        for proc in self.procs:
            if exc_type is not None:
                proc.terminate()  # the run has failed: whatever a worker is doing is not wanted
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        for conn in self.conns + self.child_ends:
            conn.close()

    def _tick(self, n: int) -> None:
        self.done += n
        self.progress(self.done, 2 * self.total)

    def _start(self, items: list[tuple]) -> None:
        import multiprocessing as mp

        ctx = mp.get_context(START_METHOD or ("fork" if "fork" in mp.get_all_start_methods() else "spawn"))
        self.chunks = chunks = ctx.Queue()  # kept: a spawned worker opens it after this method has returned
        size = max(1, min(32, len(items) // (self.workers * 8)))
        for at in range(0, len(items), size):
            chunks.put(list(range(at, min(at + size, len(items)))))
        for _ in range(self.workers):
            chunks.put(None)
        for _ in range(self.workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(theirs, chunks, items, self.city, self.units, os.getpid(), current()),
                               daemon=True)
            proc.start()
            # Kept open until the end: a spawned worker receives its end from this one after it starts.
            # A worker that dies is seen by its process sentinel (``_gather``), not by the pipe closing.
            self.child_ends.append(theirs)
            self.procs.append(proc)
            self.conns.append(mine)

    def _gather(self, command: tuple, on_message) -> float:
        """Send ``command`` to every worker; hand each message to ``on_message`` until all are done."""
        from multiprocessing.connection import Connection, wait

        for conn in self.conns:
            conn.send(command)
        busy, cpu = set(self.conns), 0.0
        proc_of = {proc.sentinel: (proc, conn) for proc, conn in zip(self.procs, self.conns, strict=True)}
        pids = [proc.pid for proc in self.procs]
        while busy:
            ready = wait(list(busy) + [s for s, (_, conn) in proc_of.items() if conn in busy], timeout=MEMORY_POLL)
            _check_memory(pids)
            for conn in ready:
                if not isinstance(conn, Connection):  # a worker process ended while it had work
                    proc, pipe = proc_of[conn]
                    proc.join(1)  # its exit code, for the log
                    if not pipe.poll():  # (what it sent before it ended is read first)
                        raise XltoolsError(
                            f"consolidation worker {proc.pid} ended unexpectedly (exit code {proc.exitcode})",
                            "汇总的读取进程意外退出，请重试；如再次发生，请减少 --workers 或逐个检查收件文件")
                    continue
                kind, payload = conn.recv()
                if kind == "done":
                    busy.discard(conn)
                    cpu += payload
                else:
                    on_message(kind, payload)
        return cpu

    def read(self, items: list[tuple]) -> None:
        """Phase 1: items are (path, name, received, version, expected regions)."""
        start = time.process_time()
        self.names = [[] for _ in items]
        workers_cpu = 0.0
        if not self.parallel:
            _init_worker(self.city, self.units, in_worker=False)
            for i, item in enumerate(items):
                self.held[i] = rec = read_file(*item)
                self.names[i] = learner_names(rec, self.units)
                self._tick(1)
        else:
            self._start(items)

            def on_read(kind, names):
                for i, file_names in names:
                    self.names[i] = file_names
                self._tick(len(names))

            workers_cpu = self._gather(("read",), on_read)
        self.cpu["read"] = time.process_time() - start + workers_cpu

    def check(self) -> list[Received]:
        """Phase 2: check every file where it was read and gather them all here, in the order read."""
        start = time.process_time()
        spellings = rare_spellings(self.names)
        received: list[Received | None] = [None] * len(self.names)
        self.names = []  # not needed again
        workers_cpu = 0.0
        if not self.parallel:
            for i in sorted(self.held):
                rec = self.held.pop(i)
                received[i] = _apply(rec, _check(rec, self.units, spellings.get(i)))
                self._tick(1)
        else:
            def on_checked(kind, batch):
                for i, blob, checked in batch:
                    received[i] = _apply(pickle.loads(blob), checked)
                self._tick(len(batch))

            workers_cpu = self._gather(("check", spellings), on_checked)
        self.cpu["check"] = time.process_time() - start + workers_cpu
        return received
