"""The single-page build (``make pdf``) renders every node the HTML build renders.

Sphinx looks up a builder's node visitors under the builder's name and falls back to its
format only when nothing at all is registered under the name. Some extensions register
visitors for ``singlehtml``, so the ``html`` visitors of the others (e.g. sphinx-jupyterbook-latex's
``HiddenCellNode``, which drops cells tagged ``hide-cell`` such as the Colab cell) are not found
and the build stops with "departing unknown node type". This copies every ``html`` visitor that
``singlehtml`` lacks when the single-page builder starts, and loads MathJax on the single page
(Sphinx decides by the root document, which has no math).
"""

from __future__ import annotations

from typing import Any


def _copy_html_handlers(app: Any) -> None:
    if app.builder.name != "singlehtml":
        return
    # Sphinx loads MathJax only on pages whose own document has math; the single page is the root
    # document (intro, no math) with every chapter inlined, so MathJax must be loaded always.
    app.set_html_assets_policy("always")
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _copy_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
