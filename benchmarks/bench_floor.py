"""Benchmark: the floor under issue 13's first aim, measured on the free-form corpus in one run.

Issue 13 asks that a consolidation of districts' own ledgers take, end to end, at most 4× fastexcel's 2-thread
read of the same files. This measures, in the same run and on the same files, what any consolidation that keeps
every district row in the rollup must spend whatever its code, and sets it against that budget:

- (c) reading: python-calamine, every sheet of every file to text in 2 processes, nothing parsed or kept
  (``bench_consolidate.py``'s reader floor);
- the rows of the rollup's 映射 and 明细 (every district row, as xltools wrote them, read back with
  python-calamine) made into the least sheet XML that holds them: one ``str.format`` a row, no cell or row
  numbers, no heights, no escaping, on one core (``format``);
- that XML deflated by zlib at its fastest level on one core (``deflate``; xlsx is a zip of deflated parts).

Shared perfectly over the 2 cores, the floor is (c) + (format + deflate) / 2, before a row is parsed, checked,
mapped, summed or laid out. What is left of the budget is then divided by the district rows: the CPU a row may
take for everything else.

    python benchmarks/bench_floor.py [--sizes 300,3000]
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_consolidate as bc  # noqa: E402  (the corpus, the isolated runs and the machine line)

SHEETS = ("映射", "明细")  # the rollup sheets holding every district row
CHUNK = 2000  # rows a chunk, as the writer streams them


def _rows(rollup: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(rollup))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in SHEETS}


def _minimal_xml(rows: list[list]) -> list[bytes]:
    """The least XML of ``rows``: each cell its value and one style, row by row, one template call a row."""
    width = max(map(len, rows), default=0)
    cell = '<c s="4" t="inlineStr"><is><t>{}</t></is></c>'
    template = ("<row>" + cell * width + "</row>").format
    chunks = []
    for at in range(0, len(rows), CHUNK):
        chunk = rows[at:at + CHUNK]
        chunks.append("".join([template(*row, *([""] * (width - len(row)))) for row in chunk]).encode())
    return chunks


def floor(n: int, seed: int) -> dict:
    folder = bc.inbox(n, seed, "freeform")
    bc._warm(bc._files(folder))
    runs = {}
    for kind in ("fastexcel", "cells", "xltools"):
        print(f"freeform N={n}: {kind} …", file=sys.stderr)
        runs[kind] = bc.measure(kind, n, corpus="freeform")
    rollup = bc._root(n, "freeform") / "rollup.xlsx"
    sheets = _rows(rollup)
    cells = sum(len(row) for rows in sheets.values() for row in rows)
    rows = sum(len(rows) for rows in sheets.values())

    start = time.process_time()
    xml = [chunk for rows_ in sheets.values() for chunk in _minimal_xml(rows_)]
    fmt = time.process_time() - start
    start = time.process_time()
    for chunk in xml:  # one stream a sheet in an xlsx; chunks of one stream here, the same work
        zlib.compressobj(1, zlib.DEFLATED, -15).compress(chunk)
    deflate = time.process_time() - start

    budget = 4 * runs["fastexcel"]["seconds"]
    floor_s = runs["cells"]["seconds"] + (fmt + deflate) / 2
    task_rows = runs["xltools"]["task_rows"]
    return {"n": n, "budget": budget, "fastexcel": runs["fastexcel"]["seconds"], "cells": runs["cells"]["seconds"],
            "format": fmt, "deflate": deflate, "floor": floor_s, "xml_mb": sum(map(len, xml)) / bc.MB,
            "sheet_cells": cells, "sheet_rows": rows, "task_rows": task_rows, "xltools": runs["xltools"]["seconds"],
            "left_us_per_row": (budget - floor_s) * 2 / task_rows * 1e6,
            "allowance_us": budget * 2 / task_rows * 1e6,
            "floor_cpu_us": (runs["cells"]["cpu"] + fmt + deflate) / task_rows * 1e6,
            "xltools_cpu_us": runs["xltools"]["cpu"] / task_rows * 1e6,
            "phases_cpu_us": {k: runs["xltools"][k] / task_rows * 1e6 for k in ("read_cpu", "check_cpu")}}


def report(results: list[dict]) -> str:
    lines = ["| N | district rows | 映射 + 明细: rows, cells, least XML MB | budget: 4 × fastexcel s | (c) read s | "
             "format s (1 core) | deflate s (1 core) | floor s | floor ÷ budget | CPU left a district row µs | "
             "xltools end to end s |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['task_rows']:,} | {r['sheet_rows']:,}, {r['sheet_cells']:,}, "
                     f"{r['xml_mb']:.0f} | {r['budget']:.2f} | {r['cells']:.2f} | {r['format']:.2f} | "
                     f"{r['deflate']:.2f} | {r['floor']:.2f} | {r['floor'] / r['budget']:.2f} | "
                     f"{r['left_us_per_row']:.1f} | {r['xltools']:.2f} |")
    lines += ["", "| N | CPU a district row within the aim µs (budget × 2 cores) | the floor's CPU a row µs | "
              "xltools' CPU a row µs (all processes) | of it: read phase | check phase | xltools ÷ allowance |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['allowance_us']:.1f} | {r['floor_cpu_us']:.1f} | {r['xltools_cpu_us']:.1f} | "
                     f"{r['phases_cpu_us']['read_cpu']:.1f} | {r['phases_cpu_us']['check_cpu']:.1f} | "
                     f"{r['xltools_cpu_us'] / r['allowance_us']:.1f} |")
    lines += ["", "floor = (c) + (format + deflate) / 2: reading, and the rollup's rows as the least XML, deflated, "
              "shared perfectly over 2 cores. CPU left a district row = (budget − floor) × 2 cores ÷ district rows: "
              "what parsing, checking units and targets, mapping, summing and laying out each row may cost within "
              "the aim (negative: the aim is below the floor)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,3000", help="inbox sizes, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    results = [floor(int(s), args.seed) for s in args.sizes.split(",") if s.strip()]
    print(f"{date.today().isoformat()}, {bc.machine()}\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
