"""No chapter defines a function or class that medtools already provides.

A chapter that derives something shows the package's code (``medtools.book.show_source``)
instead of a second copy that can drift from the tested one. This test reads the code cells of
``chapters/*.ipynb`` (JSON), collects every ``def NAME`` and ``class NAME`` at any indentation,
and fails on a NAME that is a public function or class defined at the top level of a medtools
module (methods do not count, so local helpers such as ``build`` or ``fit`` are fine).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import medtools

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
DEFINITION = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


def medtools_public_names() -> dict[str, str]:
    """``{name: "module.name"}`` of the public top-level functions and classes of every medtools module."""
    names: dict[str, str] = {}
    for info in pkgutil.walk_packages(medtools.__path__, "medtools."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                not name.startswith("_")
                and (inspect.isfunction(obj) or inspect.isclass(obj))
                and obj.__module__ == module.__name__  # defined there, not imported
            ):
                names.setdefault(name, f"{module.__name__}.{name}")
    return names


def notebook_definitions() -> dict[str, list[str]]:
    """``{name: [notebook, …]}`` of every ``def``/``class`` in the code cells of the chapters."""
    found: dict[str, list[str]] = {}
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                for name in DEFINITION.findall("".join(cell["source"])):
                    found.setdefault(name, []).append(path.name)
    return found


def test_the_helpers_see_both_sides():
    public = medtools_public_names()
    assert public["conv2d"] == "medtools.reference.conv.conv2d"
    assert public["show_source"] == "medtools.book.show_source"
    assert "Path" not in public  # imported, not defined
    assert notebook_definitions()  # the chapters do define local helpers


def test_no_notebook_redefines_a_medtools_function():
    public = medtools_public_names()
    clashes = {
        name: f"{', '.join(sorted(set(books)))} define(s) {name}, which is {public[name]}"
        for name, books in notebook_definitions().items()
        if name in public
    }
    assert not clashes, "Use the package's version (medtools.book.show_source shows its code):\n" + "\n".join(
        clashes.values()
    )
