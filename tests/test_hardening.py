"""Hostile text in district files never becomes a formula in any output (issue 10, item 1)."""

import csv
import shutil

import openpyxl
import pytest
from conftest import CITY, ZHANGQIU

from xltools import extract, fill, validate
from xltools.rollup import ConsolidateOptions, consolidate

# From the OWASP CSV-injection page, and the shapes the tester used.
PAYLOADS = ['=HYPERLINK("http://x","y")', "=1+1", "=cmd|'/C calc'!A0", "+1+1", "-2+3", "@SUM(1+1)",
            "\t=1+1", "=1+1\x01"]


def _district_csv(path, payloads):
    rows = extract(ZHANGQIU).rows[:len(payloads)]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["序号", "重点任务", "工作内容", "牵头单位", "责任单位", "备注"])
        for row, payload in zip(rows, payloads):
            out.writerow([row.seq, payload, payload + row.content, payload, row.responsible_units[0]
                          if row.responsible_units else payload, payload])
    return path


def _formula_cells(path):
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def _texts(path):
    wb = openpyxl.load_workbook(path)
    return {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def test_fill_validate_and_fix_write_district_text_as_text(tmp_path):
    src = _district_csv(tmp_path / "历城区_台账.csv", PAYLOADS)
    filled = fill(src, tmp_path / "历城区_工作台账.xlsx", region="历城区").path
    assert _formula_cells(filled) == []
    texts = _texts(filled)
    assert '=HYPERLINK("http://x","y")' in texts and "=1+1" in texts and "@SUM(1+1)" in texts
    assert "=1+1\ufffd" in texts  # a control character is shown, not a crash
    checked = validate(filled, out=tmp_path / "标注.xlsx", fix=True, fixed_out=tmp_path / "已修正.xlsx")
    for out in (checked.marked, checked.fixed):
        if out is not None:
            assert _formula_cells(out) == [], out


def test_a_marked_copy_of_a_district_workbook_keeps_its_text_cells_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["济南市历城区推动大规模设备更新和消费品以旧换新工作台账"])
    ws.append(["序号", "重点任务", "工作内容", "牵头单位", "责任单位"])
    for i, payload in enumerate(PAYLOADS[:6], 1):
        ws.append([i, "推动产业现代化改造", "每年实施项目30个以上。", "区发改局、区财政局", None])
        cell = ws.cell(ws.max_row, 5)
        cell.value, cell.data_type = payload, "s"  # typed as text in the district's workbook
    src = tmp_path / "历城区.xlsx"
    wb.save(src)
    checked = validate(src, out=tmp_path / "标注.xlsx", fix=True, fixed_out=tmp_path / "已修正.xlsx")
    for out in (checked.marked, checked.fixed):
        if out is not None:
            assert _formula_cells(out) == [], out


def test_the_rollup_keeps_injected_text_as_text(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _district_csv(inbox / "历城区_台账.csv", PAYLOADS)
    out = tmp_path / "汇总.xlsx"
    consolidate(CITY, inbox, out, ConsolidateOptions(regions=["历城区"], archive=str(tmp_path / "a")))
    assert _formula_cells(out) == []
    assert "=cmd|'/C calc'!A0" in _texts(out)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_shows_the_text_not_a_result(tmp_path):
    import subprocess

    src = _district_csv(tmp_path / "历城区_台账.csv", ["=1+1"])
    filled = fill(src, tmp_path / "历城区_工作台账.xlsx", region="历城区").path
    subprocess.run(["soffice", "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(filled)],
                   check=True, capture_output=True, timeout=180)
    text = (tmp_path / "历城区_工作台账.csv").read_text(encoding="utf-8", errors="replace")
    assert "=1+1" in text


def test_the_rollup_never_replaces_a_submission_or_lands_in_the_archive(tmp_path):
    from xltools.errors import OutputError

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    district = fill(ZHANGQIU, inbox / "市中区.xlsx").path  # any district's file
    before = district.read_bytes()
    opts = ConsolidateOptions(regions=["章丘区"], archive=str(tmp_path / "a"))
    with pytest.raises(OutputError) as err:
        consolidate(CITY, inbox, district, opts)
    assert "不能用汇总表覆盖" in err.value.message_zh and district.read_bytes() == before
    with pytest.raises(OutputError):
        consolidate(CITY, inbox, tmp_path / "a" / "汇总.xlsx", opts)
    consolidate(CITY, inbox, inbox / "汇总.xlsx", opts)  # a new file beside the submissions is fine …
    consolidate(CITY, inbox, inbox / "汇总.xlsx", opts)  # … and so is replacing that rollup next time


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_consolidation_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(10):
        shutil.copy(ZHANGQIU, inbox / f"章丘区_{i}.txt")
    script = f"""
import time, xltools.rollup.reading as reading
real = reading.read_file
def slow(*a, **k):
    time.sleep(30)
    return real(*a, **k)
reading.read_file = slow
from xltools.rollup import ConsolidateOptions, consolidate
consolidate({str(CITY)!r}, {str(inbox)!r}, None, ConsolidateOptions(use_archive=False, workers=2))
"""
    proc = subprocess.Popen([sys.executable, "-c", script])

    def children(pid):
        found = set()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            found |= {int(c) for c in (task / "children").read_text().split()}
        return found

    deadline = time.monotonic() + 60
    workers = set()
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = children(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()
             and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]]
    assert alive == []


def test_a_csv_cell_longer_than_the_csv_modules_default_is_read(tmp_path):
    path = tmp_path / "历城区.csv"
    long = "推动设备更新。" * 30_000  # 210,000 characters, over csv's 131,072
    path.write_text(f"序号,重点任务,工作内容,牵头单位,责任单位\n1,推动产业现代化改造,{long},区发改局,\n", encoding="utf-8")
    ledger = extract(path, region="历城区")
    # Over the limit of one cell (Excel's own 32,767 by default): cut there, and said where and by how much.
    assert ledger.rows[0].content == long[:32_767]
    cut = [p for p in ledger.problems if p.type == "cell-too-long"]
    assert [(p.line, p.severity) for p in cut] == [(2, "error")]
    assert cut[0].message.startswith("C列") and "210,000" in cut[0].message
    from xltools import limits

    before = limits.current()
    try:
        limits.configure(cell_chars=300_000)  # a limit raised reads the whole cell
        assert extract(path, region="历城区").rows[0].content == long
    finally:
        limits.configure(before)


def test_a_rebuild_from_the_archive_is_the_same_rollup_cell_for_cell(tmp_path):
    """Issue 10, item 5: on generated district files of every format (benchmarks/gen_districts.py), read by
    worker processes, with spellings learned across districts."""
    import subprocess
    import sys
    from pathlib import Path

    from python_calamine import CalamineWorkbook

    from xltools.rollup import consolidate_from_archive

    root = Path(__file__).resolve().parents[1]
    inbox = tmp_path / "inbox"
    subprocess.run([sys.executable, str(root / "benchmarks" / "gen_districts.py"), str(inbox), "40"], check=True,
                   capture_output=True)
    archive = str(tmp_path / "archive")
    first = consolidate(CITY, inbox, tmp_path / "a.xlsx", ConsolidateOptions(archive=archive))
    consolidate_from_archive(first.archive_run, tmp_path / "b.xlsx", archive=archive)
    a, b = CalamineWorkbook.from_path(str(tmp_path / "a.xlsx")), CalamineWorkbook.from_path(str(tmp_path / "b.xlsx"))
    assert a.sheet_names == b.sheet_names
    for name in a.sheet_names:
        assert a.get_sheet_by_name(name).to_python() == b.get_sheet_by_name(name).to_python(), name
    assert len(first.received) == 40 and sum(len(r.problems) for r in first.received) > 0


def test_the_next_write_removes_what_a_killed_run_left(tmp_path):
    import os
    import subprocess
    import sys

    from xltools.xlio import TEMP_PREFIX, atomic_write

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f"{TEMP_PREFIX}{int(dead.stdout)}-{'a' * 32}.xlsx"  # the process has ended
    live = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-{'b' * 32}.xlsx"  # a writer still at work (this one)
    other = tmp_path / ".~other.xlsx"
    for p in (left, live, other):
        p.write_bytes(b"partial")
    atomic_write(tmp_path / "out.xlsx", lambda tmp: open(tmp, "wb").write(b"done"))
    assert (tmp_path / "out.xlsx").read_bytes() == b"done"
    assert not left.exists() and live.exists() and other.exists()
