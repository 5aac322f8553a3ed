"""Chapter plumbing: what every chapter needs and no chapter should define.

Introduced in the chapter *A first look at medical images* (``chapters/background``) and
used by every chapter's setup cell:

* :func:`setup` — the book's figure style, seeding, and one line of versions;
* :func:`show_source` — print a ``medtools`` function without its docstring, so a chapter
  can show the code it has just derived;
* :func:`markdown_table` — a list of rows as a Markdown table (displayed with
  ``IPython.display.Markdown``);
* :func:`sample_xrays` — the small fixed batch of PneumoniaMNIST test X-rays (four normal,
  four pneumonia) that the theory chapters (CNN, RNN, attention) run their layers on;
* :func:`glue` — MyST-NB's ``glue`` that also shows the value where the book build is not
  there to paste it (JupyterLab, Colab), and works without MyST-NB installed;
* :data:`REPOSITORY_URL` — the book's public repository (the same value as ``repository.url``
  in ``_config.yml`` and in every chapter's Colab cell; a unit test keeps them equal).

This module imports TensorFlow only inside :func:`setup` and :func:`sample_xrays`.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["REPOSITORY_URL", "glue", "markdown_table", "sample_xrays", "setup", "show_source"]

#: The book's public repository, from which Colab installs ``medtools`` (the chapters' first code
#: cell). Empty until the book is published; when it is set, set ``repository.url`` in
#: ``_config.yml`` and the ``REPOSITORY`` line of every chapter's Colab cell to the same value
#: (``tests/test_book.py`` names any file that disagrees).
REPOSITORY_URL = ""


def setup(seed: int = 0, *, deterministic: bool = True) -> str:
    """Prepare a chapter: the book's Matplotlib style, seeds, and a line of versions.

    Args:
        seed: passed to :func:`medtools.train.set_seed` (Python, NumPy, TensorFlow, Keras).
        deterministic: switch on TensorFlow's deterministic ops (see ``set_seed``).

    Returns:
        The versions line (``"medtools 0.1.0 | keras 3.x | tensorflow 2.x"``), also printed.
    """
    import keras
    import tensorflow as tf

    import medtools
    from medtools import plots, train

    plots.use_style()
    train.set_seed(seed, deterministic=deterministic)
    np.set_printoptions(legacy="1.25")  # NumPy scalars print as plain numbers (for glue)
    line = f"medtools {medtools.__version__} | keras {keras.__version__} | tensorflow {tf.__version__}"
    print(line)
    return line


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Store ``variable`` under ``name`` for the book's ``{glue:text}`name``` roles.

    Calls :func:`myst_nb.glue` when MyST-NB is installed (the book build pastes the value into
    the prose). A hidden value (``display=False``) is also written to standard error as
    ``glue: name = value``: in JupyterLab or Colab, where the prose's roles cannot be filled in,
    the number is then visible in the output of the cell just above the text that uses it. The
    book build removes standard error from its pages (``stderr_output: remove`` in
    ``_config.yml``), so the line shows only where it is needed. Without MyST-NB (e.g. Colab
    before it is installed) the value is displayed or written, and nothing is stored.

    Args:
        name: the key the prose refers to (``{glue:text}`name```).
        variable: any value; numbers, strings and Matplotlib figures are what the book glues.
        display: also show the value in the cell's output (MyST-NB's meaning).
    """
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:  # outside the book's environment (e.g. a bare Colab runtime)
        _myst_glue = None
    if _myst_glue is not None:
        _myst_glue(name, variable, display=display)
    elif display:
        from IPython.display import display as _display

        _display(variable)
    if not display:
        sys.stderr.write(f"glue: {name} = {variable!r}\n")


def show_source(fn: Callable[..., Any]) -> str:
    """Print (and return) the source of ``fn`` with its docstring left out.

    Only the docstring of ``fn`` itself is removed (found with :mod:`ast`, whatever its quotes
    or string prefix), with the blank lines after it; other strings and the docstrings of
    methods are kept.

    Args:
        fn: a function or class defined in a source file (``inspect.getsource`` must find it).

    Raises:
        TypeError: ``fn`` has no Python source (a built-in or a C extension).
    """
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError) as exc:
        raise TypeError(f"show_source needs a Python function or class with source code, got {fn!r}.") from exc
    lines = source.splitlines(keepends=True)
    try:
        node = ast.parse(textwrap.dedent(source)).body[0]
    except SyntaxError:  # a lambda's source is a fragment of a line: shown as it is
        node = None
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and len(body) > 1  # a body that is only a docstring stays as it is
        and node is not None
        and first.end_lineno is not None
        and first.lineno > getattr(node, "lineno", 0)  # not a one-line ``def f(): "doc"; ...``
    ):
        end = first.end_lineno
        while end < len(lines) and not lines[end].strip():
            end += 1
        del lines[first.lineno - 1 : end]
    text = "".join(lines)
    print(text)
    return text


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table with ``header`` and ``rows`` (cells formatted with ``str``).

    A ``|`` inside a cell is escaped as ``\\|`` so that it does not start a new column.

    Raises:
        ValueError: a row has another number of cells than the header.
    """

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")

    header = [cell(h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        cells = [cell(c) for c in row]
        if len(cells) != len(header):
            raise ValueError(f"row {i} has {len(cells)} cells, the header has {len(header)}: {row!r}.")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sample_xrays(per_class: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A small fixed batch of PneumoniaMNIST **test** X-rays: the first ``per_class``
    normal images, then the first ``per_class`` pneumonia images, in file order.

    The theory chapters (CNN, RNN, attention) run their layers on this batch, so a
    figure in one chapter shows the same eight X-rays as in another.

    Returns:
        ``(x, y)``: ``x`` float32 ``(2 * per_class, 28, 28, 1)`` in [0, 1], ``y`` int64
        ``(2 * per_class,)`` (0 normal, 1 pneumonia).

    Raises:
        ValueError: ``per_class`` is not between 1 and the size of the smaller class.
    """
    from medtools import data

    test = data.load("pneumoniamnist").test
    y = np.asarray(test.y).reshape(-1)
    smaller = int(min(np.sum(y == 0), np.sum(y == 1)))
    if not 1 <= per_class <= smaller:
        raise ValueError(f"per_class must be between 1 and {smaller}, got {per_class}.")
    idx = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in (0, 1)])
    return data.to_float(test.x[idx]), y[idx].astype(np.int64)
