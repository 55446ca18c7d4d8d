"""A district's column of targets is its 目标 column whatever its header says (工作目标, 量化目标, 目标任务):
its targets are parsed and its problems located in it, as for a column headed 目标."""

from __future__ import annotations

import openpyxl
import pytest
from conftest import SHIZHONG

from xltools import extract
from xltools.target_text import checked_ledger_targets, format_target

# What districts type in such a column (issue 13's corpus); the last lacks its unit (2.8万 what?).
TYPED = ["年内完成93个", "全年新增200台", "年内完成2.8万"]


def _district(path, headers: list[str], extra: list[list[str]]):
    """A district workbook of the 市中区 plan's first task rows, with ``headers`` after the unit columns."""
    rows = extract(SHIZHONG).rows[:len(extra)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["市中区推动大规模设备更新和消费品以旧换新工作台账"])
    ws.append(["序号", "重点任务", "工作内容", "牵头单位", "责任单位", *headers])
    for row, cells in zip(rows, extra, strict=True):
        ws.append([row.seq, row.task, row.content, "、".join(row.lead_units), "、".join(row.responsible_units),
                   *cells])
    wb.save(path)
    return path


def _typed_targets(ledger, results) -> list[list[str]]:
    """Per row, the targets that came from the typed column (the text of each is the typed text)."""
    by_item = {id(item): result for item, result in results}
    return [[format_target(t) for t in by_item[id(row)].targets if t.text in TYPED] for row in ledger.rows]


@pytest.mark.parametrize("header", ["目标", "工作目标", "量化目标", "目标任务", "工作目标（2025年）"])
def test_a_column_of_targets_under_any_of_its_names_is_parsed(tmp_path, header):
    ledger = extract(_district(tmp_path / "市中区.xlsx", [header, "备注"], [[t, "按期推进"] for t in TYPED]))
    assert [row.extra.get("目标") for row in ledger.rows] == TYPED
    assert [row.extra.get("备注") for row in ledger.rows] == ["按期推进"] * 3
    assert ledger.columns["目标"] == 5
    results, problems = checked_ledger_targets(ledger)
    assert _typed_targets(ledger, results) == [["93个"], ["200台"], ["=2.8万"]]
    # The unit missing after 2.8万 is found in that column, at the row's cell.
    [missing] = [p for p in problems if p.type == "target-unit-missing" and p.value == "2.8万"]
    assert (missing.sheet, missing.cell) == ("台账", "F5")


def test_a_column_headed_mubiao_stays_the_target_column_beside_another(tmp_path):
    ledger = extract(_district(tmp_path / "市中区.xlsx", ["量化目标", "目标"],
                               [["每年新增10个", t] for t in TYPED]))
    assert ledger.columns["目标"] == 6 and ledger.columns["量化目标"] == 5
    assert [row.extra["量化目标"] for row in ledger.rows] == ["每年新增10个"] * 3  # kept, as written
    results, _ = checked_ledger_targets(ledger)
    assert _typed_targets(ledger, results) == [["93个"], ["200台"], ["=2.8万"]]
    assert not any(t.text == "每年新增10个" for _, r in results for t in r.targets)


def test_other_columns_are_not_targets(tmp_path):
    ledger = extract(_district(tmp_path / "市中区.xlsx", ["完成时限", "进展情况"], [[t, t] for t in TYPED]))
    assert "目标" not in ledger.columns
    assert all("目标" not in row.extra for row in ledger.rows)
    results, _ = checked_ledger_targets(ledger)
    assert _typed_targets(ledger, results) == [[], [], []]
