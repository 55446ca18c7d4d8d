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
