"""The add-in builder: checks on the built xltools.xlam that need no Excel (the release gate is a Windows click-through).

Independent readers check our writers: oletools decodes the VBA, olefile reads the compound file, LibreOffice loads
the project.
"""

import hashlib
import importlib.util
import json
import random
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import olefile
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from xltools.addin_build import AddinBuildError, build, cfb, find_sources, ovba
from xltools.addin_build import xlam as build_module
from xltools.addin_build.install import AddinInstallError, install, plan
from xltools.addin_build.udfs import UDF_MODULE, udf_module
from xltools.cli import cli

if importlib.util.find_spec("xlwings") is None:  # the template and xlwings' module come from xlwings
    pytest.skip("the add-in builder needs xltools[addin]", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros"
CUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
# the contract (../briefs/addin_common.md): tag → VBA callback
CONTRACT = {"plan_to_ledger": "OnButtonFile", "refresh_ledger": "OnButtonFile", "check_units": "OnButton",
            "check_targets": "OnButton", "apply_fixes": "OnButton", "clear_marks": "OnButton",
            "distribute": "OnButtonFolder", "consolidate": "OnButtonFolder", "feedback": "OnButtonFolder",
            "open_directory": "OnButton", "lookup_unit": "OnButton", "help": "OnButton"}


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    return build(tmp_path_factory.mktemp("addin") / "xltools.xlam")


@pytest.fixture(scope="module")
def vba(xlam):
    """The built add-in's vbaProject.bin streams, read by olefile."""
    with zipfile.ZipFile(xlam) as package, olefile.OleFileIO(package.read("xl/vbaProject.bin")) as ole:
        return {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}


def olevba_modules(data_or_path) -> dict[str, str]:
    parser = VBA_Parser("addin", data=data_or_path) if isinstance(data_or_path, bytes) else VBA_Parser(str(data_or_path))
    try:
        return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def template_vba() -> bytes:
    with zipfile.ZipFile(find_sources().template) as package:
        return package.read("xl/vbaProject.bin")


# --- the VBA modules ---------------------------------------------------------------------------------------

def test_each_module_decodes_to_exactly_its_source(xlam):
    sources = find_sources()
    modules = olevba_modules(xlam)
    assert sorted(modules) == ["Dictionary", "Sheet2", "ThisWorkbook", "xltools_desk", "xltools_ribbon", "xltools_udfs",
                              "xlwings"]
    assert modules["xltools_ribbon"] == (MACROS / "xltools_ribbon.bas").read_bytes().decode("ascii")
    assert modules["xltools_desk"] == (MACROS / "xltools_desk.bas").read_bytes().decode("ascii")
    assert modules["xltools_udfs"] == udf_module().decode("ascii")
    installed = sources.xlwings_bas.read_bytes().decode("cp1252")
    assert modules["xlwings"] == installed.replace('PROJECT_NAME As String = "myaddin"',
                                                   'PROJECT_NAME As String = "xltools"')
    assert modules["xlwings"] != installed  # the project name did change
    assert f'XLWINGS_VERSION As String = "{sources.xlwings_version}"' in modules["xlwings"]
    template = olevba_modules(template_vba())
    for name in ("Dictionary", "Sheet2", "ThisWorkbook"):  # the template's own modules, untouched
        assert modules[name] == template[name]


def test_new_modules_are_source_only_and_the_project_compiles_from_source(vba):
    assert vba["VBA/_VBA_PROJECT"] == bytes.fromhex("cc61ffff000100")  # version 0xFFFF: no p-code to trust
    for name in ("xlwings", "xltools_ribbon", "xltools_udfs", "xltools_desk"):
        assert vba[f"VBA/{name}"][0] == 1  # MODULEOFFSET 0: the stream is the compressed source itself


def test_ribbon_module_is_ascii_crlf_and_its_chinese_messages_decode():
    data = (MACROS / "xltools_ribbon.bas").read_bytes()
    data.decode("ascii")
    assert b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("ascii")
    messages = [bytes.fromhex(h).decode("utf-16-be") for h in re.findall(r'FromHex\("([0-9A-F]+)"\)', text)]
    assert messages == ["方案或台账", "所有文件",
                        "当前工作簿处于受保护的视图。请先点击窗口上方黄色提示栏中的“启用编辑”，再点击台账工具的按钮。",
                        "台账工具", "请先打开或新建一个工作簿，再点击台账工具的按钮。", "台账工具",
                        "检查；若每个按钮都如此，可能是安全软件阻止了 Excel 启动 Python，请信息技术人员协助。",
                        "检查；若每个按钮都如此，请确认本机的收发台（", "）正在运行，或请信息技术人员协助。",
                        "台账工具未能运行（错误 ", "）。", "请在命令行运行", "台账工具",
                        "找不到", "：", "尚未设置", "解释器。", "请在命令行运行",
                        "重新安装加载项，或请信息技术人员协助。", "台账工具"]
    assert "xltools addin install" in text and " xltools addin doctor " in text
    # the failure names what to check on the route the buttons take: Python, or the desk (xltools serve)
    failure = vba_procedures(text)["ShowFailure"][2]
    assert failure[1:3] == ["number = Err.Number", "description = Err.Description"]  # before DeskUrl clears Err
    assert 'If DeskUrl() = "" Then' in failure and any('& "xltools serve" _' in line for line in failure)
    # the contract: each UTF-16 code unit as 4 uppercase hex digits, which Python reads back as UTF-16-BE
    assert 'Right$("000" & Hex$(AscW(Mid$(s, i, 1)) And &HFFFF&), 4)' in text
    assert 'path_hex=\'" & HexPath(chosen) & "\')"' in text


def vba_procedures(text: str) -> dict[str, tuple[bool, str, list[str]]]:
    """A VBA module's procedures: name → (public, argument list, body lines stripped, comments and blanks left out)."""
    procedures, current = {}, None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.split(" '")[0].strip() if not raw.strip().startswith("'") else ""
        start = re.match(r"(Public |Private )?(Sub|Function) (\w+)\((.*)\)", line)
        if start:
            current = start[3]
            procedures[current] = (start[1] != "Private ", start[4], [])
        elif re.match(r"End (Sub|Function)$", line):
            current = None
        elif current and line:
            procedures[current][2].append(line)
    return procedures


RUNS = ("RunPython", "DeskButton")  # what does a button's work: Python, or the desk route (xltools_desk)


def callback_problems(text: str) -> list[str]:
    """What is wrong with the ribbon callbacks of a module: each public Sub taking an IRibbonControl must set an
    error handler, then check the workbook (WorkbookReady), before anything that reaches RunPython or the desk
    route's DeskButton; its handler (after an Exit Sub) shows the Chinese failure; WorkbookReady tests both cases
    that make xlwings fail."""
    procedures = vba_procedures(text)

    def runs_python(name, seen=()):
        body = procedures[name][2]
        return any(any(run in line for run in RUNS) or any(re.search(rf"\b{other}\b", line) and runs_python(other, (*seen, name))
                                             for other in procedures if other not in (*seen, name))
                   for line in body)

    problems = []
    callbacks = [n for n, (public, args, _) in procedures.items() if public and args == "control As IRibbonControl"]
    if not callbacks:
        problems.append("no ribbon callbacks")
    for name in callbacks:
        body = procedures[name][2]
        first_run = next((i for i, line in enumerate(body) if any(run in line for run in RUNS) or any(
            re.search(rf"\b{other}\b", line) and runs_python(other) for other in procedures if other != name)),
            None)
        handler = next((i for i, line in enumerate(body) if re.fullmatch(r"On Error GoTo (\w+)", line)), None)
        guard = next((i for i, line in enumerate(body) if line == "If Not WorkbookReady() Then Exit Sub"), None)
        if first_run is None:
            problems.append(f"{name}: never reaches RunPython")
            continue
        if handler is None or handler > first_run:
            problems.append(f"{name}: no error handler before RunPython")
        if guard is None or guard > first_run:
            problems.append(f"{name}: no workbook guard before RunPython")
        if handler is not None:
            label = re.fullmatch(r"On Error GoTo (\w+)", body[handler])[1]
            at = body.index(f"{label}:") if f"{label}:" in body else None
            if at is None or body[at - 1] != "Exit Sub" or "ShowFailure" not in body[at + 1:]:
                problems.append(f"{name}: the handler {label} does not show the failure after an Exit Sub")
    ready = " ".join(procedures.get("WorkbookReady", (0, 0, []))[2])
    if "ActiveWorkbook Is Nothing" not in ready or "Not Application.ActiveProtectedViewWindow Is Nothing" not in ready:
        problems.append("WorkbookReady does not check both ActiveWorkbook and Protected View")
    failure = " ".join(procedures.get("ShowFailure", (0, 0, []))[2])
    if "MsgBox FromHex(" not in failure or "Err.Description" not in failure:
        problems.append("ShowFailure does not say the error in Chinese")
    return problems


def test_every_ribbon_callback_guards_the_workbook_and_handles_errors_before_runpython():
    text = (MACROS / "xltools_ribbon.bas").read_bytes().decode("ascii")
    assert callback_problems(text) == []
    procedures = vba_procedures(text)
    assert {n for n, (public, args, _) in procedures.items() if public and args == "control As IRibbonControl"} \
        == set(CONTRACT.values())
    # the checker fails a callback that lost a piece (each mutation of the real source is caught)
    assert callback_problems(text.replace("    If Not WorkbookReady() Then Exit Sub\r\n    RunWithPath control, FILE",
                                          "    RunWithPath control, FILE")) == \
        ["OnButtonFile: no workbook guard before RunPython"]
    unhandled = text.replace("Sub OnButton(control As IRibbonControl)\r\n    On Error GoTo Failed\r\n",
                             "Sub OnButton(control As IRibbonControl)\r\n")
    assert callback_problems(unhandled) == ["OnButton: no error handler before RunPython"]
    late = text.replace("    If Not WorkbookReady() Then Exit Sub\r\n    If ViaDesk(control.Tag, \"\") Then Exit Sub\r\n",
                        "    If ViaDesk(control.Tag, \"\") Then Exit Sub\r\n    If Not WorkbookReady() Then Exit Sub\r\n")
    assert late != text
    assert callback_problems(late) == ["OnButton: no workbook guard before RunPython"]  # the desk route counts too
    assert callback_problems(text.replace("ElseIf ActiveWorkbook Is Nothing Then", "ElseIf False Then")) == \
        ["WorkbookReady does not check both ActiveWorkbook and Protected View"]


# --- the worksheet functions -------------------------------------------------------------------------------

XLWINGS_WRAPPERS = """
import io, sys, types
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):  # udfs.py imports them at the top
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["win32com.client"].Dispatch = lambda x: x
from xlwings import udfs
import xltools.addin as addin

def XLT_DEMO(text, region=None):
    pass

module = types.ModuleType("xltools.addin")
for fn in (*addin.UDFS.values(), XLT_DEMO):
    setattr(module, fn.__name__, udfs.xlfunc(fn))
out = io.StringIO()
udfs.generate_vba_wrapper("xltools.addin", module, out, types.SimpleNamespace(Name="xltools.xlam"))
sys.stdout.write(out.getvalue())
"""


def test_udf_module_is_what_xlwings_generates_for_the_addins_functions():
    """xlwings' own generate_vba_wrapper (its Windows imports stubbed) run on the functions of xltools.addin: our
    module holds exactly its text, after our header."""
    done = subprocess.run([sys.executable, "-c", XLWINGS_WRAPPERS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from xltools import addin
    from xltools.addin_build.udfs import udf_functions

    def XLT_DEMO(text, region=None):  # noqa: N802 - an optional argument, as in the subprocess
        pass

    ours = udf_module([*udf_functions(), XLT_DEMO]).decode("ascii")
    header, _, wrappers = ours.partition("Function ")
    # xlwings walks dir(module): XLT_DEMO, XLT_TARGETS, XLT_UNIT; ours keeps the order given
    by_name = lambda text: sorted(re.split(r"(?m)^(?=Function )", text.replace("\r\n", "\n"))[1:])  # noqa: E731
    assert by_name("Function " + wrappers) == by_name(done.stdout)
    assert "Function XLT_DEMO(text, Optional region)" in done.stdout
    assert header.split("\r\n")[0] == f'Attribute VB_Name = "{UDF_MODULE}"'
    assert "#Const App = \"Microsoft Excel\"" in header
    assert set(addin.UDFS) == {"XLT_UNIT", "XLT_TARGETS"}


def test_udf_module_wraps_each_worksheet_function_with_its_arguments(xlam):
    text = olevba_modules(xlam)[UDF_MODULE]
    assert text == udf_module().decode("ascii") and text.isascii()
    declared = dict(re.findall(r"(?m)^Function (\w+)\((.*)\)\r$", text))
    assert declared == {"XLT_UNIT": "cell, region", "XLT_TARGETS": "cell"}
    for name, args in declared.items():
        assert f'{name} = XLPy.CallUDF("xltools.addin", "{name}", Array({args}), ActiveWorkbook, ' \
               "Application.Caller)" in text
        assert f"    {name} = Err.Description\r\nEnd Function" in text
    # the functions the wrappers name are the ones Python calls
    from xltools import addin

    for name in declared:
        assert callable(getattr(addin, name))
    # and the add-in's xlwings module has the XLPy the wrappers call
    assert re.search(r"(?m)^Function XLPy\(\)", olevba_modules(xlam)["xlwings"])


def test_udf_module_refuses_arguments_vba_cannot_take():
    def XLT_MANY(*cells):  # noqa: N802
        pass

    with pytest.raises(AddinBuildError) as err:
        udf_module([XLT_MANY])
    assert "XLT_MANY" in err.value.message_zh


# --- the compressor ----------------------------------------------------------------------------------------

def oletools_decompress(container: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(container)))


@pytest.mark.parametrize("size", [0, 1, 3, 4095, 4096, 4097, 8192, 8193, 12288 + 1000])
@pytest.mark.parametrize("kind", ["random", "repetitive"])
def test_compressor_round_trips_edge_sizes(size, kind):
    rng = random.Random(size)
    if kind == "random":
        data = rng.randbytes(size)
    else:
        data = bytes(rng.choice(b"ab \r\n") for _ in range(size))
    packed = ovba.compress(data)
    assert oletools_decompress(packed) == data
    assert ovba.decompress(packed) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=9000) | st.text(alphabet="Sub End \r\n'()xl", max_size=9000).map(str.encode))
def test_compressor_round_trips_any_data(data):
    assert oletools_decompress(ovba.compress(data)) == data


def xlwings_vba_sources():
    folder = find_sources().xlwings_bas.parent
    return sorted(p for p in folder.rglob("*") if p.suffix in (".bas", ".cls"))


def test_compressor_round_trips_every_xlwings_module():
    paths = xlwings_vba_sources()
    assert len(paths) >= 10
    for path in paths:
        data = path.read_bytes()
        packed = ovba.compress(data)
        assert oletools_decompress(packed) == data, path.name
        assert len(packed) < len(data), path.name  # VBA text compresses: no raw chunks


def test_decompressor_reads_what_excel_wrote():
    with olefile.OleFileIO(template_vba()) as ole:
        containers = [ole.openstream("VBA/dir").read(), ole.openstream("VBA/xlwings").read(),
                      ole.openstream("VBA/RibbonMyAddin").read()[0x3D2:]]  # after its p-code (MODULEOFFSET)
    for data in containers:
        assert ovba.decompress(data) == oletools_decompress(data)
    assert b"Sub RunMain(control As IRibbonControl)" in ovba.decompress(containers[2])


# --- dir, PROJECT, PROJECTwm -------------------------------------------------------------------------------

def test_dir_project_and_projectwm_list_the_same_modules(vba):
    records = ovba.parse_records(oletools_decompress(vba["VBA/dir"]))
    _, _, modules = ovba.split_dir(records)
    from_dir = [ovba.module_name(r) for r in modules]
    count = next(payload for rid, payload in records if rid == ovba.MODULES_COUNT)
    project = vba["PROJECT"].decode("cp1252")
    from_project = [value.split("/")[0] for _, value in ovba.project_modules(project)]
    from_wm = ovba.projectwm_names(vba["PROJECTwm"])
    streams = [p.split("/")[1] for p in vba if p.startswith("VBA/") and p not in ("VBA/dir", "VBA/_VBA_PROJECT")]
    assert from_dir == from_project == from_wm == ["ThisWorkbook", "Dictionary", "Sheet2", "xlwings",
                                                    "xltools_ribbon", "xltools_udfs", "xltools_desk"]
    assert sorted(streams) == sorted(from_dir)
    assert struct.unpack("<H", count)[0] == len(from_dir)
    for records_of_one in modules:  # the stream name record names the stream
        name = ovba.module_name(records_of_one)
        assert dict(records_of_one)[0x001A].decode() == name
        assert dict(records_of_one)[0x0032].decode("utf-16-le") == name
    assert ("Module", "xltools_ribbon") in ovba.project_modules(project)
    assert ("Module", "xlwings") in ovba.project_modules(project)
    assert ("Module", "xltools_udfs") in ovba.project_modules(project)
    assert ("Module", "xltools_desk") in ovba.project_modules(project)
    project_name = next(payload for rid, payload in records if rid == ovba.PROJECT_NAME).decode()
    assert project_name == "xltools" and 'Name="xltools"' in project.split("\r\n")
    assert "RibbonMyAddin" not in project and "xltools_ribbon=0, 0, 0, 0, C" in project
    # the protection state and project id are the template's
    template = olefile.OleFileIO(template_vba()).openstream("PROJECT").read().decode("cp1252")
    for key in ("ID=", "CMG=", "DPB=", "GC="):
        assert [x for x in project.split("\r\n") if x.startswith(key)] == \
               [x for x in template.split("\r\n") if x.startswith(key)]


def test_dir_records_round_trip_through_our_parser():
    with olefile.OleFileIO(template_vba()) as ole:
        data = oletools_decompress(ole.openstream("VBA/dir").read())
    assert ovba.write_records(ovba.parse_records(data)) == data


# --- the ribbon --------------------------------------------------------------------------------------------

def ribbon(xlam):
    with zipfile.ZipFile(xlam) as package:
        return ET.fromstring(package.read("customUI/customUI14.xml")), package.read("_rels/.rels").decode()


def test_ribbon_has_the_contract_tab_groups_and_buttons(xlam):
    root, rels = ribbon(xlam)
    assert 'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" ' \
           'Target="customUI/customUI14.xml"' in rels
    tab = root.find(f"{CUI}ribbon/{CUI}tabs/{CUI}tab")
    assert tab.get("label") == "台账工具"
    groups = tab.findall(f"{CUI}group")
    assert [g.get("label") for g in groups] == ["台账", "校验", "分发与汇总", "名录"]
    buttons = [b for g in groups for b in g.findall(f"{CUI}button")]
    assert {b.get("tag"): b.get("onAction").split(".")[-1] for b in buttons} == CONTRACT
    assert len({b.get("id") for b in buttons}) == 12
    for b in buttons:
        assert b.get("imageMso") and re.search(r"[\u4e00-\u9fff]", b.get("label") + b.get("supertip"))
        assert b.get("screentip")
    large = {b.get("tag") for b in buttons if b.get("size") == "large"}
    assert {"plan_to_ledger", "check_units", "consolidate"} <= large


def test_every_onaction_names_a_sub_taking_a_ribbon_control(xlam):
    root, _ = ribbon(xlam)
    modules = olevba_modules(xlam)
    for button in root.iter(f"{CUI}button"):
        module, sub = button.get("onAction").split(".")
        assert re.search(rf"^Sub {sub}\(control As IRibbonControl\)\r$", modules[module], re.M), sub


def test_every_button_tag_is_a_handler():
    if importlib.util.find_spec("xltools.addin") is None:
        pytest.skip("xltools.addin (the handlers) is not there yet; the tags are checked against the contract above")
    from xltools.addin import HANDLERS

    root = ET.parse(MACROS / "customUI14.xml").getroot()
    assert {b.get("tag") for b in root.iter(f"{CUI}button")} == set(HANDLERS)


# --- the package -------------------------------------------------------------------------------------------

def test_build_is_reproducible(tmp_path, xlam):
    again = build(tmp_path / "again" / "xltools.xlam")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(xlam.read_bytes()).digest()
    with zipfile.ZipFile(again) as package:
        infos = package.infolist()
    assert [i.filename for i in infos][:2] == ["[Content_Types].xml", "_rels/.rels"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_package_has_the_config_sheet_and_no_template_leftovers(xlam):
    with zipfile.ZipFile(xlam) as package:
        names = package.namelist()
        workbook = package.read("xl/workbook.xml").decode()
        sheet = ET.fromstring(package.read("xl/worksheets/sheet1.xml"))
        types = package.read("[Content_Types].xml").decode()
    assert "customUI/customUI.xml" not in names and "xl/sharedStrings.xml" not in names
    assert '<sheet name="xltools.conf"' in workbook and "felix" not in workbook
    assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in types and "sharedStrings" not in types
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rows = {}
    for row in sheet.iter(f"{ns}row"):
        key, value = row.findall(f"{ns}c")
        text = value.find(f"{ns}is/{ns}t") if value.get("t") == "inlineStr" else value.find(f"{ns}v")
        rows[key.find(f"{ns}is/{ns}t").text] = (value.get("t"), text.text)
    # no INTERPRETER_WIN here: even an empty key in the sheet would hide the one `addin install` writes
    assert rows == {"USE UDF SERVER": ("b", "0"), "SHOW CONSOLE": ("b", "0"), "DEBUG UDFS": ("b", "0"),
                    "ADD_WORKBOOK_TO_PYTHONPATH": ("inlineStr", "false"), "UDF MODULES": ("inlineStr", "xltools.addin")}


def test_cfb_opens_in_olefile_and_its_directory_is_a_red_black_tree(vba, xlam):
    with zipfile.ZipFile(xlam) as package:
        data = package.read("xl/vbaProject.bin")
    check_red_black(data)
    assert len(data) % 512 == 0


def test_cfb_writer_with_many_siblings_and_both_stream_sizes():
    streams = {f"S{i:02d}": bytes([i]) * (i * 150) for i in range(1, 40)}  # 150 … 5850 bytes: mini and regular
    streams |= {"Dir/a": b"x" * 4095, "Dir/bb": b"y" * 4096, "Dir/Sub/c": b"z" * 70}
    data = cfb.write(streams)
    with olefile.OleFileIO(data) as ole:
        assert {"/".join(p): ole.openstream(p).read() for p in ole.listdir()} == streams
    check_red_black(data)
    assert cfb.write(streams) == data


def check_red_black(data: bytes):
    with olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT) as ole:  # strict: any defect raises
        entries = ole.direntries
        seen = set()

        def walk(sid):
            """Check the sibling tree under `sid`; return its black height."""
            if sid == cfb.NOSTREAM:
                return 1
            assert sid not in seen
            seen.add(sid)
            e = entries[sid]
            for child_sid in (e.sid_left, e.sid_right):
                if e.color == cfb.RED and child_sid != cfb.NOSTREAM:
                    assert entries[child_sid].color == cfb.BLACK, "red node with a red child"
            if e.sid_left != cfb.NOSTREAM:
                assert cfb.name_key(entries[e.sid_left].name) < cfb.name_key(e.name)
            if e.sid_right != cfb.NOSTREAM:
                assert cfb.name_key(entries[e.sid_right].name) > cfb.name_key(e.name)
            left, right = walk(e.sid_left), walk(e.sid_right)
            assert left == right, "unequal black heights"
            if e.sid_child != cfb.NOSTREAM:
                storage(e.sid_child)
            return left + (e.color == cfb.BLACK)

        def storage(child):
            assert entries[child].color == cfb.BLACK, "a tree's root is black"
            keys = []

            def inorder(sid):
                if sid != cfb.NOSTREAM:
                    inorder(entries[sid].sid_left)
                    keys.append(cfb.name_key(entries[sid].name))
                    inorder(entries[sid].sid_right)
            inorder(child)
            assert keys == sorted(keys)
            walk(child)

        storage(entries[0].sid_child)
        assert len(seen) == len([e for e in entries[1:] if e is not None])


# --- LibreOffice -------------------------------------------------------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


def _has_uno() -> bool:
    if not shutil.which("soffice") or not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _has_uno(), reason="LibreOffice with Python UNO is not installed")
def test_libreoffice_lists_the_modules_of_the_addin_retyped_as_xlsm(xlam, tmp_path):
    xlsm = tmp_path / "xltools.xlsm"
    with zipfile.ZipFile(xlam) as src, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"ms-excel.addin.macroEnabled.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
            dst.writestr(info.filename, data)
    done = subprocess.run([SYSTEM_PYTHON, str(ROOT / "tests" / "lo_vba_modules.py"), str(xlsm)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    libraries = json.loads(done.stdout)
    modules = libraries["xltools"]  # LibreOffice names the library after the VBA project
    assert sorted(modules) == ["Dictionary", "Sheet2", "ThisWorkbook", "xltools_desk", "xltools_ribbon", "xltools_udfs",
                              "xlwings"]
    assert "Sub OnButtonFolder(control As IRibbonControl)" in modules["xltools_ribbon"]
    assert 'Public Const PROJECT_NAME As String = "xltools"' in modules["xlwings"]
    # whole sources, line for line: LibreOffice drops the Attribute lines and adds two of its own
    for name, source in (("xlwings", build_module.xlwings_module(find_sources())),
                         ("xltools_ribbon", (MACROS / "xltools_ribbon.bas").read_bytes()),
                         ("xltools_udfs", udf_module()),
                         ("xltools_desk", (MACROS / "xltools_desk.bas").read_bytes())):
        expected = [line for line in source.decode("cp1252").split("\r\n") if not line.startswith("Attribute ")]
        loaded = modules[name].split("\n")
        assert loaded[:2] == ["Rem Attribute VBA_ModuleType=VBAModule", "Option VBASupport 1"]
        assert "\n".join(loaded[2:]).rstrip("\n") == "\n".join(expected).rstrip("\n"), name


# --- errors ------------------------------------------------------------------------------------------------

def test_build_without_xlwings_says_what_to_install(monkeypatch):
    monkeypatch.setattr(build_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AddinBuildError) as err:
        find_sources()
    assert "xltools[addin]" in err.value.message_zh and "未安装 xlwings" in err.value.message_zh


def test_build_refuses_an_xlwings_module_of_another_version(tmp_path):
    sources = find_sources()
    other = build_module.Sources(sources.template, sources.xlwings_bas, "0.30.0", sources.ribbon_bas,
                                 sources.ribbon_xml)
    with pytest.raises(AddinBuildError) as err:
        build(tmp_path / "x.xlam", other)
    assert "版本不一致" in err.value.message_zh
    assert not (tmp_path / "x.xlam").exists()


# --- install -----------------------------------------------------------------------------------------------

def test_addin_install_dry_run_shows_the_steps_and_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["addin", "install", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "将执行以下步骤（--dry-run，未做任何改动）："
    assert "需要 Windows 上的 Microsoft Excel" in lines[1]
    assert r"%APPDATA%\Microsoft\Excel\XLSTART\xltools.xlam" in result.output
    assert r"%USERPROFILE%\.xltools\xltools.conf：INTERPRETER_WIN = <Python 环境>\Scripts\pythonw.exe" in result.output
    assert f"xlwings64-{find_sources().xlwings_version}.dll" in result.output
    assert list(tmp_path.iterdir()) == []


def test_addin_install_off_windows_says_excel_is_needed():
    result = CliRunner().invoke(cli, ["addin", "install"])
    assert result.exit_code == 2
    assert "需要 Windows 上的 Microsoft Excel" in result.output


def test_addin_build_cli_writes_the_same_add_in(tmp_path, xlam):
    result = CliRunner().invoke(cli, ["addin", "build", "-o", str(tmp_path / "out.xlam")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.xlam").read_bytes() == xlam.read_bytes()


def fake_windows(tmp_path, with_dll=True):
    env_dir = tmp_path / "环境"  # a Chinese path: the config must be written in the ANSI code page (GBK here)
    (env_dir / "Scripts").mkdir(parents=True)
    (env_dir / "Scripts" / "python.exe").write_bytes(b"")
    (env_dir / "Scripts" / "pythonw.exe").write_bytes(b"")
    if with_dll:
        (env_dir / f"xlwings64-{find_sources().xlwings_version}.dll").write_bytes(b"")  # a venv: one level up
    env = {"APPDATA": str(tmp_path / "AppData"), "USERPROFILE": str(tmp_path / "home")}
    return plan(None, windows=True, env=env, python=env_dir / "Scripts" / "python.exe"), env_dir


def test_install_copies_the_add_in_and_writes_the_interpreter(tmp_path, xlam):
    steps, env_dir = fake_windows(tmp_path)
    steps.xlam = xlam
    done = install(steps, config_encoding="gbk")
    target = tmp_path / "AppData" / "Microsoft" / "Excel" / "XLSTART" / "xltools.xlam"
    assert target.read_bytes() == xlam.read_bytes()
    config = (tmp_path / "home" / ".xltools" / "xltools.conf").read_bytes().decode("gbk")
    assert config == f'"INTERPRETER_WIN","{env_dir / "Scripts" / "pythonw.exe"}"\r\n'
    assert done[-1] == "完成。请打开 Excel，功能区中应出现“台账工具”选项卡。"


def test_install_without_the_xlwings_dll_changes_nothing(tmp_path, xlam):
    steps, _ = fake_windows(tmp_path, with_dll=False)
    steps.xlam = xlam
    with pytest.raises(AddinInstallError) as err:
        install(steps, config_encoding="gbk")
    assert "xlwings64-" in err.value.message_zh and "xltools[addin]" in err.value.message_zh
    assert not (tmp_path / "AppData").exists() and not (tmp_path / "home").exists()


def test_install_refuses_an_interpreter_path_excel_cannot_read(tmp_path, xlam):
    steps, _ = fake_windows(tmp_path)
    steps.xlam = xlam
    with pytest.raises(AddinInstallError) as err:
        install(steps, config_encoding="cp1252")  # a western code page cannot name 环境
    assert "无法读取的字符" in err.value.message_zh
    assert not (tmp_path / "AppData").exists()


def test_building_never_imports_xlwings(tmp_path):
    code = ("import sys; from xltools.addin_build import build; from xltools.cli import cli; "
            f"build(r'{tmp_path / 'x.xlam'}'); assert 'xlwings' not in sys.modules, 'xlwings imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_install_without_a_user_profile_changes_nothing(tmp_path, xlam):
    steps, env_dir = fake_windows(tmp_path)
    steps = plan(xlam, windows=True, env={}, python=env_dir / "Scripts" / "python.exe")
    with pytest.raises(AddinInstallError) as err:
        install(steps, config_encoding="gbk")
    assert "USERPROFILE" in err.value.message_zh


# --- doctor ------------------------------------------------------------------------------------------------

def doctor_tree(tmp_path, xlam, monkeypatch):
    """A Windows install faked under tmp_path (`addin install` itself, config in UTF-8 as the doctor reads it off
    Windows), whose pythonw.exe runs this Python; the CLI sees it as this user's, on Windows."""
    from xltools.addin_build import doctor

    steps, env_dir = fake_windows(tmp_path)
    steps.xlam = xlam
    interpreter = env_dir / "Scripts" / "pythonw.exe"
    interpreter.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    interpreter.chmod(0o755)
    install(steps, config_encoding="utf-8")
    env = {"APPDATA": str(tmp_path / "AppData"), "USERPROFILE": str(tmp_path / "home")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(doctor, "this_is_windows", lambda: True)
    return interpreter, env, tmp_path / "home" / ".xltools" / "xltools.conf"


def doctor(*args):
    result = CliRunner().invoke(cli, ["addin", "doctor", *args])
    return result.exit_code, result.output.splitlines()


def test_doctor_on_a_good_install_passes_and_prints_the_command_excel_starts(tmp_path, xlam, monkeypatch):
    import xltools

    interpreter, _env, config = doctor_tree(tmp_path, xlam, monkeypatch)
    assert config.read_bytes().endswith(b'pythonw.exe"\r\n')  # what the installer wrote
    code, lines = doctor()
    target = tmp_path / "AppData" / "Microsoft" / "Excel" / "XLSTART" / "xltools.xlam"
    version = find_sources().xlwings_version
    assert lines[:10] == [
        "台账工具加载项检查（xltools addin doctor）",
        f"[通过] 加载项已安装：{target}",
        "[通过] 用户文件夹（APPDATA、USERPROFILE）在本机磁盘上。",
        f"[通过] 配置文件：{config}",
        "[通过] 配置文件为 Windows 换行（CRLF）。",
        f"[通过] 配置的 Python（INTERPRETER_WIN）：{interpreter}",
        f"[通过] Python 存在：{interpreter}",
        f"[通过] Python 能导入台账工具：xltools {xltools.__version__}，xlwings {version}。",
        f"[通过] 加载项中的 xlwings 模块与 Python 中的 xlwings 同为 {version} 版。",
        f"[通过] 已找到 {interpreter.parent.parent / f'xlwings64-{version}.dll'}（工作表函数需要）。",
    ]
    assert code == 0
    command = lines[lines.index("点击按钮时 Excel 启动的命令（以“帮助”按钮为例；<…> 处在点击时填入）：") + 1]
    assert command.startswith(f'  cmd.exe /C "{interpreter}" -B -c "import xlwings.utils;xlwings.utils.prepare_sys_path('
                              f'\\"false;<工作簿完整路径>;{target};;;;\\"); import xltools.addin as a; '
                              "a.dispatch('help')\"  --wb=\"<工作簿名>\" --from_xl=1")
    assert "GUID d4f940ab-401b-4efc-aadc-ad5f3c50688a" in "\n".join(lines)
    assert "Block all Office applications from creating child processes" in "\n".join(lines)
    assert any("xltools serve" in line and "WPS" in line for line in lines)
    assert lines[-1].startswith("结论：未发现问题。")


def test_doctor_fails_a_config_written_with_lf_only(tmp_path, xlam, monkeypatch):
    _interpreter, _env, config = doctor_tree(tmp_path, xlam, monkeypatch)
    config.write_bytes(config.read_bytes().replace(b"\r\n", b"\n"))
    code, lines = doctor()
    assert code == 1
    assert "[失败] 配置文件的换行不是 Windows 的 CRLF（如只有 LF）：Excel 的 VBA 按 CR 分行读取，可能读错。" \
           "请重新运行 xltools addin install。" in lines
    assert lines[-1] == "结论：发现 1 项问题（[失败]），请按提示处理。"


def test_doctor_fails_a_missing_or_broken_interpreter(tmp_path, xlam, monkeypatch):
    interpreter, _env, _config = doctor_tree(tmp_path, xlam, monkeypatch)
    interpreter.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'xltools'\" >&2\nexit 1\n")
    code, lines = doctor()
    assert code == 1
    assert "[失败] Python 无法导入台账工具（import xltools.addin 失败：ModuleNotFoundError: No module named " \
           "'xltools'）。请在该环境中重新安装：pip install \"xltools[addin]\"，再运行 xltools addin install。" in lines
    interpreter.unlink()
    code, lines = doctor()
    assert code == 1
    assert f"[失败] 找不到配置中的 Python：{interpreter}。Python 可能已被移动或卸载，请在安装了 xltools 的 Python 环境中" \
           "重新运行 xltools addin install。" in lines
    assert not any("Python 能导入" in line or "Python 无法导入" in line for line in lines)  # not started


def test_doctor_fails_a_missing_add_in_and_config(tmp_path, monkeypatch):
    from xltools.addin_build import doctor as doctor_module

    for key in ("APPDATA", "USERPROFILE"):
        monkeypatch.setenv(key, str(tmp_path / key))
    monkeypatch.setattr(doctor_module, "this_is_windows", lambda: True)
    code, lines = doctor("--json")
    assert code == 1
    found = json.loads("\n".join(lines))
    assert [(c["name"], c["status"]) for c in found["checks"]] == [
        ("addin-file", "fail"), ("network-share", "ok"), ("config-file", "fail")]
    assert found["checks"][2]["text"].startswith(f"找不到配置文件 {tmp_path / 'USERPROFILE' / '.xltools' / 'xltools.conf'}")
    assert found["ok"] is False and "a.dispatch('help')" in found["command"]


def test_doctor_checks_config_lines_network_shares_and_the_asr_rule(tmp_path, xlam, monkeypatch):
    from xltools.addin_build.doctor import ASR_RULE, diagnose

    interpreter, env, config = doctor_tree(tmp_path, xlam, monkeypatch)
    config.write_bytes(f'"INTERPRETER_WIN",{interpreter}\r\n'.encode())  # unquoted: VBA's Input # reads it wrong
    found = diagnose(windows=True, env=env, encoding="utf-8", registry=lambda key, name: None)
    assert ("config-lines", "fail") in found.flatten() and not found.ok
    assert "第 1 行" in next(c.text for c in found.checks if c.name == "config-lines")
    config.write_bytes(f'"INTERPRETER_WIN","{interpreter}"\r\n'.encode())

    def policy(state):
        return lambda key, name: state if "Policies" in key and name == ASR_RULE else None

    found = diagnose(windows=True, env=env, encoding="utf-8", registry=policy("1"))
    assert found.flatten()[-1] == ("asr-rule", "fail") and not found.ok
    assert "已开启（阻止）：Excel 无法启动 Python，12 个按钮都不会有反应" in found.checks[-1].text
    assert diagnose(windows=True, env=env, encoding="utf-8", registry=policy("2")).ok
    assert diagnose(windows=True, env=env, encoding="utf-8", registry=policy(None)).flatten()[-1] == ("asr-rule", "ok")
    shared = {**env, "APPDATA": r"\\fileserver\users\zhang\AppData\Roaming"}
    found = diagnose(windows=True, env=shared, encoding="utf-8", registry=policy(None))
    assert ("network-share", "warn") in found.flatten() and ("addin-file", "fail") in found.flatten()
    assert r"APPDATA = \\fileserver\users\zhang\AppData\Roaming" in found.checks[1].text


def test_doctor_command_line_is_what_xlwings_runpython_runs():
    """Written out by hand from ExecuteWindows in xlwings_custom_addin.bas (USE UDF SERVER off), with the add-in's
    ADD_WORKBOOK_TO_PYTHONPATH false: drive and cd first, the PYTHONPATH fields with backslashes doubled."""
    from xltools.addin_build.doctor import command_line

    python = r"C:\Users\张三\AppData\Local\xltools\env\Scripts\pythonw.exe"
    addin = r"C:\Users\张三\AppData\Roaming\Microsoft\Excel\XLSTART\xltools.xlam"
    assert command_line(python, addin, "import xltools.addin as a; a.dispatch('check_units')",
                        temp=r"C:\Users\张三\AppData\Local\Temp") == (
        r'cmd.exe /C C: & cd "C:\Users\张三\AppData\Local\xltools\env\Scripts" & '
        r'"C:\Users\张三\AppData\Local\xltools\env\Scripts\pythonw.exe" -B -c "import xlwings.utils;'
        r'xlwings.utils.prepare_sys_path(\"false;<工作簿完整路径>;'
        r'C:\\Users\\张三\\AppData\\Roaming\\Microsoft\\Excel\\XLSTART\\xltools.xlam;;;;\"); '
        r"import xltools.addin as a; a.dispatch('check_units')"
        r'"  --wb="<工作簿名>" --from_xl=1 --app="<Excel 文件夹>\Microsoft Excel" --hwnd="<窗口号>" '
        r'2> "C:\Users\张三\AppData\Local\Temp\xlwings-<GUID>.log" ')
    unc = command_line(r"\\server\python\pythonw.exe", addin, "x")
    assert unc.startswith(r'cmd.exe /C pushd "\\server\python" & "\\server\python\pythonw.exe" -B -c')


def test_doctor_off_windows_says_excel_on_windows_is_needed():
    code, lines = doctor()
    assert code == 1 and lines[1].startswith("[失败] 本机不是 Windows")
    assert any("GUID d4f940ab-401b-4efc-aadc-ad5f3c50688a" in line for line in lines)
