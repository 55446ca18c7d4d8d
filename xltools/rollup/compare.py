"""District targets summed against the city's: same metric, same unit, same year."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from ..text import fold
from .model import Mapping, Received, TargetComparison

METRIC_AT = 0.6  # metric similarity at which a district figure counts for a city target
_SCOPE = re.compile(r"^(全市|全区|全县|市级|区级|各区县|累计|新增|建成|实现|完成|达到|培育|建设|新建)+")


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


def _fits(city, district) -> float:
    if district.qualitative or district.value is None or district.unit != city.unit or district.kind != city.kind:
        return 0.0
    if city.year is not None and district.year is not None and city.year != district.year:
        return 0.0
    if city.per_year != district.per_year:
        return 0.0
    if city.unit != "%" and city.kind == "level" and _narrower(city.metric, district.metric):
        return 0.0  # a district's count of all such projects is not part of the city's narrower sum
    score = _alike(city.metric, district.metric)
    return score if score >= METRIC_AT else 0.0


def _best(city, candidates) -> float | int | None:
    scored = [(_fits(city, t), t) for t in candidates if t.unit == city.unit]
    scored = [x for x in scored if x[0] > 0]
    return max(scored, key=lambda x: x[0])[1].value if scored else None


def compare_targets(city_ledger, city_row_targets, city_goal_targets, received: list[Received],
                    mappings: list[Mapping]) -> list[TargetComparison]:
    """One comparison per numeric city target (task rows and 工作目标), with each district's figure."""
    regions = [r.region for r in received if r.region and r.ledger is not None]
    by_region_seq: dict[tuple[str, int], list] = {}
    row_index = {}
    for r in received:
        if r.ledger is None:
            continue
        for i, row in enumerate(r.ledger.rows):
            row_index[id(row)] = (r, i)
    for m in mappings:
        found = row_index.get(id(m.row))
        if not found:
            continue
        rec, i = found
        targets = rec.row_targets[i] if i < len(rec.row_targets) else []
        for seq in m.city_seqs:
            by_region_seq.setdefault((m.region, seq), []).append(targets)
    out: list[TargetComparison] = []
    for row, targets in zip(city_ledger.rows, city_row_targets):
        for t in targets:
            if t.qualitative or t.value is None:
                continue
            comp = _comparison(row.seq, row.task, t)
            for region in regions:
                values = [v for ts in by_region_seq.get((region, row.seq), []) if (v := _best(t, ts)) is not None]
                if values:
                    comp.districts[region] = sum(values) if comp.summable else values[0]
                else:
                    comp.missing.append(region)
            out.append(comp)
    goals_by_region = {r.region: [t for ts in r.goal_targets for t in ts] for r in received
                       if r.region and r.ledger is not None}
    for goal, targets in zip(city_ledger.goals, city_goal_targets):
        for t in targets:
            if t.qualitative or t.value is None:
                continue
            comp = _comparison(None, f"{goal.year or ''}年工作目标", t)
            for region in regions:
                value = _best(t, goals_by_region.get(region, []))
                if value is None:
                    comp.missing.append(region)
                else:
                    comp.districts[region] = value
            out.append(comp)
    return out


def _comparison(seq, task, t) -> TargetComparison:
    return TargetComparison(seq, task, t.metric or "", t.unit, t.year, t.comparator, t.value,
                            summable=t.unit != "%" and t.kind == "level", per_year=bool(t.per_year))
