"""Issue 23: the desk (`xltools serve`) — districts hand in through the page and the API and are checked at once;
the city sees who sent what and takes the rollup, the same as `xltools consolidate` on the same files."""

from __future__ import annotations

import io
import re
import threading
import zipfile

import openpyxl
import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU, consolidated_as_the_desk_got_them

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from xltools import fill  # noqa: E402
from xltools.desk import Desk  # noqa: E402
from xltools.desk.app import create_app  # noqa: E402

REGIONS = ["市中区", "章丘区", "历城区"]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("books")
    zhangqiu, shizhong = folder / "章丘区_工作台账.xlsx", folder / "市中区_工作台账.xlsx"
    fill(ZHANGQIU, zhangqiu)
    fill(SHIZHONG, shizhong)
    return {"章丘区": zhangqiu, "市中区": shizhong}


@pytest.fixture
def desk(tmp_path):
    return Desk(CITY, tmp_path / "archive", REGIONS)


@pytest.fixture
def client(desk):
    return TestClient(create_app(desk, allowed_hosts=["testserver"]))


def _csrf(client, path="/") -> str:
    page = client.get(path)
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _cells(data: bytes) -> dict:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_a_district_hands_in_sees_its_problems_and_gets_its_marked_copy(client, desk, books):
    csrf = _csrf(client)
    with open(books["章丘区"], "rb") as f:
        page = client.post("/upload", data={"code": desk.code("章丘区"), "csrf": csrf},
                           files={"file": ("章丘区_工作台账.xlsx", f, "application/octet-stream")})
    assert page.status_code == 200, page.text
    assert "检查结果：章丘区_工作台账.xlsx（第1版）" in page.text and "已按<strong>章丘区</strong>" in page.text
    assert "牵头单位“区市场监管局”是简称或别称" in page.text  # a problem, in Chinese, at its cell
    assert re.search(r"<td>工作台账 D\d+</td>", page.text)
    marked = client.get("/marked/1")  # the cookie the upload set says which district
    assert marked.status_code == 200
    sheets = _cells(marked.content)
    assert "反馈说明" in sheets and "问题清单" in sheets
    # the same marked copy consolidate's feedback gives for the same file
    with open(books["章丘区"], "rb") as f:
        again = client.post("/upload", data={"csrf": csrf}, files={"file": ("章丘区_修改版.xlsx", f)})
    assert "（第1版）" in again.text  # the same bytes: the same submission, nothing doubled
    assert [v.version for v in desk.versions("章丘区")] == [1]


def test_a_wrong_code_a_foreign_file_and_a_stale_form_are_refused_in_chinese(client, desk, books):
    csrf = _csrf(client)
    with open(books["章丘区"], "rb") as f:
        wrong = client.post("/upload", data={"code": "ABCDEFGH", "csrf": csrf}, files={"file": ("a.xlsx", f)})
    assert wrong.status_code == 403 and "上传码不对" in wrong.text
    with open(books["章丘区"], "rb") as f:
        foreign = client.post("/upload", data={"code": desk.code("历城区"), "csrf": csrf},
                              files={"file": ("a.xlsx", f)})
    assert foreign.status_code == 409 and "是章丘区的台账，不是历城区的" in foreign.text
    with open(books["章丘区"], "rb") as f:
        forged = client.post("/upload", data={"code": desk.code("章丘区"), "csrf": "x"}, files={"file": ("a.xlsx", f)})
    assert forged.status_code == 403 and "页面已过期" in forged.text
    with open(books["章丘区"], "rb") as f:
        api = client.post("/api/uploads", files={"file": ("a.exe", f)}, headers={"X-Upload-Code": desk.code("章丘区")})
    assert api.status_code == 415 and "不支持的文件类型" in api.json()["error"]
    assert desk.versions("章丘区") == [] and desk.versions("历城区") == []


def test_the_city_sees_who_sent_what_and_takes_the_same_rollup_as_consolidate(client, desk, books, tmp_path):
    for region, path in books.items():
        with open(path, "rb") as f:
            r = client.post("/api/uploads", files={"file": (path.name, f)}, headers={"X-Upload-Code": desk.code(region)})
        assert r.status_code == 201, r.text
        assert r.json()["region"] == region and r.json()["version"] == 1
    token = {"X-City-Token": desk.city_token()}
    status = {r["region"]: r["status"] for r in client.get("/api/status", headers=token).json()}
    assert status["历城区"] == "未报送" and status["章丘区"].startswith(("已报送 第1版", "有错误"))
    assert client.get("/api/status").status_code == 403
    rollup = client.post("/api/rollup", headers=token)
    assert rollup.status_code == 200
    # the CLI's consolidation of the same files, at the same time: cell for cell the same
    cli_rollup = consolidated_as_the_desk_got_them(CITY, desk, books, tmp_path, REGIONS)
    assert _cells(rollup.content) == _cells(cli_rollup.read_bytes())
    feedback = client.post("/api/feedback", headers=token)
    names = zipfile.ZipFile(io.BytesIO(feedback.content)).namelist()
    assert sorted(names) == ["反馈清单.xlsx", "市中区_反馈_市中区_工作台账.xlsx", "章丘区_反馈_章丘区_工作台账.xlsx"]


def test_the_city_page_needs_its_token_and_escapes_what_districts_typed(client, desk, tmp_path):
    hostile = tmp_path / "章丘区_台账.csv"
    hostile.write_text("序号,重点任务,工作内容,牵头单位,责任单位\n"
                       '1,<script>alert(1)</script>,"=cmd|\' /C calc\'!A0",<b>区发改局</b>,区财政局\n', encoding="utf-8")
    csrf = _csrf(client)
    with open(hostile, "rb") as f:
        page = client.post("/upload", data={"code": desk.code("章丘区"), "csrf": csrf}, files={"file": (hostile.name, f)})
    assert page.status_code == 200, page.text
    assert "<script>alert(1)</script>" not in page.text and "<b>区发改局</b>" not in page.text
    assert "“&lt;script&gt;alert(1)&lt;/script&gt;”未能对应到市级任务" in page.text  # shown as text
    assert "市级口令" in client.get("/city").text  # a login form, no status
    login = client.post("/city/login", data={"token": "wrong", "csrf": _csrf(client, "/city")})
    assert login.status_code == 403
    ok = client.post("/city/login", data={"token": desk.city_token(), "csrf": _csrf(client, "/city")},
                     follow_redirects=True)
    assert ok.status_code == 200 and "各区县报送情况" in ok.text and "历城区" in ok.text
    assert "<script>" not in ok.text
    versions = client.get("/city/district/章丘区")
    assert versions.status_code == 200 and "章丘区_台账.csv" in versions.text and "/city/marked/章丘区/1" in versions.text


def test_only_the_hosts_it_serves_are_answered(desk):
    other = TestClient(create_app(desk), base_url="http://evil.example")
    assert other.get("/").status_code == 400


def test_twenty_districts_hand_in_at_once_and_nothing_is_lost(tmp_path):
    """Served by uvicorn on loopback, over real sockets: twenty districts hand in at once while the city takes
    the rollup; every hand-in answered 201 and archived once, the rollup 200."""
    import socket
    import time

    import httpx
    import uvicorn

    regions = [f"第{i}区" for i in range(1, 21)]
    desk = Desk(CITY, tmp_path / "archive", regions)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(desk), host="127.0.0.1", port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.05)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
    from xltools import extract

    rows = extract(ZHANGQIU).rows
    answers: dict[str, int] = {}

    def hand_in(region: str) -> None:
        # each district's own rows (its name in them), as a CSV its office exported
        lines = ["序号,重点任务,工作内容,牵头单位,责任单位"] + [
            f"{r.seq},{r.task},{region}{r.content.replace(',', '，')},{'、'.join(r.lead_units)},"
            f"{'、'.join(r.responsible_units)}" for r in rows]
        r = client.post("/api/uploads", files={"file": (f"{region}_工作台账.csv", "\n".join(lines).encode())},
                        headers={"X-Upload-Code": desk.code(region)})
        answers[region] = r.status_code

    threads = [threading.Thread(target=hand_in, args=(r,)) for r in regions]
    rollup = threading.Thread(target=lambda: answers.setdefault(
        "rollup", client.post("/api/rollup", headers={"X-City-Token": desk.city_token()}).status_code))
    for t in [*threads, rollup]:
        t.start()
    for t in [*threads, rollup]:
        t.join(timeout=600)
    server.should_exit = True
    serving.join(timeout=30)
    assert answers == {**{r: 201 for r in regions}, "rollup": 200}
    assert all(len(desk.versions(r)) == 1 for r in regions)


def test_distribute_prints_each_districts_upload_code_and_the_desk_takes_it(tmp_path):
    """`distribute --desk URL` writes each district's upload code into its 填报说明 and 分发清单; the code read
    from a district's own form lets it hand that form in at the desk over the same archive."""
    from xltools.distribution import distribute

    archive = tmp_path / "archive"
    sent = distribute(CITY, tmp_path / "分发", regions=["市中区", "章丘区"], desk="http://10.1.2.3:8765/",
                      archive=archive)
    desk = Desk(CITY, archive, ["市中区", "章丘区"])
    client = TestClient(create_app(desk, allowed_hosts=["testserver"]))
    manifest = openpyxl.load_workbook(sent.manifest)["分发清单"]
    header = [c.value for c in manifest[2]]
    codes = {r[0]: r[header.index("上传码")] for r in manifest.iter_rows(min_row=3, values_only=True)}
    assert codes == {r: desk.code(r) for r in ("市中区", "章丘区")}
    form = next(f.path for f in sent.files if f.region == "章丘区")
    guide = " ".join(str(c.value) for row in openpyxl.load_workbook(form)["填报说明"].iter_rows() for c in row if c.value)
    code = re.search(r"输入本区上传码 ([0-9A-F]{8})", guide).group(1)
    assert "http://10.1.2.3:8765/" in guide and code == codes["章丘区"]
    r = client.post("/api/uploads", files={"file": (form.name, form.read_bytes())}, headers={"X-Upload-Code": code})
    assert r.status_code == 201 and r.json()["region"] == "章丘区" and r.json()["blank"] is True, r.text


@pytest.mark.parametrize("name, kept", [("章丘区_工作台账.xlsx", "章丘区_工作台账.xlsx"), ("..", "file"),
                                        ("a/b.xlsx", "file.xlsx"), ("x\x00.XLSX", "file.xlsx"), ("", "file")])
def test_an_archived_name_is_never_a_path_when_copied_out(name, kept):
    from xltools.rollup import _safe_name

    assert _safe_name(name) == kept


def _wait(get, timeout: float = 120) -> dict:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = get()
        if job["state"] != "running":
            return job
        time.sleep(0.2)
    raise AssertionError("the job did not finish")


def test_the_rollup_runs_in_the_background_with_its_progress(client, desk, books, tmp_path):
    """A long rollup (300 districts) is a job: started, its progress read (files done of all, what it is doing),
    its result downloaded — the same bytes as the synchronous rollup; the page's form and its script use it."""
    for region, path in books.items():
        desk.hand_in(region, path.name, path.read_bytes())
    token = {"X-City-Token": desk.city_token()}
    assert client.post("/api/jobs", headers={"X-City-Token": "wrong"}).status_code == 403
    seen: list[tuple[int, int]] = []
    real = desk.rollup

    def watched(feedback=False, progress=None):  # every progress call, as the page would poll it
        return real(feedback, lambda done, total: (seen.append((done, total)), progress(done, total)))

    desk.rollup = watched
    started = client.post("/api/jobs", headers=token)
    assert started.status_code == 202 and started.json()["total"] == 4  # two files, read then checked
    job_id = started.json()["id"]
    done = _wait(lambda: client.get(f"/api/jobs/{job_id}", headers=token).json())
    assert done["state"] == "done" and done["stage"] == "已生成" and done["done"] == done["total"] == 4
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    result = client.get(f"/api/jobs/{job_id}/result", headers=token)
    assert result.status_code == 200 and result.content == real()[1]
    assert client.get("/api/jobs/nothing", headers=token).status_code == 404
    # the page: the form's job (CSRF and the city's cookie), polled and downloaded as desk.js does
    client.post("/city/login", data={"token": desk.city_token(), "csrf": _csrf(client, "/city")})
    page = client.get("/city")
    assert '<progress id="bar"' in page.text and "/static/desk.js" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/city/jobs", data={"csrf": "stale", "feedback": "1"}).status_code == 403
    job = client.post("/city/jobs", data={"csrf": csrf, "feedback": "1"}).json()
    job = _wait(lambda: client.get(f"/city/jobs/{job['id']}").json())
    names = zipfile.ZipFile(io.BytesIO(client.get(f"/city/jobs/{job['id']}/result").content)).namelist()
    assert "反馈清单.xlsx" in names and job["kind"] == "feedback"


def test_a_failed_job_says_why_in_chinese(desk, client):
    from xltools.errors import UnreadableInput

    def broken(feedback=False, progress=None):
        raise UnreadableInput("city ledger gone", "找不到市级台账")

    desk.rollup = broken
    token = {"X-City-Token": desk.city_token()}
    job = client.post("/api/jobs", headers=token).json()
    job = _wait(lambda: client.get(f"/api/jobs/{job['id']}", headers=token).json())
    assert job["state"] == "failed" and job["stage"] == "未能完成：找不到市级台账"
    refused = client.get(f"/api/jobs/{job['id']}/result", headers=token)
    assert refused.status_code == 409 and "还没有生成好" in refused.json()["error"]


def test_the_city_page_draws_target_shares_and_coverage(client, desk, books):
    for region, path in books.items():
        desk.hand_in(region, path.name, path.read_bytes())
    overview = desk.overview()
    client.post("/city/login", data={"token": desk.city_token(), "csrf": _csrf(client, "/city")})
    page = client.get("/city").text
    charted = [t for t in overview["targets"] if t["share"] is not None]
    assert charted, "the cycle's districts give at least one summable target"
    chart = re.search(r'<svg id="share-chart".*?</svg>', page, re.S).group(0)
    assert len(re.findall(r"<rect ", chart)) == len(charted)
    assert "市级目标 100%" in chart
    cover = re.search(r'<svg id="coverage-chart".*?</svg>', page, re.S).group(0)
    for c in overview["coverage"]:
        assert f"{c['covered']}/{c['tasks']}" in cover and c["region"] in cover
    assert {c["region"] for c in overview["coverage"]} == set(books)


def test_the_workbook_api_answers_a_patch_and_refuses_what_is_not_a_snapshot(desk, books):
    local = TestClient(create_app(desk, allowed_hosts=["testserver"], local=True))
    wb = openpyxl.load_workbook(books["章丘区"])
    snapshot = {"name": "章丘区_工作台账.xlsx", "selection": [["区发改局", "区宇宙局"]],
                "sheets": [{"name": ws.title, "values": [["" if v is None else v for v in row]
                                                         for row in ws.iter_rows(values_only=True)]}
                           for ws in wb.worksheets]}
    found = local.post("/api/workbook/lookup_unit", json=snapshot)
    assert found.status_code == 200 and found.json()["message"].startswith("章丘区单位名录查询")
    patch = local.post("/api/workbook/check_units", json=snapshot).json()
    assert patch["paint"] and patch["tables"][0]["name"] == "问题清单" and "单位名称校验完成" in patch["message"]
    assert local.post("/api/workbook/format_disk", json=snapshot).status_code == 404
    assert local.post("/api/workbook/check_units", content=b"{not json").status_code == 422
    assert local.post("/api/workbook/check_units", json={"sheets": [{"values": []}]}).status_code == 422
    huge = {"name": "x.xlsx", "sheets": [{"name": "台账", "values": [[""] * 2000] * 1000}]}
    assert local.post("/api/workbook/check_units", json=huge).status_code == 413  # 2M cells: over the limit
    # served to another computer, the same API needs a district's code or the city's token
    shared = TestClient(create_app(desk, allowed_hosts=["testserver"], local=False))
    assert shared.post("/api/workbook/check_units", json=snapshot).status_code == 403
    coded = shared.post("/api/workbook/check_units", json=snapshot, headers={"X-Upload-Code": desk.code("章丘区")})
    assert coded.status_code == 200 and coded.json() == patch


def test_a_desk_open_to_the_intranet_answers_its_own_names_only():
    import socket

    from xltools.cli import desk_names

    assert desk_names("10.1.2.3") == ["10.1.2.3"]
    everywhere = desk_names("0.0.0.0")
    assert socket.gethostname() in everywhere and "127.0.0.1" in everywhere and "0.0.0.0" not in everywhere
