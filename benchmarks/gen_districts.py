"""Generate district ledger workbooks shaped like real ones, for the consolidation benchmark.

A handful of prototypes are filled once with ``xltools.fill`` (title, band rows, goal rows, ~60 task rows
of long Chinese text, merged cells, styles, the hidden ``_xltools`` sheet); the n files are then cheap
variations of them: each gets its own district name (title, metadata, text) and its own figures
(every quantity with a unit, such as 1000座 or 30万辆, scaled), written straight into the zip's XML.

Kinds (what mapping has to do):
- ``template``: the city's distributed template (``task_keys`` = 济南市: exact key mapping), some with rows
  the district deleted, lead units rewritten from 市… to 区…;
- ``own``: a district's own ledger (市中区's 38 rows or 章丘区's 60, their own numbering and wording).

Formats: xlsx as written by xltools (inline strings) and as saved by an office suite (shared strings,
via LibreOffice), plus a few .xls, .ods and .csv. There is no .xlsb writer to hand (LibreOffice only
reads .xlsb), so none are generated. Without LibreOffice only xltools' xlsx and csv are written.

    python benchmarks/gen_districts.py OUT_DIR N [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import xltools

SEEDS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds"
CITY_LEDGER = SEEDS / "003_43a8c8a0029832b5.txt"  # 济南市 city ledger, 60 tasks
SHIZHONG_PLAN = SEEDS / "000_6f872f8f8959f392.txt"  # 市中区 plan with its own ledger (38 tasks)
ZHANGQIU_PLAN = SEEDS / "002_af702fcffa170051.txt"  # 章丘区 plan (60 tasks)

# Every district name has three characters, so a binary format (.xls, UTF-16 strings) can take a
# name in place of the placeholder without changing any record length.
PLACEHOLDER = "㐀㐁区"
REAL_DISTRICTS = ("历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区", "济阳区", "莱芜区", "钢城区",
                  "平阴县", "商河县")
FIRST = "东西南北中新高安永兴平和宁泰康华丰盛昌隆清明玉金龙凤云山河湖海泉溪林石城阳春秋长广德文武仁义英光辉荣富吉祥福寿嘉瑞"
SECOND = "城港湾原台岭峰川阳泽源山桥坊口庄州水营店集屯坡湖亭岗塘田园堡关洲陵沟庙渡坝堰"

UNITS = ("万千瓦|千瓦|兆瓦|万辆|辆|座|万个|个|万台|台|套|家|万户|户|万吨|吨|公里|万平方米|平方米|亩|项|处|张|部|所|条|栋|"
         "人次|亿元|万元|元")
# A quantity: a number followed by a unit (not years, percentages or cell references).
QUANTITY = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)(\s*)(?=(?:{UNITS}))")
TEXT_NODE = re.compile(r">([^<]+)<")
CHAR_REF = re.compile(r"&#(\d+);")
NUMBER_RUN = re.compile(r"\s*\d+(?:\.\d+)?\s*$")
UNIT_START = re.compile(rf"(?:{UNITS})")

# (format, weight): xlsx dominates.
FORMATS = (("xlsx-office", 56), ("xlsx-xltools", 32), ("csv", 4), ("xls", 4), ("ods", 4))
# (prototype, weight)
KINDS = (("template", 45), ("template-partial", 20), ("own-shizhong", 15), ("own-zhangqiu", 15),
         ("own-zhangqiu-partial", 5))


def district_names(n: int, seed: int) -> list[str]:
    """n distinct three-character district names: 济南's real twelve first, then made-up ones."""
    names = list(REAL_DISTRICTS)
    made = [a + b + s for a in FIRST for b in SECOND for s in "区县" if a != b]
    random.Random(seed).shuffle(made)
    taken = set(names)
    for name in made:
        if len(names) >= n:
            break
        if name not in taken:
            taken.add(name)
            names.append(name)
    if len(names) < n:
        raise ValueError(f"at most {len(names)} district names can be generated")
    return names[:n]


# ------------------------------------------------------------------------------------------ prototypes


def _replace_text(ledger, old: str, new: str) -> None:
    ledger.title = ledger.title.replace(old, new)
    for g in ledger.goals:
        g.text = g.text.replace(old, new)
    for r in ledger.rows:
        r.task, r.content = r.task.replace(old, new), r.content.replace(old, new)


def _district_units(units: list[str]) -> list[str]:
    return [re.sub(r"^市", "区", u) for u in units]


def _prototype_ledgers(city_ledger: Path, rng: random.Random) -> dict:
    city = xltools.extract(city_ledger)
    city_name = city.region or "济南市"

    def template(drop: float):
        led = deepcopy(city)
        led.title = f"{city_name}{PLACEHOLDER}推动大规模设备更新和消费品以旧换新工作台账"
        led.region, led.level, led.city = PLACEHOLDER, "区县", city_name
        led.numbering = city.numbering or city_name  # the city's keys: exact mapping
        for r in led.rows:
            r.lead_units = _district_units(r.lead_units)
            r.responsible_units = _district_units(r.responsible_units)
            r.content = r.content.replace("全市", "全区")
        for g in led.goals:
            g.lead_units = _district_units(g.lead_units)
        if drop:
            led.rows = [r for r in led.rows if rng.random() >= drop]
        return led

    def own(plan: Path, district: str, drop: float = 0.0):
        led = deepcopy(xltools.extract(plan))
        _replace_text(led, district, PLACEHOLDER)
        led.region = led.numbering = PLACEHOLDER
        led.level, led.city = "区县", city_name
        if drop:
            led.rows = [r for r in led.rows if rng.random() >= drop]
        return led

    return {
        "template": template(0.0),
        "template-partial": template(0.15),
        "own-shizhong": own(SHIZHONG_PLAN, "市中区"),
        "own-zhangqiu": own(ZHANGQIU_PLAN, "章丘区"),
        "own-zhangqiu-partial": own(ZHANGQIU_PLAN, "章丘区", 0.2),
    }


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _convert(files: list[Path], target: str, outdir: Path, profile: Path) -> None:
    """Open and save with LibreOffice, as a clerk's office suite would (shared strings, its own styles)."""
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([_soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", target, "--outdir", str(outdir), *map(str, files)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)


# --------------------------------------------------------------------------------------------- variants


@dataclass
class _Slot:
    text: str  # decoded text of an XML text node that holds the placeholder or a quantity
    encode: bool  # written back as character references (as openpyxl writes inline strings)
    tail: str = ""  # the unit that starts the next text node, when an office suite put the number in a run of its own

    def varied(self, vary) -> str:
        text = vary(self.text + self.tail)
        return _encoded(text[:len(text) - len(self.tail)], self.encode)


class _ZipVariant:
    """An xlsx/ods prototype split into literal XML and slots, so a variant costs a join and a deflate."""

    def __init__(self, path: Path):
        self.members: list[tuple[zipfile.ZipInfo, object]] = []
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                data = z.read(info)
                if info.filename.endswith(".xml"):
                    self.members.append((info, self._split(data.decode("utf-8"))))
                else:
                    self.members.append((info, data))

    @staticmethod
    def _split(xml: str) -> list:
        parts: list = []
        pos = 0
        nodes = list(TEXT_NODE.finditer(xml))
        for j, m in enumerate(nodes):
            raw = m.group(1)
            text = _decoded(raw)
            tail = ""
            if NUMBER_RUN.match(text) and j + 1 < len(nodes):
                unit = UNIT_START.match(_decoded(nodes[j + 1].group(1)))
                tail = unit.group(0) if unit else ""
            if PLACEHOLDER in text or QUANTITY.search(text + tail):
                parts.append(xml[pos:m.start(1)])
                parts.append(_Slot(text, "&#" in raw, tail))
                pos = m.end(1)
        parts.append(xml[pos:])
        return parts

    def write(self, out: Path, vary) -> None:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, content in self.members:
                if isinstance(content, list):
                    data = "".join(p if isinstance(p, str) else p.varied(vary) for p in content)
                    content = data.encode("utf-8")
                z.writestr(zipfile.ZipInfo(info.filename, info.date_time), content, zipfile.ZIP_DEFLATED)


def _decoded(raw: str) -> str:
    return CHAR_REF.sub(lambda c: chr(int(c.group(1))) if int(c.group(1)) > 127 else c.group(0), raw)


def _encoded(text: str, as_refs: bool) -> str:
    # Texts come from XML text nodes: &amp; &lt; stay as they were, only the new characters are written.
    if as_refs:
        return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in text)
    return text


def _scaler(rng: random.Random, low: float, high: float):
    factor = rng.uniform(low, high)

    def scale(m: re.Match) -> str:
        value = float(m.group(1)) * factor * rng.uniform(0.8, 1.2)
        if "." in m.group(1) or (value < 10 and m.string[m.end():m.end() + 1] in ("万", "亿")):
            return f"{max(value, 0.1):.1f}{m.group(2)}"  # 10万个 → 1.3万个, not 1万个
        return f"{max(1, round(value))}{m.group(2)}"

    return scale


def _vary(name: str, rng: random.Random, kind: str):
    # A district's share of a city target is a few percent to a fifth; its own plan's figures vary around them.
    scale = _scaler(rng, 0.03, 0.2) if kind.startswith("template") else _scaler(rng, 0.5, 1.5)

    def vary(text: str) -> str:
        return QUANTITY.sub(scale, text.replace(PLACEHOLDER, name))

    return vary


def _csv_text(xlsx: Path) -> str:
    """The ledger sheet as a clerk's CSV export: title, header, band and task rows."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(xlsx))
    rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else (int(v) if isinstance(v, float) and v.is_integer() else v)
                         for v in row])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------- public


def generate(folder, n: int, *, seed: int = 1, city_ledger=CITY_LEDGER) -> list[Path]:
    """Write n district ledgers into ``folder``; return their paths (names say number and district)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names = district_names(n, seed)
    office = _soffice() is not None
    formats = [(f, w) for f, w in FORMATS if office or f in ("xlsx-xltools", "csv")]

    with tempfile.TemporaryDirectory(prefix="xltools-protos-") as tmp:
        tmp = Path(tmp)
        filled = []
        for kind, ledger in _prototype_ledgers(Path(city_ledger), rng).items():
            out = tmp / f"{kind}.xlsx"
            xltools.fill(ledger, out)
            filled.append(out)
        zips = {("xlsx-xltools", p.stem): _ZipVariant(p) for p in filled}
        binaries: dict[tuple[str, str], bytes] = {}
        if office:
            profile = tmp / "lo-profile"
            _convert(filled, "xlsx:Calc MS Excel 2007 XML", tmp / "office", profile)
            # .xls variants only get their own name (see below): give their prototypes district-sized figures.
            scaled = []
            for p in filled:
                scaled.append(tmp / "scaled" / p.name)
                scaled[-1].parent.mkdir(exist_ok=True)
                scale = _scaler(rng, 0.05, 0.15) if p.stem.startswith("template") else _scaler(rng, 0.8, 1.2)
                zips["xlsx-xltools", p.stem].write(scaled[-1], lambda text, scale=scale: QUANTITY.sub(scale, text))
            _convert(scaled, "xls:MS Excel 97", tmp / "xls", profile)
            _convert(filled, "ods", tmp / "ods", profile)
            for p in filled:
                zips["xlsx-office", p.stem] = _ZipVariant(tmp / "office" / p.name)
                zips["ods", p.stem] = _ZipVariant(tmp / "ods" / f"{p.stem}.ods")
                binaries["xls", p.stem] = (tmp / "xls" / f"{p.stem}.xls").read_bytes()
        csvs = {p.stem: _csv_text(p) for p in filled}

        placeholder16 = PLACEHOLDER.encode("utf-16-le")
        paths = []
        for i, name in enumerate(names, 1):
            fmt = rng.choices([f for f, _ in formats], [w for _, w in formats])[0]
            kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            suffix = fmt.split("-")[0]
            path = folder / f"{i:04d}_{name}_工作台账.{suffix}"
            vary = _vary(name, rng, kind)
            if fmt == "csv":
                path.write_text(vary(csvs[kind]), encoding="utf-8-sig", newline="")
            elif fmt == "xls":
                # Same-length UTF-16 replacement: only the name changes, the figures stay the prototype's.
                path.write_bytes(binaries[fmt, kind].replace(placeholder16, name.encode("utf-16-le")))
            else:
                zips[fmt, kind].write(path, vary)
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="folder to write the district files into")
    parser.add_argument("n", type=int, help="how many district files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--city-ledger", default=str(CITY_LEDGER), help="the city ledger the template follows")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = generate(args.out_dir, args.n, seed=args.seed, city_ledger=args.city_ledger)
    counts: dict[str, int] = {}
    for p in paths:
        counts[p.suffix] = counts.get(p.suffix, 0) + 1
    print(f"wrote {len(paths)} files to {args.out_dir} in {time.perf_counter() - start:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
