"""A compound file writer ([MS-CFB] version 3: 512-byte sectors, 64-byte mini sectors, mini stream cutoff 4096).

Deterministic: no timestamps, no CLSIDs, a fixed layout, so the same streams give the same bytes. Reading is
left to olefile.
"""

from __future__ import annotations

import struct

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5
RED, BLACK = 0, 1
_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


def name_key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4 sibling order: shorter names first, then by upper-cased UTF-16 code units."""
    units = name.encode("utf-16-le")
    return len(units), name.upper().encode("utf-16-be").decode("latin-1")


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        if len(name) > 31:
            raise ValueError(f"compound file names are at most 31 characters: {name!r}")
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Entry] = []
        self.left = self.right = self.child = NOSTREAM
        self.color = BLACK
        self.start, self.size = ENDOFCHAIN, 0


def _tree(siblings: list[_Entry], ids: dict[int, int]) -> int:
    """Link sorted siblings as a balanced binary search tree; return the root's id.

    Split at the middle, so all leaves sit on the last two levels; the last level, when incomplete, is red and
    everything else black, which gives equal black heights and no red node with a red child.
    """
    order = sorted(siblings, key=lambda e: name_key(e.name))
    depth = {}

    def link(lo: int, hi: int, level: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = order[mid]
        depth[id(node)] = level
        node.left = link(lo, mid, level + 1)
        node.right = link(mid + 1, hi, level + 1)
        return ids[id(node)]

    root = link(0, len(order), 0)
    if order:
        last = max(depth.values())
        full = len([d for d in depth.values() if d == last]) == 2 ** last
        for node in order:
            node.color = RED if depth[id(node)] == last and not full else BLACK
    return root


def _chains(lengths: list[int], first: int) -> tuple[list[int], list[int]]:
    """Start sector of each run and the FAT entries for consecutive runs of `lengths` sectors from `first`."""
    starts, fat, at = [], [], first
    for n in lengths:
        starts.append(at if n else ENDOFCHAIN)
        fat += [at + i + 1 for i in range(n - 1)] + ([ENDOFCHAIN] if n else [])
        at += n
    return starts, fat


def _sectors(n: int, size: int = SECTOR) -> int:
    return -(-n // size)


def write(streams: dict[str, bytes]) -> bytes:
    """A compound file holding `streams` ({"VBA/dir": b"...", "PROJECT": b"..."}); storages made as needed."""
    root = _Entry("Root Entry", ROOT)
    entries = [root]
    storages = {"": root}
    for path in sorted(streams):
        parts = path.split("/")
        parent = root
        for i, part in enumerate(parts[:-1]):
            key = "/".join(parts[:i + 1])
            if key not in storages:
                storages[key] = _Entry(part, STORAGE)
                parent.children.append(storages[key])
                entries.append(storages[key])
            parent = storages[key]
        leaf = _Entry(parts[-1], STREAM, streams[path])
        parent.children.append(leaf)
        entries.append(leaf)
    ids = {id(e): i for i, e in enumerate(entries)}
    for e in entries:
        if e.children:
            e.child = _tree(e.children, ids)

    small = [e for e in entries if e.kind == STREAM and len(e.data) < CUTOFF]
    large = [e for e in entries if e.kind == STREAM and len(e.data) >= CUTOFF]

    # mini stream: each small stream padded to 64 bytes, chained in the mini FAT
    mini_starts, minifat = _chains([_sectors(len(e.data), MINI) for e in small], 0)
    ministream = b"".join(e.data.ljust(_sectors(len(e.data), MINI) * MINI, b"\0") for e in small)
    for e, start in zip(small, mini_starts):
        e.start, e.size = start, len(e.data)
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)

    # sector layout: large streams, the mini stream, the mini FAT, the directory, then the FAT
    runs = [_sectors(len(e.data)) for e in large]
    runs += [_sectors(len(ministream)), _sectors(len(minifat_bytes)), _sectors(len(entries) * 128)]
    starts, fat = _chains(runs, 0)
    for e, start in zip(large, starts):
        e.start, e.size = start, len(e.data)
    ministream_start, minifat_start, dir_start = starts[len(large):]
    root.start, root.size = (ministream_start, len(ministream)) if ministream else (ENDOFCHAIN, 0)

    used = sum(runs)
    nfat = 1
    while nfat * (SECTOR // 4) < used + nfat:  # the FAT also maps its own sectors
        nfat += 1
    if nfat > 109:
        raise ValueError("compound file too large for a header-only DIFAT")
    fat += [FATSECT] * nfat
    fat += [FREESECT] * (nfat * (SECTOR // 4) - len(fat))

    header = bytearray(_SIGNATURE + bytes(16))
    header += struct.pack("<HHHHH6xIIIIIIIII", 0x003E, 0x0003, 0xFFFE, 9, 6, 0, nfat, dir_start, 0, CUTOFF,
                          minifat_start if minifat else ENDOFCHAIN, _sectors(len(minifat_bytes)),
                          ENDOFCHAIN, 0)
    header += struct.pack("<109I", *(list(range(used, used + nfat)) + [FREESECT] * (109 - nfat)))

    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _unused_entry() * (_sectors(len(directory)) * 4 - len(entries))
    body = b"".join(e.data.ljust(_sectors(len(e.data)) * SECTOR, b"\0") for e in large)
    body += ministream.ljust(_sectors(len(ministream)) * SECTOR, b"\0")
    body += minifat_bytes + struct.pack("<I", FREESECT) * (_sectors(len(minifat_bytes)) * 128 - len(minifat))
    body += directory + struct.pack(f"<{len(fat)}I", *fat)
    assert len(header) == SECTOR and len(body) == (used + nfat) * SECTOR
    return bytes(header) + body


def _dir_entry(e: _Entry) -> bytes:
    name = (e.name + "\0").encode("utf-16-le")
    start = e.start if e.kind != STORAGE else 0
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), e.kind, e.color, e.left, e.right, e.child,
                       bytes(16), 0, 0, 0, start, e.size)


def _unused_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, bytes(16), 0, 0, 0, 0, 0)
