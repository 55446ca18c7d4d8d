"""What a clerk prints: every output sheet on A4 at a readable size, no machinery on the page.

The written workbooks are opened with openpyxl; the printed size of a cell's text is its font size times
the scale the application will print the sheet at (xltools.printing.sheet_scale: fit-to-width computed
from the visible columns). Where LibreOffice is installed, the rollup is also converted to PDF.
"""

import re
import shutil
import subprocess
import zipfile

import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from xltools import fill, validate
from xltools.printing import MIN_BODY_PT, MIN_LIST_PT, fit_scale, fit_widths, printable_px, sheet_scale
from xltools.rollup import ConsolidateOptions, consolidate
from xltools.units import learn_directory
from xltools.units.directory import REPO_DIRECTORY as UNITS
from xltools.units.directory import Directory

# Allowed on a printed page: file names, numbers with units, and the proper names the 说明 sheet gives
# for fonts and office programs. Anything else in Latin letters is machinery a clerk cannot read.
FILE_NAME = re.compile(r"[^\s!：:（）()、，]+\.(?:xlsx|xlsm|xls|xlsb|ods|csv|txt|docx|md|json)")
PROPER_NAMES = {"Excel", "WPS", "SimHei", "FangSong", "KaiTi", "Noto", "Sans", "Serif", "CJK", "SC", "AR", "PL",
                "UKai", "CN", "GB", "xlt_"}
RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]+")
WORD = re.compile(r"[A-Za-z][A-Za-z_\-]+")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The demo's outputs: two filled district ledgers, a validated marked copy, the city rollup."""
    tmp = tmp_path_factory.mktemp("print")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for plan, region in ((SHIZHONG, "市中区"), (ZHANGQIU, "章丘区")):
        fill(plan, inbox / f"{region}_工作台账.xlsx")
    marked = tmp / "章丘区_标注.xlsx"
    validate(inbox / "章丘区_工作台账.xlsx", out=marked)
    rollup = tmp / "济南市_汇总.xlsx"
    consolidate(CITY, inbox, rollup, ConsolidateOptions(regions=["市中区", "章丘区", "历城区"],
                                                         archive=str(tmp / "archive")))
    proposal = learn_directory([inbox / "市中区_工作台账.xlsx"], "市中区", units=Directory([], {}),
                               out=tmp / "市中区_提议名录.xlsx").path
    return {"rollup": rollup, "marked": marked, "units": UNITS, "proposal": proposal}


def printed(ws):
    """(row, column) of every visible cell inside the sheet's print area that holds a value."""
    if ws.print_area:
        ref = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        c1, r1, c2, r2 = range_boundaries(ref.split("!")[-1].replace("$", ""))
    else:
        c1, r1, c2, r2 = 1, 1, ws.max_column, ws.max_row
    hidden = {c for c in range(c1, c2 + 1) if ws.column_dimensions[get_column_letter(c)].hidden}
    for row in ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2):
        for cell in row:
            if cell.value not in (None, "") and cell.column not in hidden:
                yield cell


def visible_sheets(wb):
    return [ws for ws in wb.worksheets if ws.sheet_state == "visible"]


def test_fit_widths_fill_the_page_and_keep_least_widths():
    widths = fit_widths([5, 12, 48, 13, 30], {2: 30, 4: 10}, landscape=True)
    assert fit_scale(widths, True) == 1.0
    assert fit_scale([w + 2 for w in widths], True) < 1.0  # no more than the page: it is filled
    assert widths[:2] == [5, 12] and widths[3] == 13
    squeezed = fit_widths([5, 100, 100], {1: 60, 2: 10}, landscape=False)
    assert squeezed[1] == 60 and fit_scale(squeezed, False) == 1.0
    assert printable_px(True) > printable_px(False)


@pytest.mark.parametrize("which", ["rollup", "marked", "units", "proposal"])
def test_every_sheet_prints_on_a4_at_a_readable_size(outputs, which):
    wb = load_workbook(outputs[which])
    for ws in visible_sheets(wb):
        assert ws.page_setup.paperSize == 9, ws.title
        scale = sheet_scale(ws)
        least = MIN_LIST_PT if ws.title == "问题清单" else MIN_BODY_PT
        small = [(c.coordinate, c.font.size) for c in printed(ws) if (c.font.size or 11) * scale < least - 0.05]
        assert not small, (ws.title, scale, small[:5])
        assert scale >= 0.9 or not ws.sheet_properties.pageSetUpPr.fitToPage, (ws.title, scale)
        footer = ws.oddFooter.center.text or ""
        assert footer == f"{ws.title}　第&P页 共&N页", (ws.title, footer)  # a printed page names its table


def test_wide_sheets_are_landscape_with_their_header_on_every_page(outputs):
    wb = load_workbook(outputs["rollup"])
    for name in ("汇总", "目标对比", "问题清单", "映射", "市中区", "章丘区", "来源"):
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        header = next(r for r in range(1, 6) if ws.cell(r, 1).value in ("序号", "地区"))
        assert ws.print_title_rows == f"$${header}:$${header}".replace("$$", "$"), name
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name
    assert wb["覆盖矩阵"].page_setup.orientation == "portrait"  # two districts: a narrow table
    assert wb["未报送"].page_setup.orientation == "portrait"


def test_no_machinery_on_the_printed_pages(outputs):
    # Latin letters the plans themselves use (准IV类, DCMM, 5G) are the clerks' own text.
    quoted = {w for seed in (CITY, SHIZHONG, ZHANGQIU) for w in WORD.findall(seed.read_text(encoding="utf-8"))}
    allowed = PROPER_NAMES | quoted
    wb = load_workbook(outputs["rollup"])
    for ws in visible_sheets(wb):
        for cell in printed(ws):
            # The archive run number (20261201-085319-7008ac) is a reference number the clerk may quote.
            text = RUN_ID.sub("", FILE_NAME.sub("", str(cell.value)))
            words = set(WORD.findall(text)) - allowed
            assert not words, (ws.title, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not re.search(r"[0-9a-f]{16}", text), (ws.title, cell.coordinate)  # no digests
            assert "--" not in text and "xltools" not in text, (ws.title, cell.coordinate)
    marked = load_workbook(outputs["marked"])
    for ws in visible_sheets(marked):
        for cell in printed(ws):
            words = set(WORD.findall(FILE_NAME.sub("", str(cell.value)))) - allowed
            assert not words, (ws.title, cell.coordinate, cell.value)


def test_codes_and_digests_are_kept_in_hidden_columns(outputs):
    wb = load_workbook(outputs["rollup"])
    problems = wb["问题清单"]
    head = [c.value for c in problems[1]]
    assert head[:4] == ["序号", "地区", "严重程度", "问题类型"]
    code = get_column_letter(head.index("代码") + 1)
    assert problems.column_dimensions[code].hidden
    rows = list(problems.iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in rows} >= {"市中区"} and all(re.search(r"[\u4e00-\u9fff]", r[3]) for r in rows)
    assert {r[head.index("代码")] for r in rows} >= {"unmapped-row"}
    sources = wb["来源"]
    header = next(r for r in sources.iter_rows(max_row=5) if r[0].value == "地区")
    sha = next(c for c in header if c.value == "sha256")
    assert sources.column_dimensions[sha.column_letter].hidden
    assert all(len(sources.cell(r, sha.column).value) == 64 for r in range(header[0].row + 1, sources.max_row + 1))
    mapping = wb["映射"]
    header = next(r for r in mapping.iter_rows(max_row=5) if r[0].value == "地区")
    hidden = [c.value for c in header if mapping.column_dimensions[c.column_letter].hidden]
    assert hidden == ["文件", "工作表", "行号"]
    assert "交回负责汇总" in mapping["A2"].value


def test_scope_and_years_say_what_they_mean(outputs):
    wb = load_workbook(outputs["rollup"])
    scope = wb["汇总"]["A2"].value
    assert "已报送 2 个地区：市中区、章丘区" in scope and "未报送" in scope and "历城区" in scope
    summary = [c.value for row in wb["汇总"].iter_rows(min_row=4) for c in row]
    assert "全部地区" not in summary  # districts did not all submit
    targets = wb["目标对比"]
    header = next(r for r in targets.iter_rows(max_row=5) if r[0].value == "序号")
    year = next(c.column for c in header if c.value == "年份")
    metric = next(c.column for c in header if c.value == "指标")
    years = {targets.cell(r, metric).value: targets.cell(r, year).value for r in range(header[0].row + 1,
                                                                                           targets.max_row + 1)}
    assert years["亿元以上重点技术改造项目"] == "每年"  # 每年实施亿元以上重点技术改造项目30个以上
    assert None not in {v for k, v in years.items() if k}


def _chart_anchors(path, sheet_part: str) -> list[int]:
    with zipfile.ZipFile(path) as z:
        rels = z.read(f"xl/worksheets/_rels/{sheet_part}.rels").decode()
        drawing = re.search(r'Target="../drawings/(drawing\d+\.xml)"', rels).group(1)
        xml = z.read(f"xl/drawings/{drawing}").decode()
    return [int(m) for m in re.findall(r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff>"
                                       r"<xdr:row>(\d+)</xdr:row>", xml)]


def test_charts_start_a_page(outputs):
    path = outputs["rollup"]
    wb = load_workbook(path)
    names = wb.sheetnames
    for name in ("图表",):  # (目标对比 is the table: its chart is on 图表)
        ws = wb[name]
        breaks = {b.id for b in ws.row_breaks.brk}  # the last row of a page (1-based)
        anchors = _chart_anchors(path, f"sheet{names.index(name) + 1}.xml")  # 0-based rows
        assert anchors, name
        for row in anchors:
            # A chart starts a page: on its first page under the title, or right after a break.
            assert row in breaks or row <= 3 or row - 1 in breaks, (name, row, breaks)


def test_marked_ledger_notes_on_one_page_and_no_blank_unit_page(outputs):
    wb = load_workbook(outputs["marked"])
    notes = wb["说明"]
    assert (notes.page_setup.fitToWidth, notes.page_setup.fitToHeight) == (1, 1)
    assert notes.page_setup.orientation == "portrait" and sheet_scale(notes) == 1.0
    assert all(c.alignment.wrap_text for c in printed(notes) if len(str(c.value)) > 20)
    units = wb["单位名录"]
    assert units.sheet_state == "hidden" or units.max_row > 1  # never a page with a header only
    if units.sheet_state == "visible":
        assert {units.cell(r, 1).value for r in range(2, units.max_row + 1)} == {"章丘区"}


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdfinfo"), reason="LibreOffice not installed")
def test_rollup_prints_in_a_bounded_number_of_pages(outputs, tmp_path):
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(outputs["rollup"])], check=True, capture_output=True,
                   timeout=300)
    info = subprocess.run(["pdfinfo", str(tmp_path / "济南市_汇总.pdf")], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    # ~60 city tasks and ~100 district rows at 11pt: about 70 pages; the 7.5pt layout took 43, and one
    # row per page (a sheet whose rows do not fit) would take well over 150.
    assert 30 <= pages <= 95, pages
