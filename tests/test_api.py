"""The Python door: xltools.extract / fill / validate are functions, and stay so after use."""

import types

from conftest import CITY

import xltools


def test_api_functions_are_not_shadowed_by_their_modules(tmp_path):
    out = tmp_path / "济南市.xlsx"
    for _ in range(2):  # a lazily imported submodule of the same name would replace the function
        ledger = xltools.extract(CITY)
        xltools.fill(ledger, out)
        result = xltools.validate(out)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rollup = xltools.consolidate(CITY, inbox, options=xltools.ConsolidateOptions(use_archive=False))
    # the 地区 sheet's 区县 and 功能区 of 济南市, in its order; none sent anything
    assert rollup.missing_regions[:3] == ["历下区", "市中区", "槐荫区"] and len(rollup.missing_regions) == 15
    for name in ("consolidate", "extract", "fill", "validate"):
        assert isinstance(getattr(xltools, name), types.FunctionType), name
    assert len(ledger.rows) == 60 and result.ledger.region == "济南市"
