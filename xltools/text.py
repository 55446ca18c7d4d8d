"""Text helpers shared by every reader: decoding, spacing, numbering, headings, region names."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from .errors import UnreadableInput

CJK = r"\u3400-\u9fff\uf900-\ufaff"
# CJK characters and full-width punctuation: spaces next to these are conversion artefacts.
_WIDE = CJK + r"\u3000-\u303f\uff00-\uffef“”‘’—…·"
_SPACE_NEAR_WIDE = re.compile(rf"(?<=[{_WIDE}])[ \t\u3000\xa0]+|[ \t\u3000\xa0]+(?=[{_WIDE}])")
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# 一、实施设备更新行动
ACTION_RE = re.compile(rf"^([一二三四五六七八九十]+)[、.．]\s*([{CJK}].*)$")
# （一）工业设备更新改造  /  (一) 工业装备更新改造
FIELD_RE = re.compile(r"^[（(]\s*([一二三四五六七八九十]+)\s*[）)]\s*(.*)$")
# 1.推动…  1、推动…  1．  (but not 2025年 or 1.3万)
NUMBER_RE = re.compile(r"^(\d{1,3})\s*[.、．](?!\d)\s*(.*)$")


def read_text(path: str | Path) -> tuple[str, str]:
    """Decode a text document: UTF-8 (with or without BOM), else GB18030. Returns (text, encoding)."""
    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        encoding = "utf-8" if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf") else encoding
        return text.replace("\r\n", "\n").replace("\r", "\n"), encoding
    raise UnreadableInput(
        f"{path}: not UTF-8 or GB18030 text",
        f"无法识别文件编码：{Path(path).name}（请另存为 UTF-8 或 GB18030 文本）",
    )


def clean(text: str | None) -> str:
    """Normalize one cell or paragraph: drop conversion artefacts and spaces next to CJK text."""
    # This runs for every cell read: each step only when its character is there (``in`` is a fast scan).
    if text is None:
        return ""
    if type(text) is not str:
        text = str(text)
    if "[" in text:
        text = _BOOKMARK.sub("", text)
    if "\u200b" in text:
        text = text.replace("\u200b", "")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    if " " in text or "\u3000" in text or "\t" in text or "\xa0" in text:
        text = _SPACE_NEAR_WIDE.sub("", text)
    return text.strip()


# What ``clean`` does besides stripping: the bookmark, spaces inside the text, zero widths and BOMs.
_MORE_THAN_STRIP = re.compile(r"[\[ \t\u3000\xa0\u200b\ufeff]")


def clean_cells(cells: list[str]) -> list[str]:
    """``clean`` of every cell of a row: one scan of the row tells whether stripping is all they need."""
    return list(map(clean if _MORE_THAN_STRIP.search("".join(cells)) else str.strip, cells))


# Full-width ASCII forms, the characters NFKC changes in most Chinese text, each with its NFKC form.
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")
_NARROWED = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFF01, 0xFF5F)}


def _nfkc(text: str) -> str:
    # NFKC recomposes the whole text once anything needs it (five times the cost); full-width forms
    # replaced by their NFKC forms first leave its result unchanged (NFKD is per character), and most
    # texts then need nothing more.
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    for ch in set(_FULL_WIDTH.findall(text)):
        text = text.replace(ch, _NARROWED[ch])
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """Comparison form: NFKC, no whitespace at all."""
    if not text:
        return ""
    return "".join(_nfkc(text).split())  # str.split's whitespace is the regex \s


def fold_all(texts: list[str]) -> list[str]:
    """``fold`` of each text, in a few passes over them all (a file's rows): NUL between them, which NFKC
    neither makes nor joins with a neighbour."""
    joined = "\0".join(texts)
    if not texts or joined.count("\0") != len(texts) - 1:
        return [fold(t) for t in texts]
    return "".join(_nfkc(joined).split()).split("\0")


def cn_number(text: str) -> int | None:
    """一 → 1, 十一 → 11, 二十八 → 28; None if not a Chinese numeral."""
    if not text or any(ch not in CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS[ch]
    return total + current


def norm_field_heading(text: str) -> str:
    """'(一) 工业装备更新改造。' → '（一）工业装备更新改造'."""
    m = FIELD_RE.match(clean(text))
    if not m:
        return clean(text).rstrip("。")
    return f"（{m.group(1)}）{m.group(2).strip().rstrip('。')}"


def norm_action_heading(text: str) -> str:
    m = ACTION_RE.match(clean(text))
    if not m:
        return clean(text)
    return f"{m.group(1)}、{m.group(2).strip().rstrip('。')}"


def heading_title(heading: str) -> str:
    """'（二十七）加强组织领导' → '加强组织领导'."""
    for regex in (FIELD_RE, ACTION_RE):
        m = regex.match(heading)
        if m:
            return m.group(2).strip().rstrip("。")
    return heading


_REGION_RE = re.compile(r"^(?P<city>[\u4e00-\u9fff]{1,6}?市)(?P<district>[\u4e00-\u9fff]{1,6}?[区县])?(?=推动|关于|人民政府|大规模|设备|$)")
_DISTRICT_ONLY_RE = re.compile(r"^(?P<district>[\u4e00-\u9fff]{1,6}?[区县])(?=推动|关于|人民政府|大规模|设备)")


def parse_region(title: str) -> tuple[str | None, str | None, str | None]:
    """Title → (region, level, city): 济南市章丘区推动… → (章丘区, 区县, 济南市)."""
    title = fold(title)
    m = _REGION_RE.match(title)
    if m:
        if m.group("district"):
            return m.group("district"), "区县", m.group("city")
        return m.group("city"), "市", m.group("city")
    m = _DISTRICT_ONLY_RE.match(title)
    if m:
        return m.group("district"), "区县", None
    return None, None, None


def column_letter(index: int) -> str:
    """1 → A, 26 → Z, 27 → AA (without importing openpyxl into every reader process)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def value_text(value) -> str:
    """A cell value read back from a workbook as stripped text: 3.0 → '3', None → ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def cell_text(value) -> str:
    """A calamine value as the clerk sees it: 3.0 → '3', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
