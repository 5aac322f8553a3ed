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


def test_glue_shows_a_hidden_value_on_stderr(capsys):
    book.glue("answer", 42, display=False)
    captured = capsys.readouterr()
    assert captured.err == "glue: answer = 42\n"
    assert "42" not in captured.out


def test_glue_works_without_myst_nb(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # `from myst_nb import glue` raises ImportError
    book.glue("ratio", 0.25, display=False)
    assert capsys.readouterr().err == "glue: ratio = 0.25\n"


# -- The Colab cell and the repository URL --------------------------------------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_FILES = sorted(p for p in (ROOT / "chapters").glob("*.ipynb") if p.stem != "status")


def _config_repository_url() -> str:
    match = re.search(r"^repository:\s*\n\s+url:\s*\"?([^\"\n]*)\"?", (ROOT / "_config.yml").read_text(), re.M)
    assert match, "_config.yml has no repository.url line"
    return match.group(1).strip()


def _colab_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["metadata"].get("medtools_colab")]


def test_the_repository_url_is_one_setting():
    url = _config_repository_url()
    assert book.REPOSITORY_URL == url, "set medtools.book.REPOSITORY_URL to repository.url of _config.yml"
    wrong = []
    for path in CHAPTER_FILES:
        values = [
            re.match(r'REPOSITORY = "([^"]*)"', ln).group(1)
            for cell in _colab_cells(path)
            for ln in cell.splitlines()
            if ln.startswith("REPOSITORY = ")
        ]
        if values != [url]:
            wrong.append(path.name)
    assert not wrong, f"these chapters' Colab cell does not say REPOSITORY = {url!r}: {wrong}"


def test_every_chapter_starts_with_the_colab_cell():
    # The cell and the badge are generated (python -m medtools.book colab-cells) from one template
    # and the one repository setting: a chapter edited by hand, or a template changed without
    # rewriting the chapters, fails here.
    for path in CHAPTER_FILES:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code[0]["metadata"].get("medtools_colab"), f"{path.name}: the first code cell is not the Colab cell"
        assert len(_colab_cells(path)) == 1, path.name
        source = "".join(code[0]["source"])
        assert source == book.colab_cell(path.stem), f"{path.name}: Colab cell differs from the template (make colab-cells)"
        assert "tensorflow" not in source.split("REPOSITORY =")[1], f"{path.name}: Colab keeps its own TensorFlow"
        title = "".join(cells[0]["source"])
        badge = book.colab_badge(path.stem)
        if badge:
            assert badge in title, f"{path.name}: no Open-in-Colab badge under the title (make colab-cells)"
        else:
            assert "colab.research.google.com" not in title, f"{path.name}: a badge although no repository is set"
        # the chapters glue through medtools.book.glue, which works without MyST-NB
        text = "".join("".join(c["source"]) for c in code)
        assert "from myst_nb import" not in text and "import myst_nb" not in text, path.name


def test_the_colab_cell_and_badge_follow_the_repository_setting():
    cell = book.colab_cell("privacy", repository="https://github.com/o/r", version="9.9.9")
    assert 'REPOSITORY = "https://github.com/o/r"' in cell and "==9.9.9" in cell
    assert '"--no-deps", "dp-accounting==' in cell  # Colab's attrs 26 stays (see book.COLAB_NO_DEPS)
    assert "dlmia-medtools[colab,dicom]" in book.colab_cell("dicom")
    assert book.colab_badge("cnn", repository="") == ""
    badge = book.colab_badge("cnn", repository="https://github.com/o/r.git")
    assert badge.endswith("(https://colab.research.google.com/github/o/r/blob/main/chapters/cnn.ipynb)")
    assert "../_static/colab-badge.svg" in badge and (ROOT / "_static" / "colab-badge.svg").is_file()
    with pytest.raises(ValueError, match="GitHub"):
        book.colab_badge("cnn", repository="https://gitlab.com/o/r")
    # every pip package the template names is an extra of the distribution
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for chapter, names in book.COLAB_EXTRAS.items():
        assert set(names) <= set(extras), chapter


def test_the_colab_extras_leave_tensorflow_alone():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "dlmia-medtools"  # "medtools" on PyPI is an unrelated package
    extras = project["optional-dependencies"]
    for name in ("colab", "dicom", "privacy", "efficiency", "deid"):
        assert not any(req.lower().startswith(("tensorflow", "keras")) for req in extras[name]), name
    assert not any(req.lower().startswith(("tensorflow", "keras")) for req in project["dependencies"])


def test_committed_notebooks_have_no_outputs():
    # The build executes every chapter; a notebook committed with outputs shows stale numbers in
    # JupyterLab and Colab and bloats the history (the pre-commit hook strips them; this catches a
    # commit made without it).
    dirty = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
                dirty.append(path.name)
                break
    assert not dirty, f"notebooks committed with outputs or execution counts: {dirty} (run nbstripout on them)"


def _book_pages() -> list[Path]:
    """The book's Markdown pages (not the build output or the virtual environment)."""
    return [p for p in sorted(ROOT.glob("**/*.md")) if not {"_build", ".venv"} & set(p.parts)]


def test_every_pasted_glue_key_is_glued_by_its_chapter():
    # The conclusion pastes 90+ values from other chapters ({glue:text}`chapter.ipynb::key`); a key a
    # chapter renamed or dropped fails only late in the strict build. This finds it in seconds: each
    # key must appear as the first argument of a glue(...) call (or in a loop that builds keys) in
    # that chapter's code.
    missing = []
    for page in _book_pages():
        for chapter, key in re.findall(r"\{glue:\w+\}`([\w-]+)\.ipynb::([\w]+)", page.read_text(encoding="utf-8")):
            path = ROOT / "chapters" / f"{chapter}.ipynb"
            if not path.is_file():
                missing.append(f"{page.name}: {chapter}.ipynb does not exist ({key})")
                continue
            code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                             if c["cell_type"] == "code")
            patterns = []
            for is_f, _, template in re.findall(r"glue\(\s*(f?)([\"'])(.*?)\2", code):
                parts = re.split(r"\{[^}]*\}", template) if is_f else [template]
                patterns.append(r"\w*".join(re.escape(p) for p in parts))
            patterns += [re.escape(p) + r"\w*" for p in re.findall(r"glue\(\s*[\"'](\w+)[\"']\s*\+", code)]
            built = any(re.fullmatch(p, key) for p in patterns if p.replace(r"\w*", ""))  # f"{k}" names nothing
            named = re.search(rf"[\"']{key}[\"']", code)  # a key named in a list or dict the glue loop reads
            if not (built or named):
                missing.append(f"{page.name}: {chapter}.ipynb::{key}")
    assert not missing, f"pasted glue keys that no chapter glues: {missing}"


def test_pasted_glue_names_its_format():
    # MyST-NB reads {glue:text}`doc.ipynb::key` as key "doc.ipynb:" with format "key" (it splits
    # at the last colon), so a value pasted from another document needs an explicit format, e.g.
    # `doc.ipynb::key:s`; without one the strict build fails with "No key 'doc.ipynb:' found".
    bare = []
    for page in _book_pages():
        bare += [f"{page.name}: {m}" for m in re.findall(r"\{glue:text\}`[\w-]+\.ipynb::\w+`",
                                                          page.read_text(encoding="utf-8"))]
    assert not bare, f"cross-document glue without a format (add :s or a number format): {bare}"
