"""PDF plans (.pdf), as offices publish them: a Word/WPS document printed to PDF, the ledger often attached as a
ruled table over many pages.

The text, in reading order, is pdfium's (pypdfium2): every character with its box. The attached table is found
by its ruling (pdfplumber's line strategy; only on pages that draw lines), and each character goes to the cell
its box is in. From there the document is what a .docx gives: paragraphs, and the first table with a ledger
header as rows of cells, read by the same code (``docx.assemble``).

What printing did is undone: page furniture (running headers and footers, “— 3 —”) is dropped, lines broken by
the page width are joined into their paragraphs (a line that reaches the right margin and a next line that
starts at the left one; the same inside a cell, whose width is its margins), a table continued over pages is
joined (its repeated header rows dropped; a row broken over a page break joined again), a merged cell fills the
rows it covers downwards (as python-docx reads a vertical merge; a cell covered from the left stays empty), and
glyphs fonts map to Kangxi radicals or CJK compatibility ideographs (⼀ for 一) are read as the ideographs.

A PDF without usable text — a scan, or fonts without a Unicode map — is refused: nothing here does OCR.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..display import file_name
from ..errors import UnreadableInput
from ..limits import LimitExceeded, current
from ..model import Ledger, Origin
from ..problems import Problem
from ..text import CJK, fold
from ..unitnames import UNIT_PREFIXES, ends_like_unit
from .grid import GridRow, find_header, header_columns

# Radicals, Kangxi radicals, CJK compatibility ideographs (and their supplement): what some fonts' Unicode maps
# give for ordinary characters (⼀ U+2F00 for 一). NFKC on these alone: full-width punctuation stays as printed.
_COMPAT = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
_CJK_CHAR = re.compile(f"[{CJK}]")
_SPACE_IN_CJK = re.compile(rf"(?<=[{CJK}\u3000-\u303f\uff00-\uffef])[ \u3000]+(?=[{CJK}\u3000-\u303f\uff00-\uffef])")
# Page numbers as printed: — 3 —, - 3 -, 3, ·3·, 第3页, 第3页 共20页, 3/20.
_PAGE_NUMBER = re.compile(r"^(?:[-—–－─·•\s]*\d{1,4}[-—–－─·•\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
                          r"|\d{1,4}\s*/\s*\d{1,4})$")
_CLOSING = set("，。、；：？！）》」』”’〕】%％,.;:?!)…·")
_OPENING = set("（《「『“‘〔【(")
_SENTENCE_END = ("。", "；", "！", "？", ".", ";")


def normalize_glyphs(text: str) -> str:
    """⼀⼆三 → 一二三: Kangxi radicals and CJK compatibility ideographs as the ideographs they stand for."""
    if not _COMPAT.search(text):
        return text
    return _COMPAT.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def drop_cjk_spaces(text: str) -> str:
    """“工 作 方 案” → “工作方案”: spaces between Chinese characters (letter-spaced titles, justified lines) go;
    a space beside a number or a Latin word (2025 年, GB 55015) stays, as the other readers see it."""
    return _SPACE_IN_CJK.sub("", text) if " " in text or "\u3000" in text else text


def is_page_number(text: str) -> bool:
    """“— 3 —”, “- 3 -”, “第3页 共20页”, “3/20”: a page number as printed."""
    return bool(_PAGE_NUMBER.match(text.strip())) and any(c.isdigit() for c in text)


class PdfWithoutText(UnreadableInput):
    "A PDF whose pages are images or whose fonts have no Unicode map: its text cannot be read (no OCR here)."


@dataclass
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    space_before: bool = False  # pdfium saw a space before it (a gap of a space's width in Latin text)

    @property
    def mid_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class _Line:
    chars: list[_Char]
    page: int
    width: int = 0  # its page's width, which its margins go with
    text: str = ""

    def __post_init__(self):
        while self.chars[-1].text.isspace():  # (a line has a character that is not a space)
            self.chars.pop()
        while self.chars[0].text.isspace():
            self.chars.pop(0)
        self.text = _line_text(self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def x1(self) -> float:
        return self.chars[-1].x1

    @cached_property
    def top(self) -> float:
        return min(c.top for c in self.chars)

    @cached_property
    def size(self) -> float:
        return max(Counter(round(c.size) for c in self.chars).most_common(1)[0][0], 1)


@dataclass
class _Cell:
    x0: float
    x1: float
    lines: list[_Line] = field(default_factory=list)

    def margins(self) -> tuple[float, float]:
        left = min(line.x0 for line in self.lines)
        return left, self.x1 - max(0.0, left - self.x0)  # cells are padded alike on both sides

    def text(self, kind: str = "cell", breaks: _Breaks | None = None) -> str:
        if not self.lines:
            return ""
        left, right = self.margins()
        return _reflow(self.lines, lambda _: (left, right), kind, breaks)


@dataclass
class _Table:
    page: int
    top: float
    bottom: float
    edges: list[float]  # the columns' x boundaries
    rows: list[list[_Cell | None]]  # None: covered by a cell merged across (from the left), kept empty
    bands: list[bool]  # a row that is one cell across the table


def _line_text(chars: list[_Char]) -> str:
    out: list[str] = []
    prev = None
    for c in chars:
        if prev is not None and (c.space_before or c.x0 - prev.x1 > 0.3 * max(c.size, prev.size)) \
                and c.text != " " and prev.text != " ":
            out.append(" ")
        out.append(c.text)
        prev = c
    return drop_cjk_spaces(normalize_glyphs("".join(out)).strip())


def _first_token_width(line: _Line) -> float:
    """The width the next line's first unbreakable piece needs: a Latin word or number (or one character), the
    punctuation that may not start a line after it, and an opening bracket with the piece it may not leave."""
    chars = line.chars

    def piece(i: int) -> int:
        if chars[i].text.isascii() and not chars[i].text.isspace():
            i += 1
            while i < len(chars) and chars[i].text.isascii() and not chars[i].text.isspace():
                i += 1
        else:
            i += 1
        while i < len(chars) and chars[i].text in _CLOSING:
            i += 1
        return i

    end = piece(0)
    if end < len(chars) and chars[end].text in _OPENING:
        while end < len(chars) and chars[end].text in _OPENING:
            end += 1
        if end < len(chars):
            end = piece(end)
    return chars[end - 1].x1 - chars[0].x0


@dataclass
class _Breaks:
    """How a document breaks its lines. ``slack``: the room (in characters, beyond what the next line's first
    piece needs) a line may leave and still wrap — under 1 where lines break between any two characters (Word),
    up to 3 where they break between words (LibreOffice); ``indented``: its paragraphs start indented."""

    slack: float = 0.5
    indented: bool = False


def _excess(line: _Line, nxt: _Line, left: float, right: float) -> float | None:
    """The room ``line`` leaves beyond what ``nxt``'s first piece needs, in characters; None where ``nxt``
    cannot continue it (another size, or ``line`` does not start at the left margin)."""
    size = line.size
    if abs(nxt.size - size) > 0.2 * size or line.x0 > left + 2.5 * size:
        return None
    need = _first_token_width(nxt)
    if line.chars[-1].text in _OPENING:
        need += line.chars[-1].x1 - line.chars[-1].x0
    return (right - line.x1 - need) / size


def _wraps(line: _Line, nxt: _Line, left: float, right: float, kind: str, breaks: _Breaks) -> bool:
    """Whether ``nxt`` continues ``line``'s paragraph (of a ``kind``: body, cell, units).

    ``line`` must run from the left margin to about where ``nxt``'s first piece would not have fitted. A line
    that ends a sentence (。) ends its paragraph unless it leaves no more room than the document's wrapped lines
    do (in an indented body, only the next line's indent starts a paragraph). A line of unit names that ends like
    a unit (…局) ends the name when the next line's first character would have fitted, or the next line starts
    like a unit (区…): two units, as a clerk would read them; a bracket (（筹备组）) or 等… goes with the name.
    """
    excess = _excess(line, nxt, left, right)
    if excess is None or excess >= 3.5:
        return False
    last = line.text.rstrip()[-1:]
    if kind == "units":  # a name ends where the next would have fitted, or before one that starts like a name
        if nxt.text[:1] in _OPENING or nxt.text.startswith(("等", "及", "和", "与")):
            return True  # （筹备组）, 等有关部门: the name's own
        return last not in "、，,；;" and not (ends_like_unit(line.text) and (
            excess > -0.1 or nxt.text.startswith(UNIT_PREFIXES)))
    if last in "。！？；：!?;:" and not (kind == "body" and breaks.indented):
        return excess < breaks.slack
    return True


def _reflow(lines: list[_Line], margins, kind: str = "cell", breaks: _Breaks | None = None) -> str:
    """Lines joined into paragraphs, one per line of the result (see ``_paragraphs``)."""
    return "\n".join(text for text, _ in _paragraphs(lines, margins, kind, breaks))


def _paragraphs(lines: list[_Line], margins, kind: str = "cell", breaks: _Breaks | None = None
                ) -> list[tuple[str, _Line]]:
    """Lines joined into paragraphs (each with its first line): a wrapped line joins the next one. In the body,
    an indented line starts a paragraph and a centered one continues a centered line that filled the width.
    ``margins(line)``: the (left, right) of the text ``line`` is in."""
    breaks = breaks or _Breaks()
    out = [(lines[0].text, lines[0])]
    for line, nxt in zip(lines, lines[1:]):
        left, right = margins(nxt)
        middle = (left + right) / 2
        wrapped = _wraps(line, nxt, left, right, kind, breaks)
        if wrapped and kind == "body" and nxt.x0 > left + 0.6 * nxt.size:
            wrapped = abs((nxt.x0 + nxt.x1) / 2 - middle) < 0.5 * nxt.size and nxt.x1 < right - 0.5 * nxt.size \
                and line.x0 < left + 0.6 * line.size
        if not wrapped:
            out.append((nxt.text, nxt))
            continue
        text, first = out[-1]
        space = text[-1:].isascii() and text[-1:].isalnum() and nxt.text[:1].isascii() and nxt.text[:1].isalnum()
        out[-1] = (f"{text} {nxt.text}" if space else text + nxt.text, first)
    return out


def _measure_breaks(pairs: list[tuple[_Line, _Line, float, float]]) -> _Breaks:
    """The document's ``_Breaks`` from its consecutive lines (line, next, left, right): the room lines that end
    mid-sentence (on a character, not punctuation) leave, and how many lines start indented."""
    excesses, indented, flush = [], 0, 0
    for line, nxt, left, right in pairs:
        size = nxt.size
        if left + 1.5 * size <= nxt.x0 <= left + 2.5 * size:
            indented += 1
        elif nxt.x0 < left + 0.6 * size:
            flush += 1
            last = line.text[-1:]
            excess = _excess(line, nxt, left, right)
            if excess is not None and excess < 3.5 and unicodedata.category(last) == "Lo":
                excesses.append(excess)
    breaks = _Breaks(indented=indented >= 3 and indented >= 0.05 * (indented + flush))
    if len(excesses) >= 5:
        excesses.sort()
        breaks.slack = min(3.5, max(0.5, excesses[int(0.9 * (len(excesses) - 1))] + 0.25))
    return breaks


class _Pdf:
    """One PDF's pages as characters, lines and ruled tables."""

    def __init__(self, path: Path):
        import pypdfium2 as pdfium

        self.path, self.name = path, file_name(path)
        try:
            self.doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise UnreadableInput(f"{path}: encrypted PDF ({exc})",
                                      f"无法读取：{self.name} 是加密的 PDF（打开需要密码），请索取未加密的文件") from exc
            raise UnreadableInput(f"{path}: not a readable PDF ({exc})",
                                  f"无法打开 PDF 文件：{self.name}（文件损坏或不是 PDF）") from exc

    def close(self) -> None:
        self.doc.close()

    def read(self) -> tuple[list[list[_Char]], list[int], list[int], list[bool]]:
        """Every page's characters (in pdfplumber's top-down coordinates) and width, the pages that draw lines (maybe a table),
        and which pages are images only."""
        import pypdfium2.raw as raw

        limits = current()
        pages = len(self.doc)
        if pages > limits.pages:
            raise LimitExceeded(f"{self.path}: {pages} pages, over the limit pages={limits.pages}",
                                f"PDF 页数过多，未读取：{self.name} 有 {pages:,} 页，超过上限 {limits.pages:,} 页"
                                f"（工作方案通常不到 100 页；如确需读取，可用 --limit pages=… 调整）", "pages")
        budget = limits.text_mb * 1024 * 1024 / 3  # characters: a Chinese character is 3 bytes of UTF-8
        seen = 0
        chars_of: list[list[_Char]] = []
        widths: list[int] = []
        ruled: list[int] = []
        images_only: list[bool] = []
        for index in range(pages):
            page = self.doc[index]
            try:
                paths = images = 0
                for i in range(raw.FPDFPage_CountObjects(page.raw)):
                    kind = raw.FPDFPageObj_GetType(raw.FPDFPage_GetObject(page.raw, i))
                    paths += kind in (raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM)
                    images += kind == raw.FPDF_PAGEOBJ_IMAGE
                left, bottom, right, top = page.get_mediabox()
                height = top - bottom  # pdfplumber's tables measure down from this over y = 0, x as is
                widths.append(round(right - left))
                textpage = page.get_textpage()
                try:
                    chars = []
                    space = False
                    for i in range(textpage.count_chars()):
                        text = chr(raw.FPDFText_GetUnicode(textpage.raw, i))
                        if raw.FPDFText_IsGenerated(textpage.raw, i):
                            space = space or text == " "  # pdfium's line ends are found again here
                            continue
                        if text in "\r\n\x00\ufffe" or (text.isspace() and text != " "):
                            continue
                        x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
                        chars.append(_Char(text, x0, x1, height - y1, height - y0,
                                           raw.FPDFText_GetFontSize(textpage.raw, i), space))
                        space = False
                finally:
                    textpage.close()
            finally:
                page.close()
            seen += len(chars)
            if seen > budget:
                raise LimitExceeded(f"{self.path}: over {budget:.0f} characters of text, over the limit "
                                    f"text_mb={limits.text_mb}",
                                    f"PDF 文字过多，未读取：{self.name} 的文字超过上限 {limits.text_mb:g} MB"
                                    f"（工作方案通常不到 1 MB；可用 --limit text_mb=… 调整）", "text_mb")
            chars_of.append(chars)
            if paths >= 4:
                ruled.append(index)
            images_only.append(images > 0 and sum(c.text.isalpha() for c in chars) < 10)
        return chars_of, widths, ruled, images_only

    def tables(self, pages: list[int]) -> dict[int, list[tuple[tuple[float, float, float, float], list]]]:
        """Ruled tables of ``pages``: (bbox, rows of cell bboxes or None) in top-down coordinates."""
        if not pages:
            return {}
        import pdfplumber

        found: dict[int, list] = {}
        try:
            with pdfplumber.open(str(self.path), pages=[p + 1 for p in pages]) as pdf:
                for index, page in zip(pages, pdf.pages):
                    tables = page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"})
                    found[index] = [(t.bbox, [list(r.cells) for r in t.rows]) for t in tables
                                    if len(t.rows) >= 2 and max(len(r.cells) for r in t.rows) >= 2]
                    page.close()
        except Exception as exc:  # pdfminer raises many kinds for a damaged file pdfium could still read
            raise UnreadableInput(f"{self.path}: tables unreadable ({exc!r})",
                                  f"无法读取 PDF 中的表格：{self.name}（文件损坏）") from exc
        return found


def _odd(ch: str) -> bool:
    """A character no font with a Unicode map gives: a control, private-use or unassigned one, or U+FFFD."""
    return ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cc", "Cs")


def _check_text(name: str, path: Path, chars_of: list[list[_Char]], images_only: list[bool]) -> list[Problem]:
    """Refuse a PDF without usable text: every page a picture (a scan; page numbers added to it do not count), no
    text at all, or text in fonts without a Unicode map (control characters, private-use glyphs, no Chinese).
    A page that is a picture amid pages of text, and a few characters that cannot be read, are problems."""
    text = "".join(c.text for chars in chars_of for c in chars if not c.text.isspace())
    what = f"无法读取 PDF 中的文字：{name}"
    todo = "本工具不做文字识别（OCR）。请向发文单位索取 Word/WPS 原件（.docx/.wps），或由 Word/WPS 直接导出的 PDF"
    if all(images_only) or len(text) < 20:
        scanned = any(images_only)
        raise PdfWithoutText(f"{path}: no text in the PDF ({'scanned images' if scanned else 'empty'})",
                             f"{what}{' 是扫描件或图片，' if scanned else ' 中'}没有可读取的文字。{todo}")
    odd = [ch for ch in text if _odd(ch)]
    if len(odd) > 0.05 * len(text) or len(_CJK_CHAR.findall(text)) < 0.1 * len(text):
        raise PdfWithoutText(f"{path}: fonts without a Unicode map ({len(odd)} of {len(text)} characters unreadable)",
                             f"{what} 所用字体没有文字编码，读出的是乱码。{todo}"
                             f"（在 PDF 阅读器中复制一段文字试试：能复制出正常汉字的 PDF 才可读取）")
    problems = [Problem("pdf-image-page", f"第{i + 1}页是图片（扫描件），其中的文字未读取（本工具不做文字识别）",
                        severity="warning", file=name, sheet=f"第{i + 1}页", value=f"第{i + 1}页",
                        suggestion="请索取 Word/WPS 原件或文本版 PDF 核对该页内容")
                for i, empty in enumerate(images_only) if empty]
    if odd:
        problems.append(Problem("pdf-unreadable-characters", f"有 {len(odd):,} 个字符的字体没有文字编码，无法识别"
                                f"（读出的文字中已去掉）", severity="warning", file=name,
                                suggestion="请索取 Word/WPS 原件核对"))
    return problems


def _lines(chars: list[_Char], page: int, width: int) -> list[_Line]:
    """Characters → lines: pdfium's order kept, a new line where a character starts below the line's middle or
    goes back to the left."""
    lines: list[list[_Char]] = []
    for c in chars:
        if lines:
            last = lines[-1][-1]
            if c.mid_y < last.bottom and c.mid_y > last.top and c.x0 > last.x0 - 0.5 * c.size:
                lines[-1].append(c)
                continue
        lines.append([c])
    return [_Line(sorted(cs, key=lambda c: c.x0), page, width) for cs in lines if "".join(c.text for c in cs).strip()]


def _cell_lines(chars: list[_Char], page: int) -> list[_Line]:
    """A cell's characters → its lines, top-down (within a cell, position is the order)."""
    rows: list[list[_Char]] = []
    for c in sorted(chars, key=lambda c: c.mid_y):
        if rows and c.mid_y - rows[-1][0].mid_y < 0.5 * c.size:
            rows[-1].append(c)
        else:
            rows.append([c])
    return [_Line(sorted(cs, key=lambda c: c.x0), page) for cs in rows if "".join(c.text for c in cs).strip()]


def _table(page: int, bbox, rows: list, chars: list[_Char]) -> _Table:
    """A pdfplumber table's cells filled with the page's characters; covered positions filled downwards."""
    boxes = [b for row in rows for b in row if b]
    edges = sorted({round(b[0], 1) for b in boxes} | {round(b[2], 1) for b in boxes})
    merged_edges: list[float] = []
    for x in edges:
        if not merged_edges or x - merged_edges[-1] > 2:
            merged_edges.append(x)
    inside: dict[tuple, list[_Char]] = {b: [] for b in boxes}
    for c in chars:
        x, y = (c.x0 + c.x1) / 2, c.mid_y
        for b in boxes:
            if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
                inside[b].append(c)
                break
    cells = {b: _Cell(b[0], b[2], _cell_lines(inside[b], page)) for b in boxes}
    grid: list[list[_Cell | None]] = []
    bands = []
    width = max(len(r) for r in rows)
    for row in rows:
        out: list[_Cell | None] = []
        tops = [b[1] for b in row if b]
        row_top = min(tops) if tops else None
        for c in range(width):
            b = row[c] if c < len(row) else None
            if b:
                out.append(cells[b])
                continue
            out.append(None)
            if row_top is None or c >= len(merged_edges) - 1:
                continue
            x = (merged_edges[c] + merged_edges[c + 1]) / 2
            cover = next((o for o in boxes if o[0] <= x <= o[2] and o[1] < row_top - 1 and o[3] > row_top + 1), None)
            if cover is not None and abs(cover[0] - merged_edges[c]) <= 2:
                out[-1] = cells[cover]  # a vertical merge: the rows it covers read its text, as in Word
        grid.append(out)
        filled = [b for b in row if b]
        bands.append(len(filled) == 1 and width > 1 and filled[0][2] - filled[0][0] > 0.8 * (bbox[2] - bbox[0]))
    return _Table(page, bbox[1], bbox[3], merged_edges, grid, bands)


def _texts(row: list[_Cell | None], units: tuple[int, ...] = (), breaks: _Breaks | None = None) -> list[str]:
    """A row's cell texts; ``units``: the columns of unit names."""
    return [c.text("units" if i in units else "cell", breaks) if c else "" for i, c in enumerate(row)]


def _furniture(lines_of: list[list[_Line]]) -> set[int]:
    """ids of the lines that are page furniture: a page number, or a line repeated at one place on most pages
    among the first or last three of its page."""
    pages = [p for p in lines_of if p]
    candidates = [(line, re.sub(r"\d+", "#", fold(line.text)), round(line.top / 3))
                  for p in pages for line in {id(x): x for x in [*p[:3], *p[-3:]]}.values()]
    counts = Counter((key, top) for _, key, top in candidates)
    enough = max(2, (len(pages) + 1) // 2)
    out = set()
    for line, key, top in candidates:
        repeated = sum(counts[(key, t)] for t in (top - 1, top, top + 1)) >= enough and len(pages) >= 2
        if repeated or is_page_number(line.text):
            out.add(id(line))
    return out


def _column_of(header: list[str]) -> dict[str, int]:
    columns = header_columns(header) or {}
    return {k: columns.get(k, -1) for k in ("seq", "task", "content", "lead", "resp")}


def _continues(prev: list[_Cell | None], row: list[_Cell | None], columns: dict[str, int]) -> bool:
    """Whether the first row of a page is the last row of the page before, broken by the page break."""
    texts, before = _texts(row), _texts(prev)

    def at(cells, key):
        return cells[columns[key]] if 0 <= columns[key] < len(cells) else ""

    if at(texts, "seq") or not any(before) or (columns["seq"] < 0 and at(texts, "task")):
        return False  # (without 序号, a row with its own 重点任务 is a row)
    return bool(at(texts, "task")) or not at(texts, "lead") or not at(texts, "content") \
        or not at(before, "content").rstrip().endswith(_SENTENCE_END)


@dataclass
class PdfText:
    """A PDF read as a .docx is: its paragraphs, and its ledger table's rows (None without one) after the first
    ``body_end`` paragraphs; ``problems`` about the reading itself (pages that are images)."""

    paragraphs: list[str]
    rows: list[GridRow] | None
    body_end: int | None
    problems: list[Problem]
    pages: list[int] = field(default_factory=list)  # the page (from 1) each paragraph starts on


_PDFIUM = threading.Lock()


def read_pdf(path: Path) -> PdfText:
    """``path``'s paragraphs and ledger table; UnreadableInput (PdfWithoutText) when it has no usable text."""
    with _PDFIUM:  # pdfium is not thread-safe: one PDF read at a time per process (the desk serves in threads)
        pdf = _Pdf(path)
        try:
            chars_of, widths, ruled, images_only = pdf.read()
        finally:
            pdf.close()
        problems = _check_text(pdf.name, path, chars_of, images_only)
        if any(p.type == "pdf-unreadable-characters" for p in problems):
            chars_of = [[c for c in chars if not _odd(c.text)] for chars in chars_of]
        found = pdf.tables(ruled)

    # Each page: its tables (the characters inside them taken out) and its lines.
    pages: list[tuple[list[_Line], list[_Table]]] = []
    for page, chars in enumerate(chars_of):
        tables = sorted((_table(page, bbox, rows, chars) for bbox, rows in found.get(page, [])), key=lambda t: t.top)
        rest = [c for c in chars if not any(t.top - 1 <= c.mid_y <= t.bottom + 1
                                            and t.edges[0] - 1 <= (c.x0 + c.x1) / 2 <= t.edges[-1] + 1 for t in tables)]
        pages.append((_lines(rest, page, widths[page]), tables))
    furniture = _furniture([lines for lines, _ in pages])
    # Lines keep pdfium's order on a page; a table goes before the first line below its top.
    ordered: list[_Line | _Table] = []
    for lines, tables in pages:
        for line in lines:
            if id(line) in furniture:
                continue
            while tables and tables[0].top < line.top:
                ordered.append(tables.pop(0))
            ordered.append(line)
        ordered.extend(tables)
    paragraphs, rows, body_end, pages_of = _document(ordered, pdf.name)
    return PdfText(paragraphs, rows, body_end, problems, pages_of)


def extract_pdf(path: Path) -> Ledger:
    from .docx import assemble

    text = read_pdf(path)
    name = file_name(path)
    ledger = assemble(text.paragraphs, text.rows, text.body_end, name)
    for problem in ledger.problems:  # a paragraph's number says little in a PDF: its page too
        if problem.line is not None and not problem.sheet and problem.file == name \
                and 0 < problem.line <= len(text.pages):
            problem.sheet = f"第{text.pages[problem.line - 1]}页"
    ledger.problems.extend(text.problems)
    return ledger


def _document(ordered: list[_Line | _Table], name: str
              ) -> tuple[list[str], list[GridRow] | None, int | None, list[int]]:
    """Paragraphs, the ledger table's rows (or None), the number of paragraphs before it, and the page each
    paragraph starts on."""
    # The text's margins, for each page width (a landscape page for the table has its own).
    lefts: dict[int, list[float]] = {}
    rights: dict[int, list[float]] = {}
    for item in ordered:
        if isinstance(item, _Line):
            lefts.setdefault(item.width, []).append(item.x0)
            rights.setdefault(item.width, []).append(item.x1)
    margins = {width: (-_edge([-x for x in lefts[width]]), _edge(rights[width])) for width in lefts}
    breaks = _measure_breaks(_pairs(ordered, margins))
    paragraphs: list[str] = []
    pages: list[int] = []
    run: list[_Line] = []
    ledger: list[GridRow] | None = None
    body_end = None
    columns: dict[str, int] = {}
    header_rows: set[tuple[str, ...]] = set()
    last: _Table | None = None  # the ledger table's last part, while it may continue
    rows: list[list[_Cell | None]] = []
    origins: list[Origin] = []

    def flush():
        if run:
            for text, first in _paragraphs(run, lambda line: margins[line.width], "body", breaks):
                paragraphs.append(text)
                pages.append(first.page + 1)
            run.clear()

    for item in ordered:
        if isinstance(item, _Line):
            run.append(item)
            last = None
            continue
        flush()
        table: _Table = item
        if ledger is None and body_end is None:
            texts = [_texts(r) for r in table.rows]
            header = find_header(texts, 5)
            if header is None:
                continue  # a table that is no ledger, read as a .docx's is: not at all
            start, end, header_texts = header
            header_rows = {tuple(fold(t) for t in texts[i]) for i in range(start, end + 1)}
            columns = _column_of(header_texts)
            body_end = len(paragraphs)
            rows.extend(table.rows)
            origins.extend(Origin(file=name, sheet=f"表格（第{table.page + 1}页）", row=i + 1)
                           for i in range(len(table.rows)))
            last = table
            continue
        if last is None or table.page <= last.page or len(table.edges) != len(last.edges) \
                or any(abs(a - b) > 3 for a, b in zip(table.edges, last.edges)):
            last = None
            continue
        part = list(enumerate(table.rows))
        while part and tuple(fold(t) for t in _texts(part[0][1])) in header_rows:
            part.pop(0)  # the header Word repeats on every page
        if part and rows and not table.bands[part[0][0]] and _continues(rows[-1], part[0][1], columns):
            for prev, cell in zip(rows[-1], part[0][1]):
                if prev is not None and cell is not None and cell is not prev:
                    prev.lines.extend(cell.lines)
            part.pop(0)
        rows.extend(r for _, r in part)
        origins.extend(Origin(file=name, sheet=f"表格（第{table.page + 1}页）", row=i + 1) for i, _ in part)
        last = table
    flush()
    if body_end is not None:
        units = (columns["lead"], columns["resp"])
        ledger = [GridRow(_texts(r, units, breaks), o) for r, o in zip(rows, origins)]
    return paragraphs, ledger, body_end, pages


def _edge(values: list[float]) -> float:
    """The right margin of lines ending at ``values``: the furthest place two lines end at (justified lines share
    it; one line running past it is no margin), else the furthest end."""
    seen = Counter(round(v) for v in values)
    shared = [v for v, n in seen.items() if n >= 2]
    return float(max(shared)) if shared and max(shared) >= max(values) - 0.1 * (max(values) - min(values)) - 1 \
        else max(values)


def _pairs(ordered: list[_Line | _Table], margins: dict[int, tuple[float, float]]):
    """Consecutive lines of the body, and of the cells of each table's widest column (its 工作内容), with their
    margins: what ``_measure_breaks`` learns the document's line breaking from."""
    previous = None
    for item in ordered:
        if isinstance(item, _Line):
            if previous is not None:
                yield previous, item, *margins[item.width]
            previous = item
            continue
        previous = None
        widest = max(range(len(item.edges) - 1), key=lambda c: item.edges[c + 1] - item.edges[c])
        for row in item.rows:
            cell = row[widest] if widest < len(row) else None
            if cell is not None and cell.lines:
                left, right = cell.margins()
                yield from ((a, b, left, right) for a, b in zip(cell.lines, cell.lines[1:]))
