"""A real browser for the desk's tests: Debian's chromium + chromium-driver driven by Selenium (no browser
download), the desk served by uvicorn on loopback. ``available()`` says whether this machine has them
(`.ci/run` installs them); tests skip otherwise."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import openpyxl

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SHOTS = Path(os.environ["XLTOOLS_SCREENSHOTS"]) if os.environ.get("XLTOOLS_SCREENSHOTS") else None


def available() -> bool:
    try:
        import selenium  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return False
    return bool(CHROMIUM and DRIVER)


@contextmanager
def serving(desk):
    """The desk's app on a free loopback port: yields its base URL."""
    import uvicorn

    from xltools.desk.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(desk, local=True), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(downloads: Path):
    """Headless chromium at an office screen's size (1366×768), Chinese, downloading into ``downloads``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN",
                "--window-size=1366,768"):
        options.add_argument(arg)
    downloads.mkdir(parents=True, exist_ok=True)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def downloaded(folder: Path, suffix: str, timeout: float = 60) -> Path:
    """The file of ``suffix`` the browser has finished downloading into ``folder``."""
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded into {folder}: {list(folder.iterdir())}")


def shot(driver, name: str) -> None:
    """A screenshot into $XLTOOLS_SCREENSHOTS, when set (to look at the pages)."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / f"{name}.png"))


def find(driver, element_id: str):
    """The element once the page that has it is there (a click's navigation may still be under way)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 60).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def hand_in(driver, url: str, code: str, path: Path) -> str:
    """A district clerk hands in ``path`` on the desk's page with its code: the result's text."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url + "/")
    find(driver, "code").send_keys(code)
    driver.find_element(By.ID, "file").send_keys(str(path))
    driver.find_element(By.ID, "send").click()
    return find(driver, "result").text


def city_login(driver, url: str, token: str) -> str:
    """The city logs in: the status table's text."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url + "/city")
    find(driver, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
    return find(driver, "status").text
