"""Exceptions: only for work that cannot go on. Each carries a Chinese message for the clerk."""

from __future__ import annotations


class XltoolsError(Exception):
    """Base class: ``message_zh`` is shown to the clerk, ``str(err)`` goes to logs."""

    def __init__(self, message: str, message_zh: str | None = None):
        super().__init__(message)
        self.message_zh = message_zh or message


class UnreadableInput(XltoolsError):
    "An input file cannot be read at all (missing, wrong format, corrupt)."


class TemplateError(XltoolsError):
    "The template workbook lacks a place the code needs (defined name or header)."


class OutputError(XltoolsError):
    "The output cannot be written where asked (for example it would overwrite an input)."
