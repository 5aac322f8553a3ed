"""A pytest plugin: the book build reuses what nbval executed, instead of executing every chapter again.

    python -m pytest -p tools.nbval_cache --nbval-lax ... chapters

nbval runs each chapter's code cells in a kernel and receives every output (figures, tables, the
values that ``glue`` pastes into the prose) to compare them with the stored ones. The book build
(MyST-NB, ``execute_notebooks: cache`` in ``_config.yml``) then executes the same notebooks once
more to render them, unless its jupyter-cache (``_build/.jupyter_cache``) already holds an
executed copy of the same code. This plugin writes nbval's outputs into that cache: for a
notebook whose every cell passed, it fills each code cell's outputs and execution count from the
kernel's messages and stores the notebook under the same hash MyST-NB looks up (the code cells'
sources and the kernel spec). A chapter whose code changes afterwards no longer matches, and the
build executes it as before; a notebook with a failed or skipped cell is not stored.

What the cache then holds differs from MyST-NB's own execution in one respect: nbval does not
record the state of ipywidgets, which the HTML book does not render anyway (each widget has a
static stand-in, chapter *A first look at medical images*).

Under pytest-xdist each worker writes the notebooks it ran to ``_build/nbval-executed/``, and the
process that ran the session stores them in the cache at its end, so that only one process
writes the cache's database.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
# MyST-NB's default for Jupyter Book: <build dir>/.jupyter_cache (NBVAL_JUPYTER_CACHE: elsewhere, for tests)
CACHE = Path(os.environ.get("NBVAL_JUPYTER_CACHE", ROOT / "_build" / ".jupyter_cache"))
STAGING = CACHE.parent / "nbval-executed"

_state: dict[str, dict[str, Any]] = {}  # notebook path -> {"ok": bool, "start": float, "count": int}


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "cell") and hasattr(item.parent, "nb")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    if not _is_nbval_cell(item) or call.when != "call":
        return
    report = outcome.get_result()
    path = str(item.path)
    state = _state.setdefault(path, {"ok": True, "start": call.start, "count": 0})
    outputs = getattr(item, "test_outputs", None)
    if not report.passed or outputs is None:
        state["ok"] = False
        return
    state["count"] += 1
    cell = item.cell  # the cell object of item.parent.nb: filling it fills the notebook
    cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs]
    for o in cell.outputs:
        if o.get("output_type") == "execute_result":
            o["execution_count"] = state["count"]
    cell.execution_count = state["count"]
    state["end"] = call.stop


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not _is_nbval_cell(item):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return  # not the notebook's last cell yet
    path = str(item.path)
    state = _state.pop(path, None)
    n_code = sum(1 for c in item.parent.nb.cells if c.cell_type == "code")
    if not state or not state["ok"] or state["count"] != n_code:
        return  # a failed, skipped or deselected cell: leave the notebook to the build
    nb = item.parent.nb
    nb.metadata.setdefault("medtools", {})["nbval_seconds"] = round(state.get("end", time.time()) - state["start"], 1)
    STAGING.mkdir(parents=True, exist_ok=True)
    tmp = STAGING / f".{Path(path).stem}.{os.getpid()}.tmp"
    nbformat.write(nb, tmp)
    (STAGING / f"{Path(path).stem}.path").write_text(path)  # the source path: the cache's record of origin
    os.replace(tmp, STAGING / f"{Path(path).stem}.ipynb")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controlling process stores
        return
    if not STAGING.is_dir():
        return
    staged = sorted(STAGING.glob("*.ipynb"))
    if not staged:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(CACHE))
    for nb_path in staged:
        source = Path((nb_path.with_suffix(".path")).read_text())
        nb = nbformat.read(nb_path, as_version=4)
        seconds = nb.metadata.get("medtools", {}).pop("nbval_seconds", None)
        if not nb.metadata.get("medtools"):
            nb.metadata.pop("medtools", None)
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(source), data={"execution_seconds": seconds, "executed_by": "nbval"}),
            check_validity=False,
            overwrite=True,
        )
        nb_path.unlink()
        nb_path.with_suffix(".path").unlink()
    print(f"\nnbval_cache: stored {len(staged)} executed notebook(s) in {CACHE} for the book build")
