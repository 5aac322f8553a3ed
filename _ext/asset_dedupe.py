"""Sphinx extension: no inline script twice on a page (works around a Sphinx 7.4 bug).

Sphinx 7.4 stores an inline script added with ``app.add_js_file(None, body=...)`` after
``Builder.init()`` twice: once in the builder with filename ``None`` and again, in
``prepare_writing``, from the registry with filename ``''``; the two do not compare equal, so
every page repeats the script. sphinx-thebe's ``const THEBE_JS_URL = ...`` repeated is a
``SyntaxError`` in the browser console of every page (tests/browser checks for console errors).
This extension normalises the builder's ``None`` filenames to ``''`` just before
``prepare_writing``, so Sphinx's own de-duplication applies. Harmless where the bug is fixed.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _normalise_inline_scripts(app: Sphinx, builder: Any) -> None:
    assets = getattr(builder, "_js_files", None)
    if not assets:
        return
    js_class = type(assets[0])
    unique: list[Any] = []
    for asset in assets:
        if getattr(asset, "filename", "") is None:
            asset = js_class("", priority=asset.priority, **asset.attributes)
        if asset not in unique:
            unique.append(asset)
    assets[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("write-started", _normalise_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
