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
        if result.changes:
            click.echo(f"变更 {len(result.changes)} 处：")
            for change in result.changes:
                click.echo(f"  {change.describe()}")
        if report.problems:
            click.echo(f"问题 {len(report.problems)} 条：")
            _print_problems(report.problems)
    sys.exit(int(not report.valid))


def main() -> None:  # pragma: no cover - console entry point
    cli()
