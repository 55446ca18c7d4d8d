"""Print the Basic/VBA modules LibreOffice loads from a workbook, as JSON {library: {module: source}}.

Run with the system Python that has LibreOffice's `uno` (not the project's venv):
    /usr/bin/python3 tests/lo_vba_modules.py book.xlsm
An independent reader of the add-in's VBA project for tests/test_addin_build.py.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def modules(path):
    profile = tempfile.mkdtemp(prefix="xltools-lo-")  # a fresh profile: no clash with a running soffice
    pipe = f"xltools{os.getpid()}"
    proc = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nologo",
                             f"-env:UserInstallation=file://{profile}", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(240):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.25)
        else:
            raise SystemExit("soffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                           (_prop("Hidden", True), _prop("MacroExecutionMode", 0)))
        libs = doc.BasicLibraries
        out = {}
        for lib in libs.getElementNames():
            libs.loadLibrary(lib)
            container = libs.getByName(lib)
            out[lib] = {name: container.getByName(name) for name in container.getElementNames()}
        doc.close(True)
        return out
    finally:
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:
                pass
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    print(json.dumps(modules(sys.argv[1])))
