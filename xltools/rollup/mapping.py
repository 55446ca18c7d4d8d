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

import numpy as np

from ..model import Ledger, TaskRow
from ..text import fold, fold_all

MAP_AT = 0.25  # below this best score a row is left unmapped (seeds: 住房以旧换新 0.23, 垃圾转运 → 环卫 0.26)
ALSO_AT = 0.72  # a further city task is mapped too when it scores at least this share of the best
NAME_CONFIDENCE = 0.95
PAIR_TABLE_MAX = 4_000_000  # a table of all pairs of the city's characters up to 16 MB, else bisection
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


_CACHE_MAX = 100_000  # decisions kept per index: the rows every district copies from the city are decided once


class CityIndex:
    """The city's tasks, ready to be matched against district rows.

    A district file's rows are scored all at once: their bigrams become one sparse matrix (row, gram, weight),
    multiplied by the city's matrix; the decision per row (``_decide``) then reads its row of scores.
    """

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
        grams = sorted(df)
        self.vocab = {g: i for i, g in enumerate(grams)}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in grams])
        matrix = np.zeros((n, len(self.vocab)))
        for i, d in enumerate(docs):
            for g, c in d.items():
                matrix[i, self.vocab[g]] = (1 + math.log(c)) * self.idf[self.vocab[g]]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms == 0, 1, norms)
        # The city's matrix by gram, sparse (a gram occurs in a few tasks): gram g's tasks and weights are
        # _gram_task[s:e] and _gram_weight[s:e], s, e = _gram_start[g:g + 2].
        grams_of, self._gram_task = np.nonzero(self.matrix.T)
        self._gram_weight = self.matrix.T[grams_of, self._gram_task]
        self._gram_count = np.bincount(grams_of, minlength=len(grams))
        self._gram_start = np.r_[0, np.cumsum(self._gram_count)]
        # A bigram is looked up by two gathers: each character's number among the city's characters (0: none),
        # then the pair's column in a table of every pair of them (-1: not a city bigram).
        chars = sorted({ch for g in grams for ch in g})
        self._char_no = np.zeros(0x110000, dtype=np.int32)
        self._char_no[[ord(ch) for ch in chars]] = np.arange(1, len(chars) + 1, dtype=np.int32)
        # Pair numbers in the order of the vocabulary (characters are numbered in code point order, as sorted()
        # orders the bigrams); a ledger with many characters looks them up by bisection instead of a table.
        self._width = width = len(chars) + 1
        self._pairs = np.array([self._char_no[ord(g[0])] * width + self._char_no[ord(g[1])] for g in grams],
                               dtype=np.int64)
        self._pair_col = None
        if width * width <= PAIR_TABLE_MAX:
            self._pair_col = np.full(width * width, -1, dtype=np.int32)
            self._pair_col[self._pairs] = np.arange(len(grams), dtype=np.int32)
        self._decided: dict[tuple, tuple[tuple[int, ...], float, str]] = {}
        _noise_at()  # here, so that forked workers share it

    def scores(self, row: TaskRow) -> np.ndarray:
        """The cosine of ``row`` with each city task."""
        return self.score_matrix([row])[0]

    def score_matrix(self, rows: list[TaskRow]) -> np.ndarray:
        """Scores of every row against every city task (len(rows) × tasks), in one product."""
        return _File(self, rows).matrix()

    def _score_texts(self, texts: list[tuple[str, str]]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.rows)))
        if not texts or not self.vocab:
            return out
        # Task twice, then content, each piece ended by NUL (never in a cleaned text, and no city character):
        # a pair with a NUL in it is no bigram.
        text = "".join(f"{task}\0{task}\0{content}\0" for task, content in texts)
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # any str at all
        cols = self._columns(self._char_no[points].astype(np.int64))
        known = cols >= 0
        row_of = np.repeat(np.arange(len(texts)), [2 * len(task) + len(content) + 3 for task, content in texts])
        n_grams = len(self.vocab)
        # (row, gram) cells and their counts, as np.unique gives them: sorted, and the same cells in a run
        found = np.sort(row_of[:-1][known] * n_grams + cols[known])
        if not len(found):
            return out
        first = np.empty(len(found), dtype=bool)
        first[0] = True
        np.not_equal(found[1:], found[:-1], out=first[1:])
        at = np.flatnonzero(first)
        cells, counts = found[at], np.diff(at, append=len(found))
        row_ids, gram_ids = cells // n_grams, cells % n_grams
        weights = (1 + np.log(counts)) * self.idf[gram_ids]
        norms = np.sqrt(np.bincount(row_ids, weights * weights, minlength=len(texts)))
        # The product with the city's matrix: each (row, gram, weight) meets the city tasks that have the gram
        # (_gram_task[s:e]), and the products are summed per (row, task), in the order of the grams.
        lengths = self._gram_count[gram_ids]
        ends = np.cumsum(lengths)
        at = np.arange(ends[-1]) + np.repeat(self._gram_start[gram_ids] - (ends - lengths), lengths)
        tasks = len(self.rows)
        out = np.bincount(np.repeat(row_ids * tasks, lengths) + self._gram_task[at],
                          weights=np.repeat(weights, lengths) * self._gram_weight[at], minlength=len(texts) * tasks)
        out = out.reshape(len(texts), tasks)
        return out / np.where(norms == 0, 1.0, norms)[:, None]

    def _columns(self, numbers: np.ndarray) -> np.ndarray:
        """The vocabulary column of each pair of neighbouring characters (given as numbers), -1 for none."""
        pairs = numbers[:-1] * self._width + numbers[1:]
        if self._pair_col is not None:
            return self._pair_col[pairs]
        at = np.searchsorted(self._pairs, pairs)
        at[at == len(self._pairs)] = 0
        return np.where(self._pairs[at] == pairs, at, -1)

    def map_rows(self, rows: list[TaskRow], city_keys: bool = False) -> list[tuple[list[int], float, str]]:
        """(city seqs, confidence, method) for each row of one district file. The file's own numbers count only
        when it follows the city's numbering: it carries the city's keys, or its numbers and names agree with
        the city's (a district's task 5 is not the city's task 5 because both are fifth)."""
        file = _File(self, rows, city_keys)
        everyone = range(len(rows))
        own_numbers = city_keys
        if not city_keys:
            # Every row as if unnumbered first, scored in one batch: what _follows needs, and the mapping itself
            # of the unnumbered rows (of them all when the numbers do not count).
            file.decide(everyone, False, False)
            own_numbers = self._follows(file)
        file.decide(everyone, city_keys, own_numbers)
        return file.decided(city_keys, own_numbers)

    def follows_numbering(self, rows: list[TaskRow]) -> bool:
        """Whether most numbered rows fit the city task of the same number, by name or by text."""
        return self._follows(_File(self, rows))

    def _follows(self, file: _File) -> bool:
        numbered = [i for i, r in enumerate(file.rows) if r.seq is not None]
        if len(numbered) < FOLLOWS_MIN_ROWS:
            return False
        file.decide(numbered, False, False)
        found, rows = file._found, file.rows
        agree = sum(1 for i in numbered if rows[i].seq in self.by_seq and rows[i].seq in found[i, False, False][0])
        return agree >= FOLLOWS_SHARE * len(numbered)

    def match(self, row: TaskRow, city_keys: bool = False, own_numbers: bool = False) -> tuple[list[int], float, str]:
        """(city seqs, confidence, method) for one district row; its number counts with ``own_numbers``."""
        return _File(self, [row]).match(0, city_keys, own_numbers)

    def _by_name(self, seq: int | None, task: str, content: str) -> tuple[tuple[int, ...], float, str] | None:
        """The mapping of a row (its number if it counts, folded name, cleaned content) when its name decides."""
        named = self.by_name.get(task)
        if named and len(named) == 1 and (seq is None or seq == named[0] or len(content) < 5):  # < 4 bigrams
            return tuple(named), NAME_CONFIDENCE, "name"
        return None

    def _by_scores(self, keys: list[tuple], scores: np.ndarray) -> list[tuple[tuple[int, ...], float, str]]:
        """The mappings of rows the name does not decide (see ``_by_name``), from their scores (a row each).

        The best score and the tasks near it are found for all rows at once; a row's tasks in order of score
        (argsort) are needed only when its own number leads two or more others."""
        if not scores.shape[1]:
            return [((), 0.0, "none") for _ in keys]
        best = scores.max(axis=1)
        near_row, near_task = np.nonzero(scores >= np.maximum(MAP_AT, ALSO_AT * best)[:, None])
        ends = np.cumsum(np.bincount(near_row, minlength=len(keys))).tolist()
        near_task = near_task.tolist()
        out = []
        for k, ((seq, task, _), row, top) in enumerate(zip(keys, scores, best.tolist(), strict=True)):
            named = self.by_name.get(task)
            if named:  # the name fits several city tasks, or fits one under another number: the text decides
                pick = max(named, key=lambda s: row[self.seqs.index(s)])
                out.append(((pick,), max(NAME_CONFIDENCE - 0.05, float(row[self.seqs.index(pick)])), "name"))
            elif top < MAP_AT:
                out.append(((), top, "none"))
            else:
                seqs = [self.seqs[i] for i in near_task[ends[k - 1] if k else 0:ends[k]]]
                if seq is not None and seq in self.by_seq and seq in seqs:
                    if len(seqs) > 2:  # the others in order of score, ties as argsort leaves them
                        order = np.argsort(-row)
                        seqs = [self.seqs[i] for i in order[row[order] >= max(MAP_AT, ALSO_AT * top)]]
                    out.append(((seq, *(s for s in seqs if s != seq)), top, "seq"))
                else:
                    out.append((tuple(sorted(seqs)), top, "similarity"))
        return out


_NOISE_AT: np.ndarray | None = None


def _noise_at() -> np.ndarray:
    """Whether ``_NOISE`` takes each code point: one regex pass over them all, once per process (~30 ms)."""
    global _NOISE_AT
    if _NOISE_AT is None:
        every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
        kept = _NOISE.sub("", every).encode("utf-32-le", "surrogatepass")
        noise = np.ones(0x110000, dtype=bool)
        noise[np.frombuffer(kept, dtype=np.uint32)] = False
        _NOISE_AT = noise
    return _NOISE_AT


def _denoised(texts: list[str]) -> list[str]:
    """``_NOISE`` taken out of each text, all at once: their characters looked up in one array."""
    joined = "\0".join(texts)
    if not texts or joined.count("\0") != len(texts) - 1:
        return [_NOISE.sub("", t) for t in texts]
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    kept = points[~_noise_at()[points] | (points == 0)]  # the NULs between texts kept
    return kept.tobytes().decode("utf-32-le", "surrogatepass").split("\0")


class _File:
    """One district file's rows while they are mapped: their texts, and their scores once any row needs them
    (rows scored in batches, each row once, shared by ``follows_numbering`` and the mapping itself)."""

    def __init__(self, index: CityIndex, rows: list[TaskRow], city_keys: bool = False):
        self.index, self.rows, self.city_keys = index, rows, city_keys
        self._texts: list[tuple[str, str] | None] | None = None  # made when needed: keyed rows need none
        self._scores: np.ndarray | None = None  # rows × city tasks, a row filled when first needed
        self._scored: list[bool] = []
        # (row, city_keys, own_numbers) → mapping; own_numbers only for a numbered row (else the same mapping)
        self._found: dict[tuple[int, bool, bool], tuple[tuple[int, ...], float, str]] = {}

    def _keyed(self, row: TaskRow) -> int | None:
        key = row.extra.get("任务键") if self.city_keys else None
        return int(key) if key and key.isdigit() and int(key) in self.index.by_seq else None

    def text(self, i: int) -> tuple[str, str]:
        """Row i's folded name and its content without figures and Latin letters: rows that differ only in those
        (the same template in many districts) are decided once."""
        if self._texts is None:  # every row that needs one at once (keyed rows do not): a few passes in all
            need = range(len(self.rows))
            if self.city_keys:
                need = [j for j in need if self._keyed(self.rows[j]) is None]
            rows = self.rows
            folded = fold_all([t for j in need for t in (rows[j].task, rows[j].content)])
            tasks, contents = folded[0::2], _denoised(folded[1::2])
            self._texts = [None] * len(self.rows)
            for j, task, content in zip(need, tasks, contents, strict=True):
                self._texts[j] = (task, content)
        if self._texts[i] is None:
            row = self.rows[i]
            self._texts[i] = (fold(row.task), _NOISE.sub("", fold(row.content)))
        return self._texts[i]

    def matrix(self) -> np.ndarray:
        """Every row's scores against every city task (the task names without figures and Latin letters too)."""
        self._score(range(len(self.rows)))
        return self._scores

    def scores_of(self, rows: list[int]) -> np.ndarray:
        """The scores of the given rows (a row each), scoring only those not scored yet."""
        self._score(rows)
        return self._scores[rows]

    def _score(self, rows) -> None:
        """Scores the rows not scored yet, in one product: a row scores the same in any batch."""
        if self._scores is None:
            self._scores = np.zeros((len(self.rows), len(self.index.rows)))
            self._scored = [False] * len(self.rows)
        missing = [j for j in rows if not self._scored[j]]
        if missing:
            texts = [self.text(j) for j in missing]
            tasks = _denoised([task for task, _ in texts])
            self._scores[missing] = self.index._score_texts([(t, c) for t, (_, c) in zip(tasks, texts)])
            for j in missing:
                self._scored[j] = True

    def scores(self, i: int) -> np.ndarray:
        return self.scores_of([i])[0]

    def match(self, i: int, city_keys: bool = False, own_numbers: bool = False) -> tuple[list[int], float, str]:
        self.decide([i], city_keys, own_numbers)
        seqs, confidence, method = self._found[i, city_keys, own_numbers and self.rows[i].seq is not None]
        return list(seqs), confidence, method

    def decided(self, city_keys: bool, own_numbers: bool) -> list[tuple[list[int], float, str]]:
        """Every row's mapping, once ``decide`` has made it."""
        found = self._found
        return [(list(seqs), confidence, method) for seqs, confidence, method in
                (found[i, city_keys, own_numbers and row.seq is not None] for i, row in enumerate(self.rows))]

    def decide(self, rows, city_keys: bool, own_numbers: bool) -> None:
        """Map the given rows: by key, else by an earlier decision on the same text, else by name, else by the
        scores of all the rows left, in one batch."""
        index, found, decided = self.index, self._found, self.index._decided
        pending: list[tuple[int, tuple, tuple]] = []  # (row, its key in found, its key in decided)
        for i in rows:
            row = self.rows[i]
            own = own_numbers and row.seq is not None
            if (i, city_keys, own) in found:
                continue
            if city_keys:
                key = row.extra.get("任务键")
                if key and key.isdigit() and int(key) in index.by_seq:
                    found[i, city_keys, own] = (int(key),), 1.0, "key"
                    continue
            cache_key = (row.seq if own else None, *self.text(i))
            result = decided.get(cache_key)
            if result is None:
                result = index._by_name(*cache_key)
                if result is None:
                    pending.append((i, (i, city_keys, own), cache_key))
                    continue
                _remember(decided, cache_key, result)
            found[i, city_keys, own] = result
        if pending:
            scores = self.scores_of([i for i, _, _ in pending])
            for (_, at, cache_key), result in zip(pending, index._by_scores([k for _, _, k in pending], scores),
                                                  strict=True):
                found[at] = result
                _remember(decided, cache_key, result)


def _remember(decided: dict, key: tuple, result: tuple) -> None:
    if len(decided) >= _CACHE_MAX:  # a worker's memory stays bounded however many files it maps
        decided.clear()
    decided[key] = result
