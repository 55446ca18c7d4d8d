"""Writing workbooks safely: never over an input, never half-written."""

from __future__ import annotations

import os
import re
import uuid
import zipfile
from pathlib import Path

from .display import readable
from .errors import OutputError


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when two paths name the same file (links, ``..`` and, on Windows, letter case included)."""
    a, b = Path(a), Path(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        # One of them does not exist yet: compare what they would resolve to.
        return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


# Characters XML 1.0 cannot carry: openpyxl refuses them (IllegalCharacterError), so they are shown as �;
# and bytes of a file name that was not UTF-8 (lone surrogates), decoded (display.readable).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value):
    """``value`` as a workbook can hold it — a cell, a note, a property: control characters shown as �,
    a file name's undecodable bytes decoded; anything not text as it is."""
    if value.__class__ is str and _ILLEGAL.search(value):
        value = _CONTROL.sub("\ufffd", readable(value))
        if _ILLEGAL.search(value):  # surrogates that were never bytes (a broken pair)
            value = _ILLEGAL.sub("\ufffd", value)
    return value


def set_text(cell, value):
    """Write ``value`` to an openpyxl cell so that text stays text.

    openpyxl stores any string that starts with = as a formula; text a district typed (=HYPERLINK(…), =1+1,
    =cmd|…) must be shown exactly as typed and never run, so such a cell is written as a string. Characters
    a workbook cannot hold are replaced visibly (�) instead of failing the whole write.
    """
    cell.value = xml_text(value)
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def merge(ws, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
    """Merge a range, as ``ws.merge_cells`` does, without its check against every range merged before (which
    makes a ledger's hundreds of band and label merges quadratic: 28 s of a 4,200-row fill). The callers merge
    ranges that never overlap: a template's own, or the rows and label runs they write."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.merge import MergedCellRange

    merged = MergedCellRange(ws, f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}")
    ws.merged_cells.ranges.add(merged)
    ws._clean_merge_range(merged)  # the range's other cells become MergedCells; its border is drawn


def put(ws, row: int, column: int, value):
    """``ws.cell(row, column, value)`` through :func:`set_text`."""
    return set_text(ws.cell(row, column), value)


_PACKAGE = Path(__file__).resolve().parent
# The workbooks xltools ships (package data, and the checkout's workbooks/): never an output, whatever a door is
# given — a unit directory overwritten by a marked copy became a one-row sheet.
BUNDLED = {folder / name: what for folder in (_PACKAGE / "data", _PACKAGE.parent / "workbooks")
           for name, what in (("units.xlsx", "单位名录"), ("ledger_template.xlsx", "台账模板"))}


def _archive_above(where: Path) -> Path | None:
    """The archive folder ``where`` lies in, known by its layout (index.sqlite beside objects/), or None: a door
    that is not told where the archive is still never writes into one."""
    for folder in where.parents:
        if (folder / "index.sqlite").is_file() and (folder / "objects").is_dir():
            return folder
    return None


def check_not_in_archive(out: str | os.PathLike, archive: str | os.PathLike | None = None) -> None:
    """Refuse ``out`` (a file or folder to write) inside ``archive``, or inside any archive folder above it."""
    where = Path(out).resolve()
    for root in (Path(archive).resolve() if archive is not None else None, _archive_above(where)):
        if root is not None and (where == root or root in where.parents):
            raise OutputError(f"refusing to write {out} inside the archive {root}",
                              f"输出位置不能在归档文件夹中：{out}。请另选输出位置。")


def check_output(out: str | os.PathLike, *inputs: str | os.PathLike | None,
                 inbox: str | os.PathLike | None = None, archive: str | os.PathLike | None = None,
                 others: tuple = (), suffix: str | None = None) -> Path:
    """The one guard every writer calls before doing any work: where ``out`` may be written.

    Refused (``OutputError``, with what to do in Chinese): ``out`` is one of ``inputs``; it is one of
    ``others``, the command's other outputs (one would silently replace the other); it replaces a file in
    ``inbox`` that is not a rollup xltools wrote (a district's submission); it lies inside ``archive``; it
    is a folder; its folder is missing, not a folder, or cannot be written (read-only, no permission); with
    ``suffix``, its name does not end in it (an .xlsx written as x.csv opens as garbage).
    """
    out = Path(out)
    if suffix is not None and out.suffix.lower() != suffix:
        raise OutputError(f"output must be a {suffix} file, not {out.suffix!r}",
                          f"输出文件须为 {suffix} 格式（当前为“{out.suffix}”），请把文件名改为“{out.stem}{suffix}”。")
    for shipped in BUNDLED:
        if shipped.exists() and same_file(out, shipped):
            raise OutputError(f"refusing to overwrite {shipped}, a workbook xltools ships",
                              f"“{out.name}”是 xltools 自带的{BUNDLED[shipped]}，不能作为输出文件。请另选输出文件名。")
    for inp in inputs:
        if inp is not None and same_file(out, inp):
            raise OutputError(
                f"refusing to overwrite input file {inp} with the output",
                f"输出文件“{out.name}”与输入文件相同，不能覆盖输入。请另选一个输出文件名（如“{out.stem}_新.xlsx”）。",
            )
    for other in others:
        if other is not None and same_file(out, other):
            raise OutputError(
                f"two outputs of one command are the same file {out}",
                f"两个输出文件都是“{out.name}”，后写的会覆盖先写的。请为它们指定不同的文件名。",
            )
    where = out.resolve()
    check_not_in_archive(out, archive)
    if inbox is not None and out.exists() and Path(inbox).resolve() in where.parents:
        if not is_rollup(out):
            raise OutputError(f"refusing to overwrite {out}, a file in the inbox, with the output",
                              f"“{out.name}”是收件文件夹中的报送文件，不能用汇总表覆盖。请另选输出文件名。")
    if out.is_dir():
        raise OutputError(f"output {out} is a folder",
                          f"“{out}”是文件夹，不能作为输出文件。请写明输出文件名。")
    if not out.parent.is_dir():
        missing = not out.parent.exists()
        raise OutputError(
            f"output folder {out.parent} {'does not exist' if missing else 'is not a folder'}",
            f"输出文件夹不存在：{out.parent}。请先创建该文件夹或另选输出位置。" if missing
            else f"输出位置“{out.parent}”不是文件夹。请另选输出位置。",
        )
    # access() also says no for root on a read-only file system; checked here, before any work is done,
    # rather than found when the output is renamed into place.
    if os.name == "posix" and not os.access(out.parent, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {out.parent} is not writable",
                          f"输出文件夹无法写入（只读或没有写权限）：{out.parent}。请另选输出位置。")
    return out


_PROPERTIES = ("docProps/core.xml", "docProps/custom.xml")


def _sound_properties(name: str, data: bytes) -> bool:
    """Whether openpyxl can read this document-properties part safely: no DTD (entities that expand to
    gigabytes), well-formed, and fields of the types it expects (a date that is not a date fails it)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return False
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.packaging.custom import CustomPropertyList
    from openpyxl.xml.functions import fromstring

    try:
        tree = fromstring(data)
        (DocumentProperties if name.endswith("core.xml") else CustomPropertyList).from_tree(tree)
    except Exception:  # any damage: the part is left out of the copy, never the reason a workbook cannot be marked
        return False
    return True


def load_editable(path: str | os.PathLike):
    """An input workbook opened with openpyxl to write a marked copy of it (the input is never written).

    A workbook whose cells read fine but whose document properties are damaged or carry a DTD — calamine
    never reads them, openpyxl does — is loaded without those parts (the copy gets fresh properties)."""
    import io

    from openpyxl import load_workbook

    path = Path(path)
    keep_vba = path.suffix.lower() == ".xlsm"
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        bad = [n for n in _PROPERTIES if n in names and not _sound_properties(n, z.read(n))]
        if not bad:
            return load_workbook(path, keep_vba=keep_vba)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in z.infolist():
                if info.filename not in bad:
                    copy.writestr(info, z.read(info.filename))
    return load_workbook(buffer, keep_vba=keep_vba)


ROLLUP_FORMAT = "xltools-rollup"  # the rollup workbook's custom property xltools_format


def is_rollup(path: Path) -> bool:
    """Whether ``path`` is a rollup xltools wrote (its document properties say so): never a district's file."""
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            props = z.read("docProps/custom.xml") if "docProps/custom.xml" in z.namelist() else b""
    except (OSError, zipfile.BadZipFile):
        return False
    return ROLLUP_FORMAT.encode() in props


def atomic_save(workbook, path: str | os.PathLike, when=None) -> Path:
    """Save an openpyxl workbook to ``path`` via a temporary file in the same folder. ``when`` (a datetime): the
    workbook's created and modified times and every zip entry's are that, so the same workbook made again is
    the same bytes (a feedback rebuilt from the archive, as the rollup is)."""
    if when is None:
        return atomic_write(path, workbook.save)
    return atomic_write(path, lambda tmp: _save_at(workbook, tmp, when))


class _ZipAt(zipfile.ZipFile):
    """A ZipFile whose entries all carry one time (openpyxl writes parts with ``writestr``, worksheets from temporary
    files with ``write``, which would take the file's time)."""

    def __init__(self, *args, date_time: tuple, **kwargs):
        super().__init__(*args, **kwargs)
        self._date_time = date_time

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.compress_type = compress_type if compress_type is not None else self.compression
        info.external_attr = 0o600 << 16
        super().writestr(info, data, compresslevel=compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # (worksheets: a temp file)
        with open(filename, "rb") as f:
            self.writestr(arcname or os.path.basename(filename), f.read(), compress_type, compresslevel)


def _save_at(workbook, path: str, when) -> None:
    from openpyxl.writer.excel import ExcelWriter

    when = when.replace(microsecond=0, tzinfo=None)
    workbook.properties.created = workbook.properties.modified = when
    archive = _ZipAt(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True, date_time=when.timetuple()[:6])
    ExcelWriter(workbook, archive).save()  # (closes the archive)


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp)`` for a temporary file beside ``path``, then rename it over ``path``.

    A crash or a full disk leaves the old file untouched, and readers never see half a workbook;
    the temporary file sits beside the target so that ``os.replace`` is a same-volume rename.
    """
    path = Path(path)
    remove_stale_temporaries(path.parent)
    # A fresh unique name rather than mkstemp: mkstemp's 0600 mode would survive the rename and
    # leave the ledger unreadable to colleagues on a shared folder. The process id tells a later run
    # whether the writer is still alive.
    tmp = str(path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}{path.suffix or '.xlsx'}"))
    try:
        write(tmp)
        os.replace(tmp, path)
    except PermissionError as err:
        _remove_quietly(tmp)
        # On Windows the usual cause is the file being open in Excel or WPS.
        raise OutputError(
            f"cannot write {path}: {err}",
            f"无法写入“{path.name}”：文件可能正在 Excel/WPS 中打开或没有写权限。请关闭该文件后重试。",
        ) from err
    except BaseException:
        _remove_quietly(tmp)
        raise
    return path


TEMP_PREFIX = ".~xltools-"
_TEMP = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[0-9a-f]{32}\.\w+$")
STALE_AFTER = 24 * 3600  # seconds; where a process cannot be asked whether it is alive (Windows)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove what killed runs left in ``folder``: temporary files whose writer has ended."""
    import time

    removed = []
    try:
        entries = list(folder.glob(f"{TEMP_PREFIX}*"))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m:
            continue
        pid = int(m.group(1))
        if os.name == "posix":
            try:
                os.kill(pid, 0)
                continue  # its writer is still at work
            except ProcessLookupError:
                pass
            except PermissionError:
                continue  # another user's live process
        else:
            try:
                if time.time() - entry.stat().st_mtime < STALE_AFTER:
                    continue
            except OSError:
                continue
        _remove_quietly(str(entry))
        removed.append(entry)
    return removed


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
