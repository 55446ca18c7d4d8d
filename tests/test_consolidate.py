"""consolidate: the real 济南 documents, every input format, re-submissions, broken files, the archive."""

import csv
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU, problem_lines

from xltools import extract, fill
from xltools.archive import Archive
from xltools.rollup import ConsolidateOptions, consolidate


def options(tmp_path, **kw):
    return ConsolidateOptions(archive=str(tmp_path / "archive"), **kw)


def _touch(path: Path, when: float) -> None:
    os.utime(path, (when, when))


@pytest.fixture
def seed_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
    shutil.copy(ZHANGQIU, inbox / "章丘区_工作方案.txt")
    return inbox


def test_seed_districts_map_to_the_city_and_charging_stations_add_up(tmp_path, seed_inbox):
    rollup = consolidate(CITY, seed_inbox, None, options(tmp_path))
    assert rollup.regions == ["市中区", "章丘区"]
    assert "历下区" in rollup.missing_regions and not {"市中区", "章丘区"} & set(rollup.missing_regions)
    by_region = {}
    for m in rollup.mappings:
        by_region.setdefault(m.region, []).append(m)
    # 章丘区 follows the city's numbering: one-to-one
    assert [(m.row.seq, m.city_seqs) for m in by_region["章丘区"]] == [(s, [s]) for s in range(1, 61)]
    shizhong = {(m.row.seq, m.row.task): m for m in by_region["市中区"]}
    assert shizhong[(9, "有序推进充换电基础设施建设")].city_seqs == [10]
    assert shizhong[(23, "推动住房以旧换新")].city_seqs == []  # the city ledger has no housing trade-in
    assert shizhong[(8, "有序淘汰老旧汽柴油车")].city_seqs == [9]
    assert shizhong[(21, "推动汽车以旧换新")].city_seqs == [29, 30]  # one district row, two city tasks
    assert shizhong[(36, "优化土地要素供给")].city_seqs == [57]
    stations = [t for t in rollup.targets if t.city_seq == 10 and t.metric == "充换电站"]
    assert len(stations) == 1
    t = stations[0]
    assert (t.city_value, t.unit, t.year) == (1000, "座", 2025)
    assert t.districts == {"市中区": 90, "章丘区": 120} and t.district_sum == 210 and t.gap == 790
    # The city counts 亿元以上 projects; 市中区 counts all its projects, so its 20 is not added to that sum: it is
    # shown as a figure for another metric, both named.
    projects = next(t for t in rollup.targets if t.city_seq == 1)
    assert (projects.metric, projects.districts, projects.missing) == ("亿元以上重点技术改造项目", {"章丘区": 30}, [])
    [other] = projects.other["市中区"]
    assert "重点技术改造项目" in other and "亿元以上" not in other and "20个" in other
    assert projects.status("市中区") == "other" and projects.status("章丘区") == "figure"
    coverage = next(t for t in rollup.targets if t.city_seq == 6)  # a qualified share still matches (not summed)
    assert coverage.districts == {"市中区": 100, "章丘区": 100} and coverage.district_sum is None
    summary = rollup.summary()
    assert set(summary) >= {"districts", "mapping", "targets", "missing_regions", "problems"}
    assert {d["region"]: (d["rows"], d["unmapped"]) for d in summary["districts"]}["章丘区"] == (60, 0)
    assert set(summary["mapping"][0]) >= {"region", "row_seq", "task", "city_seq", "confidence"}
    assert set(summary["targets"][0]) >= {"city_seq", "metric", "unit", "city_value", "district_sum", "districts"}
    unmapped = [p for p in rollup.problems if p.type == "unmapped-row"]
    assert {p.value[:6] for p in unmapped} >= {"鼓励房地产开"}
    assert all(p.file for p in rollup.problems if p.type.startswith("unit-"))


def _rows_csv(path: Path, ledger) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["序号", "重点任务", "工作内容", "牵头单位", "责任单位"])
        for row in ledger.rows:
            writer.writerow([row.seq, row.task, row.content, "、".join(row.lead_units), "、".join(row.responsible_units)])


def test_every_format_and_a_broken_file_among_good_ones(tmp_path, shared_fixtures):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(ZHANGQIU, inbox / "章丘区_工作台账.xlsx")  # our template: region from its metadata
    _rows_csv(inbox / "市中区台账.csv", extract(SHIZHONG))  # region from the file name
    (inbox / "历下区_工作台账.xlsx").write_bytes(b"")  # a zero-byte upload
    shutil.copy(shared_fixtures / "calamine" / "pass_protected.xlsb", inbox / "槐荫区_工作台账.xlsb")  # encrypted
    shutil.copy(shared_fixtures / "pyxlsb" / "test.xlsb", inbox / "天桥区_工作台账.xlsb")  # not a ledger
    (inbox / "~$章丘区_工作台账.xlsx").write_bytes(b"lock")  # an Office lock file: ignored
    rollup = consolidate(CITY, inbox, None, options(tmp_path, regions=["市中区", "章丘区", "历下区", "槐荫区",
                                                                       "天桥区", "历城区"]))
    assert rollup.regions == ["市中区", "章丘区"]
    by_name = {r.name: r for r in rollup.received}
    assert by_name["章丘区_工作台账.xlsx"].region_from == "meta"
    assert by_name["市中区台账.csv"].region_from == "filename" and len(by_name["市中区台账.csv"].rows) == 38
    broken = {p.file for p in rollup.problems if p.type in ("unreadable-file", "empty-ledger")}
    assert broken == {"历下区_工作台账.xlsx", "槐荫区_工作台账.xlsb", "天桥区_工作台账.xlsb"}
    assert "~$章丘区_工作台账.xlsx" not in by_name
    # Sent, but nothing usable: named by their file names, not listed as 未报送; 历城区 sent nothing.
    assert rollup.unreadable_regions == ["历下区", "槐荫区", "天桥区"] and rollup.missing_regions == ["历城区"]
    assert {r.name: r.region_from for r in rollup.received if r.ledger is None} == {
        "历下区_工作台账.xlsx": "filename", "槐荫区_工作台账.xlsb": "filename", "天桥区_工作台账.xlsb": "filename"}
    assert [p.value for p in rollup.problems if p.type == "missing-district"] == ["历城区"]
    assert sum(m.mapped for m in rollup.mappings if m.region == "章丘区") == 60


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice writes the xls, ods and xlsm files of this test")
def test_xls_ods_and_xlsm_written_by_another_office_suite(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    fill(ZHANGQIU, src / "章丘区_工作台账.xlsx")
    fill(SHIZHONG, src / "市中区_工作台账.xlsx")
    fill(CITY, src / "历下区_工作台账.xlsx", region="历下区")  # the city's ledger handed to 历下区
    inbox = tmp_path / "inbox"
    for fmt, name in (("xls", "章丘区_工作台账.xlsx"), ("ods", "市中区_工作台账.xlsx"),
                      ("xlsm:Calc MS Excel 2007 VBA XML", "历下区_工作台账.xlsx")):
        # A profile of its own: another LibreOffice running on the machine must not take the job.
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                        "--convert-to", fmt, "--outdir", str(inbox), str(src / name)],
                       check=True, capture_output=True, timeout=180)
    rollup = consolidate(CITY, inbox, None, options(tmp_path))
    assert sorted(r.name for r in rollup.received) == ["历下区_工作台账.xlsm", "市中区_工作台账.ods",
                                                        "章丘区_工作台账.xls"]
    assert rollup.regions == ["历下区", "市中区", "章丘区"]  # the hidden _xltools sheet survives the conversion
    assert {r.region: (len(r.rows), r.region_from) for r in rollup.received} == {
        "历下区": (60, "meta"), "市中区": (38, "meta"), "章丘区": (60, "meta")}
    lixia = [m for m in rollup.mappings if m.region == "历下区"]
    assert all(m.method == "key" and m.confidence == 1.0 and m.city_seqs == [m.row.seq] for m in lixia)


def _two_versions(tmp_path, first: str, second: str):
    """An inbox with 章丘区's ledger as ``first``, received an hour before ``second`` (150 charging stations, not
    120)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(ZHANGQIU, inbox / first)
    revised = tmp_path / "章丘区_修订.txt"
    revised.write_text(ZHANGQIU.read_text(encoding="utf-8").replace("充换电站120座", "充换电站150座"), encoding="utf-8")
    fill(revised, inbox / second)
    now = time.time()
    _touch(inbox / first, now - 3600)
    _touch(inbox / second, now)
    return inbox


def test_a_resubmission_is_a_new_version_and_the_latest_is_used(tmp_path):
    inbox = _two_versions(tmp_path, "章丘区_第一次.xlsx", "章丘区_第二次.xlsx")
    opts = options(tmp_path)
    rollup = consolidate(CITY, inbox, None, opts)
    assert [r.name for r in rollup.received] == ["章丘区_第二次.xlsx"]
    assert [(r.name, r.version) for r in rollup.superseded] == [("章丘区_第一次.xlsx", 1)]
    assert rollup.received[0].version == 2
    station = next(t for t in rollup.targets if t.city_seq == 10 and t.metric == "充换电站")
    assert station.districts == {"章丘区": 150}
    assert any(p.type == "superseded-file" for p in rollup.problems)
    with Archive(opts.archive) as archive:
        assert [v.name for v in archive.versions("章丘区")] == ["章丘区_第一次.xlsx", "章丘区_第二次.xlsx"]
        for v in archive.versions("章丘区"):
            stored = archive.object_path(v.sha256)
            assert stored.read_bytes() == (inbox / v.name).read_bytes()
            assert stored.stat().st_mode & 0o222 == 0  # stored read-only: never overwritten
    # the same files again: no new versions
    again = consolidate(CITY, inbox, None, opts)
    assert again.received[0].version == 2


def test_versions_follow_the_time_received_whatever_order_the_files_are_read_in(tmp_path):
    """The revision (read first: its name sorts first) was received after the original: it is version 2, and
    each file's version is the archive's once every file is in (one transaction for them all)."""
    inbox = _two_versions(tmp_path, "章丘区_b_原稿.xlsx", "章丘区_a_修订稿.xlsx")
    opts = options(tmp_path)
    rollup = consolidate(CITY, inbox, None, opts)
    assert [(r.name, r.version) for r in rollup.received] == [("章丘区_a_修订稿.xlsx", 2)]
    assert [(r.name, r.version) for r in rollup.superseded] == [("章丘区_b_原稿.xlsx", 1)]
    with Archive(opts.archive) as archive:
        assert [(v.name, v.version) for v in archive.versions("章丘区")] == [("章丘区_b_原稿.xlsx", 1),
                                                                              ("章丘区_a_修订稿.xlsx", 2)]


def test_a_batch_of_submissions_is_one_commit(tmp_path):
    from datetime import datetime

    files = []
    for i, plan in enumerate((SHIZHONG, ZHANGQIU) * 3):
        path = tmp_path / f"{i}.txt"
        path.write_text(plan.read_text(encoding="utf-8") + f"\n{i}", encoding="utf-8")
        files.append(path)
    with Archive(tmp_path / "archive") as archive:
        commits = []
        archive.db.set_trace_callback(lambda sql: commits.append(sql) if sql.upper().startswith("COMMIT") else None)
        with archive.batch():
            for i, path in enumerate(files):
                archive.submit(path, f"区{i % 2}", datetime(2025, 1, 1, 9, 0, i))
            assert commits == []
        assert len(commits) == 1
        assert [v.version for v in archive.versions("区1")] == [1, 2, 3]
        archive.submit(files[0], "区2", datetime(2025, 1, 2))  # outside a batch: each write committed at once
        assert len(commits) == 1 + 3


def test_unknown_region_is_a_problem_not_a_guess(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _rows_csv(inbox / "报送材料.csv", extract(SHIZHONG))
    rollup = consolidate(CITY, inbox, None, options(tmp_path))
    assert rollup.regions == [] and rollup.received[0].region is None
    assert [p.type for p in rollup.problems if p.severity == "error"] == ["unknown-district"]
    assert rollup.mappings == []


def _contents(path: Path) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_the_archive_reproduces_an_earlier_rollup(tmp_path, seed_inbox):
    from xltools.rollup import consolidate_from_archive

    opts = options(tmp_path)
    first = tmp_path / "rollup_1.xlsx"
    rollup = consolidate(CITY, seed_inbox, first, opts)
    run_id = rollup.archive_run
    assert run_id
    # the inbox changes afterwards: 章丘区 sends a new version, 市中区's file is deleted
    newer = seed_inbox / "章丘区_修订.txt"
    newer.write_text(ZHANGQIU.read_text(encoding="utf-8").replace("充换电站120座", "充换电站150座"), encoding="utf-8")
    _touch(newer, time.time() + 60)
    (seed_inbox / "市中区_工作方案.txt").unlink()
    later = consolidate(CITY, seed_inbox, tmp_path / "rollup_2.xlsx", opts)
    assert [r.name for r in later.received] == ["章丘区_修订.txt"]
    assert "市中区" in later.missing_regions and "章丘区" not in later.missing_regions
    again = tmp_path / "rollup_again.xlsx"
    reproduced = consolidate_from_archive(run_id, again, archive=opts.archive)
    assert reproduced.summary()["mapping"] == rollup.summary()["mapping"]
    assert _contents(again) == _contents(first)  # cell for cell, every sheet


def test_consolidate_cli_writes_the_rollup_and_prints_the_contract(tmp_path, seed_inbox):
    import json

    from click.testing import CliRunner

    from xltools.cli import cli

    out = tmp_path / "rollup.xlsx"
    args = ["consolidate", str(CITY), str(seed_inbox), "-o", str(out), "--archive", str(tmp_path / "a"),
            "--regions", "市中区,章丘区,历城区", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # problems found (历城区 sent nothing), rollup still written
    data = json.loads(result.output)
    assert data["missing_regions"] == ["历城区"]
    assert [d["region"] for d in data["districts"]] == ["市中区", "章丘区"]
    problems = _contents(out)["问题清单"]
    code, title = problems[0].index("代码"), problems[0].index("问题类型")
    titles = {row[code]: row[title] for row in problems[1:]}  # 代码 → 问题类型, as the clerk reads it
    assert titles["unmapped-row"] == "未对应到市级任务" and titles["missing-district"] == "地区未报送"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in title) for title in titles.values())
    listed = CliRunner().invoke(cli, ["consolidate", "--list-runs", "--archive", str(tmp_path / "a")])
    assert data["archive_run"] in listed.output
    bad = CliRunner().invoke(cli, ["consolidate", str(CITY), str(tmp_path / "no-such-inbox"), "-o", str(out)])
    assert bad.exit_code == 2 and "找不到收件文件夹" in bad.output


def _correct_mapping(rollup: Path, task: str, city_seqs: str, out: Path) -> str:
    """Write ``city_seqs`` into 对应市级任务序号 of 市中区's ``task`` on 映射, as a clerk does; returns the cell."""
    from openpyxl import load_workbook

    wb = load_workbook(rollup)
    ws = wb["映射"]
    header = next(r for r in ws.iter_rows() if any(c.value == "对应市级任务序号" for c in r))
    col = {c.value: c.column for c in header}
    for row in ws.iter_rows(min_row=header[0].row + 1):
        if row[col["地区"] - 1].value == "市中区" and row[col["重点任务"] - 1].value == task:
            cell = row[col["对应市级任务序号"] - 1]
            cell.value = city_seqs
    wb.save(out)
    return cell.coordinate


def test_a_clerk_corrected_mapping_is_used_next_time(tmp_path, seed_inbox):
    first = tmp_path / "rollup.xlsx"
    consolidate(CITY, seed_inbox, first, options(tmp_path))
    corrected = tmp_path / "rollup_corrected.xlsx"
    _correct_mapping(first, "推动住房以旧换新", "33、34", corrected)  # the clerk decides it belongs to 家装 tasks
    again = consolidate(CITY, seed_inbox, tmp_path / "rollup_2.xlsx", options(tmp_path, mapping=str(corrected)))
    housing = next(m for m in again.mappings if m.row.task == "推动住房以旧换新")
    assert (housing.city_seqs, housing.method, housing.confidence) == ([33, 34], "manual", 1.0)
    others = [m for m in again.mappings if m.row.task != "推动住房以旧换新"]
    assert all(m.method == "manual" for m in others)  # every row the sheet listed is taken as the clerk left it
    assert not [p for p in again.problems if p.type == "unmapped-row" and "住房以旧换新" in p.message]


def test_a_mapping_to_a_task_the_city_lacks_is_refused_at_its_cell(tmp_path, seed_inbox):
    first = tmp_path / "rollup.xlsx"
    before = consolidate(CITY, seed_inbox, first, options(tmp_path))
    corrected = tmp_path / "rollup_corrected.xlsx"
    cell = _correct_mapping(first, "有序推进充换电基础设施建设", "10、99", corrected)  # there is no city task 99
    again = consolidate(CITY, seed_inbox, tmp_path / "rollup_2.xlsx", options(tmp_path, mapping=str(corrected)))
    [bad] = [p for p in again.problems if p.type == "mapping-unknown-task"]
    assert (bad.severity, bad.file, bad.sheet, bad.cell, bad.value) == (
        "error", "rollup_corrected.xlsx", "映射", cell, "10、99")
    assert "99" in bad.message and "市中区" in bad.message
    station = next(m for m in again.mappings if m.row.task == "有序推进充换电基础设施建设")
    was = next(m for m in before.mappings if m.row.task == "有序推进充换电基础设施建设")
    assert (station.city_seqs, station.method) == (was.city_seqs, was.method)  # not counted as mapped by hand


def test_a_rollup_or_an_archive_inside_the_inbox_is_never_read_as_a_district(tmp_path, seed_inbox):
    first = consolidate(CITY, seed_inbox, seed_inbox / "济南市_汇总.xlsx",
                        ConsolidateOptions(archive=str(seed_inbox / "archive"), regions=["市中区", "章丘区"]))
    assert first.regions == ["市中区", "章丘区"]
    shutil.copy(seed_inbox / "济南市_汇总.xlsx", seed_inbox / "上次汇总.xlsx")  # saved there by hand
    again = consolidate(CITY, seed_inbox, tmp_path / "汇总2.xlsx",
                        ConsolidateOptions(archive=str(seed_inbox / "archive"), regions=["市中区", "章丘区"]))
    assert [r.name for r in again.received] == ["市中区_工作方案.txt", "章丘区_工作方案.txt"]
    notes = sorted(p.file for p in again.problems if p.type == "own-output")
    assert notes == ["上次汇总.xlsx", "济南市_汇总.xlsx"]
    assert not [p for p in again.problems if p.type in ("unknown-district", "unreadable-file", "empty-ledger")]


DISTRICTS = ["历下区", "槐荫区", "天桥区", "历城区", "长清区", "莱芜区", "钢城区", "济阳区", "平阴县"]


def test_worker_processes_and_this_process_give_the_same_rollup(tmp_path):
    """Nine districts (workers start from 8 files): read, then checked with spellings learned across all of them."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    typo_plan = tmp_path / "typo.txt"  # one district misspells a unit every other district spells right
    lines = CITY.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("1\t推动产业现代化改造"))
    lines[at] = lines[at].replace("市工业和信息化局", "市工业和信息化居")
    typo_plan.write_text("\n".join(lines), encoding="utf-8")
    for region in DISTRICTS:
        fill(typo_plan if region == "天桥区" else CITY, inbox / f"{region}_工作台账.xlsx", region=region)
    runs = {}
    for workers in (1, 2):
        seen = []
        opts = options(tmp_path, workers=workers, use_archive=False,
                       progress=lambda done, total, seen=seen: seen.append((done, total)))
        rollup = consolidate(CITY, inbox, None, opts)
        assert seen[-1] == (2 * len(DISTRICTS), 2 * len(DISTRICTS))  # read, then check, every file
        assert {"prepare", "read", "read_cpu", "check", "check_cpu", "map_sum"} <= set(rollup.timings)
        runs[workers] = rollup
    one, two = runs[1].summary(), runs[2].summary()
    assert one == two
    assert runs[2].regions == sorted(DISTRICTS)
    rare = [p for p in runs[2].problems if p.type == "unit-rare-spelling"]
    assert [(p.file, p.value) for p in rare] == [("天桥区_工作台账.xlsx", "市工业和信息化居")]
    assert rare[0].sheet == "工作台账" and rare[0].cell
    assert all(m.method == "key" for m in runs[2].mappings)


def _as_xlsb(src: Path, dest: Path) -> None:
    """Write the sheets of a workbook again as .xlsb (pyxlsbwriter), numbers as numbers, _xltools hidden."""
    pyxlsbwriter = pytest.importorskip("pyxlsbwriter")
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(src))
    with pyxlsbwriter.XlsbWriter(str(dest)) as out:
        for meta in book.sheets_metadata:
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            width = max(len(r) for r in rows)
            out.add_sheet(meta.name, hidden=meta.name == "_xltools")
            out.write_sheet([[int(v) if isinstance(v, float) and v.is_integer() else v for v in r] + [""] * (width - len(r))
                             for r in rows])


def test_an_xlsb_ledger_reads_like_the_xlsx_it_was_saved_from(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    fill(ZHANGQIU, src / "章丘区_工作台账.xlsx")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _as_xlsb(src / "章丘区_工作台账.xlsx", inbox / "章丘区_工作台账.xlsb")
    fill(SHIZHONG, inbox / "市中区_工作台账.xlsx")
    xlsx, xlsb = extract(src / "章丘区_工作台账.xlsx"), extract(inbox / "章丘区_工作台账.xlsb")
    assert [r.to_dict(with_origin=True) | {"origin": r.origin.row} for r in xlsb.rows] == \
        [r.to_dict(with_origin=True) | {"origin": r.origin.row} for r in xlsx.rows]
    assert len(xlsb.rows) == 60 and xlsb.region == "章丘区" and xlsb.region_from == "meta"
    rollup = consolidate(CITY, inbox, None, options(tmp_path))
    zhangqiu = next(r for r in rollup.received if r.region == "章丘区")
    assert (zhangqiu.name, zhangqiu.region_from, len(zhangqiu.rows)) == ("章丘区_工作台账.xlsb", "meta", 60)
    assert all(m.city_seqs == [m.row.seq] for m in rollup.mappings if m.region == "章丘区")
    station = next(t for t in rollup.targets if t.city_seq == 10 and t.metric == "充换电站")
    assert station.districts == {"市中区": 90, "章丘区": 120}
    assert not [p for p in rollup.problems if p.file == "章丘区_工作台账.xlsb" and p.severity == "error"]


def _nine_districts(inbox: Path) -> None:
    inbox.mkdir()
    for region in DISTRICTS:
        fill(CITY, inbox / f"{region}_工作台账.xlsx", region=region)


def test_a_checking_bug_is_a_problem_on_that_file_and_its_rows_are_kept(tmp_path, monkeypatch):
    import xltools.rollup.reading as reading

    _nine_districts(tmp_path / "inbox")
    check_ledger = reading.check_ledger

    def flaky(ledger, region, name, *args):
        if region == "天桥区":
            raise ValueError("boom")
        return check_ledger(ledger, region, name, *args)

    monkeypatch.setattr(reading, "check_ledger", flaky)  # workers fork after this: they have it too
    for workers in (1, 2):
        rollup = consolidate(CITY, tmp_path / "inbox", None, options(tmp_path, workers=workers, use_archive=False))
        failed = [p for p in rollup.problems if p.type == "check-failed"]
        assert [(p.file, p.severity) for p in failed] == [("天桥区_工作台账.xlsx", "error")]
        tianqiao = next(r for r in rollup.received if r.region == "天桥区")
        assert len(tianqiao.rows) == 60  # read and kept; listed as unmapped rather than lost
        assert sum(1 for m in rollup.mappings if m.region == "天桥区" and not m.mapped) == 60


def test_a_worker_that_dies_stops_the_run_with_a_clear_error(tmp_path, monkeypatch):
    import xltools.rollup.reading as reading
    from xltools.errors import XltoolsError

    _nine_districts(tmp_path / "inbox")
    read_file = reading.read_file

    def crash(path, name, *args):
        if name.startswith("天桥区"):
            os._exit(3)  # as a crash in a native reader would
        return read_file(path, name, *args)

    monkeypatch.setattr(reading, "read_file", crash)
    with pytest.raises(XltoolsError) as err:
        consolidate(CITY, tmp_path / "inbox", None, options(tmp_path, workers=2, use_archive=False))
    assert "意外退出" in err.value.message_zh


def test_workers_started_by_spawn_as_on_windows(tmp_path, monkeypatch):
    """Windows and macOS start workers afresh (spawn): everything a worker needs must travel to it."""
    import xltools.rollup.reading as reading

    _nine_districts(tmp_path / "inbox")
    inline = consolidate(CITY, tmp_path / "inbox", None, options(tmp_path, workers=1, use_archive=False))
    monkeypatch.setattr(reading, "START_METHOD", "spawn")
    spawned = consolidate(CITY, tmp_path / "inbox", None, options(tmp_path, workers=2, use_archive=False))
    assert spawned.summary() == inline.summary()
    assert len(spawned.mappings) == 9 * 60


def test_what_workers_send_becomes_objects_once_they_have_ended(tmp_path, monkeypatch):
    """Issue 13: the workers' memory and every district's rows in objects are never held at the same time."""
    import multiprocessing

    import xltools.rollup.reading as reading

    _nine_districts(tmp_path / "inbox")
    inline = consolidate(CITY, tmp_path / "inbox", None, options(tmp_path, workers=1, use_archive=False))
    apply, alive = reading._apply, []

    def watched(rec, checked):
        alive.append(len(multiprocessing.active_children()))
        return apply(rec, checked)

    monkeypatch.setattr(reading, "_apply", watched)
    parallel = consolidate(CITY, tmp_path / "inbox", None, options(tmp_path, workers=2, use_archive=False))
    assert len(alive) == 9 and set(alive) == {0}
    assert parallel.summary() == inline.summary()
    assert [p.message for p in parallel.problems] == [p.message for p in inline.problems]


def test_a_districts_target_problems_are_located_as_validate_locates_them(tmp_path):
    from xltools.target_text import check_ledger_targets

    plan = tmp_path / "章丘区_工作方案.txt"  # one metric in two units: a ledger-wide problem
    plan.write_text(ZHANGQIU.read_text(encoding="utf-8").replace("充换电站120座", "充换电站120座，其中新建充换电站30个", 1),
                    encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(plan, inbox / "章丘区_工作台账.xlsx")
    rollup = consolidate(CITY, inbox, None, options(tmp_path, use_archive=False))
    consolidated = sorted((p.type, p.sheet, p.cell) for p in rollup.problems if p.type.startswith("target-"))
    validated = sorted((p.type, p.sheet, p.cell) for p in check_ledger_targets(extract(inbox / "章丘区_工作台账.xlsx")))
    assert ("target-unit-mismatch", "工作台账") in {(t, s) for t, s, _ in consolidated}
    assert consolidated == validated


def test_a_district_whose_files_cannot_be_used_is_told_apart_from_one_that_sent_nothing(tmp_path):
    """历下区 sent a zero-byte upload, 市中区 a good ledger and then a broken copy of it, 历城区 nothing: only
    历城区 is 未报送; 历下区's row says which file failed and why; 市中区's good ledger is used."""
    import json

    from click.testing import CliRunner
    from openpyxl import load_workbook

    from xltools.cli import cli

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(ZHANGQIU, inbox / "章丘区_工作台账.xlsx")
    fill(SHIZHONG, inbox / "市中区_工作台账.xlsx")
    (inbox / "市中区_工作台账(修改).xlsx").write_bytes(b"PK\x03\x04 broken")  # sent later, broken
    (inbox / "历下区_工作台账.xlsx").write_bytes(b"")
    _touch(inbox / "市中区_工作台账.xlsx", time.time() - 3600)
    out = tmp_path / "汇总.xlsx"
    args = ["consolidate", str(CITY), str(inbox), "-o", str(out), "--regions", "市中区,章丘区,历下区,历城区",
            "--no-archive"]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 1, done.output
    assert "未报送：历城区\n" in done.stdout and "报送文件无法使用：历下区（见“未报送”表）" in done.stdout

    wb = load_workbook(out)
    rows = [r[:3] for r in wb["未报送"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert rows[0] == ("历城区", "未报送", None)
    assert rows[1][:2] == ("历下区", "报送文件无法使用") and rows[1][2].startswith("“历下区_工作台账.xlsx”：") \
        and "空" in rows[1][2]
    assert len(rows) == 2  # 市中区 has a usable ledger: its broken later copy is no missing district
    assert wb["未报送"].row_dimensions[5].height >= 22
    scope = wb["汇总"]["A2"].value
    assert "已报送 2 个地区：市中区、章丘区；报送文件无法使用 1 个：历下区" in scope and "未报送 1 个：历城区" in scope
    overview = {r[1]: r for r in wb["问题概览"].iter_rows(min_row=4, values_only=True) if r[1]}
    assert "历下区" in overview["文件无法读取"][4] and "历城区" in overview["地区未报送"][4]
    # 市中区: the good ledger is in use, the broken later one superseded, with a message that says why (a
    # superseded file's own problems are not the rollup's: the note carries its error).
    listed = problem_lines(out)
    [(region, said)] = [(p["地区"], p["问题说明"]) for p in listed if p["代码"] == "superseded-file"]
    assert region == "市中区" and said.startswith("市中区的“市中区_工作台账(修改).xlsx”无法使用（无法读取") \
        and said.endswith("），已采用“市中区_工作台账.xlsx”")
    assert [p["地区"] for p in listed if p["代码"] == "unreadable-file"] == ["历下区"]

    # With the archive: the broken copy is archived as 市中区's second version, and is no "newer file in the archive".
    archived = [*args[:3], "-o", str(tmp_path / "again.xlsx"), *args[5:7], "--archive", str(tmp_path / "archive"),
                "--json"]
    data = json.loads(CliRunner().invoke(cli, archived).stdout)
    assert data["missing_regions"] == ["历城区"] and data["unreadable_regions"] == ["历下区"]
    assert {d["file"]: d["region"] for d in data["districts"]}["历下区_工作台账.xlsx"] == "历下区"
    assert {(p["type"], p["file"]) for p in data["problems"] if p["type"] in ("newer-in-archive", "superseded-file")} \
        == {("superseded-file", "市中区_工作台账(修改).xlsx")}
    assert [(v.name, v.version) for v in Archive(tmp_path / "archive").versions("市中区")] == [
        ("市中区_工作台账.xlsx", 1), ("市中区_工作台账(修改).xlsx", 2)]

