"""What a clerk prints, measured: workbooks rendered with LibreOffice, the PDF read back page by page.

    python tests/render.py out/济南市_汇总.xlsx out/分发/*.xlsx [--png DIR]

prints, for each workbook, its pages per sheet and the smallest text on them (points as printed, scaling
included), and with ``--png`` writes every page as a PNG to look at. The tests use :func:`measure`.

A page is known to be a sheet's by its footer, which every sheet xltools writes carries: “{sheet}　第N页 共M页”
(a page without one goes on the sheet of the page before). Sizes are read from the PDF's text spans (PyMuPDF),
so they are what is on paper, not what the settings promise.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_FOOTER = re.compile(r"^(.*?)\s*第\s*\d+\s*页\s*共\s*\d+\s*页\s*$")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@dataclass
class Sheet:
    name: str
    pages: int = 0
    smallest: float = 99.0  # the smallest text on its pages, in points as printed
    landscape: bool = False


@dataclass
class Printed:
    workbook: Path
    pdf: Path
    sheets: dict[str, Sheet] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return sum(s.pages for s in self.sheets.values())

    def report(self) -> str:
        lines = [f"{self.workbook.name}: {self.pages} 页"]
        for s in self.sheets.values():
            lines.append(f"  {s.name}: {s.pages} 页, 最小字号 {s.smallest:.1f} pt{'（横向）' if s.landscape else ''}")
        return "\n".join(lines)


def to_pdf(workbooks: list[Path], outdir: Path) -> list[Path]:
    """Each workbook printed to PDF by LibreOffice, in one run (a profile of its own, so runs do not wait on
    each other); the PDFs in the same order. Workbooks of one name need folders of their own."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xltools-lo-") as profile:
        subprocess.run([soffice(), "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf",
                        "--outdir", str(outdir), *map(str, workbooks)], check=True, capture_output=True, timeout=900)
    return [outdir / f"{Path(w).stem}.pdf" for w in workbooks]


def measure(workbook: Path, outdir: Path, png: Path | None = None) -> Printed:
    """Render ``workbook`` and count each sheet's pages and its smallest printed text."""
    return measure_all([workbook], outdir, png)[0]


def measure_all(workbooks: list[Path], outdir: Path, png: Path | None = None) -> list[Printed]:
    """``measure`` of several workbooks, rendered in one LibreOffice run."""
    return [_read(Path(w), pdf, png) for w, pdf in zip(workbooks, to_pdf(workbooks, Path(outdir)), strict=True)]


def _read(workbook: Path, pdf: Path, png: Path | None) -> Printed:
    import pymupdf

    printed = Printed(workbook, pdf)
    current = "?"
    with pymupdf.open(pdf) as doc:
        for page in doc:
            spans = [s for block in page.get_text("dict")["blocks"] for line in block.get("lines", [])
                     for s in line["spans"] if s["text"].strip()]
            bottom = page.rect.height - 60  # the footer is the text in the bottom margin
            footer = " ".join(s["text"] for s in spans if s["bbox"][1] > bottom).strip()
            m = _FOOTER.match(footer)
            if m:
                current = re.sub(r"\s+", "", m.group(1)) or current  # (PDF text puts spaces around digits)
            sheet = printed.sheets.setdefault(current, Sheet(current))
            sheet.pages += 1
            sheet.landscape = page.rect.width > page.rect.height
            body = [s["size"] for s in spans if s["bbox"][1] <= bottom]
            if body:
                sheet.smallest = min(sheet.smallest, min(body))
            if png is not None:
                png.mkdir(parents=True, exist_ok=True)
                page.get_pixmap(dpi=60).save(png / f"{Path(workbook).stem}-{page.number + 1:03d}.png")
    return printed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbooks", nargs="+", type=Path)
    parser.add_argument("--pdf", type=Path, default=Path("out/render"), help="where the PDFs go")
    parser.add_argument("--png", type=Path, help="also every page as PNG, in this folder")
    args = parser.parse_args(argv)
    if soffice() is None:
        print("LibreOffice (soffice) is not installed", file=sys.stderr)
        return 2
    for printed in measure_all(args.workbooks, args.pdf, args.png):
        print(printed.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
