"""Generate district ledgers as districts write them themselves, for the consolidation benchmark (issue 13).

No template, no 任务键, no ``_xltools`` sheet: each district types its own ledger (xlsx, ~60 task rows) from
the real documents — the 济南市 city ledger and the 市中区 and 章丘区 plans (tests/data/seeds). Its tasks are
the city's and the plans' tasks reworded (推动 → 推进, 加快 → 加速推进 …), in its own order and numbering,
some merged, some from the district plans only; each content is a recombination of the sentences of that
task (some dropped, the order varied, now and then a sentence of a neighbouring task), its figures scaled
to the district. A 目标 column says what the district will do this year ("年内完成93个", "全年新增200台").
Headers, their words and the column order vary as in tests/districts.py (one- or two-row headers, band
rows or none, a signed preamble, a footer). Units are the plans' names with the district's own offices
(市生态环境局东城分局, 东城街道办事处), now and then a short form or a typo.

Deterministic by seed: the same n and seed give the same files, byte for byte.

    python benchmarks/gen_freeform.py OUT_DIR N [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import xlsxwriter

import xltools

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_districts import CITY_LEDGER, QUANTITY, SHIZHONG_PLAN, ZHANGQIU_PLAN, district_names  # noqa: E402

# Task-name rewordings a district's clerk makes (first match per word; some rows keep the city's words).
REWORDINGS = (
    ("推动", ("推进", "全力推动", "大力推动")), ("加快", ("加速", "加快推进", "加紧")), ("实施", ("开展", "组织实施")),
    ("推进", ("推动", "扎实推进")), ("开展", ("组织开展", "深入开展")), ("提升", ("提高", "全面提升")),
    ("加强", ("强化", "进一步加强")), ("完善", ("健全", "优化完善")), ("支持", ("鼓励", "积极支持")),
    ("促进", ("推动", "带动")), ("建设", ("建设工作", "布局建设")),
)
OPENINGS = ("结合我区实际，", "按照市里部署，", "围绕全年目标，", "进一步", "坚持问题导向，")
ENDINGS = ("", "", "", "工作", "行动", "专项行动")
TARGET_FORMS = ("年内完成{n}{u}", "全年新增{n}{u}", "年内完成{n}{u}", "2025年底前完成{n}{u}", "完成改造{n}{u}",
                "力争达到{n}{u}", "年内实施{n}{u}")
TARGET_UNITS = ("个", "台", "辆", "座", "家", "项", "户", "套", "处", "个")
FORMAT_UNIT = re.compile(r"\d+(?:\.\d+)?(万?(?:个|台|辆|座|家|项|户|套|处|吨|公里|平方米))")

# Header words per field: what different districts type (tests/districts.py, readers.grid.HEADER_ALIASES).
HEADERS = {
    "seq": ("序号", "序号", "编号"),
    "task": ("重点任务", "主要任务", "任务名称", "重点工作"),
    "content": ("工作内容", "具体措施", "工作措施", "主要内容", "工作内容及措施"),
    "lead": ("牵头单位", "牵头部门", "牵头单位（部门）"),
    "resp": ("责任单位", "配合单位", "责任部门"),
    "target": ("目标", "工作目标", "量化目标"),
}
EXTRAS = ("完成时限", "进展情况", "责任人", "备注")
LAYOUTS = (
    ("seq", "task", "content", "target", "lead", "resp"),
    ("seq", "task", "content", "lead", "resp", "target"),
    ("seq", "task", "lead", "resp", "content", "target"),
    ("seq", "task", "target", "content", "lead", "resp"),
    ("seq", "task", "content", "lead", "target"),
)
PROGRESS_NEXT = ("下一步将继续加大推进力度。", "正在组织项目申报。", "已纳入区级重点项目库，按计划推进。", "")
FOOTER = "填报人：{person}　　联系电话：0531-{phone}　　审核人：{checker}"
PEOPLE = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
# Offices every district has under a name of its own (市生态环境局东城分局), so distinct names grow with districts.
OWN_OFFICES = ("市生态环境局{short}分局", "{short}街道办事处", "{short}经济开发区管理委员会", "市公安局{short}分局",
               "国网{short}供电公司")
SHORT_FORMS = {"区住房城乡建设局": "区住建局", "区人力资源社会保障局": "区人社局", "区发展和改革局": "区发改局",
               "区工业和信息化局": "区工信局", "区市场监督管理局": "区市场监管局"}


def _sentences(text: str) -> list[str]:
    return [s + "。" for s in re.split(r"[。；;]", text) if s.strip()]


def _district_unit(unit: str) -> str:
    return re.sub(r"^市(?!生态环境局.+分局)", "区", unit)  # a city bureau's district branch keeps its name


class _Sources:
    """The tasks of the real documents, as (name, sentences, lead units, responsible units, section)."""

    def __init__(self, city_ledger: Path):
        self.city = [self._task(r) for r in xltools.extract(city_ledger).rows]
        self.plans = [self._task(r) for p in (SHIZHONG_PLAN, ZHANGQIU_PLAN) for r in xltools.extract(p).rows]

    @staticmethod
    def _task(row) -> tuple:
        content = row.content.replace("全市", "全区").replace("市中区", "全区").replace("章丘区", "全区")
        return (row.task, _sentences(content), [_district_unit(u) for u in row.lead_units],
                [_district_unit(u) for u in row.responsible_units], row.section or "")


def _reword(name: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return name
    for word, others in REWORDINGS:
        if word in name:
            name = name.replace(word, rng.choice(others), 1)
            break
    return name + rng.choice(ENDINGS) if not name.endswith(("工作", "行动")) else name


def _reword_sentence(sentence: str, rng: random.Random) -> str:
    """A sentence in the district's words: a verb changed, an opening of its own."""
    if rng.random() < 0.5:
        words = [(w, others) for w, others in REWORDINGS if w in sentence]
        if words:
            word, others = rng.choice(words)
            sentence = sentence.replace(word, rng.choice(others), 1)
    if rng.random() < 0.15:
        sentence = rng.choice(OPENINGS) + sentence
    return sentence


def _scale(text: str, rng: random.Random, factor: float) -> str:
    def one(m: re.Match) -> str:
        value = float(m.group(1)) * factor * rng.uniform(0.8, 1.2)
        amount = f"{max(value, 0.1):.1f}" if "." in m.group(1) else f"{max(1, round(value))}"
        return amount + m.group(2)

    return QUANTITY.sub(one, text)


def _content(task: tuple, neighbour: tuple | None, rng: random.Random, factor: float) -> str:
    sentences = list(task[1])
    keep = max(1, round(len(sentences) * rng.uniform(0.7, 1.0)))
    if len(sentences) > keep:
        drop = set(rng.sample(range(len(sentences)), len(sentences) - keep))
        sentences = [s for i, s in enumerate(sentences) if i not in drop]
    if len(sentences) > 2 and rng.random() < 0.4:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    if neighbour is not None and neighbour[1] and rng.random() < 0.2:
        sentences.append(rng.choice(neighbour[1]))
    sentences = [_reword_sentence(s, rng) for s in sentences]
    return _scale("".join(sentences), rng, factor)


def _progress(content: str, rng: random.Random) -> str:
    """What a district reports under 进展情况: a date, what it did (a sentence of its own plan, in the past), a share."""
    if rng.random() < 0.2:
        return rng.choice(("", "推进中", "已完成"))
    done = rng.sample(_sentences(content), k=min(2, len(_sentences(content))))
    return (f"截至{rng.choice(('3月底', '6月底', '9月底'))}，" + "".join(s.rstrip("。") + "，" for s in done)
            + f"已完成年度目标的{rng.randint(10, 95)}%。{rng.choice(PROGRESS_NEXT)}")


def _target(content: str, rng: random.Random) -> str:
    if rng.random() < 0.15:
        return ""
    m = FORMAT_UNIT.search(content)
    unit = m.group(1) if m and rng.random() < 0.6 else rng.choice(TARGET_UNITS)
    n = rng.choice((rng.randint(2, 30), rng.randint(10, 300)))
    return rng.choice(TARGET_FORMS).format(n=n, u=unit)


def _units(units: list[str], offices: list[str], rng: random.Random) -> list[str]:
    out = []
    for u in units:
        if u in SHORT_FORMS and rng.random() < 0.15:
            u = SHORT_FORMS[u]
        elif len(u) >= 6 and rng.random() < 0.01:  # a typo: one character of the middle replaced
            i = rng.randrange(2, len(u) - 1)
            u = u[:i] + rng.choice("建设发展管理服务") + u[i + 1:]
        out.append(u)
    if rng.random() < 0.25:
        out.append(rng.choice(offices))
    return out


def _tasks(src: _Sources, rng: random.Random) -> list[tuple]:
    """The district's ~60 tasks: most of the city's (in its order, a few moved), some of the plans', a few
    merged."""
    n = rng.randint(55, 65)
    city = [t for t in src.city if rng.random() < 0.9]
    plans = rng.sample(src.plans, k=min(len(src.plans), max(0, n - len(city)) + rng.randint(2, 8)))
    tasks = city + plans
    order = {s: i for i, s in enumerate(dict.fromkeys(t[4] for t in src.city + src.plans))}
    tasks.sort(key=lambda t: (order[t[4]], rng.random() < 0.1))
    for _ in range(rng.randint(0, 3)):  # two neighbouring tasks merged into one row, as 市中区 does
        if len(tasks) > 2:
            i = rng.randrange(len(tasks) - 1)
            a, b = tasks[i], tasks[i + 1]
            tasks[i:i + 2] = [(a[0], a[1] + b[1], a[2] + [u for u in b[2] if u not in a[2]], a[3], a[4])]
    return tasks[:n]


def _workbook(path: Path, region: str, src: _Sources, rng: random.Random) -> None:
    short = region[:-1]
    offices = [o.format(short=short) for o in OWN_OFFICES]
    factor = rng.uniform(0.03, 0.25)
    layout = list(rng.choice(LAYOUTS))
    layout += [e for e in EXTRAS if rng.random() < 0.6]  # the reporting columns offices add, in this order
    words = [HEADERS[f][rng.randrange(len(HEADERS[f]))] if f in HEADERS else f for f in layout]
    two_rows = rng.random() < 0.3
    bands = rng.random() < 0.6
    tasks = _tasks(src, rng)

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"created": datetime(2025, 3, 1)})  # the same bytes in every run
    ws = wb.add_worksheet(rng.choice(("台账", "工作台账", "Sheet1")))
    font = {"font_name": rng.choice(("宋体", "仿宋_GB2312", "等线")), "font_size": rng.choice((10, 11, 12))}
    wrap = wb.add_format({"text_wrap": True, "valign": "vcenter", "border": 1, **font})
    centred = wb.add_format({"text_wrap": True, "align": "center", "valign": "vcenter", "border": 1, **font})
    head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True,
                          **font, "font_name": "黑体"})
    width = len(layout)
    ws.merge_range(0, 0, 0, width - 1, f"济南市{region}推动大规模设备更新和消费品以旧换新工作台账", head)
    r = 1
    if rng.random() < 0.4:
        ws.write(r, 0, f"填报单位（盖章）：{region}发展和改革局")
        r += 1
    if two_rows:  # the fields under a merged group label; the others merged down
        groups = {"seq": "任务", "task": "任务", "lead": "责任分工", "resp": "责任分工"}
        c = 0
        while c < width:
            group = groups.get(layout[c])
            end = c
            while end + 1 < width and group and groups.get(layout[end + 1]) == group:
                end += 1
            if group and end > c:
                ws.merge_range(r, c, r, end, group, head)
                for k in range(c, end + 1):
                    ws.write(r + 1, k, words[k], head)
            else:
                ws.merge_range(r, c, r + 1, c, words[c], head)
            c = end + 1
        r += 2
    else:
        for c, word in enumerate(words):
            ws.write(r, c, word, head)
        r += 1
    section, number = None, 0
    bands_seen = 0
    for i, task in enumerate(tasks):
        if bands and task[4] != section:
            section = task[4]
            bands_seen += 1
            ws.merge_range(r, 0, r, width - 1, section or f"{bands_seen}、其他任务", head)
            r += 1
        number += 1
        content = _content(task, tasks[i + 1] if i + 1 < len(tasks) else None, rng, factor)
        values = {"seq": number, "task": _reword(task[0], rng), "content": content,
                  "lead": "、".join(_units(task[2], offices, rng)) or f"{region}人民政府",
                  "resp": "、".join(_units(task[3], offices, rng)), "target": _target(content, rng),
                  "完成时限": rng.choice(("2025年12月", "2025年底", "长期坚持", "")),
                  "备注": rng.choice(("", "", "已纳入年度计划", "持续推进")),
                  "进展情况": _progress(content, rng),
                  "责任人": rng.choice(PEOPLE) + rng.choice("明华伟强芳军静丽")}
        for c, field in enumerate(layout):
            value = values[field]
            style = wrap if field in ("task", "content", "进展情况", "target") else centred
            if field == "seq":
                ws.write_number(r, c, value, style)
            else:  # a styled cell even when empty, as an office suite keeps the table's borders
                ws.write_string(r, c, value, style) if value else ws.write_blank(r, c, None, style)
        ws.set_row(r, 15 * (1 + len(content) // 40))
        r += 1
    if rng.random() < 0.5:
        ws.write(r + 1, 0, FOOTER.format(person=rng.choice(PEOPLE) + "明", phone=rng.randint(80000000, 89999999),
                                         checker=rng.choice(PEOPLE) + "华"))
    ws.set_column(0, 0, 6)
    ws.set_column(1, width - 1, 24)
    ws.set_landscape()
    ws.set_paper(9)  # A4, as offices print them
    ws.repeat_rows(1, 2 if two_rows else 1)
    ws.freeze_panes(3 if two_rows else 2, 0)
    wb.close()


def generate(folder, n: int, *, seed: int = 1, city_ledger=CITY_LEDGER) -> list[Path]:
    """Write n free-form district ledgers into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    src = _Sources(Path(city_ledger))
    paths = []
    for i, region in enumerate(district_names(n, seed), 1):
        path = folder / f"{i:04d}_{region}_工作台账.xlsx"
        _workbook(path, region, src, random.Random(f"{seed}:{i}"))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="folder to write the district files into")
    parser.add_argument("n", type=int, help="how many district files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--city-ledger", default=str(CITY_LEDGER), help="the city ledger districts reword")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = generate(args.out_dir, args.n, seed=args.seed, city_ledger=args.city_ledger)
    print(f"wrote {len(paths)} files to {args.out_dir} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
