"""Without a directory for a region: learn the spellings from the ledgers themselves.

A unit written one way eight times and another way once is probably the same unit; short and long
forms of one name (区市场监管局 / 区市场监督管理局) should not both appear. The majority spelling
wins; the others are flagged with it as the suggestion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rapidfuzz import fuzz

from .check import NameCheck
from .directory import name_key, short_key

FREQUENT = 3  # a spelling seen this often is an established one
RARE_SHARE = 0.34  # a near-duplicate seen at most this share as often as the frequent one is rare
# A typo replaces characters: same length, nearly the same text. Names of different length are
# usually different units (区公安分局 / 区公安局, 区城乡水务局 / 区水务局), and in short names one
# character is a different department (区民政局 / 区财政局), so neither counts without a directory.
TYPO_RATIO = 85
TYPO_MIN_LENGTH = 6


def learn_spellings(names: Iterable[str]) -> dict[str, NameCheck]:
    """name key → a NameCheck (status alias or typo, ``learned``) for each suspicious spelling."""
    counts = Counter(name_key(n) for n in names if n)
    spelled = {}
    for n in names:
        spelled.setdefault(name_key(n), n)
    found: dict[str, NameCheck] = {}
    groups: dict[str, list[str]] = {}
    for key in counts:
        groups.setdefault(short_key(key), []).append(key)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda k: (-counts[k], -len(k)))
        major = members[0]
        for key in members[1:]:
            found[key] = NameCheck(
                spelled[key], "alias", spelled[major], [spelled[major]],
                message=f"“{spelled[key]}”与“{spelled[major]}”（出现{counts[major]}次）是同一单位的不同写法")
    frequent = [k for k, c in counts.items() if c >= FREQUENT]
    for key, count in counts.items():
        if key in found:
            continue
        for major in frequent:
            if major == key or count > counts[major] * RARE_SHARE:
                continue
            close = len(key) == len(major) >= TYPO_MIN_LENGTH and fuzz.ratio(key, major) >= TYPO_RATIO
            if close:
                found[key] = NameCheck(
                    spelled[key], "typo", None, [spelled[major]],
                    message=f"“{spelled[key]}”只出现{count}次，与常用写法“{spelled[major]}”"
                            f"（{counts[major]}次）相近，疑似写错")
                break
    for check in found.values():
        check.learned = True
    return found
