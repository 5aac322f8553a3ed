"""Re-read the pages that paste glue values from other documents on every build.

``chapters/conclusion.md`` pastes numbers that the chapters glue
(``{glue:text}`cnn.ipynb::key:.3f```). Sphinx does not know that such a page depends on the
notebooks it pastes from, so an incremental build that re-executes a chapter but leaves the
page unchanged would keep the old numbers. This extension marks every page that pastes from
another document as outdated, so its numbers are always the chapters' current ones (a clean
build, as CI runs, needs nothing of this).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

_CROSS_GLUE = re.compile(r"\{glue(?::\w+)?\}`[^`]*\.(?:ipynb|md)::")


def _pages_pasting_glue(app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    outdated = []
    for docname in env.found_docs:
        path = Path(env.doc2path(docname))
        if path.suffix == ".md" and path.is_file() and _CROSS_GLUE.search(path.read_text(encoding="utf-8")):
            outdated.append(docname)
    return outdated


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-get-outdated", _pages_pasting_glue)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
