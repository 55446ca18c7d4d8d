"""xltools.frames: the ledger, rollup and problems as DataFrames, and the archive's history as Parquet.

A real small cycle from the seeds: the 济南市 city ledger distributed to 历下区, whose clerk fills the form;
市中区 sends its plan; 章丘区 its filled ledger, then an hour later a revision (150 charging stations, not 120):
two consolidations into one archive. Every frame is checked against the Rollup objects and the rollup workbook,
the history read back with DuckDB against what ``extract`` reads from each archived file.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import CITY, SHIZHONG, ZHANGQIU
from test_returned import fill_as_a_clerk

import xltools
from xltools import frames
from xltools.archive import Archive
from xltools.cli import cli
from xltools.errors import XltoolsError
from xltools.rollup import ConsolidateOptions, archived_files, consolidate

REGIONS = ["历下区", "市中区", "章丘区", "历城区"]
DTYPES = r"string|Int64|Float64|boolean|datetime64\[ns\]|object"


class Cycle:
    def __init__(self, root: Path):
        self.root = root
        self.archive = root / "归档"
        inbox = root / "收件"
        inbox.mkdir()
        sent = xltools.distribute(CITY, root / "分发", regions="历下区", deadline=date.today() + timedelta(days=30))
        self.batch = sent.batch
        form = Path(shutil.copy(sent.files[0].path, inbox / "历下区_工作台账.xlsx"))
        fill_as_a_clerk(form, "历下区")
        shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
        first = inbox / "章丘区_工作台账.xlsx"
        xltools.fill(ZHANGQIU, first)
        now = time.time()
        for path in inbox.iterdir():
            os.utime(path, (now - 3600, now - 3600))
        options = ConsolidateOptions(regions=REGIONS, archive=str(self.archive))
        self.first = consolidate(CITY, inbox, root / "汇总_1.xlsx", options)
        revised = root / "章丘区_修订.txt"
        revised.write_text(ZHANGQIU.read_text(encoding="utf-8").replace("充换电站120座", "充换电站150座"),
                           encoding="utf-8")
        xltools.fill(revised, inbox / "章丘区_工作台账_修订.xlsx")
        self.out = root / "汇总_2.xlsx"
        self.rollup = consolidate(CITY, inbox, self.out, options)
        self.history_dir = root / "历史"
        self.history = xltools.history(str(self.archive), self.history_dir)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Cycle:
    return Cycle(tmp_path_factory.mktemp("frames"))


def documented(function) -> list[tuple[str, str]]:
    """(column, dtype) as the function's docstring lists them: ``name`` (dtype)."""
    found = re.findall(rf"``(\w+)`` \(({DTYPES})[;)]", inspect.getdoc(function))
    return [(name, dtype) for name, dtype in found]


def dtypes(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return [(name, str(dtype)) for name, dtype in frame.dtypes.items()]


def na(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def same(a, b) -> bool:
    return (na(a) and na(b)) or a == b


def test_the_cycle_is_what_the_frames_are_checked_on(cycle):
    r = cycle.rollup
    assert r.regions == ["历下区", "市中区", "章丘区"] and r.missing_regions == ["历城区"]
    assert [(s.region, s.version) for s in r.superseded] == [("章丘区", 1)]
    with Archive(cycle.archive) as store:
        assert [(s.region, s.version) for s in store.submissions()] == [
            ("历下区", 1), ("市中区", 1), ("章丘区", 1), ("章丘区", 2)]


def test_every_frame_has_the_columns_and_dtypes_its_docstring_lists(cycle):
    r = cycle.rollup
    for function, frame in ((xltools.mapping_frame, xltools.mapping_frame(r)),
                            (xltools.targets_frame, xltools.targets_frame(r)),
                            (xltools.coverage_frame, xltools.coverage_frame(r)),
                            (xltools.problems_frame, xltools.problems_frame(r)),
                            (xltools.history_frame, xltools.history_frame(cycle.archive))):
        assert dtypes(frame) == documented(function) or function is xltools.history_frame, function.__name__
        assert len(frame) > 0, function.__name__
    assert dtypes(xltools.history_frame(cycle.archive)) == documented(xltools.history)
    # A ledger's frames: the documented columns, and between them a string column per reporting column.
    ledger = next(rec.ledger for rec in r.received if rec.region == "历下区")
    for function, items in ((xltools.ledger_frame, ledger.rows), (xltools.goals_frame, ledger.goals)):
        frame = function(ledger)
        extras = list(dict.fromkeys(k for item in items for k in item.extra))
        assert {"任务键", "完成情况"} <= set(extras) or function is xltools.goals_frame
        fixed = documented(function)
        assert dtypes(frame) == fixed[:-4] + [(e, "string") for e in extras] + fixed[-4:], function.__name__


def test_ledger_frame_is_the_ledgers_rows(cycle):
    ledger = next(rec.ledger for rec in cycle.rollup.received if rec.region == "历下区")
    frame = xltools.ledger_frame(ledger)
    assert len(frame) == len(ledger.rows)
    for row, (_, line) in zip(ledger.rows, frame.iterrows(), strict=True):
        assert same(line.seq, row.seq) and line.task == row.task and line.content == row.content
        assert line.lead_units.split("、") == row.lead_units or (line.lead_units == "" and not row.lead_units)
        assert (line.sheet, line.row, line.region) == (row.origin.sheet, row.origin.row, "历下区")
        for header in frame.columns[frame.columns.get_loc("responsible_units") + 1:frame.columns.get_loc("file")]:
            assert same(line[header], row.extra.get(header)), header
    typed = frame[frame["完成情况"] == "推进中"]  # what fill_as_a_clerk typed into every city row
    assert len(typed) == sum(r.extra.get("完成情况") == "推进中" for r in ledger.rows) > 50
    goals = xltools.goals_frame(ledger)
    assert goals["text"].tolist() == [g.text for g in ledger.goals]
    assert [None if na(y) else y for y in goals["year"]] == [g.year for g in ledger.goals]
    plan = xltools.extract(SHIZHONG)  # a text document: lines, no sheets
    text = xltools.ledger_frame(plan)
    assert text["line"].tolist() == [r.origin.line for r in plan.rows] and text["sheet"].isna().all()


def test_mapping_frame_is_every_mapping(cycle):
    r = cycle.rollup
    frame = xltools.mapping_frame(r)
    names = {row.seq: row.task for row in r.city.rows}
    versions = {(rec.region, rec.name): rec.version for rec in r.received}
    assert sorted(set(frame["mapping"])) == list(range(len(r.mappings)))
    several = 0
    for i, m in enumerate(r.mappings):
        rows = frame[frame["mapping"] == i]
        seqs = [None if na(s) else s for s in rows["city_seq"]]
        if m.city_seqs:
            assert seqs == m.city_seqs and rows["covers"].all()
            several += len(m.city_seqs) > 1
        elif m.na_seqs:
            assert seqs == m.na_seqs and not rows["covers"].any() and (rows["method_zh"] == "不涉及").all()
        else:
            assert seqs == [None] and rows["city_task"].isna().all()
        first = rows.iloc[0]
        assert (first.region, first.file, first.method, first.task) == (m.region, m.file, m.method, m.row.task)
        assert first.version == versions[m.region, m.file] and math.isclose(first.confidence, m.confidence)
        assert all(same(names.get(s), t) for s, t in zip(seqs, rows["city_task"], strict=True))
    assert several > 0  # 市中区's 推动汽车以旧换新 serves two city tasks: two rows
    # 章丘区's revision is the file in use: every one of its rows is version 2
    assert set(frame[frame.region == "章丘区"].version) == {2}
    assert (frame[frame.region == "历下区"].method == "key").all()


def test_targets_frame_is_the_comparison_the_rollup_sums(cycle):
    r = cycle.rollup
    frame = xltools.targets_frame(r)
    summary = r.summary()["targets"]  # the --json contract's numbers
    regions = list(dict.fromkeys(frame["region"]))
    assert regions == ["历下区", "市中区", "章丘区"]
    assert len(frame) == len(r.targets) * len(regions)
    for i, t in enumerate(r.targets):
        rows = frame[frame["target"] == i].set_index("region")
        want = summary[i]
        assert same(rows.city_value.iloc[0], want["city_value"]) and same(rows.district_sum.iloc[0],
                                                                          want["district_sum"])
        assert same(rows.gap.iloc[0], want["gap"]) and rows.metric.iloc[0] == want["metric"]
        for region in regions:
            status = t.status(region)
            assert rows.status[region] == status
            if status == "figure":
                assert rows.value[region] == want["districts"][region]
            else:
                assert na(rows.value[region])
            if status == "other":
                assert rows.other_metric[region] == "；".join(want["other_metric"][region])
        if want["district_sum"] is not None and want["city_value"]:
            assert math.isclose(rows.share.iloc[0], want["district_sum"] / want["city_value"])
    stations = frame[(frame.metric == "充换电站") & (frame.city_seq == 10)].set_index("region")
    assert stations.value["章丘区"] == 150  # the revision's figure, not the superseded 120


def _matrix(path: Path) -> dict[tuple[int, str], object]:
    """覆盖矩阵 of the rollup workbook: (city seq, district) → its cell."""
    ws = openpyxl.load_workbook(path, read_only=True)["覆盖矩阵"]
    rows = list(ws.iter_rows(values_only=True))
    h = next(i for i, row in enumerate(rows) if row[0] == "序号" and row[1] == "重点任务")
    header = rows[h]
    districts = [(j, name) for j, name in enumerate(header[2:], 2) if name and not str(name).startswith("覆盖地区数")]
    return {(row[0], name): row[j] for row in rows[h + 1:] if isinstance(row[0], int) for j, name in districts}


def test_coverage_frame_is_the_coverage_matrix_of_the_workbook(cycle):
    frame = xltools.coverage_frame(cycle.rollup)
    matrix = _matrix(cycle.out)
    assert len(frame) == len(matrix) > 0
    for line in frame.itertuples():
        cell = matrix[line.city_seq, line.region]
        if line.status == "covered":
            assert cell == line.rows > 0
        elif line.status == "na":
            assert cell == "不涉及" == line.status_zh
        else:
            assert cell is None and line.rows == 0 and line.status_zh == "未覆盖"
    covered = cycle.rollup.coverage()
    assert set(frame[frame.status == "covered"][["city_seq", "region"]].itertuples(index=False, name=None)) == {
        (seq, region) for seq, by in covered.items() for region in by}


def test_problems_frame_is_every_problem_with_its_district(cycle):
    from xltools.rollup.writer import problem_region

    r = cycle.rollup
    frame = xltools.problems_frame(r)
    region = problem_region(r)
    assert len(frame) == len(r.problems)
    for p, line in zip(r.problems, frame.itertuples(), strict=True):
        assert (line.type, line.severity, line.message) == (p.type, p.severity, p.message)
        assert same(line.region, region(p)) and same(line.file, p.file) and same(line.line, p.line)
        assert line.title == xltools.problems.problem_title(p.type)
    assert set(frame[frame.type == "missing-district"].region) == {"历城区"}
    plain = xltools.problems_frame(r.problems)  # a list: no district to tell
    assert plain["region"].isna().all() and plain.drop(columns="region").equals(frame.drop(columns="region"))


def _extracted(archive: Path) -> dict[tuple[str, int], tuple[int, int]]:
    """(region, version) → (task rows, goals) as extract reads each archived file."""
    with Archive(archive) as store:
        subs = store.submissions()
        with archived_files(store, subs) as (_tmp, files):
            ledgers = [xltools.extract(path) for path, *_ in files]
    return {(s.region, s.version): (len(ledger.rows), len(ledger.goals)) for s, ledger in zip(subs, ledgers, strict=True)}


def test_the_history_read_back_with_duckdb_is_every_row_of_every_version(cycle):
    import duckdb

    where = cycle.history_dir.as_posix()
    counts = duckdb.sql(f"select region, version, kind, count(*) from read_parquet('{where}/**/*.parquet', "
                        "hive_partitioning=false) group by all order by all").fetchall()
    extracted = _extracted(cycle.archive)
    assert {(r, v): n for r, v, kind, n in counts if kind == "task"} == {k: rows for k, (rows, _) in extracted.items()}
    assert {(r, v): n for r, v, kind, n in counts if kind == "goal"} == {k: g for k, (_, g) in extracted.items() if g}
    # both versions of 章丘区, at the times the archive received them, each with its own figure
    times = duckdb.sql(f"select version, received, file, sha256, min(batch) from read_parquet('{where}/*.parquet') "
                       "where region = '章丘区' group by all order by version").fetchall()
    with Archive(cycle.archive) as store:
        versions = store.versions("章丘区")
    assert [(v, t, f, s) for v, t, f, s, _ in times] == [(v.version, v.received, v.name, v.sha256) for v in versions]
    assert times[0][1] < times[1][1] and [b for *_, b in times] == [None, None]
    stations = duckdb.sql(f"select version from read_parquet('{where}/*.parquet') where region = '章丘区' "
                          "and content like '%充换电站150座%'").fetchall()
    assert {v for (v,) in stations} == {2}
    # 历下区's form: the batch it was distributed in, and what its clerk typed, by header
    lixia = duckdb.sql(f"select distinct batch, file from read_parquet('{where}/*.parquet') "
                       "where region = '历下区'").fetchall()
    assert lixia == [(cycle.batch, "历下区_工作台账.xlsx")]
    typed = duckdb.sql(f"select count(*) from read_parquet('{where}/*.parquet') where region = '历下区' "
                       "and extra['完成情况'] = '推进中'").fetchall()[0][0]
    rollup_ledger = next(rec.ledger for rec in cycle.rollup.received if rec.region == "历下区")
    assert typed == sum(r.extra.get("完成情况") == "推进中" for r in rollup_ledger.rows) > 50
    # one file per district, and the manifest of what was read
    assert sorted(p.name for p in cycle.history_dir.iterdir()) == ["_history.json", "历下区.parquet",
                                                                   "市中区.parquet", "章丘区.parquet"]
    manifest = json.loads((cycle.history_dir / "_history.json").read_text(encoding="utf-8"))
    assert {(v["region"], v["version"]): (v["rows"], v["goals"]) for v in manifest["versions"]} == extracted


def test_pandas_reads_the_history_back_as_history_frame_makes_it(cycle):
    back = pd.read_parquet(cycle.history_dir).sort_values(["region", "version"], kind="stable")
    made = xltools.history_frame(cycle.archive)
    assert dtypes(back) == dtypes(made)
    assert back.drop(columns="extra").reset_index(drop=True).equals(made.drop(columns="extra"))
    assert [dict(e) for e in back["extra"]] == made["extra"].tolist()


def test_history_cli_writes_replaces_and_refuses(cycle, tmp_path):
    out = tmp_path / "历史"
    result = CliRunner().invoke(cli, ["history", "--parquet", str(out), "--archive", str(cycle.archive)])
    assert result.exit_code == 0, result.output
    rows = sum(r + g for r, g in _extracted(cycle.archive).values())
    assert f"3 个地区，4 个版本，{rows} 行，3 个文件" in result.output
    # Written again over an earlier history: a district's file that is no longer there goes, nothing else does.
    (out / "旧区.parquet").write_bytes(b"old")
    manifest = json.loads((out / "_history.json").read_text(encoding="utf-8"))
    manifest["files"].append("旧区.parquet")
    (out / "_history.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (out / "说明.txt").write_text("分析用", encoding="utf-8")
    again = CliRunner().invoke(cli, ["history", "--parquet", str(out), "--archive", str(cycle.archive)])
    assert again.exit_code == 0, again.output
    assert not (out / "旧区.parquet").exists() and (out / "说明.txt").exists()
    # A folder holding other things, a folder inside the archive, a missing archive: nothing done.
    for where, archive, words in ((tmp_path, cycle.archive, "不是空文件夹"),
                                  (cycle.archive / "历史", cycle.archive, "归档文件夹中"),
                                  (tmp_path / "新", tmp_path / "无归档", "找不到归档")):
        refused = CliRunner().invoke(cli, ["history", "--parquet", str(where), "--archive", str(archive)])
        assert refused.exit_code == 2 and words in refused.output, refused.output
    assert not (cycle.archive / "历史").exists() and not (tmp_path / "新").exists()


def test_an_altered_archived_file_is_listed_and_the_other_districts_written(cycle, tmp_path):
    archive = tmp_path / "归档"
    shutil.copytree(cycle.archive, archive)
    with Archive(archive) as store:
        altered = store.versions("市中区")[0]
        path = store.object_path(altered.sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"\n")
    out = tmp_path / "历史"
    result = CliRunner().invoke(cli, ["history", "--parquet", str(out), "--archive", str(archive)])
    assert result.exit_code == 1, result.output
    assert "无法读取：市中区 第1版“市中区_工作方案.txt”" in result.output and "缺失或已被改动" in result.output
    assert sorted(p.name for p in out.glob("*.parquet")) == ["历下区.parquet", "章丘区.parquet"]


def test_history_without_pyarrow_says_what_to_install(cycle, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(XltoolsError) as err:
        frames.history(cycle.archive, tmp_path / "历史")
    assert "pip install 'xltools[frames]'" in err.value.message_zh
    result = CliRunner().invoke(cli, ["history", "--parquet", str(tmp_path / "历史"), "--archive",
                                      str(cycle.archive)])
    assert result.exit_code == 2 and "pip install 'xltools[frames]'" in result.output
    assert not (tmp_path / "历史").exists()
