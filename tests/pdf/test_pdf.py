"""The PDF edition (``make pdf``): one file with the whole book, equations typeset, no glyph missing.

Reads ``_build/pdf/book.pdf`` and the facts ``tools/pdf.py`` recorded from the page it printed
(``book.json``), or the files named by ``BOOK_PDF``.

Catches: a partial book (a chapter left out of the single-page build, or printing before the page
loaded), equations left as TeX source or with TeX errors (MathJax not served or not finished),
prose characters no installed font has (a missing CJK font prints empty boxes), a PDF without
bookmarks or internal links.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
PDF = Path(os.environ.get("BOOK_PDF", ROOT / "_build" / "pdf" / "book.pdf"))


@pytest.fixture(scope="module")
def facts() -> dict:
    if not PDF.is_file():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` first")
    return json.loads(PDF.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def reader() -> PdfReader:
    return PdfReader(str(PDF))


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_the_whole_book_is_in_one_pdf(facts, reader):
    assert len(reader.pages) == facts["pages"]
    # A4 pages; about two pages per chapter would mean the chapters' bodies are missing
    assert len(reader.pages) > 8 * len(_toc_files()), f"only {len(reader.pages)} pages for {len(_toc_files())} documents"
    outline = reader.outline
    titles = []

    def walk(items):
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                titles.append(it.title)

    walk(outline)
    assert len(titles) >= len(_toc_files()), f"{len(titles)} bookmarks for {len(_toc_files())} documents"
    numbered = [t for t in titles if re.match(r"^\d+(\.\d+)*\.? ", t)]
    assert len(numbered) >= 0.8 * len(_toc_files()), "chapters are not numbered in the bookmarks"


def test_equations_are_typeset(facts, reader):
    assert facts["equations_typeset"] > 500  # the book has over a thousand; a failed MathJax gives 0
    assert facts["math_errors"] == 0 and facts["raw_math_left"] == 0
    text = "".join(reader.pages[i].extract_text() or "" for i in range(0, len(reader.pages), 7))
    assert "$$" not in text and "\\begin{" not in text


def test_internal_links_work(reader):
    internal = 0
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/Subtype") == "/Link" and ("/Dest" in a or a.get("/A", {}).get("/S") == "/GoTo"):
                internal += 1
    assert internal > 100, f"{internal} internal links"


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="needs fontconfig's fc-list")
def test_no_glyph_is_missing(facts):
    chars = facts["text_characters"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chars), "no Chinese characters: the quotations are missing"
    missing = []
    for ch in chars:
        found = subprocess.run(["fc-list", f":charset={ord(ch):x}", "family"], capture_output=True, text=True).stdout
        if not found.strip():
            missing.append(f"{ch} U+{ord(ch):04X}")
    assert not missing, f"no installed font has these characters of the prose: {missing}"
