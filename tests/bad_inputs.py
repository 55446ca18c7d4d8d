"""The table of bad inputs (issue 10): each is built in code and given to every door that reads one file.

``BAD`` maps a name to (builder, what the single-file doors must do). A builder writes the input into a folder
and returns its path. ``expect`` is the exit code of ``extract``/``validate``/``fill`` and a fragment of the
Chinese message (exit 2) or the problem type the output must list (exit 1). In a consolidation every one of
them is one district's file: it must be named with ``district`` (a problem type) while the others are read.
Used by tests/test_bad_inputs.py and benchmarks/bench_bad_inputs.py (which prints the figures).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bombs import bomb_xlsx, tall_xlsx
from conftest import ZHANGQIU


@dataclass(frozen=True)
class Bad:
    build: Callable[[Path], Path]
    exit: int  # of extract / validate / fill
    says: str  # in the Chinese error (exit 2) or a problem type listed (exit 1)
    district: str  # the problem type consolidate lists for this district's file


def _filled(folder: Path) -> Path:
    from xltools import fill

    out = folder / "章丘区_台账.xlsx"
    if not out.exists():
        fill(ZHANGQIU, out)
    return out


def _truncated(folder: Path) -> Path:
    data = _filled(folder).read_bytes()
    path = folder / "历城区_截断.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def _not_a_workbook(folder: Path) -> Path:
    path = folder / "天桥区_台账.xlsx"
    path.write_text("这不是工作簿，是改了扩展名的文本。\n", encoding="utf-8")
    return path


def _empty(folder: Path) -> Path:
    path = folder / "槐荫区_台账.xlsx"
    path.write_bytes(b"")
    return path


def _csv(folder: Path, name: str, cell: str) -> Path:
    path = folder / name
    path.write_text(f"序号,重点任务,工作内容,牵头单位,责任单位\n1,推动设备更新,{cell},区发展改革局,区工业和信息化局\n",
                    encoding="utf-8")
    return path


def _control_chars(folder: Path) -> Path:
    return _csv(folder, "历下区_控制字符.csv", "新增充电桩\x01100个\x0b，完成\x1f更新")


def _long_cell(folder: Path) -> Path:
    return _csv(folder, "平阴县_长单元格.csv", "推动设备更新。" * 30_000)  # 210,000 characters


def _nul_csv(folder: Path) -> Path:
    return _csv(folder, "钢城区_NUL.csv", "新建\x00充电桩100个")


def _bad_json(folder: Path) -> Path:
    path = folder / "济阳区_台账.json"
    path.write_text('{"rows": [{"seq": 1, "task": "推动设备更新"', encoding="utf-8")
    return path


def _formula_csv(folder: Path) -> Path:
    return _csv(folder, "莱芜区_公式.csv", '"=HYPERLINK(""http://x"",""y"")"')


def _copy_of(name: str, make: Callable[[Path], Path]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        if not path.exists():
            path = make(path)
        return path
    return build


BAD: dict[str, Bad] = {
    "zip bomb, 1.5 GB unpacked": Bad(_copy_of("市中区_炸弹.xlsx", lambda p: bomb_xlsx(p, 1536)), 2, "压缩炸弹",
                                     "over-limit"),
    "zip bomb whose directory lies": Bad(
        _copy_of("历城区_谎报.xlsx", lambda p: bomb_xlsx(p, 3072, region="历城区", lie=True)), 2, "与目录记载不符",
        "over-limit"),
    "1,048,576 rows": Bad(_copy_of("钢城区_百万行.xlsx", lambda p: tall_xlsx(p, region="钢城区")), 2, "行数过多",
                          "over-limit"),
    "truncated xlsx": Bad(_truncated, 2, "无法读取", "unreadable-file"),
    "text renamed .xlsx": Bad(_not_a_workbook, 2, "无法读取", "unreadable-file"),
    "empty file": Bad(_empty, 2, "空的", "unreadable-file"),
    "CSV with control characters": Bad(_control_chars, 0, "", ""),
    "CSV cell of 210,000 characters": Bad(_long_cell, 1, "cell-too-long", "cell-too-long"),
    "CSV with a NUL byte": Bad(_nul_csv, 0, "", ""),
    "broken JSON": Bad(_bad_json, 2, "JSON", "unreadable-file"),
    "formula in a CSV cell": Bad(_formula_csv, 0, "", ""),
}

SINGLE_DOORS = ("extract", "validate", "fill")


def door_args(door: str, path: Path, out: Path) -> list[str]:
    """The command line of one door over one input (its outputs in ``out``)."""
    if door == "extract":
        return ["extract", "--json", str(path)]
    if door == "validate":
        return ["validate", str(path), "--region", "章丘区", "-o", str(out / f"{path.stem}_标注.xlsx")]
    return ["fill", str(path), "-o", str(out / f"{path.stem}_台账.xlsx"), "--region", "章丘区"]


def run_door(args: list[str]):
    """Run the CLI in this process: (exit code, output, the exception if it was not a clean exit)."""
    from click.testing import CliRunner

    from xltools.cli import cli

    result = CliRunner().invoke(cli, args)
    crash = result.exception if not isinstance(result.exception, SystemExit | type(None)) else None
    return result.exit_code, result.output, crash


def consolidate_inbox(folder: Path, inbox: Path) -> list[Path]:
    """An inbox of the two real district plans and every bad input (13 files: workers read them); returns the
    two good ones."""
    from conftest import SHIZHONG

    inbox.mkdir(exist_ok=True)
    goods = [shutil.copy(SHIZHONG, inbox / "市中区_工作方案.txt"), shutil.copy(ZHANGQIU, inbox / "章丘区_工作方案.txt")]
    for bad in BAD.values():
        path = bad.build(folder)
        if path.parent != inbox:
            shutil.copy(path, inbox / path.name)
    return [Path(g) for g in goods]


def problem_types(report_json: str) -> dict[str, set[str]]:
    data = json.loads(report_json)
    out: dict[str, set[str]] = {}
    for p in data.get("problems", []):
        out.setdefault(p.get("file") or "", set()).add(p["type"])
    return out
