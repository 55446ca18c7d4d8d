"""Runs, outputs and the archive under faults (issue 10): a run is complete only once its rollup is written,
one guard for every output, missing or read-only archives and folders are reported, never tracebacks."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CITY, SHIZHONG, ZHANGQIU
from openpyxl import load_workbook

from xltools import fill
from xltools.archive import Archive
from xltools.cli import cli
from xltools.errors import OutputError
from xltools.rollup import ConsolidateOptions, consolidate
from xltools.xlio import check_output


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(SHIZHONG, folder / "市中区_工作方案.txt")
    shutil.copy(ZHANGQIU, folder / "章丘区_工作方案.txt")
    return folder


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _cells(path):
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


# ---------------------------------------------------------------------------------- complete runs


def test_a_run_is_complete_only_once_its_rollup_is_written(tmp_path, inbox, monkeypatch):
    import xltools.rollup.writer as writer

    archive = tmp_path / "archive"
    opts = ConsolidateOptions(regions=["市中区", "章丘区"], archive=str(archive))
    good = consolidate(CITY, inbox, tmp_path / "汇总.xlsx", opts)
    before = (tmp_path / "汇总.xlsx").read_bytes()

    real = writer._write

    def dies_half_way(rollup, tmp, *args, **kwargs):
        real(rollup, tmp, *args, **kwargs)  # the temporary file is complete, the rename never happens
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_write", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        consolidate(CITY, inbox, tmp_path / "汇总.xlsx", opts)
    monkeypatch.undo()
    assert (tmp_path / "汇总.xlsx").read_bytes() == before
    with Archive(archive, create=False) as store:
        assert store.runs(complete=True) == [good.archive_run]
        [killed] = store.runs(complete=False)
        assert not store.run(killed).complete and store.run(good.archive_run).complete
        assert store.run(good.archive_run).output_sha256 == __import__("hashlib").sha256(before).hexdigest()

    listed = _run("consolidate", "--list-runs", "--archive", archive)
    assert listed.exit_code == 0
    lines = {line.split()[0]: line for line in listed.output.splitlines()}
    assert "未完成" in lines[killed] and "未完成" not in lines[good.archive_run]

    # Its inputs were archived before it was recorded: it rebuilds, and the clerk is told it was incomplete.
    rebuilt = _run("consolidate", "--from-archive", killed, "--archive", archive, "-o", tmp_path / "重出.xlsx")
    assert rebuilt.exit_code in (0, 1), rebuilt.output
    assert "未完成" in rebuilt.output
    assert _cells(tmp_path / "重出.xlsx")["汇总"][2:] == _cells(tmp_path / "汇总.xlsx")["汇总"][2:]


def test_without_an_output_no_run_is_recorded_but_the_files_are_archived(tmp_path, inbox):
    archive = tmp_path / "archive"
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(regions=["章丘区"], archive=str(archive)))
    assert rollup.archive_run is None
    with Archive(archive, create=False) as store:
        assert store.runs() == [] and [v.name for v in store.versions("章丘区")] == ["章丘区_工作方案.txt"]
    listed = _run("consolidate", "--list-runs", "--archive", archive)
    assert listed.exit_code == 0 and "还没有汇总记录" in listed.output


def test_files_are_archived_while_they_are_checked_and_a_failure_of_either_records_nothing(tmp_path, inbox,
                                                                                            monkeypatch):
    """The archive takes the files in while the workers check them; an archive that fails part way is the clean
    error after the check, and a check that fails stops the archiving: in both, no submission is recorded."""
    import threading

    import xltools.archive as archive_module
    import xltools.rollup.reading as reading

    archive = tmp_path / "archive"
    opts = ConsolidateOptions(regions=["市中区", "章丘区"], archive=str(archive))
    real_submit, real_check = archive_module.Archive.submit, reading.Workers.check
    during: list[str] = []

    def check(self):
        during.append(threading.current_thread().name)
        started.wait(5)  # the archive is at work before the check is done
        return real_check(self)

    def submit(self, *args, **kwargs):
        started.set()
        during.append(threading.current_thread().name)
        return real_submit(self, *args, **kwargs)

    started = threading.Event()
    monkeypatch.setattr(reading.Workers, "check", check)
    monkeypatch.setattr(archive_module.Archive, "submit", submit)
    consolidate(CITY, inbox, None, opts)
    assert during[0] == "MainThread" and set(during[1:]) == {"xltools-archive"} and len(during) == 3

    def full(self, *args, **kwargs):
        raise OutputError("archive: disk full", "磁盘空间不足，无法写入归档")

    fresh = tmp_path / "archive2"
    monkeypatch.setattr(archive_module.Archive, "submit", full)
    with pytest.raises(OutputError, match="disk full"):
        consolidate(CITY, inbox, tmp_path / "汇总.xlsx", ConsolidateOptions(regions=["市中区"], archive=str(fresh)))
    assert not (tmp_path / "汇总.xlsx").exists()

    def broken(self):
        started.wait(5)
        raise RuntimeError("check failed")

    started.clear()
    monkeypatch.setattr(archive_module.Archive, "submit", submit)
    monkeypatch.setattr(reading.Workers, "check", broken)
    with pytest.raises(RuntimeError, match="check failed"):
        consolidate(CITY, inbox, None, ConsolidateOptions(regions=["市中区"], archive=str(fresh)))
    assert not any(t.name == "xltools-archive" for t in threading.enumerate())
    for root in (fresh,):
        with Archive(root, create=False) as store:
            assert store.versions("市中区") == [] and store.versions("章丘区") == [] and store.runs() == []


# ------------------------------------------------------------------------- missing archive or run


def test_a_missing_archive_or_run_is_reported_and_nothing_is_created(tmp_path, inbox):
    new = tmp_path / "新归档"
    for args in (["--from-archive", "nope", "-o", tmp_path / "x.xlsx"], ["--list-runs"]):
        result = _run("consolidate", *args, "--archive", new)
        assert result.exit_code == 2, result.output
        assert "找不到归档" in result.output and "Traceback" not in result.output
        assert not new.exists() and not (tmp_path / "x.xlsx").exists()
    archive = tmp_path / "archive"
    consolidate(CITY, inbox, tmp_path / "汇总.xlsx", ConsolidateOptions(regions=["章丘区"], archive=str(archive)))
    index = (archive / "index.sqlite").read_bytes()
    result = _run("consolidate", "--from-archive", "20240101-000000-abcdef", "--archive", archive,
                  "-o", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "没有编号为“20240101-000000-abcdef”的汇总记录" in result.output
    assert (archive / "index.sqlite").read_bytes() == index and not (tmp_path / "x.xlsx").exists()


def test_an_archived_file_altered_or_lost_is_reported_on_rebuild(tmp_path, inbox):
    archive = tmp_path / "archive"
    run = consolidate(CITY, inbox, tmp_path / "汇总.xlsx",
                      ConsolidateOptions(regions=["章丘区"], archive=str(archive))).archive_run
    with Archive(archive, create=False) as store:
        victim = store.object_path(store.run(run).inputs[0].sha256)
    os.chmod(victim, 0o644)
    victim.write_bytes(victim.read_bytes() + b"x")
    result = _run("consolidate", "--from-archive", run, "--archive", archive, "-o", tmp_path / "重出.xlsx")
    assert result.exit_code == 2 and "缺失或已被改动" in result.output
    victim.unlink()
    result = _run("consolidate", "--from-archive", run, "--archive", archive, "-o", tmp_path / "重出.xlsx")
    assert result.exit_code == 2 and "缺失或已被改动" in result.output and not (tmp_path / "重出.xlsx").exists()


# ------------------------------------------------------------------------------ one output guard


def test_the_output_guard(tmp_path):
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    from xltools.xlio import ROLLUP_FORMAT

    src, inbox, archive = tmp_path / "plan.txt", tmp_path / "inbox", tmp_path / "archive"
    src.write_text("x", encoding="utf-8")
    inbox.mkdir()
    archive.mkdir()
    district = inbox / "章丘区.xlsx"
    district.write_bytes(b"a district's file")

    def refused(out, *inputs, **kw):
        with pytest.raises(OutputError) as err:
            check_output(out, *inputs, **kw)
        return err.value.message_zh

    assert "与输入文件相同" in refused(tmp_path / "sub" / ".." / "plan.txt", src)
    assert "两个输出文件" in refused(tmp_path / "a.xlsx", src, others=(tmp_path / "." / "a.xlsx",))
    assert "归档文件夹中" in refused(archive / "objects" / "汇总.xlsx", archive=archive)
    assert "归档文件夹中" in refused(archive, archive=archive)
    assert "报送文件" in refused(district, inbox=inbox)
    assert "是文件夹" in refused(inbox)
    assert "输出文件夹不存在" in refused(tmp_path / "nowhere" / "out.xlsx")
    assert "不是文件夹" in refused(district / "out.xlsx")
    # Allowed: a new file beside the submissions, another output's different name, nothing else given.
    assert check_output(inbox / "汇总.xlsx", src, None, inbox=inbox, archive=archive, others=(None, src.with_name("b")))
    # A rollup xltools wrote may be replaced by the next one, even inside the inbox.
    rollup = inbox / "旧汇总.xlsx"
    wb = Workbook()
    wb.custom_doc_props.append(StringProperty(name="xltools_format", value=ROLLUP_FORMAT))
    wb.save(rollup)
    assert check_output(rollup, inbox=inbox) == rollup


def test_validate_refuses_two_outputs_that_are_one_file(tmp_path):
    ledger = fill(ZHANGQIU, tmp_path / "章丘区.xlsx").path
    same = tmp_path / "标注.xlsx"
    result = _run("validate", ledger, "-o", same, "--fix", "--fixed", same)
    assert result.exit_code == 2 and "两个输出文件都是“标注.xlsx”" in result.output
    assert not same.exists()
    # the default name of the fixed copy counts as well
    default = tmp_path / "章丘区_已修正.xlsx"
    result = _run("validate", ledger, "-o", default, "--fix")
    assert result.exit_code == 2 and "两个输出文件" in result.output and not default.exists()
    result = _run("validate", ledger, "-o", same, "--fix", "--fixed", ledger)
    assert result.exit_code == 2 and "与输入文件相同" in result.output and not same.exists()
    ok = _run("validate", ledger, "-o", same, "--fix", "--fixed", tmp_path / "修正.xlsx")
    assert ok.exit_code in (0, 1) and "问题清单" in load_workbook(same).sheetnames
    assert "修正记录" in load_workbook(tmp_path / "修正.xlsx").sheetnames


def test_consolidate_refuses_to_overwrite_its_mapping_workbook(tmp_path, inbox):
    opts = ConsolidateOptions(regions=["章丘区"], archive=str(tmp_path / "archive"))
    first = tmp_path / "汇总.xlsx"
    consolidate(CITY, inbox, first, opts)
    before = first.read_bytes()
    result = _run("consolidate", CITY, inbox, "-o", first, "--mapping", first, "--archive", tmp_path / "archive")
    assert result.exit_code == 2 and "与输入文件相同" in result.output and first.read_bytes() == before


# ------------------------------------------------------------------------- read-only places


@pytest.fixture
def read_only():
    """Make a folder read-only for this process (after ``fill(folder)`` has written into it). As root, chmod
    stops nothing: a tmpfs is mounted over the folder and remounted read-only; otherwise chmod."""
    mounted, chmodded = [], []

    def make(folder: Path, fill=None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True).returncode:
                pytest.skip("running as root without permission to mount a read-only folder")
            mounted.append(folder)
            if fill:
                fill(folder)
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
        else:
            if fill:
                fill(folder)
            for path in [folder, *folder.rglob("*")]:
                chmodded.append((path, path.stat().st_mode))
                path.chmod(path.stat().st_mode & ~0o222)
        assert not os.access(folder, os.W_OK)
        return folder

    yield make
    for path, mode in chmodded:
        path.chmod(mode)
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _clean_failure(result, *words):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "内部错误" not in result.output, result.output
    for word in words:
        assert word in result.output, result.output


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_output_folders_are_clean_errors(tmp_path, inbox, read_only):
    ledger = fill(ZHANGQIU, tmp_path / "章丘区.xlsx").path
    ro = read_only(tmp_path / "只读")
    _clean_failure(_run("fill", ZHANGQIU, "-o", ro / "台账.xlsx"), "输出文件夹无法写入")
    _clean_failure(_run("validate", ledger, "-o", ro / "标注.xlsx"), "输出文件夹无法写入")
    _clean_failure(_run("validate", ledger, "--fix", "--fixed", ro / "修正.xlsx"), "输出文件夹无法写入")
    _clean_failure(_run("consolidate", CITY, inbox, "-o", ro / "汇总.xlsx", "--archive", tmp_path / "archive"),
                   "输出文件夹无法写入")
    assert list(ro.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_read_only_archive_is_a_clean_error_and_still_rebuilds(tmp_path, inbox, read_only):
    made = {}

    def first_run(folder):
        made["run"] = consolidate(CITY, inbox, tmp_path / "汇总.xlsx",
                                  ConsolidateOptions(regions=["章丘区"], archive=str(folder))).archive_run

    archive = read_only(tmp_path / "archive", first_run)
    result = _run("consolidate", CITY, inbox, "-o", tmp_path / "汇总2.xlsx", "--archive", archive)
    _clean_failure(result, "归档文件夹无法写入")
    assert not (tmp_path / "汇总2.xlsx").exists()
    # Reading a read-only archive needs no writing: list and rebuild.
    assert made["run"] in _run("consolidate", "--list-runs", "--archive", archive).output
    again = _run("consolidate", "--from-archive", made["run"], "--archive", archive, "-o", tmp_path / "重出.xlsx")
    assert again.exit_code in (0, 1), again.output
    assert _cells(tmp_path / "重出.xlsx") == _cells(tmp_path / "汇总.xlsx")


def test_a_read_only_archive_index_is_a_clean_error(tmp_path, inbox, monkeypatch):
    """sqlite's own 'attempt to write a readonly database' (the index read-only, its folder not)."""
    import xltools.archive as archive_module

    archive = tmp_path / "archive"
    Archive(archive).close()
    real = sqlite3.connect

    def read_only_connect(path, *args, **kwargs):
        kwargs.pop("uri", None)
        return real(f"file:{Path(str(path).removeprefix('file:').split('?')[0])}?mode=ro", *args, uri=True,
                    **kwargs)

    monkeypatch.setattr(archive_module.sqlite3, "connect", read_only_connect)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        with read_only_connect(archive / "index.sqlite") as db:
            db.execute("INSERT INTO objects VALUES ('x', 1, 'y')")
    result = _run("consolidate", CITY, inbox, "-o", tmp_path / "汇总.xlsx", "--archive", archive)
    _clean_failure(result, "归档文件夹无法写入")
    assert not (tmp_path / "汇总.xlsx").exists()


def test_an_output_or_archive_where_a_file_or_folder_is_expected(tmp_path, inbox):
    folder = tmp_path / "汇总.xlsx"
    folder.mkdir()  # the output names an existing folder
    _clean_failure(_run("consolidate", CITY, inbox, "-o", folder, "--archive", tmp_path / "a"), "是文件夹")
    _clean_failure(_run("fill", ZHANGQIU, "-o", folder), "是文件夹")
    archive = tmp_path / "归档"
    archive.mkdir()
    (archive / "objects").write_text("a file where the archive's folder of objects should be", encoding="utf-8")
    _clean_failure(_run("consolidate", CITY, inbox, "-o", tmp_path / "x.xlsx", "--archive", archive),
                   "归档文件夹无法写入")
    with pytest.raises(OutputError, match="archive"):  # what click checks on the command line, the library does
        consolidate(CITY, inbox, tmp_path / "x.xlsx", ConsolidateOptions(archive=str(archive / "objects")))
    assert not (tmp_path / "x.xlsx").exists()
