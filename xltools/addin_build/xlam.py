"""Build xltools.xlam from xlwings' ribbon add-in template, on any OS, byte for byte reproducibly.

The template's VBA project is patched, not regenerated: its references, project records and the compiled-less
`_VBA_PROJECT` are kept; its demo module is replaced by ours and its xlwings module by the one of the installed
(pinned) xlwings. See ../shared/design/xlwings-addin.md for why each step is done this way.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import XltoolsError
from . import cfb, ovba

ADDIN_NAME = "xltools"
TEMPLATE = "quickstart_addin_ribbon.xlam"
XLWINGS_BAS = "xlwings_custom_addin.bas"
TEMPLATE_MODULE = "RibbonMyAddin"  # the template's demo module, replaced by ours
RIBBON_MODULE = "xltools_ribbon"
RIBBON_PART = "customUI/customUI14.xml"
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MACROS = Path(__file__).resolve().parents[2] / "macros"

# The add-in's own config sheet (xltools.conf). Only settings that are the same on every PC go here: a key in the
# sheet, even with an empty value, hides the same key in %USERPROFILE%\.xltools\xltools.conf, where
# `xltools addin install` writes the interpreter of the PC. Keys as xlwings writes them.
# ADD_WORKBOOK_TO_PYTHONPATH: a .py file in a clerk's folder must never shadow a module. A string, because
# xlwings' Python side compares it with "true" and VBA would turn a boolean into a localized word.
# UDF MODULES: where xlwings' ImportPythonUDFs finds the worksheet functions (=XLT_UNIT, =XLT_TARGETS).
SHEET_CONFIG = {"USE UDF SERVER": False, "SHOW CONSOLE": False, "DEBUG UDFS": False,
                "ADD_WORKBOOK_TO_PYTHONPATH": "false", "UDF MODULES": "xltools.addin"}


class AddinBuildError(XltoolsError):
    "The add-in cannot be built (xlwings missing or of another version, sources missing)."


@dataclass(frozen=True)
class Sources:
    """Where the pieces of the add-in come from."""

    template: Path
    xlwings_bas: Path
    xlwings_version: str
    ribbon_bas: Path
    ribbon_xml: Path


def find_sources(macros: Path | None = None) -> Sources:
    """Locate xlwings' template and module without importing xlwings (its import has side effects)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise AddinBuildError("xlwings is not installed",
                              "未安装 xlwings，无法生成加载项。请先安装：pip install \"xltools[addin]\"")
    folder = Path(next(iter(spec.submodule_search_locations)))
    version = importlib.metadata.version("xlwings")
    macros = Path(macros) if macros else MACROS
    sources = Sources(folder / TEMPLATE, folder / XLWINGS_BAS, version,
                      macros / f"{RIBBON_MODULE}.bas", macros / "customUI14.xml")
    for path in (sources.template, sources.xlwings_bas, sources.ribbon_bas, sources.ribbon_xml):
        if not path.is_file():
            raise AddinBuildError(f"missing {path}",
                                  f"找不到生成加载项所需的文件：{path}。xlwings 安装不完整，或不在 xltools 源码目录中运行；"
                                  "可改用 --xlam 指定已生成的 xltools.xlam。")
    return sources


def xlwings_module(sources: Sources) -> bytes:
    """xlwings' custom add-in module, checked against the installed version, with PROJECT_NAME = xltools.

    PROJECT_NAME decides which config sheet (`xltools.conf`) and user config file (`.xltools\\xltools.conf`)
    xlwings reads.
    """
    text = sources.xlwings_bas.read_bytes()
    found = re.search(rb"Public Const XLWINGS_VERSION As String = \"([^\"]+)\"", text)
    if not found or found.group(1).decode() != sources.xlwings_version:
        raise AddinBuildError(f"{sources.xlwings_bas} is not for xlwings {sources.xlwings_version}",
                              f"xlwings 的 VBA 模块与已安装的 xlwings {sources.xlwings_version} 版本不一致，"
                              "请重新安装：pip install --force-reinstall \"xltools[addin]\"")
    text, n = re.subn(rb'Public Const PROJECT_NAME As String = "[^"]*"',
                      f'Public Const PROJECT_NAME As String = "{ADDIN_NAME}"'.encode(), text)
    if n != 1:
        raise AddinBuildError("PROJECT_NAME not found in the xlwings module",
                              "xlwings 的 VBA 模块格式有变，无法生成加载项；请使用 xltools[addin] 指定的 xlwings 版本。")
    return _crlf(text)


def ribbon_module(sources: Sources) -> bytes:
    text = sources.ribbon_bas.read_bytes()
    try:
        text.decode("ascii")
    except UnicodeDecodeError as exc:
        raise AddinBuildError(f"{sources.ribbon_bas} is not ASCII",
                              f"{sources.ribbon_bas.name} 中有非 ASCII 字符，VBA 源码只能是 ASCII") from exc
    return _crlf(text)


def _crlf(text: bytes) -> bytes:
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def vba_project(template_bin: bytes, modules: dict[str, bytes]) -> bytes:
    """The template's vbaProject.bin with `modules` ({name: source}) stored source-only.

    A module of the template named in `modules` gets the new source (xlwings); the template's demo module goes;
    new names are added as standard modules after the others.
    """
    try:
        import olefile
    except ImportError as exc:
        raise AddinBuildError("olefile is not installed",
                              "未安装 olefile，无法生成加载项。请先安装：pip install \"xltools[addin]\"") from exc

    with olefile.OleFileIO(template_bin) as ole:
        streams = {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}
    head, cookie, module_records = ovba.split_dir(ovba.parse_records(ovba.decompress(streams["VBA/dir"])))
    lines = ovba.project_modules(streams["PROJECT"].decode("cp1252"))

    kept, project_lines = [], []
    for records in module_records:
        name = ovba.module_name(records)
        if name == TEMPLATE_MODULE:
            del streams[f"VBA/{name}"]
            continue
        if name in modules:
            if (ovba.PROCEDURAL, b"") not in records:  # a document or class module cannot become a standard one
                raise AddinBuildError(f"template module {name} is not a standard module",
                                      f"xlwings 模板中的 {name} 不是标准模块，无法替换；请使用 xltools[addin] 指定的 xlwings 版本。")
            records = ovba.standard_module_records(name)
            streams[f"VBA/{name}"] = ovba.compress(modules[name])
        kept.append(records)
        project_lines.append(next(line for line in lines if line[1].split("/")[0] == name))
    present = {ovba.module_name(r) for r in kept}
    for name, source in modules.items():
        if name not in present:
            kept.append(ovba.standard_module_records(name))
            streams[f"VBA/{name}"] = ovba.compress(source)
            project_lines.append(("Module", name))

    head = ovba.rename_project(head, ADDIN_NAME)
    streams["VBA/dir"] = ovba.compress(ovba.write_records(ovba.join_dir(head, cookie, kept)))
    project = ovba.rewrite_project(streams["PROJECT"].decode("cp1252"), project_lines, ADDIN_NAME)
    streams["PROJECT"] = project.encode("cp1252")
    streams["PROJECTwm"] = ovba.projectwm([ovba.module_name(r) for r in kept])
    return cfb.write(streams)


def config_sheet(settings: dict[str, object]) -> bytes:
    """The worksheet of the config sheet: key in column A, value in column B, inline strings."""
    rows = []
    for i, (key, value) in enumerate(settings.items(), 1):
        cell = (f'<c r="B{i}" t="b"><v>{int(value)}</v></c>' if isinstance(value, bool)
                else f'<c r="B{i}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        rows.append(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{escape(key)}</t></is></c>{cell}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheetPr codeName="Sheet2"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="1" width="30" customWidth="1"/></cols>'
            f'<sheetData>{"".join(rows)}</sheetData></worksheet>').encode()


def _workbook(xml: bytes) -> bytes:
    text = xml.decode()
    text = text.replace('name="_myaddin.conf"', f'name="{ADDIN_NAME}.conf"')
    # the template author's absolute path means nothing on a clerk's PC
    text = re.sub(r"<mc:AlternateContent\b.*?</mc:AlternateContent>", "", text)
    if f'name="{ADDIN_NAME}.conf"' not in text:
        raise AddinBuildError("config sheet not found in the template",
                              "xlwings 模板中找不到配置工作表，请使用 xltools[addin] 指定的 xlwings 版本。")
    return text.encode()


def _root_rels(xml: bytes) -> bytes:
    text = re.sub(r'<Relationship [^>]*Type="[^"]*/ui/extensibility"[^>]*/>', "", xml.decode())
    rel = f'<Relationship Id="xltoolsRibbon" Type="{RIBBON_REL}" Target="{RIBBON_PART}" />'
    return text.replace("</Relationships>", rel + "</Relationships>").encode()


def _core(xml: bytes) -> bytes:
    text = re.sub(r"<dc:creator>.*?</dc:creator>", "<dc:creator>xltools</dc:creator>", xml.decode())
    text = re.sub(r"<cp:lastModifiedBy>.*?</cp:lastModifiedBy>", "<cp:lastModifiedBy>xltools</cp:lastModifiedBy>",
                  text)
    return re.sub(r"<dc:title\s*/>", "<dc:title>xltools 台账工具</dc:title>", text).encode()


def build_bytes(sources: Sources | None = None) -> bytes:
    """The add-in's bytes. The same sources give the same bytes: fixed order, timestamps and attributes."""
    sources = sources or find_sources()
    with zipfile.ZipFile(sources.template) as template:
        parts = {info.filename: template.read(info) for info in template.infolist()}
    parts = {name: data for name, data in parts.items() if not name.startswith("customUI/")}
    parts.pop("xl/sharedStrings.xml", None)  # the config sheet uses inline strings
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />', b"")
    parts["xl/_rels/workbook.xml.rels"] = re.sub(rb'<Relationship [^>]*Target="sharedStrings.xml" />', b"",
                                                 parts["xl/_rels/workbook.xml.rels"])
    parts["_rels/.rels"] = _root_rels(parts["_rels/.rels"])
    parts["xl/workbook.xml"] = _workbook(parts["xl/workbook.xml"])
    parts["docProps/core.xml"] = _core(parts["docProps/core.xml"])
    parts["xl/worksheets/sheet1.xml"] = config_sheet(SHEET_CONFIG)
    parts["xl/vbaProject.bin"] = vba_project(parts["xl/vbaProject.bin"], {
        "xlwings": xlwings_module(sources), RIBBON_MODULE: ribbon_module(sources)})
    parts[RIBBON_PART] = sources.ribbon_xml.read_bytes()

    first = ["[Content_Types].xml", "_rels/.rels"]
    order = first + sorted(name for name in parts if name not in first)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name in order:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            package.writestr(info, parts[name], compresslevel=9)
    return out.getvalue()


def build(out: str | Path = "xltools.xlam", sources: Sources | None = None) -> Path:
    """Write the add-in to `out` and return its path."""
    out = Path(out)
    if out.suffix.lower() != ".xlam":
        raise AddinBuildError(f"{out} is not an .xlam", f"加载项文件名应以 .xlam 结尾：{out}")
    data = build_bytes(sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out
