"""Tests of medtools.dicom.leaks, the independent leak checker, on data sets with planted identifiers."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence

from medtools import dicom
from medtools.dicom import leaks


def _planted() -> Dataset:
    ds = Dataset()
    ds.PatientName = "Doe^Jonathan"
    ds.PatientID = "77654033"
    ds.StudyDate = "20240102"
    ds.InstitutionName = "St Elsewhere Hospital"
    ds.InstitutionAddress = "1 Main Street"
    ds.StudyDescription = "follow-up of lesion"
    ds.StudyInstanceUID = "1.2.3.4.20240102.99"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage: defined by the standard
    ds.Modality = "CT"
    ds.Manufacturer = "ACME"  # describes equipment: not collected
    ds.add_new(0x00091010, "LO", "ACME private copy")
    ds.add_new(0x00091011, "DS", "12")  # a private number: a measurement
    ds.add_new(0x00091012, "UN", b"secret-code-9913")
    item = Dataset()
    item.ReferencedFileID = ["PATIENTS", "77654033", "IMG1"]
    inner = Dataset()
    inner.OperatorsName = "Roe^Richard"
    item.ReferencedImageSequence = DicomSequence([inner])
    ds.DirectoryRecordSequence = DicomSequence([item])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.SourceApplicationEntityTitle = "HOSPITAL_PACS"
    return ds


def _values(identifiers: list[leaks.Identifier]) -> dict[str, str]:
    return {i.value: i.category for i in identifiers}


def test_collects_every_kind_at_every_depth() -> None:
    got = _values(leaks.collect(_planted()))
    assert got["Doe^Jonathan"] == got["Jonathan"] == "person name"  # whole and components
    assert "Doe" not in got  # components shorter than MIN_SUBSTRING are not searched alone
    assert got["77654033"] == "identifier" and got["PATIENTS"] == "identifier"  # the path's folders
    assert got["20240102"] == "date or time"
    assert got["St Elsewhere Hospital"] == "institution or department"
    assert got["1 Main Street"] == "address or phone"
    assert got["follow-up of lesion"] == "free text"
    assert got["1.2.3.4.20240102.99"] == "UID"
    assert got["ACME private copy"] == "private" and got["secret-code-9913"] == "private"
    assert got["Roe^Richard"] == "person name"  # two sequences deep
    assert got["HOSPITAL_PACS"] == "institution or department"  # file meta
    # Not identifying: a standard UID, the modality, the manufacturer, a private number.
    assert not {"1.2.840.10008.5.1.4.1.1.2", "CT", "ACME", "12"} & set(got)
    with pytest.raises(TypeError, match="pydicom Dataset"):
        leaks.collect({"PatientName": "x"})  # type: ignore[arg-type]


def test_check_of_the_original_finds_every_identifier() -> None:
    ds = _planted()
    report = leaks.check(ds, ds, benign=())
    assert report.leaked == set(report.identifiers)  # a checker that cannot see its own input is useless
    assert report.by_category()["person name"] >= 4


@pytest.mark.parametrize(
    "where,text,found",
    [
        ("PatientComments", "seen by Dr Jonathan today", True),  # a name inside free text
        ("ImageComments", "ID77654033", True),  # an ID glued to letters
        ("ReferencedFileID", ["A", "77654033", "B"], True),  # a folder of a path
        ("SeriesInstanceUID", "1.2.77654033.5", True),  # an ID inside a UID
        ("SeriesInstanceUID", "2.25.3177654033999", False),  # a chance run of digits inside a number
        ("ImageComments", "CONTEXTUAL", False),  # not inside a longer word
        ("StudyID", "7", True),  # a short value as the whole value of a text element
        ("InstanceNumber", "7", False),  # but not as a number (numbers of 1-3 digits are everywhere)
        ("StudyID", "17", False),  # nor inside a longer value
    ],
)
def test_search_rules(where: str, text: str | list[str], found: bool) -> None:
    ids = [leaks.Identifier("Jonathan", "person name", "PatientName"),
           leaks.Identifier("77654033", "identifier", "PatientID"),
           leaks.Identifier("TEXT", "person name", "x"),
           leaks.Identifier("7", "identifier", "StudyID")]
    out = Dataset()
    setattr(out, where, text)
    hits, _ = leaks.search(ids, out, benign=())
    assert bool(hits) == found, hits


def test_search_reads_private_binary_meta_nested_and_extra() -> None:
    ids = [leaks.Identifier("77654033", "identifier", "PatientID")]
    out = Dataset()
    out.add_new(0x00111001, "OB", b"xx77654033yy")  # bytes read as text
    out.file_meta = FileMetaDataset()
    out.file_meta.SourceApplicationEntityTitle = "77654033"
    item = Dataset()
    item.add_new(0x00231001, "LO", "77654033")
    out.ReferencedSeriesSequence = DicomSequence([Dataset(), item])
    hits, _ = leaks.search(ids, out, extra=["out/77654033/IM0"], benign=())
    where = {h.where for h in hits}
    assert {"(0011,1001)", "file_meta.SourceApplicationEntityTitle", "ReferencedSeriesSequence[1].(0023,1001)",
            "extra[0]"} <= where
    out.PixelData = b"77654033"  # pixels are an image, not text
    hits2, _ = leaks.search(ids, out, benign=())
    assert len(hits2) == len(hits) - 1


def test_benign_is_explicit_and_reported_apart() -> None:
    ids = [leaks.Identifier("TOSHIBA", "institution or department", "InstitutionName")]
    out = Dataset()
    out.Manufacturer = "TOSHIBA_MEC"
    out.StationName = "TOSHIBA"  # the same value elsewhere is a leak
    hits, benign = leaks.search(ids, out)
    assert [h.where for h in benign] == ["Manufacturer"] and benign[0].reason
    assert [h.where for h in hits] == ["StationName"]
    hits_all, benign_none = leaks.search(ids, out, benign=())
    assert len(hits_all) == 2 and benign_none == []
    # Every whitelist entry is a compilable pattern with a reason.
    assert all(reason for _, _, reason in leaks.BENIGN) and len(leaks.BENIGN) == len({(p, k) for p, k, _ in leaks.BENIGN})


def test_independent_of_deid() -> None:
    """leaks.py imports nothing from medtools, and importing it loads neither medtools.dicom.deid nor its table."""
    source = Path(leaks.__file__).read_text()
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names}
    assert not any("deid" in (m or "") or "medtools" in (m or "") for m in imported)
    # The package's __init__ runs first: it must not import the de-identifier (deid/, deid/_table.py).
    code = (
        "import sys, medtools.dicom.leaks\n"
        "loaded = [m for m in sys.modules if 'deid' in m]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_finds_every_identifier_of_every_test_file() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = 0
        for f in dicom.pydicom_test_files():
            try:
                ds = pydicom.dcmread(f)
            except pydicom.errors.InvalidDicomError:
                if f.suffix != ".dcm":
                    continue
                ds = pydicom.dcmread(f, force=True)
            report = leaks.check(ds, ds, benign=())
            assert report.leaked == set(report.identifiers), f.name
            total += len(report.identifiers)
    assert total > 3000  # 3470 with pydicom 3.0.2: the check below it is not vacuous
