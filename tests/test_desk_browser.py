"""Issue 23, in a real browser: Debian's chromium driven by Selenium (no browser download) against the desk served
by uvicorn on loopback. A district hands in, reads its problems and downloads its marked copy; the city logs in,
sees who sent what and downloads the rollup — the same, cell for cell, as `xltools consolidate` on those files.
Skipped where chromium and chromium-driver are not installed (`.ci/run` installs them)."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from browser import available, cells, chromium, city_login, downloaded, find, hand_in, serving, shot
from conftest import CITY, SHIZHONG, ZHANGQIU, consolidated_as_the_desk_got_them

pytestmark = pytest.mark.skipif(not available(), reason="chromium, chromium-driver or selenium not installed")

from xltools import fill  # noqa: E402
from xltools.desk import Desk  # noqa: E402

REGIONS = ["市中区", "章丘区", "历城区"]


@pytest.fixture
def served(tmp_path):
    desk = Desk(CITY, tmp_path / "archive", REGIONS)
    with serving(desk) as url:
        yield desk, url, tmp_path


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "downloads") as driver:
        yield driver


def test_districts_hand_in_and_the_city_takes_the_rollup_in_a_browser(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    desk, url, root = served
    books = {}
    for region, plan in (("章丘区", ZHANGQIU), ("市中区", SHIZHONG)):
        books[region] = root / f"{region}_工作台账.xlsx"
        fill(plan, books[region])
    for region, book in books.items():
        result = hand_in(browser, url, desk.code(region), book)
        assert f"已按{region}的报送接收" in result and "（第1版）" in result, result
        assert "错误" in result and "下载标注副本" in result
        shot(browser, f"district-{region}")
        browser.find_element(By.ID, "marked").click()
        marked = downloaded(browser.downloads, ".xlsx")
        assert {"反馈说明", "问题清单"} <= set(openpyxl.load_workbook(marked).sheetnames)
        marked.unlink()
    status = city_login(browser, url, desk.city_token())
    assert "历城区 未报送" in status and "章丘区" in status and "市中区" in status, status
    assert "目标对比" in browser.page_source and "覆盖矩阵" in browser.page_source
    matrix = browser.find_element(By.ID, "matrix").text
    assert "推动产业现代化改造" in matrix and "●" in matrix
    shot(browser, "city")
    assert browser.find_element(By.ID, "share-chart").is_displayed()  # drawn (SVG), not only tables
    assert browser.find_element(By.ID, "coverage-chart").is_displayed()
    browser.find_element(By.ID, "rollup").click()
    assert "正在生成汇总表" in find(browser, "working").text  # the page says it is at work (local script)
    assert browser.find_element(By.ID, "progress").is_displayed()  # the job's progress bar
    rollup = downloaded(browser.downloads, ".xlsx")
    assert cells(rollup) == cells(consolidated_as_the_desk_got_them(CITY, desk, books, tmp_path, REGIONS))
    bar = browser.find_element(By.ID, "bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "4"  # two files read, two checked
    assert "汇总表已生成" in browser.find_element(By.ID, "working").text
    assert "已生成（2/2 个地区）" in browser.find_element(By.ID, "stage").text
    shot(browser, "city-rollup-done")
    browser.find_element(By.ID, "feedback").click()
    feedback = downloaded(browser.downloads, ".zip")
    assert "反馈清单.xlsx" in zipfile.ZipFile(feedback).namelist()
