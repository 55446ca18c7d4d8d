"""Benchmark: consolidating 12, 300 and 3,000 district workbooks into the city rollup.

Two corpora (``--corpus keyed|freeform|both``): ``keyed``, mostly the city's distributed template with its keys
(``benchmarks/gen_districts.py``, cached in /tmp/xltools-bench/N/), and ``freeform``, ledgers districts wrote
themselves — no keys, reworded tasks, a 目标 column (``benchmarks/gen_freeform.py``, in
/tmp/xltools-bench/freeform/N/). For each corpus and size the inbox is generated once and, in the same run,
on the same files:

- xltools ``consolidate`` (workers=2, no archive), timed by phase as ``Rollup.timings`` reports them: prepare
  (city ledger, file list), read (every file into rows with lineage, python-calamine in worker processes),
  check (units, targets and mapping of every district, in the same workers), map + sum, write (the rollup);
- (a) the plain loop: ``pandas.read_excel(path, sheet_name=None, engine="openpyxl")`` per file;
- (b) the fastest raw reads: fastexcel → Arrow with 2 threads, and python-calamine ``to_python`` in a loop.

Each approach runs in a fresh process so that its peak memory is its own: the peak is the largest sum of
PSS over the process and its workers, sampled every 50 ms. The aims (issue 5): read phase ≥ ½ the fastest
raw read's throughput and ≥ 10× the plain loop; 3,000 workbooks end to end < 30 s; memory that does not
grow with N beyond the rows kept.

The aims of issue 13, on the free-form corpus: end to end within 4× of fastexcel's 2-thread read and at least
3× faster than the plain loop; the check phase no dearer than the read phase, and its CPU per file flat
from 300 to 3,000 files.

    python benchmarks/bench_consolidate.py [--corpus keyed] [--sizes 12,300,3000] [--skip-slow] [--repeat 1]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/xltools-bench")
CITY = HERE.parent / "tests" / "data" / "seeds" / "003_43a8c8a0029832b5.txt"  # 济南市 city ledger
SLOW_SUBSET = 300  # --skip-slow: the plain loop reads this many files and is extrapolated
AIM_SECONDS = 30.0
MB = 1024 * 1024


# ------------------------------------------------------------------------------------------------ inbox


CORPORA = {"keyed": "gen_districts.py", "freeform": "gen_freeform.py"}


def _root(n: int, corpus: str) -> Path:
    return CACHE / str(n) if corpus == "keyed" else CACHE / corpus / str(n)


def inbox(n: int, seed: int, corpus: str = "keyed") -> Path:
    """The generated inbox for n districts, reused while the generator and seed are unchanged."""
    root = _root(n, corpus)
    folder = root / "inbox"
    stamp = root / "generated.json"
    generator = HERE / CORPORA[corpus]
    want = {"n": n, "seed": seed, "generator": hashlib.sha256(generator.read_bytes()).hexdigest()}
    if stamp.is_file() and json.loads(stamp.read_text()) == want and folder.is_dir():
        return folder
    shutil.rmtree(root, ignore_errors=True)
    sys.path.insert(0, str(HERE))
    generate = __import__(generator.stem).generate

    start = time.perf_counter()
    generate(folder, n, seed=seed)
    print(f"generated {n} district files in {time.perf_counter() - start:.1f} s → {folder}", file=sys.stderr)
    stamp.write_text(json.dumps(want))
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())


def _subset(files: list[Path], k: int) -> list[Path]:
    """Every (n/k)-th file: the same mix of formats and kinds as the whole inbox."""
    step = max(1, len(files) // k)
    return files[::step][:k]


# ----------------------------------------------------------------------------------------------- memory


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass  # a worker that just ended
    return pids


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu() -> float:
    """CPU seconds of this process and its ended children: less disturbed than wall time on a shared machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakMemory(threading.Thread):
    """Largest PSS sum of this process and its children, per phase (PSS: pages shared with forked workers count once)."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval, self.phase, self.peaks = interval, "start", {}
        self._done = threading.Event()

    def sample(self) -> None:
        total = sum(_pss(p) for p in _tree(os.getpid()))
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), total)

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.sample()

    def stop(self) -> dict:
        self._done.set()
        self.join()
        self.sample()
        return {"peak_mb": max(self.peaks.values()) / MB, "phase_peak_mb": {k: v / MB for k, v in self.peaks.items()},
                "parent_hwm_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker_max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


# ------------------------------------------------------------------------------- measurements (children)


def run_xltools(folder: Path, out: Path, archive: bool) -> dict:
    from xltools.rollup import ConsolidateOptions, consolidate, writer
    from xltools.rollup.reading import Workers

    memory = PeakMemory()
    marks: dict[str, float] = {}
    read, check, write_rollup = Workers.read, Workers.check, writer.write_rollup

    def timed_read(self, items):  # the phase times come from rollup.timings; this marks memory phases
        memory.phase, marks["rss0"] = "read", _rss()
        read(self, items)
        memory.phase = "check"

    def timed_check(self):
        received = check(self)
        memory.phase, marks["rss1"] = "map", _rss()  # every district's rows, targets and problems, kept
        return received

    def timed_write(*args, **kwargs):
        memory.phase = "write"
        return write_rollup(*args, **kwargs)

    Workers.read, Workers.check, writer.write_rollup = timed_read, timed_check, timed_write
    tmp_archive = CACHE / "archive" if archive else None
    if tmp_archive:
        shutil.rmtree(tmp_archive, ignore_errors=True)
    options = ConsolidateOptions(workers=2, use_archive=archive, archive=str(tmp_archive) if archive else None)
    memory.phase = "prepare"
    memory.start()
    start, cpu = time.perf_counter(), _cpu()
    rollup = consolidate(CITY, folder, out, options)
    end, cpu = time.perf_counter(), _cpu() - cpu
    mem = memory.stop()
    t = rollup.timings
    rows = sum(len(r.ledger.rows) + len(r.ledger.goals) for r in rollup.received if r.ledger is not None)
    return {
        "errors": sum(1 for p in rollup.problems if p.severity == "error"), "problems": len(rollup.problems),
        "files": len(rollup.received) + len(rollup.superseded), "task_rows": rows,
        "unreadable": sum(1 for r in rollup.received if r.ledger is None),
        "mapped": sum(1 for m in rollup.mappings if m.mapped), "mappings": len(rollup.mappings),
        "seconds": end - start, "prepare": t["prepare"], "read": t["read"], "read_cpu": t["read_cpu"],
        "check": t["check"], "check_cpu": t["check_cpu"], "map_sum": t["map_sum"], "write": t["write"],
        "cpu": cpu, "out_mb": out.stat().st_size / MB,
        "kept_mb": (marks["rss1"] - marks["rss0"]) / MB, "base_mb": marks["rss0"] / MB, **mem,
    }


def _sheet_rows_csv(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return sum(1 for _ in csv.reader(f))


def run_pandas(files: list[Path]) -> dict:
    import pandas as pd

    memory = PeakMemory()
    memory.start()
    start, cpu = time.perf_counter(), _cpu()
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            pd.read_csv(path, header=None)
        elif suffix in (".xls", ".ods"):  # neither xlrd nor odfpy is installed: pandas' calamine engine
            pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
        else:
            pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"files": len(files), "seconds": seconds, "cpu": cpu, **memory.stop()}


def run_fastexcel(files: list[Path]) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import fastexcel
    import pyarrow.csv as pacsv

    def load(path: Path) -> int:
        if path.suffix.lower() == ".csv":
            return pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True)).num_rows
        return fastexcel.read_excel(str(path)).load_sheet(0, header_row=None).to_arrow().num_rows

    memory = PeakMemory()
    memory.start()
    start, cpu = time.perf_counter(), _cpu()
    with ThreadPoolExecutor(2) as pool:
        rows = sum(pool.map(load, files))
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"files": len(files), "seconds": seconds, "cpu": cpu, "sheet_rows": rows, **memory.stop()}


def run_calamine(files: list[Path]) -> dict:
    from python_calamine import CalamineWorkbook

    memory = PeakMemory()
    memory.start()
    start, cpu = time.perf_counter(), _cpu()
    rows = 0
    for path in files:
        if path.suffix.lower() == ".csv":
            rows += _sheet_rows_csv(path)
        else:
            rows += len(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python())
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"files": len(files), "seconds": seconds, "cpu": cpu, "sheet_rows": rows, **memory.stop()}


def _cells(path: Path) -> int:
    """What any reader producing Python rows must do: the ledger sheet and the _xltools sheet, every cell to text."""
    from xltools.readers.workbook import META_SHEET, open_workbook, sheet_values

    if path.suffix.lower() == ".csv":
        return _sheet_rows_csv(path)
    book = open_workbook(path)
    rows = sheet_values(book, next(n for n in book.sheet_names if n != META_SHEET))
    if META_SHEET in book.sheet_names:
        sheet_values(book, META_SHEET)
    return len(rows)


def run_calamine_cells(files: list[Path]) -> dict:
    """(c) The floor of a Python-rows reader: python-calamine cells to text in 2 processes, nothing parsed or kept."""
    from concurrent.futures import ProcessPoolExecutor

    memory = PeakMemory()
    memory.start()
    start, cpu = time.perf_counter(), _cpu()
    with ProcessPoolExecutor(2) as pool:
        rows = sum(pool.map(_cells, files, chunksize=32))
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"files": len(files), "seconds": seconds, "cpu": cpu, "sheet_rows": rows, **memory.stop()}


def child(kind: str, n: int, limit: int | None, archive: bool, corpus: str) -> dict:
    folder = _root(n, corpus) / "inbox"
    files = _files(folder)
    if limit:
        files = _subset(files, limit)
    if kind == "xltools":
        return run_xltools(folder, _root(n, corpus) / "rollup.xlsx", archive)
    return {"pandas": run_pandas, "fastexcel": run_fastexcel, "calamine": run_calamine,
            "cells": run_calamine_cells}[kind](files)


def measure(kind: str, n: int, *, limit: int | None = None, archive: bool = False, corpus: str = "keyed") -> dict:
    """Run one approach once, in a fresh process (its own peak memory)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--sizes", str(n), "--corpus", corpus]
    if limit:
        cmd += ["--limit", str(limit)]
    if archive:
        cmd.append("--archive")
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    process = time.perf_counter() - start  # the whole process, as a clerk waits for it: start and imports too
    if done.returncode:
        raise RuntimeError(f"{kind} N={n} failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_seconds": process}


# -------------------------------------------------------------------------------------------- reporting


def _warm(files: list[Path]) -> None:
    for path in files:  # every approach reads from the page cache, none pays for the first read
        path.read_bytes()


def bench_size(n: int, args, corpus: str = "keyed") -> dict:
    folder = inbox(n, args.seed, corpus)
    files = _files(folder)
    _warm(files)
    slow_limit = SLOW_SUBSET if args.skip_slow and n > SLOW_SUBSET else None
    res = {"n": n, "corpus": corpus, "formats": {}, "load_before": os.getloadavg()[0]}
    for p in files:
        res["formats"][p.suffix] = res["formats"].get(p.suffix, 0) + 1
    # Repeats are interleaved (xltools, fastexcel, calamine, xltools, …) so that a machine that slows down
    # for a while slows every approach alike; each approach's fastest run is kept, and the read phase is
    # also compared with the fastexcel run next to it (``paired``).
    runs: dict[str, list[dict]] = {"xltools": [], "fastexcel": [], "calamine": [], "cells": []}
    for r in range(args.repeat):
        for kind in runs:
            print(f"{corpus} N={n}: {kind} ({r + 1}/{args.repeat}) …", file=sys.stderr)
            runs[kind].append(measure(kind, n, archive=args.archive, corpus=corpus))
    for kind, done in runs.items():
        res[kind] = min(done, key=lambda run: run["seconds"])
    res["paired"] = sorted(f["seconds"] / x["read"] for x, f in zip(runs["xltools"], runs["fastexcel"], strict=True))
    print(f"{corpus} N={n}: pandas …", file=sys.stderr)
    res["pandas"] = measure("pandas", n, limit=slow_limit, archive=args.archive, corpus=corpus)
    pandas = res["pandas"]
    pandas["extrapolated"] = pandas["files"] < n
    pandas["seconds_n"] = pandas["seconds"] * n / pandas["files"]
    pandas["cpu_n"] = pandas["cpu"] * n / pandas["files"]
    res["sheet_rows"] = res["calamine"]["sheet_rows"]
    res["load_after"] = os.getloadavg()[0]
    return res


def _row(n: int, name: str, seconds: float, cpu: float | None, rows: int, peak: float | None, note: str = "") -> str:
    cpu_s = f"{cpu:,.2f}" if cpu is not None else "–"
    peak_s = f"{peak:,.0f}" if peak is not None else "–"
    return (f"| {n:,} | {name} | {seconds:,.2f} | {cpu_s} | {n / seconds:,.0f} | {rows / seconds:,.0f} | {peak_s} |"
            f" {note} |")


def _fastest(r: dict) -> tuple[str, dict]:
    if r["fastexcel"]["seconds"] <= r["calamine"]["seconds"]:
        return "fastexcel, 2 threads", r["fastexcel"]
    return "python-calamine loop", r["calamine"]


def report(results: list[dict]) -> str:
    lines = ["| N | approach | wall s | CPU s | workbooks/s | sheet rows/s | peak MB | note |",
             "|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        n, x, p, rows = r["n"], r["xltools"], r["pandas"], r["sheet_rows"]
        phase = x["phase_peak_mb"]
        lines.append(_row(n, "xltools read phase (2 workers)", x["read"], x["read_cpu"], rows, phase.get("read"),
                          f"{rows:,} sheet rows → {x['task_rows']:,} task/goal rows"))
        lines.append(_row(n, "xltools check phase (2 workers)", x["check"], x["check_cpu"], rows, phase.get("check"),
                          "units, targets, mapping of every district"))
        lines.append(_row(n, "xltools map + sum", x["map_sum"], None, rows, phase.get("map"),
                          f"{x['mapped']:,} of {x['mappings']:,} rows mapped"))
        lines.append(_row(n, "xltools write rollup", x["write"], None, rows, phase.get("write"),
                          f"{x['out_mb']:.1f} MB workbook"))
        lines.append(_row(n, "**xltools end to end**", x["seconds"], x["cpu"], rows, x["peak_mb"],
                          f"prepare {x['prepare']:.2f} s"))
        lines.append(_row(n, "(a) pandas.read_excel, openpyxl, loop", p["seconds_n"], p["cpu_n"], rows, p["peak_mb"],
                          f"extrapolated from {p['files']} files" if p["extrapolated"] else ""))
        for key, name in (("fastexcel", "(b) fastexcel → Arrow, 2 threads"),
                          ("calamine", "(b) python-calamine to_python, loop"),
                          ("cells", "(c) python-calamine, both sheets to text, 2 processes")):
            lines.append(_row(n, name, r[key]["seconds"], r[key]["cpu"], rows, r[key]["peak_mb"]))
    lines += ["", "| N | read phase vs plain loop (aim ≥ 10×) | read phase vs fastest raw read (aim ≥ 0.5) | "
              "read phase vs (c) | end to end (aim: 3,000 in < 30 s) | rows kept MB | peak − base − kept MB |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        x, p = r["xltools"], r["pandas"]
        name, fastest = _fastest(r)
        r["ratios"] = {"read_vs_loop": p["seconds_n"] / x["read"], "read_vs_fastest": fastest["seconds"] / x["read"],
                       "fastest": name, "working_mb": x["peak_mb"] - x["base_mb"] - x["kept_mb"]}
        q = r["ratios"]
        aim = f"{x['seconds']:.1f} s" + (f" ({'meets' if x['seconds'] < AIM_SECONDS else 'misses'} the aim)"
                                           if r["n"] == 3000 else f" (≈ {x['seconds'] * 3000 / r['n']:.0f} s per 3,000)")
        paired = r["paired"]
        pairs = f"; run by run {paired[0]:.2f}–{paired[-1]:.2f}" if len(paired) > 1 else ""
        lines.append(f"| {r['n']:,} | {q['read_vs_loop']:.1f}× | {q['read_vs_fastest']:.2f} ({name}{pairs}) | "
                     f"{r['cells']['seconds'] / x['read']:.2f} | {aim} | "
                     f"{x['kept_mb']:.0f} | {q['working_mb']:.0f} |")
    if len(results) > 1:
        small, big = results[0], results[-1]
        growth = big["ratios"]["working_mb"] - small["ratios"]["working_mb"]
        per_file = (big["xltools"]["kept_mb"] - small["xltools"]["kept_mb"]) / (big["n"] - small["n"]) * 1024
        flat = growth < 0.1 * big["xltools"]["peak_mb"] + 50
        workers = " → ".join(f"{r['xltools']['worker_max_rss_mb']:.0f}" for r in results)
        lines += ["", f"Memory: from N={small['n']:,} to N={big['n']:,} the rows kept grow by {per_file:.0f} KB per "
                  f"workbook; the rest of the peak (peak − base − kept) changes by {growth:+.0f} MB "
                  f"({growth * 1024 / (big['n'] - small['n']):.0f} KB per workbook; largest worker RSS {workers} MB): "
                  + ("no more than a fixed allowance (10% of the peak + 50 MB) beyond the rows kept." if flat
                     else "it GROWS with N beyond the rows kept.")]
    loads = ", ".join(f"{r['load_before']:.1f}→{r['load_after']:.1f}" for r in results)
    lines += ["", f"Load average (1 min) before→after each size: {loads} (other work on the machine inflates wall times; "
              "CPU s is less affected)."]
    return "\n".join(lines)


def issue13(results: list[dict]) -> str:
    """The aims of issue 13 (for the free-form corpus; printed for both), all from the same run."""
    lines = ["| N | end to end s | read s | check s | write s | fastexcel 2 threads s | plain loop s | "
             "end to end ÷ fastexcel (aim ≤ 4) | plain loop ÷ end to end (aim ≥ 3) | check ÷ read (aim ≤ 1) | "
             "check CPU ms per file | errors / problems | whole processes: xltools ÷ fastexcel |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        x, f, p = r["xltools"], r["fastexcel"], r["pandas"]
        loop = f"{p['seconds_n']:.2f}" + (" (extrapolated)" if p["extrapolated"] else "")
        lines.append(f"| {r['n']:,} | {x['seconds']:.2f} | {x['read']:.2f} | {x['check']:.2f} | {x['write']:.2f} | "
                     f"{f['seconds']:.2f} | {loop} | {x['seconds'] / f['seconds']:.1f} | "
                     f"{p['seconds_n'] / x['seconds']:.1f} | {x['check'] / x['read']:.2f} | "
                     f"{x['check_cpu'] / r['n'] * 1000:.1f} | {x.get('errors', 0):,} / {x.get('problems', 0):,} | "
                     f"{x['process_seconds']:.2f} ÷ {f['process_seconds']:.2f} = "
                     f"{x['process_seconds'] / f['process_seconds']:.1f} |")
    if len(results) > 1:
        per_file = [r["xltools"]["check_cpu"] / r["n"] for r in results]
        lines += ["", f"Check CPU per file from N={results[0]['n']:,} to N={results[-1]['n']:,}: "
                  f"×{per_file[-1] / per_file[0]:.2f}" + (" (flat: within 1.3×)" if per_file[-1] <= 1.3 * per_file[0]
                                                          else " (it GROWS with N)")]
    return "\n".join(lines)


def machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    from importlib.metadata import version

    git = subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"], capture_output=True,
                         text=True, check=False).stdout.strip()
    return (f"xltools {git or '?'}; {os.cpu_count()} cores ({cpu}), {mem:.0f} GB, Python {platform.python_version()}, "
            f"python-calamine {version('python-calamine')}, fastexcel {version('fastexcel')}, "
            f"pandas {version('pandas')}, openpyxl {version('openpyxl')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="12,300,3000", help="inbox sizes, comma-separated")
    parser.add_argument("--corpus", choices=("keyed", "freeform", "both"), default="keyed",
                        help="the distributed template (keyed), districts' own ledgers (freeform), or both")
    parser.add_argument("--skip-slow", action="store_true",
                        help=f"the plain pandas loop reads {SLOW_SUBSET} files of a larger inbox and is extrapolated")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per approach, interleaved, fastest kept (not the plain loop)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--archive", action="store_true", help="consolidate with the archive (in a scratch folder)")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.child:
        print(json.dumps(child(args.child, sizes[0], args.limit, args.archive, args.corpus)))
        return 0
    corpora = ("keyed", "freeform") if args.corpus == "both" else (args.corpus,)
    results = {corpus: [bench_size(n, args, corpus) for n in sizes] for corpus in corpora}
    table = "\n\n".join(f"### {corpus} corpus\n\n{report(done)}\n\n{issue13(done)}"
                          for corpus, done in results.items())
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"{date.today().isoformat()}, {machine()}\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
