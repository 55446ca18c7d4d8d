"""The CLI door: every command's exit codes (0 clean, 1 problems, 2 unusable input or usage) on the real seed
documents, Chinese for the clerk on every failure path, English log lines only with -v."""

import json
import re
import shutil
import unicodedata
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CITY, SHIZHONG, ZHANGQIU, correct_as_a_clerk
from openpyxl import load_workbook

import xltools
import xltools.readers
from xltools.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def commands(group=cli, path=()):
    """(path, command) of every command under the group, subgroups' commands included: new ones as they come."""
    for name, command in group.commands.items():
        yield (*path, name), command
        yield from commands(command, (*path, name)) if hasattr(command, "commands") else ()


def english_words(text: str, *allowed_paths) -> list[str]:
    """ASCII words a clerk would have to read, leaving out what they typed or name on the command line:
    file names, option names (--period, -o), command names and argument names, numbers."""
    typed = {str(p) for p in allowed_paths} | {Path(str(p).lstrip("@")).name for p in allowed_paths}
    for path in sorted(typed, key=len, reverse=True):
        text = text.replace(path, " ")
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)
    names = {"xltools"}
    for path, command in commands():
        names.update(path)
        names.update(p.human_readable_name for p in command.params if not p.opts[0].startswith("-"))
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_]+", text) if w not in names]


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """Inputs made from the seeds: one with a warning, a district ledger without any problem, inboxes."""
    tmp = tmp_path_factory.mktemp("docs")
    lines = CITY.read_text(encoding="utf-8").split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("1\t"))
    cells = lines[first].split("\t")
    cells[3] = ""  # task 1 loses its 牵头单位: a missing-lead-unit warning
    lines[first] = "\t".join(cells)
    no_lead = tmp / "济南市_缺牵头单位.txt"
    no_lead.write_text("\n".join(lines), encoding="utf-8")

    clean_inbox = tmp / "clean_inbox"
    clean_inbox.mkdir()
    clean = clean_inbox / "章丘区_工作台账.xlsx"
    xltools.fill(ZHANGQIU, clean)
    correct_as_a_clerk(clean)

    seed_inbox = tmp / "seed_inbox"
    seed_inbox.mkdir()
    shutil.copy(SHIZHONG, seed_inbox / "市中区_工作方案.txt")
    shutil.copy(ZHANGQIU, seed_inbox / "章丘区_工作方案.txt")

    sentence = re.search(r"[^。；\n]*充换电站90座[^。；\n]*", SHIZHONG.read_text(encoding="utf-8")).group()
    clean_text = tmp / "充换电站.txt"
    clean_text.write_text(sentence, encoding="utf-8")
    return {"no_lead": no_lead, "clean": clean, "clean_inbox": clean_inbox, "seed_inbox": seed_inbox,
            "clean_text": clean_text}


def test_extract_exit_codes(docs, tmp_path):
    assert run("extract", CITY).exit_code == 0
    info_only = run("extract", SHIZHONG)  # notes (body-only tasks and the like) are not problems to fix
    assert info_only.exit_code == 0 and "问题 5 条" in info_only.output
    warned = run("extract", docs["no_lead"])
    assert warned.exit_code == 1 and "（无牵头单位）" in warned.stdout and "问题 1 条" in warned.stdout
    assert run("extract", docs["no_lead"], "--json").exit_code == 1
    assert run("extract", tmp_path / "无此文件.txt").exit_code == 2
    assert run("extract", tmp_path).exit_code == 2  # a folder


def test_fill_exit_codes_and_what_is_written(docs, tmp_path):
    out = tmp_path / "市中区.xlsx"
    assert run("fill", SHIZHONG, "-o", out).exit_code == 0 and load_workbook(out)["工作台账"].max_row > 60
    warned_out = tmp_path / "济南市.xlsx"
    warned = run("fill", docs["no_lead"], "-o", warned_out)
    assert warned.exit_code == 1, warned.output
    ws = load_workbook(warned_out)["工作台账"]  # written all the same, the task without its lead unit in it
    row1 = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == 1)
    assert ws.cell(row1, 4).value in (None, "") and ws.cell(row1 + 1, 4).value
    refused = tmp_path / "不写.xlsx"
    assert run("fill", tmp_path / "无此文件.txt", "-o", refused).exit_code == 2 and not refused.exists()
    assert run("fill", SHIZHONG).exit_code == 2 and not list(tmp_path.glob("*.tmp*"))  # -o missing


def test_validate_exit_codes(docs, tmp_path):
    assert run("validate", docs["clean"]).exit_code == 0
    marked = tmp_path / "标注.xlsx"
    result = run("validate", CITY, "-o", marked)
    assert result.exit_code == 1 and "市应急局" in result.stdout
    assert "问题清单" in load_workbook(marked).sheetnames
    assert run("validate", tmp_path / "无此文件.xlsx").exit_code == 2
    assert run("validate", docs["clean"], "--period", "二〇二四").exit_code == 2


def test_targets_exit_codes(docs, tmp_path):
    clean = run("targets", f"@{docs['clean_text']}")
    assert clean.exit_code == 0 and "充换电站 90座" in clean.stdout
    plan = run("targets", f"@{ZHANGQIU}")  # the whole 章丘区 plan: 2.8万 without a unit, 400亿级
    assert plan.exit_code == 1 and "缺少计量单位" in plan.stdout
    assert run("targets", f"@{tmp_path / '无此文件.txt'}").exit_code == 2
    assert run("targets", "到2025年", "--year", "明年").exit_code == 2


def test_consolidate_exit_codes(docs, tmp_path):
    clean_out = tmp_path / "clean.xlsx"
    clean = run("consolidate", CITY, docs["clean_inbox"], "-o", clean_out, "--regions", "章丘区", "--no-archive")
    assert clean.exit_code == 0, clean.output
    assert "问题：错误 0 条，警告 0 条" in clean.stdout and "汇总" in load_workbook(clean_out).sheetnames
    out = tmp_path / "seeds.xlsx"
    problems = run("consolidate", CITY, docs["seed_inbox"], "-o", out, "--regions", "市中区,章丘区,历城区",
                   "--no-archive")
    assert problems.exit_code == 1 and "未报送：历城区" in problems.stdout and out.exists()
    missing = tmp_path / "none.xlsx"
    assert run("consolidate", CITY, tmp_path / "无此文件夹", "-o", missing, "--no-archive").exit_code == 2
    assert run("consolidate", CITY, docs["clean_inbox"], "--no-archive").exit_code == 2  # -o missing
    assert not missing.exists()


def test_units_check_exit_codes(tmp_path):
    assert run("units", "check", "区财政局", "--region", "章丘区").exit_code == 0
    assert run("units", "check", "各镇（街道）", "--region", "章丘区").exit_code == 0  # collective
    assert run("units", "check", "区科技局", "--region", "章丘区").exit_code == 1
    assert run("units", "check", "区财政局", "--region", "章丘区", "--units", tmp_path / "无.xlsx").exit_code == 2
    assert run("units", "check", "区财政局").exit_code == 2  # --region is required


def test_units_learn_exit_codes(tmp_path):
    out = tmp_path / "章丘区_名录提议.xlsx"
    learned = run("units", "learn", ZHANGQIU, "--region", "章丘区", "-o", out)
    assert learned.exit_code == 0, learned.output
    assert out.exists() and "已写出提议名录" in learned.stdout
    other = run("units", "learn", ZHANGQIU, "--region", "历城区", "-o", tmp_path / "历城区.xlsx")
    assert other.exit_code == 2 and other.stderr.startswith("错误：")  # no 历城区 ledger among them
    assert not (tmp_path / "历城区.xlsx").exists()
    assert run("units", "learn", ZHANGQIU, "--region", "章丘区").exit_code == 2  # -o missing


def failures(docs, tmp_path):
    """Each command's ways to fail before doing any work: (args, what the Chinese message must say)."""
    missing = tmp_path / "无此文件.txt"
    return [
        (["extract"], "缺少参数 文件"),
        (["extract", CITY, "--regoin", "章丘区"], "没有选项 --regoin，是否要用 --region"),
        (["extract", CITY, "多余.txt"], "多余的参数：多余.txt"),
        (["extract", tmp_path], "是文件夹"),
        (["extract", missing], "找不到文件"),
        (["fill", CITY], "缺少选项 -o/--out"),
        (["fill", CITY, "-o"], "选项 -o 后面需要一个值"),
        (["fill", missing, "-o", tmp_path / "x.xlsx"], "找不到文件"),
        (["validate", CITY, "--period", "abc"], "选项 --period 的值无效：规划期应写成“2024-2027”"),
        (["validate", missing], "找不到文件"),
        (["validate", CITY, "--units", missing], "找不到"),
        (["targets"], "缺少参数 文字"),
        (["targets", "到2025年", "--year", "明年"], "选项 --year 的值无效：“明年”不是整数"),
        (["targets", f"@{missing}"], "找不到文件"),
        (["consolidate", CITY, docs["seed_inbox"]], "请用 -o 指定汇总工作簿"),
        (["consolidate", "-o", tmp_path / "x.xlsx"], "需要市级台账"),
        (["consolidate", CITY, tmp_path / "无此文件夹", "-o", tmp_path / "x.xlsx", "--no-archive"], "找不到收件文件夹"),
        (["consolidate", CITY, docs["seed_inbox"], "-o", tmp_path / "x.xlsx", "--workers", "many"], "不是整数"),
        (["units", "check", "区财政局"], "缺少选项 --region"),
        (["units", "frob"], "没有命令“frob”（可用的命令：check"),
        (["frob"], "没有命令“frob”"),
        (["--no-such-option"], "没有选项 --no-such-option"),
    ]


def test_every_failure_is_said_in_chinese_and_exits_2(docs, tmp_path):
    for args, said in failures(docs, tmp_path):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert said in result.stderr and result.stderr.splitlines()[-1].startswith("错误："), (args, result.stderr)
        assert result.stdout == "", args
        assert english_words(result.stderr, *args, tmp_path) == [], (args, result.stderr)


def test_every_command_even_one_added_later_refuses_an_unknown_option_in_chinese():
    for path, _ in commands():
        result = run(*path, "--no-such-option")
        assert result.exit_code == 2, path
        assert result.stderr.startswith(f"用法：xltools {' '.join(path)} [选项]"), result.stderr
        assert f"可用 xltools {' '.join(path)} -h 查看帮助" in result.stderr
        assert "错误：没有选项 --no-such-option" in result.stderr
        assert english_words(result.stderr) == [], result.stderr


def test_usage_errors_keep_the_english_detail_for_v():
    quiet = run("extract", "--bogus")
    assert "No such option" not in quiet.output
    verbose = run("-v", "extract", "--bogus")
    assert verbose.exit_code == 2 and "No such option '--bogus'" in verbose.stderr
    assert "错误：没有选项 --bogus" in verbose.stderr


def test_an_unusable_input_logs_in_english_only_with_v(tmp_path):
    missing = tmp_path / "无此文件.docx"
    quiet = run("extract", missing)
    assert quiet.exit_code == 2 and quiet.stderr == f"错误：找不到文件：{missing}\n"
    verbose = run("-v", "extract", missing)
    assert verbose.exit_code == 2
    assert "ERROR xltools" in verbose.stderr and "no such file" in verbose.stderr
    assert verbose.stderr.endswith(quiet.stderr)


def test_a_bug_is_one_chinese_line_and_its_traceback_needs_vv(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("rows")

    monkeypatch.setattr(xltools.readers, "extract", broken)
    quiet = run("extract", CITY)
    assert quiet.exit_code == 2
    assert quiet.stderr.startswith("内部错误：") and "维护人员" in quiet.stderr
    assert quiet.stderr.count("\n") == 1 and english_words(quiet.stderr) == []
    verbose = run("-v", "extract", CITY)
    assert "internal error: KeyError: 'rows'" in verbose.stderr and "Traceback" not in verbose.stderr
    debug = run("-vv", "extract", CITY)
    assert "Traceback (most recent call last)" in debug.stderr and "raise KeyError" in debug.stderr
    assert debug.exit_code == 2


def test_library_warnings_and_log_lines_reach_the_screen_only_with_v(monkeypatch):
    extract = xltools.readers.extract

    def warns(*args, **kwargs):
        # what openpyxl says of a workbook with a data-validation extension, in English
        warnings.warn("Data Validation extension is not supported and will be removed", UserWarning, stacklevel=1)
        return extract(*args, **kwargs)

    monkeypatch.setattr(xltools.readers, "extract", warns)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        quiet = run("extract", CITY)
        verbose = run("-v", "extract", CITY)
    assert quiet.exit_code == verbose.exit_code == 0
    assert quiet.stderr == ""
    assert "Data Validation extension" in verbose.stderr and "INFO xltools.readers: extracted" in verbose.stderr


def test_help_and_version_are_chinese():
    for path, _ in [((), cli), *commands()]:
        result = run(*path, "-h")
        assert result.exit_code == 0, path
        assert result.stdout.startswith(f"用法：{' '.join(('xltools', *path))} [选项]") and "选项：" in result.stdout
        for english in ("Usage:", "Options:", "Commands:", "Show this message", "[default", "[required"):
            assert english not in result.stdout, (path, english)
        assert not re.search(r"-\w+ (TEXT|INTEGER|FILE|DIRECTORY)\b", result.stdout), path
    assert "[默认：2024-2027]" in run("validate", "-h").stdout and "[必填]" in run("fill", "-h").stdout
    assert run("--version").stdout == f"xltools {xltools.__version__}\n"
    bare = run()
    assert bare.exit_code == 2 and "命令：" in bare.output and "extract" in bare.output


def test_help_columns_line_up_with_chinese_metavars():
    lines = [line for line in run("consolidate", "-h").stdout.splitlines() if line.startswith("  -")]
    starts = set()
    for line in lines:
        term, _, _ = line.strip().partition("  ")
        text = line[line.index(term) + len(term):].lstrip()
        width = sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in line[: line.index(text)])
        starts.add(width)
    assert len(starts) == 1, lines


# ASCII a clerk meets in help without -v besides option names, command names and file extensions: what they
# type or see on their own screen. Each must still occur in some help (checked), so the list stays short.
HELP_TOKENS = (
    "xltools",  # the program, in every usage line
    "Excel", "Windows", "Python",  # what the add-in is installed into and runs (addin, addin install)
    "WPS", "http://127.0.0.1:8765",  # the WPS add-in (wps, wps install) and the desk it asks
    "jsplugins.xml", "publish.xml", "oem.ini", "JSPluginsServer",  # the files and setting WPS reads its add-ins from
    "CSV", "JSON",  # formats of the rows fill reads and of --json's output
    "Parquet",  # the format history writes
    "docs/SECURITY.md",  # where --limit's limits are explained
    "workbooks/units.xlsx",  # validate's default unit directory
    "~/.local/share/xltools/archive", "$XLTOOLS_ARCHIVE",  # consolidate's default archive folder
    "rows=500000",  # --limit's example, as typed
)


def help_english(text: str) -> list[str]:
    """ASCII words of 3+ letters in help that are not an option, a command, a file extension or a HELP_TOKENS."""
    for token in sorted(HELP_TOKENS, key=len, reverse=True):
        text = text.replace(token, " ")
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)  # --regions, -o, -vv
    text = re.sub(r"\.[A-Za-z0-9]+\b", " ", text)  # .xlsx, xltools.xlam
    names = {name for path, _ in commands() for name in path}
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in names]


def test_help_without_v_has_no_english_and_names_arguments_in_chinese():
    helps = {path: run(*path, "-h") for path in [(), *(path for path, _ in commands())]}
    for path, result in helps.items():
        assert result.exit_code == 0, path
        assert help_english(result.stdout) == [], (path, result.stdout)
    everything = "".join(r.stdout for r in helps.values())
    assert [t for t in HELP_TOKENS if t not in everything] == []  # a token no help uses leaves the list
    assert helps[("consolidate",)].stdout.startswith("用法：xltools consolidate [选项] [市级台账] [收件文件夹]\n")
    assert "市级台账可以是台账工作簿或工作方案" in helps[("consolidate",)].stdout
    assert helps[("units", "learn")].stdout.startswith("用法：xltools units learn [选项] 台账文件...\n")
    assert "  consolidate  汇总各区县报送的台账，生成市级汇总工作簿\n" in helps[()].stdout
    assert "  -o, --out 文件       汇总工作簿\n" in helps[("consolidate",)].stdout  # was "汇总工作簿 (rollup .xlsx)"


def test_help_with_v_keeps_the_english_glosses():
    top = run("-v", "-h").stdout
    assert "显示版本号 (show the version)" in top and "单位名录 (the unit directory)." in top
    consolidate = " ".join(run("-v", "consolidate", "-h").stdout.split())
    assert "汇总各区县报送的台账，生成市级汇总工作簿 (consolidate district ledgers into a city rollup)." in consolidate
    assert "汇总工作簿 (rollup .xlsx)" in consolidate
    assert "(add-in" not in run("addin", "build", "-h").stdout and "(build the add-in" in run(
        "-v", "addin", "build", "-h").stdout


def test_help_lines_fit_the_terminal_with_chinese_wrapped_between_characters():
    for path in [(), *(path for path, _ in commands())]:
        for v in ((), ("-v",)):
            for line in run(*v, *path, "-h").stdout.splitlines():
                width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                assert width <= 80, (path, line)
    lines = run("consolidate", "-h").stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  --feedback"))
    wrapped = [lines[at].split()[-1]]
    for line in lines[at + 1:]:
        if not line.startswith(" " * 10):  # the next option
            break
        wrapped.append(line.strip())
    assert len(wrapped) > 1 and "".join(wrapped) == (
        "同时为每个报送地区写出反馈工作簿（标注问题、未覆盖的市级任务、目标差距、未对应到市级任务的行）到此文件夹，"
        "不能是收件文件夹")
    assert "市级台账可以是台账工作簿或工作方案（extract 能读的任何格式）；收件文件夹中各区县报送的 .xlsx" in "".join(
        line.strip() for line in lines)  # a docstring's lines joined: none between 的 and .xlsx, "" between 中文


def test_regions_the_directory_knows_by_another_form_are_a_usage_error(docs, tmp_path):
    out_dir = tmp_path / "分发"
    one = run("distribute", CITY, "-o", out_dir, "--regions", "历下")
    assert one.exit_code == 2 and one.stdout == ""
    assert one.stderr.splitlines()[-1] == "错误：单位名录中没有地区“历下”，是否是“历下区”？请核对 --regions"
    several = run("distribute", CITY, "-o", out_dir, "--regions", "历下、市中区,章邱区,雄安新区")
    assert several.exit_code == 2 and not out_dir.exists()
    assert several.stderr.splitlines()[-1] == (
        "错误：单位名录中没有地区“历下”“章邱区”，是否分别是“历下区”“章丘区”？请核对 --regions")
    out, archive = tmp_path / "汇总.xlsx", tmp_path / "archive"
    refused = run("consolidate", CITY, docs["seed_inbox"], "-o", out, "--archive", archive, "--regions", "市中,章丘区")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.splitlines()[-1] == "错误：单位名录中没有地区“市中”，是否是“市中区”？请核对 --regions"
    assert not out.exists() and not archive.exists()


def test_regions_like_no_known_one_stay_as_before(docs, tmp_path):
    distributed = run("distribute", CITY, "-o", tmp_path / "分发", "--regions", "章丘区,雄安新区", "--json")
    assert distributed.exit_code == 1, distributed.output
    assert "distribute-unknown-region" in [p["type"] for p in json.loads(distributed.stdout)["problems"]]
    out = tmp_path / "汇总.xlsx"
    consolidated = run("consolidate", CITY, docs["seed_inbox"], "-o", out, "--regions", "市中区,章丘区,雄安新区",
                       "--no-archive")
    assert consolidated.exit_code == 1 and out.exists()
    assert "未报送：雄安新区\n问题：" in consolidated.stdout  # named by the clerk: no hint about the directory


def test_missing_regions_from_the_directory_come_with_a_hint_to_use_regions(docs, tmp_path):
    result = run("consolidate", CITY, docs["seed_inbox"], "-o", tmp_path / "汇总.xlsx", "--no-archive")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("未报送：历下区、") and "市中区" not in lines[1]
    assert lines[2] == "（应报送地区取自单位名录“地区”表；只汇总部分地区时请用 --regions 指定）"
    named = run("consolidate", CITY, docs["seed_inbox"], "-o", tmp_path / "b.xlsx", "--no-archive",
                "--regions", "市中区,章丘区")
    assert "未报送" not in named.stdout and "--regions" not in named.stdout


def test_suggest_region_guesses_one_region_or_none():
    from xltools.units import load_directory
    from xltools.units.directory import suggest_region

    directory = load_directory()
    guesses = {name: suggest_region(directory, name) for name in (
        "历下", "市中", "平阴", "高新", "章邱区", "历城县", "天桥区区", "济南高新区", "高新技术", "历下区",
        "历区", "历", "雄安新区", "")}
    assert guesses == {
        "历下": "历下区", "市中": "市中区", "平阴": "平阴县", "高新": "高新区",  # + 区/县
        "章邱区": "章丘区", "历城县": "历城区", "天桥区区": "天桥区",  # a character changed, added, left out
        "济南高新区": "高新区", "高新技术": "高新区",  # an alias of the 地区 sheet; the start of one
        "历下区": "历下区",  # known: itself
        "历区": None, "历": None,  # 历下区 or 历城区; one character is too little to guess from
        "雄安新区": None, "": None}
