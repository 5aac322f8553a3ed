"""`make colab-check`: the chapters' Colab cells run against Colab's published package versions.

Colab ships its own TensorFlow, Keras, NumPy, ipywidgets and attrs (``colab-constraints.txt``,
copied from ``googlecolab/backend-info``). Each chapter's first cell installs ``dlmia-medtools``
with the extras it needs. This check builds a stand-in runtime and runs those cells as Colab would:

1. a virtual environment (``_build/colab-venv``) with Colab's versions of the packages the book
   imports, installed under ``colab-constraints.txt``, and a stand-in ``google.colab`` module that
   IPython imports at kernel start (so ``"google.colab" in sys.modules``, as on Colab);
2. for each chapter in ``CHAPTERS``: uninstall the package, execute the chapter with nbclient (its
   Colab cell installs ``dlmia-medtools`` from this checkout's last commit through
   ``MEDTOOLS_REPOSITORY``), and compare ``pip freeze`` before and after the Colab cell: an
   installed package whose version changed (an upgrade or a downgrade of something Colab ships)
   fails the check;
3. the fast unit tests (``pytest -m "not slow"``) in the same environment.

What it leaves untested: Colab's Python is 3.13 and this check uses the machine's Python (3.11
here); Colab's GPU runtime; Colab's front end (widgets are rendered by Colab's own manager).

Usage: ``python tools/colab_check.py [--python python3] [--chapters dicom privacy ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "_build" / "colab-venv"
CONSTRAINTS = ROOT / "colab-constraints.txt"
CHAPTERS = ["dicom", "deidentification", "privacy", "efficiency", "cnn"]
# What Colab has that the book imports (and the tools this check needs to run notebooks and
# tests); their versions come from colab-constraints.txt. hypothesis is not on Colab: the unit
# tests need it, so it is installed after the freeze is taken as a test tool.
COLAB_BASE = [
    "tensorflow", "keras", "numpy", "scipy", "scikit-learn", "matplotlib", "pandas", "pillow",
    "ipywidgets", "ipykernel", "ipython", "jupyter_client", "nbclient", "nbformat", "pytest", "attrs",
    "tqdm", "pooch", "platformdirs", "absl-py", "dm-tree", "mpmath", "requests",
]
TEST_TOOLS = ["hypothesis"]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("   $", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def freeze(py: Path) -> dict[str, str]:
    out = subprocess.run([str(py), "-m", "pip", "freeze", "--all"], check=True, capture_output=True, text=True).stdout
    pins = {}
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
        elif " @ " in line:
            name = line.split(" @ ")[0]
            pins[name.lower().replace("_", "-")] = "@" + line.split(" @ ", 1)[1]
    return pins


def make_venv(python: str) -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        run([python, "-m", "venv", str(VENV)])
        run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        run([str(py), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), *COLAB_BASE])
    # the stand-in google.colab, imported at kernel start as on Colab
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module (tools/colab_check.py)."""\n')
    startup = VENV / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401  (as Colab does at kernel start)\n")
    return py


def check_chapter(py: Path, chapter: str, env: dict[str, str]) -> dict:
    subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", "dlmia-medtools"], capture_output=True)
    before = freeze(py)
    nb_path = ROOT / "chapters" / f"{chapter}.ipynb"
    out_path = VENV / f"{chapter}.out.ipynb"
    code = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        f"nb = nbformat.read({str(nb_path)!r}, as_version=4)\n"
        f"NotebookClient(nb, timeout=900, kernel_name='python3',\n"
        f"               resources={{'metadata': {{'path': {str(nb_path.parent)!r}}}}}).execute()\n"
        f"nbformat.write(nb, {str(out_path)!r})\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([str(py), "-c", code], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    after = freeze(py)
    changed = {k: (before[k], after[k]) for k in before if k in after and before[k] != after[k]}
    added = sorted(k for k in after if k not in before)
    error = None if proc.returncode == 0 else (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    return {"chapter": chapter, "ok": proc.returncode == 0 and not changed, "seconds": round(seconds),
            "changed": changed, "added": added, "error": error}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable if not sys.prefix.endswith(".venv") else "python3")
    parser.add_argument("--chapters", nargs="*", default=CHAPTERS)
    parser.add_argument("--fresh", action="store_true", help="rebuild the stand-in runtime from scratch")
    args = parser.parse_args(argv)
    if args.fresh and VENV.exists():
        shutil.rmtree(VENV)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "medtools", "pyproject.toml", "chapters"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    print(f"colab-check: the Colab cells install commit {head.strip()} (git); the chapters run from the work tree"
          + (" — which has uncommitted changes: commit them, or run this from a clean clone" if dirty else ""))
    py = make_venv(args.python)
    versions = {k: v for k, v in freeze(py).items() if k in ("tensorflow", "keras", "numpy", "ipywidgets", "attrs")}
    print(f"colab-check: stand-in runtime {versions}", flush=True)
    env = dict(os.environ, IPYTHONDIR=str(VENV / "ipython"), MEDTOOLS_REPOSITORY=f"file://localhost{ROOT}",
               MEDTOOLS_CACHE_DIR=str(VENV / "medtools-cache"), PATH=f"{py.parent}:{os.environ['PATH']}")
    results = []
    for chapter in args.chapters:
        r = check_chapter(py, chapter, env)
        results.append(r)
        status = "ok" if r["ok"] else "FAILED"
        print(f"  colab {chapter:<18} {r['seconds']:5d} s  {status}; installed {len(r['added'])} packages"
              + (f"; CHANGED {r['changed']}" if r["changed"] else ""), flush=True)
        if r["error"]:
            print("    " + "\n    ".join(r["error"]), flush=True)
    run([str(py), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), *TEST_TOOLS])
    # The test files of an extra no chapter run here installed are left out by tests/conftest.py
    # (EXTRA_TESTS), which names them in pytest's header.
    unit = subprocess.run([str(py), "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider", "tests",
                           "--ignore=tests/browser", "--ignore=tests/test_packaging.py"], cwd=ROOT, env=env)
    report = {"runtime": versions, "python": subprocess.run([str(py), "--version"], capture_output=True,
                                                            text=True).stdout.strip(),
              "chapters": results, "unit_tests_exit": unit.returncode}
    (VENV / "report.json").write_text(json.dumps(report, indent=1))
    ok = all(r["ok"] for r in results) and unit.returncode == 0
    print(f"colab-check: {'passed' if ok else 'FAILED'}; report in {(VENV / 'report.json').relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
