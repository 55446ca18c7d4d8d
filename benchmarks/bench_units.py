"""Benchmark: checking 100,000 unit cells against a 2,000-name directory.

Compares xltools' cell check (split, exact/alias lookup, fuzzy only for the rest, cached per name)
with the plain approach: split each cell and call rapidfuzz ``process.extractOne`` for every name.
Both run in the same process on the same generated cells; absolute figures and the ratio are printed.

    python benchmarks/bench_units.py [--cells 100000] [--names 2000]
"""

from __future__ import annotations

import argparse
import random
import re
import time

from rapidfuzz import fuzz, process

from xltools.units.check import check_cell
from xltools.units.directory import Directory, Region, Unit

REGION = "测试区"
TOPICS = ("发展和改革 工业和信息化 科技 商务 财政 民政 司法 人力资源和社会保障 自然资源 生态环境 住房和城乡建设 城乡交通运输 "
          "城乡水务 农业农村 文化和旅游 卫生健康 退役军人事务 应急管理 审计 市场监督管理 统计 医疗保障 行政审批服务 大数据 "
          "机关事务 信访 国有资产 地方金融 投资促进 城市管理 教育和体育 综合执法 林业 畜牧 粮食和物资储备 供销 档案 "
          "住房保障 公共资源交易 融媒体 老龄 残疾人 妇女儿童 青少年 科学技术普及 气象 地震 人民防空 消防救援 公安交通").split()
PLACES = "城东 城西 城南 城北 高新 经开 临港 滨河 山前 湖畔 新城 老城 北园 南郊 东站 西客 中心 明水 绣惠 双山".split()
KINDS = ("局", "服务中心", "办公室", "委员会", "管理办公室", "事务中心", "发展中心", "保障中心")
SHORT = {"和": "", "监督管理": "监管", "委员会": "委", "办公室": "办", "管理局": "局"}


def make_directory(size: int, rng: random.Random) -> Directory:
    names: list[str] = []
    for topic in TOPICS:
        for kind in KINDS:
            names.append(f"区{topic}{kind}")
    for place in PLACES:
        for topic in TOPICS:
            for kind in KINDS[:3]:
                names.append(f"区{place}{topic}{kind}")
    rng.shuffle(names)
    names = sorted(set(names[:size]), key=names.index)
    units = []
    for name in names:
        alias = name
        for long, short in SHORT.items():
            alias = alias.replace(long, short)
        units.append(Unit(REGION, name, [alias] if alias != name else []))
    return Directory(units, {REGION: Region(REGION, "区县")})


def typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + rng.choice("局区务政心办建设管理发展") + name[i + 1:]


def make_cells(directory: Directory, count: int, rng: random.Random) -> tuple[list[str], list[tuple[str, str]]]:
    """Cells of 1–4 names, frequent names far more common (Zipf), with aliases, typos, run-together names."""
    units = directory.units
    weights = [1 / (i + 1) for i in range(len(units))]
    cells, typos = [], []
    for _ in range(count):
        names = []
        for unit in rng.choices(units, weights, k=rng.choice((1, 1, 1, 2, 2, 3, 4))):
            roll = rng.random()
            if roll < 0.05 and unit.aliases:
                names.append(unit.aliases[0])
            elif roll < 0.08:
                wrong = typo(unit.name, rng)
                typos.append((wrong, unit.name))
                names.append(wrong)
            elif roll < 0.09:
                names.append("区未知部门" + str(rng.randrange(50)) + "局")
            else:
                names.append(unit.name)
        if len(names) > 1 and rng.random() < 0.02:
            cells.append(names[0] + names[1] + "、" + "、".join(names[2:]))  # run together
        else:
            cells.append(rng.choice(("、", "\n")).join(names))
    return cells, typos


def plain_loop(cells: list[str], choices: list[str]) -> dict[str, str]:
    """The baseline: split on separators, extractOne for every name."""
    best = {}
    for cell in cells:
        for name in re.split(r"[、，,；;\n]+", cell):
            if name:
                hit = process.extractOne(name, choices, scorer=fuzz.WRatio)
                best[name] = hit[0] if hit else ""
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--names", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20241123)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    directory = make_directory(args.names, rng)
    cells, typos = make_cells(directory, args.cells, rng)
    names = sum(len(re.split(r"[、\n]+", c)) for c in cells)
    print(f"directory: {len(directory.units)} units ({sum(len(u.aliases) for u in directory.units)} aliases); "
          f"cells: {len(cells):,} holding {names:,} names; injected typos: {len(typos):,}")

    t0 = time.perf_counter()
    results = [check_cell(cell, REGION, directory) for cell in cells]
    ours = time.perf_counter() - t0
    found = {}
    for cell in results:
        for n in cell.names:
            found[n.input] = (n.canonical or (n.suggestions[0] if n.suggestions else ""))
    ours_right = sum(found.get(wrong) == right for wrong, right in typos)

    choices = [u.name for u in directory.units]
    t0 = time.perf_counter()
    best = plain_loop(cells, choices)
    base = time.perf_counter() - t0
    base_right = sum(best.get(wrong) == right for wrong, right in typos)

    print(f"xltools check_cell      : {ours:8.2f} s  {len(cells) / ours:12,.0f} cells/s  "
          f"typos resolved {ours_right / len(typos):.1%}")
    print(f"plain extractOne loop   : {base:8.2f} s  {len(cells) / base:12,.0f} cells/s  "
          f"typos resolved {base_right / len(typos):.1%}")
    print(f"ratio (plain / xltools) : {base / ours:8.1f}x")


if __name__ == "__main__":
    main()
