"""consolidate --feedback: each district's own file marked, with the city tasks it misses and the targets short.

Seeds: 市中区's plan (text, so its feedback is a filled ledger), 章丘区's plan filled into the template (xlsx,
so its feedback is its own workbook), 历城区 as rows (CSV) of tasks the city does not have.
"""

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU, problem_lines
from openpyxl import load_workbook

from xltools import extract, fill
from xltools.errors import OutputError
from xltools.feedback import COVER_SHEET, MANIFEST_NAME, feedback_name
from xltools.marks import FILLS, MARKS_SHEET, PROBLEMS_SHEET
from xltools.problems import SEVERITIES, SEVERITY_ZH
from xltools.rollup import ConsolidateOptions, consolidate, consolidate_from_archive
from xltools.target_text import _format_amount

REGIONS = ["市中区", "章丘区", "历城区"]
SEVERITY_ZH_REV = {v: k for k, v in SEVERITY_ZH.items()}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _make_inbox(folder: Path, when: float | None = None) -> Path:
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt")
    fill(ZHANGQIU, inbox / "章丘区_工作台账.xlsx")
    with open(inbox / "历城区_台账.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["序号", "重点任务", "工作内容", "牵头单位", "责任单位"])
        w.writerow([1, "推动住房以旧换新", "开展老旧住房收购，用于保障性住房。", "区住房城乡建设局", "区财政局"])
        w.writerow([2, "举办社区文艺汇演", "每季度举办一次社区文艺汇演。", "区文化和旅游局", "各街道办事处"])
    if when is not None:
        for path in inbox.iterdir():
            os.utime(path, (when, when))
    return inbox


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One consolidation with feedback; the inbox's district files as they were before it."""
    tmp = tmp_path_factory.mktemp("feedback")
    inbox = _make_inbox(tmp)
    before = {p.name: _sha(p) for p in inbox.iterdir()}
    options = ConsolidateOptions(regions=REGIONS, archive=str(tmp / "archive"), feedback=str(tmp / "反馈"))
    rollup = consolidate(CITY, inbox, tmp / "汇总.xlsx", options)
    return rollup, inbox, before, tmp


FEEDBACK_SHEETS = {COVER_SHEET, PROBLEMS_SHEET, MARKS_SHEET}  # what feedback adds to a district's own file


def _rec(rollup, region):
    return next(r for r in rollup.received if r.region == region)


def _manifest(path: Path) -> list[dict]:
    rows = list(load_workbook(path).active.iter_rows(min_row=2, values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _values(path: Path) -> dict:
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def _marks(path: Path) -> dict:
    wb = load_workbook(path)
    return {(ws.title, c.coordinate): (c.fill.fgColor.rgb, c.comment.text) for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.comment is not None}


def test_every_district_that_submitted_gets_its_feedback_and_the_inbox_is_untouched(run):
    rollup, inbox, before, tmp = run
    assert {p.name: _sha(p) for p in inbox.iterdir()} == before
    assert sorted(p.name for p in rollup.feedback) == sorted(feedback_name(r) for r in rollup.received)
    assert {p.name for p in (tmp / "反馈").iterdir()} == {p.name for p in rollup.feedback} | {MANIFEST_NAME}
    assert feedback_name(_rec(rollup, "章丘区")) == "章丘区_反馈_章丘区_工作台账.xlsx"


def test_an_xlsx_district_gets_its_own_file_marked_and_nothing_else_changed(run):
    rollup, inbox, _before, tmp = run
    rec = _rec(rollup, "章丘区")
    out = tmp / "反馈" / feedback_name(rec)
    marks = _marks(out)
    located = [p for p in rec.problems if p.sheet and p.cell]
    assert located, "the seed has unit and target problems at cells"
    for p in located:
        rgb, note = marks[(p.sheet, p.cell)]
        worst = min((q.severity for q in located if (q.sheet, q.cell) == (p.sheet, p.cell)), key=SEVERITIES.index)
        assert rgb.endswith(FILLS[worst]) and p.message in note
    assert len(marks) == len({(p.sheet, p.cell) for p in located})
    original, marked = _values(inbox / rec.name), _values(out)
    assert set(marked) == set(original) | FEEDBACK_SHEETS
    for sheet, rows in original.items():
        assert marked[sheet] == rows, sheet  # the 单位名录 slot too: the district's file, marks only


def test_a_text_district_gets_a_filled_ledger_marked_where_its_problems_are(run):
    rollup, _inbox, _before, tmp = run
    rec = _rec(rollup, "市中区")
    out = tmp / "反馈" / feedback_name(rec)
    assert out.suffix == ".xlsx"
    ws = load_workbook(out)["工作台账"]
    marks = _marks(out)
    # The same ledger filled on its own: the feedback differs from it only by the marks.
    plain = tmp / "plain.xlsx"
    fill(rec.ledger, plain)
    assert [[c.value for c in row] for row in load_workbook(plain)["工作台账"].iter_rows()] == \
        [[c.value for c in row] for row in ws.iter_rows()]
    units = [p for p in rec.problems if p.type.startswith("unit-")]
    assert units and all(p.line and not p.cell for p in units)  # found at lines of the text
    listed = problem_lines(out)
    for p in units:
        row = next(r for r in listed if r["代码"] == p.type and r["内容"] == p.value)
        assert row["工作表"] == "工作台账" and row["单元格"]
        cell = ws[row["单元格"]]
        assert p.value in str(cell.value).replace("\n", "")  # the unit named is in the cell marked (one a line)
        rgb, note = marks[("工作台账", row["单元格"])]
        worst = min((SEVERITY_ZH_REV[r["严重程度"]] for r in listed if r["单元格"] == row["单元格"]),
                    key=SEVERITIES.index)
        assert p.message in note and rgb.endswith(FILLS[worst])
        field = "牵头单位" if p.message.startswith("牵头单位") else "责任单位"
        header = next(c.value for c in ws[cell.column_letter] if c.value in ("牵头单位", "责任单位"))
        assert header == field
    # Problems of the plan's body (no row of the ledger) are listed at their line, not marked.
    body = [r for r in listed if r["代码"] == "body-only-task"]
    assert body and all(r["行"] and not r["单元格"] for r in body)


def test_uncovered_city_tasks_and_short_targets_are_listed(run):
    rollup, _inbox, _before, tmp = run
    coverage = rollup.coverage()
    city_tasks = {r.seq: r.task for r in rollup.city.rows if r.seq is not None}
    for region in ("市中区", "章丘区"):
        listed = problem_lines(tmp / "反馈" / feedback_name(_rec(rollup, region)))
        uncovered = [r for r in listed if r["代码"] == "feedback-uncovered-task"]
        missing = [seq for seq in city_tasks if region not in coverage.get(seq, {})]
        assert len(uncovered) == len(missing)
        for row, seq in zip(uncovered, missing, strict=True):
            assert f"{seq}“{city_tasks[seq]}”" in row["问题说明"] and row["严重程度"] == SEVERITY_ZH["warning"]
        short = [r for r in listed if r["代码"] == "feedback-target-short"]
        for t in rollup.targets:
            mine = t.districts.get(region)
            if t.city_seq is None or mine is None or not t.summable or t.district_sum >= t.city_value:
                continue
            text = (f"市级{_format_amount(t.city_value, t.unit)}，各区县合计{_format_amount(t.district_sum, t.unit)}，"
                    f"本区{_format_amount(mine, t.unit)}，尚差{_format_amount(t.city_value - t.district_sum, t.unit)}")
            assert any(text in r["问题说明"] and t.metric in r["问题说明"] for r in short), (region, t.metric)
        assert all(r["严重程度"] == SEVERITY_ZH["info"] for r in short)
    assert any(t.metric == "充换电站" for t in rollup.targets)  # the seeds do have a short target to list
    # 市中区 misses some city tasks; a file none of whose rows maps to a city task gets no such list.
    assert any(r["代码"] == "feedback-uncovered-task" for r in problem_lines(tmp / "反馈" / feedback_name(_rec(rollup, "市中区"))))
    lc = problem_lines(tmp / "反馈" / feedback_name(_rec(rollup, "历城区")))
    assert not any(m.mapped for m in rollup.mappings if m.region == "历城区")
    assert not any(r["代码"] == "feedback-uncovered-task" for r in lc)


def test_rows_no_city_task_was_found_for_are_marked_at_their_name(run):
    """The rows the rollup lists as unmapped come back to their district, marked at the name (重点任务) in its
    feedback, counted in the manifest; a district whose rows all map gets none."""
    rollup, _inbox, _before, tmp = run
    manifest = {r["报送文件"]: r for r in _manifest(tmp / "反馈" / MANIFEST_NAME)}
    for rec in rollup.received:
        out = tmp / "反馈" / feedback_name(rec)
        unmapped = [m.row.task for m in rollup.mappings if m.file == rec.name and not m.mapped]
        assert unmapped == [p.message.split("“")[1].split("”")[0] for p in rollup.problems
                            if p.type == "unmapped-row" and p.file == rec.name]  # what the rollup lists
        listed = [r for r in problem_lines(out) if r["代码"] == "feedback-unmapped-row"]
        assert [r["内容"] for r in listed] == unmapped and manifest[rec.name]["未对应行"] == len(unmapped)
        ws, marks = load_workbook(out)["工作台账"], _marks(out)
        for r in listed:
            assert r["严重程度"] == SEVERITY_ZH["info"] and r["工作表"] == "工作台账"
            assert ws[r["单元格"]].value == r["内容"] and ws[r["单元格"]].column_letter == "B"  # 重点任务
            assert r["问题说明"] in marks[("工作台账", r["单元格"])][1]
    assert manifest["历城区_台账.csv"]["未对应行"] == 2 and manifest["章丘区_工作台账.xlsx"]["未对应行"] == 0


@pytest.mark.parametrize("saved_by", ["openpyxl", "libreoffice"])
def test_an_unmapped_row_of_a_file_as_offices_send_it_is_marked_at_its_name(tmp_path, saved_by):
    """A district file as offices send it (title, signed preamble, two-row merged header in another order, bands,
    units split by spaces, a note and a signature under the table; also as saved by LibreOffice), with one task
    the city has not and one typed as text starting with "=": both come back marked at their 重点任务 cell, the
    typed "=…" stays text, and the rest of the sheet is as the district sent it."""
    from districts import saved_by_libreoffice, two_row_header
    from openpyxl.utils import get_column_letter

    from xltools.xlio import set_text

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = two_row_header(extract(ZHANGQIU), inbox / "章丘区_台账.xlsx", "章丘区")
    wb = load_workbook(path)
    ws = wb["台账"]
    task_col = next(c.column for c in ws[4] if c.value == "重点任务")
    content_col = next(c.column for c in ws[3] if c.value == "工作内容")
    rows = [r for r in range(5, ws.max_row) if isinstance(ws.cell(r, 1).value, int)]
    for r, task, content in ((rows[3], "举办社区文艺汇演", "每季度举办一次社区文艺汇演。"),
                             (rows[8], "=开展全民健身月活动", "组织开展全民健身月系列活动。")):
        set_text(ws.cell(r, task_col), task)
        set_text(ws.cell(r, content_col), content)
    wb.save(path)
    if saved_by == "libreoffice":
        if not shutil.which("soffice"):
            pytest.skip("LibreOffice is not installed")
        lo = saved_by_libreoffice(path, ".xlsx", tmp_path / "lo")
        path.unlink()
        path = lo.rename(inbox / lo.name)
    options = ConsolidateOptions(regions=["章丘区"], use_archive=False, feedback=str(tmp_path / "反馈"))
    rollup = consolidate(CITY, inbox, tmp_path / "汇总.xlsx", options)
    rec = _rec(rollup, "章丘区")
    out = tmp_path / "反馈" / feedback_name(rec)
    listed = [r for r in problem_lines(out) if r["代码"] == "feedback-unmapped-row"]
    letter = get_column_letter(task_col)
    assert {(r["单元格"], r["内容"]) for r in listed} == {(f"{letter}{rows[3]}", "举办社区文艺汇演"),
                                                         (f"{letter}{rows[8]}", "=开展全民健身月活动")}
    marked = load_workbook(out)
    typed = marked["台账"][f"{letter}{rows[8]}"]
    assert typed.value == "=开展全民健身月活动" and typed.data_type == "s"  # text, not a formula
    entry = next(c for row in marked[PROBLEMS_SHEET].iter_rows() for c in row if c.value == "=开展全民健身月活动")
    assert entry.data_type == "s"
    marks = _marks(out)
    for r in listed:
        assert r["问题说明"] in marks[("台账", r["单元格"])][1]
    assert _values(path)["台账"] == _values(out)["台账"]  # marks only


def test_the_problem_list_is_sorted_by_severity_then_cell(run):
    rollup, _inbox, _before, tmp = run
    for rec in rollup.received:
        listed = problem_lines(tmp / "反馈" / feedback_name(rec))
        ranks = [[SEVERITY_ZH[s] for s in SEVERITIES].index(r["严重程度"]) for r in listed]
        assert ranks == sorted(ranks)
        for rank in set(ranks):
            cells = [r["单元格"] for r, k in zip(listed, ranks, strict=True) if k == rank and r["单元格"]]
            rows = [int("".join(ch for ch in c if ch.isdigit())) for c in cells]
            assert rows == sorted(rows)
            placed = [bool(r["单元格"]) for r, k in zip(listed, ranks, strict=True) if k == rank]
            assert placed == sorted(placed, reverse=True)  # the whole file's problems after the cells'


def test_same_bytes_give_the_same_feedback_and_so_does_a_rebuild(run, tmp_path):
    rollup, _inbox, _before, tmp = run
    # Another day, another inbox, other file times: the same bytes.
    inbox = _make_inbox(tmp_path, when=1_700_000_000)
    shutil.copy(tmp / "inbox" / "章丘区_工作台账.xlsx", inbox / "章丘区_工作台账.xlsx")  # fill stamps its time
    again = consolidate(CITY, inbox, tmp_path / "汇总.xlsx",
                        ConsolidateOptions(regions=REGIONS, use_archive=False, feedback=str(tmp_path / "again")))
    rebuilt = consolidate_from_archive(rollup.archive_run, tmp_path / "重出.xlsx", archive=str(tmp / "archive"),
                                       feedback=str(tmp_path / "rebuilt"))
    for other in (again, rebuilt):
        assert sorted(p.name for p in other.feedback) == sorted(p.name for p in rollup.feedback)
        for path in other.feedback:
            first = tmp / "反馈" / path.name
            assert _values(path) == _values(first), path.name
            assert _marks(path) == _marks(first), path.name


def test_superseded_and_unreadable_files_get_no_feedback_but_are_listed(tmp_path):
    from click.testing import CliRunner

    from xltools.cli import cli

    inbox = _make_inbox(tmp_path, when=1_700_000_000)
    older = inbox / "章丘区_工作台账_旧.xlsx"
    fill(ZHANGQIU, older)
    os.utime(older, (1_600_000_000, 1_600_000_000))
    (inbox / "槐荫区_工作台账.xlsx").write_bytes(b"not a workbook")
    out = tmp_path / "fb"
    result = CliRunner().invoke(cli, ["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "r.xlsx"),
                                      "--no-archive", "--regions", ",".join(REGIONS + ["槐荫区"]),
                                      "--feedback", str(out)])
    assert result.exit_code == 1, result.output
    assert f"已写出反馈：3 个地区 → {out}" in result.output
    again = CliRunner().invoke(cli, ["consolidate", str(CITY), str(inbox), "-o", str(tmp_path / "r2.xlsx"),
                                     "--no-archive", "--json", "--regions", ",".join(REGIONS + ["槐荫区"]),
                                     "--feedback", str(tmp_path / "fb2")])
    listed = json.loads(again.output)["feedback"]  # --json names the workbooks written
    assert sorted(Path(p).name for p in listed) == sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME)
    assert all(Path(p).parent == tmp_path / "fb2" and Path(p).is_file() for p in listed)
    assert not (out / "章丘区_反馈_章丘区_工作台账_旧.xlsx").exists()
    assert not any("槐荫区" in p.name for p in out.iterdir())
    rows = {r["报送文件"]: r for r in _manifest(out / MANIFEST_NAME)}
    assert rows["章丘区_工作台账.xlsx"]["反馈文件"] == "章丘区_反馈_章丘区_工作台账.xlsx"
    assert rows["章丘区_工作台账_旧.xlsx"]["反馈文件"] in (None, "") and "取代" in rows["章丘区_工作台账_旧.xlsx"]["说明"]
    assert rows["槐荫区_工作台账.xlsx"]["反馈文件"] in (None, "") and "无法读取" in rows["槐荫区_工作台账.xlsx"]["说明"]


def test_feedback_an_earlier_run_left_in_the_folder_is_named_never_deleted(tmp_path):
    """Run again into the same folder after 章丘区 sent its ledger under another name: its old feedback is not
    written again; the clerk is told, 反馈清单 lists it as not to send, and nothing is deleted."""
    from click.testing import CliRunner

    from xltools.cli import cli

    inbox = _make_inbox(tmp_path)
    out = tmp_path / "反馈"
    args = ["consolidate", str(CITY), str(inbox), "--no-archive", "--regions", ",".join(REGIONS), "--feedback", str(out)]
    first = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r1.xlsx")])
    assert first.exit_code == 1 and "以前汇总留下的反馈" not in first.output
    old = out / "章丘区_反馈_章丘区_工作台账.xlsx"
    before = _sha(old)
    (inbox / "章丘区_工作台账.xlsx").rename(inbox / "章丘区_工作台账（修改）.xlsx")
    (out / "备忘.xlsx").write_bytes(b"the clerk's own file")  # not feedback: not named
    again = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r2.xlsx")])
    assert "注意：该文件夹中另有 1 个以前汇总留下的反馈，本次未重新生成，请勿发出（见反馈清单.xlsx）：" \
        "章丘区_反馈_章丘区_工作台账.xlsx" in again.output
    assert _sha(old) == before and (out / "章丘区_反馈_章丘区_工作台账（修改）.xlsx").is_file()
    rows = _manifest(out / MANIFEST_NAME)
    stale = [r for r in rows if r["反馈文件"] == old.name]
    assert len(stale) == 1 and stale[0]["地区"] == "章丘区" and stale[0]["报送文件"] is None \
        and "请勿发出" in stale[0]["说明"] and stale[0]["错误"] is None
    assert rows[-1] is stale[0]  # after this run's feedback
    data = json.loads(CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r3.xlsx"), "--json"]).output)
    assert [Path(p).name for p in data["feedback_stale"]] == [old.name]


def test_feedback_never_goes_into_the_inbox_or_the_archive(tmp_path):
    inbox = _make_inbox(tmp_path)
    before = sorted(p.name for p in inbox.rglob("*"))
    for folder in (inbox, inbox / "反馈", tmp_path / "archive" / "反馈"):
        options = ConsolidateOptions(regions=REGIONS, archive=str(tmp_path / "archive"), feedback=str(folder))
        with pytest.raises(OutputError) as err:
            consolidate(CITY, inbox, tmp_path / "r.xlsx", options)
        assert "反馈文件夹" in err.value.message_zh
    assert sorted(p.name for p in inbox.rglob("*")) == before
    assert not (tmp_path / "r.xlsx").exists()


def test_validate_marks_a_text_ledger_as_before(tmp_path):
    """validate shares the marker with feedback: a plan document is still marked in a filled ledger."""
    from xltools import validate

    result = validate(SHIZHONG, region="市中区", out=tmp_path / "标注.xlsx")
    listed = problem_lines(result.marked)
    marks = _marks(result.marked)
    placed = [r for r in listed if r["单元格"]]
    assert any(r["代码"] == "unit-collective" for r in placed)
    for r in placed:
        assert r["问题说明"] in marks[(r["工作表"], r["单元格"])][1]
    assert len(extract(result.marked).rows) == len(result.ledger.rows)


def test_a_returned_distributed_workbook_is_marked_in_place_without_repeating_its_blank_rows(tmp_path):
    from xltools import distribute

    sent = distribute(CITY, tmp_path / "分发", regions="市中区")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / sent.files[0].path.name
    shutil.copy(sent.files[0].path, path)
    wb = load_workbook(path)
    ws = wb["工作台账"]
    header = next(r for r in ws.iter_rows(max_row=10) if any(c.value == "工作内容" for c in r))
    cols = {c.value: c.column for c in header if c.value}
    filled = []
    for r in range(header[0].row + 1, ws.max_row + 1):
        if isinstance(ws.cell(r, cols["序号"]).value, int) and len(filled) < 3:
            ws.cell(r, cols["工作内容"]).value = "到2025年，全区建成充换电站50座。"
            ws.cell(r, cols["牵头单位"]).value = "区发改局"  # a short form: a unit problem at this cell
            filled.append(r)
    wb.save(path)
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(regions=["市中区"], use_archive=False,
                                                               feedback=str(tmp_path / "反馈")))
    out = rollup.feedback[0]
    listed = problem_lines(out)
    blank = [r for r in listed if r["代码"] == "returned-blank-row"]
    assert blank and all(r["单元格"] for r in blank)
    # Blank rows are reported at their place already; the whole-file list does not repeat them.
    assert not any(r["代码"] == "feedback-uncovered-task" for r in listed)
    marks = _marks(out)
    lead = [p for p in rollup.received[0].problems if p.type == "unit-alias"]
    assert [int(p.cell[1:]) for p in lead] == filled and all((p.sheet, p.cell) in marks for p in lead)
    before, after = load_workbook(path), load_workbook(out)
    assert after["工作台账"].protection.sheet == before["工作台账"].protection.sheet
    assert _values(path) == {k: v for k, v in _values(out).items() if k not in FEEDBACK_SHEETS}


def test_many_districts_feedback_is_written_by_workers_as_in_one_process(tmp_path):
    """From PARALLEL_FROM workbooks on, worker processes write the feedback: the same workbooks as one process."""
    import sys

    import xltools.feedback as feedback

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import gen_freeform

    inbox = tmp_path / "inbox"
    gen_freeform.generate(inbox, feedback.PARALLEL_FROM + 2, seed=3)
    rollups = {}
    for workers in (1, 2):
        rollups[workers] = consolidate(CITY, inbox, tmp_path / f"汇总{workers}.xlsx", ConsolidateOptions(
            use_archive=False, workers=workers, feedback=str(tmp_path / f"反馈{workers}")))
    one, two = rollups[1].feedback, rollups[2].feedback
    assert len(one) == feedback.PARALLEL_FROM + 2 and [p.name for p in one] == [p.name for p in two]
    for a, b in zip(one, two, strict=True):
        assert _values(a) == _values(b), a.name
        assert _marks(a) == _marks(b), a.name
    assert (tmp_path / "反馈2" / feedback.MANIFEST_NAME).is_file()
    # what a district reads: its own rows marked and listed
    wb = load_workbook(two[0])
    assert "问题清单" in wb.sheetnames and wb["问题清单"].max_row > 1
