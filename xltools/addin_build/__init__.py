"""Build and install the xltools Excel add-in (xltools.xlam). Never imports xlwings."""

from .xlam import ADDIN_NAME, AddinBuildError, build, build_bytes, find_sources

__all__ = ["ADDIN_NAME", "AddinBuildError", "build", "build_bytes", "find_sources"]
