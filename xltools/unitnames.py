"""Splitting unit cells (牵头单位/责任单位) into single names, as written.

This is the directory-free part of unit handling: separators, names broken across lines, names
run together with no separator. Checking names against a region's directory builds on it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice

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
_COLLECTIVE_AT = re.compile(r"(?<=[\u4e00-\u9fff])等(?=(?:有关|相关|其他|各).)")
# Spaces in a unit cell: between two names (a 填报说明 asked for them, or a clerk typed them) or inside one
# (conversion artefacts, justified text). ``clean`` deletes spaces next to CJK text, so the two are told
# apart on the raw text, before cleaning.
_SPACES = re.compile(r"([ \t\u3000\xa0]+)")
# A head office or a party/government organ: what follows it without a unit prefix is its own branch or
# department (国家金融监督管理总局 济南监管分局, 国家税务总局 济南市税务局, 区委 宣传部), not another unit.
_PARENT_END = re.compile(r"(?:总局|总行|总公司|总部|[区市县省]委|[区市县省](?:人民)?政府)$")
# Words that continue the name before them: 市卫生健康委 等有关部门, 区财政局 （牵头）
_CONTINUES = re.compile(r"^(?:等|及|和|与|以及|[（(〔\[【])")


# A suffix, a closing bracket and the line end ``$`` allows: the last characters decide, so the check stays
# O(1) on the long texts (a whole cell run together, a line of a pasted document) it is asked about.
_SUFFIX_SPAN = max(map(len, UNIT_SUFFIXES)) + 2
# Enough of a name's end for ends_like_unit and _PARENT_END (区人民政府 is the longest ending it looks at).
_TAIL = 16


def ends_like_unit(name: str) -> bool:
    return _ends_like_unit_at(name, len(name))


def _ends_like_unit_at(text: str, end: int, start: int = 0) -> bool:
    """``ends_like_unit(text[start:end])`` without the slice."""
    return bool(_SUFFIX_RE.search(text, max(start, end - _SUFFIX_SPAN), end))


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
    # Each name is collected as a list of pieces and joined once: a line of thousands of spaced words
    # must not copy the growing name at every space. Only its last characters are looked at.
    parts, current, tail, depth = [], [words[0]], words[0][-_TAIL:], 0
    for i, gap in enumerate(gaps):
        depth = max(0, depth + sum(ch in "（(〔[【" for ch in words[i]) - sum(ch in "）)〕]】" for ch in words[i]))
        if depth == 0 and _separates(tail, words, i + 1):
            parts.append("".join(current))
            current, tail = [words[i + 1]], words[i + 1][-_TAIL:]
        else:
            current += (gap, words[i + 1])
            tail = (tail + gap + words[i + 1])[-_TAIL:]
    parts.append("".join(current))
    return parts


def _separates(before: str, words: list[str], start: int) -> bool:
    """Whether a space between ``before`` (the name so far, or its last _TAIL characters) and the words
    ``words[start:]`` after it separates two names."""
    after = words[start]
    nxt = _SEPARATORS.split(after)[0] if after else ""
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
    for word in islice(words, start, None):
        head = _SEPARATORS.split(word)[0]
        text += head
        if ends_like_unit(text):
            return not _BRANCH_TAIL_RE.match(text)
        if head != word:
            break
    return False


def split_run_together(name: str) -> list[str]:
    """'区人力资源社会保障局区卫生健康局' → two names; a branch like '市生态环境局市中分局' stays one.

    Each name is cut at the first place where the text before it ends like a unit (its brackets
    balanced) and the rest starts and ends like one and is not a branch's tail; the rest is cut the same way.
    """
    # Every rest ends where the whole name ends: if that is not like a unit, nothing is cut.
    if len(name) < 7 or not ends_like_unit(name):
        return [name]
    names, start = [], 0
    while len(name) - start >= 7:
        cut = _first_cut(name, start)
        if cut is None:
            break
        names.append(name[start:cut])
        start = cut
    names.append(name[start:])
    return names


_BRANCH_TAIL_MAX = 6  # the longest text _BRANCH_TAIL_RE matches: 3 characters, 区, 分局


def _first_cut(name: str, start: int) -> int | None:
    """Where ``split_run_together`` cuts ``name[start:]``, or None; one pass, brackets counted as it goes
    (a cell of thousands of names run together is cut in linear time)."""
    full = half = 0  # （ minus ） and ( minus ) in name[start:i]
    for i in range(start, len(name) - 3):
        if i > start:
            ch = name[i - 1]
            full += (ch == "（") - (ch == "）")
            half += (ch == "(") - (ch == ")")
        if i - start < 3 or full or half or not name.startswith(UNIT_PREFIXES, i):
            continue
        if not _ends_like_unit_at(name, i, start):
            continue
        if len(name) - i <= _BRANCH_TAIL_MAX and _BRANCH_TAIL_RE.match(name[i:]):
            continue
        return i
    return None


def join_broken_lines(lines: list[str]) -> list[str]:
    """Lines of one unit cell: a line that does not end like a unit continues on the next line."""
    out: list[list[str]] = []  # each name's lines, joined once at the end
    tail = ""  # the last characters of out[-1], all the tests below look at
    for line in (clean(x) for x in lines):
        if not line:
            continue
        if out and not ends_like_unit(tail) and not tail.endswith(("、", "，", "；")):
            out[-1].append(line)
            tail = (tail + line)[-_TAIL:]
        else:
            out.append([line])
            tail = line[-_TAIL:]
    return ["".join(name) for name in out]


def _stripped_parts(line: str):
    for part in split_top_level(line):
        part = part.strip("。.；;，,、 ")
        if part:
            yield part


def split_separated(line: str) -> list[str]:
    """One line of a unit cell split on its separators, with generic words put back (区有关部门、单位)."""
    parts: list[str] = []
    for part in _stripped_parts(line):
        if part in _GENERIC and parts:
            parts[-1] = f"{parts[-1]}、{part}"
        else:
            parts.append(part)
    return parts


def collective_tail(part: str) -> tuple[str, str] | None:
    """'市卫生健康委等有关部门（单位）' → ('市卫生健康委', '有关部门（单位）'), else None."""
    # The first 等 after a unit's name and before 有关/相关/其他/各 and more text (区等有关部门 is no unit's;
    # a later 等 may be). Parts hold no line breaks.
    for m in _COLLECTIVE_AT.finditer(part, 1):
        if _ends_like_unit_at(part, m.start()):
            return part[:m.start()], part[m.end():]
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
        for part in _stripped_parts(line):
            for name in _part_names(part):
                # generic words put back as split_separated does, across lines too (区有关部门 / 单位)
                if name in _GENERIC and names:
                    names[-1] = f"{names[-1]}、{name}"
                else:
                    names.append(name)
    return names


def _part_names(part: str) -> list[str]:
    """One part between separators → its names: a collective tail cut off (市卫生健康委等有关部门（单位）) and
    read again, as it may run on into more names (…（单位）区财政局等有关部门); names run together cut apart."""
    names: list[str] = []
    while (tail := collective_tail(part)) is not None:
        names.extend(split_run_together(tail[0]))
        part = tail[1]
    names.extend(split_run_together(part))
    return names
