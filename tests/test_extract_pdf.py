"""PDF plans (issue 25): the seed documents laid out as the Word documents they were printed from (tests/pdf_docs.py),
printed to PDF by LibreOffice and read back — what the PDF yields is what the .docx and the seed text yield.
Scans and fonts without a Unicode map are refused with a message saying what to ask for."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CITY, SHIZHONG, ZHANGQIU
from pdf_docs import seed_docx, seed_parts, to_pdf
from render import soffice

from xltools import extract
from xltools.cli import cli
from xltools.errors import UnreadableInput
from xltools.readers.pdf import PdfWithoutText, drop_cjk_spaces, is_page_number, normalize_glyphs, read_pdf
from xltools.target_text import ledger_targets
from xltools.text import clean

HEADERS = {  # the running header each document prints on every page (000's and 002's 红头, 003's title)
    SHIZHONG: "济南市市中区人民政府文件", ZHANGQIU: "章政发〔2024〕2号", CITY: "济南市推动大规模设备更新和消费品以旧换新工作台账"}
PLAIN = {"city-003": CITY, "shizhong-000": SHIZHONG, "zhangqiu-002": ZHANGQIU}


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """name → (the .docx, the PDF LibreOffice printed from it), printed once for the module: the seeds as laid
    out in portrait; 000 with its ledger on landscape pages and 一工人大 in fonts that map them to Kangxi radicals;
    003 the same with every third task's 工作内容 one sentence a paragraph."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("pdf-plans")
    docs = {key: seed_docx(seed, folder / f"{key}.docx", HEADERS[seed]) for key, seed in PLAIN.items()}
    docs["shizhong-000-landscape"] = seed_docx(SHIZHONG, folder / "shizhong-000-landscape.docx", HEADERS[SHIZHONG],
                                               landscape=True, kangxi=True)
    docs["city-003-sentences"] = seed_docx(CITY, folder / "city-003-sentences.docx", HEADERS[CITY], landscape=True,
                                           sentences=True, kangxi=True)
    try:
        pdfs = to_pdf(list(docs.values()), folder)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"LibreOffice could not print the documents: {exc.stderr!r}")
    if not all(p.exists() for p in pdfs):
        pytest.skip("LibreOffice Writer is not installed (apt-get install -y libreoffice-writer-nogui)")
    return {key: (doc, pdf) for (key, doc), pdf in zip(docs.items(), pdfs, strict=True)}


def view(ledger) -> dict:
    """What a ledger says: its tasks, units, targets, goals, region and the kinds of problems found."""
    return {
        "tasks": [(r.seq, r.label, r.section, r.subsection, r.task, r.content, r.lead_units, r.responsible_units)
                  for r in ledger.rows],
        "units": sorted({u for r in ledger.rows for u in (*r.lead_units, *r.responsible_units)}),
        "targets": [[t.to_dict() for t in result.targets] for _, result in ledger_targets(ledger)],
        "goals": [(g.year, g.text, g.lead_units, g.responsible_units) for g in ledger.goals],
        "region": (ledger.title, ledger.region, ledger.level, ledger.city),
        "problems": sorted((p.type, p.severity) for p in ledger.problems),
    }


@pytest.mark.parametrize("key", list(PLAIN))
def test_a_printed_plan_reads_as_the_docx_and_the_seed_text(printed, key):
    docx, pdf = printed[key]
    from_pdf, from_docx, from_seed = view(extract(pdf)), view(extract(docx)), view(extract(PLAIN[key]))
    for part in from_pdf:  # the PDF gives back what it was printed from, part by part...
        assert from_pdf[part] == from_docx[part], part
    # ...which is what the seed text says (its problems aside: the text's last table row lacks cells)
    assert from_docx | {"problems": None} == from_seed | {"problems": None}
    assert len(from_pdf["tasks"]) == 60 if key != "shizhong-000" else len(from_pdf["tasks"]) == 38


@pytest.mark.parametrize("key", list(PLAIN))
def test_paragraphs_come_back_whole_without_page_furniture(printed, key):
    """Every paragraph of the body as laid out — lines broken by the page width and over page breaks joined,
    the running header and “— N —” gone (002 and 003 print their header's text once in the body: that stays)."""
    seed = PLAIN[key]
    _, pdf = printed[key]
    text = read_pdf(pdf)
    body = text.paragraphs[:text.body_end] if text.body_end is not None else text.paragraphs
    written, _ = seed_parts(seed)
    assert [clean(p) for p in body if clean(p)] == [clean(p) for p in written]
    assert not [p for p in text.paragraphs if is_page_number(p)]
    assert sum(clean(p) == HEADERS[seed] for p in body) == sum(clean(p) == HEADERS[seed] for p in written)
    assert (text.rows is not None) == (seed != ZHANGQIU)


def test_problems_in_the_body_name_their_page(printed):
    """A paragraph's number says little in a PDF: a problem found in the body names the page it is on."""
    import pypdfium2

    _, pdf = printed["shizhong-000"]
    body_only = [p for p in extract(pdf).problems if p.type == "body-only-task"]
    assert [p.value[:6] for p in body_only] == ["各街道办事处", "各有关部门要", "各街道办事处"]
    document = pypdfium2.PdfDocument(pdf)
    try:
        for problem in body_only:
            page = int(problem.sheet.removeprefix("第").removesuffix("页"))
            text = "".join(document[page - 1].get_textpage().get_text_range().split())
            assert problem.value[:12] in text, (problem.sheet, problem.value)
    finally:
        document.close()


def docx_grid(path: Path) -> list[list[str]]:
    """The attached table's cells as Word holds them: a vertical merge read in every row it covers, a horizontal
    one once (python-docx, as xltools' .docx reader reads it)."""
    import docx

    grid = []
    for row in docx.Document(str(path)).tables[0].rows:
        seen, cells = set(), []
        for cell in row.cells:
            cells.append("" if id(cell._tc) in seen else cell.text)
            seen.add(id(cell._tc))
        grid.append(cells)
    return grid


@pytest.mark.parametrize("key", ["shizhong-000", "city-003", "shizhong-000-landscape"])
def test_the_attached_table_comes_back_cell_for_cell(printed, key):
    """The ledger table over its pages is the table in the document: its header once, every row broken by a page
    break joined again, merged cells filled down as Word reads them (000's goals, 26–28's 重点任务)."""
    docx, pdf = printed[key]

    def bare(text: str) -> str:
        return "".join(normalize_glyphs(text).split())

    rows = read_pdf(pdf).rows
    assert [[bare(c) for c in r.cells] for r in rows] == [[bare(c) for c in cells] for cells in docx_grid(docx)]
    assert len({r.origin.sheet for r in rows}) >= 8  # (the table does run over many pages)


def test_a_landscape_attachment_and_kangxi_radicals(printed):
    """000 with its ledger on landscape pages, printed in fonts that map 一工人大 to Kangxi radicals (⼀⼯⼈⼤):
    the same ledger as the seed's."""
    _, pdf = printed["shizhong-000-landscape"]
    ledger = extract(pdf)
    assert view(ledger) | {"problems": None} == view(extract(SHIZHONG)) | {"problems": None}
    text = str(ledger.to_dict())
    assert "一" in text and not any(ch in text for ch in "\u2f00\u2f2f\u2f08\u2f24")


def test_pages_whose_box_is_not_at_the_origin(printed, tmp_path):
    """Page boxes moved off (0, 0) and cropped, as some PDF writers set them: text and ruling still meet."""
    import pypdfium2

    _, pdf = printed["shizhong-000"]
    document = pypdfium2.PdfDocument(pdf)
    for i in range(len(document)):
        left, bottom, right, top = document[i].get_mediabox()
        document[i].set_mediabox(left - 30, bottom - 40, right - 30, top - 40)
        document[i].set_cropbox(left - 20, bottom - 30, right - 40, top - 55)
    moved = tmp_path / "moved.pdf"
    document.save(moved)
    document.close()
    assert view(extract(moved)) == view(extract(pdf))


def test_paragraphs_inside_a_cell(printed):
    """A 工作内容 cell of several paragraphs: every line break the PDF shows is one the document has; a paragraph
    that happens to fill its last line exactly cannot be told from a wrapped line (a few are joined)."""
    docx, pdf = printed["city-003-sentences"]
    from_pdf, from_docx = extract(pdf), extract(docx)

    def bare(text: str) -> str:  # (the .docx keeps a space before ⼯, which is not Chinese to its reader)
        return "".join(normalize_glyphs(text).split())

    def breaks(text: str) -> set[int]:
        pieces = text.split("\n")
        return {len(bare("".join(pieces[:i]))) for i in range(1, len(pieces))}

    assert [bare(r.content) for r in from_pdf.rows] == [bare(r.content) for r in from_docx.rows]
    want = found = 0
    for got, row in zip(from_pdf.rows, from_docx.rows, strict=True):
        assert breaks(got.content) <= breaks(row.content), (got.seq, got.content)  # none the document lacks
        want, found = want + len(breaks(row.content)), found + len(breaks(got.content))
    assert want >= 25 and found >= 0.85 * want, (found, want)
    rest = view(from_pdf) | {"tasks": None, "targets": None}
    assert rest == view(extract(CITY)) | {"tasks": None, "targets": None}


def test_the_cli_reads_a_pdf_and_keeps_its_limits(printed):
    _, pdf = printed["zhangqiu-002"]
    result = CliRunner().invoke(cli, ["extract", str(pdf)])
    assert result.exit_code == 0, result.output
    assert "地区：章丘区（区县）" in result.output and "任务 60 行" in result.output
    result = CliRunner().invoke(cli, ["--limit", "pages=5", "extract", str(pdf)])
    assert result.exit_code == 2 and "页数过多" in result.output and "pages" in result.output, result.output
    result = CliRunner().invoke(cli, ["--limit", "text_mb=0.01", "extract", str(pdf)])
    assert result.exit_code == 2 and "文字过多" in result.output, result.output


def test_fonts_without_a_unicode_map_are_refused(printed, tmp_path):
    """The printed plan with its fonts' ToUnicode maps taken out: what copying its text gives is garbage
    (pdfminer says “(cid:N)”), so it is refused, not read as a garbled ledger."""
    import pymupdf  # a dev dependency (tests/render.py): only to damage the test file

    _, pdf = printed["zhangqiu-002"]
    doc = pymupdf.open(pdf)
    for xref in range(1, doc.xref_length()):
        if doc.xref_get_key(xref, "ToUnicode")[0] != "null":
            doc.xref_set_key(xref, "ToUnicode", "null")
    garbled = tmp_path / "乱码.pdf"
    doc.save(garbled)
    with pytest.raises(PdfWithoutText) as caught:
        extract(garbled)
    assert "乱码" in caught.value.message_zh and "OCR" in caught.value.message_zh


def scanned_pdf(path: Path) -> Path:
    """A scanned plan: a page that is only a picture (Pillow's PDF writer, no text layer)."""
    from PIL import Image, ImageDraw

    page = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    draw = ImageDraw.Draw(page)
    for y in range(300, 1500, 48):  # lines of "text", a table's ruling
        draw.rectangle((150, y, 1090 - (y * 7) % 300, y + 22), fill=40)
    draw.rectangle((140, 1520, 1100, 1700), outline=0, width=3)
    page.save(path, "PDF", resolution=150)
    return path


def test_a_scanned_plan_is_refused_with_what_to_do(tmp_path):
    scan = scanned_pdf(tmp_path / "章丘区_工作方案（扫描件）.pdf")
    with pytest.raises(PdfWithoutText) as caught:
        extract(scan)
    message = caught.value.message_zh
    assert "扫描件" in message and "OCR" in message and "Word/WPS 原件" in message
    result = CliRunner().invoke(cli, ["extract", str(scan)])
    assert result.exit_code == 2
    assert "错误：无法读取 PDF 中的文字：章丘区_工作方案（扫描件）.pdf 是扫描件" in result.output, result.output


def test_a_scanned_page_amid_text_pages_is_named(printed, tmp_path):
    """The plan with a scanned page put at its end (a signed page, say): read, the page named in a warning."""
    import pypdfium2

    _, pdf = printed["zhangqiu-002"]
    document, scan = pypdfium2.PdfDocument(pdf), pypdfium2.PdfDocument(scanned_pdf(tmp_path / "scan.pdf"))
    pages = len(document)
    document.import_pages(scan)
    mixed = tmp_path / "章丘区_工作方案（含扫描页）.pdf"
    document.save(mixed)
    scan.close()
    document.close()
    ledger = extract(mixed)
    assert len(ledger.rows) == 60
    assert [(p.type, p.severity, p.sheet) for p in ledger.problems] == [
        ("pdf-image-page", "warning", f"第{pages + 1}页")]


def test_a_damaged_pdf_and_the_supported_types(tmp_path):
    broken = tmp_path / "方案.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    with pytest.raises(UnreadableInput) as caught:
        extract(broken)
    assert "无法打开 PDF 文件" in caught.value.message_zh
    other = tmp_path / "方案.rtf"
    other.write_text("{\\rtf1}")
    with pytest.raises(UnreadableInput) as caught:
        extract(other)
    assert ".docx .pdf .txt" in caught.value.message_zh


def test_the_headless_cli_does_not_load_the_pdf_libraries():
    code = "import sys, xltools.cli; print(sorted({'pypdfium2', 'pdfplumber', 'pdfminer'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("text, want", [
    ("⼀⼆三", "一二三"), ("⼯作⽅案", "工作方案"), ("\uf900", "\u8c48"),  # Kangxi radicals, a compatibility ideograph
    ("（一）１２，。：“”", "（一）１２，。：“”"),  # full-width forms stay as the other readers keep them
])
def test_glyphs_are_read_as_the_ideographs_they_stand_for(text, want):
    assert normalize_glyphs(text) == want


@pytest.mark.parametrize("text, want", [
    ("工 作 方 案", "工作方案"), ("通　知", "通知"), ("济南市 章丘区", "济南市章丘区"),
    ("2025 年工作目标", "2025 年工作目标"), ("GB 55015", "GB 55015"), ("到 2025 年，", "到 2025 年，"),
])
def test_spaces_between_chinese_characters_go(text, want):
    assert drop_cjk_spaces(text) == want


@pytest.mark.parametrize("text, want", [
    ("— 3 —", True), ("- 12 -", True), ("3", True), ("第3页 共20页", True), ("第 3 页", True), ("3/20", True),
    ("3.推动产业高端化跃升", False), ("2025年", False), ("（三）", False), ("— —", False),
])
def test_page_numbers(text, want):
    assert is_page_number(text) is want
