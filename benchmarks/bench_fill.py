"""Benchmark: filling the ledger template with a long plan, against openpyxl's own ``merge_cells``.

``fill`` merges a band row's span for every section and field heading and each multi-row task's number and name
down its rows. openpyxl's ``Worksheet.merge_cells`` checks each new range against every range merged before, so
a long ledger's merges cost time quadratic in their number; ``xlio.merge`` adds the range directly (the filler's
ranges never overlap). The baseline, measured in the same run on the same ledger: the same ``fill`` with
``xlio.merge`` replaced by ``ws.merge_cells``. Each figure is the best of ``--repeat`` runs; the two workbooks
are compared (their merged ranges and every cell's value) so the speed is not bought with a different result.

Data: the 济南市 city ledger seed (60 tasks, 8 goals, its actions and fields) repeated n times, numbered on.

    python benchmarks/bench_fill.py [--sizes 600,4200,12000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from openpyxl import load_workbook

from xltools import extract, fill, filler

CITY = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds" / "003_43a8c8a0029832b5.txt"


def long_ledger(rows: int):
    city = extract(CITY)
    out = replace(city, rows=[], goals=list(city.goals))
    k = 0
    while len(out.rows) < rows:
        for r in city.rows:
            k += 1
            out.rows.append(replace(r, seq=k))
            if len(out.rows) == rows:
                break
    return out


def openpyxl_merge(ws, first_row, first_col, last_row, last_col):
    ws.merge_cells(start_row=first_row, start_column=first_col, end_row=last_row, end_column=last_col)


def timed(ledger, out: Path, repeat: int, merge) -> float:
    best = float("inf")
    ours = filler.merge
    filler.merge = merge
    try:
        for _ in range(repeat):
            out.unlink(missing_ok=True)
            start = time.perf_counter()
            fill(ledger, out)
            best = min(best, time.perf_counter() - start)
    finally:
        filler.merge = ours
    return best


def content(path: Path):
    ws = load_workbook(path)["工作台账"]
    return sorted(str(m) for m in ws.merged_cells.ranges), [[c.value for c in row] for row in ws.iter_rows()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="600,4200,12000")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"{'rows':>7} {'merges':>7} {'openpyxl merge_cells':>21} {'xlio.merge':>11} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            ledger = long_ledger(n)
            base, ours = Path(tmp) / f"base{n}.xlsx", Path(tmp) / f"ours{n}.xlsx"
            slow = timed(ledger, base, args.repeat, openpyxl_merge)
            fast = timed(ledger, ours, args.repeat, filler.merge)
            same = content(base) == content(ours)
            merges = len(content(ours)[0])
            print(f"{n:>7} {merges:>7} {slow:>20.2f}s {fast:>10.2f}s {slow / fast:>6.1f}×"
                  + ("" if same else "  DIFFERENT RESULT"))


if __name__ == "__main__":
    main()
