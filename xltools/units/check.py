"""Checking unit names against a region's directory.

Each name is classified: ok · alias (→ canonical) · typo (→ suggestions) · wrong_level (→ the
region's counterpart) · collective · unknown; a cell holding several names run together is a
``split``. Fuzzy matching uses rapidfuzz; results are cached per (region, name) because real
ledgers repeat the same few dozen names thousands of times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from ..text import clean
from ..unitnames import collective_tail, join_broken_lines, split_run_together, split_separated, split_spaces
from .directory import Directory, Unit, name_key, short_key

# Worst first: the status of a cell with several names is its worst part's.
STATUS_ORDER = ("unknown", "typo", "wrong_level", "split", "alias", "collective", "ok")
SAFE_STATUSES = {"ok", "alias", "collective", "split"}  # what --fix may write without the clerk
TYPO_AT = 80  # rapidfuzz ratio at or above which an unknown name is a typo of a directory name
SUGGEST_AT = 67  # lower, and a 4-character alias (区发改局) pulls in unrelated names
_COLLECTIVE_RE = re.compile(r"^(各|有关|相关|属地|区直|市直|县直|其他|其它)|有关部门|相关部门|有关单位|相关单位|各部门")


@dataclass
class NameCheck:
    input: str
    status: str
    canonical: str | None = None
    suggestions: list[str] = field(default_factory=list)
    parts: list[NameCheck] = field(default_factory=list)
    message: str = ""
    level: str | None = None  # the level of the directory entry it matched (市 / 区县)
    learned: bool = False  # judged from the ledgers' own spellings, no directory for the region

    def to_dict(self) -> dict:
        return {
            "input": self.input,
            "status": self.status,
            "canonical": self.canonical,
            "suggestions": list(self.suggestions),
            "parts": [{k: v for k, v in p.to_dict().items() if k != "parts"} for p in self.parts],
        }

    @property
    def fixed(self) -> str:
        """What a safe fix writes for this name: the canonical name, else the name as written."""
        if self.parts:
            return "、".join(p.fixed for p in self.parts)
        if self.status == "collective":
            return self.input  # 各镇（街道）and the like are kept as the clerk wrote them
        return self.canonical if self.status in SAFE_STATUSES and self.canonical else self.input


def _worst(statuses) -> str:
    return min(statuses, key=STATUS_ORDER.index)


class Checker:
    """Name checks for one directory; cached, so repeated names cost a dict lookup."""

    def __init__(self, directory: Directory):
        self.directory = directory
        self._choices: dict[str, tuple] = {}
        self.check = lru_cache(maxsize=200_000)(self._check)
        self.cell = lru_cache(maxsize=200_000)(self._cell)  # cells repeat as much as names do

    def choices(self, region: str) -> tuple[list[str], list[Unit]]:
        return self._prepared(region)[:2]

    def _prepared(self, region: str):
        """Per region, built once: fuzzy choices, an anagram index, and the names for segmenting."""
        if region not in self._choices:
            items = self.directory.index(region).choices
            keys, units = list(items), list(items.values())
            anagrams: dict[str, list[Unit]] = {}
            for k, u in items.items():
                anagrams.setdefault("".join(sorted(k)), []).append(u)
            known = set(keys)
            parent = self.directory.parent(region)
            if parent:
                known |= set(self.directory.index(parent).choices)
            lengths = sorted({len(k) for k in known}, reverse=True)
            self._choices[region] = (keys, units, anagrams, known, lengths)
        return self._choices[region]

    def _cell(self, region: str, raw: str) -> CellCheck:
        return _check_cell(self, region, raw)

    def _lookup(self, region: str, name: str) -> tuple[str, Unit] | None:
        index = self.directory.index(region)
        key = name_key(name)
        if key in index.exact:
            return "ok", index.exact[key]
        if key in index.alias:
            return "alias", index.alias[key]
        units = index.short.get(short_key(name))
        if units and len({u.name for u in units}) == 1:
            return "alias", units[0]
        return None

    def _check(self, region: str, name: str) -> NameCheck:
        name = clean(name)
        directory = self.directory
        found = self._lookup(region, name)
        if found:
            status, unit = found
            if unit.kind == "collective":
                status = "collective"
            message = {"alias": f"“{name}”是简称或别称，规范名称为“{unit.name}”",
                       "collective": f"“{name}”是泛指的一类单位，不是具体单位"}.get(status, "")
            return NameCheck(name, status, unit.name, [], message=message, level=directory.level(region))
        # A unit of the other level: a city department in a district ledger, or the reverse.
        for other in [directory.parent(region), *directory.children(region)]:
            if not other or not directory.has_region(other):
                continue
            found = self._lookup(other, name)
            if not found:
                continue
            unit = found[1]
            if directory.level(region) != "市":  # a district or a 功能区 (高新区) answers to its city
                ours = [u.name for u in directory.counterpart_units(region, unit.name)]
                if not ours:
                    return NameCheck(name, "ok", unit.name, [], message=f"市级单位“{unit.name}”",
                                     level=directory.level(other))
            else:
                ours = list(unit.counterparts)
            return NameCheck(name, "wrong_level", unit.name, ours, level=directory.level(other),
                             message=f"“{name}”是{other}的单位，{region}台账应写"
                                     + ("、".join(f"“{o}”" for o in ours) if ours else "本级单位"))
        if _COLLECTIVE_RE.search(name):
            return NameCheck(name, "collective", None, [], message=f"“{name}”是泛指的一类单位，不是具体单位")
        split = self._segment(region, name)
        if split:
            return NameCheck(name, "split", None, [], split, f"“{name}”是{len(split)}个单位名称连写")
        suggestions = self._fuzzy(region, name)
        # Another district's name for a unit: map it through the city counterpart to ours.
        for sibling in directory.siblings(region):
            found = self._lookup(sibling, name)
            if found:
                ours = [u.name for c in found[1].counterparts for u in directory.counterpart_units(region, c)]
                ours = list(dict.fromkeys(ours))
                if ours:
                    return NameCheck(name, "unknown", None, ours,
                                     message=f"{region}没有“{name}”（这是{sibling}的单位名称），对应单位为"
                                             + "、".join(f"“{o}”" for o in ours))
        if suggestions and suggestions[0][1] >= TYPO_AT:
            best = [s for s, score in suggestions if score >= TYPO_AT]
            return NameCheck(name, "typo", None, best, message=f"“{name}”疑似错别字，是否为“{best[0]}”？")
        one_off = [s for s, _ in suggestions if len(s) >= 4 and Levenshtein.distance(name_key(s), name_key(name)) <= 1]
        if one_off:  # one character wrong in a short name (区财攻局): ratio alone says only 75
            best = one_off
            return NameCheck(name, "typo", None, best, message=f"“{name}”疑似错别字，是否为“{best[0]}”？")
        names = [s for s, _ in suggestions]
        hint = f"，相近的有：{'、'.join(names)}" if names else ""
        return NameCheck(name, "unknown", None, names, message=f"“{name}”不在{region}单位名录中{hint}")

    def _fuzzy(self, region: str, name: str) -> list[tuple[str, float]]:
        keys, units = self.choices(region)
        if not keys:
            return []
        key = name_key(name)
        hits = process.extract(key, keys, scorer=fuzz.ratio, limit=5, score_cutoff=SUGGEST_AT)
        out: dict[str, float] = {}
        for _, score, i in hits:
            unit = units[i]
            if unit.name not in out:
                out[unit.name] = score
        # Two characters swapped (统计服务 / 服务统计) read as a typo even when ratio is low.
        for unit in self._prepared(region)[2].get("".join(sorted(key)), []):
            out.setdefault(unit.name, 99.0)
        return sorted(out.items(), key=lambda kv: -kv[1])[:3]

    def _segment(self, region: str, name: str) -> list[NameCheck] | None:
        """Split a string of run-together names into known ones (区财政局区商务局), or None."""
        key = name_key(name)
        if len(key) < 6:
            return None
        _, _, _, keys, lengths = self._prepared(region)
        if not lengths or len(key) < 2 * lengths[-1]:
            return None
        best: dict[int, list[str] | None] = {len(key): []}
        for start in range(len(key) - 1, -1, -1):
            best[start] = None
            for n in lengths:
                piece = key[start:start + n]
                if len(piece) == n and piece in keys and best.get(start + n) is not None:
                    best[start] = [piece, *best[start + n]]
                    break
        pieces = best[0]
        if not pieces or len(pieces) < 2:
            return None
        return [self.check(region, p) for p in pieces]


@dataclass
class CellCheck:
    """A unit cell checked: its names, the cell as a safe fix would write it, and what was odd about it."""

    input: str
    names: list[NameCheck]
    fixed: str
    split: list[str] = field(default_factory=list)  # strings that were several names run together
    separators: bool = False  # separators other than 、 or line breaks (，；/ spaces)
    broken: list[str] = field(default_factory=list)  # names that were broken across lines

    @property
    def status(self) -> str:
        return _worst([n.status for n in self.names] + (["split"] if self.split else [])) if self.names else "ok"

    @property
    def changed(self) -> bool:
        return self.fixed != self.input


_CHECKERS: dict[int, Checker] = {}
_LAST_NAME = re.compile(r"[^、，,；;/／]*$")
_FIRST_NAME = re.compile(r"[^、，,；;/／]*")
_ODD_SEPARATORS = re.compile(r"[，,；;/／]|(?<=[局委办部心司团队社院会处组班站所])[ 　]+(?=\S)")


def checker(directory: Directory) -> Checker:
    found = _CHECKERS.get(id(directory))
    if found is None or found.directory is not directory:
        found = _CHECKERS[id(directory)] = Checker(directory)
    return found


STATUS_ZH = {"ok": "规范", "alias": "简称/别称", "typo": "疑似错字", "split": "多个名称连写", "wrong_level": "层级不符",
             "collective": "泛指", "unknown": "不在名录中"}


def describe_check(result: NameCheck) -> str:
    """A checked name as the clerk reads it (``xltools units check``, the add-in's 查询所选单位): its status,
    canonical name and suggestions, the message, then each name of a cell holding several."""
    def line(r: NameCheck) -> str:
        return (f"{r.input}：{STATUS_ZH[r.status]}"
                + (f" → {r.canonical}" if r.canonical and r.canonical != r.input else "")
                + (f"（建议：{'、'.join(r.suggestions)}）" if r.suggestions else ""))

    out = [line(result)]
    if result.message:
        out.append(f"  {result.message}")
    out += [f"  {line(part)}" for part in result.parts]
    return "\n".join(out)


def check_name(name: str, region: str, directory: Directory) -> NameCheck:
    """One name (or several written together) → its classification; the ``units check`` door."""
    cell = check_cell(name, region, directory)
    if len(cell.names) == 1 and not cell.split:
        return cell.names[0]
    message = f"“{clean(name)}”是{len(cell.names)}个单位名称连写或断行" if cell.split or cell.broken else ""
    return NameCheck(clean(name), cell.status, None, [], cell.names, message)


def check_cell(text: str | None, region: str, directory: Directory) -> CellCheck:
    """A 牵头单位/责任单位 cell: split it, check each name, and build the safe fix."""
    raw = "" if text is None else str(text)
    if not raw.strip():
        return CellCheck(raw, [], raw)
    return checker(directory).cell(region, raw)


def _spaced_line(self: Checker, region: str, line: str) -> str:
    """One line with the spaces that separate names written as 、; two pieces the rule split that the
    directory knows as one name (an unknown half, a known whole) are put back together."""
    pieces = [p for p in (clean(x) for x in split_spaces(line)) if p]
    if len(pieces) < 2:
        return pieces[0] if pieces else ""
    mended = [pieces[0]]
    for piece in pieces[1:]:
        # The names either side of the space: a piece may hold several names between other separators.
        before, after = _LAST_NAME.search(mended[-1]).group(0), _FIRST_NAME.match(piece).group(0)
        if "unknown" in (self.check(region, before).status, self.check(region, after).status) \
                and self.check(region, before + after).status in ("ok", "alias", "collective"):
            mended[-1] += piece
        else:
            mended.append(piece)
    return "、".join(mended)


def _check_cell(self: Checker, region: str, raw: str) -> CellCheck:
    check = self.check
    lines = [x for x in (_spaced_line(self, region, line) for line in raw.split("\n")) if x]
    joined = join_broken_lines(lines)
    # A name broken over two lines that the line-end rule missed: both halves unknown, together known.
    mended: list[str] = []
    for line in joined:
        if mended and check(region, mended[-1]).status == "unknown" and check(region, line).status == "unknown" \
                and check(region, mended[-1] + line).status in ("ok", "alias", "collective"):
            mended[-1] += line
        else:
            mended.append(line)
    broken = [x for x in mended if x not in lines]
    names: list[NameCheck] = []
    split: list[str] = []
    fixed_lines = []
    sep = "\n" if len(mended) > 1 else "、"  # one name per line stays so; a mended break does not count
    for line in mended:
        fixed_parts = []
        for part in split_separated(line):
            tail = collective_tail(part)
            head = tail[0] if tail else part
            found: list[NameCheck] = []
            # A listed name that looks like two (市公安局交通警察支队市中区大队) is one name.
            known = check(region, head).status in ("ok", "alias", "collective")
            pieces = [head] if known else split_run_together(head)
            for piece in pieces:
                result = check(region, piece)
                if result.status == "split" and result.parts:
                    found.extend(result.parts)
                else:
                    found.append(result)
            if len(found) > 1:
                split.append(head)
            fixed = sep.join(n.fixed for n in found)
            if tail:
                found.append(check(region, tail[1]))
                fixed += "等" + tail[1]  # the collective tail stays as written
            names.extend(found)
            fixed_parts.append(fixed)
        fixed_lines.append(sep.join(fixed_parts))
    fixed = sep.join(fixed_lines)
    odd = bool(_ODD_SEPARATORS.search(raw.strip()) or re.search(r"[ \t\u3000\xa0]", raw.strip()))
    return CellCheck(raw, names, fixed, split, odd, broken)
