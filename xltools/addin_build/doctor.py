"""xltools addin doctor: why the ribbon buttons might do nothing on this PC, said in Chinese for the clerk and IT.

Each ribbon click makes Excel start ``cmd.exe``, which starts the configured Python with xlwings' RunPython command
line. Security software that stops Office from starting programs (Microsoft Defender's attack surface reduction rule
"Block all Office applications from creating child processes") stops all twelve buttons at once, and Excel says
nothing useful. The doctor checks what can be checked without Excel — the add-in file, the config file the installer
wrote, the interpreter it names (started here, with a timeout, to import the add-in's module), xlwings' version
against the add-in's, a network-share profile, the ASR rule in the registry — and prints the exact command line and
what IT must allow. Never imports xlwings (the interpreter under test does, in its own process).

With DESK_URL in the config (`xltools addin install --desk URL`) the buttons ask the desk (`xltools serve`) over HTTP
instead of starting Python: the doctor then checks that the desk answers, and what only the worksheet functions
still need (the interpreter, the ASR rule) is a warning, not a failure.
"""

from __future__ import annotations

import ntpath
import os
import re
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from ..errors import os_error_zh
from .install import plan

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: "[通过]", WARN: "[注意]", FAIL: "[失败]"}
RUN_TIMEOUT = 60  # seconds: a first import on a slow PC with on-access scanning takes a while
DESK_TIMEOUT = 5  # seconds: the desk is on this PC
ASR_RULE = "d4f940ab-401b-4efc-aadc-ad5f3c50688a"
ASR_NAME = "Block all Office applications from creating child processes"
ASR_NAME_ZH = "阻止所有 Office 应用程序创建子进程"
# Where the rule's state is written: group policy, then local settings (Set-MpPreference). Intune writes elsewhere.
ASR_KEYS = (r"SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules",
            r"SOFTWARE\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules")
CONFIG_LINE = re.compile(r'"([^"]*)","([^"]*)"')
# what the interpreter is asked, in the folder RunPython changes to: the add-in's module and xlwings import
PROBE = ("import sys, xlwings, xltools, xltools.addin; "
         "sys.stdout.write(xltools.__version__ + ' ' + xlwings.__version__)")
DISPATCH = "import xltools.addin as a; a.dispatch('{tag}')"


@dataclass(frozen=True)
class Check:
    """One finding: ``name`` (kebab-case, for programs), ``status`` (ok, warn, fail) and what it means, in Chinese."""

    name: str
    status: str
    text: str

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.text}"


@dataclass
class Diagnosis:
    """The checks, and what Excel starts on this PC (for the command line and IT's list)."""

    checks: list[Check]
    interpreter: str
    addin: str
    env: dict = field(default_factory=dict)
    desk: str = ""  # DESK_URL: the buttons use the desk, not RunPython

    @property
    def ok(self) -> bool:
        return not any(c.status == FAIL for c in self.checks)

    def flatten(self) -> list[tuple[str, str]]:
        return [(c.name, c.status) for c in self.checks]

    def command(self, tag: str = "help") -> str:
        return command_line(self.interpreter, self.addin, DISPATCH.format(tag=tag), self.env.get("TEMP"))

    def lines(self) -> list[str]:
        """The whole report, as `xltools addin doctor` prints it."""
        system = self.env.get("SystemRoot") or r"C:\Windows"
        cmd = ntpath.join(system, "System32", "cmd.exe")
        failed = [c for c in self.checks if c.status == FAIL]
        warned = [c for c in self.checks if c.status == WARN]
        return [
            "台账工具加载项检查（xltools addin doctor）",
            *(c.line() for c in self.checks),
            "",
            *([f"按钮经收发台 {self.desk} 运行（DESK_URL），点击时 Excel 不启动 Python；"
               "以下命令和放行清单只与工作表函数 =XLT_UNIT、=XLT_TARGETS 以及不用收发台时有关。"] if self.desk else []),
            "点击按钮时 Excel 启动的命令（以“帮助”按钮为例；<…> 处在点击时填入）：",
            f"  {self.command()}",
            f"即 Excel（EXCEL.EXE）启动 {cmd}，再由它启动 {self.interpreter}。",
            "",
            "请信息技术人员放行：",
            f"  1. 允许 Excel 启动 {cmd} 并由它运行上面的命令和 {self.interpreter}"
            "（工作表函数 =XLT_UNIT、=XLT_TARGETS 另由 Excel 以 cmd.exe /K 启动同一个 Python）。",
            f"  2. Microsoft Defender 攻击面减少（ASR）规则“{ASR_NAME_ZH}”（{ASR_NAME}，GUID {ASR_RULE}）"
            "开启时会拦截上面的命令，12 个按钮都不会有反应：请按单位的安全策略为本机放行"
            "（例如将该规则设为“审核”，或为上面的程序设置排除）。",
            "  3. 其他安全软件若拦截“Excel 启动命令行或 Python”，同样需要放行。",
            "不能放行时：使用 WPS 或浏览器的用户可改用收发台（xltools serve），在浏览器中报送和校验台账。",
            *([] if self.desk else ["Excel 的按钮也可经本机收发台运行而不启动 Python：关闭 Excel 后运行 xltools addin install "
                                    "--desk http://127.0.0.1:8765，并让本机登录后运行 xltools serve 市级台账。"]),
            "",
            (f"结论：发现 {len(failed)} 项问题（[失败]），请按提示处理。" if failed else
             f"结论：未发现问题{f'，有 {len(warned)} 项需要注意' if warned else ''}。"
             "若按钮仍没有反应，多半是安全软件拦截，请把以上内容发给信息技术人员。"),
        ]


def command_line(interpreter: str, addin: str, python_command: str, temp: str | None = None,
                 workbook: str = "<工作簿完整路径>", workbook_name: str = "<工作簿名>") -> str:
    """The command xlwings' RunPython (ExecuteWindows, USE UDF SERVER off) hands to WScript.Shell.Run, with the
    add-in's config: ADD_WORKBOOK_TO_PYTHONPATH false, no OneDrive/SharePoint/PYTHONPATH settings, no conda."""
    folder = interpreter[:max(interpreter.rfind("\\"), 0)]  # xlwings' ParentFolder: up to the last backslash
    if re.match(r"[A-Za-z]:", interpreter[:2]):
        drive = f'{interpreter[:2]} & cd "{folder}" & '
    elif interpreter.startswith("\\\\"):
        drive = f'pushd "{folder}" & '
    else:
        drive = ""
    pythonpath = ";".join(["false", workbook, addin, "", "", "", ""]).replace("&", "^&").replace("\\", "\\\\")
    run = f'"{interpreter}" -B -c "import xlwings.utils;xlwings.utils.prepare_sys_path(\\"{pythonpath}\\"); ' \
          f'{python_command}" '
    log = ntpath.join(temp or "%TEMP%", "xlwings-<GUID>.log")
    return (f"cmd.exe /C {drive}{run} --wb=\"{workbook_name}\" --from_xl=1 --app=\"<Excel 文件夹>\\Microsoft Excel\""
            f' --hwnd="<窗口号>" 2> "{log}" ')


def this_is_windows() -> bool:
    return sys.platform == "win32"


def windows_registry():
    """A reader of HKLM values (key, name) → str or None, where winreg exists."""
    try:
        import winreg
    except ImportError:
        return None

    def read(key: str, name: str):
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
                return str(winreg.QueryValueEx(handle, name)[0])
        except OSError:
            return None
    return read


def diagnose(windows: bool | None = None, env: dict | None = None, python: str | Path | None = None,
             encoding: str | None = None, registry=None, timeout: float = RUN_TIMEOUT) -> Diagnosis:
    """Check this PC's add-in install. ``windows``, ``env``, ``python`` default to this machine's (as for
    ``install.plan``); ``encoding`` is the config file's (the ANSI code page on Windows); ``registry`` reads HKLM
    values (default: winreg where it exists; no ASR check without one)."""
    windows = this_is_windows() if windows is None else windows
    env = dict(os.environ if env is None else env)
    encoding = encoding or ("mbcs" if sys.platform == "win32" else "utf-8")
    registry = registry if registry is not None else windows_registry()
    steps = plan(None, windows=windows, env=env, python=python)
    checks: list[Check] = []
    interpreter = str(steps.interpreter)
    if not windows:
        checks.append(Check("windows", FAIL, "本机不是 Windows：加载项需要 Windows 上的 Microsoft Excel。"
                                             "以下命令和放行清单按 Windows 上的位置列出。"))
        return Diagnosis(checks, interpreter, str(steps.target), env)

    target = Path(steps.target)
    checks.append(Check("addin-file", OK, f"加载项已安装：{target}") if target.is_file() else
                  Check("addin-file", FAIL, f"找不到加载项 {target}：请关闭 Excel 后运行 xltools addin install。"))
    checks.append(_network_share(env, target))

    config_file = Path(steps.config_file)
    configured = _config_checks(config_file, encoding, checks)
    desk = configured_desk(config_file, encoding)
    if configured is not None:
        interpreter = configured
        found = _interpreter_checks(Path(configured), target, steps.dll, timeout)
        checks += [_only_functions(c) for c in found] if desk else found
    if config_file.is_file():
        checks.append(Check("route", OK, f"按钮经收发台 {desk} 运行（DESK_URL），不由 Excel 启动 Python。" if desk else
                            "按钮由 Excel 启动 Python 运行（xlwings RunPython；未设置 DESK_URL）。"))
    if desk:
        checks.append(desk_check(desk))
    if registry is not None:
        asr = _asr_check(registry)
        checks.append(_only_functions(asr) if desk else asr)
    return Diagnosis(checks, interpreter, str(target), env, desk)


def configured_desk(config_file: Path, encoding: str) -> str:
    """The DESK_URL the config file names ("" none, or a file that cannot be read: its own checks say so)."""
    try:
        text = config_file.read_bytes().decode(encoding)
    except (OSError, UnicodeDecodeError):
        return ""
    for line in text.splitlines():
        found = CONFIG_LINE.fullmatch(line.strip())
        if found and found[1].upper() == "DESK_URL":
            return found[2].strip().rstrip("/")
    return ""


def _only_functions(check: Check) -> Check:
    """With the desk route a failure of Python (or of the ASR rule stopping it) only stops the worksheet functions."""
    if check.status != FAIL:
        return check
    return Check(check.name, WARN, f"{check.text}（按钮经收发台运行，不受影响；只有工作表函数 =XLT_UNIT、=XLT_TARGETS 需要它。）")


def desk_check(url: str, timeout: float = DESK_TIMEOUT) -> Check:
    """Does the desk answer (GET /api/docs, no proxy: it is on this PC)?"""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    start = "请先在本机运行 xltools serve 市级台账（可在“启动”文件夹中放一个快捷方式，登录后自动运行），再点击按钮。"
    try:
        with opener.open(url + "/api/docs", timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        said = ("拒绝连接，收发台没有运行" if isinstance(reason, ConnectionRefusedError) else
                f"{timeout:g} 秒内没有应答" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else
                f"无法连接：{reason}")
        return Check("desk", FAIL, f"收发台 {url} {said}：12 个按钮都要经过它。{start}")
    if status != 200:
        return Check("desk", FAIL, f"收发台 {url} 应答异常（HTTP {status}）：请确认这是 xltools serve 显示的地址。{start}")
    return Check("desk", OK, f"收发台 {url} 有应答。")


def _network_share(env: dict, target: Path) -> Check:
    shared = {k: env[k] for k in ("APPDATA", "USERPROFILE") if str(env.get(k, "")).startswith(("\\\\", "//"))}
    if not shared:
        return Check("network-share", OK, "用户文件夹（APPDATA、USERPROFILE）在本机磁盘上。")
    where = "，".join(f"{k} = {v}" for k, v in shared.items())
    return Check("network-share", WARN,
                 f"用户文件夹在网络共享上（{where}）：Excel 从网络位置加载加载项较慢，也可能被信任中心阻止；"
                 f"若“台账工具”选项卡不出现，请信息技术人员把 {target.parent} 设为受信任位置。")


def _config_checks(config_file: Path, encoding: str, checks: list[Check]) -> str | None:
    """The config file the installer writes: present, CRLF, one well-formed INTERPRETER_WIN line. Returns the
    interpreter it names, or None when there is none to go on."""
    again = "请重新运行 xltools addin install。"
    if not config_file.is_file():
        checks.append(Check("config-file", FAIL, f"找不到配置文件 {config_file}：{again}"))
        return None
    data = config_file.read_bytes()
    checks.append(Check("config-file", OK, f"配置文件：{config_file}"))
    bare = data.replace(b"\r\n", b"")
    if b"\n" in bare or b"\r" in bare or not data.endswith(b"\r\n"):
        checks.append(Check("config-crlf", FAIL, "配置文件的换行不是 Windows 的 CRLF（如只有 LF）："
                                                 f"Excel 的 VBA 按 CR 分行读取，可能读错。{again}"))
    else:
        checks.append(Check("config-crlf", OK, "配置文件为 Windows 换行（CRLF）。"))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        checks.append(Check("config-lines", FAIL, f"配置文件不是本机 Excel 能读的编码（{encoding}）：{again}"))
        return None
    values, bad = {}, []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        found = CONFIG_LINE.fullmatch(line.strip())
        if found:
            values.setdefault(found[1].upper(), found[2])
        else:
            bad.append(f"第 {n} 行 {line.strip()[:80]}")
    interpreter = values.get("INTERPRETER_WIN", "")
    example = '"INTERPRETER_WIN","C:\\…\\Scripts\\pythonw.exe"'
    if bad:
        checks.append(Check("config-lines", FAIL, f"配置文件格式不对（{'；'.join(bad)}），每行应为 {example}：{again}"))
        return None
    if not interpreter:
        checks.append(Check("config-lines", FAIL, f"配置文件中没有 INTERPRETER_WIN（应为 {example}）：{again}"))
        return None
    if not (Path(interpreter).is_absolute() or PureWindowsPath(interpreter).is_absolute()):
        checks.append(Check("config-lines", FAIL, f"配置的 INTERPRETER_WIN = {interpreter} 不是完整路径，"
                                                  f"Excel 会到 PATH 里找 Python：{again}"))
        return None
    if PureWindowsPath(interpreter).name.lower() not in ("pythonw.exe", "python.exe"):
        checks.append(Check("config-lines", WARN, f"配置的 INTERPRETER_WIN = {interpreter} 不是 pythonw.exe 或 "
                                                  "python.exe。"))
    else:
        checks.append(Check("config-lines", OK, f"配置的 Python（INTERPRETER_WIN）：{interpreter}"))
    return interpreter


def _interpreter_checks(interpreter: Path, addin: Path, dll: str, timeout: float) -> list[Check]:
    if not interpreter.is_file():
        return [Check("interpreter", FAIL, f"找不到配置中的 Python：{interpreter}。Python 可能已被移动或卸载，"
                                           "请在安装了 xltools 的 Python 环境中重新运行 xltools addin install。")]
    checks = [Check("interpreter", OK, f"Python 存在：{interpreter}")]
    fix = '请在该环境中重新安装：pip install "xltools[addin]"，再运行 xltools addin install。'
    try:
        done = subprocess.run([str(interpreter), "-B", "-c", PROBE], cwd=interpreter.parent, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return checks + [Check("interpreter-runs", FAIL, f"Python 超过 {timeout:g} 秒仍未导入台账工具"
                                                         "（可能被安全软件拦截或扫描）：请信息技术人员检查。")]
    except OSError as exc:
        return checks + [Check("interpreter-runs", FAIL, f"无法启动 {interpreter}：{os_error_zh(exc)}。"
                                                         "可能被安全软件拦截，请信息技术人员检查。")]
    out = done.stdout.decode("utf-8", "replace").split()
    if done.returncode != 0 or len(out) != 2:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = said[-1][:200] if said else f"退出码 {done.returncode}"
        return checks + [Check("interpreter-runs", FAIL, f"Python 无法导入台账工具（import xltools.addin 失败：{last}）。"
                                                         f"{fix}")]
    xltools_version, xlwings_version = out
    checks.append(Check("interpreter-runs", OK, f"Python 能导入台账工具：xltools {xltools_version}，"
                                                f"xlwings {xlwings_version}。"))
    in_addin = addin_xlwings_version(addin)
    if in_addin is not None:
        checks.append(Check("xlwings-version", OK, f"加载项中的 xlwings 模块与 Python 中的 xlwings 同为 {in_addin} 版。")
                      if in_addin == xlwings_version else
                      Check("xlwings-version", FAIL, f"加载项中的 xlwings 模块是 {in_addin} 版，Python 中的 xlwings 是 "
                                                     f"{xlwings_version} 版，两者必须一致。{fix}"))
    dll_name = re.sub(r"-[^-]+\.dll$", f"-{xlwings_version}.dll", dll)
    folders = [interpreter.parent, interpreter.parent.parent]
    found = next((f / dll_name for f in folders if (f / dll_name).is_file()), None)
    checks.append(Check("xlwings-dll", OK, f"已找到 {found}（工作表函数需要）。") if found else
                  Check("xlwings-dll", WARN, f"找不到 {dll_name}（应在 {folders[0]} 或 {folders[1]}）："
                                             f"按钮不受影响，工作表函数 =XLT_UNIT、=XLT_TARGETS 无法使用。{fix}"))
    return checks


def addin_xlwings_version(addin: Path) -> str | None:
    """XLWINGS_VERSION of the xlwings module inside an installed .xlam (None when it cannot be read)."""
    import zipfile

    from . import ovba

    try:
        import olefile

        with zipfile.ZipFile(addin) as package, olefile.OleFileIO(package.read("xl/vbaProject.bin")) as ole:
            records = ovba.parse_records(ovba.decompress(ole.openstream("VBA/dir").read()))
            module = next(r for r in ovba.split_dir(records)[2] if ovba.module_name(r) == "xlwings")
            offset = struct.unpack("<I", dict(module)[0x0031])[0]  # MODULEOFFSET: where the source starts
            source = ovba.decompress(ole.openstream("VBA/xlwings").read()[offset:])
    except Exception:  # not there, not a package, no olefile: the other checks say enough
        return None
    found = re.search(rb'XLWINGS_VERSION As String = "([^"]+)"', source)
    return found[1].decode("ascii", "replace") if found else None


def _asr_check(registry) -> Check:
    states = [registry(key, ASR_RULE) for key in ASR_KEYS]
    state = next((s.strip() for s in states if s is not None), None)
    rule = f"攻击面减少规则“{ASR_NAME_ZH}”（{ASR_RULE}）"
    if state == "1":
        return Check("asr-rule", FAIL, f"{rule}已开启（阻止）：Excel 无法启动 Python，12 个按钮都不会有反应。"
                                       "请信息技术人员按下面的清单放行。")
    if state == "6":
        return Check("asr-rule", WARN, f"{rule}为“警告”模式：点击按钮时 Windows 可能弹出拦截提示，需选择允许。")
    if state == "2":
        return Check("asr-rule", OK, f"{rule}为“审核”模式，只记录不拦截。")
    if state == "0":
        return Check("asr-rule", OK, f"{rule}未开启。")
    return Check("asr-rule", OK, f"注册表中未见{rule}开启（由 Intune 等下发的策略不一定在此显示）。")
