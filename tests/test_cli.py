"""The CLI door: same results as the library, the JSON contract, exit codes, help and docs."""

import json
import re
from pathlib import Path

from click.testing import CliRunner
from conftest import CITY, SHIZHONG

import xltools
from xltools import extract
from xltools.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_extract_json_is_the_library_result_in_the_contract_shape():
    result = run("extract", SHIZHONG, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"title", "region", "level", "goals", "rows", "problems"}
    assert data == extract(SHIZHONG).to_dict()
    row = data["rows"][8]
    assert set(row) >= {"seq", "section", "subsection", "task", "content", "lead_units", "responsible_units"}
    assert (row["seq"], row["task"], row["lead_units"]) == (9, "有序推进充换电基础设施建设", ["区发展改革局"])
    assert set(data["goals"][0]) == {"year", "text", "lead_units", "responsible_units"}
    assert set(data["problems"][0]) >= {"type", "severity", "message", "file", "sheet", "cell", "line", "value",
                                        "suggestion"}


def test_extract_origin_flag_adds_lines():
    data = json.loads(run("extract", CITY, "--json", "--origin").output)
    assert data["rows"][0]["origin"] == {"file": CITY.name, "line": 21}


def test_extract_text_summary():
    result = run("extract", CITY)
    assert result.exit_code == 0
    assert "地区：济南市（市）" in result.output and "任务 60 行" in result.output


def test_unusable_input_exits_2_with_a_chinese_message(tmp_path):
    result = run("extract", tmp_path / "无此文件.docx")
    assert result.exit_code == 2
    assert "找不到文件" in result.output


def test_every_command_has_help_and_a_readme_section():
    readme = README.read_text(encoding="utf-8")
    commands = [(name, command) for name, command in cli.commands.items()]
    commands += [(f"{name} {sub}", c) for name, group in cli.commands.items()
                 for sub, c in getattr(group, "commands", {}).items()]
    for name, command in commands:
        assert command.help and re.search(r"[\u4e00-\u9fff]", command.help), name
        assert f"xltools {name}" in readme, f"README lacks an example of `xltools {name}`"


def test_fill_cli_writes_the_workbook_and_reads_back_the_same_ledger(tmp_path):
    out = tmp_path / "济南市_工作台账.xlsx"
    result = run("fill", CITY, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["region"], summary["rows"], summary["goals"]) == ("济南市", 60, 8)
    again = extract(out)  # the filled workbook is itself a ledger source (calamine reader)
    source = extract(CITY)
    assert [r.to_dict() for r in again.rows] == [r.to_dict() for r in source.rows]
    assert [g.to_dict() for g in again.goals] == [g.to_dict() for g in source.goals]
    assert (again.region, again.level, again.city) == ("济南市", "市", "济南市")


def test_fill_cli_refuses_to_write_over_its_input(tmp_path):
    src = tmp_path / "plan.txt"
    src.write_bytes(CITY.read_bytes())
    result = run("fill", src, "-o", src)
    assert result.exit_code == 2 and src.read_bytes() == CITY.read_bytes()


def test_fill_cli_refill_lists_changes(tmp_path):
    first = tmp_path / "v1.xlsx"
    assert run("fill", SHIZHONG, "-o", first).exit_code == 0
    newer = tmp_path / "newer.txt"
    newer.write_text(SHIZHONG.read_text(encoding="utf-8").replace("全区建成充换电站90座", "全区建成充换电站100座"),
                     encoding="utf-8")
    result = run("fill", newer, "-t", first, "-o", tmp_path / "v2.xlsx")
    assert result.exit_code == 0, result.output
    assert "变更 1 处" in result.output and "充换电站100座" in result.output


def test_targets_cli_is_the_library_contract():
    text = "到2025年，全区建成充换电站90座，新能源汽车充电桩保有量超过1.3万个"
    result = run("targets", text, "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data == xltools.targets(text).to_dict()
    assert [(t["metric"], t["comparator"], t["value"], t["unit"], t["year"]) for t in data["targets"]] == [
        ("充换电站", "=", 90, "座", 2025), ("新能源汽车充电桩保有量", ">", 13000, "个", 2025)]
    bad = run("targets", "到2025年，二手车交易量达到2.8万")
    assert bad.exit_code == 1 and "缺少计量单位" in bad.output


def test_filled_ledger_shows_targets_and_a_refill_recomputes_them(tmp_path):
    from openpyxl import load_workbook

    first = tmp_path / "v1.xlsx"
    assert run("fill", SHIZHONG, "-o", first).exit_code == 0
    ws = load_workbook(first)["工作台账"]
    row9 = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == 9)
    assert ws.cell(row9, 6).value == "2025年 充换电站 90座\n2025年 新能源汽车充电桩保有量 >1.3万个"
    newer = tmp_path / "newer.txt"
    newer.write_text(SHIZHONG.read_text(encoding="utf-8").replace("充换电站90座", "充换电站100座"), encoding="utf-8")
    second = tmp_path / "v2.xlsx"
    result = run("fill", newer, "-t", first, "-o", second, "--json")
    changes = json.loads(result.output)["changes"]
    assert [c["field"] for c in changes if c["kind"] != "added"] == ["工作内容"]  # 目标 was computed, not typed
    ws = load_workbook(second)["工作台账"]
    assert ws.cell(row9, 6).value.startswith("2025年 充换电站 100座")
