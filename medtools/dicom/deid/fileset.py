"""De-identify a whole DICOM file-set: every file its DICOMDIR references, and a new DICOMDIR.

Introduced in the chapter *De-identifying DICOM files* (``chapters/deidentification``):
:func:`deidentify_fileset` applies :func:`~medtools.dicom.deid.profile.deidentify` to every
referenced file and writes a new file-set whose paths and DICOMDIR hold no original value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import pydicom
from pydicom.dataset import Dataset

from medtools.dicom.deid.profile import DeidReport, _values, deidentify, remap_uid

__all__ = [
    "deidentify_fileset",
]


def _record(kind: str, **values: Any) -> Any:
    from pydicom.fileset import RecordNode

    record = Dataset()
    record.DirectoryRecordType = kind
    for keyword, value in values.items():
        setattr(record, keyword, value)
    return RecordNode(record)


def deidentify_fileset(
    dicomdir: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    salt: str,
    burned_in: Literal["error", "remove_pixels", "keep"] = "error",
    visual_features: Literal["error", "remove_pixels", "keep"] = "error",
) -> tuple[Path, list[DeidReport]]:
    """De-identify a whole DICOM file-set: every file its DICOMDIR references, and a new DICOMDIR.

    Each referenced file (every directory record with a ``ReferencedFileID``) is
    de-identified with :func:`deidentify`; its ``PatientID`` gets a dummy (the table allows
    ``Z/D``; a DICOMDIR's PATIENT record needs one), ``P`` and 10 digits of
    :func:`remap_uid` of the original, so the files of one patient stay together. The files
    are written by :class:`pydicom.fileset.FileSet` under ``dst`` with its own new paths
    (``PT000000/ST000000/SE000000/IM000000``, …), and a new DICOMDIR whose records hold only
    de-identified values (the STUDY record's required date and time are the dummies
    ``19000101`` and ``000000``). The original paths, whose folder names are often patient
    IDs, appear nowhere.

    Args:
        dicomdir: path of the original DICOMDIR.
        dst: an empty (or new) folder for the de-identified file-set.
        salt, burned_in, visual_features: as :func:`deidentify`.

    Returns:
        ``(path of the new DICOMDIR, one DeidReport per file)``.

    Raises:
        FileNotFoundError: the DICOMDIR or a file it references does not exist.
        ValueError: ``dicomdir`` is not a DICOMDIR, or ``dst`` is not empty; as :func:`deidentify`.
    """
    from pydicom.fileset import FileSet

    path = Path(dicomdir)
    if not path.is_file():
        raise FileNotFoundError(f"no such DICOMDIR: {path}")
    index = pydicom.dcmread(path)
    if "DirectoryRecordSequence" not in index:
        raise ValueError(f"{path.name} has no DirectoryRecordSequence: it is not a DICOMDIR; use deidentify_file.")
    out_dir = Path(dst)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty: give deidentify_fileset a new or empty folder.")
    fileset = FileSet()
    reports = []
    for record in index.DirectoryRecordSequence:
        if "ReferencedFileID" not in record:
            continue
        parts = _values(record.ReferencedFileID)
        source = path.parent.joinpath(*[str(p) for p in parts])
        if not source.is_file():
            raise FileNotFoundError(f"the DICOMDIR references {'/'.join(map(str, parts))}, which does not exist.")
        original: Dataset
        try:
            original = pydicom.dcmread(source)
        except pydicom.errors.InvalidDicomError:
            original = Dataset()
        if "TransferSyntaxUID" not in getattr(original, "file_meta", Dataset()):
            raise ValueError(f"{source} has no file meta information: a file-set's files must be DICOM Part 10 files.")
        ds, report = deidentify(original, salt=salt, burned_in=burned_in, visual_features=visual_features)
        ds.PatientID = "P" + remap_uid(str(original.get("PatientID", "")) or "unknown", salt)[-10:]
        report.actions["D"] += 1
        patient = _record("PATIENT", PatientID=ds.PatientID, PatientName="")
        study = _record(
            "STUDY", StudyDate="19000101", StudyTime="000000", StudyID="", AccessionNumber="",
            StudyInstanceUID=ds.StudyInstanceUID,
        )
        series = _record(
            "SERIES", Modality=ds.get("Modality", "OT") or "OT", SeriesInstanceUID=ds.SeriesInstanceUID,
            SeriesNumber=ds.get("SeriesNumber") or 1,
        )
        image = _record(
            "IMAGE", InstanceNumber=ds.get("InstanceNumber") or 1, ReferencedSOPClassUIDInFile=ds.SOPClassUID,
            ReferencedSOPInstanceUIDInFile=ds.SOPInstanceUID,
            ReferencedTransferSyntaxUIDInFile=ds.file_meta.TransferSyntaxUID,
        )
        image.parent, series.parent, study.parent = series, study, patient
        fileset.add_custom(ds, image)
        reports.append(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    fileset.write(out_dir)
    return out_dir / "DICOMDIR", reports
