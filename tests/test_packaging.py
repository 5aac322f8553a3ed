"""The package installs by name: ``python -m build`` makes an sdist and a wheel, ``twine check``
passes, the wheel holds every file of ``medtools/`` that git tracks, and the version is the one
set in ``medtools/__init__.py`` (CITATION.cff and CHANGELOG.md agree with it).

Catches: a subpackage or data file left out of the wheel (setuptools' ``packages.find`` or
package-data rules), a README that PyPI would not render, a version bumped in one place only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import medtools

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_set_in_one_place():
    version = medtools.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    cff = re.search(r"^version:\s*\"?([^\"\n]+)\"?", (ROOT / "CITATION.cff").read_text(), re.M)
    assert cff and cff.group(1).strip() == version, "CITATION.cff's version differs from medtools.__version__"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"^## \[?(\d+\.\d+\.\d+)", changelog, re.M)
    assert first and first.group(1) == version, "CHANGELOG.md's newest entry is not medtools.__version__"


@pytest.mark.slow
def test_sdist_and_wheel_build_and_pass_twine_check(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, text=True)
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    version = medtools.__version__
    assert wheels[0].name == f"dlmia_medtools-{version}-py3-none-any.whl"
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tracked = subprocess.run(["git", "ls-files", "medtools"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    tracked = {p for p in tracked if (ROOT / p).exists()}  # a file deleted but not yet committed
    in_wheel = set(zipfile.ZipFile(wheels[0]).namelist())
    assert not tracked - in_wheel, f"files of medtools/ missing from the wheel: {sorted(tracked - in_wheel)}"
    with tarfile.open(sdists[0]) as tar:
        in_sdist = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert not tracked - in_sdist, f"files of medtools/ missing from the sdist: {sorted(tracked - in_sdist)}"
    metadata = zipfile.ZipFile(wheels[0]).read(f"dlmia_medtools-{version}.dist-info/METADATA").decode()
    assert "Name: dlmia-medtools" in metadata and "Requires-Python: <3.14,>=3.11" in metadata
