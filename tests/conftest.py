import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "seeds"
EXPECTED = DATA / "expected"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "third_party"

CITY = SEEDS / "003_43a8c8a0029832b5.txt"  # 济南市 city ledger (tab-separated)
SHIZHONG = SEEDS / "000_6f872f8f8959f392.txt"  # 市中区 plan with its ledger attached (cell per line)
ZHANGQIU = SEEDS / "002_af702fcffa170051.txt"  # 章丘区 plan (prose)


def expected(seed: Path) -> dict:
    return json.loads((EXPECTED / f"{seed.stem}.json").read_text(encoding="utf-8"))


def row_view(row) -> dict:
    keys = ("seq", "task", "section", "subsection", "lead_units", "responsible_units")
    if isinstance(row, dict):
        return {k: row[k] for k in keys}
    return {k: getattr(row, k) for k in keys}


@pytest.fixture
def shared_fixtures() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is not beside this checkout")
    return SHARED_FIXTURES


def problem_lines(path: Path) -> list[dict]:
    """The lines of a workbook's 问题清单 (validate's, the feedback's or the rollup's), each by its headers."""
    from openpyxl import load_workbook

    from xltools.marks import PROBLEMS_SHEET

    rows = list(load_workbook(path)[PROBLEMS_SHEET].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def correct_as_a_clerk(path: Path) -> None:
    """What a clerk corrects in a filled 章丘区 ledger after ``validate``: an alias, a collective, two targets
    (the 目标 computed from the old text is cleared: it is stale)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["工作台账"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "区市场监管局":
                cell.value = "区市场监督管理局"
            if isinstance(cell.value, str) and "区有关部门、单位" in cell.value:
                cell.value = "区财政局"
            if isinstance(cell.value, str) and ("2.8万" in cell.value or "400亿级" in cell.value):
                cell.value = cell.value.replace("2.8万", "2.8万辆").replace("400亿级左右", "400亿元左右")
                ws.cell(cell.row, 6).value = None
    wb.save(path)


def consolidated_as_the_desk_got_them(city: Path, desk, books: dict, folder: Path, regions: list[str]) -> Path:
    """`consolidate` of the files a desk was handed (region → file), at the times it received them: the rollup
    the desk's must equal, cell for cell."""
    import shutil

    from xltools.rollup import ConsolidateOptions, consolidate

    inbox = folder / "inbox"
    inbox.mkdir()
    files = []
    for region, path in books.items():
        shutil.copy(path, inbox / path.name)
        files.append((inbox / path.name, path.name, desk.versions(region)[-1].received, None))
    out = folder / "cli.xlsx"
    consolidate(city, inbox, out, ConsolidateOptions(regions=regions, use_archive=False, workers=1),
                created=max(f[2] for f in files), files=files)
    return out
