"""What one input may cost: checked before any parse, so that a hostile or broken file is named, not obeyed.

A workbook is a zip: its directory says how large each part is once unpacked, and a 1 MB file may unpack
to gigabytes (a zip bomb). ``inspect(path)`` checks the file's size and that directory before a reader
touches the file; a reader checks rows, cells and text per cell as it goes (``check_sheet``,
``clip_long_cells``); consolidation watches the run's resident memory (``memory_mb``). A file over a limit
raises ``LimitExceeded``: commands that read one file stop with exit 2, consolidation names the file as a
problem and goes on with the others.

The limits are generous for real ledgers (a city's ledger is a few hundred rows and well under 1 MB) and
can be changed, for one command with ``xltools --limit rows=500000 …``, for every command with the
environment variable ``XLTOOLS_LIMITS="rows=500000,unpacked_mb=400"``, or in Python with ``configure()``.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import UnreadableInput, XltoolsError

ZIP_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".ods", ".docx"}
TEXT_SUFFIXES = {".txt", ".md", ".text", ".csv", ".tsv", ".json"}
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand one compressed byte to more than this (RFC 1951)
_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    file_mb: float = 100  # one input file on disk
    text_mb: float = 10  # one text document (txt, md, csv, tsv, json): a plan is ~50 KB; 20 MB is ~40,000 rows,
    # ~0.5 GB to fill or mark (a 90 MB plan took 2.8 GB)
    unpacked_mb: float = 200  # one zip-based file (xlsx, xlsm, xlsb, ods, docx), all parts unpacked
    ratio: float = 200  # unpacked ÷ packed size of one part of over 1 MB (real sheets: 5–50)
    rows: int = 100_000  # rows of one sheet
    cells: int = 1_000_000  # cells of one sheet (its rows × columns): a ledger has tens of thousands; a million
    # cells is ~650 MB to mark with openpyxl (measured: 200 rows × 5,000 columns), four million was 24 GB
    cell_chars: int = 32_767  # characters of one cell: Excel's own maximum
    pages: int = 1000  # pages of one PDF: a plan with its ledger attached is 20–80
    memory_mb: float = 4096  # resident memory of one consolidation, its workers included

    def describe(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULTS = Limits()
_current: Limits | None = None


class LimitExceeded(UnreadableInput):
    "An input is over one of the configured limits (see ``xltools.limits``)."

    def __init__(self, message: str, message_zh: str, limit: str):
        super().__init__(message, message_zh)
        self.limit = limit


def parse_overrides(text: str | list[str] | tuple[str, ...]) -> dict[str, float]:
    """``"rows=500000,unpacked_mb=400"`` (or a list of such items) → ``{"rows": 500000, …}``; ValueError if bad."""
    items = text.split(",") if isinstance(text, str) else [i for t in text for i in t.split(",")]
    names = {f.name: f.type for f in fields(Limits)}
    out: dict[str, float] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or name not in names:
            raise ValueError(f"unknown limit {item!r}; known: {', '.join(names)}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"limit {name} needs a number, not {value.strip()!r}") from None
        if not math.isfinite(number) or number <= 0:  # (1e309 is inf: no limit is not a limit)
            raise ValueError(f"limit {name} must be a positive finite number")
        out[name] = int(number) if names[name] == "int" else number
    return out


def current() -> Limits:
    """The limits in force: ``configure()``'s, else ``XLTOOLS_LIMITS`` over the defaults."""
    global _current
    if _current is None:
        text = os.environ.get("XLTOOLS_LIMITS", "")
        try:
            _current = replace(DEFAULTS, **parse_overrides(text))
        except ValueError as exc:
            raise XltoolsError(f"XLTOOLS_LIMITS={text!r}: {exc}",
                               f"环境变量 XLTOOLS_LIMITS 的值“{text}”无效，应写成 名称=正数，多个用逗号分隔，"
                               f"名称为 {'、'.join(DEFAULTS.describe())}") from exc
    return _current


def configure(limits: Limits | None = None, **overrides: float) -> Limits:
    """Set the limits for this process (and the workers it starts): a ``Limits``, or changes to the current ones."""
    global _current
    _current = replace(limits or current(), **overrides)
    return _current


def _mb(n: float) -> str:
    return f"{n / _MB:,.1f} MB" if n >= _MB else f"{n / 1024:,.0f} KB"


def inspect(path: Path, limits: Limits | None = None) -> None:
    """Refuse ``path`` before any parse when its size or its zip directory is over a limit."""
    limits = limits or current()
    size = path.stat().st_size
    if size > limits.file_mb * _MB:
        raise LimitExceeded(
            f"{path}: {size} bytes, over the limit file_mb={limits.file_mb}",
            f"文件过大：{path.name} 有 {_mb(size)}，超过上限 {limits.file_mb:g} MB（可用 --limit file_mb=… 调整）",
            "file_mb")
    if path.suffix.lower() in TEXT_SUFFIXES and size > limits.text_mb * _MB:
        raise LimitExceeded(
            f"{path}: {size} bytes of text, over the limit text_mb={limits.text_mb}",
            f"文本文件过大：{path.name} 有 {_mb(size)}，超过上限 {limits.text_mb:g} MB（工作方案通常不到 1 MB；"
            f"可用 --limit text_mb=… 调整）", "text_mb")
    if path.suffix.lower() not in ZIP_SUFFIXES or not zipfile.is_zipfile(path):
        return  # xls, csv, text: their memory follows their size; a damaged zip is the reader's to report
    try:
        with zipfile.ZipFile(path) as z:
            _check_directory(z, path, limits)
    except zipfile.BadZipFile as exc:
        raise UnreadableInput(f"{path}: damaged zip ({exc})", f"无法读取：{path.name}（文件损坏）") from exc


def _check_directory(z: zipfile.ZipFile, path: Path, limits: Limits) -> None:
    budget = limits.unpacked_mb * _MB
    total = 0
    for info in z.infolist():
        total += info.file_size
        if total > budget:
            raise _bomb(path, f"unpacked size over {limits.unpacked_mb} MB (zip directory: {total} bytes so far)",
                        f"解压后超过 {limits.unpacked_mb:g} MB（其中“{info.filename}”{_mb(info.file_size)}）",
                        "unpacked_mb")
        if info.file_size > _MB and info.file_size > limits.ratio * max(1, info.compress_size):
            ratio = info.file_size / max(1, info.compress_size)
            raise _bomb(path, f"part {info.filename} compressed {ratio:.0f}:1, over the limit ratio={limits.ratio}",
                        f"其中“{info.filename}”压缩比 {ratio:,.0f}:1，超过上限 {limits.ratio:g}:1", "ratio")
    # The directory's unpacked sizes are the file's word, and a crafted file may lie. A part whose packed size
    # could unpack past the budget (deflate expands at most 1032-fold) is unpacked here, counting, to check.
    for info in z.infolist():
        if info.compress_size * DEFLATE_MAX_RATIO + total - info.file_size <= budget and info.compress_type in (
                zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            continue
        seen = 0
        try:
            with z.open(info) as part:
                while chunk := part.read(_MB):
                    seen += len(chunk)
                    if seen + total - info.file_size > budget:
                        raise _bomb(path, f"part {info.filename} unpacks past {limits.unpacked_mb} MB "
                                          f"(its directory entry says {info.file_size} bytes)",
                                    f"其中“{info.filename}”实际解压后超过 {limits.unpacked_mb:g} MB", "unpacked_mb")
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
            # zipfile stops at the declared size and checks the CRC: a part that lied about its size fails here.
            raise _bomb(path, f"part {info.filename} does not unpack to what its directory says ({exc})",
                        f"其中“{info.filename}”的大小与目录记载不符", "unpacked_mb") from exc
        except RuntimeError as exc:  # an encrypted part (a workbook with an open password is not a zip at all)
            raise UnreadableInput(f"{path}: encrypted part {info.filename}",
                                  f"无法读取：{path.name}（部分内容已加密）") from exc


def _bomb(path: Path, why: str, zh: str, limit: str) -> LimitExceeded:
    return LimitExceeded(f"{path}: {why}", f"文件异常，未读取：{path.name} {zh}。可能是压缩炸弹或损坏的文件，"
                                           f"请该单位重新报送正常保存的工作簿", limit)


def check_sheet(path: Path, sheet: str, height: int, width: int, limits: Limits | None = None) -> None:
    """Refuse a sheet of more rows or cells than the limits, before its cells become Python objects."""
    limits = limits or current()
    if height > limits.rows:
        raise LimitExceeded(
            f"{path}: sheet {sheet!r} has {height} rows, over the limit rows={limits.rows}",
            f"工作表行数过多，未读取：{path.name}“{sheet}”有 {height:,} 行，超过上限 {limits.rows:,} 行"
            f"（如确需读取，可用 --limit rows=… 调整）", "rows")
    if height * width > limits.cells:
        raise LimitExceeded(
            f"{path}: sheet {sheet!r} has {height}×{width} cells, over the limit cells={limits.cells}",
            f"工作表单元格过多，未读取：{path.name}“{sheet}”有 {height:,} 行 × {width:,} 列，"
            f"超过上限 {limits.cells:,} 个单元格（可用 --limit cells=… 调整）", "cells")


def clip_long_cells(rows: list[list[str]], limit: int | None = None) -> list[tuple[int, int, int]]:
    """Cut cells longer than the limit in place; return (row, column, original length) of each cut cell.

    A row's total length is tested first (one C-level pass), so the usual row costs no Python loop per cell.
    """
    limit = limit or current().cell_chars
    cut = []
    for r, row in enumerate(rows):
        if sum(map(len, row)) <= limit:
            continue
        for c, value in enumerate(row):
            if len(value) > limit:
                cut.append((r, c, len(value)))
                row[c] = value[:limit]
    return cut


def check_memory(what: str, limits: Limits | None = None) -> None:
    """Stop work on ``what`` when this process holds more than ``memory_mb`` (a workbook opened to be marked)."""
    limit = (limits or current()).memory_mb
    used = rss_mb()
    if used > limit:
        raise LimitExceeded(f"{what}: {used:.0f} MB in memory, over the limit memory_mb={limit:g}",
                            f"处理“{what}”时占用内存 {used:,.0f} MB，超过上限 {limit:,.0f} MB，已停止"
                            f"（可用 --limit memory_mb=… 调高上限）", "memory_mb")


def rss_mb(pids: list[int] | None = None) -> float:
    """Resident memory of this process and ``pids`` (Linux /proc; 0 where it cannot be read)."""
    total = 0
    for pid in ["self", *(pids or [])]:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    return total / _MB
