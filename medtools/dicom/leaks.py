"""An independent leak checker for de-identified DICOM data sets.

Introduced in the chapter *De-identifying DICOM files* (``chapters/deidentification``). It is
the test that tries to break :mod:`medtools.dicom.deid`, and it shares no code or table with it: it
does not import :mod:`medtools.dicom.deid`, and it decides what could identify someone from the
value representation (VR) and from the words of pydicom's keyword for each element, not from
PS3.15 Table E.1-1.

:func:`collect` takes every value of the *original* data set that could identify a person, at
any nesting depth, file meta and private elements included:

* ``"person name"``: every person name (VR ``PN``), whole and each of its components
  (split at ``^``, ``=`` and spaces) of at least :data:`MIN_SUBSTRING` characters;
* ``"date or time"``: every date, time, date-time and age (VR ``DA``, ``TM``, ``DT``, ``AS``);
* ``"UID"``: every UID (VR ``UI``) that the standard does not define itself (pydicom's UID
  dictionary lists those: transfer syntaxes, SOP classes, coding schemes);
* ``"identifier"``: text whose keyword names an identifier (``…ID``, ``…IDs``,
  ``…Identifier``, ``…Number``, ``Accession…``, ``Barcode…``), each value and each part of a
  multi-part value (a file ID's folder names);
* ``"address or phone"``, ``"institution or department"``: text whose keyword names an
  address, telephone, location or residence, or an institution, department, station,
  organisation or application entity (VR ``AE``);
* ``"free text"``: every ``LT``, ``ST``, ``UT`` and ``UR`` value, and ``LO``, ``SH``, ``UC``
  text whose keyword names a comment, description, label, note, reason, history or title;
* ``"private"``: every text value of a private element (data elements of odd groups, their
  private creators included), and of an unknown private element read as bytes when the bytes
  are printable text; numbers (private elements of a number VR, and decimal numbers with a
  point such as ``0.000000`` or ``-12.5``) are measurements, not names, IDs, dates or
  addresses, and are not collected.

:func:`search` looks for each value in *every* value of another data set (file meta, private
elements, every depth, and text inside binary values decoded as Latin-1; only pixel data and
overlay bit planes, which are images, are not read as text) and in any extra strings, such as
the paths of written files. A value is found (case-insensitively) when

* it equals a whole value; or
* it has at least :data:`MIN_SUBSTRING` characters and equals a token of a text value
  (tokens split at ``\\ / ^ = . , ; :`` ``_ - ( )`` and white space: a folder of a path, a
  component of a name, a part of a UID), or occurs inside it where no character of the same
  kind touches it (no letter next to its first or last letter, no digit next to its first or
  last digit): ``77654033`` is found inside ``ID77654033`` and ``1.2.77654033.5``, ``SMITH``
  inside ``Dr SMITH's``, but ``TEXT`` is not found inside ``CONTEXT`` nor a time ``101010``
  inside the 39-digit integer of a new ``2.25.…`` UID.

Values shorter than :data:`MIN_SUBSTRING` characters (a study ID ``1``, a sex ``M``) are
found only as whole values of text elements: as parts of longer values or numbers they occur
everywhere by chance. Numbers (VRs ``DS``, ``IS`` and binary numbers) are searched for whole
values of at least :data:`MIN_SUBSTRING` characters (an ID copied into a number).

Nothing is excluded by rule. An overlap that is not a leak (a date value that happens to equal
the dummy a de-identifier writes, a body part that is also a study description) must be
listed in :data:`BENIGN` as the exact value, the element it is found in, and why; such hits
are reported apart (:attr:`LeakReport.benign`), never dropped.

:func:`check` runs both: ``check(original, deidentified)`` gives a :class:`LeakReport` whose
``leaks`` must be empty.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pydicom
from pydicom.dataset import Dataset

__all__ = [
    "BENIGN",
    "CATEGORIES",
    "MIN_SUBSTRING",
    "Identifier",
    "Leak",
    "LeakReport",
    "check",
    "collect",
    "search",
]

#: The categories :func:`collect` assigns, in the order the chapter shows them.
CATEGORIES = (
    "person name",
    "identifier",
    "date or time",
    "address or phone",
    "institution or department",
    "free text",
    "UID",
    "private",
)

#: Shortest value searched for inside longer values (shorter ones only as whole values or tokens).
MIN_SUBSTRING = 4

#: Explicit whitelist of benign overlaps: ``(value pattern, keyword of the element it is found
#: in, reason)``. A hit is benign only when the identifier matches the pattern as a whole
#: (a regular expression, case-insensitive; most are literal values) and is found in an
#: element of that keyword (``""``: in an extra string, such as a written path).
#: The entries are the overlaps found over pydicom's test files (chapter *De-identifying DICOM
#: files*), each looked at by hand; the chapter lists them with their counts.
BENIGN: tuple[tuple[str, str, str], ...] = (
    (r"1\.2\.826\.0\.1\.3680043\.8\.498\.1", "ImplementationClassUID",
     "pydicom's implementation class UID: names the software that wrote the file"),
    (r"1\.2\.826\.0\.1\.3680043\.8\.498", "ImplementationClassUID",
     "pydicom's UID root (an instance creator UID) inside pydicom's implementation class UID"),
    ("TOSHIBA", "Manufacturer", "an institution name that is also the manufacturer TOSHIBA_MEC"),
    ("Here", "Manufacturer", "an institution name 'Here' that is also the manufacturer 'Here' (rtplan test file)"),
    ("Here", "ManufacturerModelName", "an institution name 'Here' inside the model name 'Here'"),
    ("AGFA", "Manufacturer", "a private creator AGFA that is also the manufacturer"),
    (r"Mortara Instrument, Inc\.", "Manufacturer", "a private creator that is also the manufacturer"),
    ("LightSpeed Plus", "ManufacturerModelName", "a private copy of the scanner's model name"),
    ("05", "SoftwareVersions", "a private element holding the software version 05"),
    ("QCSUCCESS", "StudyStatusID", "a study status code (CS): describes the workflow, not a person"),
    ("Scout", "ScanOptions", "a series description 'Scout' that is also the scan option SCOUT MODE"),
    ("ECG", "Modality", "a study description 'ECG' that is also the modality ECG"),
    ("Liver", "CodeMeaning", "a segment label 'Liver' that is also the code meaning of its anatomy code"),
    ("Name", "CodeMeaning", "a name component 'Name' (test data) that is also an SR concept name"),
    ("text", "ValueType", "a person name 'text' (test data) that is also the SR value type TEXT"),
    ("text", "CodeMeaning", "a person name 'text' (test data) inside an SR concept name"),
    ("Test", "CodingSchemeDesignator", "a patient name 'Test' (test data) that is also a coding scheme designator"),
    ("000000", "StudyTime", "an original time 000000 equal to the dummy time of a new DICOMDIR's STUDY record"),
    ("000000", "ReferencedFileID", "an original time 000000 inside pydicom's new file IDs PT000000, ST000000, …"),
    ("000000", "", "an original time 000000 inside the paths pydicom's file-set writer gives (PT000000/…)"),
    (r"(PT|ST|SE|IM)\d{6}", "ReferencedFileID",
     "pydicom's generic file IDs: a file-set pydicom wrote (TINY_ALPHA) gets them again"),
    (r"(PT|ST|SE|IM)\d{6}", "", "pydicom's generic file IDs, in the paths of the new file-set"),
    ("WHOLE BODY", "BodyPartExamined", "a private copy of the body part"),
    ("WHOLE BODY", "ImageType", "a private copy of the body part, also a value of the image type"),
)

_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UR", "UT"})
_ALWAYS_FREE_TEXT = frozenset({"LT", "ST", "UT", "UR"})
_BINARY_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})
_NUMBER_VRS = frozenset({"DS", "IS", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT", "OF", "OD", "OL", "OV"})
_DECIMAL = re.compile(r"[+-]?\d*\.\d*([eE][+-]?\d+)?")
_TOKEN_SPLIT = re.compile(r"[\\/^=.,;:_\-()\[\]\s]+")
_PRINTABLE = re.compile(r"[\x20-\x7e]+")

_ID_WORDS = re.compile(r"(ID|IDs|Identifier|Identifiers|Number|Numbers)$|^Accession|Barcode|ID(?=[A-Z])")
_ADDRESS_WORDS = re.compile(r"Address|Telephone|Telecom|Phone|Residence|Location|Country|Region|Email")
_INSTITUTION_WORDS = re.compile(r"Institution|Department|Organization|Station|AETitle|Facility|Sponsor")
_FREE_TEXT_WORDS = re.compile(
    r"Comment|Description|Label|Note|Remark|History|Reason|Diagnos|Allerg|Occupation|Religio|Ethnic|"
    r"Alert|Impression|Title|Author|Keyword|Subject|Finding|Narrative|Explanation|Text"
)


@dataclass(frozen=True)
class Identifier:
    """One value that could identify someone: where :func:`collect` found it and what kind it is."""

    value: str
    category: str
    source: str


@dataclass(frozen=True)
class Leak:
    """An identifier found again: ``where`` is the element path (or ``"extra[i]"``), ``text`` its value."""

    identifier: Identifier
    where: str
    text: str
    reason: str = ""  # the BENIGN reason, for a whitelisted hit


@dataclass
class LeakReport:
    """What :func:`check` found.

    Attributes:
        identifiers: every identifying value of the original (one entry per distinct value
            and category; ``source`` is the first element it was found in).
        leaks: hits in the output that no :data:`BENIGN` entry excuses; empty for a clean output.
        benign: hits excused by a :data:`BENIGN` entry, with its reason.
    """

    identifiers: list[Identifier] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    benign: list[Leak] = field(default_factory=list)

    def by_category(self, which: str = "identifiers") -> Counter[str]:
        """Counts per category of ``identifiers``, of the distinct identifiers in ``leaks``, or in ``benign``."""
        if which == "identifiers":
            return Counter(i.category for i in self.identifiers)
        return Counter(i.category for i in {hit.identifier for hit in getattr(self, which)})

    @property
    def leaked(self) -> set[Identifier]:
        """The distinct identifiers found in the output (benign hits excluded)."""
        return {hit.identifier for hit in self.leaks}


def _walk(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every data element of ``ds`` (its file meta first), at every depth: ``(path, element)``."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and not prefix:
        for elem in meta:
            yield f"file_meta.{elem.keyword or elem.tag}", elem
    for elem in ds:
        name = f"{prefix}{elem.keyword or str(elem.tag).replace(' ', '')}"
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from _walk(item, f"{name}[{i}].")
        else:
            yield name, elem


def _texts(elem: Any) -> list[str]:
    """The element's values as strings (bytes decoded as Latin-1, multi-values split)."""
    value = elem.value
    if value is None:
        return []
    values = list(value) if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value]
    out = []
    for v in values:
        if isinstance(v, (bytes, bytearray)):
            out.extend(bytes(v).decode("latin-1").split("\\"))
        else:
            out.append(str(v))
    return [s.strip("\0 ") for s in out if s.strip("\0 ")]


def _standard_uids() -> frozenset[str]:
    from pydicom._uid_dict import UID_dictionary

    return frozenset(UID_dictionary)


_STANDARD_UIDS = _standard_uids()


def _category(elem: Any) -> str | None:
    """The category of a public element's text, from its VR and keyword; ``None`` if not identifying."""
    vr, keyword = elem.VR, elem.keyword or ""
    if vr == "PN":
        return "person name"
    if vr in ("DA", "TM", "DT", "AS"):
        return "date or time"
    if vr == "UI":
        return "UID"
    if vr not in _TEXT_VRS:
        return None
    if _ID_WORDS.search(keyword):
        return "identifier"
    if _ADDRESS_WORDS.search(keyword):
        return "address or phone"
    if vr == "AE" or _INSTITUTION_WORDS.search(keyword):
        return "institution or department"
    if vr in _ALWAYS_FREE_TEXT or (vr in ("LO", "SH", "UC") and _FREE_TEXT_WORDS.search(keyword)):
        return "free text"
    return None


def _parts(value: str, category: str) -> list[str]:
    """The value and the parts a reader would search for separately."""
    parts = [value]
    if category == "person name":
        parts += [p for p in re.split(r"[\^=\s]+", value) if len(p) >= MIN_SUBSTRING]
    elif category == "identifier":
        parts += [p for p in re.split(r"[\\/]+", value) if len(p) >= MIN_SUBSTRING]
    return parts


def collect(ds: Dataset) -> list[Identifier]:
    """Every value of ``ds`` that could identify someone (see the module docstring).

    Args:
        ds: the original, not yet de-identified, pydicom data set.

    Returns:
        One :class:`Identifier` per distinct ``(value, category)``, in the order found.

    Raises:
        TypeError: ``ds`` is not a pydicom data set.
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"collect needs a pydicom Dataset (pydicom.dcmread(path)), got {type(ds).__name__}.")
    seen: dict[tuple[str, str], Identifier] = {}
    for path, elem in _walk(ds):
        tag = elem.tag
        category: str | None
        if tag.is_private:
            if elem.VR in _NUMBER_VRS:
                continue  # a number: a measurement, not a name, ID, date or address
            if elem.VR in _BINARY_VRS:
                raw = elem.value if isinstance(elem.value, (bytes, bytearray)) else b""
                blob = bytes(raw).strip(b"\0 ")
                if not blob or not _PRINTABLE.fullmatch(blob.decode("latin-1")):
                    continue  # a binary blob, not text
            category = "private"
        else:
            category = _category(elem)
            if category is None:
                continue
        for text in _texts(elem):
            if category == "UID" and text in _STANDARD_UIDS:
                continue
            if category == "private" and _DECIMAL.fullmatch(text):
                continue  # a measurement
            for part in _parts(text, category):
                key = (part.casefold(), category)
                if key not in seen:
                    seen[key] = Identifier(part, category, path)
    return list(seen.values())


def _kind(c: str) -> str:
    return "digit" if c.isdigit() else "letter" if c.isalpha() else "other"


def _found(value: str, text: str, tokens: set[str], numeric: bool) -> bool:
    if value == text:
        return len(value) >= MIN_SUBSTRING or not numeric
    if len(value) < MIN_SUBSTRING or numeric:
        return False
    if value in tokens:
        return True
    first, last = _kind(value[0]), _kind(value[-1])
    start = text.find(value)
    while start >= 0:
        end = start + len(value)
        before = _kind(text[start - 1]) if start > 0 else "other"
        after = _kind(text[end]) if end < len(text) else "other"
        if (first == "other" or before != first) and (last == "other" or after != last):
            return True
        start = text.find(value, start + 1)
    return False


def _output_texts(ds: Dataset | None, extra: Iterable[str]) -> list[tuple[str, str, str, bool]]:
    """``(path, keyword, text, is_number)`` for every value of ``ds`` and every extra string."""
    out = []
    if ds is not None:
        for path, elem in _walk(ds):
            if int(elem.tag) in _PIXEL_TAGS or (elem.tag.group & 0xFF01) == 0x6000 and elem.tag.element == 0x3000:
                continue  # pixels and overlay planes are images, not text
            for text in _texts(elem):
                out.append((path, elem.keyword or "", text, elem.VR in _NUMBER_VRS))
    out += [(f"extra[{i}]", "", s, False) for i, s in enumerate(extra)]
    return out


def search(
    identifiers: Iterable[Identifier],
    ds: Dataset | None,
    *,
    extra: Iterable[str] = (),
    benign: Iterable[tuple[str, str, str]] = BENIGN,
) -> tuple[list[Leak], list[Leak]]:
    """Where each identifier occurs in ``ds`` and in ``extra`` (see the module docstring).

    Args:
        identifiers: from :func:`collect` on the original.
        ds: the data set to search (the de-identified one), or ``None`` to search ``extra`` only.
        extra: more strings to search, such as the relative paths of written files.
        benign: ``(value pattern, keyword, reason)`` overlaps to report apart (default :data:`BENIGN`).

    Returns:
        ``(leaks, benign_hits)``: one :class:`Leak` per identifier and element it occurs in.
    """
    excused = [(re.compile(pattern, re.IGNORECASE), keyword, reason) for pattern, keyword, reason in benign]
    leaks: list[Leak] = []
    benign_hits: list[Leak] = []
    wanted = [(ident, ident.value.casefold()) for ident in identifiers]
    for path, keyword, text, numeric in _output_texts(ds, extra):
        folded = text.casefold()
        tokens = {t for t in _TOKEN_SPLIT.split(folded) if t}
        for ident, value in wanted:
            if _found(value, folded, tokens, numeric):
                reason = next((r for p, k, r in excused if k == keyword and p.fullmatch(ident.value)), "")
                hit = Leak(ident, path, text[:80], reason)
                (benign_hits if reason else leaks).append(hit)
    return leaks, benign_hits


def check(
    original: Dataset,
    output: Dataset | None,
    *,
    extra: Iterable[str] = (),
    benign: Iterable[tuple[str, str, str]] = BENIGN,
) -> LeakReport:
    """Collect the identifiers of ``original`` and search ``output`` (and ``extra``) for them.

    Example: ``check(ds, deid.deidentify(ds, salt=s)[0]).leaks == []`` for a clean result;
    ``check(ds, ds)`` finds every identifier (the checker sees what it is meant to find).
    """
    identifiers = collect(original)
    leaks, benign_hits = search(identifiers, output, extra=extra, benign=benign)
    return LeakReport(identifiers, leaks, benign_hits)
