"""The VBA project parts of an add-in, per [MS-OVBA]: the compression of 2.4.1, the `dir` stream, `PROJECT`, `PROJECTwm`.

Modules are stored source-only (MODULEOFFSET 0, no p-code): with `_VBA_PROJECT` version 0xFFFF the host compiles
from source, so a module stream is exactly the compressed source.
"""

from __future__ import annotations

import struct

CHUNK = 4096
_RAW_HEADER = 0x3FFF  # size field 4095 (4098 bytes), signature 0b011, flag 0: a raw chunk
_COMPRESSED = 0xB000  # signature 0b011, flag 1

# dir stream record ids (2.3.4.2)
MODULES_COUNT, PROJECT_COOKIE, DIR_TERMINATOR = 0x000F, 0x0013, 0x0010
PROJECT_NAME = 0x0004
PROJECT_VERSION = 0x0009  # declares size 4, carries 6 bytes
MODULE_NAME, MODULE_TERMINATOR = 0x0019, 0x002B
PROCEDURAL, DOCUMENT = 0x0021, 0x0022


def _bit_count(difference: int) -> int:
    """Bits for the offset of a copy token at `difference` bytes into its chunk (CopyToken Help, 2.4.1.3.19.1)."""
    return max((difference - 1).bit_length(), 4)


def _longest_match(chunk: bytes, pos: int) -> tuple[int, int]:
    """(offset, length) of the longest earlier copy of chunk[pos:], or (0, 0) below 3 bytes.

    A match may run into the bytes it produces (offset < length): the decompressor copies byte by byte, so
    any earlier start whose bytes equal the final data works. Whether length L matches is monotone in L, so a
    binary search over rfind (C speed) replaces a byte loop; rfind returns the nearest start.
    """
    limit = min((0xFFFF >> _bit_count(pos)) + 3, len(chunk) - pos)
    if pos == 0 or limit < 3:
        return 0, 0
    best, length, lo, hi = -1, 0, 3, limit
    while lo <= hi:
        mid = (lo + hi) // 2
        at = chunk.rfind(chunk[pos:pos + mid], 0, pos - 1 + mid)  # a start at or before pos - 1
        if at >= 0:
            best, length, lo = at, mid, mid + 1
        else:
            hi = mid - 1
    return (pos - best, length) if best >= 0 else (0, 0)


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(chunk):
        flag_at = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _longest_match(chunk, pos)
            if length:
                bits = _bit_count(pos)
                out += struct.pack("<H", ((offset - 1) << (16 - bits)) | (length - 3))
                out[flag_at] |= 1 << bit
                pos += length
            else:
                out.append(chunk[pos])
                pos += 1
    return bytes(out)


def compress(data: bytes) -> bytes:
    """A CompressedContainer (2.4.1.3.6): signature byte 1, then one chunk per 4096 bytes."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        body = _compress_chunk(chunk)
        if len(body) <= CHUNK:
            out += struct.pack("<H", _COMPRESSED | (len(body) + 2 - 3)) + body
        else:
            # A raw chunk. The spec pads a short last one with zeros to 4096; that would append NULs to the
            # source, so a short tail is written unpadded (only random data gets here, never VBA text).
            out += struct.pack("<H", _RAW_HEADER) + chunk
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """The inverse of `compress` (2.4.1.3.1), for reading the template's streams."""
    if not container or container[0] != 1:
        raise ValueError("not a compressed container (signature byte is not 1)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        header = struct.unpack_from("<H", container, pos)[0]
        size = (header & 0x0FFF) + 3
        end = min(pos + size, len(container))
        pos += 2
        if not header & 0x8000:
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        start = len(out)
        while pos < end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(container[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", container, pos)[0]
                pos += 2
                bits = _bit_count(len(out) - start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


# --- the dir stream ---------------------------------------------------------------------------------------

def parse_records(dir_data: bytes) -> list[tuple[int, bytes]]:
    """The decompressed `dir` stream as (id, payload) records, in order."""
    records, pos = [], 0
    while pos < len(dir_data):
        rid, size = struct.unpack_from("<HI", dir_data, pos)
        if rid == PROJECT_VERSION:
            size = 6
        records.append((rid, dir_data[pos + 6:pos + 6 + size]))
        pos += 6 + size
        if rid == DIR_TERMINATOR:
            break
    return records


def write_records(records: list[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for rid, payload in records:
        size = 4 if rid == PROJECT_VERSION else len(payload)
        out += struct.pack("<HI", rid, size) + payload
    return bytes(out)


def split_dir(records):
    """(project records before the module count, the PROJECTCOOKIE record, [each module's records])."""
    at = next(i for i, (rid, _) in enumerate(records) if rid == MODULES_COUNT)
    head, rest = records[:at], records[at + 2:]  # count and PROJECTCOOKIE are rebuilt
    cookie = records[at + 1]
    modules, current = [], []
    for rid, payload in rest:
        if rid == DIR_TERMINATOR:
            break
        current.append((rid, payload))
        if rid == MODULE_TERMINATOR:
            modules.append(current)
            current = []
    return head, cookie, modules


def join_dir(head, cookie, module_records) -> list[tuple[int, bytes]]:
    return (head + [(MODULES_COUNT, struct.pack("<H", len(module_records))), cookie]
            + [r for records in module_records for r in records] + [(DIR_TERMINATOR, b"")])


def module_name(records) -> str:
    return next(payload for rid, payload in records if rid == MODULE_NAME).decode("cp1252")


def standard_module_records(name: str) -> list[tuple[int, bytes]]:
    """dir records of a source-only standard module (2.3.4.2.3.2): offset 0, cookie 0xFFFF, no docstring."""
    mbcs, utf16 = name.encode("ascii"), name.encode("utf-16-le")
    return [(0x0019, mbcs), (0x0047, utf16), (0x001A, mbcs), (0x0032, utf16), (0x001C, b""), (0x0048, b""),
            (0x0031, struct.pack("<I", 0)), (0x001E, struct.pack("<I", 0)), (0x002C, struct.pack("<H", 0xFFFF)),
            (PROCEDURAL, b""), (MODULE_TERMINATOR, b"")]


def rename_project(head, name: str):
    return [(rid, name.encode("ascii") if rid == PROJECT_NAME else payload) for rid, payload in head]


# --- PROJECT and PROJECTwm --------------------------------------------------------------------------------

_MODULE_KEYS = ("Module=", "Document=", "Class=", "BaseClass=", "Package=")


def rewrite_project(text: str, modules: list[tuple[str, str]], name: str) -> str:
    """The PROJECT stream with its module lines, Name= and [Workspace] rebuilt; ID/CMG/DPB/GC kept.

    `modules` is [(keyword, line value)], e.g. ("Document", "ThisWorkbook/&H00000000"), ("Module", "xlwings").
    """
    lines = text.split("\r\n")
    first_key = next(i for i, line in enumerate(lines) if line.startswith(_MODULE_KEYS))
    kept = [line for line in lines if not line.startswith(_MODULE_KEYS)]
    # module lines go where the first one was (right after ID=), in the order given
    out = kept[:first_key] + [f"{key}={value}" for key, value in modules] + kept[first_key:]
    out = [f'Name="{name}"' if line.startswith("Name=") else line for line in out]
    workspace = out.index("[Workspace]")
    names = [value.split("/")[0] for _, value in modules]
    tail = [f"{n}=0, 0, 0, 0, C" for n in names]
    return "\r\n".join(out[:workspace + 1] + tail + ["", ""])


def project_modules(text: str) -> list[tuple[str, str]]:
    """(keyword, value) of each module line of a PROJECT stream."""
    return [tuple(line.split("=", 1)) for line in text.split("\r\n") if line.startswith(_MODULE_KEYS)]


def projectwm(names: list[str]) -> bytes:
    """PROJECTwm (2.3.3): each module name in MBCS and in UTF-16, NUL-terminated; then a 2-byte terminator."""
    return b"".join(n.encode("ascii") + b"\0" + n.encode("utf-16-le") + b"\0\0" for n in names) + b"\0\0"


def projectwm_names(data: bytes) -> list[str]:
    names, pos = [], 0
    while data[pos:pos + 2] != b"\0\0":
        end = data.index(b"\0", pos)
        names.append(data[pos:end].decode("cp1252"))
        pos = end + 1
        while data[pos:pos + 2] != b"\0\0":
            pos += 2
        pos += 2
    return names
