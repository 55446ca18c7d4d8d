"""Splitting unit cells (牵头单位/责任单位) into single names, as written.

This is the directory-free part of unit handling: separators, names broken across lines, names
run together with no separator. Checking names against a region's directory builds on it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import clean

# What a department's name ends with, and how the next name begins.
UNIT_SUFFIXES = (
    "局", "委", "办", "单位", "部门", "中心", "部", "公司", "集团", "大队", "支队", "中队", "社", "院", "委员会",
    "会", "处", "组", "班", "站", "所", "行", "室", "署", "厅", "政府", "街道", "办事处", "镇",
)
UNIT_PREFIXES = ("区", "市", "县", "镇", "街道", "国网", "国家", "人民银行", "中国", "省")
_SUFFIX_RE = re.compile("(?:" + "|".join(sorted(UNIT_SUFFIXES, key=len, reverse=True)) + r")[）)]?$")
# 市生态环境局市中分局, 市公安局市中区分局: a city bureau's branch, one unit. A tail that starts with the
# district's own prefix (区公安分局, 区生态环境分局) is a unit of its own.
_BRANCH_TAIL_RE = re.compile(r"^(?![区县])[\u4e00-\u9fff]{1,3}区?(?:分局|支局|分队|分行)$")
# Words that only make sense attached to the previous part: 区有关部门、单位
_GENERIC = {"单位", "部门", "单位）", "单位)", "部门（单位）"}
_SEPARATORS = re.compile(r"[、，,；;/／\n]+")
_OPENERS = re.compile(r"[（(〔\[【]")
_COLLECTIVE_TAIL = re.compile(r"^(?P<head>.+?[\u4e00-\u9fff])等(?P<tail>(?:有关|相关|其他|各).+)$")
# Spaces in a unit cell: between two names (a 填报说明 asked for them, or a clerk typed them) or inside one
# (conversion artefacts, justified text). ``clean`` deletes spaces next to CJK text, so the two are told
# apart on the raw text, before cleaning.
_SPACES = re.compile(r"([ \t\u3000\xa0]+)")
# A head office or a party/government organ: what follows it without a unit prefix is its own branch or
# department (国家金融监督管理总局 济南监管分局, 国家税务总局 济南市税务局, 区委 宣传部), not another unit.
_PARENT_END = re.compile(r"(?:总局|总行|总公司|总部|[区市县省]委|[区市县省](?:人民)?政府)$")
# Words that continue the name before them: 市卫生健康委 等有关部门, 区财政局 （牵头）
_CONTINUES = re.compile(r"^(?:等|及|和|与|以及|[（(〔\[【])")


def ends_like_unit(name: str) -> bool:
    return bool(_SUFFIX_RE.search(name))


def split_top_level(text: str) -> list[str]:
    """Split on separators that are not inside parentheses."""
    if not _OPENERS.search(text):  # the common case: no brackets, one regex split
        return [p for p in (clean(p) for p in _SEPARATORS.split(text)) if p]
    parts, depth, buf = [], 0, []
    for ch in text:
        if ch in "（(〔[【":
            depth += 1
        elif ch in "）)〕]】":
            depth = max(0, depth - 1)
        if depth == 0 and _SEPARATORS.fullmatch(ch):
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return [p for p in (clean(p) for p in parts) if p]


def split_spaces(line: str) -> list[str]:
    """One raw line of a unit cell → its parts at the spaces that separate two names, in order.

    A space separates names when the text before it ends like a unit and the text after it starts like
    one (a unit prefix, or it ends like a unit itself: 区财政局 公安天桥分局); any other space is an
    artefact inside a name (区 财政局) and stays, for ``clean`` to drop. A bureau's branch (市公安局 天桥分局),
    a head office's branch (国家金融监督管理总局 济南监管分局) and a bracket stay with the name before them.
    """
    if " " not in line and "\u3000" not in line and "\t" not in line and "\xa0" not in line:
        return [line]
    pieces = _SPACES.split(line.strip(" \t\u3000\xa0"))
    words, gaps = pieces[::2], pieces[1::2]
    parts, current, depth = [], words[0], 0
    for i, gap in enumerate(gaps):
        depth = max(0, depth + sum(ch in "（(〔[【" for ch in words[i]) - sum(ch in "）)〕]】" for ch in words[i]))
        if depth == 0 and _separates(current, words[i + 1:]):
            parts.append(current)
            current = words[i + 1]
        else:
            current += gap + words[i + 1]
    parts.append(current)
    return parts


def _separates(before: str, after: list[str]) -> bool:
    """Whether a space between ``before`` (the name so far) and the words ``after`` it separates two names."""
    nxt = _SEPARATORS.split(after[0])[0] if after[0] else ""
    if not nxt or not ends_like_unit(before) or _CONTINUES.match(nxt):
        return False
    if _BRANCH_TAIL_RE.match(nxt):
        return False
    if nxt.startswith(UNIT_PREFIXES):
        return True
    if _PARENT_END.search(before):
        return False
    # The next name may itself be spaced (公安天桥 分局): it starts here if the words up to a separator end like one.
    text = ""
    for word in after:
        head = _SEPARATORS.split(word)[0]
        text += head
        if ends_like_unit(text):
            return not _BRANCH_TAIL_RE.match(text)
        if head != word:
            break
    return False


def split_run_together(name: str) -> list[str]:
    """'区人力资源社会保障局区卫生健康局' → two names; a branch like '市生态环境局市中分局' stays one."""
    if len(name) < 7:
        return [name]
    for i in range(3, len(name) - 3):
        left, right = name[:i], name[i:]
        if not ends_like_unit(left) or not right.startswith(UNIT_PREFIXES):
            continue
        if _BRANCH_TAIL_RE.match(right) or not ends_like_unit(right):
            continue
        if left.count("（") != left.count("）") or left.count("(") != left.count(")"):
            continue
        return [left, *split_run_together(right)]
    return [name]


def join_broken_lines(lines: list[str]) -> list[str]:
    """Lines of one unit cell: a line that does not end like a unit continues on the next line."""
    out: list[str] = []
    for line in (clean(x) for x in lines):
        if not line:
            continue
        if out and not ends_like_unit(out[-1]) and not out[-1].endswith(("、", "，", "；")):
            out[-1] += line
        else:
            out.append(line)
    return out


def split_separated(line: str) -> list[str]:
    """One line of a unit cell split on its separators, with generic words put back (区有关部门、单位)."""
    parts: list[str] = []
    for part in split_top_level(line):
        part = part.strip("。.；;，,、 ")
        if not part:
            continue
        if part in _GENERIC and parts:
            parts[-1] = f"{parts[-1]}、{part}"
        else:
            parts.append(part)
    return parts


def collective_tail(part: str) -> tuple[str, str] | None:
    """'市卫生健康委等有关部门（单位）' → ('市卫生健康委', '有关部门（单位）'), else None."""
    m = _COLLECTIVE_TAIL.match(part)
    if m and ends_like_unit(m.group("head")):
        return m.group("head"), m.group("tail")
    return None


def split_units(text: str | list[str] | None) -> list[str]:
    """A unit cell (text, or its lines) → single names, as written, in order."""
    if not text:
        return []
    if isinstance(text, str):
        return list(_split_cell(text))  # a copy: callers may change their list
    return _split_lines(text)


@lru_cache(maxsize=50_000)
def _split_cell(text: str) -> tuple[str, ...]:
    # The same unit cells recur in every row and every district: split each text once.
    return tuple(_split_lines(text.split("\n")))


def _split_lines(lines: list[str]) -> list[str]:
    names: list[str] = []
    for line in join_broken_lines(["、".join(split_spaces(x)) for x in lines]):
        for part in split_separated(line):
            tail = collective_tail(part)
            if tail:
                names.extend(split_run_together(tail[0]))
                names.append(tail[1])
            else:
                names.extend(split_run_together(part))
    return names
