"""``units learn``: a directory proposal for a region, from the names its ledgers actually use.

For a district the directory does not list yet: every unit name of its ledgers is collected, grouped
with its short forms, variants and rare misspellings (the rules of ``learn``), and each group becomes
one row of 单位名录 — the most frequent long form as 规范名称, the other spellings as 别名, a guessed 类型,
the city unit of the same name as 市级对应单位, and a 备注 saying 待核实 with how often and where each
spelling was seen. Nothing is invented: every name written is a spelling found in the ledgers. A clerk
checks the workbook in Excel and pastes the rows into units.xlsx.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..display import file_name
from ..errors import UnreadableInput
from ..model import Ledger
from .check import _COLLECTIVE_RE
from .directory import KIND_ZH, Directory, Region, Unit, load_directory, name_key, short_key, write_directory
from .learn import abbreviates, learn_spellings

_LEVEL_PREFIX = re.compile(r"^[区县]")
_CITY_FORMS = (("分局", "局"), ("局", "委"), ("大队", "支队"))
# 市生态环境局市中分局: the city bureau whose branch this is.
_CITY_BRANCH = re.compile(r"^(市.+?局).+(?:分局|支局|大队)$")
_VERTICAL = re.compile(r"税务|消防救援|金融监管|金融监督管理|人民银行|海关|气象|统计调查|烟草|邮政管理")
_COMPANY = re.compile(r"(?:中心|公司|集团)$")
_BRANCH = re.compile(r"(?:分局|支局|大队|中队)$")
_EVERY = re.compile(r"^[区市县]直?各")  # 区各产业链群工作专班: every such team, not one unit


@dataclass
class ProposedUnit:
    """One row of the proposal: a unit and every spelling of it seen, with where."""

    name: str
    aliases: list[str]
    kind: str  # as in Unit.kind: department, branch, vertical, company, collective
    counterparts: list[str]
    seen: dict[str, int]  # spelling → times written
    files: dict[str, int]  # file → times any spelling was written there
    typos: list[str] = field(default_factory=list)  # aliases that look like misspellings, not short forms

    @property
    def count(self) -> int:
        return sum(self.seen.values())

    def notes(self) -> str:
        where = "，".join(f"{f} {n}次" for f, n in self.files.items())
        spellings = "；".join(f"“{s}”{n}次" + ("（疑似错字）" if s in self.typos else "")
                              for s, n in self.seen.items() if s != self.name)
        text = f"待核实：共出现{self.count}次（{where}）"
        if spellings:
            text += f"；“{self.name}”{self.seen.get(self.name, 0)}次，{spellings}"
        return text

    def to_dict(self) -> dict:
        return {"name": self.name, "aliases": list(self.aliases), "kind": KIND_ZH[self.kind],
                "counterparts": list(self.counterparts), "seen": dict(self.seen), "files": dict(self.files),
                "typos": list(self.typos), "notes": self.notes()}


@dataclass
class DirectoryProposal:
    region: str
    units: list[ProposedUnit]
    sources: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # file → the other region it is a ledger of
    known: list[str] = field(default_factory=list)  # names the directory lists already (region or city)
    path: Path | None = None

    def to_dict(self) -> dict:
        return {"region": self.region, "out": str(self.path) if self.path else None, "sources": self.sources,
                "skipped": self.skipped, "known": self.known, "units": [u.to_dict() for u in self.units]}


def learn_directory(sources, region: str, out=None, units=None) -> DirectoryProposal:
    """Propose 单位名录 rows for ``region`` from its ledgers (any format ``extract`` reads); write them to ``out``.

    Ledgers whose title or metadata name another region are skipped. Names the directory already lists
    for the region, or as units of its city, are left out (``known``).
    """
    from ..readers import extract
    from ..xlio import check_output

    directory = units if isinstance(units, Directory) else load_directory(units)
    paths = [Path(s) for s in ([sources] if isinstance(sources, (str, Path)) else sources)]
    if out is not None:
        check_output(out, *paths, units if isinstance(units, str | Path) else None, suffix=".xlsx")
    ledgers: list[Ledger] = []
    skipped: dict[str, str] = {}
    for path in paths:
        ledger = extract(path)
        if ledger.region and ledger.region != region and ledger.region_from in ("meta", "title"):
            skipped[path.name] = ledger.region
            continue
        ledgers.append(ledger)
    if not ledgers:
        raise UnreadableInput(f"no ledger of {region} among {', '.join(p.name for p in paths)}",
                              f"所给文件中没有{region}的台账（" + "、".join(f"{f}是{r}的" for f, r in skipped.items())
                              + "）；请检查文件或 --region")
    if not any(ledger.rows or ledger.goals for ledger in ledgers):
        raise UnreadableInput(f"no task rows in {', '.join(p.name for p in paths)}",
                              f"所给文件中没有读到任何任务行（{'、'.join(file_name(p) for p in paths)}），无法整理单位名录；"
                              "请检查文件是否为该地区的台账或工作方案")
    proposal = propose(ledgers, region, directory)
    proposal.skipped = skipped
    if out is not None:
        proposal.path = write_proposal(proposal, directory, out)
    return proposal


def _written(ledgers: list[Ledger]) -> tuple[Counter, dict[str, str], dict[str, Counter]]:
    """Every unit name as written: times per name key, its first spelling, and times per file."""
    counts: Counter = Counter()
    spelled: dict[str, str] = {}
    files: dict[str, Counter] = {}
    for ledger in ledgers:
        names = ledger.unit_names() + [n for g in ledger.goals for n in g.lead_units]
        for name in names:
            key = name_key(name)
            if not key:
                continue
            counts[key] += 1
            spelled.setdefault(key, name)
            files.setdefault(key, Counter())[ledger.source or ""] += 1
    return counts, spelled, files


def propose(ledgers: list[Ledger], region: str, directory: Directory) -> DirectoryProposal:
    """The proposal from ledgers already read (``learn_directory`` without the files)."""
    counts, spelled, files = _written(ledgers)
    city = directory.parent(region)
    known_here = directory.index(region).choices if directory.has_region(region) else {}
    known_city = directory.index(city).choices if city and directory.has_region(city) else {}
    known = [spelled[k] for k in counts if k in known_here or k in known_city]
    keys = [k for k in counts if k not in known_here and k not in known_city]
    learned = learn_spellings(spelled[k] for k in keys for _ in range(counts[k]))
    # Union of each spelling with the one it was judged a form or misspelling of.
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    typos = set()
    for key, check in learned.items():
        target = name_key(check.canonical or (check.suggestions[0] if check.suggestions else ""))
        if target in parent:
            parent[root(key)] = root(target)
            if check.status == "typo":
                typos.add(key)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(root(key), []).append(key)
    proposed = [_unit(members, counts, spelled, files, typos, directory, city) for members in groups.values()]
    proposed.sort(key=lambda u: (u.kind == "collective", -u.count, u.name))
    return DirectoryProposal(region, proposed, [lg.source or "" for lg in ledgers], known=known)


def _unit(members: list[str], counts: Counter, spelled: dict[str, str], files: dict[str, Counter], typos: set[str],
          directory: Directory, city: str | None) -> ProposedUnit:
    # The canonical: a spelling no other member is the long form of, not a misspelling; the most used of those.
    longs = [k for k in members if k not in typos and not any(abbreviates(k, o) for o in members if o != k)] \
        or [k for k in members if k not in typos] or members
    canonical = max(longs, key=lambda k: (counts[k], len(k), k))
    ordered = sorted(members, key=lambda k: (k != canonical, -counts[k], k))
    where: Counter = Counter()
    for k in members:
        where.update(files[k])
    name = spelled[canonical]
    counterparts = _counterparts([spelled[k] for k in ordered if k not in typos], directory, city)
    return ProposedUnit(
        name=name, aliases=[spelled[k] for k in ordered if k != canonical], kind=_kind(name, counterparts, directory, city),
        counterparts=counterparts, seen={spelled[k]: counts[k] for k in ordered}, files=dict(where.most_common()),
        typos=[spelled[k] for k in ordered if k in typos])


def _counterparts(spellings: list[str], directory: Directory, city: str | None) -> list[str]:
    """The city unit of the same name (区财政局 → 市财政局; 区卫生健康局 → 市卫生健康委, 区公安分局 → 市公安局),
    or the city bureau a branch belongs to; none when the city's directory has no such unit."""
    if not city or not directory.has_region(city):
        return []
    index = directory.index(city)
    for name in spellings:
        key = name_key(name)
        candidates = []
        if _LEVEL_PREFIX.match(key):
            as_city = "市" + key[1:]
            candidates.append(as_city)
            # A district's 局 for a city's 委, its 分局 of a city 局, its 大队 of a city 支队.
            for district_end, city_end in _CITY_FORMS:
                if as_city.endswith(district_end):
                    candidates.append(as_city[:-len(district_end)] + city_end)
        branch = _CITY_BRANCH.match(key)
        if branch:
            candidates.append(branch.group(1))
        for candidate in candidates:
            unit = index.choices.get(candidate)
            if unit is None:
                found = index.short.get(short_key(candidate)) or []
                unit = found[0] if len({u.name for u in found}) == 1 else None
            if unit is not None and unit.kind != "collective":
                return [unit.name]
    return []


def _kind(name: str, counterparts: list[str], directory: Directory, city: str | None) -> str:
    if _COLLECTIVE_RE.search(name) or _EVERY.match(name):
        return "collective"
    if _VERTICAL.search(name):
        return "vertical"
    city_kind = next((u.kind for u in directory.region_units(city or "") if u.name in counterparts), None)
    if _BRANCH.search(name):
        return "vertical" if city_kind == "vertical" else "branch"
    if _COMPANY.search(name):
        return "company"
    return city_kind if city_kind in ("vertical", "company") else "department"


def write_proposal(proposal: DirectoryProposal, directory: Directory, out) -> Path:
    """The proposal as a directory workbook (单位名录 and 地区 sheets), for the clerk to check and paste."""
    known = directory.regions.get(proposal.region)
    region = known or Region(proposal.region, directory.level(proposal.region), directory.parent(proposal.region))
    units = [Unit(proposal.region, u.name, u.aliases, u.kind, u.counterparts, u.notes()) for u in proposal.units]
    return write_directory(Directory(units, {region.name: region}), out)
