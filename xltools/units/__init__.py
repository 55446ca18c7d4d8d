"""Unit names (牵头单位/责任单位): a directory per region, and checking names against it."""

from .check import CellCheck, NameCheck, check_cell, check_name
from .directory import Directory, Unit, load_directory

__all__ = ["CellCheck", "Directory", "NameCheck", "Unit", "check_cell", "check_name", "load_directory"]
