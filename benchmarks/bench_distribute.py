"""Benchmark: distributing the city ledger to 30 and 300 districts.

xltools builds one district's workbook with openpyxl and writes every other district's as that workbook's zip
with three parts rewritten (district text, unit sheet, defined names). The plain approach, measured in the
same run on the same data: openpyxl per district — load the template, fill it, save it
(``distribute(fast=False)``, the same workbook). Each measurement runs in a fresh process, so peak memory (max RSS) is its own.

Data: the 济南市 city ledger seed (60 tasks, 8 goals); n districts with generated names (济南's real twelve
first), each with a unit directory of its own of 20–80 generated units (about one in ten without units).

    python benchmarks/bench_distribute.py [--sizes 30,300] [--skip-plain-above 300]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_units import KINDS, TOPICS  # noqa: E402
from gen_districts import CITY_LEDGER, district_names  # noqa: E402

from xltools.units.directory import Directory, Region, Unit  # noqa: E402


def make_directory(names: list[str], seed: int) -> Directory:
    rng = random.Random(seed)
    regions = {"济南市": Region("济南市", "市")}
    units = []
    for name in names:
        regions[name] = Region(name, "区县", "济南市")
        if rng.random() < 0.1:
            continue  # a district whose units nobody has listed yet
        prefix = name[-1]
        chosen = rng.sample([f"{prefix}{t}{k}" for t in TOPICS for k in KINDS[:2]], rng.randint(20, 80))
        units += [Unit(name, u, [u.replace("和", "")] if "和" in u else []) for u in chosen]
    return Directory(units, regions)


def _run(n: int, fast: bool, seed: int, queue) -> None:
    import xltools

    names = district_names(n, seed)
    directory = make_directory(names, seed)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = xltools.distribute(
            CITY_LEDGER, out, regions=names, units=directory, deadline="2025-06-30", fast=fast
        )
        wall = time.perf_counter() - started
        size = sum(f.path.stat().st_size for f in result.files)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    queue.put((wall, len(result.files), size, rss, result.timings))


def measure(n: int, fast: bool, seed: int) -> tuple:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(n, fast, seed, queue))
    proc.start()
    got = queue.get()
    proc.join()
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,300")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip-plain-above",
        type=int,
        default=300,
        help="above this many districts the plain loop is extrapolated from the largest size run",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'N':>5}  {'approach':<46} {'wall s':>8} {'districts/s':>12} {'peak MB':>8} {'MB written':>10}")
    per_district = None
    for n in sizes:
        wall, count, size, rss, timings = measure(n, True, args.seed)
        assert count == n
        print(
            f"{n:>5}  {'xltools distribute (one build, zip parts patched)':<46} {wall:8.2f} {n / wall:12.1f} "
            f"{rss:8.0f} {size / 1e6:10.1f}   (build+write {timings['write']:.2f} s)"
        )
        if n <= args.skip_plain_above:
            plain, count, size, prss, _ = measure(n, False, args.seed)
            per_district = plain / n
            print(
                f"{n:>5}  {'plain: openpyxl load template, fill, save':<46} {plain:8.2f} {n / plain:12.1f} "
                f"{prss:8.0f} {size / 1e6:10.1f}"
            )
        else:
            plain = per_district * n
            print(f"{n:>5}  {'plain (extrapolated)':<46} {plain:8.2f} {n / plain:12.1f} {'–':>8}")
        print(f"{n:>5}  {'ratio (plain / xltools)':<46} {plain / wall:7.1f}x")


if __name__ == "__main__":
    main()
