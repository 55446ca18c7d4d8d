"""Hostile workbooks, built in code: zip bombs (honest and lying directories) and sheets of a million rows.

A bomb here is a real, valid xlsx: a ledger header and one task, then a cell whose text unpacks to gigabytes.
Its deflate stream is one compressed megabyte of text repeated (after a full flush a block does not refer to
what came before, so the same bytes may follow each other), so a 3 GB bomb costs ~3 MB and ~1 s to make.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="工作台账" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"
HEADER = ("序号", "重点任务", "工作内容", "牵头单位", "责任单位")


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(r: int, cells: tuple[str, ...]) -> str:
    return f'<row r="{r}">' + "".join(_inline(f"{'ABCDE'[i]}{r}", t) for i, t in enumerate(cells) if t) + "</row>"


def _title_and_header(region: str) -> str:
    return (_row(1, (f"济南市{region}设备更新工作台账",)) + _row(2, HEADER)
            + _row(3, ("1", "推进充电设施建设", "新建充电桩100个", "区发展改革局", "区住房城乡建设局")))


class _Zip:
    """A zip written part by part, where a part may come already deflated (with its sizes and CRC given)."""

    def __init__(self, path: Path):
        self.f = open(path, "wb")
        self.central: list[bytes] = []

    def add(self, name: str, chunks, size: int, crc: int, declared_size: int | None = None) -> None:
        """``chunks`` yield raw deflate bytes; ``declared_size`` lets the directory lie about ``size``."""
        name_b = name.encode()
        offset = self.f.tell()
        declared = size if declared_size is None else declared_size
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, 0, declared, len(name_b), 0)
        self.f.write(local + name_b)
        start = self.f.tell()
        for chunk in chunks:
            self.f.write(chunk)
        packed = self.f.tell() - start
        self.f.seek(offset + 18)
        self.f.write(struct.pack("<I", packed))
        self.f.seek(0, 2)
        self.central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, 0x21, crc, packed,
                                        declared, len(name_b), 0, 0, 0, 0, 0, offset) + name_b)

    def add_text(self, name: str, text: str) -> None:
        data = text.encode()
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.add(name, [co.compress(data) + co.flush()], len(data), zlib.crc32(data))

    def close(self) -> None:
        at = self.f.tell()
        for entry in self.central:
            self.f.write(entry)
        size = self.f.tell() - at
        n = len(self.central)
        self.f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, at, 0))
        self.f.close()


def _package(path: Path, sheet_parts, size: int, crc: int, declared_size: int | None = None) -> Path:
    z = _Zip(path)
    z.add_text("[Content_Types].xml", _CT)
    z.add_text("_rels/.rels", _RELS)
    z.add_text("xl/workbook.xml", _WB)
    z.add_text("xl/_rels/workbook.xml.rels", _WB_RELS)
    z.add("xl/worksheets/sheet1.xml", sheet_parts, size, crc, declared_size)
    z.close()
    return path


def bomb_xlsx(path: Path, unpacked_mb: int, region: str = "市中区", lie: bool = False) -> Path:
    """A valid xlsx whose sheet unpacks to ``unpacked_mb`` MB: one cell of that many letters.

    With ``lie`` the zip directory says the part is 1 MB, as a crafted bomb would, to slip past a size check.
    """
    head = (_SHEET_HEAD + _title_and_header(region) + '<row r="4"><c r="C4" t="inlineStr"><is><t>').encode()
    tail = ("</t></is></c></row>" + _SHEET_TAIL).encode()
    block = b"A" * (1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    repeated = co.compress(block) + co.flush(zlib.Z_FULL_FLUSH)
    last = co.compress(tail) + co.flush()
    crc = zlib.crc32(head)
    for _ in range(unpacked_mb):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + unpacked_mb * len(block) + len(tail)

    def parts():
        yield first
        for _ in range(unpacked_mb):
            yield repeated
        yield last

    return _package(path, parts(), size, crc, declared_size=(1 << 20) if lie else None)


def tall_xlsx(path: Path, rows: int = 1_048_576, region: str = "市中区") -> Path:
    """A valid xlsx of ``rows`` rows (Excel's maximum by default): a ledger whose task rows never end."""
    co = zlib.compressobj(1, zlib.DEFLATED, -15)
    crc, size, out = 0, 0, []

    def feed(text: str) -> None:
        nonlocal crc, size
        data = text.encode()
        crc, size = zlib.crc32(data, crc), size + len(data)
        out.append(co.compress(data))

    feed(_SHEET_HEAD + _title_and_header(region))
    step = 50_000
    for start in range(4, rows + 1, step):
        feed("".join(f'<row r="{r}"><c r="A{r}"><v>{r - 2}</v></c>{_inline(f"B{r}", "任务")}</row>'
                     for r in range(start, min(start + step, rows + 1))))
    feed(_SHEET_TAIL)
    out.append(co.flush())
    return _package(path, out, size, crc)
