"""The headless command line: thin doors over the library functions of the same names.

Exit codes: 0 done, 1 done but problems found (errors or warnings), 2 nothing done (unusable input, a usage
error or an internal error). Everything the clerk sees is Chinese; English only in the log (-v), and in help
with -v, where each help text keeps the English gloss it ends with, "… (english)".
This module never imports xlwings.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import sys
import unicodedata

import click

from . import __version__
from .display import file_name
from .errors import XltoolsError, os_error_zh
from .problems import Report

log = logging.getLogger("xltools")

QUIET = logging.CRITICAL + 1  # without -v nothing of the log reaches the clerk's screen
HELP_HINT = "可用 {command} -h 查看帮助"
# After 未报送 when no --regions was given: a rollup of a few sample districts otherwise lists every other one.
DEFAULT_REGIONS_HINT = "（应报送地区取自单位名录“地区”表；只汇总部分地区时请用 --regions 指定）"


class _StderrHandler(logging.StreamHandler):
    """Writes to the sys.stderr of the moment: click's test runner swaps it for each invocation."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


_LOG = _StderrHandler()


def _set_verbosity(verbose: int) -> None:
    """-v: English log lines (INFO) on stderr, -vv: DEBUG and tracebacks; none: nothing in English.

    The handler sits on the root logger, so library and third-party records (and Python warnings, captured)
    all follow the same rule; being a handler, it also keeps logging's last-resort printer (WARNING and up,
    in English) from ever speaking to the clerk.
    """
    root = logging.getLogger()
    if _LOG not in root.handlers:
        root.addHandler(_LOG)
    logging.captureWarnings(True)
    level = {0: QUIET, 1: logging.INFO}.get(verbose, logging.DEBUG)
    _LOG.setLevel(level)
    if level < root.getEffectiveLevel():
        root.setLevel(level)


class _Formatter(click.HelpFormatter):
    """click's help layout with the clerk's words: 用法：, 选项：, 命令：, [默认：…], [必填], and no English
    glosses unless ``english`` (-v)."""

    HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数", "Positional arguments": "参数"}
    EXTRAS = ((re.compile(r"default: (.*)", re.S), "默认：{}"), (re.compile(r"required"), "必填"),
              (re.compile(r"env var: (.*)", re.S), "环境变量：{}"))
    METAVARS = {"TEXT": "文字", "INTEGER": "整数", "FLOAT": "数字", "FILE": "文件", "DIRECTORY": "文件夹",
                "PATH": "路径"}
    english = False  # set by _Context.make_formatter: -v keeps the glosses, for developers

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{self.HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        lines = _wrap(text if self.english else _without_glosses(text), max(self.width - self.current_indent, 11))
        self.write("".join(f"{indent}{line}\n" if line else "\n" for line in lines))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        # click's own layout, but measuring the terms in screen columns: a Chinese character takes two.
        rows = [(self._metavar_zh(term), self._extras_zh(text if self.english else _without_glosses(text)))
                for term, text in rows]
        first_col = min(max((_columns(term) for term, _ in rows), default=0), col_max) + col_spacing
        hanging = " " * (first_col + self.current_indent)
        for term, text in rows:
            self.write(f"{'':>{self.current_indent}}{term}")
            if not text:
                self.write("\n")
                continue
            if _columns(term) <= first_col - col_spacing:
                self.write(" " * (first_col - _columns(term)))
            else:
                self.write(f"\n{hanging}")
            lines = _wrap(text, max(self.width - first_col - 2, 10))
            self.write("\n".join([lines[0] if lines else "", *(hanging + line for line in lines[1:])]) + "\n")

    @classmethod
    def _metavar_zh(cls, term: str) -> str:
        """'--workers INTEGER' → '--workers 整数': an option's value by click's type name, in Chinese."""
        head, _, metavar = term.rpartition(" ")
        return f"{head} {cls.METAVARS[metavar]}" if term.startswith("-") and metavar in cls.METAVARS else term

    @classmethod
    def _extras_zh(cls, text: str) -> str:
        """'…  [default: 2024-2027; required]' → '…  [默认：2024-2027；必填]'; other brackets untouched."""
        m = re.fullmatch(r"(.*?)\[([^\[\]]*)\]", text, re.S)
        if not m:
            return text
        items = []
        for item in m.group(2).split("; "):
            found = next((zh.format(*f.groups()) for pattern, zh in cls.EXTRAS if (f := pattern.fullmatch(item))),
                         None)
            if found is None:
                return text
            items.append(found)
        return f"{m.group(1)}[{'；'.join(items)}]"


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_CLOSING = "，。、；：！？）》」』】”’"  # never first on a line
_OPENING = "（《「『【“‘"  # never last on a line
_WIDE = "\u2e80-\u9fff\uff00-\uffef“”‘’"
_PIECE = re.compile(rf"[{_OPENING}]*(?:[{_WIDE}]|[^\s{_WIDE}]+)[{_CLOSING}]*|\s+")


def _wrap(text: str, width: int) -> list[str]:
    """click's wrap_text (paragraphs kept, each rewrapped) measuring screen columns and breaking between
    Chinese characters too, where click breaks only at spaces: a Chinese paragraph is otherwise one long line.
    Paragraphs are separated by an empty line."""
    lines: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", text.strip("\n")):
        joined = ""
        for part in (line.strip() for line in paragraph.splitlines()):
            wide = joined and part and _columns(joined[-1] + part[0]) == 4  # 中\n文 is 中文, a\nb is a b
            joined += part if wide or not joined else f" {part}"
        line = ""
        for piece in _PIECE.findall(joined):
            if piece.isspace():
                line += piece if line else ""
            elif line and _columns(line + piece) > width:
                lines.append(line.rstrip())
                line = piece
            else:
                line += piece
        lines += [line.rstrip(), ""]
    return lines[:-1]


# " (rollup .xlsx)", " (consolidate district ledgers into a city rollup)." ending a line of help, or ending it
# before click's "  [default: …]": parentheses holding English and no Chinese.
_GLOSS = re.compile(r" *\((?=[^()\n]*[A-Za-z])[^()\n\u3000-\u9fff\uff00-\uffef]*\)\.?(?=[ \t]*(\[[^\[\]\n]*\])?[ \t]*$)",
                    re.M)


def _without_glosses(text: str) -> str:
    """Help text as the clerk reads it: each line without the English gloss it ends with."""
    return _GLOSS.sub("", text)


def _english(ctx: click.Context | None) -> bool:
    """Whether help keeps its English glosses: `xltools -v … -h`."""
    return ctx is not None and bool(ctx.find_root().params.get("verbose"))


def _shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` screen columns: cut at the last 、，：；that fits (else anywhere), then "…"."""
    if _columns(text) <= limit:
        return text
    cut = ""
    for ch in text:
        if _columns(cut + ch) >= limit:
            break
        cut += ch
    pause = max(cut.rfind(p) for p in "、，：；")
    return (cut[:pause] if pause > 0 else cut) + "…"


class _Context(click.Context):
    formatter_class = _Formatter

    def make_formatter(self) -> _Formatter:
        formatter = super().make_formatter()
        formatter.english = _english(self)
        return formatter


class _Chinese:
    """What every command and group shares: Chinese help headings, usage line and help option."""

    context_class = _Context

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "显示帮助 (show this help)"
        return option

    def get_short_help_str(self, limit: int = 45) -> str:
        """A command's line in its group's help: the first paragraph of its help, without the gloss."""
        if _english(click.get_current_context(silent=True)):
            return super().get_short_help_str(limit)
        text = inspect.cleandoc(self.short_help or self.help or "").partition("\n\n")[0]
        return _shorten(_without_glosses(" ".join(text.split())), limit)


class XltoolsArgument(click.Argument):
    """A positional argument shown by its Chinese name (its metavar: 市级台账), bracketed when optional and
    followed by ... when repeated, as click does only for the names it makes itself (CITY_LEDGER)."""

    def make_metavar(self, ctx: click.Context) -> str:
        if self.metavar is None:
            return super().make_metavar(ctx)
        return ("{}" if self.required else "[{}]").format(self.metavar) + ("..." if self.nargs != 1 else "")


def argument(name: str, zh: str, **kwargs):
    """``click.argument`` with the name the clerk sees in usage lines, help and messages (参数 市级台账)."""
    return click.argument(name, cls=XltoolsArgument, metavar=zh, **kwargs)


class XltoolsCommand(_Chinese, click.Command):
    """A command of xltools (what ``@group.command()`` makes here)."""


class XltoolsGroup(_Chinese, click.Group):
    """The door every command goes through: messages in Chinese, English only in the log, exit codes 0/1/2.

    Errors are handled here rather than in each command, so a command added later is covered as it is.
    """

    command_class = XltoolsCommand
    group_class = type  # subgroups (units) are XltoolsGroups too

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:  # a caller that wants click's exceptions gets them
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        root = logging.getLogger()
        level = root.level
        _set_verbosity(0)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0  # click returns --help/--version's exit code; commands None
        except SystemExit:
            raise
        except BaseException as exc:  # the door decides what the clerk sees for every failure
            code = _report_failure(exc, prog_name or self.name or "xltools")
        finally:
            root.removeHandler(_LOG)
            root.setLevel(level)
            logging.captureWarnings(False)
        sys.exit(code)


def _report_failure(exc: BaseException, prog: str) -> int:
    """Tell the clerk in Chinese what went wrong (stderr), log the English detail, return the exit code."""
    no_args_help = getattr(click.exceptions, "NoArgsIsHelpError", ())
    if isinstance(exc, no_args_help):
        exc.show()  # the help itself, in Chinese headings: `xltools` alone is a request to see it
        return 2
    if isinstance(exc, click.UsageError):
        log.info("usage error: %s", exc.format_message())
        ctx = exc.ctx
        if ctx is not None:
            click.echo(ctx.get_usage(), err=True)
            names = ctx.command.get_help_option_names(ctx)
            if names:
                click.echo(HELP_HINT.format(command=ctx.command_path), err=True)
            click.echo(err=True)
        else:
            click.echo(HELP_HINT.format(command=prog), err=True)
        click.echo(f"错误：{_usage_zh(exc)}", err=True)
        return 2
    if isinstance(exc, XltoolsError):
        log.error("%s", exc)
        click.echo(f"错误：{exc.message_zh}", err=True)
        return 2
    if isinstance(exc, OSError):
        # A file the library could not open or write (locked by Excel, no permission, a full disk): the
        # input or the place is unusable, not xltools broken.
        log.error("%s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        click.echo(f"错误：{os_error_zh(exc)}", err=True)
        return 2
    if isinstance(exc, (click.Abort, KeyboardInterrupt, EOFError)):
        log.info("interrupted: %r", exc)
        click.echo("已中止，未完成", err=True)
        return 2
    if isinstance(exc, click.ClickException):
        log.error("%s", exc.format_message())
        message = exc.format_message()
        click.echo(f"错误：{message if _CJK.search(message) else '命令未能完成'}", err=True)
        return 2
    log.error("internal error: %s: %s", type(exc).__name__, exc)
    log.debug("traceback of the internal error", exc_info=exc)
    click.echo("内部错误：命令未能完成。请加 -vv 重新运行，把屏幕上的全部输出发给维护人员", err=True)
    return 2


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _param_name(exc: click.BadParameter) -> str:
    """'选项 -o/--out' or '参数 FILE': the parameter an error is about, as the clerk types it."""
    param = exc.param
    if param is not None:
        if isinstance(param, click.Option):
            return f"选项 {'/'.join(param.opts)}"
        return f"参数 {param.human_readable_name}"
    hint = exc.param_hint
    if hint is None:
        return "参数"
    hint = hint if isinstance(hint, str) else "/".join(hint)
    return f"选项 {hint}" if hint.startswith("-") else f"参数 {hint}"


def _quoted(text: str) -> str:
    """click quotes values with repr(): 'abc' → abc."""
    m = re.fullmatch(r"(['\"])(.*)\1", text.strip(), re.S)
    return m.group(2) if m else text.strip()


_KINDS_ZH = {"integer": "整数", "float": "数字", "boolean": "是或否"}
_ACCESS_ZH = {"readable": "无法读取", "writable": "无法写入", "executable": "无法执行"}
_VALUE_ERRORS = (
    (re.compile(r"(.+) is not a valid (integer|float|boolean|UUID)\b.*", re.S),
     lambda v, kind: f"“{_quoted(v)}”不是{_KINDS_ZH.get(kind, kind)}"),
    (re.compile(r"(?:File|Directory|Path) (.+) does not exist\.?"), lambda f: f"“{_quoted(f)}”不存在"),
    (re.compile(r"(?:File|Directory|Path) (.+) is a directory\.?"), lambda f: f"“{_quoted(f)}”是文件夹，这里要的是文件"),
    (re.compile(r"(?:File|Directory|Path) (.+) is a file\.?"), lambda f: f"“{_quoted(f)}”是文件，这里要的是文件夹"),
    (re.compile(r"(?:File|Directory|Path) (.+) is not (readable|writable|executable)\.?"),
     lambda f, what: f"“{_quoted(f)}”{_ACCESS_ZH[what]}"),
    (re.compile(r"(.+) is not in the range (.+?)\.?", re.S), lambda v, r: f"“{v}”超出范围 {r}"),
    (re.compile(r"(.+) does not match the formats? .*", re.S), lambda v: f"“{_quoted(v)}”的格式不对"),
    (re.compile(r"(.+?) is not (?:one of )?.*", re.S), lambda v: f"“{_quoted(v)}”不是可选的值"),
)


def _value_zh(exc: click.BadParameter) -> str:
    """Why a value was refused, for the clerk: our own messages are Chinese already, click's are translated."""
    message = exc.message or ""
    for pattern, zh in _VALUE_ERRORS:
        m = pattern.fullmatch(message)
        if m:
            text = zh(*m.groups())
            choices = getattr(getattr(exc.param, "type", None), "choices", None)
            if choices and "不是可选的值" in text:
                text += f"（可选：{'、'.join(map(str, choices))}）"
            return text
    return message if _CJK.search(message) else "值无效"


def _usage_zh(exc: click.UsageError) -> str:
    """click's usage error as one Chinese sentence naming the option, argument or command."""
    message = exc.message or ""
    if isinstance(exc, click.MissingParameter):
        return f"缺少{_param_name(exc)}"
    if isinstance(exc, click.BadParameter):
        return f"{_param_name(exc)} 的值无效：{_value_zh(exc)}"
    if isinstance(exc, click.NoSuchOption):
        also = f"，是否要用 {'、'.join(exc.possibilities)}？" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{also}"
    if isinstance(exc, click.BadOptionUsage):
        m = re.search(r"requires (\d+) arguments", message)
        if m:
            return f"选项 {exc.option_name} 需要 {m.group(1)} 个值"
        if "requires an argument" in message:
            return f"选项 {exc.option_name} 后面需要一个值"
        if "does not take a value" in message:
            return f"选项 {exc.option_name} 不带值"
        return f"选项 {exc.option_name} 用法有误"
    m = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", message, re.S)
    if m:
        return f"多余的参数：{m.group(1)}"
    m = re.fullmatch(r"No such command (.+?)\.?( .*)?", message, re.S)
    if m or message.startswith("Missing command"):
        group = exc.ctx.command if exc.ctx is not None else None
        names = "、".join(getattr(group, "commands", {}))
        what = f"没有命令“{_quoted(m.group(1))}”" if m else "缺少命令"
        return f"{what}（可用的命令：{names}）" if names else what
    m = re.fullmatch(r"Argument (.+) takes (\d+) values\.?", message)
    if m:
        return f"参数 {_quoted(m.group(1))} 需要 {m.group(2)} 个值"
    return message if _CJK.search(message) else "命令行用法有误"  # ours are Chinese already


def region_option(fn):
    return click.option("--region", help="地区名称，如 章丘区；默认从标题判断 (region name; default: from the title)")(fn)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="输出 JSON (print JSON)")(fn)


def _period(text: str) -> tuple[int, int]:
    """'2024-2027' → (2024, 2027)."""
    start, _, end = text.replace("—", "-").replace("–", "-").partition("-")
    if not start.strip().isdigit() or not (end or start).strip().isdigit():
        raise click.BadParameter(f"规划期应写成“2024-2027”，而不是“{text}”", param_hint="--period")
    first, last = int(start), int(end or start)
    if first > last:
        raise click.BadParameter(f"规划期的起始年份应不晚于结束年份：“{text}”（是否应为“{last}-{first}”？）",
                                 param_hint="--period")
    return first, last


def _region_list(text: str) -> list[str]:
    """'市中区,章丘区、历城区' → the names, each once, in order (separated by ,，、;； or spaces)."""
    return list(dict.fromkeys(r for r in re.split(r"[,，、;；\s]+", text) if r))


def _check_regions(names: list[str], directory) -> None:
    """Refuse --regions names the unit directory lacks when it has one like them (历下 → 历下区): a typing
    slip would otherwise be taken as a new region (an empty drop-down list, a district 未报送 for ever)."""
    from .units.directory import suggest_region

    known = set(directory.region_names())
    meant = {name: s for name in names if name not in known and (s := suggest_region(directory, name))}
    if meant:
        typed, suggested = "".join(f"“{n}”" for n in meant), "".join(f"“{s}”" for s in meant.values())
        each = "分别" if len(meant) > 1 else ""
        raise click.UsageError(f"单位名录中没有地区{typed}，是否{each}是{suggested}？请核对 --regions")


def _print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


def _print_problems(problems) -> None:
    for p in problems:
        click.echo(f"  {p}")


def _print_described(heading: str, items) -> None:
    """'变更 3 处：' and one line per item (changes, fixes): anything with ``describe()``."""
    if items:
        click.echo(heading.format(n=len(items)))
        for item in items:
            click.echo(f"  {item.describe()}")


@click.group("xltools", cls=XltoolsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xltools", message="%(prog)s %(version)s",
                      help="显示版本号 (show the version)")
@click.option("-v", "--verbose", count=True, is_eager=True,  # read before -h: `xltools -v -h` keeps the glosses
              help="在标准错误输出日志，-vv 更详细 (log to stderr; -vv for debug)")
@click.option("--limit", "limits", multiple=True, metavar="名称=数值",
              help="调整读取上限，如 --limit rows=500000（见 docs/SECURITY.md） (change a limit)")
def cli(verbose: int, limits: tuple[str, ...]) -> None:
    """xltools：设备更新和消费品以旧换新工作台账工具 (work-ledger tools)."""
    _set_verbosity(verbose)
    if limits:
        from . import limits as limits_module

        before = limits_module.current()
        # For this command only: run in-process (tests, the add-in), the next command starts from the defaults.
        click.get_current_context().call_on_close(lambda: limits_module.configure(before))
        try:
            limits_module.configure(**limits_module.parse_overrides(limits))
        except ValueError as exc:
            known = "、".join(limits_module.DEFAULTS.describe())
            raise click.BadParameter(f"“{'，'.join(limits)}”应写成 名称=正数，名称为 {known}",
                                     param_hint="--limit") from exc


@cli.command()
@argument("file", "文件", type=click.Path(dir_okay=False))
@region_option
@json_option
@click.option("--origin", "with_origin", is_flag=True, help="JSON 中包含每行来源 (include each row's source line/cell)")
def extract(file: str, region: str | None, as_json: bool, with_origin: bool) -> None:
    """从工作方案、台账或行数据中提取台账 (extract the ledger from a plan document, ledger or rows).

    文件：.docx .pdf .txt .md .csv .json .xlsx .xlsm .xls .xlsb .ods
    """
    from .readers import extract as extract_ledger

    ledger = extract_ledger(file, region=region)
    if as_json:
        _print_json(ledger.to_dict(with_origin=with_origin))
    else:
        click.echo(f"{ledger.title or '（无标题）'}  地区：{ledger.region or '未知'}（{ledger.level or '?'}）")
        click.echo(f"工作目标 {len(ledger.goals)} 条，任务 {len(ledger.rows)} 行")
        for row in ledger.rows:
            units = "、".join(row.lead_units) or "（无牵头单位）"
            click.echo(f"  {row.seq if row.seq is not None else '-':>3}  {row.task}  [{units}]")
        if ledger.problems:
            click.echo(f"问题 {len(ledger.problems)} 条：")
            _print_problems(ledger.problems)
    sys.exit(int(not Report(list(ledger.problems)).valid))


@cli.command()
@argument("source", "来源文件", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="输出工作簿 (output .xlsx)")
@click.option("-t", "--template", type=click.Path(dir_okay=False),
              help="模板或已填写的台账（重新填写时保留进展情况等） (template, or a filled ledger to update)")
@region_option
@json_option
def fill(source: str, out: str, template: str | None, region: str | None, as_json: bool) -> None:
    """用工作方案、CSV/JSON 行或其他台账填写台账模板 (fill the ledger template).

    重新填写已填好的台账时，原有的进展情况、完成情况等保留，变更列入“变更记录”表。
    """
    from .filler import fill as fill_ledger

    result = fill_ledger(source, out, template=template, region=region)
    report = Report(list(result.problems))
    if as_json:
        _print_json({
            "out": str(result.path),
            "region": result.ledger.region,
            "rows": len(result.ledger.rows),
            "goals": len(result.ledger.goals),
            "changes": [c.to_dict() for c in result.changes],
            "problems": report.to_list(),
        })
    else:
        click.echo(f"已写入 {result.path}：{result.ledger.region or ''} 任务 {len(result.ledger.rows)} 行，"
                   f"工作目标 {len(result.ledger.goals)} 条")
        _print_described("变更 {n} 处：", result.changes)
        if report.problems:
            click.echo(f"问题 {len(report.problems)} 条：")
            _print_problems(report.problems)
    sys.exit(int(not report.valid))


@cli.command()
@argument("workbook", "台账文件", type=click.Path(dir_okay=False))
@region_option
@click.option("--units", type=click.Path(dir_okay=False),
              help="单位名录工作簿，默认为自带的 workbooks/units.xlsx (unit directory workbook)")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="写出标注问题的副本（单元格着色、批注、问题清单） (write a marked copy)")
@click.option("--fix", is_flag=True, help="写出只含安全修正的副本（别称、分隔符、断行、连写） (write a safely fixed copy)")
@click.option("--fixed", "fixed_out", type=click.Path(dir_okay=False),
              help="修正副本的文件名，默认为“原名_已修正” (where --fix writes)")
@click.option("--period", default="2024-2027", show_default=True,
              help="规划期，目标年份超出即报问题 (plan period for target years)")
@json_option
def validate(workbook: str, region: str | None, units: str | None, out: str | None, fix: bool,
             fixed_out: str | None, period: str, as_json: bool) -> None:
    """检查台账中的单位名称和目标格式 (validate unit names and target formats).

    台账文件可以是台账工作簿，也可以是工作方案或行数据。退出码：0 无问题，1 发现问题，2 无法读取。
    """
    from .validation import validate as validate_ledger

    result = validate_ledger(workbook, region=region, units=units, out=out, fix=fix, fixed_out=fixed_out,
                             period=_period(period))
    if as_json:
        _print_json(result.to_dict())
    else:
        report = result.report
        mode = "（名录中没有该地区，按台账自身的写法比对）" if result.learned else ""
        click.echo(f"{file_name(result.source)}  地区：{result.ledger.region or '未知'}{mode}  问题 {len(report)} 条")
        _print_problems(report.problems)
        _print_described("可安全修正 {n} 处：", result.fixes)
        if result.marked:
            click.echo(f"已写出标注副本：{result.marked}")
        if result.fixed:
            click.echo(f"已写出修正副本：{result.fixed}")
    sys.exit(int(not result.report.valid))


@cli.command()
@argument("text", "文字")
@click.option("--year", type=int, help="文字中未写年份时采用的年份 (year for targets that state none)")
@click.option("--period", default="2024-2027", show_default=True, help="规划期，超出即报问题 (plan period)")
@json_option
def targets(text: str, year: int | None, period: str, as_json: bool) -> None:
    """解析一段文字中的数值目标并检查格式 (parse the numeric targets in a text).

    文字为一段工作内容，如“到2025年，全区建成充换电站90座”；写成 @文件名 则读取该文件的内容。退出码：0 无问题，1 有格式问题。
    """
    from .target_text import format_target, parse_targets
    from .text import read_text

    if text.startswith("@"):
        text = read_text(text[1:])[0]
    result = parse_targets(text, default_year=year, period=_period(period))
    if as_json:
        _print_json(result.to_dict())
    else:
        click.echo(f"目标 {len(result.targets)} 个：")
        for t in result.targets:
            click.echo(f"  {format_target(t)}")
        if result.problems:
            click.echo(f"问题 {len(result.problems)} 条：")
            _print_problems(result.problems)
    sys.exit(int(not Report(result.problems).valid))


@cli.command()
@argument("city_ledger", "市级台账", type=click.Path(dir_okay=False), required=False)
@argument("inbox", "收件文件夹", type=click.Path(file_okay=False), required=False)
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="汇总工作簿 (rollup .xlsx)")
@click.option("--regions", help="应报送的地区，用逗号或顿号分隔；默认取单位名录中该市的区县 (expected regions)")
@click.option("--mapping", type=click.Path(dir_okay=False), help="已人工修正“映射”表的汇总工作簿 (corrected mapping)")
@click.option("--archive", type=click.Path(file_okay=False),
              help="归档文件夹，默认 ~/.local/share/xltools/archive 或 $XLTOOLS_ARCHIVE (archive folder)")
@click.option("--no-archive", is_flag=True, help="不归档收到的文件 (do not archive)")
@click.option("--from-archive", "run_id", help="按归档中的汇总记录重新生成 (reproduce an archived run)")
@click.option("--list-runs", is_flag=True, help="列出归档中的汇总记录 (list archived runs)")
@click.option("--units", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@click.option("--workers", type=int, help="并行读取的进程数，默认为处理器核数 (reader processes)")
@click.option("--feedback", type=click.Path(file_okay=False),
              help="同时为每个报送地区写出反馈工作簿（标注问题、未覆盖的市级任务、目标差距、未对应到市级任务的行）到此文件夹，"
                   "不能是收件文件夹 (feedback folder)")
@json_option
def consolidate(city_ledger, inbox, out, regions, mapping, archive, no_archive, run_id, list_runs, units, workers,
                feedback, as_json) -> None:
    """汇总各区县报送的台账，生成市级汇总工作簿 (consolidate district ledgers into a city rollup).

    市级台账可以是台账工作簿或工作方案（extract 能读的任何格式）；收件文件夹中各区县报送的
    .xlsx .xlsm .xlsb .xls .csv .ods 文件均可读取。

    退出码：0 无问题，1 有问题（汇总表照常写出），2 无法读取输入。
    """
    from .rollup import ConsolidateOptions, consolidate_from_archive
    from .rollup import consolidate as consolidate_ledgers

    if list_runs:
        _list_runs(archive)
        return
    if not out:
        raise click.UsageError("请用 -o 指定汇总工作簿")
    expected_by_default = False  # the districts expected are the unit directory's (no --regions)
    if run_id:
        from .archive import Archive

        with Archive(archive, create=False) as store:  # a missing archive is reported, never created
            run = store.run(run_id)
        rollup = consolidate_from_archive(run_id, out, archive=archive, mapping=mapping, feedback=feedback)
        if not run.complete:
            click.echo(f"注意：汇总记录 {run_id} 未完成（当时的汇总表没有写完或未经确认），已按其归档的文件重新生成")
    else:
        if not city_ledger or not inbox:
            raise click.UsageError("需要市级台账和收件文件夹")
        expected = _region_list(regions or "") or None
        if expected:
            from .rollup.reading import directory

            _check_regions(expected, directory(units))  # loaded once per process: consolidate uses it again
        options = ConsolidateOptions(
            regions=expected,
            mapping=mapping, archive=archive, use_archive=not no_archive, units=units, workers=workers,
            feedback=feedback)
        expected_by_default = options.regions is None
        with _progress("读取并核对各区县文件") as progress:
            options.progress = progress
            rollup = consolidate_ledgers(city_ledger, inbox, out, options)
    report = Report(list(rollup.problems))
    if as_json:
        _print_json(rollup.summary())
    else:
        from .rollup.writer import outcome_lines, problems_line

        for line in outcome_lines(rollup, out):
            click.echo(line)
            if line.startswith("未报送：") and expected_by_default:
                click.echo(DEFAULT_REGIONS_HINT)
        if rollup.superseded:
            click.echo(f"被新版本取代的文件 {len(rollup.superseded)} 个（保留在归档中）")
        if feedback:
            click.echo(f"已写出反馈：{len(rollup.feedback)} 个地区 → {feedback}")
            if rollup.feedback_stale:
                from .feedback import MANIFEST_NAME

                click.echo(f"注意：该文件夹中另有 {len(rollup.feedback_stale)} 个以前汇总留下的反馈，本次未重新生成，"
                           f"请勿发出（见{MANIFEST_NAME}）：{'、'.join(file_name(p) for p in rollup.feedback_stale[:5])}"
                           + ("……" if len(rollup.feedback_stale) > 5 else ""))
        if rollup.archive_run:
            click.echo(f"归档记录：{rollup.archive_run}（可用 --from-archive {rollup.archive_run} 重新生成）")
        click.echo(problems_line(rollup))
    sys.exit(int(not report.valid))


def _list_runs(archive: str | None) -> None:
    """Every run of the archive, oldest first. Incomplete ones are listed, marked 未完成, not left out: a run
    killed between writing its rollup and confirming it left a rollup that names it, and its files are
    archived, so it can be rebuilt with --from-archive."""
    from .archive import Archive

    with Archive(archive, create=False) as store:
        ids = store.runs()
        for rid in ids:
            run = store.run(rid)
            state = "" if run.complete else "  未完成（汇总表未写出或未确认）"
            click.echo(f"{rid}  {run.created:%Y-%m-%d %H:%M}  {run.city_name}  地区文件 {len(run.inputs)} 个{state}")
        if not ids:
            click.echo(f"归档中还没有汇总记录：{store.root}")


class _progress:
    """A progress bar on a terminal (stderr); nothing when output is piped or in CI."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def __enter__(self):
        return self.update

    def update(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@cli.command()
@click.option("--parquet", "out_dir", required=True, type=click.Path(file_okay=False),
              help="写出 Parquet 文件的文件夹（空文件夹，或以前 history 写出的文件夹） (output folder)")
@click.option("--archive", type=click.Path(file_okay=False),
              help="归档文件夹，默认与汇总命令相同 (archive folder; default as for consolidate)")
def history(out_dir: str, archive: str | None) -> None:
    """把归档中各地区每一版报送的台账行写成 Parquet，供数据分析使用 (the archive's history as Parquet).

    每个地区一个文件（地区.parquet），含该地区的每一版；_history.json 列出读取的每一版。
    退出码：0 全部读出，1 有的版本无法读取（其余照常写出），2 无法进行。
    """
    from .frames import history as write_history

    result = write_history(archive, out_dir)
    regions = {v.region for v in result.versions}
    rows = sum(v.rows + v.goals for v in result.versions if v.error is None)
    click.echo(f"已写出历史：{out_dir}（{len(regions)} 个地区，{len(result.versions)} 个版本，{rows} 行，"
               f"{len(result.files)} 个文件）")
    for v in result.unreadable:
        click.echo(f"  无法读取：{v.region or '未知地区'} 第{v.version}版“{v.name}”：{v.error}")
    sys.exit(int(bool(result.unreadable)))


@cli.group()
def units() -> None:
    """单位名录 (the unit directory)."""


@units.command("check")
@argument("name", "单位名称")
@click.option("--region", required=True, help="地区名称，如 市中区 (region)")
@click.option("--units", "units_path", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@json_option
def units_check(name: str, region: str, units_path: str | None, as_json: bool) -> None:
    """检查一个单位名称（或一个单元格的内容） (classify one unit name or cell).

    退出码：0 规范名称或泛指，1 其他情况。
    """
    from .units import check_name, describe_check, load_directory

    if not name.strip():
        raise click.BadParameter("单位名称是空的，请写出要检查的名称", param_hint="单位名称")
    result = check_name(name, region, load_directory(units_path))
    if as_json:
        _print_json(result.to_dict())
    else:
        click.echo(describe_check(result))
    sys.exit(0 if result.status in ("ok", "collective") else 1)


@units.command("learn")
@argument("ledgers", "台账文件", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--region", required=True, help="地区名称，如 历城区 (region)")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="提议名录工作簿 (proposal .xlsx)")
@click.option("--units", "units_path", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@json_option
def units_learn(ledgers: tuple[str, ...], region: str, out: str, units_path: str | None, as_json: bool) -> None:
    """从台账中整理一个地区的单位名录提议，供核实后粘贴进单位名录 (propose directory rows from ledgers).

    台账文件：该地区的台账或工作方案（任何 extract 能读的格式）。每个规范名称和别名都是台账中出现过的写法。
    """
    from .units import learn_directory
    from .units.directory import KIND_ZH

    proposal = learn_directory(list(ledgers), region, out=out, units=units_path)
    if as_json:
        _print_json(proposal.to_dict())
        return
    aliases = sum(len(u.aliases) for u in proposal.units)
    click.echo(f"已写出提议名录：{proposal.path}（{region}：单位 {len(proposal.units)} 个，别名 {aliases} 个，均待核实）")
    for u in proposal.units:
        click.echo(f"  {u.name}（{KIND_ZH[u.kind]}，{u.count}次）"
                   + (f"  别名：{'、'.join(u.aliases)}" if u.aliases else "")
                   + (f"  市级对应单位：{'、'.join(u.counterparts)}" if u.counterparts else ""))
    if proposal.known:
        click.echo(f"名录中已有、未列入 {len(proposal.known)} 个：{'、'.join(proposal.known)}")
    for name, other in proposal.skipped.items():
        click.echo(f"已跳过 {name}（是{other}的台账）")


def _deadline(ctx, param, value):
    from .distribution import parse_deadline

    try:
        return parse_deadline(value)
    except ValueError:
        raise click.BadParameter(f"截止日期应写成“2025-06-30”，而不是“{value}”", param_hint="--deadline") from None


@cli.command()
@argument("city_ledger", "市级台账", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="输出文件夹，每个区县一个工作簿 (output folder)")
@click.option("--regions", help="分发的地区，用逗号或顿号分隔；默认取单位名录中该市的区县 (regions)")
@click.option("--deadline", callback=_deadline, help="报送截止日期，如 2025-06-30 (deadline)")
@click.option("--password", help="工作表保护密码，默认不设；保护只防误改，不是保密措施 (protection password)")
@click.option("--zip", "as_zip", is_flag=True, help="另为每个区县打一个压缩包 (also one zip per district)")
@click.option("--units", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@click.option("--city", help="市级台账所属的市，默认从标题判断 (the city; default: from the title)")
@click.option("--replace", is_flag=True,
              help="输出文件夹中已有以前分发的文件时，把它们移到其中的“已替换_批次号”文件夹后重新分发（不删除） "
                   "(move an earlier distribution aside)")
@click.option("--desk", help="收发台网址（收发台启动时显示的地址）；各区县的上传码写入填报说明和分发清单 "
                             "(the desk's address)")
@click.option("--archive", type=click.Path(file_okay=False),
              help="收发台所用的归档文件夹（上传码由它生成），默认与汇总命令相同 (the desk's archive)")
@json_option
def distribute(city_ledger, out_dir, regions, deadline, password, as_zip, units, city, replace, desk, archive,
               as_json) -> None:
    """把市级台账分发给各区县填报：每个区县一个工作簿 (distribute the city ledger to its districts).

    市级台账可以是台账工作簿或工作方案（extract 能读的任何格式）。同时写出“分发清单.xlsx”。
    """
    from .distribution import distribute as distribute_ledger

    directory = units
    if regions is not None:
        from .units import load_directory

        directory = load_directory(units)  # loaded once: checked here, then given to distribute
        regions = _region_list(regions)
        _check_regions(regions, directory)
    result = distribute_ledger(city_ledger, out_dir, regions=regions, deadline=deadline, password=password,
                               zip=as_zip, units=directory, city=city, replace=replace, desk=desk, archive=archive)
    report = Report(list(result.problems))
    if as_json:
        _print_json(result.summary())
    else:
        click.echo(f"已写出 {len(result.files)} 个区县的填报工作簿到 {result.out_dir}（批次 {result.batch}）")
        for item in result.files:
            code = f"，上传码 {item.code}" if item.code else ""
            click.echo(f"  {item.region}：{file_name(item.path)}（任务 {item.tasks} 项，单位 {item.units} 个{code}）")
        click.echo(f"分发清单：{result.manifest}")
        if report.problems:
            click.echo(f"问题 {len(report.problems)} 条：")
            _print_problems(report.problems)
    sys.exit(int(not report.valid))


@cli.group()
def addin() -> None:
    """Excel 加载项 xltools.xlam（功能区“台账工具”） (the Excel add-in)."""


@addin.command("build")
@click.option("-o", "--out", default="xltools.xlam", show_default=True, type=click.Path(dir_okay=False),
              help="加载项文件 (output .xlam)")
def addin_build(out: str) -> None:
    """生成 Excel 加载项，任何系统上都可运行，相同源码得到相同文件 (build the add-in, reproducibly)."""
    from .addin_build import build

    path = build(out)
    click.echo(f"已生成加载项：{path}")


@addin.command("install")
@click.option("--xlam", type=click.Path(dir_okay=False, exists=True),
              help="已生成的加载项；默认由源码生成 (a built .xlam)")
@click.option("--dry-run", is_flag=True, help="只列出将执行的步骤，不做任何改动 (show the steps only)")
@click.option("--desk", metavar="地址",
              help="按钮经本机收发台（xltools serve 的地址，如 http://127.0.0.1:8765）运行，不由 Excel 启动 Python；"
                   "用于安全软件禁止 Excel 启动程序的电脑 (the desk's URL)")
def addin_install(xlam: str | None, dry_run: bool, desk: str | None) -> None:
    """为当前 Windows 用户安装加载项：复制到 Excel 启动文件夹，配置本环境的 Python (install for this user).

    运行前请关闭 Excel。
    """
    from .addin_build.install import install, plan

    steps = plan(xlam, desk=desk)
    if dry_run:
        click.echo("将执行以下步骤（--dry-run，未做任何改动）：")
        for line in steps.describe():
            click.echo(line)
        return
    for line in install(steps):
        click.echo(line)


@addin.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出检查结果 (JSON output)")
def addin_doctor(as_json: bool) -> None:
    """检查本机加载项为什么不工作：配置、Python、安全软件，并列出 Excel 启动的命令和需要放行的程序 (diagnose).

    发现问题时退出码为 1。
    """
    from .addin_build.doctor import diagnose

    diagnosis = diagnose()
    if as_json:
        _print_json({"ok": diagnosis.ok, "command": diagnosis.command(),
                     "checks": [{"name": c.name, "status": c.status, "text": c.text} for c in diagnosis.checks]})
    else:
        for line in diagnosis.lines():
            click.echo(line)
    sys.exit(int(not diagnosis.ok))


@cli.command()
@argument("city_ledger", "市级台账", type=click.Path(exists=True, dir_okay=False))
@click.option("--archive", type=click.Path(file_okay=False),
              help="归档文件夹（报送的文件保存在这里），默认与汇总命令相同 (archive folder)")
@click.option("--regions", help="应报送的地区，用逗号或顿号分隔；默认取单位名录中该市的区县 (expected regions)")
@click.option("--units", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；默认只有本机可用，改为内网地址时各区县凭上传码、市级凭口令使用 (listen address)")
@click.option("--port", default=8765, show_default=True, type=int, help="端口 (port)")
@click.option("--name", "names", multiple=True,
              help="各区县访问收发台用的地址（内网域名或 IP，可写多次）；监听 0.0.0.0 时默认本机名和本机 IP "
                   "(host names the desk answers to)")
@click.option("--print-codes", is_flag=True, help="只打印各区县的上传码和市级口令，不启动 (print codes and exit)")
def serve(city_ledger, archive, regions, units, host, port, names, print_codes) -> None:
    """启动收发台：各区县在网页上报送台账并即时看到问题，市级查看报送情况、生成汇总和反馈 (the desk).

    市级台账：市级工作台账（方案文本、文档或工作簿均可）。
    """
    from .archive import default_root
    from .desk import Desk

    desk = Desk(city_ledger, archive or default_root(), _region_list(regions) if regions else None, units)
    if print_codes:
        for region in desk.regions:
            click.echo(f"{region}\t{desk.code(region)}")
        click.echo(f"市级口令\t{desk.city_token()}")
        return
    try:
        import uvicorn

        from .desk.app import create_app
    except ImportError as exc:
        raise XltoolsError(f"the desk needs its extra: {exc}",
                           "收发台需要另外安装：pip install 'xltools[desk]'") from exc
    local = host in ("127.0.0.1", "localhost", "::1")
    hosts = ["127.0.0.1", "localhost"] if local else list(names) or desk_names(host)
    click.echo(f"收发台：http://{host}:{port}/ （区县报送）  http://{host}:{port}/city （市级）")
    click.echo(f"归档：{desk.archive}；各区县上传码和市级口令：xltools serve {city_ledger} --print-codes"
               + (f" --archive {archive}" if archive else ""))
    if not local:
        click.echo("注意：收发台对内网开放，只在单位内网使用；请把上传码只发给对应区县，市级口令只给汇总的同志。")
    uvicorn.run(create_app(desk, allowed_hosts=hosts, local=local), host=host, port=port, log_level="warning")


@cli.group()
def wps() -> None:
    """WPS 加载项：在 WPS 表格中显示“台账工具”选项卡 (the WPS add-in)."""


@wps.command("install")
@click.option("--desk", "desk", default="http://127.0.0.1:8765", show_default=True, metavar="地址",
              help="收发台地址（xltools serve 的地址），加载项通过它检查工作簿 (the desk's URL)")
@click.option("--offline", is_flag=True, help="把加载项文件复制到本机，不从收发台在线加载 (copy the files)")
@click.option("--jsplugins", is_flag=True,
              help="写 jsplugins.xml（单位 oem.ini 指定 JSPluginsServer 的 WPS 版本用），默认写 publish.xml")
@click.option("--build", "build", type=click.Path(file_okay=False),
              help="只生成离线安装包（.7z，供内网分发）到此文件夹，不安装 (build the offline package)")
def wps_install(desk: str, offline: bool, jsplugins: bool, build: str | None) -> None:
    """为当前用户安装 WPS 加载项“台账工具” (install the WPS add-in for this user).

    安装后完全退出 WPS 再打开；加载项的按钮通过收发台检查工作簿，请同时运行 xltools serve。
    """
    from .wps import build_offline, install

    if build:
        package = build_offline(build, desk)
        click.echo(f"已生成离线安装包：{package}（解压后运行 copy.bat，即复制到当前用户的 WPS 加载项文件夹）")
        return
    for line in install(desk, offline=offline, jsplugins=jsplugins).lines:
        click.echo(line)


def desk_names(host: str) -> list[str]:
    """The Host headers a desk listening on ``host`` answers: that address, or — for every address (0.0.0.0,
    ::) — this computer's names and addresses (a page asked for by any other name is refused)."""
    import socket

    if host not in ("0.0.0.0", "::", ""):
        return [host]
    found = {"127.0.0.1", "localhost", socket.gethostname(), socket.getfqdn()}
    try:
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return sorted(n for n in found if n)


def main() -> None:  # pragma: no cover - console entry point
    # A path typed or listed in bytes that are not UTF-8 (GBK names) is echoed as those bytes, never a crash;
    # the names xltools reports are decoded (display.file_name).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    cli()
