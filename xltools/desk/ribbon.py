"""The ribbon's file buttons for the WPS add-in: the Excel add-in's own handlers, run by the desk on this computer.

从方案生成台账, 更新台账, 分发模板, 汇总全市, 生成反馈, 打开单位名录 and 帮助 work on files, not on the open workbook's
cells: in Excel their handlers (``xltools.addin.HANDLERS``) get the workbook and the chosen path and call the CLI's
functions. WPS cannot run them, so its add-in sends the workbook's saved file and the chosen path to the desk, which
runs the same handler with a stand-in for Excel that records what the handler would say and open; the add-in then
says it and opens those files in WPS. Only a desk listening on 127.0.0.1 does this: the paths are this computer's.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..display import safe_name
from ..errors import UnreadableInput, XltoolsError

FILE_BUTTONS = ("plan_to_ledger", "refresh_ledger", "distribute", "consolidate", "feedback", "open_directory", "help")
NEEDS_BOOK = ("refresh_ledger", "distribute", "consolidate", "feedback")


@dataclass
class _Saved:
    Saved: bool = True  # noqa: N815 - the COM property's name


@dataclass
class SavedBook:
    """The clerk's workbook as its saved file (WPS saved it, or a copy of it, before asking)."""

    fullname: str
    api: _Saved = field(default_factory=_Saved)

    @property
    def name(self) -> str:
        return Path(self.fullname).name


@dataclass
class Recorder:
    """What an add-in handler says and opens, kept for the WPS add-in to say and open."""

    book: SavedBook | None
    messages: list[str] = field(default_factory=list)
    opens: list[str] = field(default_factory=list)

    def alert(self, text: str, critical: bool = False) -> None:
        self.messages.append(text)

    def status(self, text: str | None) -> None:
        pass

    def progress(self, label: str):
        return lambda done, total: None

    def open(self, path: Path) -> None:
        self.opens.append(str(path))


def run_button(tag: str, book: str = "", path: str = "") -> dict:
    """The Excel add-in's handler of ``tag`` on the saved workbook ``book`` and the chosen ``path``:
    ``{"messages": [...], "open": [...]}``. A failure the clerk can fix is an ``XltoolsError``."""
    from ..addin import HANDLERS

    if tag not in FILE_BUTTONS:
        raise XltoolsError(f"no file button {tag!r}", f"台账工具没有“{tag}”这个功能")
    saved = None
    if book:
        if not Path(book).is_file():
            raise UnreadableInput(f"{book}: workbook file not found", f"找不到当前工作簿的文件：{book}，请先保存")
        saved = SavedBook(str(Path(book)))
    elif tag in NEEDS_BOOK:
        raise XltoolsError(f"{tag} needs the open workbook", "请先打开台账工作簿（市级台账），再点这个按钮。")
    ui = Recorder(saved)
    HANDLERS[tag](ui, Path(path) if path else None)
    return {"messages": ui.messages, "open": ui.opens}


COPY_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def copy_path(name: str) -> str:
    """Where WPS saves a copy of an unsaved or changed workbook before a file button: a new folder of the desk's
    own in the temp folder, the workbook's name without anything that makes it a path."""
    stem = safe_name(Path(str(name)).stem)[:80].strip(". ") or "工作簿"
    # SaveCopyAs keeps the workbook's own format whatever the name says: keep its extension where it is one
    # xltools reads (an .xlsm stays .xlsm), else .xlsx
    suffix = Path(str(name)).suffix.lower()
    return str(Path(tempfile.mkdtemp(prefix="xltools-wps-")) / f"{stem}{suffix if suffix in COPY_SUFFIXES else '.xlsx'}")
