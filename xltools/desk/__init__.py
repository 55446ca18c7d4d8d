"""The desk: districts hand in their workbooks through a web page and are checked at once; the city sees who
sent what and takes the rollup (``xltools serve``).

This module is the desk's core, plain Python over the archive: a hand-in is checked exactly as ``consolidate``
checks a district's file (its rollup of that one file, and the feedback workbook as its marked copy), archived as
a new version, and everything the pages show is computed from the archive. ``app.py`` is the web door over it.
Nothing is kept outside the archive: a marked copy or a rollup is made again when asked (the same bytes: outputs
carry the time of what they were made from).
"""

from __future__ import annotations

import hmac
import io
import logging
import secrets
import tempfile
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..archive import Archive, Submission, city_token, desk_secret, sha256_of, upload_code
from ..display import file_name
from ..errors import UnreadableInput, XltoolsError
from ..readers import WORKBOOK_SUFFIXES
from ..rollup import ConsolidateOptions, archived_files, consolidate

log = logging.getLogger(__name__)

ACCEPTED = (*sorted(WORKBOOK_SUFFIXES), ".csv")  # what a district may hand in


@dataclass
class Checked:
    """One hand-in, checked: what the district sees on its page."""

    region: str
    version: int
    name: str
    sha256: str
    received: datetime
    taken_as: str | None  # the district the file says it is (template metadata, title or name)
    problems: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    blank: bool = False
    rows: int = 0
    uncovered: int = 0

    def listed(self) -> list[dict]:
        """The problems as the marked copy's 问题清单 lists them: worst first, by place, and many of one kind
        one line naming their cells (the page stays readable for a blank form's 60 untouched tasks)."""
        from ..patch import list_order
        from ..problems import Problem, group_problems

        return [p.to_dict() for p in group_problems(list_order([Problem.from_dict(d) for d in self.problems]))]

    def to_dict(self) -> dict:
        return {"region": self.region, "version": self.version, "name": self.name, "sha256": self.sha256,
                "received": self.received.isoformat(timespec="seconds"), "taken_as": self.taken_as,
                "problems": self.problems, "counts": self.counts, "blank": self.blank, "rows": self.rows,
                "uncovered": self.uncovered}


@dataclass
class Job:
    """A rollup or feedback zip being made in the background; ``done``/``total`` as consolidate counts (every
    file read, then checked), then the workbook is written."""

    id: str
    kind: str  # "rollup" | "feedback"
    started: datetime
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    finished: datetime | None = None
    name: str = ""
    data: bytes = field(default=b"", repr=False)
    error: str = ""

    def stage(self) -> str:
        if self.state == "done":
            return "已生成"
        if self.state == "failed":
            return f"未能完成：{self.error}"
        if self.total and self.done >= self.total:
            return "正在写出反馈工作簿" if self.kind == "feedback" else "正在写出汇总表"
        return "正在读取并核对各区县文件" if self.done * 2 < self.total or not self.total else "正在核对各区县文件"

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "done": self.done, "total": self.total,
                "stage": self.stage(), "started": self.started.isoformat(timespec="seconds"),
                "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
                "name": self.name, "error": self.error}


class DeskError(UnreadableInput):
    """What the desk refuses, with the HTTP status the API answers (the CLI's exit 2 is a 4xx)."""

    def __init__(self, message: str, message_zh: str, status: int = 400):
        super().__init__(message, message_zh)
        self.status = status


class Desk:
    """The city's desk over one archive: its city ledger, its districts, their codes and hand-ins."""

    def __init__(self, city: str | Path, archive: str | Path, regions: list[str] | None = None,
                 units: str | None = None):
        self.city = Path(city)
        if not self.city.is_file():
            raise UnreadableInput(f"city ledger {city} not found", f"找不到市级台账：{city}")
        self.archive = Path(archive)
        self.units = units
        Archive(self.archive).close()  # made now, and found writable now
        self.regions = list(regions) if regions else directory_regions_of(self.city, units)
        self._lock = threading.Lock()  # one consolidation at a time; the archive serialises its own writes
        self._checked: dict[tuple[str, str], Checked] = {}
        self._city_name: str | None = None
        self._overview: tuple | None = None
        self._latest_cache: tuple | None = None
        self._secret = desk_secret(self.archive)
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()

    # codes ------------------------------------------------------------------------------------------------

    def code(self, region: str) -> str:
        """A district's upload code: 8 characters from the archive's secret (the same each time the desk starts)."""
        return upload_code(self._secret, region)

    def city_token(self) -> str:
        return city_token(self._secret)

    def region_of_code(self, code: str) -> str | None:
        code = (code or "").strip().upper()
        return next((r for r in self.regions if hmac.compare_digest(self.code(r), code)), None)

    def is_city(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.city_token(), token.strip())

    # hand-ins ---------------------------------------------------------------------------------------------

    def hand_in(self, region: str, name: str, data: bytes, received: datetime | None = None) -> Checked:
        """Check a district's workbook as consolidate would, then archive it as its next version."""
        display = file_name(name) or "未命名.xlsx"
        suffix = Path(display).suffix.lower()
        if suffix not in ACCEPTED:
            raise DeskError(f"{display}: {suffix!r} not accepted",
                            f"不支持的文件类型“{suffix or '无扩展名'}”：{display}（请交 {' '.join(ACCEPTED)}）", 415)
        received = (received or datetime.now()).replace(microsecond=0)
        with tempfile.TemporaryDirectory(prefix="xltools-desk-") as tmp:
            path = Path(tmp) / f"upload{suffix}"  # nothing of the upload's name is a path
            path.write_bytes(data)
            checked = self._check(region, display, path, received, None, self._versions())
            if checked.taken_as and checked.taken_as != region:
                raise DeskError(f"{display} is {checked.taken_as}'s, handed in as {region}'s",
                                f"“{display}”是{checked.taken_as}的台账，不是{region}的。请交本区的表，"
                                "或请市里核对上传码。", 409)
            with Archive(self.archive) as store:
                sub = store.submit(path, region, received, name=display)
        checked.version, checked.sha256, checked.received = sub.version, sub.sha256, sub.received
        log.info("desk: %s handed in %s (version %d, %d problems)", region, display, sub.version,
                 len(checked.problems))
        return checked

    def versions(self, region: str) -> list[Submission]:
        with Archive(self.archive) as store:
            return store.versions(region)

    def checked(self, region: str, version: int | None = None, versions: dict | None = None) -> Checked | None:
        """A version's check (the latest by default) as things stand now: the latest versions are checked together
        (one consolidation, as the city's next rollup will), an older version beside the others' latest.
        ``versions``: every district's, when the caller has read them already."""
        versions = versions if versions is not None else self._versions()
        mine = versions.get(region) or []
        sub = (mine[-1] if version is None else next((v for v in mine if v.version == version), None)) if mine else None
        if sub is None:
            return None
        if sub.sha256 == mine[-1].sha256:
            rollup, names = self._latest(versions)
            rec = next((r for r in rollup.received if r.region == region), None)
            checked = _derive(rollup, rec, region, names[region], sub.sha256, sub.received)
            checked.version, checked.name = sub.version, sub.name
            return checked
        state = _state(versions)
        key = (region, sub.sha256, state)
        if key not in self._checked:
            # checks made against other latest versions are stale now: a desk that runs for weeks keeps only these
            self._checked = {k: c for k, c in self._checked.items() if k[2] == state}
            with self._archived([sub]) as files:
                path, name, when, number = files[0]
                checked = self._check(region, name, path, when, number, versions)
            checked.version, checked.sha256 = sub.version, sub.sha256
            self._checked[key] = checked
        return self._checked[key]

    def _versions(self) -> dict[str, list[Submission]]:
        """Every expected district's versions, in one visit to the archive."""
        with Archive(self.archive) as store:
            return {r: store.versions(r) for r in self.regions}

    def _latest(self, versions: dict[str, list[Submission]]):
        """One consolidation of every district's latest version (cached until a hand-in changes them), and the
        name each file has in it."""
        state = _state(versions)
        if self._latest_cache is not None and self._latest_cache[0] == state:
            return self._latest_cache[1]
        latest = {r: v[-1] for r, v in versions.items() if v}
        with self._lock, self._archived(list(latest.values())) as files, \
                tempfile.TemporaryDirectory(prefix="xltools-desk-") as out:
            files, names = _distinct(files, list(latest))
            rollup = consolidate(self.city, Path(out), None, self._options(), created=_newest(latest.values()),
                                 files=files)
        self._latest_cache = (state, (rollup, names))
        return rollup, names

    def marked_copy(self, region: str, version: int) -> tuple[str, bytes]:
        """The district's workbook with its problems marked: the feedback consolidate writes for it."""
        sub = next((v for v in self.versions(region) if v.version == version), None)
        if sub is None:
            raise DeskError(f"{region} has no version {version}", f"{region}没有第{version}版", 404)
        with self._archived([sub]) as files, tempfile.TemporaryDirectory(prefix="xltools-desk-") as out:
            rollup = consolidate(self.city, Path(out), None, self._options(feedback=str(Path(out) / "反馈")),
                                 created=sub.received, files=files)
            path = rollup.feedback[0] if rollup.feedback else None
            if path is None:
                raise DeskError(f"no marked copy for {sub.name}", f"“{sub.name}”无法生成标注副本（文件无法读取或没有任务行）",
                                422)
            return path.name, path.read_bytes()

    # the city ---------------------------------------------------------------------------------------------

    def status(self) -> list[dict]:
        """Each expected district: 未报送, or its latest version with its counts."""
        versions = self._versions()
        rows = []
        for region in self.regions:
            if not versions[region]:
                rows.append({"region": region, "status": "未报送", "versions": 0})
                continue
            checked = self.checked(region, versions=versions)
            errors = checked.counts.get("error", 0)
            status = "空白" if checked.blank else f"有错误 {errors} 条" if errors else f"已报送 第{checked.version}版"
            rows.append({"region": region, "status": status, "versions": len(versions[region]),
                         "latest": checked.to_dict()})
        return rows

    def overview(self) -> dict:
        """覆盖矩阵 and 目标对比 of the latest versions, as the rollup has them, for the city page."""
        from ..rollup.writer import COMPARATOR_ZH, TARGET_STATUS_ZH

        versions = self._versions()
        state = _state(versions)
        if self._overview is not None and self._overview[0] == state:
            return self._overview[1]
        rollup, _names = self._latest(versions)
        coverage, na = rollup.coverage(), rollup.not_applicable()
        sent = [r for r in self.regions if any(rec.region == r for rec in rollup.received)]
        matrix = [{"seq": row.seq, "task": row.task,
                   "cells": ["●" if r in coverage.get(row.seq, {}) else "不涉及" if r in na.get(row.seq, {}) else ""
                             for r in sent]}
                  for row in rollup.city.rows if row.seq is not None]
        targets = []
        for t in sorted(rollup.targets, key=lambda t: (t.city_seq is None, t.city_seq or 0)):
            share = t.district_sum / t.city_value if t.summable and t.district_sum is not None and t.city_value \
                else None
            cells = []
            for r in sent:
                status = t.status(r)
                cells.append(_number(t.districts.get(r)) if status == "figure" else TARGET_STATUS_ZH.get(status, ""))
            targets.append({"seq": t.city_seq if t.city_seq is not None else "目标", "metric": t.metric,
                            "year": t.year or ("每年" if t.per_year else ""), "unit": t.unit or "",
                            "comparator": COMPARATOR_ZH.get(t.comparator, t.comparator),
                            "city": _number(t.city_value), "sum": _number(t.district_sum) if t.summable else "不合计",
                            "share": None if share is None else round(100 * share), "cells": cells})
        tasks = len(matrix)
        covered = [{"region": r, "covered": sum(m["cells"][i] == "●" for m in matrix),
                    "na": sum(m["cells"][i] == "不涉及" for m in matrix), "tasks": tasks} for i, r in enumerate(sent)]
        result = {"regions": sent, "matrix": matrix, "targets": targets, "coverage": covered}
        self._overview = (state, result)
        return result

    def rollup(self, feedback: bool = False, progress=None) -> tuple[str, bytes]:
        """The rollup of every district's latest version (as ``consolidate`` writes it), or the zip of their
        feedback workbooks. ``progress(done, total)`` as consolidate calls it (files read, then checked)."""
        latest = [v[-1] for v in self._versions().values() if v]
        with self._lock, self._archived(latest) as files, tempfile.TemporaryDirectory(prefix="xltools-desk-") as out:
            target = Path(out) / f"{self.city_name()}_汇总.xlsx"
            fb = Path(out) / "反馈"
            options = self._options(feedback=str(fb) if feedback else None)
            options.progress = progress
            consolidate(self.city, Path(out), target, options, created=_newest(latest), files=files)
            if not feedback:
                return target.name, target.read_bytes()
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                for path in sorted(fb.iterdir()):
                    z.write(path, path.name)
            return f"{self.city_name()}_反馈.zip", buffer.getvalue()

    def start(self, feedback: bool = False) -> Job:
        """The rollup (or the feedback zip) made in the background, so that a page can show its progress: a job
        of that kind already running is the one answered; a finished one is kept until the next is started."""
        kind = "feedback" if feedback else "rollup"
        with self._jobs_lock:
            running = next((j for j in self._jobs.values() if j.kind == kind and j.state == "running"), None)
            if running is not None:
                return running
            self._jobs = {i: j for i, j in self._jobs.items() if j.kind != kind}  # its result is not wanted now
            job = Job(secrets.token_urlsafe(12), kind, started=datetime.now().replace(microsecond=0),
                      total=2 * sum(1 for v in self._versions().values() if v))
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job,), name=f"desk-{kind}", daemon=True).start()
        return job

    def job(self, job_id: str) -> Job | None:
        with self._jobs_lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            job.name, job.data = self.rollup(job.kind == "feedback", progress)
            job.state = "done"
        except XltoolsError as exc:
            log.warning("desk %s failed: %s", job.kind, exc)
            job.error, job.state = exc.message_zh, "failed"
        except Exception as exc:  # the page says so; the detail is in the log
            log.exception("desk %s failed: %s", job.kind, exc)
            job.error, job.state = "内部错误，未能完成；请把收发台的日志发给维护人员", "failed"
        job.finished = datetime.now().replace(microsecond=0)

    def workbook(self, action: str, snapshot: dict) -> dict:
        """A ribbon button on a workbook a client sent as a snapshot (the WPS add-in): the patch to apply, as data
        (``buttons``: the checks, marks and lists of the Excel add-in and of validate)."""
        from ..buttons import ACTIONS
        from ..patch import Snapshot
        from ..units.directory import cached_directory

        if action not in ACTIONS:
            raise DeskError(f"no workbook action {action!r}", f"没有“{action}”这个功能", 404)
        if not isinstance(snapshot, dict) or not isinstance(snapshot.get("sheets", []), list):
            raise DeskError("snapshot is not an object with sheets", "发来的工作簿内容格式不对", 422)
        try:
            book = Snapshot.from_dict(snapshot)
        except (KeyError, TypeError, AttributeError) as exc:
            raise DeskError(f"malformed snapshot: {exc!r}", "发来的工作簿内容格式不对", 422) from exc
        return ACTIONS[action](book, cached_directory(self.units)).to_dict()

    def city_name(self) -> str:
        if self._city_name is None:
            from ..readers import extract

            self._city_name = extract(self.city).region or "市级"
        return self._city_name

    # inside -----------------------------------------------------------------------------------------------

    def _options(self, feedback: str | None = None) -> ConsolidateOptions:
        return ConsolidateOptions(regions=self.regions, use_archive=False, units=self.units, workers=1,
                                  feedback=feedback)

    def _check(self, region: str, name: str, path: Path, received: datetime, version: int | None,
               versions: dict[str, list[Submission]]) -> Checked:
        """The file checked as the next consolidation will check it: beside every other district's latest version
        (unit spellings are learned across districts), its own problems kept."""
        others = {r: v[-1] for r, v in versions.items() if r != region and v}
        with self._archived(list(others.values())) as files, tempfile.TemporaryDirectory(prefix="xltools-desk-") as out:
            files, _names = _distinct([(path, name, received, version), *files], [region, *others], keep=0)
            rollup = consolidate(self.city, Path(out), None, self._options(), created=received, files=files)
        rec = next((r for r in rollup.received if r.path == path), None)
        return _derive(rollup, rec, region, name, sha256_of(path), received, version)

    @contextmanager
    def _archived(self, subs: list[Submission]):
        """The archived files of ``subs`` copied out (checked against their sha256), as consolidate's ``files``."""
        with Archive(self.archive) as store, archived_files(store, subs) as (_folder, files):
            yield files


def _distinct(files: list[tuple], regions: list[str], keep: int | None = None) -> tuple[list[tuple], dict[str, str]]:
    """Files of several districts with one name told apart (（章丘区）工作台账.xlsx), but for the one at ``keep``:
    a problem is known to be a file's by its name. Returns the files and region → the name used."""
    count: dict[str, int] = {}
    for f in files:
        count[f[1]] = count.get(f[1], 0) + 1
    out, names = [], {}
    for i, ((path, name, when, version), region) in enumerate(zip(files, regions, strict=True)):
        if count[name] > 1 and i != keep:
            name = f"（{region}）{name}"
        out.append((path, name, when, version))
        names[region] = name
    return out, names


def _derive(rollup, rec, region: str, name: str, sha256: str, received: datetime, version: int | None = None
            ) -> Checked:
    """A district's check from a rollup it is in: its file's problems and counts."""
    problems = [p for p in rollup.problems if p.file == name and p.type != "missing-district"]
    return Checked(region, version or 0, name, sha256, received,
                   taken_as=rec.region if rec is not None else None,
                   problems=[p.to_dict() for p in problems],
                   counts={s: sum(p.severity == s for p in problems) for s in ("error", "warning", "info")},
                   blank=bool(rec is not None and rec.blank),
                   rows=len(rec.ledger.rows) if rec is not None and rec.ledger is not None else 0,
                   uncovered=len(rollup.uncovered().get(region, ())) if rec is not None else 0)


def _state(versions: dict[str, list[Submission]]) -> tuple:
    """What every check depends on: each district's latest version."""
    return tuple((r, v[-1].sha256) for r, v in versions.items() if v)


def _newest(subs) -> datetime:
    """A rollup's time: its newest file's (so the same files give the same bytes)."""
    return max((s.received for s in subs), default=datetime(2024, 1, 1))


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def directory_regions_of(city: Path, units: str | None) -> list[str]:
    """The districts the unit directory lists under the city ledger's city."""
    from ..readers import extract
    from ..units.directory import load_directory

    name = extract(city).region
    children = list(load_directory(units).children(name)) if name else []
    if not children:
        raise UnreadableInput(f"no districts of {name or city} in the unit directory",
                              f"单位名录中没有{name or '该市'}下属的区县，请用 --regions 指定（如 --regions 市中区,章丘区）")
    return children
