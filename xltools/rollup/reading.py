"""The two phases of a consolidation that run in worker processes: read, then check.

Phase 1, read: each district file becomes a ``Received`` (its ledger with file/sheet/row lineage, its
region, the problems of reading it). Phase 2, check: each district's unit names are validated (against
the unit directory, or against spellings learned from every district, known only once all are read),
its targets are parsed, and its rows are mapped to city tasks. The same worker processes serve both
phases: each keeps the files it read (pickled, a third of the objects' memory) and checks those, so no
ledger crosses between processes twice; fewer than ``PARALLEL_FROM`` files are done in this process.
The parent keeps what the workers send as bytes and makes objects of it once they have ended: the workers'
memory (what they held, their caches) and every district's rows in objects are never held at the same time.

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
from typing import TYPE_CHECKING, NamedTuple

from ..errors import XltoolsError
from ..limits import LimitExceeded, configure, current, rss_mb
from ..model import Ledger
from ..problems import Problem
from ..returned import is_distributed, quiet_rows, row_states
from ..xlio import is_rollup
from .model import Received

if TYPE_CHECKING:
    from ..units.learn import Tally

log = logging.getLogger(__name__)

PARALLEL_FROM = 8  # fewer files than this are done in this process: starting workers costs more
START_METHOD: str | None = None  # default: fork where there is one (Linux), else spawn (Windows, macOS)

_DIRECTORY: dict = {}
_CITY_INDEX = None  # district rows are mapped where they are checked; built once per run, before workers fork
_REGIONS = None  # the run's unit directory: the regions (and their aliases) a title or file name may give


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
    global _CITY_INDEX, _REGIONS
    from .mapping import CityIndex

    if city is None:
        _CITY_INDEX = None
    elif _CITY_INDEX is None or _CITY_INDEX.city is not city:  # a forked worker has the one its parent built
        _CITY_INDEX = CityIndex(city)
    _REGIONS = directory(units)
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
    # A file that cannot be used still tells, by its name, which district sent it: that district has sent
    # something (listed as such, not as 未报送), and the file's problem is counted against it.
    try:
        ledger = extract(path)
    except LimitExceeded as exc:
        rec.problems.append(Problem("over-limit", exc.message_zh, severity="error", file=name,
                                    suggestion="请该地区检查文件后重新报送；确属正常的大文件，可用 --limit 调高上限"))
        return _named(rec, expected)
    except XltoolsError as exc:
        rec.problems.append(Problem("unreadable-file", f"无法读取：{exc.message_zh}", severity="error",
                                    file=name, suggestion="请该地区重新报送可打开的文件（xlsx、xls、csv 等）"))
        return _named(rec, expected)
    except Exception as exc:  # a reader bug must not lose the other districts' work
        log.exception("reading %s failed", name)
        rec.problems.append(Problem("unreadable-file", f"读取出错：{type(exc).__name__}: {exc}", severity="error",
                                    file=name))
        return _named(rec, expected)
    quiet_rows(ledger)
    for p in ledger.problems:
        p.file = name
    if not ledger.rows:
        rec.problems.extend(ledger.problems)
        rec.problems.append(Problem("empty-ledger", "文件中没有读到任何任务行", severity="error", file=name))
        return _named(rec, expected)
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
        # 济南高新区 is 高新区: the unit directory's name for it (its 别名, or after the city's name)
        resolved = _REGIONS.resolve_region(ledger.region) if _REGIONS is not None else None
        return resolved or ledger.region, "title"
    if not ledger.region and ledger.title:
        # A title too long to read a region from (济南新旧动能转换起步区推动…): a region or alias in its opening
        found = _named_in(re.split(r"推动|关于|大规模|设备|以旧换新|工作", ledger.title, maxsplit=1)[0], expected)
        if found:
            return found, "title"
    return name_region(name, expected)


def name_region(name: str, expected: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The district a file name gives (an expected one first, the longest that fits), and "filename"."""
    for region in sorted(expected, key=len, reverse=True):
        if region in name:
            return region, "filename"
    found = _named_in(Path(name).stem, expected)  # 新旧动能转换起步区.xlsx: an alias of 起步区
    if found:
        return found, "filename"
    m = re.search(r"([\u4e00-\u9fff]{1,4}?(?:区|县))", re.sub(r"^[\u4e00-\u9fff]{2,3}?市", "", Path(name).stem))
    if m:
        return m.group(1), "filename"
    return None, None


def _named_in(text: str, expected: tuple[str, ...]) -> str | None:
    """The region of the unit directory whose name or alias is in ``text``, if the run expects it (any region,
    when it expects no list)."""
    found = _REGIONS.find_region(text) if _REGIONS is not None and text else None
    return found if found and (not expected or found in expected) else None


def _named(rec: Received, expected: tuple[str, ...]) -> Received:
    """A file with no usable ledger, with the district its name gives (if any)."""
    rec.region, rec.region_from = name_region(rec.name, expected)
    return rec


class Known(NamedTuple):
    """What the parent learns of a file as it is read (the rest stays with the worker until checked): enough
    to archive it while the workers check."""

    region: str | None
    sha256: str
    own_output: bool


# ------------------------------------------------------------------------------------- phase 2: check


class Checked(NamedTuple):
    """What checking one district's ledger found; applied to its ``Received`` in the parent."""

    problems: list[Problem]
    row_targets: list  # per ledger row: the Targets in its text
    goal_targets: list  # per goal
    row_maps: list  # per ledger row: (city seqs, confidence, method)
    failed: bool = False  # checking raised: these are all there is


UNITS_LATER = object()  # ``check_ledger``'s spellings when they are not learned yet: the unit names wait


def check_ledger(ledger: Ledger, region: str | None, name: str, units: str | None = None,
                 spellings: dict | None = None, rest: Checked | None = None) -> Checked:
    """Validate one district's ledger, parse its targets and map its rows to city tasks.

    ``spellings``: for a district the unit directory does not list, the spellings learned across all
    districts (a typo is a typo anywhere, and so is 区住建局 where other districts write 区住房城乡建设局);
    the variants of one name (区发展改革局 / 区发展和改革局) are learned from this district alone, since
    districts name their departments differently. ``UNITS_LATER``: all but the unit names, which are checked
    by a second call with the spellings and this ``rest`` (a worker checks the rest while they are learned).
    """
    from ..target_text import checked_ledger_targets

    if rest is None:
        problems: list[Problem] = []
        row_maps: list = []
        if region is not None and _CITY_INDEX is not None:
            city_keys = bool(_CITY_INDEX.region) and ledger.numbering == _CITY_INDEX.region
            row_maps = _CITY_INDEX.map_rows(ledger.rows, city_keys)
            problems.extend(row_states(ledger, row_maps, name))  # own tasks, blank rows, 不涉及
        if is_distributed(ledger):
            problems.extend(_returned(ledger, name))
        results, target_problems = checked_ledger_targets(ledger)
        problems.extend(target_problems)
        by_item = {id(item): result for item, result in results}
        row_targets = [by_item[id(r)].targets if id(r) in by_item else [] for r in ledger.rows]
        goal_targets = [by_item[id(g)].targets if id(g) in by_item else [] for g in ledger.goals]
        rest = Checked(problems, row_targets, goal_targets, row_maps)
    if spellings is UNITS_LATER:
        return rest
    problems = _unit_problems(ledger, region, units, spellings) + rest.problems
    for p in problems:
        p.file = name
    return rest._replace(problems=problems)


def _unit_problems(ledger: Ledger, region: str | None, units: str | None, spellings: dict | None) -> list[Problem]:
    from ..units.directory import name_key
    from ..units.learn import learn_spellings, merge_learned
    from ..validation import check_units

    if region is None:
        return []
    units_dir = directory(units)
    if units_dir.has_region(region):
        return check_units(ledger, units_dir, region)[0]
    names = ledger.unit_names()
    own = learn_spellings(names, typos=False)  # a typo is judged across districts
    across = {key: spellings[key] for key in {name_key(n) for n in set(names)} if key in spellings} \
        if spellings else {}
    learned = merge_learned(across, own)  # (a district's alias of a name it misspells points at the right one)
    if not learned:  # nothing to flag in most districts: the common case, kept cheap
        return []
    return check_units(ledger, units_dir, region, spellings=learned)[0]


def _returned(ledger: Ledger, name: str) -> list[Problem]:
    """A distributed workbook's structure checked against the city."""
    from ..returned import check_returned

    city = _CITY_INDEX.city if _CITY_INDEX is not None else None
    sha = city.meta.get("sha256") if city is not None else None
    return check_returned(ledger, name, city, sha, tuple(directory_regions()))


def directory_regions() -> list[str]:
    """Every region the unit directory names (loaded in this process already)."""
    return sorted({r for d in _DIRECTORY.values() for r in d.region_names()})


def learner_names(rec: Received, units: str | None) -> list[str]:
    """What learning spellings across districts needs of a file: its unit names when its district's spellings
    are learned (the unit directory does not list it), else nothing."""
    learner = rec.ledger is not None and rec.region and not directory(units).has_region(rec.region)
    return rec.ledger.unit_names() if learner else []


def _tallied(tally: Tally, rec: Received, units: str | None) -> None:
    names = learner_names(rec, units)
    if names:
        tally.add(names)


def _known(rec: Received) -> Known:
    return Known(rec.region, rec.sha256, rec.own_output)


def _check(rec: Received, units: str | None, spellings, rest: Checked | None = None) -> Checked | None:
    """Check one file's ledger (``check_ledger``'s ``spellings`` and ``rest``); a checking bug becomes a problem
    on the file, which is kept all the same."""
    if rec.ledger is None or (rest is not None and rest.failed):
        return rest
    try:
        return check_ledger(rec.ledger, rec.region, rec.name, units, spellings, rest)
    except Exception as exc:
        log.exception("checking %s failed", rec.name)
        problem = Problem("check-failed", f"核对出错：{type(exc).__name__}: {exc}", severity="error",
                          file=rec.name, suggestion="文件已读取并保留；请将此问题报告给 xltools 维护人员")
        return Checked([problem], [], [], [([], 0.0, "none") for _ in rec.ledger.rows], True)


def _apply(rec: Received, checked: Checked | None) -> Received:
    if checked is not None:
        rec.problems.extend(checked.problems)
        rec.row_targets, rec.goal_targets, rec.row_maps = checked.row_targets, checked.goal_targets, checked.row_maps
    return rec


# ------------------------------------------------------------------------------------------ workers


BATCH = 16  # files per message between a worker and the parent


def _pickled(checked: Checked | None) -> bytes:
    return pickle.dumps(checked, pickle.HIGHEST_PROTOCOL)


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


def worker_count(requested: int | None, jobs: int) -> int:
    """How many worker processes: as asked, else the CPU count (at most 8), and never more than the jobs."""
    return min(requested or min(8, os.cpu_count() or 1), max(1, jobs))


def start_context():
    """The multiprocessing context workers start in: fork where there is one (the modules and data loaded
    already are inherited), else spawn; ``START_METHOD`` overrides (tests)."""
    import multiprocessing as mp

    return mp.get_context(START_METHOD or ("fork" if "fork" in mp.get_all_start_methods() else "spawn"))


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
    Messages to the parent: ("read", (files read, their unit names tallied: ``Tally``)),
    ("checked", [(index, pickled Received, pickled Checked)]), ("done", CPU seconds). From it: ("read",),
    ("check",) then ("spellings", the spellings learned across districts), ("stop",).
    """
    from ..units.learn import Tally

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
                    tally = Tally()  # a chunk's names counted here: the parent only adds the counts up
                    known = []
                    for i in chunk:
                        rec = read_file(*items[i])
                        held[i] = pickle.dumps(rec, pickle.HIGHEST_PROTOCOL)
                        _tallied(tally, rec, units)
                        known.append((i, _known(rec)))
                    conn.send(("read", (len(chunk), tally, known)))
            elif command[0] == "check":
                # The spellings learned across districts follow in a message of their own; until they come,
                # files are checked but for their unit names (pending), which are checked once they are here.
                spellings, batch, pending = UNITS_LATER, [], []
                for i in sorted(held):
                    if spellings is UNITS_LATER and conn.poll():
                        spellings = conn.recv()[1]
                    blob = held.pop(i)
                    rec = pickle.loads(blob)
                    if spellings is UNITS_LATER:
                        pending.append((i, blob, rec, _check(rec, units, UNITS_LATER)))
                        continue
                    for j, pending_blob, pending_rec, rest in pending:
                        batch.append((j, pending_blob, _pickled(_check(pending_rec, units, spellings, rest))))
                    pending = []
                    batch.append((i, blob, _pickled(_check(rec, units, spellings))))
                    if len(batch) >= BATCH:
                        conn.send(("checked", batch))
                        batch = []
                        _release_memory()
                if pending:
                    spellings = conn.recv()[1]
                    batch += [(j, b, _pickled(_check(r, units, spellings, rest))) for j, b, r, rest in pending]
                elif spellings is UNITS_LATER:
                    conn.recv()  # the spellings: no file held here needs them
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

    ``read(items)`` reads every file; each worker keeps the ledgers it read, and sends the parent only the
    unit names of districts whose spellings are learned, counted per chunk (``Tally``), which the parent adds
    up as they come. ``check()`` learns spellings across all districts from those counts, has each worker
    check the files it holds, and gathers every ``Received`` into the parent, in the order of ``items``.
    ``cpu`` holds the CPU seconds of each phase, the parent's and the workers' together.
    """

    def __init__(self, city: Ledger | None, units: str | None, workers: int | None, total: int, progress=None):
        self.city, self.units = city, units
        self.workers = worker_count(workers, total)
        self.total = total
        self.progress = progress or (lambda done, total: None)
        self.done = 0
        self.cpu: dict[str, float] = {}
        self.parallel = total >= PARALLEL_FROM and self.workers > 1
        self.procs: list = []
        self.conns: list = []
        self.child_ends: list = []
        self.held: dict[int, Received] = {}  # in this process, when not parallel
        self.tally = None  # the unit names of every file whose spellings are learned (``learner_names``)
        self.known: dict[int, Known] = {}  # what the parent knows of each file read before the check
        self.count = 0  # files read
        # What every worker needs, loaded here (and inherited where workers fork): the modules and the directory.
        from .. import target_text, validation  # noqa: F401
        from ..readers import workbook  # noqa: F401
        from . import mapping  # noqa: F401

        _init_worker(city, units, in_worker=False)  # the city index and the directory, inherited by a fork

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._stop(failed=exc_type is not None)

    def _stop(self, failed: bool = False) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop",))
            except OSError:
                pass  # that worker has ended already
        for proc in self.procs:
            if failed:
                proc.terminate()  # the run has failed: whatever a worker is doing is not wanted
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        for conn in self.conns + self.child_ends:
            conn.close()
        self.procs, self.conns, self.child_ends = [], [], []

    def _tick(self, n: int) -> None:
        self.done += n
        self.progress(self.done, 2 * self.total)

    def _start(self, items: list[tuple]) -> None:
        ctx = start_context()
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

    def _gather(self, command: tuple, on_message, then=None) -> float:
        """Send ``command`` to every worker, and then what ``then()`` returns, if given (made while the workers
        are at work); hand each message to ``on_message`` until all are done."""
        from multiprocessing.connection import Connection, wait

        for conn in self.conns:
            conn.send(command)
        if then is not None:
            more = then()
            for conn in self.conns:
                conn.send(more)
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
        from ..units.learn import Tally

        start = time.process_time()
        self.count = len(items)
        self.tally = Tally()
        workers_cpu = 0.0
        if not self.parallel:
            _init_worker(self.city, self.units, in_worker=False)
            for i, item in enumerate(items):
                self.held[i] = rec = read_file(*item)
                _tallied(self.tally, rec, self.units)
                self.known[i] = _known(rec)
                self._tick(1)
        else:
            self._start(items)

            def on_read(kind, payload):
                files, tally, known = payload
                self.tally.merge(tally)  # while the workers go on reading
                self.known.update(known)
                self._tick(files)

            workers_cpu = self._gather(("read",), on_read)
        self.cpu["read"] = time.process_time() - start + workers_cpu

    def check(self) -> list[Received]:
        """Phase 2: check every file where it was read and gather them all here, in the order read."""
        start = time.process_time()
        tally, self.tally = self.tally, None

        def learned() -> dict:
            return tally.learn() if tally else {}

        received: list[Received | None] = [None] * self.count
        workers_cpu = 0.0
        if not self.parallel:
            spellings = learned()
            for i in sorted(self.held):
                rec = self.held.pop(i)
                received[i] = _apply(rec, _check(rec, self.units, spellings))
                self._tick(1)
        else:
            # What the workers send is kept as it came, a third of the memory of the objects, and made into
            # objects only once the workers have ended: the workers' memory (their caches, and what they held)
            # and every district's rows are never held at once.
            blobs: list[tuple[bytes, bytes] | None] = [None] * self.count

            def on_checked(kind, batch):
                for i, blob, checked in batch:
                    blobs[i] = (blob, checked)
                self._tick(len(batch))

            # The workers check all but the unit names while the spellings are learned here.
            workers_cpu = self._gather(("check",), on_checked, then=lambda: ("spellings", learned()))
            self._stop()
            for i, (blob, checked) in enumerate(blobs):
                blobs[i] = None  # each file's bytes freed as its objects are made
                received[i] = _apply(pickle.loads(blob), pickle.loads(checked))
                if i % 256 == 255:
                    _check_memory([])
            _release_memory()
        self.cpu["check"] = time.process_time() - start + workers_cpu
        return received
