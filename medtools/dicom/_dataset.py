"""The pydicom data set underneath :func:`medtools.dicom.load`: reading a file, typed element values.

Introduced with :mod:`medtools.dicom` (chapter *Medical images as they arrive: DICOM*,
``chapters/dicom``). Private helpers shared by :mod:`~medtools.dicom.reader` and
:mod:`~medtools.dicom.transfer`: :func:`_read` turns every failure of ``pydicom.dcmread`` into a
:class:`~medtools.dicom.errors.DicomError` (with a hint at what a non-DICOM file is), and
:func:`_attr`, :func:`_float`, :func:`_floats`, :func:`_require_int` read element values,
from the functional groups of enhanced multi-frame objects where needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.errors import InvalidDicomError

from medtools.dicom.errors import MalformedError, NotAFileError, NotDicomError, TruncatedError


def _read(p: Path, name: str) -> Any:
    try:
        ds = pydicom.dcmread(p)
    except InvalidDicomError:
        raise NotDicomError(
            f"{name}: not a DICOM file — no 'DICM' marker after the 128-byte preamble.{_sniff(p)}",
            path=p,
        ) from None
    except EOFError as exc:
        raise TruncatedError(
            f"{name}: the file ends early ({exc}); copy it again from its source.", path=p
        ) from None
    except OSError as exc:
        raise NotAFileError(f"{name}: the file cannot be read ({exc}).", path=p) from None
    except Exception as exc:  # struct.error and friends: pydicom could not parse the header
        if "unpack requires a buffer" in str(exc):
            raise TruncatedError(
                f"{name}: the file ends inside its header ({exc}); copy it again from its source.", path=p
            ) from None
        raise MalformedError(
            f"{name}: pydicom cannot parse the file ({type(exc).__name__}: {exc}).", path=p
        ) from None
    return ds


def _sniff(path: Path) -> str:
    """A hint at what a non-DICOM file is, from its first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(132)
    except OSError:
        return ""
    if head[:2] == b"\x1f\x8b":
        return " It is gzip-compressed: decompress it first (gzip.open) and load the result."
    if head[:4] == b"PK\x03\x04":
        return " It is a zip archive: extract it first and load the files inside."
    if head[:1] in (b"{", b"["):
        return " It looks like JSON (perhaps DICOM JSON): read it with pydicom.Dataset.from_json."
    if head[:2] in (b"\x08\x00", b"\x00\x08", b"\x02\x00"):
        return (
            " It starts like a raw DICOM data set without the 128-byte preamble and file meta header; "
            "open it with pydicom.dcmread(path, force=True) and check it by hand."
        )
    return ""


def _is_cut_short(ds: Any) -> bool:
    """True when the last top-level element holds fewer bytes than its length says."""
    tags = list(ds.keys())
    if not tags:
        return False
    elem = ds.get_item(tags[-1])
    return (
        isinstance(elem, RawDataElement)
        and elem.length != 0xFFFFFFFF
        and isinstance(elem.value, bytes | bytearray)
        and len(elem.value) < elem.length
    )


def _attr(ds: Any, keyword: str, macro: str | None = None) -> Any:
    """``keyword`` from the data set, else from the shared, else the first per-frame functional group."""
    if keyword in ds:
        return ds[keyword].value
    if macro is None:
        return None
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = ds.get(groups)
        if seq:
            inner = seq[0].get(macro)
            if inner and keyword in inner[0]:
                return inner[0][keyword].value
    return None


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n and all(np.isfinite(out)) else None


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _require_int(ds: Any, keyword: str, name: str, low: int = 0) -> int:
    try:
        value = int(ds[keyword].value)
    except KeyError:
        raise MalformedError(
            f"{name}: the element {keyword} is missing, and the pixel data cannot be interpreted "
            "without it. The file is damaged or not a complete image; ask the sender for a conformant copy.",
            path=name,
        ) from None
    except (TypeError, ValueError):
        raise MalformedError(
            f"{name}: the element {keyword} has the invalid value {ds[keyword].value!r} (an integer is "
            f"required). Set ds.{keyword} to the right value with pydicom if you know it.",
            path=name,
        ) from None
    if value < low:
        raise MalformedError(f"{name}: {keyword} is {value}, below {low}.", path=name)
    return value
