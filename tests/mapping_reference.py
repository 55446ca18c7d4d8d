"""The mapping as it was decided row by row before issue 13: the reference the faster code is held to
(tests/test_scaling.py with its own scorer, tests/test_speed_equivalence.py with the index's, bit for bit)."""

import numpy as np

from xltools.model import TaskRow
from xltools.rollup import mapping
from xltools.rollup.mapping import ALSO_AT, MAP_AT, NAME_CONFIDENCE, CityIndex
from xltools.text import fold


def ref_match(index: CityIndex, row: TaskRow, city_keys: bool = False, own_numbers: bool = False, scores=None):
    """(city seqs, confidence, method) of one row; ``scores(index, row)`` scores the row as it is written
    (default: the index)."""
    key = row.extra.get("任务键")
    if city_keys and key and key.isdigit() and int(key) in index.by_seq:
        return [int(key)], 1.0, "key"
    seq, task, content = row.seq if own_numbers else None, fold(row.task), mapping._NOISE.sub("", fold(row.content))
    named = index.by_name.get(task, [])
    if len(named) == 1 and (seq is None or seq == named[0] or len(content) < 5):  # fewer than 4 bigrams
        return list(named), NAME_CONFIDENCE, "name"
    found = (scores or CityIndex.scores)(index, row)
    if named:
        best = max(named, key=lambda s: found[index.seqs.index(s)])
        return [best], max(NAME_CONFIDENCE - 0.05, float(found[index.seqs.index(best)])), "name"
    order = np.argsort(-found)
    best = float(found[order[0]]) if len(order) else 0.0
    if best < MAP_AT:
        return [], best, "none"
    chosen = [index.seqs[i] for i in order[found[order] >= max(MAP_AT, ALSO_AT * best)]]
    if seq is not None and seq in index.by_seq and seq in chosen:
        return [seq, *(s for s in chosen if s != seq)], best, "seq"
    return sorted(chosen), best, "similarity"


def ref_map_rows(index: CityIndex, rows: list[TaskRow], city_keys: bool = False, scores=None):
    """(whether the file follows the city's numbering, each row's mapping)."""
    numbered = [r for r in rows if r.seq is not None]
    follows = city_keys or len(numbered) >= mapping.FOLLOWS_MIN_ROWS and sum(
        1 for r in numbered if r.seq in index.by_seq and r.seq in ref_match(index, r, scores=scores)[0]
    ) >= mapping.FOLLOWS_SHARE * len(numbered)
    return follows, [ref_match(index, r, city_keys, follows, scores) for r in rows]
