"""Print the Basic/VBA modules LibreOffice loads from a workbook, as JSON {library: {module: source}}.

Run with the system Python that has LibreOffice's `uno` (not the project's venv):
    /usr/bin/python3 tests/lo_vba_modules.py book.xlsm
An independent reader of the add-in's VBA project for tests/test_addin_build.py.
"""

import json
import os
import sys

import uno
from lo_office import office, prop


def modules(path):
    with office() as desktop:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                           (prop("Hidden", True), prop("MacroExecutionMode", 0)))
        libs = doc.BasicLibraries
        out = {}
        for lib in libs.getElementNames():
            libs.loadLibrary(lib)
            container = libs.getByName(lib)
            out[lib] = {name: container.getByName(name) for name in container.getElementNames()}
        doc.close(True)
        return out


if __name__ == "__main__":
    print(json.dumps(modules(sys.argv[1])))
