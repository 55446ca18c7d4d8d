"""Print layout shared by every workbook xltools writes: A4, one page wide, text a clerk can read.

A sheet printed "one page wide" (fitToWidth=1, fitToHeight=0) is shrunk by Excel, WPS and LibreOffice
until its columns fit the paper, and its text with it: 160 width units of columns on landscape A4 came
out at 68% (11pt body printed at 7.5pt). So writers choose column widths that fit the printable width
(:func:`fit_widths`) and the scale stays 100%; :func:`sheet_scale` computes the scale an application will
use, for the tests to multiply with the fonts.

Widths are in Excel's units, characters of the workbook's default font. Excel counts 7 px for Calibri 11
and Arial 10; LibreOffice measures the default font it substitutes (DejaVu Sans for Calibri where Carlito
is missing: ~9.3 px, which is how 160 units overflowed), Liberation Sans for Arial: ~7.4 px. Our
workbooks therefore use Arial 10 as the default font (:data:`DEFAULT_FONT`) and budget :data:`UNIT_PX`
pixels a unit, the wider of the two, so both print at 100%.
"""

from __future__ import annotations

from collections.abc import Sequence

A4 = 9  # paperSize
A4_MM = (210.0, 297.0)
DEFAULT_FONT = {"font_name": "Arial", "font_size": 10}  # same column unit in Excel, WPS and LibreOffice
UNIT_PX = 7.5  # pixels (1/96 in) a width unit takes, the wider of Excel (7) and LibreOffice (~7.4)
PAD_PX = 5  # Excel adds this to each column
MARGIN_IN = 0.4  # left and right margins of the rollup sheets
BODY_PT = 11  # body text; ≥ 10 pt printed needs a scale ≥ 91%
MIN_BODY_PT, MIN_LIST_PT = 10, 9  # printed sizes: body text, the 问题清单 list

FOOTER = "第&P页 共&N页"  # 页码, as Excel, WPS and LibreOffice all expand &P/&N


def footer(label: str = "", size: int = 11) -> str:
    """Header/footer code for a centred page number, in 仿宋 at ``size`` pt (the default is 10 pt of Calibri)."""
    text = f"{label}　{FOOTER}" if label else FOOTER
    return f'&C&"仿宋,常规"&{size}{text}'


def printable_px(landscape: bool, left: float = MARGIN_IN, right: float = MARGIN_IN) -> float:
    """Width between the margins of A4, in pixels."""
    mm = A4_MM[1] if landscape else A4_MM[0]
    return (mm / 25.4 - left - right) * 96


def columns_px(widths: Sequence[float]) -> float:
    return sum(w * UNIT_PX + PAD_PX for w in widths if w)


def fit_scale(widths: Sequence[float], landscape: bool, left: float = MARGIN_IN, right: float = MARGIN_IN) -> float:
    """The scale a fit-to-width sheet with these (visible) column widths prints at."""
    need = columns_px(widths)
    return 1.0 if need <= 0 else min(1.0, printable_px(landscape, left, right) / need)


def fit_widths(widths: Sequence[float], flexible: dict[int, float], landscape: bool, left: float = MARGIN_IN,
               right: float = MARGIN_IN, scale: float = 1.0) -> list[float]:
    """``widths`` with the ``flexible`` columns (index → least width) grown or shrunk to fill the page.

    The room left by the fixed columns is shared in proportion to the flexible columns' widths; a column
    at its least width stays there and the rest share what remains. When even the least widths do not
    fit, they are returned as they are (and the page shrinks)."""
    out = [float(w) for w in widths]
    # a pixel of slack each side: rounding in the apps; ``scale`` < 1: the sheet prints shrunk to that, its
    # columns filling the page at it (11 pt text at 0.92 prints at 10 pt)
    room = printable_px(landscape, left, right) / scale - 2
    free = dict(flexible)
    while free:
        fixed = columns_px([w for i, w in enumerate(out) if i not in free])
        avail = (room - fixed - PAD_PX * len(free)) / UNIT_PX
        total = sum(widths[i] for i in free)
        shares = {i: avail * widths[i] / total for i in free}
        low = {i for i, w in shares.items() if w < free[i]}
        if not low:
            for i, w in shares.items():
                out[i] = int(w * 4) / 4  # quarter units, rounded down: never past the page
            break
        for i in low:
            out[i] = free.pop(i)
    return out


def sheet_scale(ws) -> float:
    """The scale an openpyxl worksheet prints at: fit-to-width computed from its visible print columns."""
    from openpyxl.utils import get_column_letter, range_boundaries

    setup = ws.page_setup
    if not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage:
        return (setup.scale or 100) / 100
    if not setup.fitToWidth:  # 0: as many pages wide as needed
        return 1.0
    if ws.print_area:
        ref = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        first, _r1, last, _r2 = range_boundaries(ref.split("!")[-1].replace("$", ""))
    else:
        first, last = 1, ws.max_column
    widths = []
    for c in range(first, last + 1):
        dim = ws.column_dimensions.get(get_column_letter(c))
        if dim is None:  # openpyxl keeps grouped <col min max> under the first letter
            dim = next((d for d in ws.column_dimensions.values()
                        if d.min and d.max and d.min <= c <= d.max), None)
        if dim is not None and dim.hidden:
            continue
        widths.append(dim.width if dim is not None and dim.width else 8.43)
    left = ws.page_margins.left if ws.page_margins.left is not None else 0.7
    right = ws.page_margins.right if ws.page_margins.right is not None else 0.7
    return min(1.0, fit_scale(widths, setup.orientation == "landscape", left, right) * setup.fitToWidth)

