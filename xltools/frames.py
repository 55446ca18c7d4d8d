"""Ledgers, rollups, problems and the archive's history as pandas DataFrames, for analysis outside Excel.

Every column has a pandas nullable dtype ("string", "Int64", "Float64", "boolean") or datetime64[ns], so a
missing value is ``<NA>`` whatever the column, and each function's docstring lists its columns. Codes are
English (``status``: covered, na, uncovered); what a clerk reads beside them is Chinese (``status_zh``). A
headless script::

    import xltools
    from xltools.rollup import ConsolidateOptions

    rollup = xltools.consolidate("济南市_工作台账.txt", "收件", "济南市_汇总.xlsx",
                                 ConsolidateOptions(regions=["市中区", "章丘区"], archive="归档"))
    targets = xltools.targets_frame(rollup)
    short = targets[(targets.status == "figure") & (targets.gap > 0)]
    print(short.groupby("metric").value.sum())
    coverage = xltools.coverage_frame(rollup)
    print(coverage.pivot(index="city_seq", columns="region", values="status_zh"))
    xltools.history("归档", "历史")   # every version of every district's rows, as Parquet (needs xltools[frames])

``history`` writes one Parquet file per district (see its docstring); DuckDB, pandas or polars read the folder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from .display import safe_name
from .errors import OutputError, XltoolsError
from .model import Ledger
from .problems import SEVERITY_ZH, Problem, problem_title

log = logging.getLogger(__name__)

__all__ = ["HistoryResult", "HistoryVersion", "coverage_frame", "goals_frame", "history", "history_frame",
           "ledger_frame", "mapping_frame", "problems_frame", "targets_frame"]

UNIT_SEPARATOR = "、"  # several units in one cell, as the CSV format writes them
COVERAGE_ZH = {"covered": "已覆盖", "na": "不涉及", "uncovered": "未覆盖"}
FIGURE_ZH = "已填数值"  # 目标对比 shows the figure itself; a frame has it in ``value``
MANIFEST = "_history.json"  # beside the Parquet files: what history wrote (a leading _ : no reader takes it as data)
UNKNOWN_REGION_FILE = "未知地区"
FRAMES_HINT = "pip install 'xltools[frames]'"


def _frame(spec: list[tuple[str, str]], data: dict[str, list]) -> pd.DataFrame:
    """A DataFrame with exactly the columns of ``spec`` (name, dtype), in that order."""
    return pd.DataFrame({name: pd.Series(data[name], dtype=dtype) for name, dtype in spec})


def _text(value) -> str | None:
    return None if value is None else str(value)


def _units(names: list[str]) -> str:
    return UNIT_SEPARATOR.join(names)


def _extra_columns(items: Iterable) -> list[str]:
    """Every reporting column the items have (目标, 完成时限, 进展情况, 任务键, …), in the order first met."""
    return list(dict.fromkeys(k for item in items for k in item.extra))


# ------------------------------------------------------------------------------------------- ledger

LEDGER_COLUMNS = [("region", "string"), ("seq", "Int64"), ("label", "string"), ("section", "string"),
                  ("subsection", "string"), ("task", "string"), ("content", "string"),
                  ("lead_units", "string"), ("responsible_units", "string")]
ORIGIN_COLUMNS = [("file", "string"), ("sheet", "string"), ("row", "Int64"), ("line", "Int64")]


def ledger_frame(ledger: Ledger) -> pd.DataFrame:
    """One row per task row of ``ledger`` (``xltools.extract``'s result), in the order read.

    - ``region`` (string): the ledger's region (济南市, 章丘区), or <NA> when it could not be told
    - ``seq`` (Int64): 序号, <NA> when the row has none or a non-numeric one
    - ``label`` (string): 序号 as written when it is not a plain number (1.1), else ""
    - ``section`` (string): the action heading the row is under (二、实施设备更新行动)
    - ``subsection`` (string): the field heading (（一）工业装备更新改造), or ""
    - ``task`` (string): 重点任务
    - ``content`` (string): 工作内容
    - ``lead_units`` (string): 牵头单位, one name after another separated by 、
    - ``responsible_units`` (string): 责任单位, the same way
    - then one string column per reporting column the ledger keeps (目标, 完成时限, 进展情况, 完成情况, the
      hidden 任务键 of a template, a column of a district's own such as 备注), named by its header, <NA> where
      the row leaves it empty
    - ``file`` (string), ``sheet`` (string), ``row`` (Int64), ``line`` (Int64): where the row was read — a
      worksheet row, or a line of a text document
    """
    rows = ledger.rows
    extras = _extra_columns(rows)
    data: dict[str, list] = {
        "region": [ledger.region] * len(rows), "seq": [r.seq for r in rows], "label": [r.label for r in rows],
        "section": [r.section for r in rows], "subsection": [r.subsection for r in rows],
        "task": [r.task for r in rows], "content": [r.content for r in rows],
        "lead_units": [_units(r.lead_units) for r in rows],
        "responsible_units": [_units(r.responsible_units) for r in rows],
        **{name: [r.extra.get(name) for r in rows] for name in extras},
        **_origins(r.origin for r in rows)}
    return _frame([*LEDGER_COLUMNS, *((name, "string") for name in extras), *ORIGIN_COLUMNS], data)


def goals_frame(ledger: Ledger) -> pd.DataFrame:
    """One row per 工作目标 line of ``ledger``.

    - ``region`` (string): the ledger's region
    - ``year`` (Int64): the goal's year (2025), <NA> when it names none
    - ``text`` (string): the goal
    - ``lead_units`` (string), ``responsible_units`` (string): separated by 、
    - then one string column per reporting column (目标, 完成情况, …: a district's goal row of a distributed
      form has the columns of a task row), as ``ledger_frame``
    - ``file`` (string), ``sheet`` (string), ``row`` (Int64), ``line`` (Int64): where it was read
    """
    goals = ledger.goals
    extras = _extra_columns(goals)
    data: dict[str, list] = {
        "region": [ledger.region] * len(goals), "year": [g.year for g in goals], "text": [g.text for g in goals],
        "lead_units": [_units(g.lead_units) for g in goals],
        "responsible_units": [_units(g.responsible_units) for g in goals],
        **{name: [g.extra.get(name) for g in goals] for name in extras},
        **_origins(g.origin for g in goals)}
    spec = [("region", "string"), ("year", "Int64"), ("text", "string"), ("lead_units", "string"),
            ("responsible_units", "string"), *((name, "string") for name in extras), *ORIGIN_COLUMNS]
    return _frame(spec, data)


def _origins(origins: Iterable) -> dict[str, list]:
    origins = list(origins)
    return {"file": [o.file for o in origins], "sheet": [o.sheet for o in origins],
            "row": [o.row for o in origins], "line": [o.line for o in origins]}


# ------------------------------------------------------------------------------------------- rollup


def _districts(rollup) -> list[str]:
    """The districts of the rollup's sheets: those with a usable file, in the order received, then any other
    region a mapping names (as the rollup writer lists them)."""
    return list(dict.fromkeys([*rollup.regions, *(m.region for m in rollup.mappings if m.region)]))


MAPPING_COLUMNS = [
    ("mapping", "Int64"), ("region", "string"), ("file", "string"), ("version", "Int64"), ("sheet", "string"),
    ("row", "Int64"), ("line", "Int64"), ("seq", "Int64"), ("label", "string"), ("task", "string"),
    ("content", "string"), ("city_seq", "Int64"), ("city_task", "string"), ("covers", "boolean"),
    ("method", "string"), ("method_zh", "string"), ("confidence", "Float64")]


def mapping_frame(rollup) -> pd.DataFrame:
    """Each district row and the city task it was mapped to, or why none: one row per (district row, city
    task) — a row serving two city tasks is two rows, a row mapped to none is one row with ``city_seq`` <NA>.

    - ``mapping`` (Int64): the row's index in ``rollup.mappings`` (the rows of one district row share it)
    - ``region`` (string), ``file`` (string): the district and the file its row is in
    - ``version`` (Int64): that file's version (1, 2, … in the order the district sent them)
    - ``sheet`` (string), ``row`` (Int64), ``line`` (Int64): where the row is in the file
    - ``seq`` (Int64), ``label`` (string), ``task`` (string), ``content`` (string): the district row
    - ``city_seq`` (Int64), ``city_task`` (string): the city task; for a row saying 不涉及, each task it says so
      of (``covers`` false); <NA> for a row mapped to none
    - ``covers`` (boolean): whether the row counts as covering ``city_seq`` (false for 不涉及 and for none)
    - ``method`` (string): key | seq | name | similarity | manual | none (no city task found) | blank (nothing
      of the district's in the row) | own (a task of the district's own) | na (不涉及)
    - ``method_zh`` (string): the same as 映射's 方式 says it (任务键, 序号, 任务名, 相似度, 人工, 未对应, 未填写,
      本区任务, 不涉及)
    - ``confidence`` (Float64): the mapping's score, 1.0 for 任务键 and for the clerk's own (人工)
    """
    from .rollup.mapping_sheet import METHOD_ZH

    names = {r.seq: r.task for r in rollup.city.rows if r.seq is not None}
    versions = {(r.region, r.name): r.version for r in rollup.received}
    data: dict[str, list] = {name: [] for name, _ in MAPPING_COLUMNS}
    for i, m in enumerate(rollup.mappings):
        row = m.row
        targets = [(s, True) for s in m.city_seqs] or [(s, False) for s in m.na_seqs] or [(None, False)]
        for seq, covers in targets:
            for name, value in (
                    ("mapping", i), ("region", m.region), ("file", m.file), ("version", versions.get((m.region, m.file))),
                    ("sheet", row.origin.sheet), ("row", row.origin.row), ("line", row.origin.line), ("seq", row.seq),
                    ("label", row.label), ("task", row.task), ("content", row.content), ("city_seq", seq),
                    ("city_task", names.get(seq)), ("covers", covers), ("method", m.method),
                    ("method_zh", METHOD_ZH.get(m.method, m.method)), ("confidence", float(m.confidence))):
                data[name].append(value)
    return _frame(MAPPING_COLUMNS, data)


TARGET_COLUMNS = [
    ("target", "Int64"), ("city_seq", "Int64"), ("city_task", "string"), ("metric", "string"), ("unit", "string"),
    ("year", "Int64"), ("per_year", "boolean"), ("comparator", "string"), ("comparator_zh", "string"),
    ("city_value", "Float64"), ("summable", "boolean"), ("district_sum", "Float64"), ("gap", "Float64"),
    ("share", "Float64"), ("region", "string"), ("status", "string"), ("status_zh", "string"),
    ("value", "Float64"), ("other_metric", "string")]


def targets_frame(rollup) -> pd.DataFrame:
    """目标对比 in long form: one row per city target × district, targets in the sheet's order (tasks by 序号,
    then the goals), districts as the sheet lists them (those the comparison concerns).

    - ``target`` (Int64): the target's index in ``rollup.targets`` (the rows of one target share it)
    - ``city_seq`` (Int64): the city task, <NA> for a 工作目标 line; ``city_task`` (string): its name
    - ``metric`` (string), ``unit`` (string), ``year`` (Int64)
    - ``per_year`` (boolean): 每年, a yearly figure with no year of its own
    - ``comparator`` (string): >=, >, <=, <, =, ~; ``comparator_zh`` (string): ≥ … 约, as the sheet shows it
    - ``city_value`` (Float64): the city's target
    - ``summable`` (boolean): false for shares and growth rates, shown but not added up
    - ``district_sum`` (Float64): the districts' figures added up (<NA> when not summable or none given)
    - ``gap`` (Float64): city_value − district_sum
    - ``share`` (Float64): district_sum / city_value (0.21 for 21%)
    - ``region`` (string): the district
    - ``status`` (string): figure (its figure is summed) | other (a figure for another metric, not summed) |
      missing (covers the task without a figure) | na (不涉及) | uncovered | none (not in this comparison)
    - ``status_zh`` (string): 已填数值, 指标不同, 未填数值, 不涉及, 未覆盖 (the sheet's words), "" for none
    - ``value`` (Float64): the district's figure when ``status`` is figure
    - ``other_metric`` (string): the figures it gave under another metric, separated by ；
    """
    from .rollup.writer import COMPARATOR_ZH, TARGET_STATUS_ZH

    order = sorted(range(len(rollup.targets)),
                   key=lambda i: (rollup.targets[i].city_seq is None, rollup.targets[i].city_seq or 0))
    regions = [d for d in _districts(rollup) if any(t.status(d) != "none" for t in rollup.targets)]
    data: dict[str, list] = {name: [] for name, _ in TARGET_COLUMNS}
    for i in order:
        t = rollup.targets[i]
        total = t.district_sum
        share = total / t.city_value if total is not None and t.city_value else None
        fixed = {"target": i, "city_seq": t.city_seq, "city_task": t.city_task, "metric": t.metric, "unit": t.unit,
                 "year": t.year, "per_year": t.per_year, "comparator": t.comparator,
                 "comparator_zh": COMPARATOR_ZH.get(t.comparator, t.comparator), "city_value": _float(t.city_value),
                 "summable": t.summable, "district_sum": _float(total), "gap": _float(t.gap), "share": _float(share)}
        for region in regions:
            status = t.status(region)
            row = {**fixed, "region": region, "status": status,
                   "status_zh": FIGURE_ZH if status == "figure" else TARGET_STATUS_ZH.get(status, ""),
                   "value": _float(t.districts.get(region)) if status == "figure" else None,
                   "other_metric": "；".join(t.other[region]) if region in t.other else None}
            for name, value in row.items():
                data[name].append(value)
    return _frame(TARGET_COLUMNS, data)


def _float(value) -> float | None:
    return None if value is None else float(value)


COVERAGE_COLUMNS = [("city_seq", "Int64"), ("city_task", "string"), ("region", "string"), ("status", "string"),
                    ("status_zh", "string"), ("rows", "Int64")]


def coverage_frame(rollup) -> pd.DataFrame:
    """覆盖矩阵 in long form: one row per city task × district (each district with a usable file, blank forms
    included, in the order received).

    - ``city_seq`` (Int64), ``city_task`` (string): the city task
    - ``region`` (string): the district
    - ``status`` (string): covered | na (the district says 不涉及 of it) | uncovered
    - ``status_zh`` (string): 已覆盖 | 不涉及 | 未覆盖
    - ``rows`` (Int64): how many of the district's rows cover it (the number 覆盖矩阵 shows), or say 不涉及 of
      it; 0 when uncovered
    """
    covered, na = rollup.coverage(), rollup.not_applicable()
    data: dict[str, list] = {name: [] for name, _ in COVERAGE_COLUMNS}
    districts = _districts(rollup)
    for task in rollup.city.rows:
        if task.seq is None:
            continue
        by_region, na_by = covered.get(task.seq, {}), na.get(task.seq, {})
        for region in districts:
            if region in by_region:
                status, rows = "covered", len(by_region[region])
            elif region in na_by:
                status, rows = "na", len(na_by[region])
            else:
                status, rows = "uncovered", 0
            for name, value in (("city_seq", task.seq), ("city_task", task.task), ("region", region),
                                ("status", status), ("status_zh", COVERAGE_ZH[status]), ("rows", rows)):
                data[name].append(value)
    return _frame(COVERAGE_COLUMNS, data)


PROBLEM_COLUMNS = [("region", "string"), ("type", "string"), ("title", "string"), ("severity", "string"),
                   ("severity_zh", "string"), ("message", "string"), ("file", "string"), ("sheet", "string"),
                   ("cell", "string"), ("line", "Int64"), ("value", "string"), ("suggestion", "string")]


def problems_frame(problems) -> pd.DataFrame:
    """One row per problem. ``problems``: a list of ``Problem``, a ``Report``, or anything with ``.problems`` (a
    ``Ledger``, a ``Rollup``, a validation result's ``report``).

    - ``region`` (string): for a rollup, the district the problem is about (as 问题清单's 地区); for a ledger,
      its region; else <NA>
    - ``type`` (string): the stable kebab-case code (unit-typo); ``title`` (string): its Chinese title
    - ``severity`` (string): error | warning | info; ``severity_zh`` (string): 错误 | 警告 | 提示
    - ``message`` (string): the Chinese message
    - ``file`` (string), ``sheet`` (string), ``cell`` (string), ``line`` (Int64): where
    - ``value`` (string): the offending value; ``suggestion`` (string): what to do
    """
    from .rollup.model import Rollup

    items: list[Problem] = list(getattr(problems, "problems", problems))
    if isinstance(problems, Rollup):
        from .rollup.writer import problem_region

        regions = list(map(problem_region(problems), items))
    else:
        regions = [problems.region if isinstance(problems, Ledger) else None] * len(items)
    data: dict[str, list] = {
        "region": regions, "type": [p.type for p in items],
        "title": [problem_title(p.type) for p in items], "severity": [p.severity for p in items],
        "severity_zh": [SEVERITY_ZH[p.severity] for p in items], "message": [p.message for p in items],
        "file": [_text(p.file) for p in items], "sheet": [_text(p.sheet) for p in items],
        "cell": [_text(p.cell) for p in items], "line": [p.line for p in items],
        "value": [_text(p.value) for p in items], "suggestion": [_text(p.suggestion) for p in items]}
    return _frame(PROBLEM_COLUMNS, data)


# ------------------------------------------------------------------------------------------ history

HISTORY_COLUMNS = [
    ("region", "string"), ("version", "Int64"), ("received", "datetime64[ns]"), ("batch", "string"),
    ("file", "string"), ("sha256", "string"), ("kind", "string"), ("seq", "Int64"), ("label", "string"),
    ("section", "string"), ("subsection", "string"), ("task", "string"), ("content", "string"), ("year", "Int64"),
    ("lead_units", "string"), ("responsible_units", "string"), ("extra", "object"), ("sheet", "string"),
    ("row", "Int64"), ("line", "Int64")]


@dataclass
class HistoryVersion:
    """One archived submission as history read it: its rows and goals counted, or why it could not be read."""

    region: str | None
    version: int
    received: datetime
    name: str
    sha256: str
    batch: str | None = None
    rows: int = 0
    goals: int = 0
    error: str | None = None  # Chinese: why no row of it is in the history

    def to_dict(self) -> dict:
        return {"region": self.region, "version": self.version, "received": self.received.isoformat(),
                "file": self.name, "sha256": self.sha256, "batch": self.batch, "rows": self.rows,
                "goals": self.goals, "error": self.error}


@dataclass
class HistoryResult:
    """What ``history`` wrote: the folder, its Parquet files and every version read."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    versions: list[HistoryVersion] = field(default_factory=list)

    @property
    def unreadable(self) -> list[HistoryVersion]:
        return [v for v in self.versions if v.error is not None]


def history_frame(archive=None) -> pd.DataFrame:
    """Every version of every district's rows in the archive (``archive``: its folder, default as for
    ``consolidate``): one row per goal and task row per version. Columns as ``history`` writes them."""
    return _read_history(archive)[0]


def _read_history(archive) -> tuple[pd.DataFrame, list[HistoryVersion]]:
    from .archive import Archive
    from .readers import extract
    from .rollup import archived_files

    data: dict[str, list] = {name: [] for name, _ in HISTORY_COLUMNS}
    versions = []
    with Archive(archive, create=False) as store:  # a missing archive is reported, never created
        for sub in store.submissions():
            seen = HistoryVersion(sub.region, sub.version, sub.received, sub.name, sub.sha256)
            versions.append(seen)
            try:
                # One at a time: an archived file that is missing or altered is that version's problem alone.
                with archived_files(store, [sub]) as (_tmp, [(path, *_rest)]):
                    ledger = extract(path)
            except XltoolsError as exc:
                seen.error = exc.message_zh
                continue
            except Exception as exc:  # a reader bug must not lose the other districts' history
                log.exception("history: reading %s (%s) failed", sub.name, sub.sha256)
                seen.error = f"读取出错：{type(exc).__name__}: {exc}"
                continue
            seen.batch = ledger.meta.get("batch") or None
            seen.rows, seen.goals = len(ledger.rows), len(ledger.goals)
            if not ledger.rows and not ledger.goals:
                seen.error = "文件中没有读到任何任务行"
            items = [("goal", g) for g in ledger.goals] + [("task", r) for r in ledger.rows]
            for kind, item in items:
                task = kind == "task"
                values = {
                    "region": sub.region, "version": sub.version, "received": sub.received, "batch": seen.batch,
                    "file": sub.name, "sha256": sub.sha256, "kind": kind, "seq": item.seq if task else None,
                    "label": item.label if task else "", "section": item.section if task else "",
                    "subsection": item.subsection if task else "", "task": item.task if task else "",
                    "content": item.content if task else item.text, "year": None if task else item.year,
                    "lead_units": _units(item.lead_units), "responsible_units": _units(item.responsible_units),
                    "extra": dict(item.extra), "sheet": item.origin.sheet, "row": item.origin.row,
                    "line": item.origin.line}
                for name, value in values.items():
                    data[name].append(value)
    return _frame(HISTORY_COLUMNS, data), versions


def _schema():
    import pyarrow as pa

    types = {"string": pa.string(), "Int64": pa.int64(), "datetime64[ns]": pa.timestamp("ns"),
             "object": pa.map_(pa.string(), pa.string())}
    return pa.schema([(name, types[dtype]) for name, dtype in HISTORY_COLUMNS])


def history(archive, out_dir) -> HistoryResult:
    """Every version of every district's rows in ``archive`` (default as for ``consolidate``) as Parquet in
    ``out_dir``: one file per district, ``<地区>.parquet`` (``未知地区.parquet`` for files whose district could
    not be told), each holding all its versions, and ``_history.json`` listing every version read (its rows,
    goals and batch, or why it could not be read) and the files written. One row per goal or task row per
    version, with the columns of ``history_frame``:

    - ``region`` (string): the district the archive has the file under (<NA>: unknown)
    - ``version`` (Int64): 1, 2, … in the order received; ``received`` (datetime64[ns]): when
    - ``batch`` (string): the distribution batch the form says it was sent out in (its template metadata),
      <NA> for a file that is not a distributed form
    - ``file`` (string): the file's name as received; ``sha256`` (string): its content, as archived
    - ``kind`` (string): task | goal (a 工作目标 line)
    - ``seq`` (Int64), ``label`` (string), ``section`` (string), ``subsection`` (string), ``task`` (string): as
      ``ledger_frame`` (empty for a goal)
    - ``content`` (string): 工作内容, or a goal's text; ``year`` (Int64): a goal's year
    - ``lead_units`` (string), ``responsible_units`` (string): separated by 、
    - ``extra`` (object; a Parquet map<string, string>): the reporting columns (目标, 进展情况, 任务键, …), header →
      text, one map for every file whatever columns it has, so every file has one schema (pandas reads it back as
      a list of (header, text) pairs, DuckDB as a MAP: ``extra['进展情况']``)
    - ``sheet`` (string), ``row`` (Int64), ``line`` (Int64): where the row is in the file

    Each archived file is copied out and checked against its sha256, then read by ``extract``; one that cannot
    be read is listed (``HistoryResult.unreadable``), the others written. ``out_dir`` must be empty, missing, or a
    folder an earlier ``history`` wrote (its ``_history.json``): its files are replaced, nothing else in it is
    touched. Needs pyarrow (``pip install 'xltools[frames]'``).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise XltoolsError(f"writing Parquet needs pyarrow, the frames extra: {exc}",
                           f"写出 Parquet 需要另外安装 pyarrow：{FRAMES_HINT}") from exc
    from .archive import Archive
    from .xlio import atomic_write, check_not_in_archive

    with Archive(archive, create=False) as store:
        root = store.root
    out_dir = Path(out_dir)
    check_not_in_archive(out_dir, root)
    earlier = _earlier_files(out_dir)
    frame, versions = _read_history(archive)
    out_dir.mkdir(parents=True, exist_ok=True)
    schema = _schema()
    result = HistoryResult(out_dir, versions=versions)
    names = _file_names(list(dict.fromkeys(v.region for v in versions if v.rows or v.goals)))
    for region, name in names.items():
        part = frame[frame["region"].isna()] if region is None else frame[frame["region"] == region]
        part = part.assign(extra=[list(e.items()) for e in part["extra"]])
        table = pa.Table.from_pandas(part, schema=schema, preserve_index=False)
        result.files.append(atomic_write(out_dir / name, lambda tmp, t=table: pq.write_table(t, tmp)))
    manifest = {"archive": str(root), "written": datetime.now().isoformat(timespec="seconds"),
                "files": [p.name for p in result.files], "versions": [v.to_dict() for v in versions]}
    atomic_write(out_dir / MANIFEST, lambda tmp: Path(tmp).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"))
    for name in earlier - set(manifest["files"]):  # a district of the earlier history no longer there
        (out_dir / name).unlink(missing_ok=True)
    log.info("history of %s: %d versions, %d rows, %d files in %s", root, len(versions), len(frame),
             len(result.files), out_dir)
    return result


def _earlier_files(out_dir: Path) -> set[str]:
    """The Parquet files an earlier ``history`` wrote in ``out_dir`` (to replace); a folder holding anything
    else is refused, so that no one's files are mixed into (or taken for) the history."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is a file", f"输出文件夹“{out_dir}”是一个文件，请另选一个文件夹。")
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return set()
    manifest = out_dir / MANIFEST
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        files = None
    if not isinstance(files, list):
        raise OutputError(f"{out_dir} is not empty and holds no earlier history ({MANIFEST})",
                          f"输出文件夹“{out_dir}”不是空文件夹，也不是以前 history 写出的文件夹，为免混入其他文件，"
                          "请另选一个空文件夹（或不存在的文件夹）。")
    return {n for n in files if isinstance(n, str) and n.endswith(".parquet") and Path(n).name == n}


def _file_names(regions: list) -> dict:
    """region → its file's name: the region's name made safe for a file name, each name once."""
    names, taken = {}, set()
    for region in regions:
        base = UNKNOWN_REGION_FILE if region is None else safe_name(str(region)).strip(" .") or "地区"
        name, n = f"{base}.parquet", 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}.parquet"
        taken.add(name.lower())
        names[region] = name
    return names
