"""``consolidate``: the city ledger plus every district's workbook → one rollup workbook.

Files are read in parallel (python-calamine in worker processes), then each district is checked in the
same workers (units, targets, and its rows mapped to city tasks), district targets are summed against the
city's, every file is archived by content, and the rollup is written atomically. Nothing a district sent
is lost: unreadable files, unknown regions and unmapped rows are listed, and the files stay in the archive.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from ..display import file_name
from ..errors import OutputError, UnreadableInput
from ..model import Ledger
from ..problems import Problem
from ..xlio import check_output
from .mapping_sheet import SHEET as MAPPING_SHEET
from .model import Mapping, Received, Rollup, TargetComparison, missing_regions
from .reading import Workers, directory, paused_gc

log = logging.getLogger(__name__)

INBOX_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".tsv", ".txt", ".md", ".docx", ".json"}

__all__ = ["ConsolidateOptions", "Mapping", "Received", "Rollup", "TargetComparison", "consolidate",
           "consolidate_from_archive"]


@dataclass
class ConsolidateOptions:
    """Everything consolidate can be told besides its inputs and output."""

    regions: list[str] | None = None  # expected districts; default: the city's districts in the unit directory
    mapping: str | None = None  # a corrected 映射 sheet (a rollup workbook) to apply
    archive: str | None = None  # archive folder; default xltools.archive.default_root()
    use_archive: bool = True
    units: str | None = None  # unit directory workbook
    workers: int | None = None  # reader processes; default: the CPU count (at most 8)
    district_sheets_max: int = 40  # above this many districts, one 明细 sheet instead of one per district
    progress: object = None  # a callable(done, total) for a progress bar
    feedback: str | None = None  # folder for one feedback workbook per district (``xltools.feedback``)

    def recorded(self) -> dict:
        """The options that change the result, as recorded with a run in the archive."""
        return {"regions": self.regions, "district_sheets_max": self.district_sheets_max}


# ------------------------------------------------------------------------------------------ reading


def inbox_files(inbox: Path, exclude: set[Path] = frozenset()) -> list[Path]:
    """Files consolidate reads from an inbox folder (not Office lock files, hidden files or what ``exclude``
    names: its own output, the city ledger, an archive folder inside the inbox)."""
    if not inbox.is_dir():
        raise UnreadableInput(f"{inbox}: not a folder", f"找不到收件文件夹：{inbox}")
    files = []
    for path in sorted(inbox.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in INBOX_SUFFIXES:
            continue
        if path.name.startswith(("~$", ".")) or path.resolve() in exclude \
                or any(parent in exclude for parent in path.resolve().parents):
            continue
        files.append(path)
    return files


# ---------------------------------------------------------------------------------------- assembly


def _expected_regions(city: Ledger, options: ConsolidateOptions) -> list[str]:
    if options.regions:
        return list(options.regions)
    return directory(options.units).children(city.region) if city.region else []


class _Archiving:
    """A consolidation's files archived by a thread of its own while the workers check them (copying and
    hashing let other threads run), all in one transaction (``Archive.batch``), committed only once the check
    has succeeded. ``join`` lets it commit and re-raises what failed; ``stop`` abandons the batch (nothing
    recorded, however far it got; the copies made stay for the next run)."""

    def __init__(self, root: str | None, items: list[tuple], known: dict):
        import threading

        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.decided = threading.Event()  # the check is over: commit, unless stopping
        # In the order read, as before: versions follow the time received, and then the order submitted.
        jobs = [(path, known[i].region, when, known[i].sha256, name)
                for i, (path, name, when, *_rest) in enumerate(items) if not known[i].own_output]
        self.thread = threading.Thread(target=self._run, args=(root, jobs), name="xltools-archive", daemon=True)
        self.thread.start()

    def _run(self, root: str | None, jobs: list[tuple]) -> None:
        from ..archive import Archive

        try:
            with Archive(root) as archive, archive.batch():
                for job in jobs:
                    if self.stopping.is_set():
                        raise _Stopped
                    archive.submit(*job)
                self.decided.wait()
                if self.stopping.is_set():
                    raise _Stopped
        except BaseException as err:  # re-raised where the thread is joined
            self.error = err

    def join(self) -> None:
        self.decided.set()
        self.thread.join()
        if self.error is not None and not isinstance(self.error, _Stopped):
            raise self.error

    def stop(self) -> None:
        self.stopping.set()
        self.decided.set()
        self.thread.join()


class _Stopped(Exception):
    pass


def _versions(received: list[Received], archive) -> tuple[list[Received], list[Received]]:
    """Latest file per region in use; older ones (in this inbox or the archive) superseded. With an archive,
    the files are in it (``_Archiving``) and their versions are the archive's."""
    if archive is not None:
        for rec in received:
            rec.version = archive.submission(rec.sha256, rec.region).version
    by_region: dict[str | None, list[Received]] = {}
    for rec in received:
        by_region.setdefault(rec.region, []).append(rec)
    used, superseded = [], []
    for region, recs in by_region.items():
        if region is None:
            used.extend(recs)  # unknown region: listed, never merged
            continue
        readable = [r for r in recs if r.ledger is not None] or recs
        latest = max(readable, key=lambda r: (r.received, r.version, r.name))
        if archive is not None:
            newest = archive.versions(region)[-1]
            # (A newer file in this inbox that could not be used is reported as such, not as newer in the archive.)
            if newest.sha256 not in {r.sha256 for r in recs} and newest.received > latest.received:
                latest.problems.append(Problem(
                    "newer-in-archive", f"{region}在归档中有更新的文件“{newest.name}”（第{newest.version}版），"
                    f"本次收件中为第{latest.version}版", severity="warning", file=latest.name))
        if archive is None:  # versions as recorded (from the archive), else by time received
            for i, r in enumerate(sorted(recs, key=lambda r: (r.received, r.name)), 1):
                r.version = r.version or i
        used.append(latest)
        # In the order received, not the order read: a rebuild from the archive reads files in another order.
        for r in sorted(recs, key=lambda r: (r.received, r.version, r.name, r.sha256)):
            if r is not latest:
                r.superseded_by = latest.sha256
                superseded.append(r)
                error = next((p.message for p in r.problems if p.severity == "error"), "")
                why = (f"{region}的“{r.name}”无法使用（{error.rstrip('。')}），已采用“{latest.name}”" if r.ledger is None else
                       f"{region}重复报送：已采用较新的“{latest.name}”，“{r.name}”保留在归档中")
                latest.problems.append(Problem("superseded-file", why, severity="info", file=r.name))
    used.sort(key=lambda r: (r.region is None, r.region or "", r.name))
    superseded.sort(key=lambda r: (r.region or "", r.received, r.version, r.name, r.sha256))
    return used, superseded


def _map(city: Ledger, used: list[Received], overrides, mapping_file: str | None = None
         ) -> tuple[list[Mapping], list[Problem]]:
    """Mappings for every row of every district: as found where the file was read, or as the clerk fixed them.

    A clerk's number that is not a city task is a problem at its cell of the 映射 sheet, and that row keeps the
    mapping found by reading."""
    mappings, problems = [], []
    known = {r.seq for r in city.rows if r.seq is not None}
    fixed = {}
    for o in overrides or []:
        unknown = [s for s in o.city_seqs if s not in known]
        if unknown:
            problems.append(Problem(
                "mapping-unknown-task", f"映射表中{o.region}“{o.task}”填写的市级任务序号"
                f"{'、'.join(map(str, unknown))}不存在（市级台账共{len(known)}项任务），该行仍按自动对应",
                severity="error", file=mapping_file, sheet=MAPPING_SHEET, cell=o.cell, value="、".join(map(str, o.city_seqs)),
                suggestion=f"改为市级台账中的任务序号（{min(known)}～{max(known)}），多个用顿号分隔"))
            continue
        fixed[(o.region, o.row_seq, o.task)] = o.city_seqs
        fixed[(o.region, o.file, o.sheet, o.row)] = o.city_seqs
    for rec in used:
        if rec.ledger is None or rec.region is None:
            continue
        for row, (seqs, confidence, method) in zip(rec.ledger.rows, rec.row_maps, strict=True):
            manual = fixed.get((rec.region, rec.name, row.origin.sheet, row.origin.row))
            if manual is None:
                manual = fixed.get((rec.region, row.seq, row.task))
            if manual is not None:
                mappings.append(Mapping(rec.region, row, list(manual), 1.0, "manual", rec.name))
                continue
            if method == "na":
                mappings.append(Mapping(rec.region, row, [], confidence, method, rec.name, list(seqs)))
            else:
                mappings.append(Mapping(rec.region, row, list(seqs), confidence, method, rec.name))
    return mappings, problems


def consolidate(city_ledger, inbox, out=None, options: ConsolidateOptions | None = None, *,
                created: datetime | None = None,
                files: list[tuple[Path, str, datetime, int | None]] | None = None,
                archive_run: str | None = None) -> Rollup:
    """Consolidate every district file in ``inbox`` against ``city_ledger``; write the rollup to ``out``.

    Phases, each timed in ``Rollup.timings``: prepare (city ledger, file list, the modules and unit directory
    the workers need), read (every file, in worker processes), check (units, targets and mapping of each
    district, in the same workers), map + sum (versions, mappings, target sums), write (the rollup, atomically).
    """
    with paused_gc():
        return _consolidate(city_ledger, inbox, out, options or ConsolidateOptions(), created, files, archive_run)


def _consolidate(city_ledger, inbox, out, options: ConsolidateOptions, created, files, archive_run) -> Rollup:
    from ..archive import sha256_of
    from ..readers import extract
    from ..returned import as_city
    from ..target_text import ledger_targets

    clock = _Clock()
    created = created or datetime.now().replace(microsecond=0)
    city_path = Path(city_ledger)
    city = as_city(extract(city_path))  # (a district's distributed form stands for the city ledger it came from)
    city.meta["sha256"] = sha256_of(city_path)  # a returned distributed workbook names the ledger it came from
    if not city.rows:
        raise UnreadableInput(f"{city_path}: no tasks in the city ledger", f"市级台账“{file_name(city_path)}”中没有读到任何任务")
    out = Path(out) if out else None
    if options.use_archive or archive_run:
        from ..archive import default_root

        archive_root = (Path(options.archive) if options.archive else default_root()).resolve()
    else:
        archive_root = None
    if archive_root is not None and files is None:
        box = Path(inbox).resolve()
        if archive_root == box or archive_root in box.parents:  # every file would be skipped as archived
            raise OutputError(f"the archive {archive_root} is, or holds, the inbox {box}",
                              f"归档文件夹不能是收件文件夹，也不能包含收件文件夹：{options.archive or archive_root}。"
                              "请另选归档文件夹（或不加 --archive，用默认位置）。")
    if out is not None:
        if options.feedback is not None:
            fb = Path(options.feedback).resolve()
            if fb in out.resolve().parents:
                raise OutputError(f"refusing to write the rollup {out} into the feedback folder {fb}",
                                  f"汇总表不能写在反馈文件夹中（其中的文件是发给各区县的，反馈清单也会写在那里）：{out}。"
                                  "请另选汇总表的位置。")
        check_output(out, city_path, options.mapping, options.units,
                     inbox=None if files is not None else Path(inbox), archive=archive_root, suffix=".xlsx")
    if options.feedback is not None:
        from ..feedback import check_feedback_dir

        check_feedback_dir(options.feedback, inbox=None if files is not None else Path(inbox), archive=archive_root)
    if options.use_archive:
        from ..archive import Archive

        Archive(options.archive).close()  # a read-only archive is found now, not after every file is read
    if files is None:
        exclude = {out.resolve()} if out else set()
        if archive_root is not None:
            exclude.add(archive_root)
        files = [(p, file_name(p), datetime.fromtimestamp(p.stat().st_mtime).replace(microsecond=0), None)
                 for p in inbox_files(Path(inbox), exclude | {city_path.resolve()})]
    expected = _expected_regions(city, options)
    items = [(path, name, when, version, tuple(expected)) for path, name, when, version in files]
    archiving = None
    try:
        with Workers(city, options.units, options.workers, len(items), options.progress) as workers:
            clock.lap("prepare")
            workers.read(items)
            clock.lap("read", workers.cpu["read"])
            if options.use_archive:
                archiving = _Archiving(options.archive, items, workers.known)
            received = workers.check()
            clock.lap("check", workers.cpu["check"])
    except BaseException:
        if archiving is not None:
            archiving.stop()
        raise
    skipped = [p for r in received if r.own_output for p in r.problems]  # rollups found in the inbox
    received = [r for r in received if not r.own_output]

    archive = None
    if archiving is not None:
        from ..archive import Archive

        archiving.join()
        archive = Archive(options.archive)
    try:
        used, superseded = _versions(received, archive)
        overrides = None
        if options.mapping:
            from .mapping_sheet import read_mapping

            overrides = read_mapping(Path(options.mapping))
        mappings, mapping_problems = _map(city, used, overrides, Path(options.mapping).name if options.mapping else None)
        results = dict((id(item), r.targets) for item, r in ledger_targets(city))
        city_row_targets = [results.get(id(r), []) for r in city.rows]
        city_goal_targets = [results.get(id(g), []) for g in city.goals]
        from .compare import compare_targets

        targets = compare_targets(city, city_row_targets, city_goal_targets, used, mappings)
        problems = skipped + mapping_problems + _problems(city, used, mappings, expected)
        from ..archive import sha256_of

        rollup = Rollup(city, file_name(city_path), used, superseded, mappings, targets, expected, problems, created,
                        archive_run, sha256_of(city_path), city_path)
        # The run and its inputs are recorded before the rollup is written, and completed after: killed in
        # between, the archive holds an incomplete run that can still be rebuilt. Without an output there
        # is no run, only the files archived.
        if archive is not None and out is not None:
            rollup.archive_run = _record(archive, rollup, city_path, options, created)
        clock.lap("map_sum")
        if out is not None:
            from .writer import write_rollup

            write_rollup(rollup, out, district_sheets_max=options.district_sheets_max)
            if archive is not None:
                archive.set_output(rollup.archive_run, sha256_of(out))
            clock.lap("write")
        if options.feedback is not None:
            # Here, while the files read are still at hand (a rebuild's copies go when it returns).
            from ..feedback import write_feedback

            rollup.feedback = write_feedback(rollup, options.feedback, options.units,
                                             inbox=None if files is not None else Path(inbox), archive=archive_root,
                                             workers=options.workers)
            clock.lap("feedback")
    finally:
        if archive is not None:
            archive.close()
    rollup.timings = clock.timings
    log.info("consolidated %d files (%d regions) into %s; seconds: %s", len(received), len(rollup.regions), out,
             ", ".join(f"{k} {v:.2f}" for k, v in clock.timings.items()))
    return rollup


class _Clock:
    """Wall seconds per phase, and CPU seconds where workers did the work (``read_cpu``, ``check_cpu``)."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, phase: str, cpu: float | None = None) -> None:
        now = time.perf_counter()
        self.timings[phase] = now - self.last
        if cpu is not None:
            self.timings[f"{phase}_cpu"] = cpu
        self.last = now
        log.info("phase %s done in %.2f s", phase, self.timings[phase])


def _problems(city, used, mappings, expected) -> list[Problem]:
    problems: list[Problem] = []
    for rec in used:  # (a superseded file's problems are its own: the file in use says what stands now)
        problems.extend(rec.problems)
    for m in mappings:
        if m.method in ("blank", "na"):
            continue  # a distributed city row left blank: reported as such (returned-blank-row)
        if not m.mapped and m.method == "own":
            problems.append(Problem(
                "own-task", f"{m.region}自行增加的任务“{m.row.task}”（不对应市级任务，已列入汇总）", severity="info",
                file=m.file, sheet=m.row.origin.sheet, cell=f"A{m.row.origin.row}" if m.row.origin.row else None,
                value=m.row.content[:40],
                suggestion="如确与某项市级任务对应，可在“映射”表中填写市级任务序号"))
        elif m.unmatched:
            problems.append(Problem(
                "unmapped-row", f"{m.region}任务{m.row.seq if m.row.seq is not None else ''}“{m.row.task}”"
                f"未能对应到市级任务（最高相似度{m.confidence:.2f}）", severity="info", file=m.file,
                sheet=m.row.origin.sheet, cell=f"A{m.row.origin.row}" if m.row.origin.row else None,
                line=m.row.origin.line, value=m.row.content[:40],
                suggestion="如确有对应，请在“映射”表中填写市级任务序号，交回负责汇总的同志，下次汇总即按此对应"))
    for region in missing_regions(expected, used):  # (a district whose files were unusable: their problems say so)
        problems.append(Problem("missing-district", f"{region}未报送", severity="warning", value=region))
    return problems


def _record(archive, rollup: Rollup, city_path: Path, options: ConsolidateOptions, created: datetime) -> str:
    from ..archive import RunInput

    city_sha = archive.store(city_path)
    city_in = RunInput(city_sha, file_name(city_path), rollup.city.region, None,
                       datetime.fromtimestamp(city_path.stat().st_mtime).replace(microsecond=0), "city")
    inputs = [RunInput(r.sha256, r.name, r.region, r.version, r.received, "district") for r in rollup.received]
    inputs += [RunInput(r.sha256, r.name, r.region, r.version, r.received, "superseded") for r in rollup.superseded]
    return archive.record_run(created, city_in, inputs, options.recorded())


def consolidate_from_archive(run_id: str, out, archive: str | None = None, mapping: str | None = None,
                             feedback: str | None = None) -> Rollup:
    """Produce an earlier run's rollup again from the files the archive kept.

    An incomplete run (killed before its rollup was written or confirmed) is rebuilt too: its inputs were
    archived before it was recorded. Nothing is added to the archive, and a missing archive or run is an
    ``UnreadableInput`` (nothing is created); an archived file that is missing or altered is one too.
    """
    from ..archive import Archive

    with Archive(archive, create=False) as store:
        run = store.run(run_id)
        if run is None:
            raise UnreadableInput(f"no run {run_id!r} in {store.root}",
                                  f"归档中没有编号为“{run_id}”的汇总记录（可用 xltools consolidate --list-runs 查看）")
        if out is not None:
            check_output(out, mapping, archive=store.root, suffix=".xlsx")
        if feedback is not None:
            from ..feedback import check_feedback_dir

            check_feedback_dir(feedback, archive=store.root)
        if not run.complete:
            log.warning("run %s is incomplete (its rollup was not written or not confirmed); rebuilding it", run_id)
        with archived_files(store, run.inputs) as (tmp, files):
            city = tmp / _safe_name(run.city_name)
            _copy_object(store, run.city_sha256, run.city_name, city)
            options = ConsolidateOptions(archive=archive, mapping=mapping, feedback=feedback, **{
                k: v for k, v in run.options.items() if k in asdict(ConsolidateOptions())})
            options.use_archive = False  # reproducing adds nothing to the archive
            return consolidate(city, tmp, out, options, created=run.created, files=files, archive_run=run.id)


@contextmanager
def archived_files(store, items):
    """Archived files (anything with ``sha256``, ``name``, ``received``, ``version``: a run's inputs, a district's
    submissions) copied out, each checked against its sha256, into a temporary folder — a folder each, as two may
    share a name — and given as consolidate's ``files``. Yields (the folder, the files); removed after."""
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="xltools-run-"))
    try:
        files = []
        for i, item in enumerate(items):
            folder = tmp / f"{i:05d}"
            folder.mkdir()
            path = folder / _safe_name(item.name)
            _copy_object(store, item.sha256, item.name, path)
            files.append((path, item.name, item.received, item.version))
        yield tmp, files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _safe_name(name: str) -> str:
    """``name`` as one file name in a folder of our own (a name handed in over the web is never a path)."""
    if name in ("", ".", "..") or "/" in name or "\x00" in name or (os.sep != "/" and os.sep in name):
        return "file" + Path(name.replace("\x00", "")).suffix.lower()
    return name


def _copy_object(store, sha256: str, name: str, to: Path) -> None:
    """An archived file, copied out and checked against its sha256."""
    import shutil

    from ..archive import sha256_of

    source = store.object_path(sha256)
    try:
        shutil.copyfile(source, to)
        intact = sha256_of(to) == sha256
    except FileNotFoundError:
        intact = False
    if not intact:
        raise UnreadableInput(f"archived object {sha256} ({name}) is missing or altered",
                              f"归档中的文件“{name}”缺失或已被改动（{source}），无法重新生成该汇总")
