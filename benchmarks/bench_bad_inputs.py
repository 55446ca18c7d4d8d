"""The figures of issue 10: bad inputs tried, crashes, rows lost, and the peak memory of a consolidation whose
inbox holds zip bombs (1.5 GB and 3 GB unpacked) and a sheet of 1,048,576 rows.

Every input of the table in tests/bad_inputs.py goes through every door that reads one file (extract, validate,
fill) and, all together beside the two real district plans, through one consolidation. A crash is a Python
exception out of a door or a traceback printed; a row lost is a task row of a file that was read but is missing
from the output (extract's JSON, the rollup's sheet for that district). Memory is the resident memory of the
whole process tree, sampled every 20 ms (the baseline: the size the bombs unpack to).

    python benchmarks/bench_bad_inputs.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bad_inputs import BAD, SINGLE_DOORS, consolidate_inbox, door_args, run_door  # noqa: E402
from conftest import CITY  # noqa: E402
from test_bad_inputs import _peak_rss_script  # noqa: E402

from xltools import extract  # noqa: E402


def main() -> None:
    tried = crashes = refused = read_on = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        made = tmp / "made"
        made.mkdir()
        print(f"{'input':34} {'door':9} {'exit':>4}  {'seconds':>7}")
        for name, bad in BAD.items():
            path = bad.build(made)
            for door in SINGLE_DOORS:
                out = tmp / f"out{tried}"
                out.mkdir()
                start = time.perf_counter()
                code, output, crash = run_door(door_args(door, path, out))
                took = time.perf_counter() - start
                tried += 1
                crashes += crash is not None or "Traceback" in output
                refused += code == 2
                read_on += code in (0, 1)
                print(f"{name:34} {door:9} {code:>4}  {took:7.2f}")
        inbox = tmp / "inbox"
        goods = consolidate_inbox(made, inbox)
        rollup = tmp / "汇总.xlsx"
        args = ["consolidate", str(CITY), str(inbox), "-o", str(rollup), "--no-archive", "--json", "--workers", "2"]
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", _peak_rss_script(args, tmp / "out.json", tmp / "err.txt")],
                             capture_output=True, text=True, check=True)
        took = time.perf_counter() - start
        result = json.loads(run.stdout)
        crashes += "Traceback" in (tmp / "err.txt").read_text(encoding="utf-8")
        import openpyxl

        wb = openpyxl.load_workbook(rollup, read_only=True)
        lost = 0
        for good in goods:
            region = good.name.split("_")[0]
            kept = [r for r in wb[region].iter_rows(values_only=True) if r and isinstance(r[0], int)]
            lost += max(0, len(extract(good).rows) - len(kept))
        unpacked = sum(p.stat().st_size for p in inbox.iterdir())
    print()
    print(f"bad inputs tried: {len(BAD)} inputs × {len(SINGLE_DOORS)} doors = {tried} runs, "
          f"+ 1 consolidation of all {len(BAD)} beside 2 real plans")
    print(f"refused cleanly (exit 2, Chinese message naming the file): {refused}; read on with problems: {read_on}")
    print(f"crashes: {crashes}; rows lost: {lost}")
    print(f"consolidation: exit {result['code']}, {took:.1f} s, peak RSS of the process tree "
          f"{result['peak_mb']:.0f} MB; inbox {unpacked / 2**20:.1f} MB on disk, bombs unpack to 4,608 MB")


if __name__ == "__main__":
    main()
