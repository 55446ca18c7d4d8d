"""Exceptions: only for work that cannot go on. Each carries a Chinese message for the clerk."""

from __future__ import annotations

import errno

from .display import file_name, readable


class XltoolsError(Exception):
    """Base class: ``message_zh`` is shown to the clerk, ``str(err)`` goes to logs."""

    def __init__(self, message: str, message_zh: str | None = None):
        super().__init__(readable(message))  # (a file name of GBK bytes: readable, not a crash in the log)
        self.message_zh = readable(message_zh or message)


class UnreadableInput(XltoolsError):
    "An input file cannot be read at all (missing, wrong format, corrupt)."


class TemplateError(XltoolsError):
    "The template workbook lacks a place the code needs (defined name or header)."


class OutputError(XltoolsError):
    "The output cannot be written where asked (for example it would overwrite an input)."


def os_error_zh(exc: OSError) -> str:
    """What the clerk reads for a file the system would not read or write (the CLI and the add-in)."""
    name = file_name(exc.filename) if exc.filename else ""
    where = f"：{name}" if name else ""
    if isinstance(exc, FileNotFoundError):
        return f"找不到文件{where}"
    if isinstance(exc, IsADirectoryError):
        return f"这是文件夹，不是文件{where}"
    if isinstance(exc, PermissionError):
        return f"没有权限读写该文件，或文件正被其他程序（如 Excel、WPS）打开{where}"
    if exc.errno == errno.ENOSPC:
        return f"磁盘空间不足{where}"
    return f"无法读写文件{where}"
