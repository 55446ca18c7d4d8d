"""The CLI door: same results as the library, the JSON contract, exit codes, help and docs."""

import json
import re
from pathlib import Path

from click.testing import CliRunner
from conftest import CITY, SHIZHONG

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
    assert set(data["goals"][0]) == {"year", "text", "lead_units"}
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
    for name, command in cli.commands.items():
        assert command.help and re.search(r"[\u4e00-\u9fff]", command.help), name
        assert f"xltools {name}" in readme, f"README lacks an example of `xltools {name}`"
