"""Unit names (牵头单位/责任单位): a directory per region, and checking names against it."""

from .check import STATUS_ZH, CellCheck, NameCheck, check_cell, check_name, describe_check
from .directory import Directory, Unit, load_directory
from .propose import DirectoryProposal, learn_directory

__all__ = ["STATUS_ZH", "CellCheck", "Directory", "DirectoryProposal", "NameCheck", "Unit", "check_cell",
           "check_name", "describe_check", "learn_directory", "load_directory"]
