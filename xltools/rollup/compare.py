"""District targets summed against the city's: same metric, same unit, same year."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain, repeat

from rapidfuzz import fuzz

from ..text import fold
from .model import Mapping, Received, TargetComparison

METRIC_AT = 0.6  # metric similarity at which a district figure counts for a city target
_SCOPE = re.compile(r"^(全市|全区|全县|市级|区级|各区县|累计|新增|建成|实现|完成|达到|培育|建设|新建)+")


@lru_cache(maxsize=200_000)
def _metric(text: str | None) -> str:
    return _SCOPE.sub("", fold(text or ""))


@lru_cache(maxsize=200_000)
def _alike(city: str | None, district: str | None) -> float:
    """How far a district's metric is the city's; cached, since districts repeat the same few hundred metrics."""
    a, b = _metric(city), _metric(district)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if a in b or b in a:
        return 0.9  # one names the same thing more fully (新能源汽车充电桩保有量, 充电桩保有量)
    return fuzz.ratio(a, b) / 100


def _narrower(city: str | None, district: str | None) -> bool:
    """The city's metric is a qualified subset of the district's: 亿元以上重点技术改造项目 ⊋ 重点技术改造项目."""
    a, b = _metric(city), _metric(district)
    return bool(b) and a != b and b in a


class _Best:
    """A city target's figure from a district's targets: the value of the one that fits it best (the first of
    equals), None when none fits. A metric's fit is worked out once per city target: districts repeat a few
    hundred metrics."""

    def __init__(self, city):
        self.city = city
        self._by_metric: dict[str | None, float] = {}
        self._test = city.unit, city.kind, city.year, city.per_year, self._by_metric

    def __call__(self, candidates) -> float | int | None:
        hit = self.pick(candidates)
        return None if hit is None else hit.value

    def pick(self, candidates):
        """The district target that fits best (the first of equals), or None."""
        unit, kind, year, per_year, by_metric = self._test
        best, found = 0.0, None
        for t in candidates:
            if t.unit != unit or t.kind != kind or t.qualitative or t.value is None or t.per_year != per_year:
                continue
            if year is not None and t.year is not None and year != t.year:
                continue
            score = by_metric.get(t.metric)
            if score is None:
                score = by_metric[t.metric] = self._fits(t.metric)
            if score > best:
                best, found = score, t
        return found

    def _fits(self, metric: str | None) -> float:
        """The fit of a district target of this metric that has the city target's unit, kind, year."""
        city = self.city
        if city.unit != "%" and city.kind == "level" and _narrower(city.metric, metric):
            return 0.0  # a district's count of all such projects is not part of the city's narrower sum
        score = _alike(city.metric, metric)
        return score if score >= METRIC_AT else 0.0


def compare_targets(city_ledger, city_row_targets, city_goal_targets, received: list[Received],
                    mappings: list[Mapping]) -> list[TargetComparison]:
    """One comparison per numeric city target (task rows and 工作目标), saying for each district what it
    reported: its figure (summed over its rows serving the task), a figure for another metric (named, not
    added up), the task covered without a figure, 不涉及, or the task not covered at all."""
    regions = [r.region for r in received if r.region and r.ledger is not None]
    targets_of: dict[int, list] = {}
    for r in received:
        if r.ledger is not None:  # a row past the targets read has none
            targets_of.update(zip(map(id, r.ledger.rows), chain(r.row_targets, repeat(None))))
    # city seq → region → the targets of each district row mapped to it, for the city tasks with a numeric
    # target; a region whose rows serving the task state no target is there with none
    by_seq: dict[int, dict[str, list]] = {row.seq: {} for row, targets in zip(city_ledger.rows, city_row_targets)
                                          if _numeric(targets)}
    na: dict[int, set[str]] = {}
    for m in mappings:
        for seq in m.city_seqs:
            if (by_region := by_seq.get(seq)) is not None:
                lists = by_region.setdefault(m.region, [])
                if targets := targets_of.get(id(m.row)):
                    lists.append(targets)
        for seq in m.na_seqs:
            na.setdefault(seq, set()).add(m.region)
    out: list[TargetComparison] = []
    for row, targets in zip(city_ledger.rows, city_row_targets):
        by_region = by_seq.get(row.seq, {})
        numeric = _numeric(targets)
        comps = [_comparison(row.seq, row.task, t) for t in numeric]
        bests = [_Best(t) for t in numeric]
        for region in regions:
            if region not in by_region:
                for comp in comps:
                    (comp.not_applicable if region in na.get(row.seq, ()) else comp.uncovered).append(region)
                continue
            mine = [t for ts in by_region[region] for t in _numeric(ts)]
            used: set[int] = set()
            for comp, best in zip(comps, bests):
                values = []
                for ts in by_region[region]:
                    hit = best.pick(ts)
                    if hit is not None:
                        values.append(hit.value)
                        used.add(id(hit))
                if values:
                    comp.districts[region] = sum(values) if comp.summable else values[0]
            _others(comps, region, [t for t in mine if id(t) not in used])
        out.extend(comps)
    goals_by_region = {r.region: [t for ts in r.goal_targets for t in ts] for r in received
                       if r.region and r.ledger is not None}
    for goal, targets in zip(city_ledger.goals, city_goal_targets):
        numeric = _numeric(targets)
        comps = [_comparison(None, f"{goal.year or ''}年工作目标", t) for t in numeric]
        bests = [_Best(t) for t in numeric]
        for region in regions:
            mine = _numeric(goals_by_region.get(region, []))
            for comp, best in zip(comps, bests):
                hit = best.pick(mine)
                if hit is not None:
                    comp.districts[region] = hit.value
            # (a goal figure that fits none of the city's goals is no figure "for another metric" of any one of
            # them: goals are not tasks, each of whose figures belongs to it)
            _others(comps, region, [])
        out.extend(comps)
    return out


def _others(comps: list[TargetComparison], region: str, unused: list) -> None:
    """A district's figures for a task that fit none of its city targets, each shown beside the city target of
    its unit (else the task's first) as another metric; a city target the district gives neither a figure
    nor another metric for has the district as covering it without a figure (``missing``)."""
    for t in unused:
        home = next((c for c in comps if c.unit == t.unit and region not in c.districts), None) or \
            next((c for c in comps if region not in c.districts), None)
        if home is not None:
            home.other.setdefault(region, []).append(_describe(t))
    for comp in comps:
        if region not in comp.districts and region not in comp.other:
            comp.missing.append(region)


def _describe(t) -> str:
    """A district's figure as the clerk reads it: 新建充电桩 120座, 2025年 充电桩 ≥120座."""
    from ..target_text import format_target

    return format_target(t)


def _numeric(targets) -> list:
    """The targets with a figure to compare (not 持续推进 and the like)."""
    return [t for t in targets if not t.qualitative and t.value is not None]


def _comparison(seq, task, t) -> TargetComparison:
    comp = TargetComparison(seq, task, t.metric or "", t.unit, t.year, t.comparator, t.value,
                            summable=t.unit != "%" and t.kind == "level", per_year=bool(t.per_year))
    comp.target = t
    return comp
