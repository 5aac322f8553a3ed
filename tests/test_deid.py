"""Tests of medtools.deid: the Basic Profile de-identifier over every readable file of pydicom's test data."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from medtools import deid, dicom

SALT = "test-salt"


def _readable() -> list[tuple[Path, Dataset]]:
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in dicom.pydicom_test_files():  # the installed package only: no download
            try:
                out.append((f, pydicom.dcmread(f)))
            except pydicom.errors.InvalidDicomError:
                if f.suffix == ".dcm":  # a data set without preamble and file meta header
                    out.append((f, pydicom.dcmread(f, force=True)))
    return out


READABLE = _readable()


def _deid(ds: Dataset) -> tuple[Dataset, deid.DeidReport]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return deid.deidentify(ds, salt=SALT, burned_in="remove_pixels")


def _walk(ds: Dataset):
    yield from deid._walk(ds)


def test_reads_the_shipped_files_only() -> None:
    files = dicom.pydicom_test_files()
    root = Path(pydicom.__file__).parent / "data" / "test_files"
    assert files and all(root in f.parents for f in files)
    assert len(READABLE) >= 150  # 167 with pydicom 3.0.2


def test_profile_table() -> None:
    assert len(deid.BASIC_PROFILE) == 643  # single attributes; repeating groups and private tags by rule
    tag = pydicom.datadict.tag_for_keyword
    assert deid.BASIC_PROFILE[tag("PatientName")] == "Z"
    assert deid.BASIC_PROFILE[tag("PatientID")] in ("Z", "Z/D")
    assert deid.BASIC_PROFILE[tag("PatientBirthDate")] == "Z"
    assert deid.BASIC_PROFILE[tag("AccessionNumber")] == "Z"
    assert deid.BASIC_PROFILE[tag("InstitutionName")].startswith("X")
    assert deid.BASIC_PROFILE[tag("StudyInstanceUID")] == "U"
    assert deid.BASIC_PROFILE[tag("SOPInstanceUID")] == "U"
    assert set(deid.BASIC_PROFILE.values()) <= {"D", "Z", "X", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U"}


@pytest.mark.parametrize("path,ds", READABLE, ids=[p.name for p, _ in READABLE])
def test_no_identifying_value_survives(path: Path, ds: Dataset) -> None:
    values = deid.identifying_values(ds)
    before = copy.deepcopy(ds)
    out, report = _deid(ds)
    assert deid.find_values(out, values) == []
    # The blanket rules, element by element, at every depth.
    for name, elem, value in _walk(out):
        assert not elem.tag.is_private, name
        if elem.VR == "PN":
            assert value in (None, "", "ANONYMOUS"), name
        if elem.VR in ("DA", "TM", "DT"):
            assert value in (None, "", "19000101", "000000", "19000101000000"), name
        action = deid.BASIC_PROFILE.get(int(elem.tag), "")
        assert not action.startswith("X"), name
        if action.startswith("Z") and elem.VR != "SQ":
            assert value in (None, "", b""), name
    assert out.PatientIdentityRemoved == "YES"
    code = out.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")
    assert "Annex E" in out.DeidentificationMethod
    assert ds == before  # the input is not changed
    assert report.has_pixel_data == ("PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds)


def test_identifying_values_found_in_the_originals() -> None:
    total = sum(len(deid.identifying_values(ds)) for _, ds in READABLE)
    assert total > 1000  # the check above is not vacuous
    ct = pydicom.dcmread(pydicom.examples.get_path("ct"))
    values = deid.identifying_values(ct)
    assert str(ct.PatientName) in values and ct.StudyInstanceUID in values and ct.StudyDate in values


def test_uids_remapped_consistently() -> None:
    ct = pydicom.dcmread(pydicom.examples.get_path("ct"))
    a, _ = deid.deidentify(ct, salt=SALT)
    b, _ = deid.deidentify(copy.deepcopy(ct), salt=SALT)
    c, _ = deid.deidentify(ct, salt="another salt")
    assert a.StudyInstanceUID == b.StudyInstanceUID != ct.StudyInstanceUID
    assert a.StudyInstanceUID != c.StudyInstanceUID  # the mapping depends on the secret
    assert a.SOPInstanceUID == a.file_meta.MediaStorageSOPInstanceUID
    assert a.SOPClassUID == ct.SOPClassUID  # standard UIDs stay
    assert a.file_meta.TransferSyntaxUID == ct.file_meta.TransferSyntaxUID
    assert a.StudyInstanceUID.startswith("2.25.") and len(a.StudyInstanceUID) <= 64
    assert pydicom.uid.UID(a.StudyInstanceUID).is_valid
    assert deid.remap_uid(ct.SOPClassUID, SALT) == ct.SOPClassUID
    # A UID referenced inside a sequence maps to the same new UID as the element it refers to.
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3.4.5"
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.4.5"
    ds.ReferencedSeriesSequence = DicomSequence([item])
    out, _ = deid.deidentify(ds, salt=SALT)
    assert out.ReferencedSeriesSequence[0].ReferencedSOPInstanceUID == out.SOPInstanceUID != "1.2.3.4.5"


def test_nested_names_dates_and_private_tags() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.Modality = "CT"
    ds.RescaleType = "HU"
    inner = Dataset()
    inner.OperatorsName = "Smith^John"  # a PN the profile table names
    inner.add_new(0x00091010, "LO", "Doe^Jane private copy")
    deeper = Dataset()
    deeper.add_new(0x00211001, "PN", "Roe^Richard")  # a PN no table names, two levels down
    deeper.AcquisitionDate = "20240102"
    inner.ReferencedInstanceSequence = DicomSequence([deeper])
    ds.ReferencedSeriesSequence = DicomSequence([inner])  # sequences the profile does not name
    item = Dataset()
    item.VerifyingObserverName = "Poe^Edgar"
    item.ObservationDateTime = "20240103101010"
    item.add_new(0x40080114, "PN", "Moe^Mary")  # retired PN element, unlisted
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([item])
    values = deid.identifying_values(ds)
    assert {"Doe^Jane", "Smith^John", "Roe^Richard", "Poe^Edgar", "Moe^Mary", "20240102"} <= values
    out, report = deid.deidentify(ds, salt=SALT)
    assert deid.find_values(out, values) == []
    assert out.Modality == "CT" and out.RescaleType == "HU"  # imaging attributes kept
    assert len(out.ReferencedSeriesSequence[0].ReferencedInstanceSequence) == 1  # structure kept
    assert report.actions["private"] == 2 and sum(report.actions.values()) >= 7
    assert not any(e.tag.is_private for _, e, _ in _walk(out))


def test_structured_report_free_text_replaced() -> None:
    path = pydicom.data.get_testdata_file("reportsi.dcm", download=False)
    ds = pydicom.dcmread(path)
    out, _ = deid.deidentify(ds, salt=SALT)
    texts = [v for _, e, v in _walk(out) if e.keyword == "TextValue"]
    assert texts and all(t == "ANONYMIZED" for t in texts)


def test_burned_in_annotation_respected() -> None:
    ds = pydicom.dcmread(pydicom.examples.get_path("ct"))
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(ValueError, match="BurnedInAnnotation"):
        deid.deidentify(ds, salt=SALT)
    out, report = deid.deidentify(ds, salt=SALT, burned_in="remove_pixels")
    assert "PixelData" not in out and "PixelData" in ds
    assert any("burned-in" in n for n in report.notes)
    kept, _ = deid.deidentify(ds, salt=SALT, burned_in="keep")
    assert kept.PixelData == ds.PixelData
    with pytest.raises(ValueError, match="burned_in"):
        deid.deidentify(ds, salt=SALT, burned_in="ignore")  # type: ignore[arg-type]


def test_no_pixel_data_and_compressed_syntax_still_deidentified(tmp_path: Path) -> None:
    no_pixels = [(p, ds) for p, ds in READABLE if "PixelData" not in ds and "PatientName" in ds]
    compressed = [
        (p, ds)
        for p, ds in READABLE
        if "PixelData" in ds and ds.file_meta.get("TransferSyntaxUID") and ds.file_meta.TransferSyntaxUID.is_compressed
    ]
    assert no_pixels and compressed
    for p, ds in (no_pixels[0], compressed[0]):
        out, report = deid.deidentify_file(p, tmp_path / p.name, salt=SALT)
        assert report.notes, p.name
        back = pydicom.dcmread(tmp_path / p.name)
        assert back.get("PatientName", "") == "" and back.PatientIdentityRemoved == "YES"
        assert deid.find_values(back, deid.identifying_values(ds)) == []
    out, report = deid.deidentify_file(compressed[0][0], salt=SALT)
    assert out.PixelData == compressed[0][1].PixelData  # encoded pixels untouched
    assert any("compressed" in n for n in report.notes)


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="pydicom Dataset"):
        deid.deidentify({"PatientName": "x"}, salt=SALT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="salt"):
        deid.deidentify(Dataset(), salt="")
    with pytest.raises(FileNotFoundError):
        deid.deidentify_file(tmp_path / "missing.dcm", salt=SALT)
    text = tmp_path / "notes.txt"
    text.write_text("not a DICOM file")
    with pytest.raises(ValueError, match="not a DICOM file"):
        deid.deidentify_file(text, salt=SALT)
