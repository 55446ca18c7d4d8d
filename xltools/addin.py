"""The Excel add-in's Python side: each ribbon button's tag → a handler over the library functions of the CLI.

The 台账工具 ribbon (``macros/``) calls ``dispatch(tag)`` through xlwings' ``RunPython``; a file or folder
button also passes the chosen path, UTF-16 hex encoded so that a Chinese path survives RunPython's command
string. Handlers read the open workbook through xlwings (unsaved edits count, the file on disk does not),
turn it into the Ledger the workbook reader makes, call the core, and write back only after everything is
computed. What the clerk sees is Chinese (alerts, sheets, notes); the English detail goes to the log file.

xlwings is imported inside functions only: the builder and tests read ``HANDLERS`` without it, and the
headless CLI never loads it.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import buttons, marks
from .errors import UnreadableInput, XltoolsError, os_error_zh
from .patch import HEADER_FILL, NO_NOTE, OWN_NOTE, UNKNOWN, CellState, Patch, Snapshot, Table

log = logging.getLogger(__name__)

TITLE = "台账工具"
# The hidden record of marks (patch.MARKS_SHEET, shared with the marked files xltools writes): clear_marks
# restores exactly those cells, and a check run again replaces its own marks.
MARKS_SHEET = marks.MARKS_SHEET
FORMULA_START = tuple("=+-@")  # Excel parses a value written as text starting with these as a formula
LINK_COLOR = "#0563C1"


# ---------------------------------------------------------------------------------------------- the door


def dispatch(tag: str, book=None, path: str | None = None, path_hex: str | None = None):
    """Run the handler of a ribbon button; every failure becomes a Chinese alert (English in the log)."""
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    ui = Excel(book)
    if path_hex:  # the path the VBA chose, as UTF-16 hex (xlwings passes ASCII safely)
        try:
            path = bytes.fromhex(path_hex).decode("utf-16-be")
        except ValueError:  # (UnicodeDecodeError is one): a damaged macro, not a reason to fail unseen
            with _logging():
                log.error("button %r: path_hex %r is not UTF-16 hex", tag, path_hex[:200])
            ui.alert("台账工具收到的文件路径已损坏，未能完成。请重新安装台账工具（xltools addin install）后重试。",
                     critical=True)
            return None
    handler = HANDLERS.get(tag)
    with _logging():
        log.info("button %r, path %r", tag, path)
        if handler is None:
            log.error("no handler for tag %r", tag)
            ui.alert(f"台账工具没有“{tag}”这个功能。请重新安装台账工具（xltools addin install），或联系维护人员。")
            return None
        try:
            return handler(ui, Path(path) if path else None)
        except XltoolsError as exc:
            log.error("%s: %s", tag, exc)
            ui.alert(f"未能完成：{exc.message_zh}", critical=True)
        except OSError as exc:
            log.error("%s: %s", tag, exc, exc_info=True)
            ui.alert(f"未能完成：{os_error_zh(exc)}。请关闭占用该文件的程序或另选位置后重试。", critical=True)
        except Exception as exc:  # the clerk sees what to do, never a traceback
            log.exception("%s: internal error: %s", tag, exc)
            ui.alert(f"内部错误，未能完成（工作簿没有被改动）。请把日志文件 {log_path()} 发给维护人员。", critical=True)
        finally:
            ui.status(None)
    return None


def log_path() -> Path:
    """The add-in's log: ``$XLTOOLS_ADDIN_LOG``, else xltools/addin.log in the user's local data folder."""
    if os.environ.get("XLTOOLS_ADDIN_LOG"):
        return Path(os.environ["XLTOOLS_ADDIN_LOG"])
    base = os.environ.get("LOCALAPPDATA") or os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share"
    return Path(base) / "xltools" / "addin.log"


@contextmanager
def _logging():
    """xltools' INFO lines and errors into the log file for one button press; the logger is left as it was."""
    logger = logging.getLogger("xltools")
    try:
        log_path().parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path(), encoding="utf-8")
    except OSError:
        yield  # no log is better than no button
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


class Excel:
    """The workbook a button was pressed in, and what the add-in says to the clerk through its Excel."""

    def __init__(self, book):
        self.book = book

    def alert(self, text: str, critical: bool = False) -> None:
        self.book.app.alert(text, title=TITLE, mode="critical" if critical else "info")

    def status(self, text: str | None) -> None:
        """The status bar (None gives it back to Excel); engines without one are skipped."""
        try:
            self.book.app.status_bar = text if text is not None else False
        except NotImplementedError:
            pass

    def progress(self, label: str):
        return lambda done, total: self.status(f"{label}：{done}/{total}")

    def open(self, path: Path) -> None:
        """Show a result workbook in the clerk's Excel."""
        open_book(self.book, path)


def open_book(book, path: Path) -> None:
    book.app.books.open(str(path))


# ---------------------------------------------------------------------------------------------- reading


def sheet_values(sheet) -> list[list[str]]:
    """A sheet's cells from A1 to the end of its used range, as text the way the file reader gives it."""
    from .limits import check_sheet
    from .text import cell_text

    last = sheet.used_range.last_cell
    check_sheet(Path(sheet.book.name), sheet.name, last.row, last.column)
    values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value
    return [[v if type(v) is str else cell_text(v) for v in row] for row in values]


class BookSnapshot(Snapshot):
    """The open workbook as the checks see it, read through xlwings only as far as a check asks: a sheet's values
    (what Excel shows: unsaved edits count), a cell's fill and note, the merged range holding a cell."""

    def __init__(self, book):
        super().__init__(book.name, {})
        self.book = book
        self.sheet_names = [s.name for s in book.sheets]
        self._read: dict[str, list[list[str]]] = {}

    def values(self, sheet: str) -> list[list[str]]:
        if sheet not in self._read:
            self._read[sheet] = sheet_values(self.book.sheets[sheet])
        return self._read[sheet]

    def state(self, sheet: str, cell: str) -> CellState:
        return replace(_before(self.book.sheets[sheet].range(cell)), cell=cell)

    def anchor(self, sheet: str, cell: str) -> str:
        return _anchor(self.book.sheets[sheet].range(cell)).address.replace("$", "")

    @property
    def selection(self) -> list[list[str]]:
        try:
            selection = self.book.app.selection
            return selection.options(ndim=2).value if selection is not None else []
        except Exception:  # a picture or chart selected: no cells
            return []


def read_ledger(book, region: str | None = None):
    """The open workbook as a Ledger, read from what Excel shows (the same reader as for a file)."""
    return buttons.read_ledger(BookSnapshot(book), region)


def directory_path() -> Path:
    """The unit directory the checks use: ``$XLTOOLS_UNITS``, else the bundled one (``--units``' default)."""
    from .units.directory import default_directory_path

    if os.environ.get("XLTOOLS_UNITS"):
        return Path(os.environ["XLTOOLS_UNITS"])
    return default_directory_path()


def _directory():
    from .units import load_directory

    return load_directory(directory_path())


def saved_file(book) -> Path | None:
    """The workbook's file when the file on disk is what the clerk sees (saved, no edits since), else None."""
    try:
        path = Path(book.fullname)
        saved = bool(book.api.Saved)  # COM only; elsewhere unknown, so not trusted
    except Exception:
        return None
    return path if saved and path.is_file() else None


def _as_file(book, folder: Path) -> tuple[Path, bool]:
    """A file holding what the open workbook shows: its own file if saved, else a ledger written from its
    current values by the core's writer into ``folder`` (never over the clerk's file): (path, copied)."""
    path = saved_file(book)
    if path is not None:
        return path, False
    from .filler import fill

    ledger = buttons.ledger_or_stop(BookSnapshot(book))
    copy = folder / f"{Path(book.name).stem}.xlsx"
    fill(ledger, copy)
    return copy, True


def unused_name(path: Path) -> Path:
    """``path``, or ``name(2)``, ``name(3)``…: results never replace a file."""
    if not path.exists():
        return path
    n = 2
    while (candidate := path.with_name(f"{path.stem}({n}){path.suffix}")).exists():
        n += 1
    return candidate


# ---------------------------------------------------------------------------------------------- marks


def _hex(color) -> str:
    if color is None:
        return ""
    if isinstance(color, str):
        return color.upper()
    if isinstance(color, int):
        color = (color & 0xFF, color >> 8 & 0xFF, color >> 16 & 0xFF)  # Excel's BGR integer
    return "#{:02X}{:02X}{:02X}".format(*color)


def _before(rng) -> CellState:
    """How a cell looks now (engines that cannot read colour or note text say UNKNOWN)."""
    try:
        fill = _hex(rng.color)
    except NotImplementedError:
        fill = UNKNOWN
    note = rng.note
    if note is None:
        return CellState(rng.sheet.name, "", fill, NO_NOTE)
    try:
        return CellState(rng.sheet.name, "", fill, OWN_NOTE, note.text or "")
    except NotImplementedError:
        return CellState(rng.sheet.name, "", fill, UNKNOWN)


def _anchor(rng):
    """A cell inside a merged range is marked at the range's first cell (where Excel shows the note)."""
    try:
        if rng.merge_cells:
            return rng.merge_area[0]
    except NotImplementedError:
        pass
    return rng


def _protected(sheet) -> bool:
    try:
        return bool(sheet.api.ProtectContents)  # COM only; elsewhere a protected sheet fails when written
    except Exception:
        return False


def _locked(rng) -> bool:
    try:
        return bool(rng.api.Locked)
    except Exception:
        return True


def _check_writable(book, patch: Patch) -> None:
    """Before any write: the sheets whose cells get marks (or lose them) and the cells that get values must be
    writable, and sheets must be addable. A protected sheet still takes values in its unlocked cells (the
    district columns of a distributed workbook), but not colours and notes."""
    sheets = {s.name: s for s in book.sheets}
    for name in sorted(patch.formatted()):
        if name in sheets and _protected(sheets[name]):
            raise XltoolsError(f"sheet {name!r} is protected",
                               f"工作表“{name}”受保护，无法标注。请先撤销保护（审阅 → 撤销工作表保护）后再点击。")
    for w in patch.writes:
        if _protected(sheets[w.sheet]) and _locked(sheets[w.sheet].range(w.cell)):
            raise XltoolsError(f"cell {w.sheet}!{w.cell} is locked on a protected sheet",
                               f"工作表“{w.sheet}”的 {w.cell} 单元格受保护，无法修正。请先撤销工作表保护后再点击。")
    if (patch.tables or patch.delete) and _protected_book(book):
        raise XltoolsError("workbook structure is protected",
                           "工作簿结构受保护，无法添加“问题清单”。请先撤销保护（审阅 → 保护工作簿）后再点击。")


def _threaded_comment(rng) -> bool:
    """A Microsoft 365 threaded comment on the cell (COM only; other engines have none to report)."""
    try:
        return rng.api.CommentThreaded is not None
    except Exception:
        return False


THREADED_SHOWN = 5  # cells named in the message; the rest are counted


def _check_notes(book, patch: Patch) -> None:
    """Before any write: a cell with a threaded comment cannot take a note (Excel's AddComment fails), so the
    cells the patch notes — marked, or given back a person's note — must have none."""
    noted = [(m.sheet, m.cell) for m in patch.paint if m.note is not None]
    noted += [(c.sheet, c.cell) for c in patch.restore if c.note == OWN_NOTE]
    names = {s.name for s in book.sheets}
    found: dict[str, list[str]] = {}
    for sheet, cell in dict.fromkeys(noted):
        if sheet in names and _threaded_comment(book.sheets[sheet].range(cell)):
            found.setdefault(sheet, []).append(cell)
    if not found:
        return
    places = []
    for sheet, cells in found.items():
        count = f" 等 {len(cells)} 处单元格" if len(cells) > THREADED_SHOWN else " 单元格"
        places.append(f"工作表“{sheet}”的 {'、'.join(cells[:THREADED_SHOWN])}{count}")
    raise XltoolsError(
        "threaded comments on cells to be noted: " + "; ".join(f"{s}!{','.join(c)}" for s, c in found.items()),
        f"{'；'.join(places)}有新式批注（可回复的批注），台账工具无法在这些单元格上加标注。请先记下批注内容，"
        "删除这些批注（右键单元格 → 删除批注），需要时改用备注（审阅 → 备注 → 新建备注），再点击。工作簿没有被改动。")


def _protected_book(book) -> bool:
    try:
        return bool(book.api.ProtectStructure)
    except Exception:
        return False


def _text_block(sheet, first_row: int, last_row: int, columns) -> None:
    """Text format on the data columns about to be written, so that no text becomes a formula."""
    for col in columns:
        sheet.range((first_row, col), (last_row, col)).number_format = "@"


def _replace_sheet(book, name: str):
    """A fresh sheet ``name`` at the end of the workbook (an older one of that name is deleted first)."""
    if name in [s.name for s in book.sheets]:
        book.sheets[name].delete()
    return book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])


def _write_table(book, table: Table):
    """A patch's table as a sheet at the end of the workbook: text as text, the header grey and bold, the widths,
    wrapping, fills and links the table names; a hidden column has width 0."""
    from openpyxl.utils import quote_sheetname

    ws = _replace_sheet(book, table.name)
    rows = [["" if v is None else v for v in row] for row in table.rows]
    last_row, last_col = len(rows), max(len(r) for r in rows)
    rows = [r + [""] * (last_col - len(r)) for r in rows]
    _text_block(ws, 1, last_row, [c for c in range(1, last_col + 1) if c not in table.numeric])
    ws.range((1, 1), (last_row, last_col)).value = rows
    if table.styled:
        whole = ws.range((1, 1), (last_row, last_col))
        whole.font.name, whole.font.size = "仿宋", 11
        header = ws.range((1, 1), (1, last_col))
        header.font.name, header.font.bold = "黑体", True
        header.color = HEADER_FILL
        for col, width in enumerate(table.widths, start=1):
            ws.range((1, col)).column_width = 0 if col in table.hidden else width
        for col in table.wrapped:
            ws.range((1, col), (last_row, col)).wrap_text = True
    for r, c, color in table.fills:
        ws.range((r, c)).color = color
    for r, c, sheet, cell in table.links:
        link = ws.range((r, c))
        link.add_hyperlink(f"#{quote_sheetname(sheet)}!{cell}", cell, f"转到 {sheet}!{cell}")
        link.font.color = LINK_COLOR
    if not table.visible:
        ws.visible = False
    return ws


def _set_note(rng, text: str) -> None:
    note = rng.note
    if note is not None:
        note.text = text
    else:
        rng.add_note(text)


def _restore(book, was: CellState) -> None:
    rng = book.sheets[was.sheet].range(was.cell)
    rng.color = None if was.fill in ("", UNKNOWN) else was.fill
    if was.note == NO_NOTE:
        if rng.note is not None:
            rng.note.delete()
    elif was.note == OWN_NOTE:
        _set_note(rng, was.text)


def apply_patch(ui: Excel, patch: Patch) -> None:
    """A patch applied to the open workbook through xlwings — only after every sheet it touches is found
    writable and no cell to be noted holds a threaded comment — and its message said."""
    book = ui.book
    if patch.restore or patch.paint or patch.writes or patch.delete or patch.tables:
        _check_writable(book, patch)
        _check_notes(book, patch)
        ui.status("正在写入……")
    names = [s.name for s in book.sheets]
    for was in patch.restore:
        if was.sheet in names:
            _restore(book, was)
    for mark in patch.paint:
        rng = book.sheets[mark.sheet].range(mark.cell)
        rng.color = mark.fill
        if mark.note is not None:
            _set_note(rng, mark.note)
    for w in patch.writes:
        cell = book.sheets[w.sheet].range(w.cell)
        if w.value.startswith(FORMULA_START):
            cell.number_format = "@"
        cell.value = w.value
    for name in patch.delete:
        if name in [s.name for s in book.sheets]:
            book.sheets[name].delete()
    for table in patch.tables:
        _write_table(book, table)
    if patch.activate:
        book.sheets[patch.activate].activate()
    if patch.message:
        ui.alert(patch.message)


def _button(action):
    """A workbook button: ``buttons``' function of that name on a snapshot of the open workbook, its patch
    applied here."""
    def handler(ui: Excel, path: Path | None = None) -> None:
        ui.status("正在检查……")
        apply_patch(ui, action(BookSnapshot(ui.book), _directory()))

    handler.__name__, handler.__doc__ = action.__name__, action.__doc__
    return handler


check_units = _button(buttons.check_units)
check_targets = _button(buttons.check_targets)
clear_marks = _button(buttons.clear_marks)
apply_fixes = _button(buttons.apply_fixes)
lookup_unit = _button(buttons.lookup_unit)


# ---------------------------------------------------------------------------------------------- files


def _need(path: Path | None, what: str) -> Path:
    if path is None:
        raise XltoolsError(f"no {what} chosen", f"没有选择{what}。")
    if not path.exists():
        raise UnreadableInput(f"{path}: no such {what}", f"找不到{what}：{path}")
    return path


def plan_to_ledger(ui: Excel, path: Path | None = None) -> None:
    """从方案生成台账: extract + fill into a new workbook beside the plan, then open it."""
    from .filler import fill
    from .readers import extract

    plan = _need(path, "工作方案文件")
    ui.status("正在读取工作方案……")
    ledger = extract(plan)
    out = unused_name(plan.with_name(f"{ledger.region or plan.stem}_工作台账.xlsx"))
    ui.status("正在生成台账……")
    result = fill(plan, out)
    ui.open(result.path)
    ui.alert(f"已生成台账：{result.path}\n{result.ledger.region or '（地区未知）'} 任务 {len(result.ledger.rows)} 行，"
             f"工作目标 {len(result.ledger.goals)} 条。" + _problem_line(result.problems))


def refresh_ledger(ui: Excel, path: Path | None = None) -> None:
    """更新台账: the open ledger re-filled from a newer plan or ledger, keeping the clerk's columns (fill -t)."""
    from .filler import fill

    source = _need(path, "新的工作方案或台账")
    with tempfile.TemporaryDirectory(prefix="xltools-") as tmp:
        ui.status("正在读取当前台账……")
        template, _copied = _as_file(ui.book, Path(tmp))
        out = unused_name(source.with_name(f"{Path(ui.book.name).stem}_更新.xlsx"))
        ui.status("正在更新台账……")
        result = fill(source, out, template=template)
    ui.open(result.path)
    ui.alert(f"已写出更新后的台账：{result.path}（原台账未改动）\n任务 {len(result.ledger.rows)} 行，"
             f"变更 {len(result.changes)} 处（见“变更记录”表）。" + _problem_line(result.problems))


def _problem_line(problems) -> str:
    return f"\n另有 {len(problems)} 条问题，可在新台账中点“校验单位名称”“校验目标”查看。" if problems else ""


def distribute(ui: Excel, path: Path | None = None) -> None:
    """分发模板: one workbook per district from the open city ledger into the chosen folder."""
    from .distribution import distribute as distribute_ledger

    out_dir = _need(path, "输出文件夹")
    with tempfile.TemporaryDirectory(prefix="xltools-") as tmp:
        ui.status("正在读取市级台账……")
        city, copied = _as_file(ui.book, Path(tmp))
        ui.status("正在生成各区县填报表……")
        result = distribute_ledger(city, out_dir, units=_directory())
    if result.manifest is not None:
        ui.open(result.manifest)
    lines = [f"已为 {len(result.files)} 个区县生成填报表：{result.out_dir}（批次 {result.batch}）"]
    lines += [f"  {d.region}：{d.path.name}（任务 {d.tasks} 项）" for d in result.files[:20]]
    if copied:
        lines.append("注意：当前台账有未保存的修改，已按修改后的内容分发；请保存台账，汇总时才能核对版本。")
    if result.problems:
        lines.append(f"问题 {len(result.problems)} 条：" + "；".join(p.message for p in result.problems[:5]))
    ui.alert("\n".join(lines))


def _consolidate(ui: Excel, inbox: Path, feedback: bool):
    from .rollup import ConsolidateOptions
    from .rollup import consolidate as consolidate_ledgers
    from .rollup.writer import outcome_lines, problems_line

    with tempfile.TemporaryDirectory(prefix="xltools-") as tmp:
        ui.status("正在读取市级台账……")
        city, copied = _as_file(ui.book, Path(tmp))
        name = Path(ui.book.name).stem.replace("工作台账", "").rstrip("_-") or "市级"
        # Beside the inbox, not in it: the next run must not read the rollup or feedback as a submission.
        out = unused_name(inbox.parent / f"{name}_汇总.xlsx")
        folder = unused_name(inbox.parent / f"{name}_反馈") if feedback else None
        options = ConsolidateOptions(units=str(directory_path()),
                                     feedback=str(folder) if folder else None,
                                     progress=ui.progress("正在读取并核对各区县文件"))
        rollup = consolidate_ledgers(city, inbox, out, options)
    lines = [*outcome_lines(rollup, out), problems_line(rollup)]
    if copied:
        lines.append("注意：市级台账有未保存的修改，已按修改后的内容汇总；按已保存版本分发的区县填报表会被列为"
                     "“按旧版市级台账填报”。请保存市级台账后重新汇总。")
    return out, folder, rollup, lines


def consolidate(ui: Excel, path: Path | None = None) -> None:
    """汇总全市: the open workbook is the city ledger, the chosen folder the inbox; the rollup is opened."""
    inbox = _need(path, "收件文件夹")
    out, _folder, _rollup, lines = _consolidate(ui, inbox, feedback=False)
    ui.open(out)
    ui.alert("\n".join(lines))


def feedback(ui: Excel, path: Path | None = None) -> None:
    """生成反馈: consolidate, and one feedback workbook per district in a folder beside the rollup."""
    from .feedback import MANIFEST_NAME

    inbox = _need(path, "收件文件夹")
    out, folder, rollup, lines = _consolidate(ui, inbox, feedback=True)
    lines.insert(1, f"已写出反馈：{len(rollup.feedback)} 个地区 → {folder}（清单见“{MANIFEST_NAME}”）")
    ui.open(folder / MANIFEST_NAME)
    ui.alert("\n".join(lines))


def open_directory(ui: Excel, path: Path | None = None) -> None:
    """打开单位名录: the directory the checks use (``$XLTOOLS_UNITS`` or the bundled one)."""
    found = directory_path()
    if not found.is_file():
        raise UnreadableInput(f"{found}: no such unit directory", f"找不到单位名录：{found}")
    ui.open(found)
    ui.status(f"单位名录：{found}")


BUTTONS = (
    ("从方案生成台账", "选择工作方案（.docx/.txt/.xlsx/.csv），在它旁边生成新台账并打开"),
    ("更新台账", "选择新的工作方案或台账，按它重新填写当前台账，保留已填写的进展情况等，另存为新文件"),
    ("校验单位名称", "检查牵头单位、责任单位，问题单元格着色加批注，并列入“问题清单”表"),
    ("校验目标", "检查工作内容中数值目标的写法，标注方式同上"),
    ("应用安全修正", "只修正简称、分隔符、断行、连写，列入“修正记录”表；错字和不在名录中的单位须人工核对"),
    ("清除标注", "去掉台账工具加的颜色、批注和“问题清单”表，其他内容不动"),
    ("分发模板", "把当前市级台账分发给各区县：选择输出文件夹，每个区县一个填报表"),
    ("汇总全市", "当前工作簿为市级台账，选择收件文件夹，生成汇总表并打开"),
    ("生成反馈", "同汇总全市，并为每个报送的区县生成标注问题的反馈工作簿"),
    ("打开单位名录", "打开校验所用的单位名录工作簿"),
    ("查询所选单位", "查询选中单元格中的单位名称是否规范"),
)


def show_help(ui: Excel, path: Path | None = None) -> None:
    """帮助: what each button does, in Chinese."""
    lines = [f"{i}. {name}：{what}" for i, (name, what) in enumerate(BUTTONS, start=1)]
    ui.alert("台账工具各按钮的作用：\n" + "\n".join(lines)
             + "\n\n工作表函数：=XLT_UNIT(单元格, \"地区\") 查询单位名称；=XLT_TARGETS(单元格) 列出规范化的目标。"
             + f"\n出错时的详细记录在 {log_path()}。")


HANDLERS = {
    "plan_to_ledger": plan_to_ledger,
    "refresh_ledger": refresh_ledger,
    "check_units": check_units,
    "check_targets": check_targets,
    "apply_fixes": apply_fixes,
    "clear_marks": clear_marks,
    "distribute": distribute,
    "consolidate": consolidate,
    "feedback": feedback,
    "open_directory": open_directory,
    "lookup_unit": lookup_unit,
    "help": show_help,
}


# ---------------------------------------------------------------------------------------------- UDFs


# The worksheet functions by name: `xltools addin build` writes their VBA wrappers into the add-in (addin_build.udfs).
UDFS: dict = {}


def _udf(fn):
    """``@xw.func`` when xlwings is already loaded (Excel's UDF server importing this module); a plain function
    otherwise. Either way listed in ``UDFS``."""
    xw = sys.modules.get("xlwings")
    fn = xw.func(fn) if xw is not None and hasattr(xw, "func") else fn
    UDFS[fn.__name__] = fn
    return fn


def _cached_directory():
    """The unit directory, read again only when its file changes (a UDF recalculates often)."""
    from .units.directory import cached_directory

    return cached_directory(directory_path())


@_udf
def XLT_UNIT(cell, region):  # noqa: N802 - Excel function names are upper case
    """=XLT_UNIT(单元格, "地区") → the canonical unit name, or what is wrong with it, in Chinese."""
    from .units import STATUS_ZH, check_name

    text = "" if cell is None else str(cell).strip()
    if not text:
        return ""
    if not region or not str(region).strip():
        return "请写明地区，如 =XLT_UNIT(A2, \"章丘区\")"
    try:
        result = check_name(text, str(region).strip(), _cached_directory())
    except XltoolsError as exc:
        return exc.message_zh

    def answer(r) -> str:
        if r.status in ("ok", "alias") and r.canonical:
            return r.canonical
        if r.message:
            return r.message
        hint = f"（建议：{'、'.join(r.suggestions)}）" if r.suggestions else ""
        return f"“{r.input}”{STATUS_ZH[r.status]}{hint}"

    if result.parts:  # several names in one cell: each one's answer
        parts = "；".join(answer(p) for p in result.parts)
        return f"{result.message}：{parts}" if result.message else parts
    return answer(result)


@_udf
def XLT_TARGETS(cell):  # noqa: N802 - Excel function names are upper case
    """=XLT_TARGETS(单元格) → the cell's targets in normalized form (as the 目标 column), "" when none."""
    from .target_text import format_targets, parse_targets

    text = "" if cell is None else str(cell)
    return format_targets(parse_targets(text).targets) if text.strip() else ""
