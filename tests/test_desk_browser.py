"""Issue 23, in a real browser: Debian's chromium driven by Selenium (no browser download) against the desk served
by uvicorn on loopback. A district hands in, reads its problems and downloads its marked copy; the city logs in,
sees who sent what and downloads the rollup — the same, cell for cell, as `xltools consolidate` on those files.
Skipped where chromium and chromium-driver are not installed (`.ci/run` installs them)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import CITY, SHIZHONG, ZHANGQIU, consolidated_as_the_desk_got_them

pytest.importorskip("fastapi")
webdriver = pytest.importorskip("selenium.webdriver")
uvicorn = pytest.importorskip("uvicorn")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromium-driver not installed")

from xltools import fill  # noqa: E402
from xltools.desk import Desk  # noqa: E402
from xltools.desk.app import create_app  # noqa: E402

REGIONS = ["市中区", "章丘区", "历城区"]
SHOTS = Path(os.environ.get("XLTOOLS_SCREENSHOTS", "")) if os.environ.get("XLTOOLS_SCREENSHOTS") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("desk")
    desk = Desk(CITY, root / "archive", REGIONS)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(desk), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield desk, f"http://127.0.0.1:{port}", root
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN",
                "--window-size=1366,768"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _downloaded(folder: Path, suffix: str, timeout: float = 60) -> Path:
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded into {folder}: {list(folder.iterdir())}")


def _shot(driver, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / f"{name}.png"))


def _find(driver, element_id: str):
    """The element once the page that has it is there (a click's navigation may still be under way)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 60).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_districts_hand_in_and_the_city_takes_the_rollup_in_a_browser(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    desk, url, root = served
    books = {}
    for region, plan in (("章丘区", ZHANGQIU), ("市中区", SHIZHONG)):
        books[region] = root / f"{region}_工作台账.xlsx"
        fill(plan, books[region])
    for region, book in books.items():
        browser.delete_all_cookies()
        browser.get(url + "/")
        _find(browser, "code").send_keys(desk.code(region))
        browser.find_element(By.ID, "file").send_keys(str(book))
        browser.find_element(By.ID, "send").click()
        result = _find(browser, "result").text
        assert f"已按{region}的报送接收" in result and "（第1版）" in result, result
        assert "错误" in result and "下载标注副本" in result
        _shot(browser, f"district-{region}")
        browser.find_element(By.ID, "marked").click()
        marked = _downloaded(browser.downloads, ".xlsx")
        assert {"反馈说明", "问题清单"} <= set(openpyxl.load_workbook(marked).sheetnames)
        marked.unlink()
    browser.delete_all_cookies()
    browser.get(url + "/city")
    _find(browser, "token").send_keys(desk.city_token())
    browser.find_element(By.ID, "login").click()
    status = _find(browser, "status").text
    assert "历城区 未报送" in status and "章丘区" in status and "市中区" in status, status
    assert "目标对比" in browser.page_source and "覆盖矩阵" in browser.page_source
    matrix = browser.find_element(By.ID, "matrix").text
    assert "推动产业现代化改造" in matrix and "●" in matrix
    _shot(browser, "city")
    assert browser.find_element(By.ID, "share-chart").is_displayed()  # drawn (SVG), not only tables
    assert browser.find_element(By.ID, "coverage-chart").is_displayed()
    browser.find_element(By.ID, "rollup").click()
    assert "正在生成汇总表" in _find(browser, "working").text  # the page says it is at work (local script)
    assert browser.find_element(By.ID, "progress").is_displayed()  # the job's progress bar
    rollup = _downloaded(browser.downloads, ".xlsx")
    assert _cells(rollup) == _cells(consolidated_as_the_desk_got_them(CITY, desk, books, tmp_path, REGIONS))
    bar = browser.find_element(By.ID, "bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "4"  # two files read, two checked
    assert "汇总表已生成" in browser.find_element(By.ID, "working").text
    assert "已生成（2/2 个地区）" in browser.find_element(By.ID, "stage").text
    _shot(browser, "city-rollup-done")
    browser.find_element(By.ID, "feedback").click()
    feedback = _downloaded(browser.downloads, ".zip")
    assert "反馈清单.xlsx" in zipfile.ZipFile(feedback).namelist()
