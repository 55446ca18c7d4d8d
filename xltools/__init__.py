"""xltools: work ledgers (工作台账) for equipment renewal and trade-in plans.

The same functions serve the CLI (``xltools extract``, ``xltools fill``), Python callers and the
Excel add-in::

    import xltools
    ledger = xltools.extract("章丘区工作方案.docx")
    xltools.fill(ledger, "章丘区工作台账.xlsx")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .model import Goal, Ledger, Origin, TaskRow  # noqa: E402
from .problems import Problem, Report  # noqa: E402
from .readers import extract  # noqa: E402


def fill(source, out, template=None, region=None):
    """Fill the ledger template from a plan document, rows or a Ledger; see :func:`xltools.filler.fill`."""
    from .filler import fill as _fill

    return _fill(source, out, template=template, region=region)


def validate(source, region=None, units=None, out=None, fix=False, fixed_out=None, period=(2024, 2027)):
    """Check unit names and targets; see :func:`xltools.validation.validate`."""
    from .validation import validate as _validate

    return _validate(source, region=region, units=units, out=out, fix=fix, fixed_out=fixed_out, period=period)


def targets(text, year=None, period=(2024, 2027)):
    """Numeric and qualitative targets in a text, with format problems; see :mod:`xltools.target_text`."""
    from .target_text import parse_targets

    return parse_targets(text, default_year=year, period=period)


def consolidate(city_ledger, inbox, out=None, options=None):
    """Consolidate district ledgers into a city rollup; see :func:`xltools.rollup.consolidate`."""
    from .rollup import consolidate as _consolidate

    return _consolidate(city_ledger, inbox, out, options)


def distribute(city_ledger, out_dir, regions=None, deadline=None, password=None, zip=False, units=None, **options):
    """One workbook per district to fill in, from the city ledger; see :func:`xltools.distribution.distribute`."""
    from .distribution import distribute as _distribute

    return _distribute(city_ledger, out_dir, regions=regions, deadline=deadline, password=password, zip=zip,
                       units=units, **options)


_FRAMES = ("coverage_frame", "goals_frame", "history", "history_frame", "ledger_frame", "mapping_frame",
           "problems_frame", "targets_frame")


def __getattr__(name):
    # The options of consolidate without importing the rollup package at ``import xltools``.
    if name == "ConsolidateOptions":
        from .rollup import ConsolidateOptions

        return ConsolidateOptions
    if name in _FRAMES:  # DataFrames and history: pandas is imported when they are first asked for
        from . import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'xltools' has no attribute {name!r}")


__all__ = ["ConsolidateOptions", "Goal", "Ledger", "Origin", "Problem", "Report", "TaskRow", "__version__", "consolidate", "distribute",
           "extract", "fill", "targets", "validate", *_FRAMES]
