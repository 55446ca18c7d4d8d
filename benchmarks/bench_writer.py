"""Benchmark: writing the rollup workbook, against xlsxwriter's constant_memory floor for the same cells.

xltools streams the rows of the growing sheets (问题清单, 映射, the district sheets or 明细) as XML into the
package xlsxwriter wrote for the rest (``xltools/rollup/writer.py``). The floor, measured in the same run on
the same Rollup: the same writer code with every row written through xlsxwriter's own cell writers in
``constant_memory`` mode (``_Writer(stream=False)`` on a constant_memory Workbook) — the same cells, formats
and row heights, the fastest way xlsxwriter itself offers. Each figure is the best of ``--repeat`` runs.

Data: the 济南市 city ledger seed (60 tasks, 8 goals) as city; n districts that copied its rows (60 each,
one in 17 unmapped, one in 23 mapped to two tasks) with a problem at every row (four types, so the
问题清单 groups them: 4 lines a district), three target comparisons. 40 districts or fewer get a sheet each,
more share 明细.

    python benchmarks/bench_writer.py [--sizes 30,300,3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from datetime import datetime
from pathlib import Path

from xltools import extract
from xltools.model import Goal, Ledger, Origin, TaskRow
from xltools.printing import DEFAULT_FONT
from xltools.problems import Problem, group_problems
from xltools.rollup import writer
from xltools.rollup.model import Mapping, Received, Rollup, TargetComparison

CITY = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds" / "003_43a8c8a0029832b5.txt"
PROBLEM_TYPES = (("unit-unknown", "error", "牵头单位“{}”不在本区单位名录中"),
                 ("unit-alias", "warning", "“{}”是简称，应写全称"),
                 ("target-unit-missing", "warning", "目标数值“{}”缺少计量单位"),
                 ("unmapped-row", "info", "第{}行未对应到市级任务，请在“映射”表中填写市级任务序号"))


def make_rollup(n: int, base: Path) -> Rollup:
    city = extract(CITY)
    seqs = [r.seq for r in city.rows]
    received, mappings, problems = [], [], []
    for d in range(n):
        region = f"第{d + 1}区"
        name = f"{region}工作台账.xlsx"
        ledger = Ledger(title=f"{region}工作台账", region=region, level="区县")
        for g, goal in enumerate(city.goals):
            ledger.goals.append(Goal(goal.year, goal.text, ["区发展改革局"], Origin(name, "工作台账", 3 + g)))
        first = 3 + len(city.goals)
        for i, src in enumerate(city.rows):
            row = TaskRow(i + 1, src.task, src.content, [u.replace("市", "区", 1) for u in src.lead_units],
                          [u.replace("市", "区", 1) for u in src.responsible_units], src.section, src.subsection,
                          Origin(name, "工作台账", first + i))
            ledger.rows.append(row)
            if i % 17 == 5:
                mappings.append(Mapping(region, row, [], 0.3, "none", name))
            elif i % 23 == 7:
                mappings.append(Mapping(region, row, [src.seq, seqs[(i + 1) % len(seqs)]], 0.72, "similarity", name))
            else:
                mappings.append(Mapping(region, row, [src.seq], 1.0, "key", name))
            kind, severity, message = PROBLEM_TYPES[i % len(PROBLEM_TYPES)]
            value = row.lead_units[0] if row.lead_units else f"{i + 1}"
            problems.append(Problem(kind, message.format(value), severity, name, "工作台账", f"D{first + i}",
                                    value=value, suggestion="核对后修改"))
        received.append(Received(base / name, name, f"{d:064x}", 30000, datetime(2024, 5, 6, 9, 0), region, "meta",
                                 ledger))
    regions = [r.region for r in received]
    targets = [
        TargetComparison(10, "加快绿色交通基础设施建设", "充换电站", "座", 2025, ">=", 1000,
                         {r: 1 + i % 3 for i, r in enumerate(regions[:-5])}, regions[-5:]),
        TargetComparison(1, "推动产业现代化改造", "技术改造项目", "个", 2025, ">=", 3000, {r: 1 for r in regions}, []),
        TargetComparison(20, "推进汽车以旧换新", "新能源汽车渗透率", "%", 2025, ">=", 50,
                         {r: 40 + i % 20 for i, r in enumerate(regions)}, [], summable=False),
    ]
    return Rollup(city, str(CITY), received, [], mappings, targets, [*regions, "缺一区"], problems,
                  created=datetime(2024, 5, 6, 10, 0))


def write_ours(rollup: Rollup, out: Path) -> None:
    writer.write_rollup(rollup, out)


def write_floor(rollup: Rollup, out: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False,
                                        "default_format_properties": DEFAULT_FONT})
    collecting = gc.isenabled()
    gc.disable()  # as write_rollup does: the floor gets the same help
    try:
        writer._Writer(wb, rollup, 40, stream=False).write()
        wb.close()
    finally:
        if collecting:
            gc.enable()


def best(fn, rollup: Rollup, out: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        gc.collect()
        start = time.perf_counter()
        fn(rollup, out)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,300")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'districts':>9} {'rows':>7} {'problems':>8} {'lines':>6} {'xltools s':>10} {'floor s':>8} "
          f"{'xltools/floor':>13} {'MB':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            rollup = make_rollup(n, Path(tmp))
            lines = len(group_problems(rollup.problems))
            ours = best(write_ours, rollup, Path(tmp) / "ours.xlsx", args.repeat)
            floor = best(write_floor, rollup, Path(tmp) / "floor.xlsx", args.repeat)
            size = (Path(tmp) / "ours.xlsx").stat().st_size / 1e6
            print(f"{n:>9} {len(rollup.mappings):>7} {len(rollup.problems):>8} {lines:>6} {ours:>10.2f} {floor:>8.2f} "
                  f"{ours / floor:>13.2f} {size:>6.1f}")


if __name__ == "__main__":
    main()
