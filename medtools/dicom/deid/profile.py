"""The Basic Profile itself: Table E.1-1 parsed, the blanket rules, and :func:`deidentify`.

Introduced in the chapter *De-identifying DICOM files* (``chapters/deidentification``); what it
does and refuses is described in :mod:`medtools.dicom.deid`:

* :data:`TABLE_E1_1`, :data:`BASIC_PROFILE`, :data:`EDITION` — the standard's table (from the
  generated ``_table.py``) and the action for each single attribute;
* :data:`KEEP_TEXT`, :data:`BURNED_IN_RISK` — the allow-list of unlisted free text, and the
  modalities whose pixels often carry burned-in names;
* :func:`deidentify`, :func:`deidentify_file` — de-identify a data set or a file;
  :class:`DeidReport` says what was done, :class:`Refused` what was not;
* :func:`remap_uid` — the salted, consistent replacement of a UID.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag
from pydicom.uid import UID

from medtools.dicom.deid._table import _TABLE_E1_1, EDITION

__all__ = [
    "BASIC_PROFILE",
    "BURNED_IN_RISK",
    "EDITION",
    "KEEP_TEXT",
    "TABLE_E1_1",
    "DeidReport",
    "Refused",
    "deidentify",
    "deidentify_file",
    "remap_uid",
]


def _parse_table() -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for line in _TABLE_E1_1.strip().splitlines():
        tag, action, *options = line.split()
        rows.append((tag, action, dict(o.split("=") for o in options)))
    return rows


#: Every row of Table E.1-1 (edition :data:`EDITION`): ``(tag, Basic Profile action, {option: K or C})``.
TABLE_E1_1: list[tuple[str, str, dict[str, str]]] = _parse_table()

#: Tag (int) → Basic Profile action code (``"D"``, ``"Z"``, ``"X"``, ``"U"``, ``"Z/D"``, ``"X/Z"``,
#: ``"X/D"``, ``"X/Z/D"``, ``"X/Z/U*"``) for the single attributes of :data:`TABLE_E1_1`; the
#: curve, overlay and private rows are applied by rule (see the module docstring).
BASIC_PROFILE: dict[int, str] = {int(t, 16): a for t, a, _ in TABLE_E1_1 if all(c in "0123456789ABCDEF" for c in t)}

_DEID_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")
_METHOD = [f"DICOM PS3.15 {EDITION} Annex E Basic Profile", "medtools.dicom.deid; private, overlays removed"]
_DUMMY = {"PN": "ANONYMOUS", "DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000D"}
_TEXT_VRS = {"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UR", "UT"}
_FREE_TEXT_VRS = {"LT", "ST", "UT", "UC"}
_UNLISTED_TEXT_VRS = {"AE", "LO", "LT", "SH", "ST", "UC", "UR", "UT"}
_NUMBER_VRS = {"DS", "IS", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"}
_BINARY_VRS = {"OB", "OW", "OD", "OF", "OL", "OV", "UN"}
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage
_COMPRESSED_HINT = "pixel data left encoded as they were (the header is de-identified; pixels are not inspected)"

#: Free-text attributes (VR LO, SH, LT, ST, UT, UC, UR, AE) that Table E.1-1 does not name and
#: that :func:`deidentify` keeps, because they describe the equipment, the acquisition or a
#: coded concept and not a person: every other unlisted free-text element is removed.
KEEP_TEXT: frozenset[str] = frozenset(
    {
        # equipment and software (Retain Device Identity is not supported: serial numbers,
        # station names and device IDs are in the table and are removed)
        "Manufacturer", "ManufacturerModelName", "SoftwareVersions", "ImplementationVersionName",
        "SecondaryCaptureDeviceManufacturer", "SecondaryCaptureDeviceManufacturerModelName",
        "SecondaryCaptureDeviceSoftwareVersions",
        # acquisition parameters written by the scanner
        "ConvolutionKernel", "SequenceName", "ReceiveCoilName", "TransmitCoilName", "PulseSequenceName",
        "FilterType", "CollimatorType", "GridFocalDistance", "ScanOptions", "PatientOrientation",
        "RescaleType", "LossyImageCompressionMethod", "ContentLabel",
        # coded concepts: the code triplet of every code sequence the table keeps
        "CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
        "URNCodeValue", "ContextUID", "MappingResource", "ContextIdentifier",
        # the specific character set and the de-identification record itself
        "SpecificCharacterSet", "DeidentificationMethod",
    }
)

#: Modalities whose images often carry burned-in names (ultrasound, secondary and other
#: captures, endoscopy, external camera, general microscopy, ophthalmic photography): an
#: image of one of them, of a Secondary Capture SOP class (``1.2.840.10008.5.1.4.1.1.7`` and
#: its multi-frame ``….7.n``), or naming neither modality nor SOP class, whose
#: ``BurnedInAnnotation`` is absent is refused unless the caller chooses.
BURNED_IN_RISK: frozenset[str] = frozenset({"US", "IVUS", "OT", "SC", "ES", "XC", "GM", "OP", "DOC"})


class Refused(ValueError):
    """:func:`deidentify` will not de-identify this data set as asked; ``reason`` says why in a few words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _standard_uids() -> frozenset[str]:
    from pydicom._uid_dict import UID_dictionary

    return frozenset(UID_dictionary)


_STANDARD_UIDS = _standard_uids()


@dataclass
class DeidReport:
    """What :func:`deidentify` did to one data set.

    Attributes:
        actions: counts per action: ``"X"`` removed, ``"Z"`` emptied, ``"D"`` dummy,
            ``"U"`` UID remapped, ``"private"`` private elements removed, ``"overlay"``
            overlay and curve elements removed, ``"free text"`` unlisted free text removed,
            ``"high bits"`` 1 when unused high bits of the pixel data were cleared.
        notes: remarks a reader should know (no pixel data, compressed transfer syntax,
            what was done with pixels that may show a name or a face).
        has_pixel_data: whether the input had ``PixelData`` (or float/double pixel data).
        transfer_syntax: the input's transfer syntax UID, or ``""`` without file meta.
    """

    actions: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    has_pixel_data: bool = False
    transfer_syntax: str = ""


def remap_uid(uid: str, salt: str) -> str:
    """A new UID ``2.25.<int>`` derived from ``salt`` and ``uid`` (SHA-512, as pydicom's ``generate_uid``).

    The same ``(uid, salt)`` always gives the same result, so references between files stay
    consistent; without the salt the mapping cannot be inverted by re-hashing known UIDs.
    UIDs defined by the DICOM standard itself are returned unchanged.
    """
    uid = str(uid).strip("\0 ")
    if not uid or uid in _STANDARD_UIDS:
        return uid
    digest = hashlib.sha512(f"{salt}\0{uid}".encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"  # a 128-bit integer: at most 39 digits


def _dummy(vr: str) -> Any:
    if vr in _DUMMY:
        return _DUMMY[vr]
    if vr in _TEXT_VRS:
        return "ANONYMIZED"
    if vr in _NUMBER_VRS:
        return "0" if vr in ("DS", "IS") else 0
    if vr in _BINARY_VRS:
        return b"\0\0"
    return None


def _is_overlay_or_curve(tag: BaseTag) -> bool:
    group = tag.group
    return (0x5000 <= group <= 0x501E or 0x6000 <= group <= 0x601E) and group % 2 == 0


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return list(value)
    return [value]


def _process(ds: Dataset, salt: str, report: DeidReport, structured: bool = False) -> None:
    # structured: inside a sequence the profile replaces by a dummy (ContentSequence of a
    # structured report): its free text (LT, ST, UT, UC) is replaced by the dummy text too.
    for tag in list(ds.keys()):
        elem = ds[tag]
        vr = elem.VR
        if tag.is_private:
            del ds[tag]
            report.actions["private"] += 1
            continue
        if _is_overlay_or_curve(tag):
            del ds[tag]
            report.actions["overlay"] += 1
            continue
        action = BASIC_PROFILE.get(int(tag))
        if action is None:  # the blanket rules
            if vr == "SQ":
                for item in elem.value:
                    _process(item, salt, report, structured)
            elif structured and vr in _FREE_TEXT_VRS and elem.value not in (None, ""):
                elem.value = _dummy(vr)
                report.actions["D"] += 1
            elif vr == "PN" and elem.value not in (None, ""):
                elem.value = ""
                report.actions["Z"] += 1
            elif vr in ("DA", "TM", "DT") and elem.value not in (None, ""):
                elem.value = ""
                report.actions["Z"] += 1
            elif vr == "UI" and elem.value not in (None, ""):
                new = [remap_uid(u, salt) for u in _values(elem.value)]
                if new != [str(u) for u in _values(elem.value)]:
                    elem.value = new if len(new) > 1 else new[0]
                    report.actions["U"] += 1
            elif vr in _UNLISTED_TEXT_VRS and elem.keyword not in KEEP_TEXT and tag.group != 0x0002:
                del ds[tag]
                report.actions["free text"] += 1
            continue
        first = action.split("/")[0]
        if first == "X":
            del ds[tag]
        elif first == "Z":
            elem.value = DicomSequence([]) if vr == "SQ" else ("" if vr not in _NUMBER_VRS - {"DS", "IS"} else None)
        elif first == "U":
            if elem.value not in (None, ""):
                new = [remap_uid(u, salt) for u in _values(elem.value)]
                elem.value = new if len(new) > 1 else new[0]
        elif first == "D":
            if vr == "SQ":  # a dummy sequence: keep the structure, de-identify every item
                for item in elem.value:
                    _process(item, salt, report, structured=True)
            else:
                dummy = _dummy(vr)
                if dummy is None:
                    del ds[tag]
                    first = "X"
                else:
                    elem.value = dummy
        report.actions[first] += 1


def _clear_high_bits(ds: Dataset) -> bool:
    """Clear the bits above ``HighBit`` of uncompressed ``PixelData`` in place; ``True`` if any changed.

    Unsigned pixels get zeros there, signed pixels copies of their sign bit, so every pixel
    value a reader computes stays the same while a retired overlay plane stored there is gone.
    """
    if "PixelData" not in ds or not isinstance(ds.PixelData, (bytes, bytearray)):
        return False
    allocated, stored = int(ds.get("BitsAllocated", 0) or 0), int(ds.get("BitsStored", 0) or 0)
    if allocated not in (8, 16, 32) or not 0 < stored < allocated:
        return False
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts is not None and UID(ts).is_compressed:
        return False
    little = ts.is_little_endian if ts is not None else (ds.original_encoding[1] is not False)
    dtype = np.dtype(f"{'<' if little else '>'}u{allocated // 8}")
    raw = bytes(ds.PixelData)
    usable = len(raw) - len(raw) % dtype.itemsize
    pixels = np.frombuffer(raw[:usable], dtype=dtype).copy()
    high = int(ds.get("HighBit", stored - 1))
    mask = (1 << (high + 1)) - 1
    kept = pixels & mask
    if int(ds.get("PixelRepresentation", 0) or 0) == 1:
        sign = (kept >> high) & 1
        kept = np.where(sign == 1, kept | (~mask & ((1 << allocated) - 1)), kept).astype(dtype)
    if np.array_equal(kept, pixels):
        return False
    ds.PixelData = kept.astype(dtype).tobytes() + raw[usable:]
    return True


def _pixel_risk(ds: Dataset) -> tuple[str, str] | None:
    """``(reason, message)`` when the pixels may show a name, else ``None``."""
    flag = str(ds.get("BurnedInAnnotation", "")).strip().upper()
    if flag == "YES":
        return "burned-in annotation: YES", "BurnedInAnnotation is YES: the pixels show identifying text"
    modality = str(ds.get("Modality", "")).strip().upper()
    sop = str(ds.get("SOPClassUID", "")).strip()
    secondary = sop == "1.2.840.10008.5.1.4.1.1.7" or sop.startswith("1.2.840.10008.5.1.4.1.1.7.")
    if flag:
        return None
    if modality in BURNED_IN_RISK:
        label, what = modality, f"modality {modality}"
    elif secondary:
        label, what = "Secondary Capture", "a Secondary Capture image"
    elif not modality and not sop:
        label, what = "modality unknown", "an image that names neither its modality nor its SOP class"
    else:
        return None
    return (
        f"burned-in annotation not stated ({label})",
        f"BurnedInAnnotation is absent on {what}, whose pixels often carry burned-in names",
    )
    return None


def _is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    sop = str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""
    return "DirectoryRecordSequence" in ds or sop == _DICOMDIR_SOP_CLASS


_CHOICES = ("error", "remove_pixels", "keep")


def deidentify(
    ds: Dataset,
    *,
    salt: str,
    burned_in: Literal["error", "remove_pixels", "keep"] = "error",
    visual_features: Literal["error", "remove_pixels", "keep"] = "error",
) -> tuple[Dataset, DeidReport]:
    """De-identify a pydicom data set with the Basic Profile (see the module docstring).

    The input is not changed; a de-identified deep copy is returned.

    Args:
        ds: a ``pydicom.Dataset`` (with or without file meta).
        salt: a secret string for :func:`remap_uid`; use the same salt for all files of a
            project to keep references between them, and never publish it.
        burned_in: what to do with pixel data that may show identifying text
            (``BurnedInAnnotation`` ``YES``, or absent on a modality of
            :data:`BURNED_IN_RISK` or a Secondary Capture): ``"error"`` (default) raises
            :class:`Refused`, ``"remove_pixels"`` removes the pixel data, ``"keep"`` keeps
            them (after you have cleaned them yourself).
        visual_features: the same choices for ``RecognizableVisualFeatures`` ``YES`` (a face).

    Returns:
        ``(de-identified copy, DeidReport)``.

    Raises:
        TypeError: ``ds`` is not a pydicom data set.
        ValueError: an empty salt or an unknown choice.
        Refused: pixels that may show a name or a face with the choice ``"error"``, or a
            DICOMDIR (use :func:`deidentify_fileset`).
    """
    _check_arguments(ds, salt, burned_in, visual_features)
    report = DeidReport()
    pixel_tags = [t for t in _PIXEL_TAGS if t in ds]
    report.has_pixel_data = bool(pixel_tags)
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    report.transfer_syntax = ts
    remove_pixels = _pixel_choice(ds, burned_in, visual_features, report) if pixel_tags else False
    if not pixel_tags:
        report.notes.append("no pixel data: header de-identified only")
    elif ts and UID(ts).is_compressed:
        report.notes.append(f"compressed transfer syntax {UID(ts).name}: {_COMPRESSED_HINT}")

    out = copy.deepcopy(ds)
    if remove_pixels:
        for t in pixel_tags:
            del out[t]
    elif _clear_high_bits(out):
        report.actions["high bits"] += 1
    _process(out, salt, report)
    if meta is not None:
        _rewrite_file_meta(out.file_meta, salt)
    _record_method(out)
    return out, report


def _check_arguments(ds: Any, salt: Any, burned_in: Any, visual_features: Any) -> None:
    """The argument checks of :func:`deidentify` (TypeError, ValueError), and Refused for a DICOMDIR."""
    if not isinstance(ds, Dataset):
        raise TypeError(f"deidentify needs a pydicom Dataset (pydicom.dcmread(path)), got {type(ds).__name__}.")
    if not isinstance(salt, str) or not salt:
        raise ValueError("salt must be a non-empty secret string (the same for all files of one project).")
    for name, value in (("burned_in", burned_in), ("visual_features", visual_features)):
        if value not in _CHOICES:
            raise ValueError(f"{name} must be 'error', 'remove_pixels' or 'keep', got {value!r}.")
    if _is_dicomdir(ds):
        raise Refused(
            "file-set (DICOMDIR)",
            "This is a DICOMDIR: its ReferencedFileID values are the paths of the file-set's files, whose "
            "folder names are often patient IDs, so it cannot be de-identified in place. Use "
            "deid.deidentify_fileset(dicomdir_path, out_dir, salt=...), which de-identifies every referenced "
            "file and writes a new file-set with new paths; or de-identify the images yourself and rebuild the "
            "DICOMDIR with pydicom.fileset.FileSet (fs = FileSet(); fs.add_custom(ds, leaf) or fs.add(ds) for "
            "each file; fs.write(out_dir)).",
        )


def _pixel_choice(ds: Dataset, burned_in: str, visual_features: str, report: DeidReport) -> bool:
    """Whether to remove the pixel data, from the caller's choices for pixels that may show a name or a face.

    Raises :class:`Refused` where such a risk meets the choice ``"error"``; notes each risk and
    what was done about it in ``report``.
    """
    remove_pixels = False
    risks = []
    burned = _pixel_risk(ds)
    if burned is not None:
        risks.append((burned, burned_in, "burned_in"))
    if str(ds.get("RecognizableVisualFeatures", "")).strip().upper() == "YES":
        face = ("recognizable visual features: YES", "RecognizableVisualFeatures is YES: the pixels show a face")
        risks.append((face, visual_features, "visual_features"))
    for (reason, message), choice, name in risks:
        if choice == "error":
            raise Refused(
                reason,
                f"{message}, which the Basic Profile does not remove (the Clean Pixel Data and Clean "
                f"Recognizable Visual Features options are not implemented). Pass {name}='remove_pixels' to "
                f"drop the pixel data, or clean the pixels yourself and pass {name}='keep'.",
            )
        remove_pixels |= choice == "remove_pixels"
        report.notes.append(f"{reason}: pixel data {'removed' if choice == 'remove_pixels' else 'kept as cleaned by the caller'}")
    return remove_pixels


def _rewrite_file_meta(out_meta: Dataset, salt: str) -> None:
    """The file meta of the copy: its instance UID remapped, AE titles and private information removed."""
    for tag in list(out_meta.keys()):
        if tag == 0x00020003:  # MediaStorageSOPInstanceUID: must equal the new SOPInstanceUID
            out_meta[tag].value = remap_uid(out_meta[tag].value, salt)
        elif tag in (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102):
            del out_meta[tag]  # source/sending/receiving AE titles, private information
    # The de-identified file is written by pydicom: name it, not the original's software.
    out_meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    out_meta.ImplementationVersionName = f"PYDICOM {pydicom.__version__}"[:16]


def _record_method(out: Dataset) -> None:
    """Write into ``out`` that, and how, it was de-identified: Patient Identity Removed, the method and its code."""
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = _METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = _DEID_CODE
    out.DeidentificationMethodCodeSequence = DicomSequence([code])
    out.LongitudinalTemporalInformationModified = "REMOVED"


def deidentify_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str] | None = None,
    *,
    salt: str,
    burned_in: Literal["error", "remove_pixels", "keep"] = "error",
    visual_features: Literal["error", "remove_pixels", "keep"] = "error",
) -> tuple[Dataset, DeidReport]:
    """Read a DICOM file, de-identify it (:func:`deidentify`) and optionally write it to ``dst``.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ValueError: ``src`` is not a DICOM file (with pydicom's reason), or as
            :func:`deidentify`.
    """
    path = Path(src)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        ds = pydicom.dcmread(path)
    except pydicom.errors.InvalidDicomError as exc:
        raise ValueError(f"{path.name} is not a DICOM file ({exc}); nothing to de-identify.") from exc
    out, report = deidentify(ds, salt=salt, burned_in=burned_in, visual_features=visual_features)
    if dst is not None:
        if isinstance(out, FileDataset) and getattr(out, "file_meta", None) is not None and "TransferSyntaxUID" in out.file_meta:
            out.save_as(dst, enforce_file_format=False)
        else:
            out.save_as(dst, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return out, report
