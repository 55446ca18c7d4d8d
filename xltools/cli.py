"""The headless command line: thin doors over the library functions of the same names.

Exit codes: 0 done, 1 done but problems found (errors or warnings), 2 unusable input.
This module never imports xlwings.
"""

from __future__ import annotations

import functools
import json
import logging
import sys

import click

from . import __version__
from .errors import XltoolsError
from .problems import Report

log = logging.getLogger("xltools")


def handles_errors(fn):
    """Turn an XltoolsError into a Chinese message for the clerk, an English log line and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except XltoolsError as exc:
            log.error("%s", exc)
            click.echo(f"错误：{exc.message_zh}", err=True)
            sys.exit(2)

    return wrapper


def region_option(fn):
    return click.option("--region", help="地区名称，如 章丘区；默认从标题判断 (region name; default: from the title)")(fn)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="输出 JSON (print JSON)")(fn)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xltools")
@click.option("-v", "--verbose", count=True, help="在标准错误输出日志 (log to stderr; -vv for debug)")
def cli(verbose: int) -> None:
    """xltools：设备更新和消费品以旧换新工作台账工具 (work-ledger tools)."""
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@region_option
@json_option
@click.option("--origin", "with_origin", is_flag=True, help="JSON 中包含每行来源 (include each row's source line/cell)")
@handles_errors
def extract(file: str, region: str | None, as_json: bool, with_origin: bool) -> None:
    """从工作方案、台账或行数据中提取台账 (extract the ledger from a plan document, ledger or rows).

    FILE: .docx .txt .md .csv .json .xlsx .xlsm .xls .xlsb .ods
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
    sys.exit(0 if not any(p.severity == "error" for p in ledger.problems) else 1)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="输出工作簿 (output .xlsx)")
@click.option("-t", "--template", type=click.Path(dir_okay=False),
              help="模板或已填写的台账（重新填写时保留进展情况等） (template, or a filled ledger to update)")
@region_option
@json_option
@handles_errors
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
@click.argument("workbook", type=click.Path(dir_okay=False))
@region_option
@click.option("--units", type=click.Path(dir_okay=False),
              help="单位名录工作簿，默认为自带的 workbooks/units.xlsx (unit directory workbook)")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="写出标注问题的副本（单元格着色、批注、问题清单） (write a marked copy)")
@click.option("--fix", is_flag=True, help="写出只含安全修正的副本（别称、分隔符、断行、连写） (write a safely fixed copy)")
@click.option("--fixed", "fixed_out", type=click.Path(dir_okay=False),
              help="修正副本的文件名，默认为“原名_已修正” (where --fix writes)")
@json_option
@handles_errors
def validate(workbook: str, region: str | None, units: str | None, out: str | None, fix: bool,
             fixed_out: str | None, as_json: bool) -> None:
    """检查台账中的单位名称和目标格式 (validate unit names and target formats).

    WORKBOOK 可以是台账工作簿，也可以是工作方案或行数据。退出码：0 无问题，1 发现问题，2 无法读取。
    """
    from .validation import validate as validate_ledger

    result = validate_ledger(workbook, region=region, units=units, out=out, fix=fix, fixed_out=fixed_out)
    if as_json:
        _print_json(result.to_dict())
    else:
        report = result.report
        mode = "（名录中没有该地区，按台账自身的写法比对）" if result.learned else ""
        click.echo(f"{result.source.name}  地区：{result.ledger.region or '未知'}{mode}  问题 {len(report)} 条")
        _print_problems(report.problems)
        _print_described("可安全修正 {n} 处：", result.fixes)
        if result.marked:
            click.echo(f"已写出标注副本：{result.marked}")
        if result.fixed:
            click.echo(f"已写出修正副本：{result.fixed}")
    sys.exit(int(not result.report.valid))


@cli.command()
@click.argument("text")
@click.option("--year", type=int, help="文字中未写年份时采用的年份 (year for targets that state none)")
@click.option("--period", default="2024-2027", show_default=True, help="规划期，超出即报问题 (plan period)")
@json_option
@handles_errors
def targets(text: str, year: int | None, period: str, as_json: bool) -> None:
    """解析一段文字中的数值目标并检查格式 (parse the numeric targets in a text).

    TEXT 为一段工作内容，如“到2025年，全区建成充换电站90座”；以 @文件名 读取文件内容。退出码：0 无问题，1 有格式问题。
    """
    from .target_text import format_target, parse_targets
    from .text import read_text

    if text.startswith("@"):
        text = read_text(text[1:])[0]
    start, _, end = period.partition("-")
    result = parse_targets(text, default_year=year, period=(int(start), int(end or start)))
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


@cli.group()
def units() -> None:
    """单位名录 (the unit directory)."""


@units.command("check")
@click.argument("name")
@click.option("--region", required=True, help="地区名称，如 市中区 (region)")
@click.option("--units", "units_path", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@json_option
@handles_errors
def units_check(name: str, region: str, units_path: str | None, as_json: bool) -> None:
    """检查一个单位名称（或一个单元格的内容） (classify one unit name or cell).

    退出码：0 规范名称或泛指，1 其他情况。
    """
    from .units import check_name, load_directory

    result = check_name(name, region, load_directory(units_path))
    if as_json:
        _print_json(result.to_dict())
    else:
        click.echo(f"{result.input}：{STATUS_ZH[result.status]}"
                   + (f" → {result.canonical}" if result.canonical and result.canonical != result.input else "")
                   + (f"（建议：{'、'.join(result.suggestions)}）" if result.suggestions else ""))
        if result.message:
            click.echo(f"  {result.message}")
        for part in result.parts:
            click.echo(f"  {part.input}：{STATUS_ZH[part.status]}"
                       + (f" → {part.canonical}" if part.canonical and part.canonical != part.input else "")
                       + (f"（建议：{'、'.join(part.suggestions)}）" if part.suggestions else ""))
    sys.exit(0 if result.status in ("ok", "collective") else 1)


STATUS_ZH = {"ok": "规范", "alias": "简称/别称", "typo": "疑似错字", "split": "多个名称连写", "wrong_level": "层级不符",
             "collective": "泛指", "unknown": "不在名录中"}


def main() -> None:  # pragma: no cover - console entry point
    cli()
