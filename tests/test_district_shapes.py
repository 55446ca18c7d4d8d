"""District workbooks as offices really send them: nothing lost, no phantom tasks (issue 9).

Built from the real 章丘区 plan (tests/data/seeds/002_…) in the shapes of tests/districts.py, then read the way
consolidate reads them.
"""

import shutil

import pytest
from conftest import CITY, ZHANGQIU
from districts import (
    FOOTER,
    NOTE,
    gb18030_csv,
    hierarchical,
    lost_cells,
    saved_by_libreoffice,
    two_row_header,
)

from xltools import extract
from xltools.rollup import ConsolidateOptions, consolidate
from xltools.text import heading_title


@pytest.fixture(scope="module")
def zhangqiu():
    return extract(ZHANGQIU)


def _no_asides_as_tasks(ledger):
    actions = {heading_title(r.section) for r in ledger.rows}
    for row in ledger.rows:
        text = row.task + row.content
        assert "填报人" not in text and "联系电话" not in text and not row.content.startswith("注：")
        assert row.task not in actions  # a band is never a task


def test_two_row_merged_header_columns_in_another_order(tmp_path, zhangqiu):
    path = two_row_header(zhangqiu, tmp_path / "历城区_台账.xlsx", "历城区")
    ledger = extract(path)
    assert ledger.region == "历城区"
    assert len(ledger.rows) == len(zhangqiu.rows)
    for got, want in zip(ledger.rows, zhangqiu.rows, strict=True):
        assert (got.seq, got.task, got.content) == (want.seq, want.task, want.content)
        assert (got.section, got.subsection) == (want.section, want.subsection)
        assert got.lead_units == want.lead_units and got.responsible_units == want.responsible_units
    assert ledger.rows[2].extra == {"完成时限": "2025年12月"}
    assert ledger.rows[6].extra == {"备注": "已纳入年度计划"}
    _no_asides_as_tasks(ledger)
    asides = {p.type: p.value for p in ledger.problems if p.type in ("form-text", "note-row")}
    assert FOOTER in asides["form-text"] or "填报人" in asides["form-text"]
    assert asides["note-row"] == NOTE
    assert not [p for p in ledger.problems if p.type in ("bad-seq", "unrecognized-row", "missing-header")]
    assert lost_cells(path, ledger, range(3, 5)) == []


def test_signed_preamble_and_footer_are_kept_as_problems(tmp_path, zhangqiu):
    path = two_row_header(zhangqiu, tmp_path / "历城区_台账.xlsx", "历城区")
    ledger = extract(path)
    forms = [p for p in ledger.problems if p.type == "form-text"]
    assert [p.cell for p in forms] == ["A2", f"A{len(zhangqiu.rows) + 4 + 7 + 16 + 3}"] or len(forms) == 2
    assert "历城区发展和改革局" in forms[0].value and "2024年6月30日" in forms[0].value
    assert all(p.severity == "info" for p in forms)


def test_hierarchical_numbers_are_kept_as_written(tmp_path, zhangqiu):
    path = hierarchical(zhangqiu, tmp_path / "天桥区_台账.xlsx", "天桥区")
    ledger = extract(path, region="天桥区")
    labels = [r.number for r in ledger.rows]
    assert labels[:4] == ["1", "1.1", "1.2", "1.3"][:len(labels[:4])]
    child = ledger.rows[1]
    assert (child.seq, child.label, child.task) == (None, "1.1", ledger.rows[0].task)
    assert not [p for p in ledger.problems if p.type == "bad-seq"]
    _no_asides_as_tasks(ledger)
    assert lost_cells(path, ledger, range(2, 3)) == []


def test_gb18030_csv_with_columns_in_another_order(tmp_path, zhangqiu):
    path = gb18030_csv(zhangqiu, tmp_path / "济阳区_台账.csv")
    ledger = extract(path, region="济阳区")
    assert [(r.seq, r.task, r.content) for r in ledger.rows] == [(r.seq, r.task, r.content) for r in zhangqiu.rows]
    assert ledger.rows[4].extra == {"备注": "新增"}
    assert [p.type for p in ledger.problems if p.type == "form-text"] == ["form-text"]
    _no_asides_as_tasks(ledger)


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_saved_by_libreoffice(tmp_path, zhangqiu, suffix):
    src = two_row_header(zhangqiu, tmp_path / "历城区_台账.xlsx", "历城区")
    path = saved_by_libreoffice(src, suffix, tmp_path / "lo")
    ledger = extract(path)
    assert [(r.seq, r.task, r.content, r.responsible_units) for r in ledger.rows] == \
        [(r.seq, r.task, r.content, r.responsible_units) for r in zhangqiu.rows]
    assert {p.type for p in ledger.problems} >= {"form-text", "note-row"}


def test_consolidated_shapes_map_and_sum(tmp_path, zhangqiu):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    two_row_header(zhangqiu, inbox / "历城区_台账.xlsx", "历城区")
    hierarchical(zhangqiu, inbox / "天桥区_台账.xlsx", "天桥区")
    rollup = consolidate(CITY, inbox, tmp_path / "汇总.xlsx",
                         ConsolidateOptions(regions=["历城区", "天桥区"], archive=str(tmp_path / "archive")))
    assert rollup.missing_regions == []
    by_region = {}
    for m in rollup.mappings:
        by_region.setdefault(m.region, []).append(m)
    # 章丘区's plan follows the city's numbering and wording: one to one, however the header is laid out
    assert [(m.row.seq, m.city_seqs) for m in by_region["历城区"]] == [(s, [s]) for s in range(1, 61)]
    stations = next(t for t in rollup.targets if t.city_seq == 10 and t.metric == "充换电站")
    assert stations.districts["历城区"] == 120
    # 1.1-numbered rows: parents (numbered as the city numbers) map one to one, children by their text
    tianqiao = by_region["天桥区"]
    parents = [m for m in tianqiao if m.row.seq is not None]
    assert [m.city_seqs for m in parents] == [[s] for s in range(1, 61)]
    children = [m for m in tianqiao if m.row.seq is None]
    assert children and all(m.row.label and m.method != "seq" for m in children)
    assert sum(m.city_seqs[:1] == [int(m.row.label.split(".")[0])] for m in children) >= 0.9 * len(children)


def test_a_districts_own_numbers_count_only_when_they_follow_the_citys():
    from conftest import SHIZHONG

    from xltools.rollup.mapping import CityIndex

    index = CityIndex(extract(CITY))
    shizhong, zhangqiu = extract(SHIZHONG).rows, extract(ZHANGQIU).rows
    assert index.follows_numbering(zhangqiu) and not index.follows_numbering(shizhong)
    assert all(method != "seq" for _, _, method in index.map_rows(shizhong))
    # 市中区's task 5 (老旧农机) is the city's 6, whatever the number says
    assert index.map_rows(shizhong)[4][0] == [6]
    # renumbered 1, 2, 3… by a district that skipped tasks: its numbers are not the city's
    shifted = [type(r)(r.seq + 1, r.task, r.content) for r in zhangqiu[10:40]]
    assert not index.follows_numbering(shifted)
    assert [seqs for seqs, _, _ in index.map_rows(shifted)] == [[r.seq] for r in zhangqiu[10:40]]


def test_filled_ledger_keeps_hierarchical_numbers_as_written(tmp_path, zhangqiu):
    import openpyxl

    from xltools import fill

    path = hierarchical(zhangqiu, tmp_path / "天桥区_台账.xlsx", "天桥区")
    result = fill(extract(path, region="天桥区"), tmp_path / "天桥区_工作台账.xlsx")
    ws = openpyxl.load_workbook(result.path)["工作台账"]
    seqs = [c.value for c in next(ws.iter_cols(min_col=1, max_col=1)) if c.value not in (None, "")]
    assert [str(v) for v in seqs if str(v)[:1].isdigit()][:4] == ["1", "1.1", "1.2", "1.3"]
    again = extract(result.path)
    assert [r.number for r in again.rows] == [r.number for r in extract(path, region="天桥区").rows]


def _titled(src, path, title):
    """``src`` with another title in A1, saved as ``path``."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    wb.active["A1"] = title
    wb.save(path)
    src.unlink()
    return path


def test_functional_zones_by_the_names_their_files_give(tmp_path, zhangqiu):
    """济南's 功能区 write their own names: 济南新旧动能转换起步区 (too long to read as a region), 济南南部山区 (the
    city's name before the zone's) and a file named 济南高新技术产业开发区 (the zone's full name, with no 高新区 in
    it). The unit directory's 地区 sheet (its 别名) makes each the region the city expects: none 未报送, no
    region made up."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _titled(two_row_header(zhangqiu, tmp_path / "a.xlsx", "章丘区"), inbox / "附件2_工作台账.xlsx",
            "济南新旧动能转换起步区推动大规模设备更新和消费品以旧换新工作台账")
    _titled(two_row_header(zhangqiu, tmp_path / "b.xlsx", "章丘区"), inbox / "台账(3).xlsx",
            "济南南部山区推动大规模设备更新和消费品以旧换新工作台账")
    gb18030_csv(zhangqiu, inbox / "济南高新技术产业开发区_台账.csv")
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(regions=["高新区", "起步区", "南部山区", "历城区"],
                                                               use_archive=False))
    found = {r.name: (r.region, r.region_from) for r in rollup.received}
    assert found == {"附件2_工作台账.xlsx": ("起步区", "title"), "台账(3).xlsx": ("南部山区", "title"),
                     "济南高新技术产业开发区_台账.csv": ("高新区", "filename")}
    assert rollup.missing_regions == ["历城区"] and sorted(rollup.regions) == ["南部山区", "起步区", "高新区"]
    assert not [p for p in rollup.problems if p.type == "unknown-district"]


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_a_zone_titled_by_its_own_name_in_a_file_saved_by_libreoffice(tmp_path, zhangqiu, suffix):
    """The same, the way WPS and LibreOffice offices send it: 济南高新区's title read from an xls or ods, under a
    file name that names no region; every row still read."""
    src = _titled(two_row_header(zhangqiu, tmp_path / "a.xlsx", "章丘区"), tmp_path / "附件2.xlsx",
                  "济南高新区推动大规模设备更新和消费品以旧换新工作台账")
    inbox = tmp_path / "inbox"
    saved_by_libreoffice(src, suffix, inbox)
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(regions=["高新区", "历城区"], use_archive=False))
    (rec,) = rollup.received
    assert (rec.name, rec.region, rec.region_from) == (f"附件2{suffix}", "高新区", "title")
    assert rollup.missing_regions == ["历城区"] and not rollup.unreadable_regions
    assert len(rec.rows) == len(zhangqiu.rows)
