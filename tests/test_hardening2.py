"""Issue 22: what a hostile or unlucky inbox still broke, each case as a clerk meets it — the job goes on, the
problem is named in Chinese, every other district's output is written, and no input or directory changes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from bad_inputs import run_door
from conftest import CITY, SHIZHONG, ZHANGQIU

from xltools import fill


def gbk(folder: Path, name: str) -> Path:
    """A path in ``folder`` whose name is ``name`` in GBK bytes, as unzipping a Chinese Windows zip leaves it."""
    return Path(os.fsdecode(os.path.join(os.fsencode(folder), name.encode("gbk"))))


def digests(*folders: Path) -> dict[str, str]:
    return {os.fsencode(p).hex(): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """章丘区's ledger filled into the template: a district workbook with problems to mark."""
    out = tmp_path_factory.mktemp("filled") / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, out)
    return out


def _rewrite(source: Path, target: Path, change) -> Path:
    """A copy of the workbook ``source`` whose parts go through ``change(name, bytes) -> bytes | None``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return target


# 1. file names in GBK bytes ---------------------------------------------------------------------------------


def test_a_district_file_named_in_gbk_bytes_is_read_named_and_archived(filled, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    text = gbk(inbox, "市中区_工作方案.txt")
    shutil.copy(SHIZHONG, text)
    book = gbk(inbox, "历城区_工作台账.xlsx")
    shutil.copy(filled, book)  # 章丘区's workbook under another name: its metadata says whose it is
    before = digests(inbox)
    out, fb = tmp_path / "汇总.xlsx", tmp_path / "反馈"
    code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "-o", str(out), "--regions",
                                    "市中区,章丘区", "--archive", str(tmp_path / "archive"),
                                    "--feedback", str(fb), "--json"])
    assert crash is None and code == 1, output
    report = json.loads(output)
    files = {d["region"]: d["file"] for d in report["districts"]}
    assert files == {"市中区": "市中区_工作方案.txt", "章丘区": "历城区_工作台账.xlsx"}
    wb = openpyxl.load_workbook(out)
    sources = {v for r in wb["来源"].iter_rows(values_only=True) for v in r if isinstance(v, str) and "." in v}
    assert {"市中区_工作方案.txt", "历城区_工作台账.xlsx"} <= sources, sources
    assert sorted(p.name for p in fb.iterdir()) == ["反馈清单.xlsx", "市中区_反馈_市中区_工作方案.xlsx",
                                                     "章丘区_反馈_历城区_工作台账.xlsx"]
    assert digests(inbox) == before  # the inbox as it was
    # the archive keeps the readable name, and rebuilds the same rollup from it
    run = report["archive_run"]
    again = tmp_path / "重出.xlsx"
    code, output, crash = run_door(["consolidate", "--from-archive", run, "--archive", str(tmp_path / "archive"),
                                    "-o", str(again)])
    assert crash is None and code in (0, 1), output
    assert {v for r in openpyxl.load_workbook(again)["来源"].iter_rows(values_only=True) for v in r
            if isinstance(v, str) and "." in v} == sources


@pytest.mark.parametrize("door", ["extract", "validate"])
def test_a_single_workbook_named_in_gbk_bytes_is_read_by_every_door(filled, tmp_path, door):
    book = gbk(tmp_path, "章丘区_台账.xlsx")
    shutil.copy(filled, book)
    out = tmp_path / "out"
    out.mkdir()
    args = ["extract", "--json", str(book)] if door == "extract" else \
        ["validate", str(book), "-o", str(out / "标注.xlsx"), "--json"]
    code, output, crash = run_door(args)
    assert crash is None and code in (0, 1), output
    data = json.loads(output)
    if door == "extract":
        assert len(data["rows"]) == 60 and data["region"] == "章丘区"
    else:
        assert data["file"] == "章丘区_台账.xlsx"
        assert {p["file"] for p in data["problems"]} == {"章丘区_台账.xlsx"}
        cells = openpyxl.load_workbook(out / "标注.xlsx")["问题清单"].iter_rows(values_only=True)
        assert not any("\ufffd" in str(v) for row in cells for v in row if v)


def test_the_cli_echoes_a_name_it_cannot_decode_without_crashing(tmp_path):
    """Bytes that are no text in any encoding: the name is shown with �, the file still read."""
    bad = Path(os.fsdecode(os.fsencode(tmp_path) + b"/\xff\xfe_" + "章丘区_工作方案.txt".encode()))
    shutil.copy(ZHANGQIU, bad)
    run = subprocess.run([sys.executable, "-m", "xltools", "validate", str(bad)], capture_output=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr.decode("utf-8", "replace")
    assert "Traceback" not in run.stderr.decode("utf-8", "replace")
    assert "地区：章丘区" in run.stdout.decode("utf-8", "replace")


# 2. control characters in a cell that gets a note --------------------------------------------------------------


def _with_control_character(filled: Path, target: Path) -> Path:
    """``filled`` with \\x01 inside the unit 区市场监管局 (an alias, so the cell gets a note quoting it)."""
    plain = "".join(f"&#{ord(c)};" for c in "区市场监管局")
    hostile = plain.replace(f"&#{ord('场')};", f"&#{ord('场')};_x0001_")

    def change(name, data):
        if name.startswith("xl/worksheets/") and plain.encode() in data:
            return data.replace(plain.encode(), hostile.encode(), 1)
        return data
    return _rewrite(filled, target, change)


def test_a_control_character_in_a_flagged_cell_is_shown_in_its_note_and_feedback_goes_out(filled, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile = _with_control_character(filled, inbox / "章丘区_工作台账.xlsx")
    shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
    marked = tmp_path / "标注.xlsx"
    code, output, crash = run_door(["validate", str(hostile), "-o", str(marked)])
    assert crash is None and code == 1, output
    notes = [c.comment.text for row in openpyxl.load_workbook(marked)["工作台账"].iter_rows() for c in row
             if c.comment and "监管局" in c.comment.text]
    assert any("区市场\ufffd监管局" in n for n in notes), notes  # shown, not dropped and not a crash
    fb = tmp_path / "反馈"
    code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "汇总.xlsx"),
                                    "--regions", "市中区,章丘区", "--no-archive", "--feedback", str(fb)])
    assert crash is None and code == 1, output
    assert sorted(p.name for p in fb.iterdir()) == ["反馈清单.xlsx", "市中区_反馈_市中区_工作方案.xlsx",
                                                     "章丘区_反馈_章丘区_工作台账.xlsx"]


# 3. damaged document properties --------------------------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            b' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&lol9;</dc:title></cp:coreProperties>')
BROKEN = {
    "malformed": b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="x"><dc:title>',
    "entities": LAUGHS,
    "not a date": b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
                  b'metadata/core-properties" xmlns:dcterms="http://purl.org/dc/terms/"><dcterms:created>yesterday'
                  b'</dcterms:created></cp:coreProperties>',
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_workbook_with_damaged_properties_is_marked_and_fed_back(filled, tmp_path, kind):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    book = _rewrite(filled, inbox / "章丘区_工作台账.xlsx",
                    lambda name, data: BROKEN[kind] if name == "docProps/core.xml" else data)
    before = digests(inbox)
    marked = tmp_path / "标注.xlsx"
    code, output, crash = run_door(["validate", str(book), "-o", str(marked)])
    assert crash is None and code == 1, output
    assert "问题清单" in openpyxl.load_workbook(marked).sheetnames
    fb = tmp_path / "反馈"
    code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "汇总.xlsx"),
                                    "--regions", "章丘区", "--no-archive", "--feedback", str(fb)])
    assert crash is None and code == 1, output
    assert (fb / "章丘区_反馈_章丘区_工作台账.xlsx").exists()
    assert digests(inbox) == before


# 4. the unit directory is never an output --------------------------------------------------------------------


def test_no_door_writes_over_a_unit_directory(filled, tmp_path):
    from xltools.units.directory import PACKAGE_DIRECTORY, REPO_DIRECTORY

    mine = tmp_path / "本市单位名录.xlsx"
    shutil.copy(REPO_DIRECTORY, mine)
    shipped = [p for p in (REPO_DIRECTORY, PACKAGE_DIRECTORY) if p.exists()]
    before = digests(tmp_path) | {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in shipped}
    cases = [["validate", str(filled), "--units", str(mine), "-o", str(mine)],
             ["validate", str(filled), "--units", str(mine), "--fix", "--fixed", str(mine)],
             ["units", "learn", str(filled), "--region", "章丘区", "--units", str(mine), "-o", str(mine)]]
    for shipped_path in shipped:
        cases += [["validate", str(filled), "-o", str(shipped_path)],
                  ["validate", str(filled), "--fix", "--fixed", str(shipped_path)],
                  ["units", "learn", str(filled), "--region", "章丘区", "-o", str(shipped_path)],
                  ["fill", str(ZHANGQIU), "-o", str(shipped_path)]]
    for args in cases:
        code, output, crash = run_door(args)
        assert crash is None and code == 2, (args, output)
        assert "单位名录" in output or "输入文件相同" in output, (args, output)
    assert digests(tmp_path) | {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in shipped} == before


# 6. outputs that would land on an inbox, the feedback folder or the archive ----------------------------------


def test_distribute_into_an_inbox_never_replaces_a_returned_workbook(tmp_path):
    sent = tmp_path / "sent"
    code, output, crash = run_door(["distribute", str(CITY), "-o", str(sent), "--regions", "市中区,章丘区"])
    assert crash is None and code == 0, output
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    returned = inbox / "济南市章丘区_工作台账（填报）.xlsx"
    shutil.copy(sent / returned.name, returned)
    wb = openpyxl.load_workbook(returned)
    wb["工作台账"]["F6"] = "本区已完成"  # what the district typed
    wb.save(returned)
    data = returned.read_bytes()
    code, output, crash = run_door(["distribute", str(CITY), "-o", str(inbox), "--regions", "市中区,章丘区"])
    assert crash is None and code == 2 and "不能直接覆盖" in output, output
    assert returned.read_bytes() == data
    code, output, crash = run_door(["distribute", str(CITY), "-o", str(inbox), "--regions", "市中区,章丘区",
                                    "--replace"])
    assert crash is None and code == 0, output
    kept = [p for p in inbox.rglob(returned.name) if p.read_bytes() == data]
    assert len(kept) == 1 and kept[0].parent.name.startswith("已替换_")  # set aside, never deleted


def test_a_rollup_into_the_feedback_folder_and_an_archive_over_the_inbox_are_refused(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(ZHANGQIU, inbox / "章丘区_工作方案.txt")
    fb = tmp_path / "反馈"
    for args, says in (
            (["-o", str(fb / "反馈清单.xlsx"), "--feedback", str(fb), "--no-archive"], "反馈文件夹"),
            (["-o", str(tmp_path / "汇总.xlsx"), "--archive", str(inbox)], "归档文件夹不能是收件文件夹"),
            (["-o", str(tmp_path / "汇总.xlsx"), "--archive", str(tmp_path)], "归档文件夹不能是收件文件夹"),
            (["-o", str(tmp_path / "汇总.csv"), "--no-archive"], "须为 .xlsx 格式")):
        code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "--regions", "章丘区", *args])
        assert crash is None and code == 2 and says in output, (args, output)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inbox", "章丘区_工作方案.txt"]  # nothing written


def test_no_door_writes_inside_an_archive_it_was_not_told_of(filled, tmp_path):
    inbox, archive = tmp_path / "inbox", tmp_path / "归档"
    inbox.mkdir()
    shutil.copy(ZHANGQIU, inbox / "章丘区_工作方案.txt")
    code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "汇总.xlsx"),
                                    "--regions", "章丘区", "--archive", str(archive)])
    assert crash is None and code == 1, output
    before = digests(archive)
    for args in (["fill", str(ZHANGQIU), "-o", str(archive / "台账.xlsx")],
                 ["validate", str(filled), "-o", str(archive / "objects" / "标注.xlsx")],
                 ["distribute", str(CITY), "-o", str(archive / "分发"), "--regions", "章丘区"]):
        code, output, crash = run_door(args)
        assert crash is None and code == 2 and "归档文件夹" in output, (args, output)
    assert digests(archive) == before and not (archive / "分发").exists()


# 7. a file name too long for a feedback name -----------------------------------------------------------------


def test_a_district_file_with_a_long_name_gets_its_feedback_and_so_do_the_others(filled, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    long = "章丘区_" + "关于报送推动大规模设备更新和消费品以旧换新工作台账的函" * 2
    while len(f"{long}稿.xlsx".encode()) <= 255:
        long += "稿"
    long += ".xlsx"
    assert 240 < len(long.encode()) <= 255  # a name the file system takes; with 章丘区_反馈_ before it, it would not
    shutil.copy(filled, inbox / long)
    shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
    fb = tmp_path / "反馈"
    code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "汇总.xlsx"),
                                    "--regions", "市中区,章丘区", "--no-archive", "--feedback", str(fb)])
    assert crash is None and code == 1, output
    names = sorted(p.name for p in fb.iterdir())
    assert len(names) == 3 and "市中区_反馈_市中区_工作方案.xlsx" in names, names
    cut = next(n for n in names if n.startswith("章丘区_反馈_"))
    assert len(cut.encode()) <= 240 and cut.endswith("….xlsx"), cut
    assert openpyxl.load_workbook(fb / cut)["反馈说明"]


def test_one_feedback_that_cannot_be_written_costs_no_other_district_its_own(filled, tmp_path, monkeypatch):
    from xltools import feedback
    from xltools.rollup import ConsolidateOptions, consolidate

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(filled, inbox / "章丘区_工作台账.xlsx")
    shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
    real = feedback._write_one

    def fails_for_zhangqiu(job, directory=None):
        if job[4] == "章丘区":
            raise OSError(28, "No space left on device", str(job[1]))
        return real(job, directory)
    monkeypatch.setattr(feedback, "_write_one", fails_for_zhangqiu)
    fb = tmp_path / "反馈"
    rollup = consolidate(CITY, inbox, tmp_path / "汇总.xlsx",
                         ConsolidateOptions(regions=["市中区", "章丘区"], use_archive=False, feedback=str(fb)))
    assert [p.name for p in rollup.feedback] == ["市中区_反馈_市中区_工作方案.xlsx"]
    rows = [r for r in openpyxl.load_workbook(fb / "反馈清单.xlsx").worksheets[0].iter_rows(values_only=True)]
    said = [" ".join(str(v) for v in r if v) for r in rows if r and "章丘区" in str(r[0] or "")]
    assert any("生成反馈失败：磁盘空间不足" in s for s in said), said


# 8. the small ones ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, says", [
    (["--limit", "rows=1e309", "extract", str(CITY)], "--limit"),
    (["--limit", "rows=nan", "extract", str(CITY)], "--limit"),
    (["units", "check", "", "--region", "章丘区"], "单位名称是空的"),
    (["units", "check", "  ", "--region", "章丘区"], "单位名称是空的"),
    (["validate", str(ZHANGQIU), "--period", "2027-2024"], "起始年份应不晚于结束年份"),
])
def test_arguments_that_make_no_sense_are_usage_errors(args, says):
    code, output, crash = run_door(args)
    assert crash is None and code == 2 and says in output, output


def test_units_learn_on_a_file_without_rows_says_so(tmp_path):
    empty = tmp_path / "章丘区_台账.txt"
    empty.write_text("", encoding="utf-8")
    code, output, crash = run_door(["units", "learn", str(empty), "--region", "章丘区", "-o", str(tmp_path / "名录.xlsx")])
    assert crash is None and code == 2 and "没有读到任何任务行" in output, output
    assert not (tmp_path / "名录.xlsx").exists()


@pytest.mark.parametrize("door", [["fill", str(ZHANGQIU)], ["units", "learn", str(ZHANGQIU), "--region", "章丘区"]])
def test_an_xlsx_is_never_written_under_another_extension(tmp_path, door):
    code, output, crash = run_door([*door, "-o", str(tmp_path / "台账.csv")])
    assert crash is None and code == 2 and "须为 .xlsx 格式" in output, output
    assert not any(tmp_path.iterdir())


def test_a_damaged_path_from_the_ribbon_is_an_alert(monkeypatch, tmp_path):
    from test_addin import payload, xw  # (xlwings with the test engine, as test_addin imports it)

    from xltools import addin

    monkeypatch.setenv("XLTOOLS_ADDIN_LOG", str(tmp_path / "addin.log"))
    book_path = tmp_path / "台账.xlsx"
    fill(ZHANGQIU, book_path)
    for bad in ("ZZ", "D800", "123"):  # not hex; a lone surrogate; an odd length
        book = xw.Book(json=payload(book_path, "A1", name=book_path.name))
        monkeypatch.setattr(xw.Book, "caller", lambda book=book: book)
        assert addin.dispatch("distribute", path_hex=bad) is None
        actions = book.json()["actions"]
        assert [a["func"] for a in actions] == ["alert"], actions
        assert "文件路径已损坏" in json.dumps(actions, ensure_ascii=False)


def test_feedback_rebuilt_from_the_archive_is_the_same_bytes(filled, tmp_path):
    """The feedback workbooks of a rollup and of its rebuild from the archive (another day, another process):
    byte for byte, every part and every zip entry's time the rollup's."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(filled, inbox / "章丘区_工作台账.xlsx")
    shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
    archive = tmp_path / "archive"
    code, output, crash = run_door(["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "a.xlsx"),
                                    "--regions", "市中区,章丘区", "--archive", str(archive), "--feedback",
                                    str(tmp_path / "fa"), "--json"])
    assert crash is None and code == 1, output
    run = json.loads(output)["archive_run"]
    again = subprocess.run([sys.executable, "-m", "xltools", "consolidate", "--from-archive", run, "--archive",
                            str(archive), "-o", str(tmp_path / "b.xlsx"), "--feedback", str(tmp_path / "fb")],
                           capture_output=True, timeout=300, env={**os.environ, "TZ": "Asia/Shanghai"})
    assert again.returncode == 1, again.stderr.decode()
    first = {p.name: p.read_bytes() for p in (tmp_path / "fa").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "fb").iterdir()}
    assert sorted(first) == sorted(second) and len(first) == 3
    for name in first:
        assert first[name] == second[name], name
    with zipfile.ZipFile(tmp_path / "fa" / "章丘区_反馈_章丘区_工作台账.xlsx") as z:
        assert len({i.date_time for i in z.infolist()}) == 1


# 5. memory bounded on every path -------------------------------------------------------------------------------


def _wide(path: Path, rows: int, columns: int = 5_000) -> Path:
    """A district ledger whose rows run on for thousands of columns past its table (text in every cell)."""
    import xlsxwriter

    from xltools import extract

    tasks = extract(ZHANGQIU).rows
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("工作台账")
    ws.write_row(0, 0, ["序号", "重点任务", "工作内容", "牵头单位", "责任单位"])
    for r in range(1, rows):
        t = tasks[(r - 1) % len(tasks)]
        ws.write_row(r, 0, [r, t.task, t.content, "、".join(t.lead_units), "、".join(t.responsible_units)])
        for c in range(5, columns):
            ws.write_string(r, c, "区发改局" if c % 7 == 0 else "x")
    wb.close()
    return path


def _peak(args: list[str], tmp_path: Path) -> tuple[int, float, str]:
    from test_bad_inputs import _peak_rss_script

    out, err = tmp_path / "peak.out", tmp_path / "peak.err"
    run = subprocess.run([sys.executable, "-c", _peak_rss_script(args, out, err)], capture_output=True, text=True,
                         timeout=600, check=True)
    result = json.loads(run.stdout)
    return result["code"], result["peak_mb"], out.read_text(encoding="utf-8") + err.read_text(encoding="utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_sheet_of_a_million_cells_is_marked_and_fed_back_under_1_gb(tmp_path):
    """199 rows × 5,000 columns (just under the cells limit): a note a row, not a million notes."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wide = _wide(inbox / "章丘区_工作台账.xlsx", 200)
    code, peak, said = _peak(["validate", str(wide), "-o", str(tmp_path / "标注.xlsx")], tmp_path)
    assert code == 1 and peak < 1024, (code, peak, said[-500:])
    notes = [p for p in openpyxl.load_workbook(tmp_path / "标注.xlsx", read_only=True)["问题清单"].iter_rows(
        values_only=True) if p and "没有表头" in " ".join(str(v) for v in p if v)]
    assert notes and "共4,995列没有表头" in " ".join(str(v) for v in notes[0] if v)
    code, peak, said = _peak(["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "汇总.xlsx"), "--regions",
                              "章丘区", "--no-archive", "--feedback", str(tmp_path / "反馈")], tmp_path)
    assert code == 1 and peak < 1024, (code, peak, said[-500:])
    assert (tmp_path / "反馈" / "章丘区_反馈_章丘区_工作台账.xlsx").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_larger_sheets_and_text_documents_are_refused_before_they_cost_memory(tmp_path):
    wide = _wide(tmp_path / "章丘区_工作台账.xlsx", 400)  # two million cells
    code, peak, said = _peak(["validate", str(wide), "-o", str(tmp_path / "标注.xlsx")], tmp_path)
    assert code == 2 and "单元格过多" in said and peak < 1024, (code, peak, said[-500:])
    plan = tmp_path / "章丘区_工作方案.txt"
    text = ZHANGQIU.read_text(encoding="utf-8")
    plan.write_text(text * (11 * 2**20 // len(text.encode()) + 1), encoding="utf-8")  # 11 MB of plan
    code, peak, said = _peak(["fill", str(plan), "-o", str(tmp_path / "台账.xlsx")], tmp_path)
    assert code == 2 and "文本文件过大" in said and peak < 1024, (code, peak, said[-500:])
    assert not (tmp_path / "标注.xlsx").exists() and not (tmp_path / "台账.xlsx").exists()


def test_a_paragraph_longer_than_a_cell_is_cut_and_named(tmp_path):
    plan = tmp_path / "章丘区_工作方案.txt"
    text = ZHANGQIU.read_text(encoding="utf-8")
    needle = "推动产业现代化改造"  # a task of the plan: its paragraph grows past a cell
    at = text.index(needle) + len(needle)
    plan.write_text(text[:at] + "，持续推进设备更新" * 5_000 + text[at:], encoding="utf-8")
    out = tmp_path / "台账.xlsx"
    code, output, crash = run_door(["fill", str(plan), "-o", str(out)])
    assert crash is None and code == 1, output
    longest = max(len(c.value) for ws in openpyxl.load_workbook(out) for row in ws.iter_rows() for c in row
                  if isinstance(c.value, str))
    assert longest == 32_767
    code, output, crash = run_door(["extract", "--json", str(plan)])
    problems = [p for p in json.loads(output)["problems"] if p["type"] == "cell-too-long"]
    assert len(problems) == 1 and problems[0]["line"], problems


def test_memory_limit_stops_one_feedback_and_names_it(filled, tmp_path):
    from xltools.feedback import write_feedback
    from xltools.limits import configure, current
    from xltools.rollup import ConsolidateOptions, consolidate

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(filled, inbox / "章丘区_工作台账.xlsx")
    rollup = consolidate(CITY, inbox, tmp_path / "汇总.xlsx", ConsolidateOptions(regions=["章丘区"], use_archive=False))
    before = current()
    try:
        configure(memory_mb=10)
        written = write_feedback(rollup, tmp_path / "反馈")
    finally:
        configure(before)
    assert written == []
    rows = list(openpyxl.load_workbook(tmp_path / "反馈" / "反馈清单.xlsx").worksheets[0].iter_rows(values_only=True))
    assert any("超过上限 10 MB" in " ".join(str(v) for v in r if v) for r in rows), rows
