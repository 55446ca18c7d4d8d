"""Issue 24: the Excel add-in's desk route — the buttons ask `xltools serve` over HTTP instead of starting Python.

Where security software stops Office from starting programs, RunPython cannot start Python. With DESK_URL in the
config (`xltools addin install --desk URL`) the ribbon callbacks call `DeskButton` (macros/xltools_desk.bas), a VBA
port of the WPS add-in's main.js. No Excel here: the module is read (every button and every patch field handled,
every callback still guarded) and its pure functions — JSON, colours, column letters, UTF-8 — run in LibreOffice
Basic with VBA support (`tests/lo_basic_run.py`, the system python3's uno). The Excel object-model half (reading
the workbook, applying the patch, ServerXMLHTTP) has not run anywhere: the README's click-through lists it.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ZHANGQIU
from openpyxl import load_workbook

from xltools import fill
from xltools.cli import cli
from xltools.patch import Patch, Table

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros"
DESK_BAS = MACROS / "xltools_desk.bas"
SYSTEM_PYTHON = "/usr/bin/python3"
# main.js (and so this port) styles no column by `centred`; every other field of Table is applied
UNUSED_TABLE_FIELDS = {"centred"}


def desk_source() -> str:
    return DESK_BAS.read_bytes().decode("ascii")


def tags(constant: str) -> set[str]:
    found = re.search(rf'Private Const {constant} As String = "([^"]*)"', desk_source())
    return set(found[1].split())


# --- static ------------------------------------------------------------------------------------------------

def test_desk_module_is_ascii_crlf_with_chinese_from_hex():
    data = DESK_BAS.read_bytes()
    text = data.decode("ascii")
    assert b"\n" not in data.replace(b"\r\n", b"") and data.endswith(b"\r\n")
    assert text.startswith('Attribute VB_Name = "xltools_desk"\r\n')
    assert "\r\nOption Explicit\r\n" in text
    messages = [bytes.fromhex(h).decode("utf-16-be") for h in re.findall(r'FromHex\("([0-9A-F]+)"\)', text)]
    assert "台账工具" in messages and "仿宋" in messages and "黑体" in messages
    assert "）。请确认本机已运行 xltools serve 后重试。" in messages  # the desk cannot be reached
    assert "工作簿结构受保护，无法添加“问题清单”。请先撤销保护（审阅 → 保护工作簿）后再点击。" in messages
    # no child process: HTTP through ServerXMLHTTP, the add-in's own header
    assert 'CreateObject("MSXML2.ServerXMLHTTP.6.0")' in text and 'setRequestHeader "X-Xltools", "excel"' in text
    code = "\n".join(line.split(" '")[0] for line in text.splitlines() if not line.lstrip().startswith("'"))
    assert not re.search(r"\bShell\b|WScript|RunPython", code)
    assert re.search(r"(?m)^Public Sub DeskButton\(tag As String, chosen As String\)\r$", text)


def test_desk_button_handles_every_button_of_the_add_in():
    from xltools.addin import HANDLERS
    from xltools.buttons import ACTIONS
    from xltools.desk.ribbon import FILE_BUTTONS

    workbook, files = tags("WORKBOOK_TAGS"), tags("FILE_TAGS")
    assert workbook == set(ACTIONS) and files == set(FILE_BUTTONS)
    assert workbook | files == set(HANDLERS) and not workbook & files
    text = desk_source()
    assert '"/api/workbook/" & tag' in text and '"/api/ribbon/" & tag' in text and '"/api/ribbon/copy_path"' in text


def test_the_applier_handles_every_field_of_the_patch_and_its_tables():
    text = desk_source()
    for field in dataclasses.fields(Patch):
        assert f'Member(patch, "{field.name}")' in text, field.name
    for field in dataclasses.fields(Table):
        if field.name not in UNUSED_TABLE_FIELDS:
            assert f'Member(table, "{field.name}")' in text, field.name
    # the order main.js applies them in
    order = [text.index(f'Set items = Member(patch, "{name}")') for name in ("restore", "paint", "writes", "delete",
                                                                             "tables")]
    assert order == sorted(order) and text.index('Member(patch, "activate")') > order[-1]
    # every check before the first write
    apply = text[text.index("Private Sub ApplyPatch"):]
    assert apply.index("Refusal(book, patch)") < apply.index("ClearComments")
    refusal = text[text.index("Private Function Refusal"):text.index("Private Sub AddThreaded")]
    for check in ("ProtectContents", ".Locked = True", "ProtectStructure", "HasThreaded("):
        assert check in refusal, check


def test_the_callbacks_take_the_desk_route_when_configured():
    ribbon = (MACROS / "xltools_ribbon.bas").read_bytes().decode("ascii")
    from test_addin_build import callback_problems, vba_procedures

    assert callback_problems(ribbon) == []
    procedures = vba_procedures(ribbon)
    on_button = procedures["OnButton"][2]
    assert on_button.index('If ViaDesk(control.Tag, "") Then Exit Sub') < on_button.index(
        "If Not InterpreterReady() Then Exit Sub")
    with_path = procedures["RunWithPath"][2]
    assert with_path[with_path.index("If ViaDesk(control.Tag, chosen) Then Exit Sub") + 1].startswith("RunPython")
    assert with_path[1] == 'If DeskUrl() = "" Then'  # no interpreter check on the desk route; the picker stays
    assert procedures["ViaDesk"][2] == ['If DeskUrl() = "" Then Exit Function', "DeskButton tag, chosen",
                                        "ViaDesk = True"]
    desk = vba_procedures(desk_source())
    assert 'url = Trim$(CStr(GetConfig("DESK_URL", "")))' in desk["DeskUrl"][2]  # xlwings' reader of xltools.conf


# --- executed in LibreOffice Basic ---------------------------------------------------------------------------

def _has_uno() -> bool:
    if not shutil.which("soffice") or not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


needs_libreoffice = pytest.mark.skipif(not _has_uno(), reason="LibreOffice with Python UNO is not installed")

# Test helpers, a second module beside the desk module; every result goes back to Python as text.
HELPERS = r'''
Function RoundTrip(s As String) As String
    RoundTrip = JsonEncode(JsonParse(s))
End Function

Function Refused(s As String) As String
    Dim v As Variant
    On Error GoTo Failed
    v = JsonEncode(JsonParse(s))
    Refused = "parsed: " & v
    Exit Function
Failed:
    Refused = "error " & Err.Number
End Function

Function Columns() As String
    Dim n As Variant, out As String
    For Each n In Array(1, 2, 26, 27, 52, 53, 702, 703, 16384)
        out = out & ColumnLetter(CLng(n)) & " "
    Next n
    Columns = Trim$(out)
End Function

Function Bgr(h As String) As Long
    Bgr = ColorFromHex(h)
End Function

Function Rgb(c As Long) As String
    Rgb = ColorHex(c)
End Function

Function SampleRows() As String
    Dim v(1 To 2, 1 To 4) As Variant
    v(1, 1) = "a ""q"" \ /" & Chr(10) & Chr(9) & ChrW(21488) & ChrW(36134) & ChrW(55357) & ChrW(56832)
    v(1, 2) = 0.5
    v(1, 3) = -1.25
    v(1, 4) = True
    v(2, 1) = Empty
    v(2, 2) = 45000
    v(2, 3) = 1E+20
    v(2, 4) = False
    SampleRows = RowsJson(v)
End Function

Function OneCell() As String
    OneCell = RowsJson("=1+1")
End Function

Function Utf8(h As String) As String
    Dim b() As Byte, i As Long
    ReDim b(0 To Len(h) \ 2 - 1)
    For i = 0 To Len(h) \ 2 - 1
        b(i) = HexValue(Mid$(h, 2 * i + 1, 2))
    Next i
    Utf8 = JsonEncode(Utf8Decode(b))
End Function

Function Lookup(s As String) As String
    Dim p As Variant
    Set p = JsonParse(s)
    Lookup = Member(At(Member(p, "tables"), 1), "name") & "|" & IsNull(Member(p, "activate")) & "|" _
             & IsNull(Member(p, "missing")) & "|" & Member(p, "tables").Count
End Function
'''


def run_basic(calls: list, tmp_path: Path) -> list:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"modules": {"xltools_desk": desk_source(), "xltools_desk_test": HELPERS},
                               "calls": calls}), encoding="utf-8")
    done = subprocess.run([SYSTEM_PYTHON, str(ROOT / "tests" / "lo_basic_run.py"), str(job)], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert all("error" not in r for r in results), results
    return [r["result"] for r in results]


def _helper(name: str, *args) -> list:
    return ["xltools_desk_test", name, list(args)]


def _ledger_patch(tmp_path: Path) -> dict:
    """校验单位名称 on a ledger filled from the 章丘区 seed plan, a unit name made wrong: the desk's answer."""
    from xltools import buttons
    from xltools.units import load_directory

    path = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, path)
    wb = load_workbook(path)
    ws = wb["工作台账"]
    cell = next(c for c in ws["D"] if c.value == "区发展和改革局")
    ws[f"D{cell.row + 1}"].value = "区宇宙开发局"
    wb.save(path)
    return buttons.check_units(buttons.file_snapshot(path), load_directory()).to_dict()


@needs_libreoffice
def test_basic_parses_the_desks_patch_and_encodes_json_as_python_reads_it(tmp_path):
    patch = _ledger_patch(tmp_path)
    assert patch["paint"] and patch["tables"] and patch["tables"][0]["links"]  # a patch with every kind of part
    answer = json.dumps(patch, ensure_ascii=False)  # the desk answers UTF-8, not \u escapes
    tricky = json.dumps({"s": "引号\"、反斜杠\\、换行\n、制表\t、😀、/", "n": [0, -0.5, 1.5e-07, 12345678901, 3.25e+21],
                         "b": [True, False, None], "e": {}, "l": [], "nested": [[[]], [{"a": {"b": [1]}}]],
                         "Key": 1, "key": 2}, ensure_ascii=True)
    results = run_basic([_helper("RoundTrip", answer), _helper("RoundTrip", tricky),
                         _helper("RoundTrip", " [ 1 , \"x\" ] "), _helper("Lookup", answer), _helper("Columns"), _helper("Bgr", "#FFC7CE"),
                         _helper("Bgr", "#0563c1"), _helper("Rgb", 0xCEC7FF), _helper("SampleRows"),
                         _helper("OneCell"), _helper("Utf8", "台账😀é".encode().hex())], tmp_path)
    again, tricky_again, spaced, lookup, columns, bgr, bgr2, rgb, rows, one, utf8 = results
    assert again.isascii() and tricky_again.isascii()  # every non-ASCII character as \uXXXX
    assert json.loads(again) == patch  # the same structure, key order kept
    assert list(json.loads(again)) == list(patch)
    assert json.loads(tricky_again) == json.loads(tricky)  # names differing in case stay apart
    assert json.loads(spaced) == [1, "x"]
    assert patch["activate"] == "问题清单"
    assert lookup == f"{patch['tables'][0]['name']}|False|True|{len(patch['tables'])}"
    assert columns == "A B Z AA AZ BA ZZ AAA XFD"
    assert (bgr, bgr2, rgb) == (0xCEC7FF, 0xC16305, "#FFC7CE")
    assert json.loads(rows) == [["a \"q\" \\ /\n\t台账😀", 0.5, -1.25, True], ["", 45000, 1e20, False]]
    assert json.loads(one) == [["=1+1"]]
    assert json.loads(utf8) == "台账😀é"


@needs_libreoffice
def test_basic_refuses_malformed_json(tmp_path):
    texts = ('{"a":', "[1 2]", '"open', '{"a" 1}', "[1,]x", "", "[true]")
    assert run_basic([_helper("Refused", text) for text in texts], tmp_path) == ["error 5"] * 6 + ["parsed: [true]"]


# --- install and doctor --------------------------------------------------------------------------------------

def test_install_with_desk_writes_the_desk_line_with_crlf(tmp_path):
    pytest.importorskip("xlwings")
    from test_addin_build import fake_windows

    from xltools.addin_build import build
    from xltools.addin_build.install import AddinInstallError, install, plan

    steps, env_dir = fake_windows(tmp_path)
    env = {"APPDATA": str(tmp_path / "AppData"), "USERPROFILE": str(tmp_path / "home")}
    steps = plan(build(tmp_path / "xltools.xlam"), windows=True, env=env, python=env_dir / "Scripts" / "python.exe",
                 desk="http://127.0.0.1:8765/")
    done = install(steps, config_encoding="gbk")
    config = (tmp_path / "home" / ".xltools" / "xltools.conf").read_bytes().decode("gbk")
    assert config == (f'"INTERPRETER_WIN","{env_dir / "Scripts" / "pythonw.exe"}"\r\n'
                      '"DESK_URL","http://127.0.0.1:8765"\r\n')
    assert any("收发台 http://127.0.0.1:8765" in line and "xltools serve" in line for line in done)
    assert "DESK_URL = http://127.0.0.1:8765" in steps.describe()[2]
    with pytest.raises(AddinInstallError) as err:
        plan(None, windows=True, env=env, desk="127.0.0.1:8765")
    assert "http://127.0.0.1:8765" in err.value.message_zh
    # without --desk nothing changes
    assert '"DESK_URL"' not in plan(None, windows=True, env=env).config_text


def test_addin_install_dry_run_with_desk():
    result = CliRunner().invoke(cli, ["addin", "install", "--dry-run", "--desk", "http://127.0.0.1:8765"])
    assert result.exit_code == 0, result.output
    assert "DESK_URL = http://127.0.0.1:8765（按钮经收发台运行，不启动 Python）" in result.output
    bad = CliRunner().invoke(cli, ["addin", "install", "--dry-run", "--desk", "ftp://x"])
    assert bad.exit_code == 2 and "收发台地址应形如" in bad.output


class _Docs(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/api/docs" else 404)
        self.end_headers()
        self.wfile.write(b"<html>docs</html>")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_desk():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Docs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", server
    server.shutdown()
    server.server_close()


def test_doctor_with_desk_url_checks_the_desk_not_the_blocked_python(tmp_path, monkeypatch, fake_desk):
    pytest.importorskip("xlwings")
    from test_addin_build import doctor_tree

    from xltools.addin_build import build
    from xltools.addin_build.doctor import ASR_RULE, diagnose

    url, server = fake_desk
    interpreter, env, config = doctor_tree(tmp_path, build(tmp_path / "xltools.xlam"), monkeypatch)
    config.write_bytes(config.read_bytes() + f'"DESK_URL","{url}/"\r\n'.encode())
    interpreter.write_text("#!/bin/sh\nexit 1\n")  # Python blocked: only the worksheet functions need it now
    blocked = lambda key, name: "1" if "Policies" in key and name == ASR_RULE else None  # noqa: E731

    found = diagnose(windows=True, env=env, encoding="utf-8", registry=blocked)
    checks = {c.name: c for c in found.checks}
    assert found.ok, found.lines()
    assert checks["route"].text == f"按钮经收发台 {url} 运行（DESK_URL），不由 Excel 启动 Python。"
    assert (checks["desk"].status, checks["desk"].text) == ("ok", f"收发台 {url} 有应答。")
    assert checks["interpreter-runs"].status == "warn" and "按钮经收发台运行，不受影响" in checks["interpreter-runs"].text
    assert checks["asr-rule"].status == "warn" and "已开启（阻止）" in checks["asr-rule"].text
    assert any(line.startswith(f"按钮经收发台 {url} 运行") for line in found.lines())

    server.shutdown()
    server.server_close()
    found = diagnose(windows=True, env=env, encoding="utf-8", registry=blocked)
    desk = next(c for c in found.checks if c.name == "desk")
    assert not found.ok and desk.status == "fail"
    assert desk.text.startswith(f"收发台 {url} 拒绝连接，收发台没有运行：12 个按钮都要经过它。请先在本机运行 xltools serve")

    # the CLI says the same, and without DESK_URL the route is RunPython's
    code, lines = _doctor()
    assert code == 1 and any(line.startswith(f"[失败] 收发台 {url}") for line in lines)
    config.write_bytes(config.read_bytes().split(b'"DESK_URL"')[0])
    found = diagnose(windows=True, env=env, encoding="utf-8", registry=lambda key, name: None)
    assert ("route", "ok") in found.flatten() and "desk" not in dict(found.flatten())
    assert "未设置 DESK_URL" in next(c.text for c in found.checks if c.name == "route")
    assert any("xltools addin install --desk http://127.0.0.1:8765" in line for line in found.lines())


def _doctor():
    result = CliRunner().invoke(cli, ["addin", "doctor"])
    return result.exit_code, result.output.splitlines()
