"""Tests of medtools.book (chapter *A first look at medical images*): the plumbing of every
chapter's setup cell — Markdown tables, source without docstrings, the sample X-rays, setup."""

from __future__ import annotations

import inspect
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import medtools  # noqa: E402
from medtools import book  # noqa: E402
from medtools import reference as ref  # noqa: E402


def test_markdown_table():
    text = book.markdown_table(["model", "AUC"], [["article", 0.9], ("compact", 0.95)])
    assert text.splitlines() == ["| model | AUC |", "|---|---|", "| article | 0.9 |", "| compact | 0.95 |"]
    assert book.markdown_table(["a"], []) == "| a |\n|---|"
    assert book.markdown_table(["a|b"], [["x|y"]]).splitlines() == [r"| a\|b |", "|---|", r"| x\|y |"]
    with pytest.raises(ValueError, match=r"row 1 has 3 cells, the header has 2: \[1, 2, 3\]"):
        book.markdown_table(["a", "b"], [[1, 2], [1, 2, 3]])


def test_show_source_leaves_out_the_docstring_only(capsys):
    text = book.show_source(ref.softmax)  # a raw (r-prefixed) docstring
    assert text.startswith('def softmax(x: ArrayLike, axis: int = -1) -> np.ndarray:\n    a = as_float(x, "x")\n')
    assert "Numerically stable" not in text and '"""' not in text
    assert capsys.readouterr().out == text + "\n"
    assert book.show_source(ref.AdamState).splitlines()[:2] == ["class AdamState(NamedTuple):", "    m: np.ndarray"]

    def no_docstring(x):
        s = """a string, not a docstring"""
        return s + x

    assert book.show_source(no_docstring) == inspect.getsource(no_docstring)

    def only_a_docstring():
        """Nothing else."""

    assert book.show_source(only_a_docstring) == inspect.getsource(only_a_docstring)

    pair = (
        lambda v: v + 1, 2)  # a lambda's source is this line, which does not parse on its own
    assert book.show_source(pair[0]) == inspect.getsource(pair[0])


def test_show_source_refuses_objects_without_python_source():
    for obj in (len, np.add, 3):
        with pytest.raises(TypeError, match="show_source needs a Python function or class with source code"):
            book.show_source(obj)


@pytest.mark.data
def test_sample_xrays(medmnist_file):
    medmnist_file("pneumoniamnist")
    x, y = book.sample_xrays()
    assert x.shape == (8, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert y.dtype == np.int64 and y.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    x2, y2 = book.sample_xrays(2)  # the first images of each class, in file order
    np.testing.assert_array_equal(x2, x[[0, 1, 4, 5]])
    assert y2.tolist() == [0, 0, 1, 1]
    for bad in (0, 235):  # the test split has 234 normal images
        with pytest.raises(ValueError, match=f"per_class must be between 1 and 234, got {bad}"):
            book.sample_xrays(bad)


def test_setup_returns_the_versions_line(capsys):
    with np.printoptions(), matplotlib.rc_context():  # setup changes both; restore them afterwards
        line = book.setup(seed=0, deterministic=False)
    assert re.fullmatch(r"medtools \S+ \| keras 3\.\S+ \| tensorflow 2\.\S+", line)
    assert line.startswith(f"medtools {medtools.__version__} ")
    assert capsys.readouterr().out == line + "\n"
