"""Property-based tests (Hypothesis): identifiers planted at random in a DICOM data set or file-set.

For every example the independent checker (medtools.dicom.leaks) must find the planted identifier in
the planted original, and find nothing identifying in what medtools.dicom.deid makes of it.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import warnings
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet
from pydicom.sequence import Sequence as DicomSequence

from medtools.dicom import deid, leaks

SALT = "property-salt"
CT = pydicom.dcmread(pydicom.examples.get_path("ct"))

#: Where a planted identifier is *collected* (an element the checker treats as identifying).
SOURCES = [("PatientID", "LO"), ("OtherPatientIDs", "LO"), ("AccessionNumber", "SH"), ("PatientName", "PN"),
           ("ReferringPhysicianName", "PN"), ("InstitutionName", "LO"), ("StudyDescription", "LO"),
           ("PatientAddress", "LO"), ("InstitutionalDepartmentName", "LO")]
#: Where a copy of it is hidden: elements the profile table does not name (free text of every
#: text VR, a retired person name, an unlisted identifier) and private blocks of every VR.
TARGETS = [("PositionReferenceIndicator", "LO"), ("ImageID", "SH"), ("LUTExplanation", "LO"),
           ("WindowCenterWidthExplanation", "LO"), ("TextValue", "UT"), (0x40080114, "PN"),
           (0x00204000, "LT"), ("PatientComments", "LT"), ("DerivationDescription", "ST"),
           ("private", "LO"), ("private", "SH"), ("private", "LT"), ("private", "ST"), ("private", "UT"),
           ("private", "PN"), ("private", "UN")]
NESTING = ["ReferencedSeriesSequence", "ReferencedInstanceSequence", "AnatomicRegionSequence"]

identifier = st.from_regex(r"[A-Z]{3}[0-9]{5}[A-Z]{2}", fullmatch=True)  # e.g. 'QZX12345AB': no word of any file
wrapping = st.sampled_from(["{}", "seen by {} today", "{}^Jane", "ref-{}", "C:\\data\\{}\\img"])


def _plant(ds: Dataset, where: tuple, value: str, depth: int, block: int) -> None:
    """Put ``value`` into the element ``where`` of ``ds``, ``depth`` sequences down."""
    target = ds
    for level in range(depth):
        item = Dataset()
        setattr(target, NESTING[level % len(NESTING)], DicomSequence([Dataset(), item]))
        target = item
    name, vr = where
    if name == "private":
        group = 0x0009 + 2 * block  # an odd group
        target.add_new((group, 0x0010), "LO", "PLANTED CREATOR")
        target.add_new((group, 0x1000 + block), vr, value.encode() if vr == "UN" else value)
    elif isinstance(name, int):
        target.add_new(name, vr, value)
    else:
        setattr(target, name, value)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=identifier,
    source=st.sampled_from(SOURCES),
    target=st.sampled_from(TARGETS),
    text=wrapping,
    depth=st.integers(0, 4),
    block=st.integers(0, 40),
)
def test_planted_identifier_found_before_and_none_after(value, source, target, text, depth, block) -> None:
    ds = copy.deepcopy(CT)
    setattr(ds, source[0], value)  # where the checker learns the value
    _plant(ds, target, text.format(value), depth, block)  # the copy it must not lose
    before = leaks.check(ds, ds)
    assert value in {i.value for i in before.identifiers}
    assert sum(h.identifier.value == value for h in before.leaks) >= 2  # the source and the planted copy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, _ = deid.deidentify(ds, salt=SALT)
    after = leaks.check(ds, out)
    assert after.leaks == [], after.leaks


@settings(max_examples=40, deadline=None)
@given(value=identifier, target=st.sampled_from(TARGETS), depth=st.integers(0, 3), block=st.integers(0, 20))
def test_planted_identifier_alone_is_collected(value, target, depth, block) -> None:
    """Planted only in an unlisted or private element, the value is still found by its kind or block."""
    ds = copy.deepcopy(CT)
    _plant(ds, target, value, depth, block)
    found = {i.value for i in leaks.collect(ds)}
    if target[0] != "PositionReferenceIndicator":  # an LO whose keyword names nothing identifying
        assert value in found
    out, _ = deid.deidentify(ds, salt=SALT)
    assert leaks.search([leaks.Identifier(value, "planted", "x")], out, benign=())[0] == []


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=identifier, folder=st.integers(0, 2))
def test_planted_identifier_in_fileset_paths(value: str, folder: int) -> None:
    """A file-set whose folder names are the patient ID: found in the original, gone after."""
    root = Path(tempfile.mkdtemp(prefix="deid-fs-"))
    try:
        fs = FileSet()
        for i in range(3):
            ds = copy.deepcopy(CT)
            ds.PatientID = value
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{10 + i}"
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            fs.add(ds)
        fs.write(root / "src")
        index = pydicom.dcmread(root / "src" / "DICOMDIR")
        # Rename the generated folders so that one level of every path is the patient ID.
        for record in index.DirectoryRecordSequence:
            if record.DirectoryRecordType == "PATIENT":
                record.PatientName = f"{value}^Jane"  # a file-set record names the patient too
            if "ReferencedFileID" in record:
                parts = list(record.ReferencedFileID)
                old = root / "src" / Path(*parts)
                parts[folder] = value
                new = root / "src" / Path(*parts)
                new.parent.mkdir(parents=True, exist_ok=True)
                old.rename(new)
                record.ReferencedFileID = parts
        index.save_as(root / "src" / "DICOMDIR")
        original = pydicom.dcmread(root / "src" / "DICOMDIR")
        before = leaks.check(original, original)
        assert any(h.identifier.value == value and "ReferencedFileID" in h.where for h in before.leaks)
        assert any(h.identifier.value == f"{value}^Jane" and "PatientName" in h.where for h in before.leaks)
        new_index, _ = deid.deidentify_fileset(root / "src" / "DICOMDIR", root / "out", salt=SALT)
        written = [str(p.relative_to(root / "out")) for p in (root / "out").rglob("*") if p.is_file()]
        after = leaks.check(original, pydicom.dcmread(new_index), extra=written)
        assert after.leaks == [] and not any(value in p for p in written)
    finally:
        shutil.rmtree(root)
