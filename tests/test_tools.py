"""The build tools in tools/: the console of `make` stages and the nbval → jupyter-cache plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.progress import Follower  # noqa: E402


def test_follower_reports_each_chapter_once_serial_and_under_xdist(capsys):
    serial = Follower("notebooks", {"a": 10.0, "b": 20.0})
    for line in ["chapters/a::ipynb::Cell 0 PASSED", "chapters/a::ipynb::Cell 1 PASSED", "chapters/b::ipynb::Cell 0 PASSED"]:
        serial.feed(line)
    serial.close()
    assert list(serial.done) == ["a", "b"]  # a follower that missed a chapter or repeated one fails here
    xdist = Follower("notebooks", {"a": 10.0, "b": 20.0, "c": 5.0})
    for line in ["created: 2/2 workers",
                 "chapters/a::ipynb::Cell 0 ",  # xdist echoes the id when a cell starts, without a worker
                 "chapters/b::ipynb::Cell 0 ",  # ... the other worker's too, before either reports
                 "[gw0] [ 10%] PASSED chapters/a::ipynb::Cell 0 ",
                 "[gw1] [ 20%] PASSED chapters/b::ipynb::Cell 0 ",
                 "[gw0] [ 30%] PASSED chapters/a::ipynb::Cell 1 ",
                 "[gw0] [ 60%] PASSED chapters/c::ipynb::Cell 0 ",
                 "[gw1] [100%] FAILED chapters/b::ipynb::Cell 1 "]:
        xdist.feed(line)
    # a ended when its worker moved to c; b and c still run (a follower that took the start lines
    # for a serial run reports a at b's start line, 0 s, and again later)
    assert list(xdist.done) == ["a"]
    xdist.close()
    # each once, in the order they ended; a follower that treated the start line as a chapter of
    # its own, or reported a chapter per cell, lists more
    assert sorted(xdist.done) == ["a", "b", "c"] and len(xdist.done) == 3
    assert "about" in capsys.readouterr().out


def _notebook(path: Path, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# t")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2", "--dist", "loadfile"]])
def test_nbval_cache_stores_what_nbval_ran_and_only_passing_notebooks(tmp_path, workers):
    from jupyter_cache import get_cache

    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    _notebook(good, ["x = 6 * 7", "print(x)", "x"])
    _notebook(bad, ["y = 1", "assert y == 2, 'fails on purpose'"])
    cache_dir = tmp_path / "cache"
    env = {"NBVAL_JUPYTER_CACHE": str(cache_dir), "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tools.nbval_cache",
                           "--nbval-lax", "--nbval-current-env", *workers, str(good), str(bad)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]  # bad.ipynb fails: a run that hid the failure passes
    cache = get_cache(str(cache_dir))
    _, merged = cache.merge_match_into_notebook(nbformat.read(good, as_version=4))
    code = [c for c in merged.cells if c.cell_type == "code"]
    # the kernel's outputs land in their cells, in order, with consecutive execution counts: a
    # plugin that dropped outputs, shifted them by a cell or kept the stored (empty) ones fails
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert code[1].outputs[0]["text"] == "42\n"
    assert code[2].outputs[0]["data"]["text/plain"] == "42"
    with pytest.raises(KeyError):  # a notebook with a failed cell is left to the build
        cache.match_cache_notebook(nbformat.read(bad, as_version=4))
    assert not list((cache_dir.parent / "nbval-executed").glob("*.ipynb"))  # staging emptied
