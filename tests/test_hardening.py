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


# ------------------------------------------------------------------------- runs killed, rebuilt (issue 10)


def _generated(folder, n, seed=1):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(root / "benchmarks" / "gen_districts.py"), str(folder), str(n),
                    "--seed", str(seed)], check=True, capture_output=True)
    return sorted(folder.iterdir())


def _archive_is_sound(root):
    """The index passes sqlite's integrity check and every archived object still has its sha256."""
    import sqlite3

    from xltools.archive import sha256_of

    db = sqlite3.connect(root / "index.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        listed = {sha for (sha,) in db.execute("SELECT sha256 FROM objects")}
        inputs = {sha for (sha,) in db.execute("SELECT sha256 FROM run_inputs UNION SELECT sha256 FROM submissions")}
    finally:
        db.close()
    stored = {p.name: p for p in (root / "objects").glob("*/*") if len(p.name) == 64}
    assert all(sha256_of(path) == sha for sha, path in stored.items())
    assert listed <= set(stored) and inputs <= set(stored)  # nothing the index names is missing
    return len(stored)


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="SIGKILL and /proc")
def test_a_consolidation_killed_in_any_phase_leaves_the_rollup_and_the_archive_sound(tmp_path):
    """Issue 10, item 6: SIGKILL while reading, checking, archiving and writing (each found by its evidence:
    the phase logged with -v, a new archived object, the rollup's temporary file), then a normal run."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    from xltools.archive import Archive
    from xltools.xlio import TEMP_PREFIX

    files = _generated(tmp_path / "all", 40)
    inbox, archive, out = tmp_path / "inbox", tmp_path / "archive", tmp_path / "汇总.xlsx"
    inbox.mkdir()
    for path in files[:20]:  # the previous rollup has half the districts; the killed runs bring the rest
        path.rename(inbox / path.name)
    command = [sys.executable, "-m", "xltools", "-v", "consolidate", str(CITY), str(inbox), "-o", str(out),
               "--archive", str(archive), "--workers", "2"]
    assert subprocess.run(command, capture_output=True).returncode in (0, 1)
    before = out.read_bytes()
    with Archive(archive, create=False) as store:
        [previous] = store.runs(complete=True)
    for path in files[20:]:
        path.rename(inbox / path.name)

    def objects():
        return sum(1 for p in (archive / "objects").glob("*/*") if len(p.name) == 64)

    def temporaries():
        return list(tmp_path.glob(f"{TEMP_PREFIX}*"))

    stored = objects()
    points = {  # phase → whether its evidence is there, given the log lines so far
        "read": lambda log: "phase prepare done" in log,
        "check": lambda log: "phase read done" in log,
        "archive": lambda log: "phase check done" in log and objects() > stored,
        "write": lambda log: bool(temporaries()),
    }
    for phase, seen in points.items():
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(iter(proc.stderr.readline, ""),), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not seen("".join(lines)) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(5)
        assert proc.returncode == -signal.SIGKILL, (phase, "".join(lines))  # killed, not finished
        assert out.read_bytes() == before, phase
        _archive_is_sound(archive)
        with Archive(archive, create=False) as store:
            assert store.runs(complete=True) == [previous], phase
            if phase == "write":  # recorded before writing, never completed
                assert len(store.runs(complete=False)) == 1
    assert objects() > stored  # the archiving run was killed part way, or after
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    assert out.read_bytes() != before and temporaries() == []  # the killed writer's file is cleaned up
    assert _archive_is_sound(archive) == stored + 20
    listed = subprocess.run([sys.executable, "-m", "xltools", "consolidate", "--list-runs", "--archive",
                             str(archive)], capture_output=True, text=True, check=True).stdout.splitlines()
    complete = [line.split()[0] for line in listed if "未完成" not in line]
    incomplete = [line.split()[0] for line in listed if "未完成" in line]
    with Archive(archive, create=False) as store:
        assert complete == [previous, *store.runs(complete=True)[1:]] and len(complete) == 2
        assert incomplete == store.runs(complete=False) and len(incomplete) == 1


def _typed_cells(path):
    """Every cell of every sheet, with its type: 1 and 1.0 and "1" are different cells."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return {name: [[(type(v).__name__, v) for v in row] for row in wb.get_sheet_by_name(name).to_python()]
            for name in wb.sheet_names}


def _rebuild_elsewhere(run, archive, out, seed):
    """``--from-archive`` in another process, with another string hash seed: set and dict orders differ there."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    done = subprocess.run([sys.executable, "-m", "xltools", "consolidate", "--from-archive", run, "--archive",
                           str(archive), "-o", str(out)], capture_output=True, text=True, env=env)
    assert done.returncode in (0, 1), done.stderr
    return out


def _assert_same_rollup(a, b):
    first, second = _typed_cells(a), _typed_cells(b)
    assert list(first) == list(second)
    for name in first:
        assert len(first[name]) == len(second[name]), name
        differ = [i for i, (x, y) in enumerate(zip(first[name], second[name])) if x != y]
        assert differ == [], (name, len(differ), first[name][differ[0]], second[name][differ[0]])


# Two frequent spellings a rare one is one character off from, a long form written two ways (a space inside),
# and a short form: what was learned depended on which district's file was read first.
A, B, TYPO = "区工业信息化和科技局", "区工业信息化和科研局", "区工业信息化和科枝局"


def test_learned_spellings_do_not_depend_on_the_order_of_districts():
    from itertools import permutations

    from xltools.units.learn import learn_across, learn_spellings

    districts = [[A] * 3 + [TYPO], [B] * 3, ["区住房 城乡建设局"] * 2, ["区住房城乡建设局"] * 2, ["区住建局"]]
    seen = set()
    for order in permutations(districts):
        learned = learn_across(order)
        seen.add(tuple((k, c.status, c.canonical, tuple(c.suggestions), c.message) for k, c in learned.items()))
    assert len(seen) == 1
    learned = learn_across(districts)
    assert learned[TYPO].suggestions == [A]  # the two are as frequent: the first by name, whatever the order
    assert learned["区住建局"].canonical == "区住房城乡建设局"  # as often as with a space: the form without
    within = {tuple(sorted(learn_spellings(names).items(), key=str)).__repr__()
              for names in ([A] * 3 + [B] * 3 + [TYPO], [B] * 3 + [TYPO] + [A] * 3)}
    assert len(within) == 1


def test_a_rebuild_reads_the_districts_in_another_order_and_gives_the_same_rollup(tmp_path):
    """The inbox lists files by name, the archive by district: learned spellings, superseded files and their
    notes must come out the same (the original and the rebuild in processes with different hash seeds)."""
    import csv
    import os
    import subprocess
    import sys
    import time

    rows = extract(ZHANGQIU).rows[:12]

    def district(path, lead, extra=()):
        with path.open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["序号", "重点任务", "工作内容", "牵头单位", "责任单位"])
            for i, (row, unit) in enumerate(zip(rows, lead), 1):
                out.writerow([i, row.task, row.content, unit, "、".join(extra)])

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # File names sort the other way round from district names (长 after 历 in code points).
    district(inbox / "1_长清区_台账.csv", [A, A, A, TYPO, "区住建局"])
    district(inbox / "2_历城区_台账.csv", [B, B, B, "区住房 城乡建设局", "区住房 城乡建设局"])
    district(inbox / "3_平阴县_台账.csv", ["区住房城乡建设局"] * 2 + [A, B])
    district(inbox / "0_平阴县_旧版.csv", ["区住房城乡建设局"] * 3)  # superseded by the newer one
    district(inbox / "4_历城区_更早.csv", [A, B])  # A and B are written as often
    now = time.time()
    for i, path in enumerate(sorted(inbox.iterdir())):
        os.utime(path, (now - 3600 * (i + 1) if "旧版" in path.name or "更早" in path.name else now - i,) * 2)
    archive, first = tmp_path / "archive", tmp_path / "汇总.xlsx"
    env = {**os.environ, "PYTHONHASHSEED": "1"}
    made = subprocess.run([sys.executable, "-m", "xltools", "consolidate", str(CITY), str(inbox), "-o", str(first),
                           "--archive", str(archive), "--regions", "长清区,历城区,平阴县", "--json"],
                          capture_output=True, text=True, env=env)
    assert made.returncode == 1, made.stderr
    import json

    summary = json.loads(made.stdout)
    typo = [p for p in summary["problems"] if p["type"] == "unit-rare-spelling" and TYPO in p["message"]]
    assert [(p["file"], p["suggestion"]) for p in typo] == [("1_长清区_台账.csv", A)]  # a tie: by name
    superseded = [p["file"] for p in summary["problems"] if p["type"] == "superseded-file"]
    assert sorted(superseded) == ["0_平阴县_旧版.csv", "4_历城区_更早.csv"]
    _assert_same_rollup(first, _rebuild_elsewhere(summary["archive_run"], archive, tmp_path / "重出.xlsx", 2))


def test_the_demo_rollup_is_rebuilt_cell_for_cell(tmp_path):
    """``make demo``: the bundled sample plans filled, then consolidated against the sample city ledger."""
    from pathlib import Path

    samples = Path(__file__).resolve().parents[1] / "workbooks" / "samples"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for region in ("市中区", "章丘区"):
        fill(samples / f"{region}_工作方案.txt", inbox / f"{region}_工作台账.xlsx")
    archive, out = tmp_path / "archive", tmp_path / "济南市_汇总.xlsx"
    rollup = consolidate(samples / "济南市_工作台账.txt", inbox, out, ConsolidateOptions(archive=str(archive)))
    assert [r.region for r in rollup.received] == ["市中区", "章丘区"]
    _assert_same_rollup(out, _rebuild_elsewhere(rollup.archive_run, archive, tmp_path / "重出.xlsx", 7))


def test_three_hundred_generated_districts_are_rebuilt_cell_for_cell(tmp_path):
    """Issue 10, item 7: 300 generated files of every format, read by worker processes, most of them checked
    with spellings learned across districts; the rebuild runs in another process."""
    inbox = tmp_path / "inbox"
    _generated(inbox, 300)
    archive, out = tmp_path / "archive", tmp_path / "汇总.xlsx"
    rollup = consolidate(CITY, inbox, out, ConsolidateOptions(archive=str(archive)))
    assert len(rollup.received) == 300
    assert sum(p.type == "unit-inconsistent-form" for p in rollup.problems) > 100  # learned, not looked up
    _assert_same_rollup(out, _rebuild_elsewhere(rollup.archive_run, archive, tmp_path / "重出.xlsx", 12345))


def test_refill_and_distribute_write_hostile_city_text_as_text(tmp_path):
    """The doors issue 11 added, and re-fill: a city ledger whose text is hostile stays text in every workbook."""
    import xltools

    src = _district_csv(tmp_path / "济南市_台账.csv", PAYLOADS)
    filled = fill(src, tmp_path / "济南市_工作台账.xlsx", region="济南市").path
    refilled = fill(src, tmp_path / "济南市_工作台账_更新.xlsx", template=filled, region="济南市").path
    result = xltools.distribute(src, tmp_path / "分发", regions="市中区,章丘区", city="济南市")
    outputs = [refilled, result.manifest, *(d.path for d in result.files)]
    for out in outputs:
        assert _formula_cells(out) == [], out
    texts = _texts(result.files[0].path)
    assert '=HYPERLINK("http://x","y")' in texts and "@SUM(1+1)" in texts
