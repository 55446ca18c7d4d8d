"""Install xltools.xlam for the current Windows user: XLSTART, the interpreter config, the xlwings DLL check.

The configuration lives in a file, `%USERPROFILE%\\.xltools\\xltools.conf` (xlwings' user config file for an
add-in whose PROJECT_NAME is xltools), not in the add-in: the .xlam stays the same bytes on every PC, and
re-running the install after moving Python rewrites one line. The add-in's own xltools.conf sheet holds only
settings that are the same everywhere, so it never hides this file's keys. ``--desk URL`` adds a DESK_URL line: the
buttons then ask the desk (`xltools serve`) over HTTP instead of starting Python (issue 24: security software that
stops Office from starting programs).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from ..errors import XltoolsError
from .xlam import ADDIN_NAME, build


class AddinInstallError(XltoolsError):
    "The add-in cannot be installed (no Windows Excel, a missing DLL, Excel holding the file)."


@dataclass
class InstallPlan:
    """What `install` does, as data: shown by --dry-run, carried out otherwise."""

    xlam: Path | None  # None: built from the sources first
    target: PureWindowsPath | Path
    config_file: PureWindowsPath | Path
    interpreter: PureWindowsPath | Path
    dll: str
    dll_folders: list = field(default_factory=list)
    windows: bool = True
    desk: str | None = None  # DESK_URL: the buttons use the desk at this address instead of RunPython

    @property
    def config_text(self) -> str:
        # the format of xlwings' own `xlwings config create`; read by VBA's Input #, one quoted pair per line, with
        # CRLF as VBA's own Write # (and Python's text mode on Windows) writes it: VBA's file input ends a line at
        # CR, so LF-only lines may run together once the file holds more than one
        text = f'"INTERPRETER_WIN","{self.interpreter}"\r\n'
        return text + (f'"DESK_URL","{self.desk}"\r\n' if self.desk else "")

    def describe(self) -> list[str]:
        """The steps in Chinese, for the clerk or IT."""
        lines = [] if self.windows else ["本机不是 Windows：加载项需要 Windows 上的 Microsoft Excel，以下仅为在 Windows 上会执行的步骤。"]
        lines.append(f"1. 加载项：{self.xlam}" if self.xlam else "1. 由源码生成加载项 xltools.xlam")
        lines.append(f"2. 复制到 Excel 启动文件夹（请先关闭 Excel）：{self.target}")
        lines.append(f"3. 写入配置文件 {self.config_file}：INTERPRETER_WIN = {self.interpreter}"
                     + (f"，DESK_URL = {self.desk}（按钮经收发台运行，不启动 Python）" if self.desk else ""))
        lines.append(f"4. 检查 xlwings 的 {self.dll} 是否在 {' 或 '.join(str(f) for f in self.dll_folders)}")
        return lines


def plan(xlam: str | Path | None = None, windows: bool | None = None, env: dict | None = None,
         python: str | Path | None = None, desk: str | None = None) -> InstallPlan:
    """The install for this Python environment; `windows`, `env`, `python` default to this machine's. `desk`: the
    address of `xltools serve` (http://127.0.0.1:8765), for PCs where Office may not start programs."""
    windows = sys.platform == "win32" if windows is None else windows
    env = os.environ if env is None else env
    # off Windows the plan is only shown: Windows paths, with placeholders for what this machine cannot know
    Win = Path if windows else PureWindowsPath
    python = Win(python or (sys.executable if windows else r"<Python 环境>\Scripts\python.exe"))
    appdata = env.get("APPDATA") or "%APPDATA%"
    profile = env.get("USERPROFILE") or "%USERPROFILE%"
    version = importlib.metadata.version("xlwings") if _has_xlwings() else "?"
    return InstallPlan(
        xlam=Path(xlam) if xlam else None,
        target=Win(appdata) / "Microsoft" / "Excel" / "XLSTART" / f"{ADDIN_NAME}.xlam",
        config_file=Win(profile) / f".{ADDIN_NAME}" / f"{ADDIN_NAME}.conf",
        # pythonw: no console window flashes up on each click
        interpreter=python.with_name("pythonw.exe"),
        dll=f"xlwings64-{version}.dll",
        # where xlwings' VBA looks: beside the interpreter, or one level up (a virtual environment)
        dll_folders=[python.parent, python.parent.parent],
        windows=windows,
        desk=desk_url(desk) if desk else None,
    )


def desk_url(url: str) -> str:
    """A desk address as the add-in uses it (no trailing slash); refuses what is not an http(s) address."""
    url = url.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s\"/]+(/[^\s\"]*)?", url):
        raise AddinInstallError(f"not a desk address: {url!r}",
                                f"收发台地址应形如 http://127.0.0.1:8765（xltools serve 显示的地址），而不是“{url}”。")
    return url


def _has_xlwings() -> bool:
    try:
        importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def install(the_plan: InstallPlan, config_encoding: str | None = None) -> list[str]:
    """Carry out `the_plan`; returns what was done, in Chinese. Raises AddinInstallError before any change."""
    if not the_plan.windows:
        raise AddinInstallError("the add-in needs Excel on Windows",
                                "加载项需要 Windows 上的 Microsoft Excel，本机无法安装。"
                                "可用 --dry-run 查看在 Windows 上会执行的步骤。")
    if not _has_xlwings():
        raise AddinInstallError("xlwings is not installed",
                                "未安装 xlwings，请先安装：pip install \"xltools[addin]\"")
    # every check first, so a failure leaves nothing half-installed
    if "%" in str(the_plan.target) + str(the_plan.config_file):
        raise AddinInstallError("APPDATA or USERPROFILE is not set",
                                "找不到当前用户的文件夹（环境变量 APPDATA 或 USERPROFILE 未设置），请联系信息技术人员。")
    if not Path(the_plan.interpreter).is_file():
        raise AddinInstallError(f"{the_plan.interpreter} not found",
                                f"找不到 {the_plan.interpreter}，请在安装了 xltools 的 Python 环境中运行本命令。")
    dll = next((Path(f) / the_plan.dll for f in the_plan.dll_folders if (Path(f) / the_plan.dll).is_file()), None)
    if dll is None:
        raise AddinInstallError(f"{the_plan.dll} not found",
                                f"找不到 {the_plan.dll}（应在 {the_plan.dll_folders[0]}）。"
                                "xlwings 安装不完整或版本不符，请重新安装：pip install --force-reinstall \"xltools[addin]\"")
    encoding = config_encoding or ("mbcs" if sys.platform == "win32" else "utf-8")
    try:
        config = the_plan.config_text.encode(encoding)
    except UnicodeEncodeError as exc:
        # VBA reads the file in the ANSI code page; a path outside it cannot be named there
        raise AddinInstallError(f"{the_plan.interpreter} cannot be written in {encoding}",
                                f"Python 的路径 {the_plan.interpreter} 含有本机 Excel 无法读取的字符，"
                                "请把 Python 装到只含英文或中文字符的路径下。") from exc

    done = []
    with tempfile.TemporaryDirectory() as tmp:
        source = the_plan.xlam or build(Path(tmp) / f"{ADDIN_NAME}.xlam")
        if the_plan.xlam is None:
            done.append("已由源码生成加载项")
        target = Path(the_plan.target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, target)
        except PermissionError as exc:
            raise AddinInstallError(f"cannot write {target}",
                                    f"无法写入 {target}：请先关闭所有 Excel 窗口，再运行本命令。") from exc
    done.append(f"已复制加载项到 {target}")
    config_file = Path(the_plan.config_file)
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_bytes(config)
    done.append(f"已写入配置 {config_file}：INTERPRETER_WIN = {the_plan.interpreter}")
    if the_plan.desk:
        done.append(f"按钮经收发台 {the_plan.desk} 运行（DESK_URL），不由 Excel 启动 Python："
                    "请让本机登录后运行 xltools serve（例如在“启动”文件夹中放一个快捷方式）。")
    done.append(f"已找到 {dll}")
    done.append("完成。请打开 Excel，功能区中应出现“台账工具”选项卡。")
    return done
