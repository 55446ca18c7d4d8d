"""Run Basic functions of VBA modules in LibreOffice (VBA support on) and print their results as JSON.

Run with the system Python that has LibreOffice's `uno` (not the project's venv):
    /usr/bin/python3 tests/lo_basic_run.py job.json
job.json: {"modules": {name: VBA source}, "calls": [[module, function, [string arguments]]]}. Each module goes into
the Standard library of a new Calc document with `Option VBASupport 1` (its Attribute lines dropped, as LibreOffice
does when it loads a VBA project); each call's result, or its error as {"error": text}, is printed in order.
Used by tests/test_addin_desk.py to run the desk module's pure functions (JSON, colours, column letters).
"""

import json
import sys

from lo_office import office, prop


def basic_source(vba: str) -> str:
    lines = [line for line in vba.replace("\r\n", "\n").split("\n") if not line.startswith("Attribute ")]
    return "\n".join(["Option VBASupport 1", *lines])


def run(job):
    with office() as desktop:
        doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (prop("Hidden", True),))
        libraries = doc.BasicLibraries
        if not libraries.hasByName("Standard"):
            libraries.createLibrary("Standard")
        library = libraries.getByName("Standard")
        for name, source in job["modules"].items():
            library.insertByName(name, basic_source(source))
        provider = doc.getScriptProvider()
        out = []
        for module, function, args in job["calls"]:
            try:
                script = provider.getScript(
                    f"vnd.sun.star.script:Standard.{module}.{function}?language=Basic&location=document")
                result, _, _ = script.invoke(tuple(args), (), ())
                out.append({"result": result})
            except Exception as exc:  # a Basic run-time error comes back as a UNO exception
                out.append({"error": f"{type(exc).__name__}: {getattr(exc, 'Message', exc)}"})
        doc.close(True)
        return out


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        print(json.dumps(run(json.load(f)), ensure_ascii=True))
