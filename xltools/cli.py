"""The headless command line: thin doors over the library functions of the same names.

Exit codes: 0 done, 1 done but problems found (errors or warnings), 2 unusable input.
This module never imports xlwings.
"""

from __future__ import annotations

import functools
import json
import logging
import re
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


def _period(text: str) -> tuple[int, int]:
    """'2024-2027' → (2024, 2027)."""
    start, _, end = text.replace("—", "-").replace("–", "-").partition("-")
    if not start.strip().isdigit() or not (end or start).strip().isdigit():
        raise click.BadParameter(f"规划期应写成“2024-2027”，而不是“{text}”", param_hint="--period")
    return int(start), int(end or start)


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
@click.option("--period", default="2024-2027", show_default=True,
              help="规划期，目标年份超出即报问题 (plan period for target years)")
@json_option
@handles_errors
def validate(workbook: str, region: str | None, units: str | None, out: str | None, fix: bool,
             fixed_out: str | None, period: str, as_json: bool) -> None:
    """检查台账中的单位名称和目标格式 (validate unit names and target formats).

    WORKBOOK 可以是台账工作簿，也可以是工作方案或行数据。退出码：0 无问题，1 发现问题，2 无法读取。
    """
    from .validation import validate as validate_ledger

    result = validate_ledger(workbook, region=region, units=units, out=out, fix=fix, fixed_out=fixed_out,
                             period=_period(period))
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
@click.argument("city_ledger", type=click.Path(dir_okay=False), required=False)
@click.argument("inbox", type=click.Path(file_okay=False), required=False)
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="汇总工作簿 (rollup .xlsx)")
@click.option("--regions", help="应报送的地区，用逗号或顿号分隔；默认取单位名录中该市的区县 (expected regions)")
@click.option("--mapping", type=click.Path(dir_okay=False), help="已人工修正“映射”表的汇总工作簿 (corrected mapping)")
@click.option("--archive", type=click.Path(file_okay=False),
              help="归档文件夹，默认 ~/.local/share/xltools/archive 或 $XLTOOLS_ARCHIVE (archive folder)")
@click.option("--no-archive", is_flag=True, help="不归档收到的文件 (do not archive)")
@click.option("--from-archive", "run_id", help="按归档中的汇总记录重新生成 (reproduce an archived run)")
@click.option("--list-runs", is_flag=True, help="列出归档中的汇总记录 (list archived runs)")
@click.option("--units", type=click.Path(dir_okay=False), help="单位名录工作簿 (unit directory)")
@click.option("--workers", type=int, help="并行读取的进程数，默认为 CPU 核数 (reader processes)")
@json_option
@handles_errors
def consolidate(city_ledger, inbox, out, regions, mapping, archive, no_archive, run_id, list_runs, units, workers,
                as_json) -> None:
    """汇总各区县报送的台账，生成市级汇总工作簿 (consolidate district ledgers into a city rollup).

    CITY_LEDGER 为市级台账，INBOX 为收件文件夹（xlsx、xlsm、xlsb、xls、csv、ods 均可）。
    退出码：0 无问题，1 有问题（汇总表照常写出），2 无法读取输入。
    """
    from .rollup import ConsolidateOptions, consolidate_from_archive
    from .rollup import consolidate as consolidate_ledgers

    if list_runs:
        from .archive import Archive

        with Archive(archive) as store:
            for rid in store.runs():
                run = store.run(rid)
                click.echo(f"{rid}  {run.created:%Y-%m-%d %H:%M}  {run.city_name}  地区文件 {len(run.inputs)} 个")
        return
    if not out:
        raise click.UsageError("请用 -o 指定汇总工作簿 (missing -o/--out)")
    if run_id:
        rollup = consolidate_from_archive(run_id, out, archive=archive, mapping=mapping)
    else:
        if not city_ledger or not inbox:
            raise click.UsageError("需要市级台账和收件文件夹 (CITY_LEDGER and INBOX are required)")
        options = ConsolidateOptions(
            regions=[r for r in re.split(r"[,，、\s]+", regions) if r] if regions else None,
            mapping=mapping, archive=archive, use_archive=not no_archive, units=units, workers=workers)
        with _progress("读取并核对各区县文件") as progress:
            options.progress = progress
            rollup = consolidate_ledgers(city_ledger, inbox, out, options)
    report = Report(list(rollup.problems))
    if as_json:
        _print_json(rollup.summary())
    else:
        mapped = sum(m.mapped for m in rollup.mappings)
        click.echo(f"已写出汇总：{out}（{len(rollup.regions)} 个地区，{len(rollup.mappings)} 行，已对应 {mapped} 行）")
        if rollup.missing_regions:
            click.echo(f"未报送：{'、'.join(rollup.missing_regions)}")
        if rollup.superseded:
            click.echo(f"被新版本取代的文件 {len(rollup.superseded)} 个（保留在归档中）")
        if rollup.archive_run:
            click.echo(f"归档记录：{rollup.archive_run}（可用 --from-archive {rollup.archive_run} 重新生成）")
        counts = {s: sum(p.severity == s for p in report) for s in ("error", "warning", "info")}
        click.echo(f"问题：错误 {counts['error']} 条，警告 {counts['warning']} 条，提示 {counts['info']} 条（详见“问题清单”表）")
    sys.exit(int(not report.valid))


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
