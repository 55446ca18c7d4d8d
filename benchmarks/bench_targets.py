"""Benchmark: reading the targets of district ledgers (``checked_ledger_targets``), as consolidation does.

Compares xltools' target parser with the parser before issue 13 (``xltools/target_text.py`` of commit
BASELINE, read from git history, imports made absolute), in the same process on the same ledgers,
after checking that both give the same targets and problems for every row. Each run starts with empty caches.

Corpora, ~20,000 rows each (files of 60 rows), made from the real ledgers (tests/data/seeds):
- ``free-form``: districts' own ledgers, each row's 工作内容 one to three sentences of the seed ledgers
  recombined, a 目标 column such as "年内完成93个" (the shape of issue 13's corpus);
- ``reworded``: the same with every figure in the text changed per district (30万辆 → 27万辆), so no
  sentence repeats across districts: the cost of parsing text never seen;
- ``template``: the city's distributed ledger, the same 工作内容 in every district.

    python benchmarks/bench_targets.py [--rows 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
import types
from pathlib import Path

from xltools import target_text
from xltools.model import Ledger, Origin, TaskRow
from xltools.readers import extract

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "tests" / "data" / "seeds"
CITY_LEDGER = SEEDS / "003_43a8c8a0029832b5.txt"
ROWS_PER_FILE = 60


BASELINE = "9b0644e"  # the parser before issue 13's speed work (its item 4 included)


def load_baseline():
    """The old parser as a module of its own, from git history (a checkout with its history, as CI's is)."""
    source = subprocess.run(["git", "show", f"{BASELINE}:xltools/target_text.py"], cwd=HERE.parent,
                            capture_output=True, text=True, check=True).stdout
    source = re.sub(r"^from \.(\w+) import", r"from xltools.\1 import", source, flags=re.M)
    module = types.ModuleType("baseline_target_text")
    sys.modules[module.__name__] = module  # dataclasses look their module up while the class is made
    exec(compile(source, f"{BASELINE}:xltools/target_text.py", "exec"), module.__dict__)
    return module


def seed_sentences() -> list[str]:
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        ledger = extract(path)
        for text in [r.content for r in ledger.rows] + [g.text for g in ledger.goals]:
            out += [s for s in re.split(r"(?<=[。；])", text or "") if s.strip()]
    return out


def make_corpus(kind: str, rows: int, rng: random.Random) -> list[Ledger]:
    sentences = seed_sentences()
    city = extract(CITY_LEDGER)
    ledgers = []
    for d in range(max(rows // ROWS_PER_FILE, 1)):
        scale = rng.uniform(0.5, 1.5)

        def figure(m: re.Match, scale: float = scale) -> str:  # years stay years
            text = m.group()
            return text if re.fullmatch(r"20[0-9]{2}", text) else str(max(1, round(int(text) * scale)))

        source = f"区{d:04d}.xlsx"
        task_rows = []
        for i in range(ROWS_PER_FILE):
            if kind == "template":
                row = city.rows[i % len(city.rows)]
                content, extra = row.content, {}
            else:
                content = "".join(rng.sample(sentences, rng.randint(1, 3)))
                if kind == "reworded":
                    content = re.sub(r"[0-9]+", figure, content)
                extra = {"目标": f"年内完成{rng.randint(1, 300)}个"}
            task_rows.append(TaskRow(seq=i + 1, task=f"任务{i + 1}", content=content, extra=extra,
                                     origin=Origin(source, "Sheet1", i + 4)))
        ledgers.append(Ledger(title="工作台账", region=f"区{d:04d}", source=source, rows=task_rows,
                              columns={"content": 2, "目标": 5}))
    return ledgers


def clear(module) -> None:
    module._scan_cached.cache_clear()
    if hasattr(module, "_sentence"):
        module._sentence.cache_clear()


def check_same(base, new, ledgers: list[Ledger]) -> None:
    for ledger in ledgers:
        (old_rows, old_problems), (new_rows, new_problems) = (m.checked_ledger_targets(ledger) for m in (base, new))
        assert [p.to_dict() for p in old_problems] == [p.to_dict() for p in new_problems], ledger.source
        for (_, old), (_, now) in zip(old_rows, new_rows, strict=True):
            assert old.to_dict() == now.to_dict(), ledger.source


def measure(module, ledgers: list[Ledger], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        clear(module)
        start = time.perf_counter()
        for ledger in ledgers:
            module.checked_ledger_targets(ledger)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = load_baseline()
    print(f"{'corpus':<10} {'rows':>7} {'before rows/s':>14} {'now rows/s':>12} {'µs/row before':>14} "
          f"{'µs/row now':>11} {'ratio':>6}")
    for kind in ("free-form", "reworded", "template"):
        ledgers = make_corpus(kind, args.rows, random.Random(args.seed))
        n = sum(len(ledger.rows) for ledger in ledgers)
        check_same(base, target_text, ledgers)
        before = measure(base, ledgers, args.repeat)
        now = measure(target_text, ledgers, args.repeat)
        print(f"{kind:<10} {n:>7} {n / before:>14,.0f} {n / now:>12,.0f} {before / n * 1e6:>14.1f} "
              f"{now / n * 1e6:>11.1f} {before / now:>5.1f}×")


if __name__ == "__main__":
    main()
