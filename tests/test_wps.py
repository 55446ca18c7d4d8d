"""Issue 24: the 台账工具 ribbon in WPS 表格 — a WPS 加载项 served by the desk.

What can be tried here without WPS: its ribbon is the Excel add-in's (a test compares them); its JS type-checks
against Kingsoft's declarations of WPS's object model (et-jsapi-declare, installed by npm in tests/wps, not
vendored); and its real code runs in headless Chromium, served by the desk, against a recording stand-in of the
declared objects (tests/wps/standin.js — not WPS: a workbook in plain objects answering as the declarations say),
so that a button's snapshot, the desk's patch and the applied marks can be compared with the Excel add-in's and the
file's. `xltools wps install` is tried against a user folder laid out as WPS's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CITY, ZHANGQIU
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from xltools import fill
from xltools.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WPS = ROOT / "xltools" / "desk" / "wps"
TYPECHECK = ROOT / "tests" / "wps"
EXCEL_NS = "{http://schemas.microsoft.com/office/2009/07/customui}"
WPS_NS = "{http://schemas.microsoft.com/office/2006/01/customui}"
PERSON_NOTE = "王科员：此处待核实"


def _buttons(path: Path, ns: str) -> list[tuple]:
    root = ET.parse(path).getroot()
    tab = root.find(f"{ns}ribbon/{ns}tabs/{ns}tab")
    out = [("tab", tab.get("id"), tab.get("label"))]
    for group in tab.findall(f"{ns}group"):
        out.append(("group", group.get("id"), group.get("label")))
        for b in group.findall(f"{ns}button"):
            out.append(("button", b.get("id"), b.get("tag"), b.get("label"), b.get("size"), b.get("screentip"),
                        b.get("supertip")))
    return out


def test_the_wps_ribbon_has_the_excel_ribbons_buttons_labels_and_tips():
    excel, wps = _buttons(ROOT / "macros" / "customUI14.xml", EXCEL_NS), _buttons(WPS / "ribbon.xml", WPS_NS)
    assert wps == excel and len([b for b in wps if b[0] == "button"]) == 12
    root = ET.parse(WPS / "ribbon.xml").getroot()
    assert root.get("onLoad") == "OnAddinLoad"
    for b in root.iter(f"{WPS_NS}button"):  # every button: the one JS callback, an icon the desk serves
        assert b.get("onAction") == "OnAction" and b.get("getImage") == "GetImage", b.get("id")
        assert (WPS / "icons" / f"{b.get('tag')}.svg").is_file()
    # main.js knows each id's tag as the ribbon does, and the add-in's handlers know each tag
    from xltools.addin import HANDLERS

    text = (WPS / "main.js").read_text(encoding="utf-8")
    table = text[text.index("var XLT_BUTTONS = {"):text.index("};", text.index("var XLT_BUTTONS"))]
    for b in root.iter(f"{WPS_NS}button"):
        assert f'{b.get("id")}: "{b.get("tag")}"' in table and b.get("tag") in HANDLERS


# ------------------------------------------------------------------------------------------------ types


def _typecheck_tools() -> Path:
    """tests/wps with its npm devDependencies (et-jsapi-declare, typescript) installed from its lock file."""
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        pytest.skip("node and npm not installed (.ci/run installs them)")
    if not (TYPECHECK / "node_modules" / "et-jsapi-declare" / "index.d.ts").is_file():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TYPECHECK, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            pytest.skip(f"npm could not install et-jsapi-declare (no registry?): {done.stderr[-300:]}")
    return TYPECHECK / "node_modules" / ".bin" / "tsc"


def test_the_add_ins_js_type_checks_against_wps_declarations(tmp_path):
    tsc = _typecheck_tools()
    done = subprocess.run([str(tsc), "-p", str(TYPECHECK)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # the check is real: a member WPS does not have, or a wrong argument, fails it
    for broken in ("Application.ActiveWorkbook.NoSuchSheets.Count;", "Application.FileDialog('3');"):
        copy = tmp_path / "main.js"
        copy.write_text((WPS / "main.js").read_text(encoding="utf-8") + f"\nfunction xltBroken() {{ {broken} }}\n",
                        encoding="utf-8")
        config = tmp_path / "tsconfig.json"
        settings = json.loads((TYPECHECK / "tsconfig.json").read_text(encoding="utf-8"))
        settings["files"] = [str(TYPECHECK / "node_modules/et-jsapi-declare/index.d.ts"), str(copy)]
        config.write_text(json.dumps(settings), encoding="utf-8")
        failed = subprocess.run([str(tsc), "-p", str(config)], capture_output=True, text=True, timeout=300)
        assert failed.returncode != 0 and "error TS" in failed.stdout, broken


# ------------------------------------------------------------------------------------------------ install


def test_install_writes_the_users_wps_list_and_keeps_other_add_ins(tmp_path):
    home = tmp_path / "home"
    listing = home / ".local/share/Kingsoft/wps/jsaddons/publish.xml"
    listing.parent.mkdir(parents=True)
    listing.write_text('<jsplugins><jspluginonline name="oa" type="wps" url="http://oa.example/addin/"/>'
                       '<jspluginonline name="xltools" type="et" url="http://old.example/wps/"/></jsplugins>',
                       encoding="utf-8")
    result = CliRunner().invoke(cli, ["wps", "install"], env={"HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert "完全退出 WPS" in result.output and "信任" in result.output
    entries = {e.get("name"): e.attrib for e in ET.parse(listing).getroot()}
    assert entries["oa"]["url"] == "http://oa.example/addin/"  # another add-in: kept as it was
    assert entries["xltools"]["url"] == "http://127.0.0.1:8765/wps/" and entries["xltools"]["type"] == "et"
    assert [e.tag for e in ET.parse(listing).getroot()].count("jspluginonline") == 2

    from xltools.wps import install, jsaddons_dir

    windows = jsaddons_dir("win32", {"APPDATA": r"C:\Users\科员\AppData\Roaming"})
    assert str(windows).replace("\\", "/").endswith("AppData/Roaming/kingsoft/wps/jsaddons")
    done = install("http://10.1.2.3:8765", offline=True, jsplugins=True, folder=tmp_path / "jsaddons")
    assert done.listing.name == "jsplugins.xml" and "JSPluginsServer=" in "".join(done.lines)
    entry = ET.parse(done.listing).getroot()[0]
    assert entry.tag == "jsplugin" and entry.get("url") == done.copied.name
    assert (done.copied / "main.js").read_bytes() == (WPS / "main.js").read_bytes()
    assert 'XLTOOLS_DESK = "http://10.1.2.3:8765"' in (done.copied / "config.js").read_text(encoding="utf-8")
    broken = tmp_path / "bad" / "publish.xml"
    broken.parent.mkdir()
    broken.write_text("<jsplugins><unclosed>", encoding="utf-8")
    from xltools.errors import XltoolsError

    with pytest.raises(XltoolsError) as refused:
        install(folder=broken.parent)
    assert "已损坏" in refused.value.message_zh
    assert broken.read_text(encoding="utf-8") == "<jsplugins><unclosed>"  # never replaced


def test_the_offline_package_holds_the_add_in_and_its_list(tmp_path):
    py7zr = pytest.importorskip("py7zr")
    result = CliRunner().invoke(cli, ["wps", "install", "--build", str(tmp_path), "--desk", "http://10.1.2.3:8765"])
    assert result.exit_code == 0, result.output
    package = next(tmp_path.glob("xltools_*.7z"))
    with py7zr.SevenZipFile(package) as archive:
        archive.extractall(tmp_path / "out")
    out = tmp_path / "out"
    folder = next(p for p in out.iterdir() if p.is_dir())
    assert {p.name for p in folder.iterdir()} >= {"ribbon.xml", "index.html", "main.js", "config.js", "icons"}
    assert ET.parse(out / "publish.xml").getroot()[0].get("url") == folder.name
    assert b"\r\n" in (out / "copy.bat").read_bytes() and b"jsaddons" in (out / "copy.bat").read_bytes()


# ------------------------------------------------------------------------------------------------ in Chromium


def _book_json(path: Path, selection: dict | None = None, **extra) -> dict:
    """The stand-in's workbook from a file: values as WPS's Value2 gives them (numbers as numbers), fills, notes."""
    from xltools.marks import _fill_hex

    wb = load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        values = [[v for v in row] for row in ws.iter_rows(values_only=True)]
        fills = {c.coordinate: _fill_hex(c) for row in ws.iter_rows() for c in row if _fill_hex(c)}
        notes = {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment is not None}
        sheets.append({"name": ws.title, "values": values, "fills": fills, "notes": notes,
                       "merged": [str(r) for r in ws.merged_cells.ranges]})
    return {"name": path.name, "fullName": str(path), "path": str(path.parent), "saved": True, "sheets": sheets,
            "selection": selection, **extra}


@pytest.fixture(scope="module")
def wps_page(tmp_path_factory):
    import browser

    if not browser.available():
        pytest.skip("chromium, chromium-driver or selenium not installed")
    from xltools.desk import Desk

    root = tmp_path_factory.mktemp("wps")
    desk = Desk(CITY, root / "archive", ["章丘区"])
    with browser.serving(desk) as url, browser.chromium(root / "downloads") as driver:
        yield driver, url


def _press(driver, url: str, book: dict, button: str) -> dict:
    """The add-in's page as WPS loads it, the stand-in as its Application; one button pressed: what it did."""
    driver.get(url + "/wps/")
    driver.execute_script((TYPECHECK / "standin.js").read_text(encoding="utf-8")
                          + "\nwindow.XLT_STANDIN = xltStandIn(arguments[0]); window.Application = XLT_STANDIN.Application;"
                          + "\nwindow.XLT_ALERTS = []; window.alert = function (t) { XLT_ALERTS.push(t); };"
                          + "\nvar post = xltPost; xltPost = function (p, b, d) { post(p, b, function (s, a) {"
                          + " window.XLT_ANSWER = a; d(s, a); }); };", book)
    driver.execute_script(f"OnAction({{Id: '{button}'}});")
    end = time.time() + 60
    while time.time() < end:
        state = driver.execute_script("return {done: window.XLT_DONE || null, alerts: XLT_ALERTS,"
                                      " answer: window.XLT_ANSWER || null, dump: XLT_STANDIN.dump(),"
                                      " calls: XLT_STANDIN.calls};")
        if state["done"] or (state["alerts"] and not state["answer"]) or (state["answer"] and state["alerts"]):
            return state
        time.sleep(0.1)
    raise AssertionError(f"{button}: nothing happened")


def test_a_wps_button_gets_the_same_patch_as_excel_and_applies_it_as_the_file_does(wps_page, tmp_path):
    """校验单位名称 in the WPS add-in's real code (Chromium, stand-in objects): the snapshot it sends gives the desk
    the same patch the file and the Excel add-in get; applied, the cells' fills and notes, 问题清单 and the hidden
    record are those `validate -o`'s marks make; 清除标注 puts every cell back (a person's fill and note too)."""
    from xltools import buttons, marks
    from xltools.units import load_directory

    driver, url = wps_page
    path = tmp_path / "章丘区_工作台账.xlsx"
    fill(ZHANGQIU, path)
    wb = load_workbook(path)
    ws = wb["工作台账"]
    cell = next(c for c in ws["D"] if c.value == "区发展和改革局")
    person = f"D{cell.row + 1}"
    ws[person].comment = Comment(PERSON_NOTE, "王科员")
    ws[person].fill = PatternFill("solid", fgColor="00B050")
    ws[person].value = "区宇宙开发局"
    wb.save(path)
    book = _book_json(path)

    state = _press(driver, url, book, "xltoolsCheckUnits")
    expected = buttons.check_units(buttons.file_snapshot(path), load_directory())
    assert state["answer"] == json.loads(json.dumps(expected.to_dict()))  # the same patch as the file's
    assert state["alerts"] == [expected.message]
    applied = load_workbook(path)
    marks.apply_patch(applied, expected)
    got = {s["name"]: s for s in state["dump"]}
    for mark in expected.paint:
        assert got[mark.sheet]["fills"][mark.cell] == mark.fill, mark.cell
        assert got[mark.sheet]["notes"][mark.cell] == applied[mark.sheet][mark.cell].comment.text
    assert got["工作台账"]["notes"][person].startswith(PERSON_NOTE + "\n——\n")
    listed = got["问题清单"]
    table = expected.tables[0]
    for r, row in enumerate(table.rows, start=1):
        for c, value in enumerate(row, start=1):
            key = f"{chr(64 + c)}{r}"
            assert listed["values"].get(key) == (None if value in (None, "") else value), key
    assert all(listed["formats"].get(f"E{r}") == "@" for r in range(1, len(table.rows) + 1))  # text stays text
    assert listed["widths"]["L"] == 0 and len(listed["links"]) == len(table.links)
    assert not got["_xltools_marks"]["visible"]
    assert ["Activate", "问题清单"] in state["calls"]

    # 清除标注 on the marked workbook: every cell as it was, the two sheets gone
    marked = tmp_path / "marked.xlsx"
    applied.save(marked)
    cleared = _press(driver, url, _book_json(marked), "xltoolsClearMarks")
    after = {s["name"]: s for s in cleared["dump"]}
    assert set(after) == set(wb.sheetnames)
    before = {s["name"]: s for s in book["sheets"]}
    assert after["工作台账"]["fills"] == before["工作台账"]["fills"]
    assert after["工作台账"]["notes"] == before["工作台账"]["notes"] and before["工作台账"]["notes"][person] == PERSON_NOTE
    assert "已清除标注" in cleared["alerts"][0]


def test_wps_file_buttons_run_the_excel_handlers_through_the_desk(wps_page, tmp_path):
    """从方案生成台账 and 帮助 in WPS: the chosen plan goes to the desk on this computer, which runs the Excel add-in's
    handler; the ledger it wrote beside the plan is opened in WPS and its message said. 查询所选单位 answers from
    the selection; no workbook open → a Chinese message, nothing sent."""
    driver, url = wps_page
    plan = tmp_path / "章丘区方案.txt"
    plan.write_bytes(ZHANGQIU.read_bytes())
    ledger = tmp_path / "台账.xlsx"
    fill(ZHANGQIU, ledger)
    state = _press(driver, url, _book_json(ledger, picked=str(plan)), "xltoolsPlanToLedger")
    opened = [c[1] for c in state["calls"] if c[0] == "Workbooks.Open"]
    assert len(opened) == 1 and Path(opened[0]).parent == tmp_path and Path(opened[0]).is_file()
    assert "已生成台账" in state["alerts"][0] and "章丘区" in state["alerts"][0]
    helped = _press(driver, url, _book_json(ledger), "xltoolsHelp")
    assert "台账工具各按钮的作用" in helped["alerts"][0]
    wb = load_workbook(ledger)
    unit = next(c for c in wb["工作台账"]["D"] if c.value == "区发展和改革局")
    found = _press(driver, url, _book_json(ledger, selection={"sheet": "工作台账", "ref": unit.coordinate}),
                   "xltoolsLookupUnit")
    assert found["alerts"][0].startswith("章丘区单位名录查询") and "区发展和改革局" in found["alerts"][0]
    nothing = _press(driver, url, {"none": True, "sheets": []}, "xltoolsCheckUnits")
    assert nothing["alerts"] == ["请先打开台账工作簿，再点“台账工具”的按钮。"] and nothing["answer"] is None


def test_the_ribbon_api_is_this_computers_only(tmp_path):
    from fastapi.testclient import TestClient

    from xltools.desk import Desk
    from xltools.desk.app import create_app

    desk = Desk(CITY, tmp_path / "archive", ["章丘区"])
    local = TestClient(create_app(desk, allowed_hosts=["testserver"], local=True))
    assert local.post("/api/ribbon/help", json={}).status_code == 403  # not from the add-in (no header)
    helped = local.post("/api/ribbon/help", json={}, headers={"X-Xltools": "wps"})
    assert helped.status_code == 200 and "台账工具各按钮的作用" in helped.json()["messages"][0]
    refused = local.post("/api/ribbon/distribute", json={"path": str(tmp_path)}, headers={"X-Xltools": "wps"})
    assert refused.status_code == 400 and "请先打开台账工作簿" in refused.json()["error"]
    copy = local.post("/api/ribbon/copy_path", json={"name": "../../etc/章丘区?.xlsx"}, headers={"X-Xltools": "wps"})
    where = Path(copy.json()["path"])
    assert where.name == "章丘区_.xlsx" and where.parent.name.startswith("xltools-wps-")
    kept = local.post("/api/ribbon/copy_path", json={"name": "市级台账.xlsm"}, headers={"X-Xltools": "wps"})
    assert Path(kept.json()["path"]).name == "市级台账.xlsm"  # SaveCopyAs keeps the format: the name says it
    # the Excel add-in's desk route (issue 24) sends its own header; any other is refused
    excel = local.post("/api/ribbon/help", json={}, headers={"X-Xltools": "excel"})
    assert excel.status_code == 200 and excel.json() == helped.json()
    other = local.post("/api/ribbon/help", json={}, headers={"X-Xltools": "other"})
    assert other.status_code == 403 and "WPS 或 Excel" in other.json()["error"]
    shared = TestClient(create_app(desk, allowed_hosts=["testserver"], local=False))
    assert shared.post("/api/ribbon/help", json={}, headers={"X-Xltools": "wps"}).status_code == 403
    assert shared.post("/api/ribbon/help", json={}, headers={"X-Xltools": "excel"}).status_code == 403
    page = local.get("/wps/")
    assert page.status_code == 200 and "main.js" in page.text
    assert local.get("/wps/ribbon.xml").text == (WPS / "ribbon.xml").read_text(encoding="utf-8")
