"""``validate``: check a ledger's unit names (and, where the parser is present, its targets).

Problems come out three ways: a marked copy of the workbook (cells coloured by severity with a
note, and a 问题清单 sheet linking to each cell), JSON, and the CLI listing. ``fix=True`` also writes
a corrected copy with only the safe fixes (aliases, separators, broken lines, run-together names);
typos and unknown names are never changed without the clerk.
"""

from __future__ import annotations

import difflib
import logging
import os
from copy import deepcopy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .display import file_name
from .errors import OutputError
from .model import Ledger, TaskRow
from .problems import Problem, Report
from .text import column_letter
from .unitnames import split_units
from .units.check import CellCheck, NameCheck, check_cell
from .units.directory import Directory, load_directory, name_key
from .units.learn import learn_spellings
from .xlio import put, set_text

log = logging.getLogger(__name__)

OPENPYXL_SUFFIXES = {".xlsx", ".xlsm"}
FIELD_ZH = {"lead": "牵头单位", "resp": "责任单位"}
FIXES_SHEET = "修正记录"
FIXES_COLUMNS = (("工作表", 11), ("单元格", 7), ("行", 6), ("序号", 6), ("字段", 10), ("原值", 40), ("修正为", 40))

# status → (problem type, severity)
STATUS_PROBLEMS = {
    "unknown": ("unit-unknown", "error"),
    "typo": ("unit-typo", "warning"),
    "wrong_level": ("unit-wrong-level", "warning"),
    "alias": ("unit-alias", "warning"),
    "collective": ("unit-collective", "info"),
}
LEARNED_PROBLEMS = {"alias": ("unit-inconsistent-form", "warning"), "typo": ("unit-rare-spelling", "warning")}


@dataclass
class Fix:
    """One cell a safe fix changed."""

    sheet: str | None
    cell: str | None
    line: int | None
    seq: int | None
    field: str
    old: str
    new: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def row(self) -> list:
        """Its row of the 修正记录 sheet, in FIXES_COLUMNS order."""
        return [self.sheet, self.cell, self.line, self.seq, self.field, self.old, self.new]

    def describe(self) -> str:
        """Only the lines of the cell that change: '工作台账!D50 牵头单位：“市应急局”→“市应急管理局”'."""
        where = f"{self.sheet}!{self.cell}" if self.cell else f"第{self.line}行"
        old, new = self.old.split("\n"), self.new.split("\n")
        changes = [f"“{'、'.join(old[i1:i2])}”→“{'、'.join(new[j1:j2])}”"
                   for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes() if op != "equal"]
        return f"{where} {self.field}：{'；'.join(changes)}"


@dataclass
class ValidationResult:
    source: Path
    ledger: Ledger
    report: Report
    fixes: list[Fix] = field(default_factory=list)
    marked: Path | None = None
    fixed: Path | None = None
    learned: bool = False  # no directory for the region: spellings judged from the ledger itself

    def to_dict(self) -> dict:
        return {
            "file": file_name(self.source),
            "region": self.ledger.region,
            "valid": self.report.valid,
            "learned": self.learned,
            "problems": self.report.to_list(),
            "fixes": [f.to_dict() for f in self.fixes],
            "marked": str(self.marked) if self.marked else None,
            "fixed": str(self.fixed) if self.fixed else None,
        }


@dataclass
class _CellRef:
    row: TaskRow
    field: str  # lead | resp
    sheet: str | None
    letter: str | None  # the field's column, when the row came from a sheet

    @property
    def cell(self) -> str | None:
        return f"{self.letter}{self.row.origin.row}" if self.letter and self.sheet and self.row.origin.row else None

    def where(self, file: str | None) -> dict:
        cell = self.cell
        return {"file": file, "sheet": self.sheet, "cell": cell, "line": None if cell else self.row.origin.line}


def _raw(row: TaskRow, field: str) -> str:
    raw = row.raw.get(field)
    if raw is not None:
        return raw
    return "、".join(row.lead_units if field == "lead" else row.responsible_units)


@lru_cache(maxsize=50_000)
def _keyed(raw: str) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]:
    """A unit cell as written → its names' keys, and (key, name, name) per name: unit cells repeat in every
    row and district."""
    names = tuple((name_key(n), n, n) for n in split_units(raw))
    return tuple(key for key, _, _ in names), names


def _name_problem(check: NameCheck, label: str) -> tuple | None:
    """A name's problem as (type, message, severity, value, suggestion), or None; located by the caller."""
    table = LEARNED_PROBLEMS if check.learned else STATUS_PROBLEMS
    if check.status not in table:
        return None
    type_, severity = table[check.status]
    suggestion = check.canonical if check.status == "alias" else "、".join(check.suggestions) or None
    message = check.message or f"“{check.input}”：{check.status}"
    return type_, f"{label}{message}", severity, check.input, suggestion


def _cell_findings(cell: CellCheck, raw: str, label: str) -> tuple[tuple, list[tuple], bool]:
    """What a checked unit cell gives wherever it is: its names keyed, its problems unlocated, whether a
    safe fix changes it."""
    keyed = tuple((name_key(n.canonical or n.input), n.canonical or n.input, n.input) for n in cell.names)
    found = [problem for problem in map(_name_problem, cell.names, [label] * len(cell.names)) if problem]
    for text in cell.split:
        found.append(("unit-split", f"{label}“{text}”是多个单位名称连写，应分开", "warning", text,
                      "、".join(split_units(text))))
    for text in cell.broken:
        found.append(("unit-broken-line", f"{label}“{text}”被断行拆开", "info", raw, text))
    if cell.separators:
        found.append(("unit-separator", f"{label}中单位之间应以顿号“、”或换行分隔，不留空格", "info", raw, cell.fixed))
    seen = set()
    for key, _, written in keyed:
        if key in seen:
            found.append(("unit-duplicate", f"{label}中“{written}”重复", "warning", raw, None))
        seen.add(key)
    return keyed, found, bool(cell.changed and raw.strip())


def check_units(ledger: Ledger, directory: Directory, region: str | None = None,
                learned_from: list[Ledger] | None = None,
                spellings: dict[str, NameCheck] | None = None) -> tuple[list[Problem], list[Fix], bool]:
    """Unit problems of every unit cell, and the safe fixes; ``learned`` when the region has no directory.

    Without a directory for the region, spellings are learned from ``learned_from`` (default: this
    ledger), or taken from ``spellings`` already learned (consolidation learns once from all districts).
    """
    region = region or ledger.region or ""
    learned = not directory.has_region(region)
    if learned and spellings is None:
        names = [n for lg in (learned_from or [ledger]) for n in lg.unit_names()]
        spellings = learn_spellings(names)
    problems: list[Problem] = []
    fixes: list[Fix] = []
    both: list[Problem] = []  # names both lead and responsible: listed after every cell's own problems
    file = ledger.source
    letters = {}
    for fld in FIELD_ZH:
        col = ledger.columns.get(fld)
        letters[fld] = column_letter(col + 1) if col is not None else None
    # A cell's findings by (field, text): one district writes the same few unit cells in row after row.
    findings: dict[tuple[str, str], tuple] = {}
    for row in ledger.rows:
        # Per field, each name as (key, name as the check reads it, name as written): what the lead and
        # responsible cells share is found from these.
        cells: dict[str, tuple] = {}
        for fld in FIELD_ZH:
            raw = _raw(row, fld)
            if learned:
                keys, keyed = _keyed(raw)
                if spellings.keys().isdisjoint(keys):
                    cells[fld] = keyed
                    continue  # nothing the learned spellings flag: the common case, kept cheap
            found = findings.get((fld, raw))
            if found is None:
                if learned:
                    names = [spellings.get(key) or NameCheck(n, "ok", n) for key, n, _ in keyed]
                    cell = CellCheck(raw, names, "\n".join(n.input for n in names) if "\n" in raw
                                     else "、".join(n.input for n in names))
                else:
                    cell = check_cell(raw, region, directory)
                found = findings[(fld, raw)] = (*_cell_findings(cell, raw, FIELD_ZH[fld]), cell.fixed)
            cells[fld], unlocated, changed, fixed = found
            if unlocated or changed:
                where = _CellRef(row, fld, row.origin.sheet, letters[fld]).where(file)
                problems.extend(Problem(type_, message, severity, value=value, suggestion=suggestion, **where)
                                for type_, message, severity, value, suggestion in unlocated)
                if changed:
                    fixes.append(Fix(where["sheet"], where["cell"], row.origin.line, row.seq, FIELD_ZH[fld], raw,
                                     fixed))
        if cells["resp"] and cells["lead"]:
            lead = {key for key, _, _ in cells["lead"]}
            for key, shown, written in cells["resp"]:
                if key in lead:
                    both.append(Problem(
                        "unit-lead-and-responsible", f"“{shown}”同时列为牵头单位和责任单位", severity="warning",
                        value=written, **_CellRef(row, "resp", row.origin.sheet, letters["resp"]).where(file)))
    return problems + both, fixes, learned


def _target_problems(ledger: Ledger, period: tuple[int, int] = (2024, 2027)) -> list[Problem]:
    from .target_text import check_ledger_targets, target_column_text

    # A 目标 cell that fill computed from the row's text says nothing new: check the text once.
    ledger = deepcopy(ledger)
    for row in ledger.rows:
        typed = row.extra.get("目标")
        if typed and "".join(typed.split()) == "".join(target_column_text(row.content).split()):
            del row.extra["目标"]
    return check_ledger_targets(ledger, period=period)


def check_ledger(ledger: Ledger, directory: Directory, period: tuple[int, int] = (2024, 2027)
                 ) -> tuple[Report, list[Fix], bool]:
    """Every check ``validate`` makes on a ledger already read: its own problems, a returned distributed
    workbook's structure, the directory's errors, unit names (with the safe fixes) and targets.
    The add-in calls this on the ledger it reads from the open workbook."""
    from .returned import KEY, check_returned, is_distributed, quiet_rows, row_states

    quiet_rows(ledger)
    report = Report(list(ledger.problems))
    # A returned distributed workbook: its structure against what was distributed (the city is not known here),
    # and its rows' states as consolidate takes them, each city row by its key (不涉及 without a reason).
    report.extend(check_returned(ledger, ledger.source or "", regions=tuple(directory.region_names())))
    if is_distributed(ledger):
        keyed = [([int(k)] if (k := r.extra.get(KEY, "")).isdigit() else [], 1.0, "key") for r in ledger.rows]
        report.extend(row_states(ledger, keyed, ledger.source or ""))
    report.extend(p for p in directory.problems if p.severity == "error")
    unit_problems, fixes, learned = check_units(ledger, directory)
    report.extend(unit_problems)
    report.extend(_target_problems(ledger, period))
    return report, fixes, learned


def validate(source, region: str | None = None, units=None, out=None, fix: bool = False,
             fixed_out=None, period: tuple[int, int] = (2024, 2027)) -> ValidationResult:
    """Validate a ledger (workbook, plan document or rows); optionally write marked and fixed copies."""
    from .readers import extract
    from .xlio import check_output

    source = Path(source)
    target = (Path(fixed_out) if fixed_out else source.with_name(f"{source.stem}_已修正{_out_suffix(source)}")
              ) if fix else None
    # Both outputs checked before any work; the marked and the fixed copy must not be one file (the second
    # would replace the first).
    for one, other in ((out, target), (target, None)):
        if one is not None:
            check_output(one, source, units if isinstance(units, str | os.PathLike) else None, others=(other,))
    directory = units if isinstance(units, Directory) else load_directory(units)
    ledger = extract(source, region=region)
    if ledger.region_from == "title":  # 济南高新区 is the directory's 高新区
        ledger.region = directory.resolve_region(ledger.region) or ledger.region
    report, fixes, learned = check_ledger(ledger, directory, period)
    result = ValidationResult(source, ledger, report, fixes, learned=learned)
    if out is not None:
        region = region or ledger.region

        def revalidated(filled: Path) -> list[Problem]:
            # Validated again so that every problem points at a cell of the filled ledger.
            return validate(filled, region=region, units=directory, period=period).report.problems

        result.marked = write_marked(source, Path(out), ledger, report.problems, region=region,
                                     directory=directory, relocate=revalidated)
    if fix:
        result.fixed = _write_fixed(source, target, ledger, fixes)
    log.info("validated %s: %d problems, %d fixes", source, len(report), len(fixes))
    return result


def _out_suffix(source: Path) -> str:
    return source.suffix.lower() if source.suffix.lower() in OPENPYXL_SUFFIXES else ".xlsx"


def _load_copy(source: Path, out: Path):

    from .xlio import check_output, load_editable

    check_output(out, source)
    if out.suffix.lower() != _out_suffix(source):
        raise OutputError(f"{out}: output must be {_out_suffix(source)} for {file_name(source)}",
                          f"输出文件应为 {_out_suffix(source)} 格式（与“{file_name(source)}”相同）：{file_name(out)}")
    if source.suffix.lower() in OPENPYXL_SUFFIXES:
        return load_editable(source)
    return None


def write_marked(source: Path, out: Path, ledger: Ledger, problems: list[Problem], *, region: str | None = None,
                 directory: Directory | None = None, relocate=None, marks_only: bool = False,
                 meta: dict[str, str] | None = None) -> Path:
    """A copy of ``source`` at ``out`` with ``problems`` marked at their cells and listed in 问题清单.

    A file openpyxl cannot edit (text, docx, xls, xlsb, ods, csv) is marked in a ledger filled from
    ``ledger`` instead; ``relocate(filled)`` then gives the problems as they point into that workbook
    (default :func:`relocate_problems`: each problem moved to its row's cell of the filled ledger).
    ``directory`` fills an empty 单位名录 slot so it prints; ``marks_only`` leaves the district's own
    workbook as it was apart from the marks and the list (the slot is filled only in a filled ledger).
    ``meta`` overrides keys of a filled ledger's metadata (``filled_at`` for a reproducible copy).
    Used by ``validate`` and by the feedback ``consolidate`` writes to districts.
    """
    from .xlio import atomic_save

    wb, _placed = marked_workbook(source, out, ledger, problems, region=region, directory=directory,
                                  relocate=relocate, marks_only=marks_only, meta=meta)
    return atomic_save(wb, out) or out


def marked_workbook(source: Path, out: Path, ledger: Ledger, problems: list[Problem], *, region: str | None = None,
                    directory: Directory | None = None, relocate=None, marks_only: bool = False,
                    meta: dict[str, str] | None = None, record: bool = False, city: Ledger | None = None,
                    city_sha256: str = "") -> tuple[object, list[Problem]]:
    """``write_marked``'s workbook, not saved, and the problems as they are placed in it. ``record``: marks are
    recorded in the workbook (and an earlier run's recorded ones taken off first: ``marks.mark_cells``).

    A distributed form sent as xls, ods or xlsb is marked in the form itself, rebuilt with every value the district
    typed (``carry.carried_form``): from ``city`` (the city ledger as it is now, in a consolidation), else from
    the city's text the form carries."""
    from .marks import mark_cells, write_problem_sheet
    from .returned import as_city, is_distributed

    source, out = Path(source), Path(out)
    wb = _load_copy(source, out)
    if wb is None and is_distributed(ledger):
        from .carry import carried_form
        from .units.directory import load_directory

        wb, problems = carried_form(source, ledger, problems, city or as_city(ledger),
                                    city_sha256 or ledger.meta.get("city_ledger_sha256", ""),
                                    directory or load_directory(), out.name)
        mark_cells(wb, problems, record=record)
        write_problem_sheet(wb, problems, region=region or ledger.region)
        return wb, problems
    filled = wb is None
    if filled:
        from openpyxl import load_workbook

        from .filler import fill

        fill(ledger, out)
        problems = relocate(out) if relocate is not None else relocate_problems(ledger, problems, out)
        wb = load_workbook(out)
        if meta:
            from .template import write_meta

            write_meta(wb, meta)
    mark_cells(wb, problems, record=record)
    write_problem_sheet(wb, problems, region=region or ledger.region)
    if directory is not None and (filled or not marks_only):
        _units_to_print(wb, directory, region or ledger.region)
    return wb, problems


def relocate_problems(ledger: Ledger, problems: list[Problem], filled: Path) -> list[Problem]:
    """``problems`` found in ``ledger``'s own file, moved to the same row and column of the ledger filled from
    it at ``filled``. A problem at no row of the ledger (a plan's body text, a note under the table) keeps
    its place in the original file, written out in its message when that was a cell, so that it is never
    marked at a cell of the filled ledger that means something else."""
    from dataclasses import replace

    from .readers import extract

    again = extract(filled)
    by_place: dict = {}
    for old_items, new_items in ((ledger.rows, again.rows), (ledger.goals, again.goals)):
        if len(old_items) != len(new_items):
            continue  # cannot pair them safely: their problems stay where they were found
        for old, new in zip(old_items, new_items, strict=True):
            if old.origin.sheet and old.origin.row:
                by_place[(old.origin.sheet, old.origin.row)] = new
            elif old.origin.line:
                by_place[old.origin.line] = new
    field_of = {col: name for name, col in ledger.columns.items()}
    out = []
    for p in problems:
        row = _cell_row(p.cell)
        key = (p.sheet, row) if p.sheet and row else p.line
        new = by_place.get(key) if key is not None else None
        if new is None or not new.origin.sheet or not new.origin.row:
            if p.sheet and p.cell:
                out.append(replace(p, sheet=None, cell=None, message=f"{p.message}（原文件“{p.sheet}”表{p.cell}）"))
            else:
                out.append(p)
            continue
        fld = field_of.get(_cell_column(p.cell)) if p.cell else _problem_field(p)
        col = again.columns.get(fld or "task", again.columns.get("task", 0))
        out.append(replace(p, file=filled.name, sheet=new.origin.sheet, line=None,
                           cell=f"{column_letter(col + 1)}{new.origin.row}"))
    return out


def _cell_row(cell: str | None) -> int | None:
    digits = "".join(ch for ch in cell or "" if ch.isdigit())
    return int(digits) if digits else None


def _cell_column(cell: str) -> int | None:
    """0-based column of "D85"."""
    letters = "".join(ch for ch in cell if ch.isalpha()).upper()
    if not letters:
        return None
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _problem_field(p: Problem) -> str | None:
    """The column a problem found at a text line belongs to: unit problems name theirs first (牵头单位…),
    target problems are about 工作内容."""
    if p.type.startswith("target-") or p.type == "body-ledger-text":
        return "content"
    if p.type == "unit-lead-and-responsible":
        return "resp"
    for fld, label in FIELD_ZH.items():
        if p.type.startswith("unit-") and p.message.startswith(label):
            return fld
    return None


def _units_to_print(wb, directory: Directory, region: str | None) -> None:
    """An empty 单位名录 slot would print a blank page: in the marked copy it lists the names the ledger
    was checked against, or, with none for the region, is hidden (hidden sheets do not print)."""
    from openpyxl.styles import Alignment, Font

    from .layout import fit_rows
    from .template import BOX, N_UNITS, UNIT_HEADERS, UNITS_SHEET, set_name, setup_print
    from .units.directory import KIND_ZH

    if UNITS_SHEET not in wb.sheetnames:
        return
    ws = wb[UNITS_SHEET]
    if [c.value for c in ws[1]][:len(UNIT_HEADERS)] != [h for h, _w in UNIT_HEADERS]:
        return  # a slot restyled beyond recognition: leave it as the clerk made it
    if any(v not in (None, "") for row in ws.iter_rows(min_row=2, values_only=True) for v in row):
        return
    units = directory.region_units(region) if region and directory.has_region(region) else []
    if not units:
        ws.sheet_state = "hidden"
        return
    body = Font(name="仿宋", size=11, charset=134)
    for r, unit in enumerate(units, start=2):
        values = (unit.region, unit.name, "、".join(unit.aliases), KIND_ZH.get(unit.kind, unit.kind),
                  "、".join(unit.counterparts), unit.notes or None)
        for c, value in enumerate(values, start=1):
            cell = put(ws, r, c, value)
            cell.font, cell.border = body, BOX
            cell.alignment = Alignment(vertical="center", wrap_text=True)
    last = len(units) + 1
    fit_rows(ws, 2, {i: w for i, (_h, w) in enumerate(UNIT_HEADERS, start=1)})
    end = column_letter(len(UNIT_HEADERS))
    ws.auto_filter.ref = f"A1:{end}{last}"
    setup_print(ws, header_rows=(1, 1), area=f"A1:{end}{last}")
    set_name(wb, N_UNITS, ws, 1, 1, len(UNIT_HEADERS), last)


def _write_fixed(source: Path, out: Path, ledger: Ledger, fixes: list[Fix]) -> Path:
    from .xlio import atomic_save

    wb = _load_copy(source, out)
    if wb is None:
        from openpyxl import load_workbook

        from .filler import fill

        fixed = deepcopy(ledger)
        by_seq_field = {(f.line, f.seq, f.field): f.new for f in fixes}
        for row in fixed.rows:
            for fld, attr in (("lead", "lead_units"), ("resp", "responsible_units")):
                new = by_seq_field.get((row.origin.line, row.seq, FIELD_ZH[fld]))
                if new is not None:
                    setattr(row, attr, split_units(new))
                    row.raw[fld] = new
        fill(fixed, out)
        wb = load_workbook(out)
    else:
        for f in fixes:
            if f.sheet and f.cell:
                set_text(wb[f.sheet][f.cell], f.new)
    _fixes_sheet(wb, fixes)
    return atomic_save(wb, out) or out


def _fixes_sheet(wb, fixes: list[Fix]) -> None:
    from openpyxl.styles import Alignment, Font

    from .layout import fit_rows
    from .template import BOX, HEADER_FILL, setup_print

    if FIXES_SHEET in wb.sheetnames:
        del wb[FIXES_SHEET]
    ws = wb.create_sheet(FIXES_SHEET)
    headers = FIXES_COLUMNS
    ws.append([h for h, _w in headers])
    for f in fixes:
        r = ws.max_row + 1
        for c, value in enumerate(f.row(), 1):
            put(ws, r, c, value)
    for cell in ws[1]:
        cell.font, cell.fill, cell.border = Font(name="黑体", size=11, bold=True, charset=134), HEADER_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for col, (_h, width) in enumerate(headers, start=1):
        ws.column_dimensions[column_letter(col)].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.font, cell.border = Font(name="仿宋", size=11, charset=134), BOX
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    fit_rows(ws, 2, {i: w for i, (_h, w) in enumerate(headers, start=1)})
    setup_print(ws, header_rows=(1, 1), area=f"A1:{column_letter(len(headers))}{max(len(fixes) + 1, 1)}")
