"""The bibliography (references.bib) against the chapters: every cited key exists, every entry
is cited somewhere, no key or DOI appears twice, and every entry can be found (a DOI, an arXiv
id or a URL)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", re.S)
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def _entries() -> list[tuple[str, str, str]]:
    return ENTRY.findall((ROOT / "references.bib").read_text(encoding="utf-8"))


def _book_text() -> str:
    parts = [(ROOT / "intro.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "chapters").glob("*.md"))]
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        parts += ["".join(c["source"]) for c in cells]
    return "\n".join(parts)


def _cited() -> set[str]:
    return {key.strip() for group in CITE.findall(_book_text()) for key in group.split(",")}


def test_the_bibliography_parses() -> None:
    entries = _entries()
    assert len(entries) >= 40
    assert len(entries) == (ROOT / "references.bib").read_text(encoding="utf-8").count("\n@") + 1


def test_no_duplicate_keys_or_dois() -> None:
    keys = [k for _, k, _ in _entries()]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    dois = [m.group(1).strip().lower() for _, _, body in _entries()
            if (m := re.search(r"\bdoi\s*=\s*\{([^}]+)\}", body))]
    assert len(dois) == len(set(dois)), sorted({d for d in dois if dois.count(d) > 1})


@pytest.mark.parametrize("key, body", [(k, b) for _, k, b in _entries()], ids=[k for _, k, _ in _entries()])
def test_every_entry_can_be_found(key: str, body: str) -> None:
    assert re.search(r"\b(doi|eprint|url)\s*=", body), f"{key} has no doi, eprint (arXiv id) or url"


def test_every_cited_key_exists_and_every_entry_is_cited() -> None:
    keys = {k for _, k, _ in _entries()}
    cited = _cited()
    assert not cited - keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    assert not keys - cited, f"in references.bib but cited nowhere: {sorted(keys - cited)}"
