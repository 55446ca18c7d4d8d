"""Installing the WPS 加载项 (the 台账工具 tab in WPS 表格) for the current user: ``xltools wps install``.

WPS finds its JS add-ins through a list in the user's ``jsaddons`` folder (Windows ``%APPDATA%\\kingsoft\\wps\\
jsaddons``, Linux — UOS, Kylin — ``~/.local/share/Kingsoft/wps/jsaddons``): ``publish.xml`` in WPS 2019 and later
(the list the add-in manager shows), ``jsplugins.xml`` where an organisation's oem.ini names a list
(``JSPluginsServer``). Online, the entry points at the desk (``xltools serve`` serves the add-in at /wps/); offline,
the add-in's files are copied into ``jsaddons/xltools_<version>/`` and its config.js says where the desk is. For an
intranet, ``build_offline`` makes the .7z package WPS's own tools make (the folder, publish.xml and copy.bat).
The add-in still needs a desk to check workbooks: on each PC (`xltools serve`, 127.0.0.1) or on the intranet.
"""

from __future__ import annotations

import os
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import OutputError, XltoolsError
from .xlio import atomic_write

NAME = "xltools"
SOURCE = Path(__file__).parent / "desk" / "wps"
DEFAULT_DESK = "http://127.0.0.1:8765"


def jsaddons_dir(platform: str | None = None, env: dict | None = None) -> Path:
    """The current user's WPS jsaddons folder."""
    platform, env = platform or sys.platform, env if env is not None else os.environ
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        if not appdata:
            raise XltoolsError("APPDATA is not set", "找不到当前用户的 AppData 文件夹（环境变量 APPDATA 未设置）")
        return Path(appdata) / "kingsoft" / "wps" / "jsaddons"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "share" / "Kingsoft" / "wps" / "jsaddons"


@dataclass
class Installed:
    folder: Path  # the jsaddons folder
    listing: Path  # publish.xml or jsplugins.xml
    url: str  # what the entry points at
    copied: Path | None = None  # the offline add-in's folder
    lines: list[str] = field(default_factory=list)  # what to tell the clerk (Chinese)


def _entry(offline: bool, url: str) -> ET.Element:
    if offline:
        return ET.Element("jsplugin", {"name": NAME, "type": "et", "url": url, "version": __version__,
                                       "enable": "enable_dev", "install": "null", "customDomain": ""})
    return ET.Element("jspluginonline", {"name": NAME, "type": "et", "url": url, "debug": "",
                                         "enable": "enable_dev", "install": "null", "customDomain": ""})


def _write_listing(path: Path, entry: ET.Element) -> None:
    """Our entry in the list, replacing an earlier one of ours; every other add-in's entry kept as it was."""
    root = ET.Element("jsplugins")
    if path.is_file() and path.stat().st_size:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise XltoolsError(f"{path}: not XML ({exc})",
                               f"WPS 加载项列表文件已损坏：{path}。请先改名备份它，再重新安装。") from exc
        if root.tag != "jsplugins":
            raise XltoolsError(f"{path}: root is <{root.tag}>", f"WPS 加载项列表文件格式不对：{path}")
    for old in [e for e in root if e.get("name") == NAME]:
        root.remove(old)
    root.append(entry)
    ET.indent(root)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    except OSError as exc:  # (a PermissionError is an OutputError already)
        raise OutputError(f"cannot write {path}: {exc}", f"无法写入 {path}：{exc.strerror or exc}") from exc


def _copy_addin(target: Path, desk: str) -> None:
    """The add-in's files into ``target``, its config.js naming the desk."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(SOURCE, target)
    (target / "config.js").write_text(f'window.XLTOOLS_DESK = "{desk.rstrip("/")}";  // the desk this add-in asks\n',
                                      encoding="utf-8")


def install(desk: str = DEFAULT_DESK, offline: bool = False, jsplugins: bool = False, folder: Path | None = None,
            platform: str | None = None, env: dict | None = None) -> Installed:
    """Install the 台账工具 tab for the current user: online (the desk serves it) or ``offline`` (copied here)."""
    if not desk.startswith(("http://", "https://")):
        raise XltoolsError(f"desk URL {desk!r} is not http(s)", f"收发台地址应以 http:// 开头：{desk}")
    folder = Path(folder) if folder else jsaddons_dir(platform, env)
    listing = folder / ("jsplugins.xml" if jsplugins else "publish.xml")
    copied = None
    if offline:
        copied = folder / f"{NAME}_{__version__}"
        _copy_addin(copied, desk)
        url = copied.name  # relative to the jsaddons folder, as WPS's own offline packages write it
    else:
        url = desk.rstrip("/") + "/wps/"
    _write_listing(listing, _entry(offline, url))
    lines = [f"已安装 WPS 加载项“台账工具”：{listing}", f"加载项地址：{url}" + ("（已复制到本机）" if offline else "")]
    if jsplugins:
        lines.append(f"请在 WPS 安装目录的 office6\\cfgs\\oem.ini 中写入（需管理员）：[Support] JsApiPlugin=true；"
                     f"[Server] JSPluginsServer={listing}")
    lines += ["接下来：1. 运行收发台（xltools serve 市级台账 …），本机地址 " + desk + "；",
              "2. 完全退出 WPS（包括任务栏托盘中的 WPS 图标）后重新打开 WPS 表格；",
              "3. 如提示是否信任/启用加载项“xltools”，选择“信任”或“启用”；",
              "4. 打开一个台账工作簿，选项卡中出现“台账工具”，点“帮助”确认可用。"]
    return Installed(folder, listing, url, copied, lines)


def build_offline(out_dir: Path, desk: str = DEFAULT_DESK) -> Path:
    """The offline package for an intranet, as WPS's own tools make it: ``xltools_<version>.7z`` holding the
    add-in's folder (config.js naming ``desk``), publish.xml and copy.bat (which copies both into the user's
    jsaddons folder)."""
    try:
        import py7zr
    except ImportError as exc:
        raise XltoolsError("py7zr is not installed", "生成离线安装包需要 py7zr：pip install 'xltools[desk]'") from exc
    import tempfile

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    package = out_dir / f"{NAME}_{__version__}.7z"
    with tempfile.TemporaryDirectory(prefix="xltools-wps-") as tmp:
        stage = Path(tmp)
        folder = f"{NAME}_{__version__}"
        _copy_addin(stage / folder, desk)
        _write_listing(stage / "publish.xml", _entry(True, folder))
        (stage / "copy.bat").write_bytes(
            ("@echo off\r\nset destination_folder=%appdata%\\kingsoft\\wps\\jsaddons\r\n"
             'if not exist "%destination_folder%" mkdir "%destination_folder%"\r\n'
             f'xcopy /E /I /Y "{folder}" "%destination_folder%\\{folder}"\r\n'
             'xcopy /Y "publish.xml" "%destination_folder%"\r\n').encode("ascii"))
        def write(tmp: str) -> None:
            with py7zr.SevenZipFile(tmp, "w") as archive:
                for path in sorted(stage.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(stage).as_posix())

        atomic_write(package, write)
    return package
