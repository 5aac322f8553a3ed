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


# The article's own reference list, accounted for entry by entry (chapters/article_references.md).
ARTICLE_REFS = ROOT / "chapters" / "article_references.md"
STATUSES = ("kept", "merged", "dropped")
ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|\s*\*\*(\w+)\*\*\s*\|(.*)\|\s*$")


def _article_rows() -> list[tuple[int, str, str, str]]:
    """(number, the article's entry, status, note) for each numbered row of the table."""
    rows = []
    for line in ARTICLE_REFS.read_text(encoding="utf-8").splitlines():
        if (m := ROW.match(line)) is not None:
            rows.append((int(m.group(1)), m.group(2).strip(), m.group(3), m.group(4).strip()))
    return rows


def test_every_article_reference_has_one_row() -> None:
    numbers = [n for n, *_ in _article_rows()]
    assert numbers == list(range(1, 48)), numbers


def test_every_article_reference_has_a_status() -> None:
    bad = {n: s for n, _, s, _ in _article_rows() if s not in STATUSES}
    assert not bad, bad


def test_kept_references_cite_a_verified_entry() -> None:
    keys = {k for _, k, _ in _entries()}
    for n, _, status, note in _article_rows():
        if status != "kept":
            continue
        cited = {key.strip() for group in CITE.findall(note) for key in group.split(",")}
        assert cited, f"[{n}] is kept but cites nothing"
        assert cited <= keys, f"[{n}] cites keys not in references.bib: {sorted(cited - keys)}"


def test_merged_references_name_an_earlier_entry() -> None:
    rows = {n: (status, note) for n, _, status, note in _article_rows()}
    for n, (status, note) in rows.items():
        if status != "merged":
            continue
        m = re.search(r"Repeats \[(\d+)\]", note)
        assert m, f"[{n}] is merged but does not say which entry it repeats"
        target = int(m.group(1))
        assert 1 <= target < n, f"[{n}] repeats [{target}], which is not an earlier entry"
        assert rows[target][0] != "merged", f"[{n}] repeats [{target}], itself a repeat"


def test_the_summary_counts_match_the_table() -> None:
    text = ARTICLE_REFS.read_text(encoding="utf-8")
    m = re.search(r"(\d+) kept, (\d+) merged, (\d+) dropped\D+(\d+) entries", text)
    assert m, "no summary line '<n> kept, <n> merged, <n> dropped — <n> entries'"
    counts = {s: sum(1 for _, _, status, _ in _article_rows() if status == s) for s in STATUSES}
    assert [int(g) for g in m.groups()] == [counts["kept"], counts["merged"], counts["dropped"],
                                            len(_article_rows())]
