"""Mapping district rows to city tasks: by template key, by name, else by text similarity.

Similarity is the cosine of character-bigram TF-IDF vectors (task name counted twice, then the
content), built over the city's tasks. Tuned on the seeds: 章丘区 (the city's numbering and wording)
maps one-to-one; 市中区 (its own numbering, merged tasks) maps to the right tasks, one row often
serving several; a task the city lacks (推动住房以旧换新) stays unmapped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np

from ..model import Ledger, TaskRow
from ..text import fold

MAP_AT = 0.25  # below this best score a row is left unmapped (seeds: 住房以旧换新 0.23, 垃圾转运 → 环卫 0.26)
ALSO_AT = 0.72  # a further city task is mapped too when it scores at least this share of the best
NAME_CONFIDENCE = 0.95
# A file follows the city's numbering when at least this share of its numbered rows (and this many) fit the
# city task of the same number (seeds: 章丘区 1.0, 市中区 0.1).
FOLLOWS_SHARE = 0.6
FOLLOWS_MIN_ROWS = 3
_NOISE = re.compile(r"[\W\d_a-zA-Z]+")


def _grams(text: str) -> list[str]:
    text = _NOISE.sub("", fold(text))
    return [text[i:i + 2] for i in range(len(text) - 1)]


def _row_text(row: TaskRow) -> list[str]:
    return _grams(row.task) * 2 + _grams(row.content)


class CityIndex:
    """The city's tasks, ready to be matched against district rows."""

    def __init__(self, city: Ledger):
        self.city = city
        self.region = city.region
        self.rows = [r for r in city.rows if r.seq is not None]
        self.seqs = [r.seq for r in self.rows]
        self.by_seq = {r.seq: r for r in self.rows}
        self.by_name: dict[str, list[int]] = {}
        for r in self.rows:
            self.by_name.setdefault(fold(r.task), []).append(r.seq)
        docs = [Counter(_row_text(r)) for r in self.rows]
        df = Counter(g for d in docs for g in d)
        self.vocab = {g: i for i, g in enumerate(sorted(df))}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in sorted(df)])
        matrix = np.zeros((n, len(self.vocab)))
        for i, d in enumerate(docs):
            for g, c in d.items():
                matrix[i, self.vocab[g]] = (1 + math.log(c)) * self.idf[self.vocab[g]]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms == 0, 1, norms)

    def scores(self, row: TaskRow) -> np.ndarray:
        counts = Counter(g for g in _row_text(row) if g in self.vocab)
        if not counts:
            return np.zeros(len(self.rows))
        idx = np.fromiter((self.vocab[g] for g in counts), dtype=np.int64, count=len(counts))
        weights = np.fromiter(((1 + math.log(c)) for c in counts.values()), dtype=float, count=len(counts))
        weights *= self.idf[idx]
        norm = np.linalg.norm(weights) or 1.0
        return self.matrix[:, idx] @ weights / norm

    def map_rows(self, rows: list[TaskRow], city_keys: bool = False) -> list[tuple[list[int], float, str]]:
        """(city seqs, confidence, method) for each row of one district file. The file's own numbers count only
        when it follows the city's numbering: it carries the city's keys, or its numbers and names agree with
        the city's (a district's task 5 is not the city's task 5 because both are fifth)."""
        own_numbers = city_keys or self.follows_numbering(rows)
        return [self.match(row, city_keys, own_numbers) for row in rows]

    def follows_numbering(self, rows: list[TaskRow]) -> bool:
        """Whether most numbered rows fit the city task of the same number, by name or by text."""
        numbered = [r for r in rows if r.seq is not None]
        if len(numbered) < FOLLOWS_MIN_ROWS:
            return False
        agree = sum(1 for r in numbered if r.seq in self.by_seq and r.seq in self.match(r)[0])
        return agree >= FOLLOWS_SHARE * len(numbered)

    def match(self, row: TaskRow, city_keys: bool = False, own_numbers: bool = False) -> tuple[list[int], float, str]:
        """(city seqs, confidence, method) for one district row; its number counts with ``own_numbers``."""
        key = row.extra.get("任务键")
        if city_keys and key and key.isdigit() and int(key) in self.by_seq:
            return [int(key)], 1.0, "key"
        # Figures and Latin letters do not count for similarity, so rows that differ only in them
        # (the same template in many districts) are matched once.
        seqs, confidence, method = self._match(row.seq if own_numbers else None, fold(row.task),
                                               _NOISE.sub("", fold(row.content)))
        return list(seqs), confidence, method

    @lru_cache(maxsize=100_000)  # noqa: B019 - one index per consolidation; the cache dies with it
    def _match(self, seq: int | None, task: str, content: str) -> tuple[tuple[int, ...], float, str]:
        row = TaskRow(seq, task, content)
        seqs, confidence, method = self._match_row(row)
        return tuple(seqs), confidence, method

    def _match_row(self, row: TaskRow) -> tuple[list[int], float, str]:
        named = self.by_name.get(fold(row.task), [])
        if len(named) == 1 and (row.seq is None or row.seq == named[0] or len(_grams(row.content)) < 4):
            return named, NAME_CONFIDENCE, "name"
        scores = self.scores(row)
        if named:  # the name fits several city tasks, or fits one under another number: the text decides
            best = max(named, key=lambda s: scores[self.seqs.index(s)])
            return [best], max(NAME_CONFIDENCE - 0.05, float(scores[self.seqs.index(best)])), "name"
        order = np.argsort(-scores)
        best = float(scores[order[0]]) if len(order) else 0.0
        if best < MAP_AT:
            return [], best, "none"
        chosen = [self.seqs[i] for i in order if scores[i] >= max(MAP_AT, ALSO_AT * best)]
        if row.seq is not None and row.seq in self.by_seq and row.seq in chosen:
            return [row.seq] + [s for s in chosen if s != row.seq], best, "seq"
        return sorted(chosen), best, "similarity"
