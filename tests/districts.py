"""District workbooks made the way offices really send them, from the rows of a real plan.

Each builder writes one file and returns it; ``cells_with_text`` reads back every cell a clerk typed, so a
test can check that each one reached the ledger's rows or a problem. The shapes come from what district
offices return: a two-row header with merged group labels and columns in another order, band rows written
as 一、 in 序号 with the action's name in 重点任务, signature lines (填报人/联系电话/审核人) and notes under the table,
1.1-style numbers, units separated by spaces, a GB18030 CSV, and files saved by LibreOffice as xls/ods.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment

from xltools.model import Ledger
from xltools.text import ACTION_RE, fold

FOOTER = "填报人：张三　　联系电话：0531-88886666　　审核人：李四"
NOTE = "注：工作内容中的数字为2025年目标，完成时限按季度填写。"
SIGNED = "填报单位（盖章）：{region}发展和改革局"


def _bands(ledger: Ledger):
    """(kind, text) for action and field bands, and ("task", row), in document order."""
    section = subsection = None
    for row in ledger.rows:
        if row.section != section:
            section, subsection = row.section, None
            yield "action", row.section
        if row.subsection and row.subsection != subsection:
            subsection = row.subsection
            yield "field", row.subsection
        yield "task", row


def two_row_header(ledger: Ledger, path: Path, region: str, *, space_units: bool = True) -> Path:
    """Title, a signed preamble, a two-row merged header with columns in another order (units before the
    content, an extra 完成时限 and 备注), bands as 一、 in 序号 + name in 重点任务 (fields merged across), a note
    and a signature line under the table. Responsible units separated by spaces, as a 填报说明 asked."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws["A1"] = f"济南市{region}推动大规模设备更新和消费品以旧换新工作台账"
    ws.merge_cells("A1:G1")
    ws["A2"] = SIGNED.format(region=region)
    ws.merge_cells("A2:D2")
    ws["E2"] = "填报日期：2024年6月30日"
    ws.merge_cells("E2:G2")
    ws.append(["任务", None, "责任分工", None, "工作内容", "完成时限", "备注"])
    ws.append(["序号", "重点任务", "牵头单位", "责任单位", None, None, None])
    for rng in ("A3:B3", "C3:D3", "E3:E4", "F3:F4", "G3:G4"):
        ws.merge_cells(rng)
    for kind, item in _bands(ledger):
        if kind == "action":
            number, name = ACTION_RE.match(item).groups()
            ws.append([f"{number}、", name])
        elif kind == "field":
            ws.append([item])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=7)
        else:
            sep = " " if space_units else "、"
            ws.append([item.seq, item.task, "、".join(item.lead_units), sep.join(item.responsible_units),
                       item.content, "2025年12月" if item.seq and item.seq % 3 == 0 else None,
                       "已纳入年度计划" if item.seq and item.seq % 7 == 0 else None])
            ws.cell(ws.max_row, 5).alignment = Alignment(wrap_text=True)
    ws.append([NOTE])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=7)
    ws.append([])
    ws.append([FOOTER])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=7)
    wb.save(path)
    return path


def hierarchical(ledger: Ledger, path: Path, region: str) -> Path:
    """Numbers 1, 1.1, 1.2, 2, 2.1 …: each task a parent row (its name and units), each sentence of its content
    a child row numbered as written; bands as one merged cell; a footer."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工作台账"
    ws.append([f"{region}设备更新和消费品以旧换新工作台账"])
    ws.append(["序号", "重点任务", "工作内容", "牵头单位", "责任单位", "进展情况"])
    number = 0
    for kind, item in _bands(ledger):
        if kind != "task":
            ws.append([item])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
            continue
        number += 1
        ws.append([str(number), item.task, None, "、".join(item.lead_units), "、".join(item.responsible_units)])
        sentences = [s + "。" for s in item.content.split("。") if s.strip()]
        for k, sentence in enumerate(sentences[:3], 1):
            ws.append([f"{number}.{k}", None, sentence, "、".join(item.lead_units), None,
                       "推进中" if k == 1 else None])
    ws.append([FOOTER])
    wb.save(path)
    return path


def gb18030_csv(ledger: Ledger, path: Path) -> Path:
    """A CSV in GB18030 with the columns in another order, an extra 备注 column and a footer line."""
    with path.open("w", encoding="gb18030", newline="") as f:
        out = csv.writer(f)
        out.writerow(["重点任务", "序号", "牵头单位", "工作内容", "责任单位", "备注"])
        for row in ledger.rows:
            out.writerow([row.task, row.seq, "、".join(row.lead_units), row.content,
                          "、".join(row.responsible_units), "新增" if row.seq == 5 else ""])
        out.writerow([FOOTER, "", "", "", "", ""])
    return path


def saved_by_libreoffice(src: Path, suffix: str, outdir: Path) -> Path:
    """``src`` converted by LibreOffice (xls, ods): the way WPS and LibreOffice offices send files."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([soffice, "--headless", "--convert-to", suffix.lstrip("."), "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=180)
    return outdir / f"{src.stem}{suffix}"


def cells_with_text(path: Path, sheet: str | None = None) -> dict[int, list[str]]:
    """Every cell with text in a workbook's sheet (merged cells once), by 1-based row."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    out: dict[int, list[str]] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value not in (None, ""):
                out.setdefault(cell.row, []).append(str(cell.value))
    return out


def row_texts(ledger: Ledger) -> dict[int, str]:
    """What the ledger kept of each sheet row (rows, goals, problems), folded, by 1-based sheet row."""
    kept: dict[int, list[str]] = {}
    for row in ledger.rows:
        kept.setdefault(row.origin.row, []).extend(
            [row.number, row.task, row.content, *row.lead_units, *row.responsible_units, *row.extra.values(),
             row.raw.get("lead", ""), row.raw.get("resp", "")])
    for goal in ledger.goals:
        kept.setdefault(goal.origin.row, []).append(goal.text)
    for p in ledger.problems:
        if p.cell:
            kept.setdefault(int("".join(ch for ch in p.cell if ch.isdigit())), []).extend([p.value or "", p.message])
    return {r: fold("".join(texts)) for r, texts in kept.items()}


def lost_cells(path: Path, ledger: Ledger, header: range) -> list[tuple[int, str]]:
    """Cells with text (outside the header rows) that reached neither the title, a row, a band heading nor a
    problem."""
    kept = row_texts(ledger)
    bands = [fold(h) for h in {h for r in ledger.rows for h in (r.section, r.subsection)} if h]
    lost = []
    for r, texts in cells_with_text(path).items():
        if r in header:
            continue
        for text in texts:
            t = fold(text)
            if t == ledger.title or any(t in b for b in bands) or t in kept.get(r, ""):
                continue
            lost.append((r, text))
    return lost
