"""Mapping and learned spellings at scale (issue 13, items 1 and 2): the vectorized mapping decides every row
as the per-row scorer did, and the typo search compares a name with a few frequent names, not with all.

The reference implementations below are the ones the package used before (kept here, not in the package):
the per-row TF-IDF cosine of ``CityIndex`` and the double loop of ``learn._typos``. Data: the real seeds
(tests/data/seeds) and district ledgers written the way districts write them (benchmarks/gen_freeform.py).
"""

import math
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU
from rapidfuzz import fuzz

from xltools import extract
from xltools.model import TaskRow
from xltools.rollup import mapping
from xltools.rollup.mapping import CityIndex
from xltools.text import fold
from xltools.units import learn
from xltools.units.learn import learn_across, learn_spellings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gen_freeform  # noqa: E402
from mapping_reference import ref_map_rows  # noqa: E402

# ------------------------------------------------------------------------------- mapping: the reference


def _ref_scores(index: CityIndex, row: TaskRow) -> np.ndarray:
    counts = Counter(g for g in mapping._row_text(row) if g in index.vocab)
    if not counts:
        return np.zeros(len(index.rows))
    idx = np.fromiter((index.vocab[g] for g in counts), dtype=np.int64, count=len(counts))
    weights = np.fromiter(((1 + math.log(c)) for c in counts.values()), dtype=float, count=len(counts))
    weights *= index.idf[idx]
    norm = np.linalg.norm(weights) or 1.0
    return index.matrix[:, idx] @ weights / norm


def _folded_scores(index: CityIndex, row: TaskRow) -> np.ndarray:
    return _ref_scores(index, TaskRow(row.seq, fold(row.task), mapping._NOISE.sub("", fold(row.content))))


def _ref_map_rows(index: CityIndex, rows: list[TaskRow]):
    return ref_map_rows(index, rows, scores=_folded_scores)


@pytest.fixture(scope="module")
def city():
    return extract(CITY)


@pytest.fixture(scope="module")
def freeform(tmp_path_factory):
    folder = tmp_path_factory.mktemp("freeform")
    return [extract(p) for p in gen_freeform.generate(folder, 12, seed=7)]


def _ledgers(freeform):
    renumbered = extract(ZHANGQIU)
    renumbered.rows = [TaskRow(r.seq + 1, r.task, r.content) for r in renumbered.rows[10:40]]
    return [extract(SHIZHONG), extract(ZHANGQIU), extract(CITY), renumbered, *freeform]


def _assert_same(index, ledgers):
    decided = 0
    for ledger in ledgers:
        follows, want = _ref_map_rows(index, ledger.rows)
        assert index.follows_numbering(ledger.rows) == follows
        got = index.map_rows(ledger.rows)
        assert [(seqs, method) for seqs, _, method in got] == [(seqs, method) for seqs, _, method in want]
        assert [c for _, c, _ in got] == pytest.approx([c for _, c, _ in want], abs=1e-12)
        decided += sum(1 for _, _, method in got if method in ("similarity", "seq", "none"))
    assert decided > 300  # most rows decided by their scores, not by their names


def test_vectorized_mapping_decides_as_the_per_row_scorer_did(city, freeform):
    _assert_same(CityIndex(city), _ledgers(freeform))


def test_a_city_with_many_characters_looks_bigrams_up_by_bisection(city, freeform, monkeypatch):
    monkeypatch.setattr(mapping, "PAIR_TABLE_MAX", 0)
    index = CityIndex(city)
    assert index._pair_col is None
    _assert_same(index, _ledgers(freeform))


def test_one_matrix_per_file_scores_every_row_as_one_row_alone(city, freeform):
    index = CityIndex(city)
    odd = TaskRow(2, "推动产业\ud800现代化改造", "𠀀𠀁聚焦钢铁、化工等重点行业")  # a lone surrogate, characters past U+FFFF
    rows = freeform[0].rows + [odd, TaskRow(None, "", ""), TaskRow(1, "ABC 123", "——")]  # the last two: nothing
    matrix = index.score_matrix(rows)
    assert matrix.shape == (len(rows), 60)
    for row, scores in zip(rows, matrix, strict=True):
        assert scores == pytest.approx(_ref_scores(index, row), abs=1e-12)
    assert not matrix[-2:].any()


# --------------------------------------------------------------------------- learned spellings: the reference


def _ref_typos(counts, spelled, found):
    frequent = sorted((k for k, c in counts.items() if c >= learn.FREQUENT and len(k) >= learn.TYPO_MIN_LENGTH),
                      key=lambda k: (-counts[k], k))
    for key, count in counts.items():
        if key in found:
            continue
        best, best_ratio = None, learn.TYPO_RATIO
        for major in frequent:
            if len(major) != len(key) or major == key or count > counts[major] * learn.RARE_SHARE:
                continue
            ratio = fuzz.ratio(key, major)
            if ratio >= best_ratio and (best is None or ratio > best_ratio):
                best, best_ratio = major, ratio
        if best is not None:
            found[key] = learn.NameCheck(
                spelled[key], "typo", None, [spelled[best]],
                message=f"“{spelled[key]}”只出现{count}次，与常用写法“{spelled[best]}”"
                        f"（{counts[best]}次）相近，疑似写错")


def _district_names(n: int, seed: int = 3) -> list[list[str]]:
    """The unit names of n districts' own ledgers (benchmarks/gen_freeform.py), typos and short forms too."""
    src = gen_freeform._Sources(CITY)
    out = []
    for i, region in enumerate(gen_freeform.district_names(n, seed)):
        rng = random.Random(f"{seed}:{i}")
        offices = [o.format(short=region[:-1]) for o in gen_freeform.OWN_OFFICES]
        units = gen_freeform._units
        out.append([u for task in gen_freeform._tasks(src, rng)
                    for u in units(task[2], offices, rng) + units(task[3], offices, rng)])
    return out


def _as_data(learned):
    return {k: (c.status, c.canonical, c.suggestions, c.message) for k, c in learned.items()}


@pytest.mark.parametrize("few, deletions", [(learn.FEW, learn.DELETIONS), (0, 2), (0, 0)])
def test_typos_found_by_the_index_are_those_of_the_double_loop(monkeypatch, few, deletions):
    # few=0: every length indexed; deletions=0: a name that may differ at all, by its rarest characters
    names = _district_names(80)
    monkeypatch.setattr(learn, "FEW", few)
    monkeypatch.setattr(learn, "DELETIONS", deletions)
    across = learn_across(names)
    within = [learn_spellings(n) for n in names[:20]]
    monkeypatch.setattr(learn, "_typos", _ref_typos)
    assert _as_data(across) == _as_data(learn_across(names))
    assert [_as_data(w) for w in within] == [_as_data(learn_spellings(n)) for n in names[:20]]
    assert sum(c.status == "typo" for c in across.values()) >= 5  # the generated typos are found
    assert learn_spellings(names[0], typos=False) == {k: c for k, c in learn_spellings(names[0]).items()
                                                     if c.status == "alias"}


def test_a_name_is_compared_only_with_the_frequent_names_near_it_however_many_districts(monkeypatch):
    ratio, calls, typos = fuzz.ratio, Counter(), learn._typos

    def counted(a, b, **kwargs):
        calls["all"] += 1
        calls["near"] += ratio(a, b) >= learn.TYPO_RATIO
        return ratio(a, b, **kwargs)

    monkeypatch.setattr(fuzz, "ratio", counted)
    done = {}
    for kind, function in (("index", typos), ("loop", _ref_typos)):
        monkeypatch.setattr(learn, "_typos", function)
        for n in (50, 400):
            calls.clear()
            learn_across(_district_names(n))
            done[kind, n] = calls["all"] / n, calls["near"] / n
    # The double loop compares each name with every frequent name of its length: 8× the districts, several times
    # the comparisons per district, nearly all wasted. The index compares a name with the frequent names within
    # TYPO_RATIO of it (市公安局东城分局 / 市公安局东港分局: districts' names differ in a character), hardly others:
    # its cost follows the names and the near pairs among them.
    assert done["loop", 400][0] > 3 * done["loop", 50][0] and done["loop", 400][1] < 0.1 * done["loop", 400][0]
    for n in (50, 400):
        assert done["index", n][1] == done["loop", n][1]  # the same near names compared
        assert done["index", n][0] - done["index", n][1] < 0.5  # and hardly another (long names: a few)


def test_the_city_index_is_built_once_per_run_and_the_workers_share_it(tmp_path, monkeypatch):
    import multiprocessing as mp
    import os

    from xltools.rollup import ConsolidateOptions, consolidate, reading

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("workers inherit the index only where they fork")
    built = tmp_path / "built.txt"
    init = CityIndex.__init__

    def counted(self, city):
        with built.open("a") as f:
            f.write(f"{os.getpid()}\n")
        init(self, city)

    monkeypatch.setattr(CityIndex, "__init__", counted)
    monkeypatch.setattr(reading, "_CITY_INDEX", None)
    inbox = tmp_path / "inbox"
    gen_freeform.generate(inbox, reading.PARALLEL_FROM, seed=2)
    options = ConsolidateOptions(workers=2, use_archive=False)
    rollup = consolidate(CITY, inbox, tmp_path / "rollup.xlsx", options)
    assert len({m.region for m in rollup.mappings}) == reading.PARALLEL_FROM
    assert sum(m.mapped for m in rollup.mappings) > 0.9 * len(rollup.mappings)
    assert built.read_text().split() == [str(os.getpid())]  # in this process, before the workers started
