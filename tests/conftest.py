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
