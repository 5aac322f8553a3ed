"""What the de-identifier implements of Table E.1-1, and what a de-identifier did to each attribute.

Introduced in the chapter *De-identifying DICOM files* (``chapters/deidentification``):

* :func:`conformance` — every action and option of Table E.1-1 with its status here
  (implemented, refused or not supported) and the number of rows that carry it;
* :func:`attribute_actions` — removed, emptied, replaced or kept, attribute by attribute, to
  compare :func:`~medtools.dicom.deid.profile.deidentify` with another de-identifier.
"""

from __future__ import annotations

from collections import Counter

from pydicom.dataset import Dataset

from medtools.dicom.deid.profile import _PIXEL_TAGS, TABLE_E1_1

__all__ = [
    "attribute_actions",
    "conformance",
]


#: Status of each option of PS3.15 Table E.1-1 here, keyed by the column names of
#: :data:`TABLE_E1_1`, plus the options the table has no column for.
_OPTIONS = {
    "SafePriv": ("Retain Safe Private", "not supported", "every private element is removed"),
    "UIDs": ("Retain UIDs", "not supported", "every UID not defined by the standard is remapped (salted hash)"),
    "DevId": ("Retain Device Identity", "not supported", "the table's device attributes are removed or emptied"),
    "InstId": ("Retain Institution Identity", "not supported", "institution attributes are removed"),
    "PatChars": ("Retain Patient Characteristics", "not supported", "age, sex, size, weight are removed or emptied"),
    "LongFull": ("Retain Longitudinal Temporal Information, Full Dates", "not supported",
                 "every date and time is emptied or removed"),
    "LongModif": ("Retain Longitudinal Temporal Information, Modified Dates", "not supported", "no date shifting"),
    "CleanDesc": ("Clean Descriptors", "not supported", "descriptors are removed (X) or emptied, never cleaned and kept"),
    "CleanStruct": ("Clean Structured Content", "not supported", "structured content is replaced by dummies (D)"),
    "CleanGraph": ("Clean Graphics", "not supported", "overlays and curves are removed whole"),
    "CleanPixel": ("Clean Pixel Data", "refused",
                   "pixels that may show text (BurnedInAnnotation YES, or absent on US, SC, OT, ES, XC, …) raise Refused "
                   "unless burned_in='remove_pixels' or 'keep'"),
    "CleanVisual": ("Clean Recognizable Visual Features", "refused",
                    "RecognizableVisualFeatures YES raises Refused unless visual_features is given; faces in volumes "
                    "without the flag are not detected"),
}

_ACTIONS = {
    "D": "dummy value of the VR (a sequence: every item de-identified, its free text replaced)",
    "Z": "emptied (a sequence: no items)",
    "X": "removed",
    "U": "UID remapped (salted hash, consistent across files)",
    "Z/D": "Z: emptied (D in a file-set's PatientID)",
    "X/Z": "X: removed",
    "X/D": "X: removed",
    "X/Z/D": "X: removed",
    "X/Z/U*": "X: removed",
}


def conformance() -> list[tuple[str, str, int, str]]:
    """Every action and option of Table E.1-1 (edition :data:`EDITION`) and what this module does.

    Returns:
        ``[(action or option, status, rows of the table, what is done), …]``: each Basic
        Profile action code with the number of rows that carry it (status ``"implemented"``),
        then each option with the number of rows with an entry in its column (status
        ``"not supported"`` or ``"refused"``; Clean Pixel Data and Clean Recognizable Visual
        Features have no column: 0 rows).
    """
    counts = Counter(action for _, action, _ in TABLE_E1_1)
    rows = [(f"Basic Profile {a}", "implemented", counts[a], what) for a, what in _ACTIONS.items()]
    unknown = set(counts) - set(_ACTIONS)
    if unknown:  # pragma: no cover - the table has only these codes
        raise RuntimeError(f"actions without an implementation: {sorted(unknown)}")
    for key, (name, status, what) in _OPTIONS.items():
        n = sum(1 for _, _, options in TABLE_E1_1 if key in options)
        rows.append((name, status, n, what))
    return rows


def attribute_actions(original: Dataset, output: Dataset) -> dict[str, str]:
    """What a de-identifier did to each top-level attribute (and file meta element) of ``original``.

    Used by the chapter to compare :func:`deidentify` with another de-identifier attribute by
    attribute. Pixel data, group lengths and elements already empty in ``original`` are left
    out (there is nothing to de-identify in them).

    Returns:
        ``{keyword (or tag for unnamed and private elements): action}`` with action
        ``"removed"`` (absent from ``output``), ``"emptied"`` (present, empty; a sequence
        without items), ``"replaced"`` (another non-empty value; for a sequence: the same
        number of items with some value changed) or ``"kept"`` (equal).
    """
    out: dict[str, str] = {}
    pairs = [(original, output)]
    meta_a, meta_b = getattr(original, "file_meta", None), getattr(output, "file_meta", None)
    if meta_a is not None:
        pairs.append((meta_a, meta_b if meta_b is not None else Dataset()))
    for a, b in pairs:
        for elem in a:
            if int(elem.tag) in _PIXEL_TAGS or elem.tag.element == 0 or elem.value in (None, "", b""):
                continue
            if elem.VR == "SQ" and len(elem.value) == 0:
                continue
            name = elem.keyword or str(elem.tag).replace(" ", "")
            if elem.tag not in b:
                out[name] = "removed"
                continue
            new = b[elem.tag].value
            if new in (None, "", b"") or (elem.VR == "SQ" and len(new) == 0):
                out[name] = "emptied"
            else:
                out[name] = "kept" if new == elem.value else "replaced"
    return out
