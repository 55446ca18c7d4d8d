"""Issue 20: the city → district → city cycle, two rounds, from the seed city ledger, gives the right numbers on
every route.

The 济南市 ledger (seed 003) is filled, distributed to seven districts, and six of them fill their forms the way
clerks do: 历下区 (no unit directory) with a misspelt unit six and more times, short names, targets in 目标, a
goal row with only 目标 and 牵头单位, and own tasks (one named as a city task), sent as “历下区工作台账（修改版）.xlsx”;
市中区 deletes a city row, types two units over a locked reference cell, types “=1+1”, says 不涉及 with and
without a reason, fills every open cell of a goal row and adds an own task with full-width brackets; 槐荫区
sends the form back with only its 填报单位 filled; 天桥区 saves it as .xls and 历城区 as .ods (LibreOffice, as
WPS offices do), 历城区 giving a figure for another metric (新建充电桩 for 充换电站); 章丘区 fills it all; 长清区
sends nothing. The city consolidates with feedback and an archive; 天桥区 corrects the feedback workbook it got
(its form rebuilt from the .xls) and sends it back; the city consolidates again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import CITY, consolidated_as_the_desk_got_them, problem_lines
from districts import saved_by_libreoffice

import xltools
from xltools.cli import cli
from xltools.feedback import COVER_SHEET, MANIFEST_NAME
from xltools.marks import PROBLEMS_SHEET
from xltools.rollup import ConsolidateOptions, consolidate

REGIONS = ["历下区", "市中区", "槐荫区", "天桥区", "历城区", "章丘区", "长清区"]
DEADLINE = (datetime.now() + timedelta(days=60)).date()
WHEN = datetime(2026, 12, 1, 9, 0)
OWN_AS_CITY = "促进新能源汽车消费"  # city task 30's name, written by 历下区 as a task of its own
TWO_UNITS = "市发展改革委\n市工业和信息化局"
pytestmark = pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                                reason="LibreOffice writes the .xls and .ods districts of the cycle")


@dataclass
class Filled:
    """What a clerk typed into a form: (row key or own#, header) → value, and the file sent."""

    region: str
    typed: dict = field(default_factory=dict)
    sent: Path | None = None

    def tasks(self) -> set[int]:
        """The city tasks it wrote something into (not 不涉及)."""
        na = {k for (k, h), v in self.typed.items() if h == "完成情况" and v == "不涉及"}
        return {int(k) for (k, _h) in self.typed if str(k).isdigit() and k not in na}


class Form:
    """A distributed workbook opened with openpyxl (as a clerk's Excel would: protection does not stop it)."""

    def __init__(self, path: Path):
        self.path = path
        self.wb = openpyxl.load_workbook(path)
        self.ws = self.wb["工作台账"]
        for row in self.ws.iter_rows(max_row=10):
            cols = {str(c.value).strip(): c.column for c in row if c.value is not None}
            if "序号" in cols and "任务键" in cols:
                self.header, self.cols = row[0].row, cols
                break
        self.keys = {str(self.ws.cell(r, self.cols["任务键"]).value): r
                     for r in range(self.header + 1, self.ws.max_row + 1) if self.ws.cell(r, self.cols["任务键"]).value}
        band = next(r for r in range(self.header, self.ws.max_row + 1)
                    if str(self.ws.cell(r, 1).value or "").endswith("本区自行增加的任务"))
        self.own = list(range(band + 1, self.ws.max_row + 1))

    def put(self, filled: Filled, key, header: str, value) -> None:
        row = self.keys[key] if not str(key).startswith("own") else self.own[int(str(key)[3:])]
        cell = self.ws.cell(row, self.cols[header], value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text typed as '=1+1 (or in a cell formatted as text), not a formula
        filled.typed[(key, header)] = value

    def own_task(self, filled: Filled, i: int, task: str, content: str, lead: str) -> None:
        """A task of the district's own, in the i-th row of the own-task area."""
        for header, value in (("重点任务", task), ("工作内容", content), ("牵头单位", lead)):
            self.put(filled, f"own{i}", header, value)

    def delete(self, key: str) -> None:
        """A city row deleted as Excel deletes it (openpyxl leaves the merged ranges and the row heights below
        where they were)."""
        row = self.keys[key]
        heights = {r: d.height for r, d in self.ws.row_dimensions.items() if r > row}
        merged = [m.bounds for m in self.ws.merged_cells.ranges]
        for m in list(self.ws.merged_cells.ranges):
            self.ws.merged_cells.remove(m)
        self.ws.delete_rows(row)
        for c1, r1, c2, r2 in merged:
            if r1 > row:
                self.ws.merge_cells(start_row=r1 - 1, start_column=c1, end_row=r2 - 1, end_column=c2)
            elif r2 < row:
                self.ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        for r, h in sorted(heights.items()):
            self.ws.row_dimensions[r - 1].height = h

    def save(self) -> None:
        self.wb.save(self.path)


def _fill_tasks(form: Form, filled: Filled, units: list[str], skip=lambda n: n % 3 == 0) -> None:
    for key in form.keys:
        if not key.isdigit() or skip(int(key)):
            continue
        n = int(key)
        form.put(filled, key, "工作内容", f"{filled.region}落实市级任务{n}，制定本区方案，按月调度。")
        form.put(filled, key, "牵头单位", units[n % len(units)])
        form.put(filled, key, "责任单位", f"{units[(n + 1) % len(units)]}、{units[(n + 2) % len(units)]}")
        form.put(filled, key, "完成情况", "推进中")


@dataclass
class Cycle:
    root: Path
    city: Path
    sent: object
    inbox: Path
    filled: dict[str, Filled]
    first: object
    second: object
    corrected: Filled


def _begin(root: Path, sent, filled: dict, region: str, units: list[str] | None = None, **kwargs
           ) -> tuple[Filled, Form]:
    """A district's copy of its form, opened, and (given ``units``) its city rows filled as ``_fill_tasks``."""
    item = next(f for f in sent.files if f.region == region)
    form = Form(Path(shutil.copy(item.path, root / "区县" / item.path.name)))
    mine = filled[region] = Filled(region)
    if units:
        _fill_tasks(form, mine, units, **kwargs)
    return mine, form


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Cycle:
    root = tmp_path_factory.mktemp("cycle")
    city = root / "济南市_工作台账.xlsx"
    xltools.fill(xltools.extract(CITY), city)
    sent = xltools.distribute(city, root / "分发", regions=REGIONS, deadline=DEADLINE)
    (root / "区县").mkdir()
    inbox = root / "收件"
    inbox.mkdir()
    filled: dict[str, Filled] = {}

    # 历下区: no directory; a misspelt unit on many rows, short names; targets in 目标; own tasks
    lixia, form = _begin(root, sent, filled, "历下区", ["区住房城乡建没局", "区发改局", "区商务局", "区财政局"])
    form.put(lixia, "10", "目标", "2025年建成充换电站80座")
    form.put(lixia, "g2025-3", "目标", "2025年新能源汽车保有量达到2万辆")  # a goal row: 目标 and 牵头单位 only
    form.put(lixia, "g2025-3", "牵头单位", "区发改局")
    form.own_task(lixia, 0, "推动住房以旧换新", "开展住房以旧换新活动，2025年完成200套。", "区住房城乡建没局")
    # the name of a city task it left blank: still its own
    form.own_task(lixia, 1, OWN_AS_CITY, "本区自行开展汽车以旧换新补贴活动。", "区商务局")
    form.save()
    lixia.sent = Path(shutil.copy(form.path, inbox / "历下区工作台账（修改版）.xlsx"))

    # 市中区: a deleted city row, a locked cell typed over, "=" text, 不涉及, a full goal row, an own task
    shizhong, form = _begin(root, sent, filled, "市中区", ["区发展改革局", "区商务局", "区财政局", "区工业和信息化局"])
    form.put(shizhong, "10", "目标", "2025年建成充换电站90座")
    form.put(shizhong, "4", "工作内容", "不涉及，本区无煤电机组")
    form.put(shizhong, "4", "完成情况", "不涉及")
    form.put(shizhong, "6", "完成情况", "不涉及")  # no reason given
    form.put(shizhong, "8", "进展情况", "=1+1")
    goal = {"工作内容": "市中区：新能源汽车保有量达到3万辆以上。", "牵头单位": "区发展改革局", "责任单位": "区商务局",
            "目标": "2025年新能源汽车保有量3万辆", "完成时限": datetime(2025, 12, 31), "进展情况": "已达2.1万辆",
            "完成情况": "推进中"}
    for header, value in goal.items():
        form.put(shizhong, "g2025-3", header, value)
    form.own_task(shizhong, 0, "推进老旧小区（片区）改造", "改造老旧小区（片区）12个。", "区住房城乡建设局")
    form.ws.cell(form.keys["7"], form.cols["市级牵头单位（参考）"], TWO_UNITS)
    form.delete("5")
    form.save()
    shizhong.typed = {k: v for k, v in shizhong.typed.items() if k[0] != "5"}
    shizhong.sent = Path(shutil.copy(form.path, inbox / form.path.name))

    # 槐荫区: sent back with only 填报单位 filled
    huaiyin, form = _begin(root, sent, filled, "槐荫区")
    form.ws["A2"] = "填报单位（盖章）：槐荫区发展和改革局"
    form.save()
    huaiyin.sent = Path(shutil.copy(form.path, inbox / "槐荫区_工作台账.xlsx"))

    # 天桥区: saved as .xls by LibreOffice; a goal row; an own task
    tianqiao, form = _begin(root, sent, filled, "天桥区", ["区住房城乡建设局", "区发展改革局", "区商务局", "区财政局"])
    form.put(tianqiao, "10", "目标", "2025年建成充换电站60座")
    form.put(tianqiao, "g2027-2", "工作内容", "到2027年新能源汽车保有量达到4万辆以上。")
    form.put(tianqiao, "g2027-2", "责任单位", "区商务局")
    form.own_task(tianqiao, 0, "推进城市更新", "推进老旧街区改造10个。", "区住房城乡建设局")
    form.save()
    tianqiao.sent = saved_by_libreoffice(form.path, ".xls", inbox)

    # 历城区: saved as .ods; a figure for another metric
    licheng, form = _begin(root, sent, filled, "历城区", ["区住房城乡建设局", "区发展改革局", "区商务局", "区工信局"])
    form.put(licheng, "10", "目标", "新建充电桩120座")
    form.save()
    licheng.sent = saved_by_libreoffice(form.path, ".ods", inbox)

    # 章丘区: every city task filled
    zhangqiu, form = _begin(root, sent, filled, "章丘区", ["区发展和改革局", "区商务局", "区财政局", "区住房和城乡建设局"],
                            skip=lambda n: False)
    form.put(zhangqiu, "10", "目标", "2025年建成充换电站100座")
    form.save()
    zhangqiu.sent = Path(shutil.copy(form.path, inbox / form.path.name))

    options = dict(regions=REGIONS, archive=str(root / "归档"))
    first = consolidate(city, inbox, root / "汇总1.xlsx", ConsolidateOptions(**options, feedback=str(root / "反馈1")),
                        created=WHEN)

    # Round two: 天桥区 corrects the feedback it got (its form rebuilt from the .xls) and sends that back.
    got = next(p for p in first.feedback if p.name.startswith("天桥区"))
    corrected = Filled("天桥区", dict(tianqiao.typed))
    form = Form(Path(shutil.copy(got, root / "区县" / got.name)))
    for key in ("3", "9", "12"):
        form.put(corrected, key, "工作内容", f"天桥区补充：落实市级任务{key}。")
        form.put(corrected, key, "牵头单位", "区发展改革局")
    form.put(corrected, "15", "工作内容", "本区没有公共供水厂")
    form.put(corrected, "15", "完成情况", "不涉及")
    form.save()
    back = Path(shutil.copy(form.path, inbox / form.path.name))
    later = time.time() + 60
    os.utime(back, (later, later))
    corrected.sent = back
    second = consolidate(city, inbox, root / "汇总2.xlsx",
                         ConsolidateOptions(**options, feedback=str(root / "反馈2")), created=WHEN)
    return Cycle(root, city, sent, inbox, filled, first, second, corrected)


def _rec(rollup, region):
    return next(r for r in rollup.received if r.region == region)


def _sheet(path: Path, name: str) -> list[tuple]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def _texts(path: Path, sheet: str) -> str:
    return "\n".join(str(v) for row in _sheet(path, sheet) for v in row if v is not None)


# ------------------------------------------------------------------------------------------------- targets


def _city_docx(path: Path) -> Path:
    """The seed city ledger as a Word table, as a plan's attachment is published."""
    import docx

    lines = CITY.read_text(encoding="utf-8").splitlines()
    document = docx.Document()
    document.add_paragraph(next(line.strip() for line in lines if line.strip().endswith("工作台账")))
    rows = [line.split("\t") for line in lines if "\t" in line]
    table = document.add_table(rows=0, cols=max(map(len, rows)))
    for row in rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text
    document.save(path)
    return path


def test_one_city_ledger_gives_one_set_of_targets_whatever_its_format(cycle, tmp_path):
    """The same inbox against the city ledger as text, Word, the filled workbook and a district's form: the same
    rollup, cell for cell, and the same --json, but for the city file's own name; no target twice."""
    inbox = tmp_path / "收件"
    shutil.copytree(cycle.inbox, inbox)
    (inbox / cycle.corrected.sent.name).unlink()  # round one's inbox
    form = next(f.path for f in cycle.sent.files if f.region == "长清区")
    cities = {"txt": CITY, "docx": _city_docx(tmp_path / "济南市台账.docx"), "xlsx": cycle.city, "form": form}
    summaries, sheets = {}, {}
    for kind, city in cities.items():
        out = tmp_path / f"汇总_{kind}.xlsx"
        rollup = consolidate(city, inbox, out, ConsolidateOptions(regions=REGIONS, use_archive=False), created=WHEN)
        data = rollup.summary()
        data.pop("city")
        summaries[kind] = json.loads(json.dumps(data, ensure_ascii=False, default=str))
        keys = [(t["city_seq"], t["metric"], t["year"], t["unit"], t["per_year"]) for t in data["targets"]]
        assert len(keys) == len(set(keys)) == 39, kind  # the city's 39 numeric targets, each once
        wb = openpyxl.load_workbook(out)
        # (the city file's own name, and its row on 来源 — its sha256 and time — are the city file's)
        sheets[kind] = {ws.title: [[None if isinstance(v, str) and Path(city).name in v else v for v in row]
                                   for row in ws.iter_rows(values_only=True) if "市级台账" not in row]
                        for ws in wb.worksheets}
    for kind in ("docx", "xlsx", "form"):
        assert summaries[kind] == summaries["txt"], kind
        assert sheets[kind] == sheets["txt"], kind
    assert len([t for t in summaries["txt"]["targets"] if t["city_seq"] == 10]) == 2


def test_targets_say_per_district_what_happened(cycle):
    """充换电站: four figures summed; 历城区's 新建充电桩 named beside the city's metric, not summed; the blank
    file's task not covered; each with its own word and colour on 目标对比 and a legend."""
    stations = next(t for t in cycle.first.targets if t.city_seq == 10 and t.metric == "充换电站")
    assert stations.districts == {"历下区": 80, "天桥区": 60, "市中区": 90, "章丘区": 100}
    assert stations.district_sum == 330 and stations.gap == 670
    [other] = stations.other["历城区"]
    assert "充电桩" in other and "120座" in other
    assert stations.uncovered == ["槐荫区"] and stations.status("槐荫区") == "uncovered"
    goal = next(t for t in cycle.first.targets if t.city_seq is None and t.metric == "新能源汽车保有量" and t.year == 2025)
    assert goal.districts["历下区"] == 20000 and goal.districts["市中区"] == 30000  # 历下区: 目标 and 牵头单位 only
    rows = _sheet(cycle.root / "汇总1.xlsx", "目标对比")
    header = next(i for i, r in enumerate(rows) if r[0] == "序号")
    names = list(rows[header])
    row = next(r for r in rows[header + 1:] if r[0] == 10 and r[1] == "充换电站")
    cell = dict(zip(names, row))
    assert (cell["市级目标"], cell["各区合计"], cell["差距"]) == (1000, 330, 670)
    assert (cell["历下区"], cell["历城区"], cell["槐荫区"]) == (80, "指标不同", "未覆盖")
    # under the table, the figure given under another metric, both metrics named
    notes = [r[0] for r in rows if r[0] and str(r[0]).startswith("10　历城区报“")]
    assert len(notes) == 1 and "充电桩" in notes[0] and "与市级指标“充换电站”不同" in notes[0]
    ws = openpyxl.load_workbook(cycle.root / "汇总1.xlsx")["目标对比"]
    r = header + 1 + rows[header + 1:].index(row) + 1
    fills = {name: ws.cell(r, c).fill.fgColor.rgb[-6:] for c, name in enumerate(names, 1)}
    assert (fills["历城区"], fills["槐荫区"]) == ("DDEBF7", "FCE4D6")
    assert "“指标不同”（蓝）" in rows[1][0] and "“未覆盖”（橙）" in rows[1][0] and "“不涉及”（灰）" in rows[1][0]


# --------------------------------------------------------------------------------------------- coverage


def test_a_blank_file_is_submitted_blank_and_covers_nothing(cycle):
    rollup = cycle.first
    assert rollup.blank_regions == ["槐荫区"] and rollup.missing_regions == ["长清区"]
    assert rollup.uncovered()["槐荫区"] == list(range(1, 61))
    out = cycle.root / "汇总1.xlsx"
    assert "（其中报送空白表 1 个：槐荫区）" in _sheet(out, "汇总")[1][0]
    missing = {r[0]: r[1:] for r in _sheet(out, "未报送")[3:] if r[0]}
    assert missing["长清区"][0] == "未报送" and missing["槐荫区"][0] == "已报送（空白）"
    assert "没有填写任何内容" in missing["槐荫区"][1]
    manifest = _sheet(cycle.root / "反馈1" / MANIFEST_NAME, "反馈清单")
    rows = {r[0]: dict(zip(manifest[1], r)) for r in manifest[2:]}
    assert rows["槐荫区"]["未覆盖任务"] == 60 and "空白" in rows["槐荫区"]["说明"]
    # 未覆盖任务 counts every task a district neither covers nor says 不涉及 of: blank rows and deleted ones too
    for region in ("历下区", "天桥区", "历城区", "章丘区", "市中区"):
        filled = cycle.filled[region]
        na = {4, 6} if region == "市中区" else set()
        want = [s for s in range(1, 61) if s not in filled.tasks() and s not in na]
        assert rollup.uncovered()[region] == want, region
        assert rows[region]["未覆盖任务"] == len(want), region
    assert 5 in rollup.uncovered()["市中区"]  # its deleted row


def test_own_tasks_are_own_whatever_their_names(cycle):
    """Rows in the own-task area never map to a city task, even one named as a city task the district left blank."""
    own = [m for m in cycle.first.mappings if m.region == "历下区" and m.method == "own"]
    assert {m.row.task for m in own} == {"推动住房以旧换新", OWN_AS_CITY}
    assert all(not m.city_seqs for m in own)
    assert "历下区" not in cycle.first.coverage()[30]  # task 30: left blank by 历下区, named by its own task
    assert not [m for m in cycle.first.mappings if m.row.section.endswith("本区自行增加的任务") and m.city_seqs]


def test_not_applicable_is_said_on_the_form_and_counted_apart(cycle):
    rollup = cycle.first
    na = rollup.not_applicable()
    assert set(na[4]) == set(na[6]) == {"市中区"}
    assert 4 not in rollup.uncovered()["市中区"] and "市中区" not in rollup.coverage()[4]
    [warned] = [p for p in _rec(rollup, "市中区").problems if p.type == "na-without-reason"]
    content = openpyxl.utils.get_column_letter(Form(cycle.filled["市中区"].sent).cols["工作内容"])
    assert warned.severity == "warning" and "市级任务6" in warned.message and warned.cell.startswith(content)
    summary = _sheet(cycle.root / "汇总1.xlsx", "汇总")
    task4 = next(r for r in summary if r[0] == 4)
    head = dict(zip(next(r for r in summary if r[0] == "序号"), task4))
    assert "不涉及：市中区" in head["未覆盖地区"] and "市中区" not in head["地区牵头单位"]
    matrix = _sheet(cycle.root / "汇总1.xlsx", "覆盖矩阵")
    head = next(r for r in matrix if r[0] == "序号")
    assert dict(zip(head, next(r for r in matrix if r[0] == 4)))["市中区"] == "不涉及"
    listed = problem_lines(next(p for p in rollup.feedback if p.name.startswith("市中区")))
    assert not [r for r in listed if r["代码"] == "feedback-uncovered-task" and re.search(r"任务[46]“", r["问题说明"])]
    # The form offers it and says how; the advice on a blank row matches the form.
    form = openpyxl.load_workbook(next(f.path for f in cycle.sent.files if f.region == "章丘区"))
    status = [dv for dv in form["工作台账"].data_validations.dataValidation if dv.type == "list" and "推进中" in dv.formula1]
    assert status and all("不涉及" in dv.formula1 and "不涉及" in dv.prompt for dv in status)
    guide = "".join(str(v) for row in form["填报说明"].iter_rows(values_only=True) for v in row if v)
    assert "完成情况选“不涉及”，并在工作内容中写明原因" in guide and "备注" not in guide
    blank = next(p for p in rollup.problems if p.type == "returned-blank-row")
    assert "完成情况选“不涉及”" in blank.suggestion and "备注" not in blank.suggestion


def test_a_district_without_units_is_not_told_of_a_drop_down_list(cycle):
    guide = lambda region: "".join(  # noqa: E731
        str(v) for row in openpyxl.load_workbook(next(f.path for f in cycle.sent.files if f.region == region))
        ["填报说明"].iter_rows(values_only=True) for v in row if v)
    assert "下拉列表选择本区单位" not in guide("历下区") and "请填写单位全称" in guide("历下区")
    assert "下拉列表选择本区单位" in guide("章丘区")


# ------------------------------------------------------------------------------------------- what is typed


def _district_sheet(path: Path, region: str) -> list[list[str]]:
    return [[str(v) for v in row if v is not None] for row in _sheet(path, region)]


def _shown(value) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value)


def test_every_value_typed_reaches_the_rollup(cycle):
    """Each cell a clerk typed, in every format sent (xlsx, xls, ods), is on its district's sheet, in its row."""
    out = cycle.root / "汇总1.xlsx"
    for region, filled in cycle.filled.items():
        rows = _district_sheet(out, region)
        text = "\n".join("\t".join(r) for r in rows)
        for (key, header), value in filled.typed.items():
            shown = _shown(value).replace("\n", "")
            assert shown in text.replace("\n", ""), (region, key, header, value)
    # 市中区's goal row: every open cell, in the row of its goal
    goal = next(r for r in _district_sheet(out, "市中区") if "市中区：新能源汽车保有量达到3万辆以上。" in r)
    assert {"区发展改革局", "区商务局", "2025年新能源汽车保有量3万辆", "2025-12-31", "已达2.1万辆", "推进中"} <= set(goal)
    lixia = next(r for r in _district_sheet(out, "历下区") if "2025年新能源汽车保有量达到2万辆" in r)
    assert "区发改局" in lixia and "2025年工作目标" in lixia


def test_text_is_shown_as_typed(cycle):
    out = cycle.root / "汇总1.xlsx"
    assert any("推进老旧小区（片区）改造" in r for r in _district_sheet(out, "市中区"))
    assert any("推进老旧小区（片区）改造" in r for r in _district_sheet(out, "映射"))  # (an own task: listed)
    [typed] = [p for p in _rec(cycle.first, "市中区").problems if p.type == "returned-locked-changed"]
    assert "现为“市发展改革委、市工业和信息化局”" in typed.message and "市级牵头单位（参考）" in typed.message
    mapping = _sheet(out, "映射")
    head = next(r for r in mapping if r and r[0] == "地区")
    methods = {dict(zip(head, r))["方式"] for r in mapping[mapping.index(head) + 1:]}
    # the rows to check: own tasks and 不涉及 (rows mapped by their 任务键, and rows left blank, are not listed)
    assert methods == {"本区任务", "不涉及"}


def test_a_misspelling_one_district_repeats_is_learned_from_the_others(cycle):
    found = [p for p in _rec(cycle.first, "历下区").problems if p.value == "区住房城乡建没局"]
    assert found and all(p.type == "unit-rare-spelling" and p.suggestion and "区住房城乡建设局" in p.suggestion
                         for p in found)


def test_validate_names_the_reference_cell_typed_over(cycle):
    done = CliRunner().invoke(cli, ["validate", str(cycle.filled["市中区"].sent)])
    row = Form(cycle.filled["市中区"].sent).keys["7"]
    assert f"工作台账 / D{row}] 市级任务7的“市级牵头单位（参考）”被改动，现为“市发展改革委、市工业和信息化局”" in done.stdout
    assert "重点任务”被改动" not in done.stdout


# ---------------------------------------------------------------------------------------------- feedback


def test_every_district_gets_its_own_form_back_with_a_cover(cycle):
    batch = cycle.sent.batch
    for path in cycle.first.feedback:
        wb = openpyxl.load_workbook(path)
        region = path.name.split("_")[0]
        assert wb.sheetnames[:5] == [COVER_SHEET, PROBLEMS_SHEET, "工作台账", "填报说明", "单位名录"], path.name
        assert wb.active.title == COVER_SHEET and wb["工作台账"].protection.sheet and wb.security.lockStructure
        meta = {r[0]: r[1] for r in wb["_xltools"].iter_rows(values_only=True)}
        assert (meta["kind"], meta["region"], meta["batch"]) == ("distributed", region, batch)
        cover = _texts(path, COVER_SHEET)
        assert f"济南市{region}工作台账反馈" in cover and batch in cover
        assert f"{DEADLINE.year}年{DEADLINE.month}月{DEADLINE.day}日前" in cover
        headers = next(r for r in _sheet(path, "工作台账") if r[0] == "序号")
        assert "市级工作内容（参考）" in headers and "市级牵头单位（参考）" in headers
    # 天桥区 sent .xls: its form came back rebuilt, with what it typed in the cells it typed them
    fed = next(p for p in cycle.first.feedback if p.name.startswith("天桥区"))
    form = Form(fed)
    for (key, header), value in cycle.filled["天桥区"].typed.items():
        row = form.keys[key] if not str(key).startswith("own") else form.own[int(str(key)[3:])]
        got = form.ws.cell(row, form.cols[header]).value
        assert _shown(got) == _shown(value), (key, header)
    listed = problem_lines(fed)
    blank = [r for r in listed if r["代码"] == "returned-blank-row"]
    content = openpyxl.utils.get_column_letter(form.cols["工作内容"])
    assert blank and blank[0]["文件"] == fed.name and blank[0]["行"] and blank[0]["单元格"].startswith(content)
    marked = form.ws[blank[0]["单元格"]]
    assert marked.comment is not None and "未填写本区内容" in marked.comment.text


def test_a_feedback_workbook_sent_back_is_read_as_the_form_it_is(cycle):
    rollup, sent = cycle.second, cycle.corrected
    rec = _rec(rollup, "天桥区")
    assert rec.name == sent.sent.name and rec.version == 2
    assert [r.name for r in rollup.superseded] == [cycle.filled["天桥区"].sent.name]
    maps = [m for m in rollup.mappings if m.region == "天桥区"]
    assert {m.method for m in maps} <= {"key", "blank", "na", "own"}
    covered = {s for m in maps for s in m.city_seqs}
    assert covered == sent.tasks()  # exactly what it filled, no more
    assert {m.row.task for m in maps if m.method == "own"} == {"推进城市更新"}
    assert rollup.not_applicable()[15] == {"天桥区": [m for m in maps if m.method == "na"]}
    assert not [p for p in rec.problems if p.type in ("missing-lead-unit", "returned-row-deleted")]
    # nothing of the superseded .xls stands in the rollup but the note that it was replaced
    old = cycle.filled["天桥区"].sent.name
    assert {p.type for p in rollup.problems if p.file == old} == {"superseded-file"}
    assert len([r for r in problem_lines(cycle.root / "汇总2.xlsx") if r["文件"] == old]) == 1
    # and its next feedback keeps its name, its cover counting what is left
    again = next(p for p in rollup.feedback if p.name.startswith("天桥区"))
    assert again.name == sent.sent.name
    assert f"{len(rollup.uncovered()['天桥区'])} 项" in _texts(again, COVER_SHEET)


def test_no_english_where_clerks_look(cycle):
    """Visible cells of the rollups, the feedback and the manifests: Chinese, but for file names and what the
    city and the districts wrote themselves."""
    allowed = set(re.findall(r"[A-Za-z]{3,}", CITY.read_text(encoding="utf-8")))
    allowed |= {"xlsx", "xls", "ods", "HYPERLINK"}
    # batch and archive-run numbers end in a few hex digits: codes the clerk quotes, not English
    allowed |= {w for code in (cycle.sent.batch, cycle.first.archive_run, cycle.second.archive_run)
                for w in re.findall(r"[A-Za-z]{3,}", code or "")}
    for f in cycle.filled.values():
        allowed |= {w for v in f.typed.values() for w in re.findall(r"[A-Za-z]{3,}", str(v))}
    paths = [cycle.root / "汇总1.xlsx", cycle.root / "汇总2.xlsx", *cycle.first.feedback, *cycle.second.feedback,
             cycle.root / "反馈1" / MANIFEST_NAME, cycle.root / "分发" / "分发清单.xlsx"]
    for path in paths:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.column_letter not in hidden:
                        english = set(re.findall(r"[A-Za-z]{3,}", c.value)) - allowed
                        assert not english, (path.name, ws.title, c.coordinate, c.value)


def test_the_cli_tells_the_second_round(cycle, tmp_path):
    done = CliRunner().invoke(cli, ["consolidate", str(cycle.city), str(cycle.inbox), "-o", str(tmp_path / "汇总.xlsx"),
                                    "--regions", ",".join(REGIONS), "--no-archive"])
    assert done.exit_code == 1, done.output
    assert "报送空白表（计为已报送，未覆盖任何任务）：槐荫区" in done.stdout and "未报送：长清区" in done.stdout
    assert "被新版本取代的文件 1 个" in done.stdout
    data = json.loads(CliRunner().invoke(cli, [
        "consolidate", str(cycle.city), str(cycle.inbox), "-o", str(tmp_path / "汇总j.xlsx"), "--regions",
        ",".join(REGIONS), "--no-archive", "--json"]).stdout)
    assert data["blank_regions"] == ["槐荫区"] and len(data["uncovered"]["槐荫区"]) == 60
    assert data["not_applicable"]["15"] == ["天桥区"]


# ------------------------------------------------------------------------------------ every open cell


@pytest.fixture(scope="module")
def every_cell(tmp_path_factory):
    """A form with a value of its own typed into every open cell (task, goal and own-task rows, the 填报单位 line),
    and two own rows with one cell each; saved as xlsx, and by LibreOffice as xls and ods; each consolidated."""
    root = tmp_path_factory.mktemp("every")
    sent = xltools.distribute(CITY, root / "分发", regions=["历城区"], deadline=DEADLINE)
    form = Form(Path(shutil.copy(sent.files[0].path, root / sent.files[0].path.name)))
    ws, header = form.ws, {c: h for h, c in form.cols.items()}
    typed: dict[str, tuple[int, str]] = {}  # value as shown → (row, header)
    n = 0
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.protection.locked is not False or type(cell).__name__ == "MergedCell":
                continue
            if cell.row < form.header:  # the 填报单位 / 填报日期 line
                cell.value = f"{cell.value or ''}历城区填报{cell.column_letter}"
                typed[cell.value] = (cell.row, "填报")
                continue
            n += 1
            name = header.get(cell.column, "")
            if name == "完成时限" and n % 2:
                cell.value = datetime(2025, 1 + n % 12, 1 + n % 28)
                typed[f"{cell.value:%Y-%m-%d}"] = (cell.row, name)
            else:
                cell.value = f"历城区值{n:04d}"
                typed[cell.value] = (cell.row, name)
    for r, keep in ((form.own[-2], "序号"), (form.own[-1], "目标")):  # own rows with one cell typed
        for c, name in header.items():
            if name != keep and ws.cell(r, c).value is not None and ws.cell(r, c).protection.locked is False:
                typed.pop(_shown(ws.cell(r, c).value), None)
                ws.cell(r, c).value = None
    form.save()
    inboxes = {}
    for kind in ("xlsx", "xls", "ods"):
        inbox = root / f"收件_{kind}"
        inbox.mkdir()
        if kind == "xlsx":
            shutil.copy(form.path, inbox / form.path.name)
        else:
            saved_by_libreoffice(form.path, f".{kind}", inbox)
        out = root / f"汇总_{kind}.xlsx"
        rollup = consolidate(CITY, inbox, out, ConsolidateOptions(regions=["历城区"], use_archive=False), created=WHEN)
        inboxes[kind] = (rollup, out)
    return typed, inboxes


@pytest.mark.parametrize("kind", ["xlsx", "xls", "ods"])
def test_nothing_typed_into_an_open_cell_is_dropped(every_cell, kind):
    """Every value typed into every open cell of the form reaches the district's sheet of the rollup (its row),
    or a problem that names it; in every format a district may send."""
    typed, inboxes = every_cell
    rollup, out = inboxes[kind]
    assert len(typed) > 500  # 60 tasks, 8 goals, 10 own rows, the 填报单位 line
    sheet = "\n".join("\t".join(str(v) for v in row if v is not None) for row in _sheet(out, "历城区"))
    problems = "\n".join(f"{p.value or ''}\t{p.message}" for p in rollup.problems)
    lost = [(value, where) for value, where in typed.items() if value not in sheet and value not in problems]
    assert not lost, lost[:10]
    # the own-task area's rows (a one-cell row taken as going on from the row above, as a merged cell) are own
    own = [m for m in rollup.mappings if m.row.section.endswith("本区自行增加的任务")]
    assert len(own) >= 8 and all(m.method == "own" and not m.city_seqs for m in own)


def test_an_own_file_sent_back_loses_the_marks_of_what_was_fixed(cycle, tmp_path):
    """市中区's feedback (its own xlsx, marked) comes back with the reason for 不涉及 given: the next feedback
    puts that cell back as it was (no colour, no note) and marks what still stands; one cover, one list."""
    got = next(p for p in cycle.first.feedback if p.name.startswith("市中区"))
    inbox = tmp_path / "收件"
    inbox.mkdir()
    form = Form(Path(shutil.copy(got, inbox / got.name)))
    cell = form.ws.cell(form.keys["6"], form.cols["工作内容"])
    assert cell.comment is not None and "没有说明原因" in cell.comment.text  # marked in round one
    cell.value = "本区没有农机"
    form.save()
    again = consolidate(cycle.city, inbox, None, ConsolidateOptions(regions=["市中区"], use_archive=False,
                                                                    feedback=str(tmp_path / "反馈")))
    [path] = again.feedback
    assert path.name == got.name
    wb = openpyxl.load_workbook(path)
    ws = wb["工作台账"]
    fixed = ws[cell.coordinate]
    assert fixed.comment is None and fixed.fill.fill_type is None
    still = next(p for p in _rec(again, "市中区").problems if p.type == "returned-locked-changed")
    assert ws[still.cell].comment is not None and "市级牵头单位（参考）" in ws[still.cell].comment.text
    assert wb.sheetnames.count(COVER_SHEET) == 1 and wb.sheetnames.count(PROBLEMS_SHEET) == 1
    recorded = [r for r in wb["_xltools_marks"].iter_rows(min_row=2, values_only=True)]
    assert cell.coordinate not in {r[2] for r in recorded} and still.cell in {r[2] for r in recorded}


def test_validate_marks_a_form_sent_as_xls_in_the_form_itself(cycle, tmp_path):
    """validate -o of the .xls form: the marked copy is the district's form (rebuilt from the city's text the form
    carries), its values in their cells, its blank rows marked there — what its feedback will look like."""
    sent = cycle.filled["天桥区"].sent
    out = tmp_path / "天桥区_标注.xlsx"
    done = CliRunner().invoke(cli, ["validate", str(sent), "-o", str(out)])
    assert done.exit_code == 1, done.output
    form = Form(out)
    meta = {r[0]: r[1] for r in form.wb["_xltools"].iter_rows(values_only=True)}
    assert (meta["kind"], meta["region"]) == ("distributed", "天桥区") and form.ws.protection.sheet
    for (key, header), value in cycle.filled["天桥区"].typed.items():
        row = form.keys[key] if not str(key).startswith("own") else form.own[int(str(key)[3:])]
        assert _shown(form.ws.cell(row, form.cols[header]).value) == _shown(value), (key, header)
    blank = form.ws.cell(form.keys["3"], form.cols["工作内容"])
    assert blank.comment is not None and "未填写本区内容" in blank.comment.text


# ------------------------------------------------------------------------------------------------ print


def test_every_workbook_of_the_cycle_prints_as_a_clerk_expects(cycle, tmp_path):
    """Issue 21: the cycle's workbooks printed by LibreOffice and read back from the PDF. Page counts a clerk
    accepts (the rollup ≤ 60, its first four tables ≤ 15; a form ≤ 15; feedback ≤ 20; the two lists ≤ 2), text
    no smaller than 9 pt on any page, every sheet one page wide, no row at Excel's 409 pt cap."""
    pytest.importorskip("pymupdf")
    from render import measure_all

    from xltools.layout import MAX_ROW_PT

    form = next(f.path for f in cycle.sent.files if f.region == "市中区")  # the one with a unit list
    books = [cycle.root / "汇总1.xlsx", cycle.root / "汇总2.xlsx", form, cycle.root / "分发" / "分发清单.xlsx",
             cycle.root / "反馈1" / MANIFEST_NAME]
    feedback = sorted({*cycle.first.feedback, *cycle.second.feedback})
    printed = {}
    for i, group in enumerate((books, *([p] for p in feedback))):  # (feedback of one name: a folder each)
        for p in measure_all(group, tmp_path / f"pdf{i}"):
            printed[p.workbook] = p
    report = "\n".join(p.report() for p in printed.values())
    for path, p in printed.items():
        assert all(s.smallest >= 9 for s in p.sheets.values()), report
        assert "?" not in p.sheets, report  # every page's footer names its sheet
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            assert ws.page_setup.fitToWidth in (1, None) and ws.sheet_properties.pageSetUpPr.fitToPage, \
                (path.name, ws.title)
            assert ws.page_setup.paperSize in (9, "9"), (path.name, ws.title)
            assert not [r for r, d in ws.row_dimensions.items() if (d.height or 0) >= MAX_ROW_PT], (path.name, ws.title)
    for rollup in (cycle.root / "汇总1.xlsx", cycle.root / "汇总2.xlsx"):
        sheets = printed[rollup].sheets
        assert printed[rollup].pages <= 60, report
        first = sum(s.pages for name, s in sheets.items() if name.startswith(("汇总", "目标对比", "未报送", "问题概览")))
        assert first <= 15, report
    assert printed[form].pages <= 15, report
    assert all(printed[p].pages <= 20 for p in feedback), report
    assert printed[cycle.root / "分发" / "分发清单.xlsx"].pages <= 2 and \
        printed[cycle.root / "反馈1" / MANIFEST_NAME].pages <= 2, report


def test_the_six_districts_hand_in_at_the_desk_and_the_city_gets_consolidates_rollup(cycle, tmp_path):
    """Issue 23, tried as a new user would: the six returned files (xlsx, .xls and .ods as WPS saves them, a blank
    form, a renamed one) handed in through the desk's API with each district's code; each is taken as its district
    and sees the problems consolidate lists for it; the desk's rollup is cell for cell `consolidate` of the same
    files; a district's marked copy is its feedback workbook."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from xltools.desk import Desk
    from xltools.desk.app import create_app

    desk = Desk(cycle.city, tmp_path / "archive", REGIONS)
    client = TestClient(create_app(desk, allowed_hosts=["testserver"]))
    sent = {f.region: f.sent for f in cycle.filled.values() if f.sent is not None}
    assert len(sent) == 6
    for region, path in sent.items():
        r = client.post("/api/uploads", files={"file": (path.name, path.read_bytes())},
                        headers={"X-Upload-Code": desk.code(region)})
        assert r.status_code == 201, (region, r.text)
        got = r.json()
        assert got["region"] == region and got["taken_as"] == region, got
    # once all six are in, each district's check is what consolidate says of its file (spellings learned across
    # the districts included: the first to hand in is checked again beside the others)
    for region, path in sent.items():
        got = client.get(f"/api/districts/{region}/versions/1", headers={"X-Upload-Code": desk.code(region)}).json()
        theirs = {(p.type, p.cell, p.line) for p in cycle.first.problems if p.file == path.name
                  and p.type != "superseded-file"}
        assert {(p["type"], p["cell"], p["line"]) for p in got["problems"]} == theirs, region
    status = {r["region"]: r["status"] for r in client.get("/api/status", headers={"X-City-Token": desk.city_token()}).json()}
    assert status["长清区"] == "未报送" and status["槐荫区"] == "空白", status
    rollup = client.post("/api/rollup", headers={"X-City-Token": desk.city_token()})
    assert rollup.status_code == 200
    cli_rollup = consolidated_as_the_desk_got_them(cycle.city, desk, sent, tmp_path, REGIONS)
    ours = openpyxl.load_workbook(__import__("io").BytesIO(rollup.content))
    theirs = openpyxl.load_workbook(cli_rollup)
    assert ours.sheetnames == theirs.sheetnames
    for ws in theirs.worksheets:
        assert [[c.value for c in r] for r in ours[ws.title].iter_rows()] == \
            [[c.value for c in r] for r in ws.iter_rows()], ws.title
    marked = client.get("/api/districts/市中区/versions/1/marked", headers={"X-Upload-Code": desk.code("市中区")})
    assert marked.status_code == 200
    assert {"反馈说明", "问题清单"} <= set(openpyxl.load_workbook(__import__("io").BytesIO(marked.content)).sheetnames)


def test_the_six_districts_hand_in_on_the_page_in_a_browser(cycle, tmp_path):
    """Issue 23 as a new user tries it: in chromium, each of the six returned files (xlsx, WPS-saved .xls and .ods,
    a blank form, a renamed one) is handed in on the district page with its code; the page says which district
    it was taken as and counts the problems consolidate finds in that file; each downloads its marked copy; the
    city logs in, sees 未报送 and 空白, and the rollup it downloads (through the background job) is cell for cell
    `consolidate` of the same files."""
    import browser
    from selenium.webdriver.common.by import By

    if not browser.available():
        pytest.skip("chromium, chromium-driver or selenium not installed")
    from xltools.desk import Desk

    desk = Desk(cycle.city, tmp_path / "archive", REGIONS)
    sent = {f.region: f.sent for f in cycle.filled.values() if f.sent is not None}
    with browser.serving(desk) as url, browser.chromium(tmp_path / "downloads") as driver:
        for region, path in sent.items():
            result = browser.hand_in(driver, url, desk.code(region), path)
            assert f"已按{region}的报送接收" in result and "（第1版）" in result, (region, result)
            rows = driver.find_elements(By.CSS_SELECTOR, "table.problems tbody tr")
            if region == "槐荫区":  # the blank form: its 60 untouched tasks are one line naming their cells
                assert "空白" in result or "没有填写任何内容" in result
                assert "共60处" in result and len(rows) < 5, (len(rows), result)
            browser.shot(driver, f"cycle-{region}")
            driver.find_element(By.ID, "marked").click()
            marked = browser.downloaded(driver.downloads, ".xlsx")
            assert "问题清单" in openpyxl.load_workbook(marked).sheetnames, region
            marked.unlink()
        # once all six are in, each district's page (its latest check) lists what consolidate lists for its file
        for region, path in sent.items():
            theirs = [p for p in cycle.first.problems if p.file == path.name and p.type != "superseded-file"]
            checked = desk.checked(region)
            assert len(checked.problems) == len(theirs), region
        status = browser.city_login(driver, url, desk.city_token())
        assert "长清区 未报送" in status and "槐荫区 空白" in status, status
        driver.find_element(By.ID, "rollup").click()
        rollup = browser.downloaded(driver.downloads, ".xlsx")
        cli_rollup = consolidated_as_the_desk_got_them(cycle.city, desk, sent, tmp_path, REGIONS)
        assert browser.cells(rollup) == browser.cells(cli_rollup)
        browser.shot(driver, "cycle-city")
