"""Text as a person reads it, whatever the file system handed over. The lowest module: imports nothing of ours.

A file name that is not UTF-8 — GBK bytes, as a zip made on a Chinese Windows PC unpacks on Linux — reaches
Python as lone surrogates (``\\udcca\\udcd0…``: PEP 383). The path still opens the file, but the name cannot be
written to a workbook, a database, JSON or a terminal. :func:`readable` turns such runs back into the characters
they were (GB18030, which covers GBK and GB2312), or into � where the bytes are no text at all.
"""

from __future__ import annotations

import os
import re

# A run of escaped bytes, with the ASCII bytes inside it (a GBK character's second byte may be 0x40–0x7E).
_ESCAPED = re.compile(r"[\udc80-\udcff][\udc80-\udcff\x40-\x7e]*")


def _decoded(match: re.Match) -> str:
    raw = match.group().encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def has_escapes(text: str) -> bool:
    return _ESCAPED.search(text) is not None


def readable(text):
    """``text`` with every run of undecodable bytes decoded as GB18030 (else �); anything else as it is."""
    if text.__class__ is not str or not _ESCAPED.search(text):
        return text
    return _ESCAPED.sub(_decoded, text)


def file_name(path: str | os.PathLike) -> str:
    """The name of ``path`` as its owner reads it: a name that is not UTF-8 decoded whole as GB18030 (its bytes
    may hold a pair that happens to be UTF-8: 台 is CC A8), else run by run (:func:`readable`)."""
    name = os.path.basename(os.fspath(path))
    if name.__class__ is not str or not _ESCAPED.search(name):
        return name
    try:
        return os.fsencode(name).decode("gb18030")
    except UnicodeDecodeError:
        return readable(name)


_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')  # what no Windows file name may hold


def safe_name(text: str) -> str:
    """``text`` fit to be (part of) a file name on any office PC: \\ / : * ? " < > | and control characters as _."""
    return _NOT_IN_NAMES.sub("_", text)
