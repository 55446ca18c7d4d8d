"""Without a directory for a region: learn the spellings from the ledgers themselves.

A unit written one way eight times and another way once is probably the same unit; short and long
forms of one name (区住建局 / 区住房城乡建设局) should not both appear. Within one district every variant
of a name counts (the majority spelling wins); across districts only true abbreviations do, since
districts name their departments differently (区发展改革局 / 区发展和改革局 are both official names) but
区住建局 is nobody's official name. The others are flagged with the majority long form as the suggestion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from itertools import combinations

from rapidfuzz import fuzz

from ..unitnames import UNIT_PREFIXES
from .check import NameCheck
from .directory import name_key, short_key

FREQUENT = 3  # a spelling seen this often is an established one
RARE_SHARE = 0.34  # a near-duplicate seen at most this share as often as the frequent one is rare
# A typo replaces characters: same length, nearly the same text. Names of different length are
# usually different units (区公安分局 / 区公安局, 区城乡水务局 / 区水务局), and in short names one
# character is a different department (区民政局 / 区财政局), so neither counts without a directory.
TYPO_RATIO = 85
TYPO_MIN_LENGTH = 6
FEW = 16  # frequent names of one length compared one by one; more are indexed (``_near_keys``)
DELETIONS = 2  # names that may differ in up to this many characters are indexed by their deletions

# A unit's kind, the end of its name: longest first, so 区公安分局 (分局) and 区公安局 (局) differ in kind.
_UNIT_END = re.compile("(?:" + "|".join(sorted((
    "分局", "支局", "总局", "分行", "支行", "分公司", "管委会", "委员会", "办公室", "中心", "大队", "支队", "中队",
    "集团", "公司", "局", "委", "办", "部", "院", "社", "所", "站", "会", "处", "室", "行", "署", "厅", "组", "队",
), key=len, reverse=True)) + ")$")
_PREFIX = re.compile("^(?:" + "|".join(sorted(UNIT_PREFIXES, key=len, reverse=True)) + ")")
_CONNECTIVES = re.compile("[和与及]")
_LIST = re.compile(r"[、，,；;/／\s]")


@lru_cache(maxsize=100_000)
def name_parts(key: str) -> tuple[str, str, str] | None:
    """A name key → (head, middle, kind): 区住房城乡建设局 → ('区住', '房城乡建设', '局').

    The head is the level prefix and the first character of the department (two characters when there is
    no prefix): two forms of one unit start alike. None for a name too short to abbreviate.
    """
    end = _UNIT_END.search(key)
    if not end or _LIST.search(key):  # a whole cell passed as one name is no name to abbreviate
        return None
    prefix = _PREFIX.match(key)
    head_len = (prefix.end() if prefix else 1) + 1
    if end.start() < head_len:
        return None
    return key[:head_len], key[head_len:end.start()], end.group(0)


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def abbreviates(short: str, long: str, variants: bool = True) -> bool:
    """Whether ``short`` is a short form of ``long`` (name keys): same head and kind, and the short middle's
    characters in order in the long middle — 区住建局 / 区住房城乡建设局, 区人社局 / 区人力资源社会保障局.

    A long name with its last words cut off is another unit (区教育局 / 区教育和体育局, 区工业信息化局 /
    区工业信息化和科技局), not a short form. ``variants=False``: nor is a name that only drops 和/与/及
    (区发展改革局 / 区发展和改革局), which different districts write as their official names.
    """
    a, b = name_parts(short), name_parts(long)
    return a is not None and b is not None and a[0] == b[0] and a[2] == b[2] and _shortens(a[1], b[1], variants)


def _shortens(short: str, long: str, variants: bool) -> bool:
    if len(short) >= len(long) or long.startswith(short) or not _subsequence(short, long):
        return False
    return variants or _CONNECTIVES.sub("", long) != short


def _short_forms(keys: Iterable[str], variants: bool = True) -> dict[str, list[str]]:
    """short key → the longer keys it abbreviates.

    Only names of one (head, kind) group are compared, and within a group only those holding every
    character of the short middle (an index by character): the cost follows the names, not their pairs.
    """
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key in keys:
        parts = name_parts(key)
        if parts and parts[1]:
            groups.setdefault((parts[0], parts[2]), []).append((parts[1], key))
    found: dict[str, list[str]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        holding: dict[str, set[int]] = {}
        for j, (middle, _) in enumerate(members):
            for ch in middle:
                holding.setdefault(ch, set()).add(j)
        for middle, key in members:
            sets = sorted((holding[ch] for ch in set(middle)), key=len)
            for j in sets[0].intersection(*sets[1:]):
                other_middle, other = members[j]
                if _shortens(middle, other_middle, variants):
                    found.setdefault(key, []).append(other)
    for longs in found.values():
        longs.sort()  # the order of a set: made stable, so ties are broken the same in every process
    return found


def _spellings(names: Iterable[str]) -> dict[str, dict[str, int]]:
    """name key → how often each written form of it occurs."""
    forms: dict[str, dict[str, int]] = {}
    for n, count in Counter(names).items():  # a name is keyed once, however often it is written
        if n:
            mine = forms.setdefault(name_key(n), {})
            mine[n] = mine.get(n, 0) + count
    return forms


def _usual(forms: dict[str, int]) -> str:
    # The most frequent written form (on a tie the one written as its key: no stray spaces), not the first
    # seen: that depends on the order the files were read in, and a rebuild reads them in another order.
    if len(forms) == 1:
        return next(iter(forms))
    return min(forms, key=lambda form: (-forms[form], name_key(form) != form, form))


def _spelled(names: Iterable[str]) -> tuple[Counter, dict[str, str]]:
    forms = _spellings(names)
    counts = Counter({key: sum(c.values()) for key, c in forms.items()})
    return counts, {key: _usual(c) for key, c in forms.items()}


def learn_spellings(names: Iterable[str], typos: bool = True) -> dict[str, NameCheck]:
    """name key → a NameCheck (status alias or typo, ``learned``) for each suspicious spelling of one district;
    ``typos=False``: the aliases only."""
    counts, spelled = _spelled(names)
    found: dict[str, NameCheck] = {}
    groups: dict[str, list[str]] = {}
    for key in counts:
        groups.setdefault(short_key(key), []).append(key)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda k: (-counts[k], -len(k), k))
        major = members[0]
        for key in members[1:]:
            found[key] = NameCheck(
                spelled[key], "alias", spelled[major], [spelled[major]],
                message=f"“{spelled[key]}”与“{spelled[major]}”（出现{counts[major]}次）是同一单位的不同写法")
    for key, longs in _short_forms(counts).items():
        longs = [k for k in longs if short_key(k) != short_key(key)]  # those are weighed by count above
        if not longs:
            continue
        # The long form (or the majority spelling of it) is the suggestion, however often the short one is used.
        best = max(longs, key=lambda k: (counts[k], len(k)))
        major = found[best].canonical if best in found else spelled[best]
        found[key] = NameCheck(
            spelled[key], "alias", major, [major],
            message=f"“{spelled[key]}”是“{major}”的简称，同一台账中两种写法都有，应统一写全称")
    if typos:
        _typos(counts, spelled, found)
    for check in found.values():
        check.learned = True
    return dict(sorted(found.items()))  # in no order the files were read in


class Tally:
    """How often each name key is written, in how many districts, and in which forms: built district by
    district where the files are read, merged in the parent (counts add up, so the order does not matter)."""

    def __init__(self):
        self.counts: Counter = Counter()
        self.districts: Counter = Counter()
        self.forms: dict[str, dict[str, int]] = {}

    def __bool__(self) -> bool:
        return bool(self.counts)

    def add(self, names: Iterable[str]) -> None:
        """One district's names."""
        for key, mine in _spellings(names).items():
            self._add(key, sum(mine.values()), 1, mine)

    def merge(self, other: Tally) -> None:
        for key, mine in other.forms.items():
            self._add(key, other.counts[key], other.districts[key], mine)

    def _add(self, key: str, count: int, districts: int, mine: dict[str, int]) -> None:
        self.counts[key] += count
        self.districts[key] += districts
        theirs = self.forms.get(key)
        if theirs is None:
            self.forms[key] = dict(mine)
        else:
            for form, n in mine.items():
                theirs[form] = theirs.get(form, 0) + n

    def learn(self) -> dict[str, NameCheck]:
        """``learn_across`` of the districts added."""
        counts, districts = self.counts, self.districts
        spelled = {key: _usual(c) for key, c in self.forms.items()}
        found: dict[str, NameCheck] = {}
        for key, longs in _short_forms(counts, variants=False).items():
            best = max(longs, key=lambda k: (districts[k], counts[k], len(k)))
            found[key] = NameCheck(
                spelled[key], "alias", spelled[best], [spelled[best]],
                message=f"“{spelled[key]}”是简称，{districts[best]}个区县写作“{spelled[best]}”，应写全称")
        _typos(counts, spelled, found)
        _lone_typos(counts, districts, spelled, found)
        for check in found.values():
            check.learned = True
        return dict(sorted(found.items()))  # in no order the files were read in


def merge_learned(across: dict[str, NameCheck], own: dict[str, NameCheck]) -> dict[str, NameCheck]:
    """One district's spellings: its own (``learn_spellings``) over those learned across districts, except
    that an own suggestion the districts together find a typo gives way to that typo's suggestion.

    A district that writes 区住房城乡建没局 more often than 区住房城乡建设局 would otherwise be told to write
    its 区住建局 as the typo (and a safe fix would write it).
    """
    merged = {**across, **own}
    for key, check in own.items():
        wrong = across.get(name_key(check.canonical or ""))
        if check.status != "alias" or wrong is None or wrong.status != "typo" or not wrong.suggestions:
            continue
        right = wrong.suggestions[0]
        if name_key(right) == key:  # this district's own rarer spelling is the right one: nothing to tell it
            del merged[key]
            if key in across:
                merged[key] = across[key]
            continue
        message = (f"“{check.input}”是简称，应写全称“{right}”（本台账写的“{check.canonical}”疑似写错）"
                   if abbreviates(key, name_key(check.canonical)) else
                   f"“{check.input}”与“{check.canonical}”是同一单位的不同写法，应写作“{right}”"
                   f"（“{check.canonical}”疑似写错）")
        merged[key] = replace(check, canonical=right, suggestions=[right], message=message)
    return merged


def learn_across(names_by_district: Iterable[list[str]]) -> dict[str, NameCheck]:
    """Spellings learned across districts: rare typos, a spelling one district writes one character off one
    more districts write (``_lone_typos``), and short forms one district uses for a unit another district
    writes in full (区住建局 where others write 区住房城乡建设局).

    The suggestion is the long form most districts write. A name one district writes differently from
    another only by its official wording (区发展改革局 / 区发展和改革局) is not flagged here.
    """
    tally = Tally()
    for names in names_by_district:
        tally.add(names)
    return tally.learn()


def _typos(counts: Counter, spelled: dict[str, str], found: dict[str, NameCheck]) -> None:
    """A rare spelling one or two characters off a frequent one of the same length (区工业信息化和科枝局).

    Near-linear in the names: a name is compared (``fuzz.ratio``) only with the frequent names of its length
    that share an index key with it (``_near_keys``), which every name within ``TYPO_RATIO`` of it does; where
    a length has only a few frequent names, with all of them.
    """
    # Candidates most frequent first, then by name: the order names were first seen in (which file came
    # first) must not decide which of two frequent spellings a rare one is taken for.
    frequent = sorted((k for k, c in counts.items() if c >= FREQUENT and len(k) >= TYPO_MIN_LENGTH),
                      key=lambda k: (-counts[k], k))
    by_length: dict[int, list[int]] = {}
    for rank, major in enumerate(frequent):
        by_length.setdefault(len(major), []).append(rank)
    # Only a name seen at most RARE_SHARE as often as the most frequent one of its length can be a typo of one.
    rare = [(key, count) for key, count in counts.items() if key not in found and len(key) in by_length
            and count <= counts[frequent[by_length[len(key)][0]]] * RARE_SHARE]
    if not rare:
        return
    rarity = dict(Counter(ch for key in frequent for ch in set(key)))
    index: dict[tuple, list[int]] = {}  # index key → the frequent names (ranks) that have it
    for rank, major in enumerate(frequent):
        if len(by_length[len(major)]) > FEW:
            for token in _near_keys(major, rarity):
                index.setdefault(token, []).append(rank)
    for key, count in rare:
        ranks = by_length[len(key)]
        if len(ranks) > FEW:
            ranks = sorted({r for token in _near_keys(key, rarity) for r in index.get(token, ())})
        best, best_ratio = None, TYPO_RATIO
        for rank in ranks:
            major = frequent[rank]
            if major == key or count > counts[major] * RARE_SHARE:
                continue
            ratio = fuzz.ratio(key, major, score_cutoff=best_ratio)
            if ratio >= best_ratio and (best is None or ratio > best_ratio):
                best, best_ratio = major, ratio
        if best is not None:
            found[key] = NameCheck(
                spelled[key], "typo", None, [spelled[best]],
                message=f"“{spelled[key]}”只出现{count}次，与常用写法“{spelled[best]}”"
                        f"（{counts[best]}次）相近，疑似写错")


def _lone_typos(counts: Counter, districts: Counter, spelled: dict[str, str], found: dict[str, NameCheck]) -> None:
    """A spelling only one district writes, one character replaced in one that more districts (at least two)
    write: 区住房城乡建没局 / 区住房城乡建设局, however often that district repeats it. Only a district's own
    departments, named alike everywhere (``_generic``): names with a place in them differ by place. ``_typos`` weighs
    occurrences, and a district writing its typo on every row is no rare spelling by them.

    Names already found by another rule keep that finding, and are no suggestion. Near-linear in the names:
    a common name is indexed by each of its one-character deletions with the position deleted, which a name
    replacing that character shares (``_near_keys`` for d = 1, without the transpositions).
    """
    index: dict[tuple[int, str], list[str]] = {}
    for key, n in districts.items():
        if n >= 2 and _generic(key) and key not in found:
            for i in range(len(key)):
                index.setdefault((i, key[:i] + key[i + 1:]), []).append(key)
    if not index:
        return
    for key, n in districts.items():
        if n != 1 or not _generic(key) or key in found:
            continue
        near = [common for i in range(len(key)) for common in index.get((i, key[:i] + key[i + 1:]), ())
                if not _apart(key, common, i)]
        if near:
            # Most districts first, then by name: not the order the files were read in.
            best = min(near, key=lambda k: (-districts[k], -counts[k], k))
            found[key] = NameCheck(
                spelled[key], "typo", None, [spelled[best]],
                message=f"“{spelled[key]}”只有{n}个区县这样写，与{districts[best]}个区县写的“{spelled[best]}”"
                        f"只差一个字，疑似写错")


_NUMERALS = frozenset("0123456789〇零一二三四五六七八九十")
# Names that carry a place (a branch, a street, a company of one place): 市公安局历城分局 and 市公安局历下分局 are two
# districts' branches, one character apart.
_PLACED = ("分局", "支局", "分公司", "供电公司", "办事处", "管理委员会", "管委会", "分行", "支行", "派出所", "中队")


def _generic(key: str) -> bool:
    """A district's own department named as every district names its own (区住房城乡建设局, 县卫生健康局): where one
    character off the spelling other districts share is a slip, not another unit (not a name with a place in it)."""
    return len(key) >= TYPO_MIN_LENGTH and key[0] in "区县" and not key.endswith(_PLACED)


def _apart(one: str, other: str, i: int) -> bool:
    """Whether two names differing only in character ``i`` are nonetheless two units, or one in two wordings:
    numbered ones (区第一中学 / 区第二中学), another level (市住房城乡建设局 is the city's, 县… a county's),
    another kind (区卫生健康委 / 区卫生健康局: each district's official name), 和 / 与 / 及 swapped."""
    if one[i] in _NUMERALS and other[i] in _NUMERALS or _CONNECTIVES.match(one[i]) and _CONNECTIVES.match(other[i]):
        return True
    # The character is part of both prefixes, or of both kinds (区生态环境大局 is a typo of …分局, not a 局).
    prefixes = _PREFIX.match(one), _PREFIX.match(other)
    if all(prefixes) and i < min(p.end() for p in prefixes):
        return True
    kinds = _UNIT_END.search(one), _UNIT_END.search(other)
    return all(kinds) and i >= max(k.start() for k in kinds)


def _near_keys(key: str, rarity: dict[str, int]) -> set[tuple]:
    """Index keys of a name: two names of one length within ``TYPO_RATIO`` of each other share one.

    For names of length n, ``fuzz.ratio`` = 100 · LCS / n, so a near name differs in at most
    d = n − ⌈TYPO_RATIO · n / 100⌉ characters: deleting d characters from each gives the same text. Up to
    ``DELETIONS`` such characters the keys are those texts (n for d = 1, which covers 7 to 13 characters) and
    only near names share one. Longer names keep at least n − d of their characters, so two near ones share
    one of their d + 1 rarest (prefix filtering, as in set-similarity joins; a character with its occurrence).
    """
    n = len(key)
    d = n - -(-TYPO_RATIO * n // 100)
    if d == 0:
        return {(n, key)}
    if d == 1:
        return {(n, key[:i] + key[i + 1:]) for i in range(n)}
    if d <= DELETIONS:
        return {(n, "".join(key[i] for i in range(n) if i not in gone)) for gone in combinations(range(n), d)}
    tokens = sorted((rarity.get(ch, 0), ch, key.count(ch, 0, i)) for i, ch in enumerate(key))
    return {(n, ch, k) for _, ch, k in tokens[:d + 1]}
