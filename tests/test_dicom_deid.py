"""Tests of medtools.dicom.deid: the Basic Profile de-identifier over every readable file of pydicom's test data,
checked by the independent leak checker medtools.dicom.leaks."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from medtools import dicom
from medtools.dicom import deid, leaks

SALT = "test-salt"
DICOMDIRS = ["DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-nooffset", "DICOMDIR-nopatient",
             "DICOMDIR-reordered"]

#: The second source for Table E.1-1, edition 2024b: the lists of
#: KitwareMedical/dicom-anonymizer, dicomanonymizer/dicom_anonymization_databases/dicomfields_2024b.py
#: at commit a8270670d71744e31c97ac579b065f6bc4610374 (scraped with BeautifulSoup from
#: dicom.nema.org/medical/dicom/2024b), rewritten by a script as "action": "tags" (their curve and
#: overlay masks (0x5000, 0x0000, 0xFF00, 0x0000), (0x6000, 0x3000/0x4000, 0xFF00, 0xFFFF) as
#: 50XXXXXX, 60XX3000, 60XX4000). Not typed by hand.
SECOND_SOURCE = {
    "D": (
        "001811BB 006A0005 006A0003 00440104 04000562 300C0127 04000115 00120081 00120020 00120010 "
        "00120040 00120042 00400512 0040A730 00080107 00080106 0040A121 0040A120 00189701 21000140 "
        "3010002D 04000105 00686226 00420011 30100035 30100038 00189804 00340002 00340001 00189074 "
        "00340007 00189151 00189623 00700001 0072000A 003A0314 00686270 300A0741 300A0742 300A0783 "
        "04000563 300A0760 00401101 0040A123 300A0002 30100054 300A062A 300A0619 300A0623 300A067C "
        "04000565 300A073A 0040A13A 30080162 30080164 30080166 30080168 0072005E 0072005F 00720061 "
        "00720063 00720066 00720068 00720065 0072006A 0072006C 0072006E 0072006B 0072006D 00720071 "
        "00720070 0018936A 00340005 00189369 300A022C 300A022E 00400551 30060002 0040A122 30080024 "
        "30080025 300A0608 300A0736 300A0734 30100033 30100034 0040A030 0040A075 0040A073 0040A027 "
        "00189371 00189367 "
    ),
    "Z": (
        "00080050 00181203 00120060 00120021 00120030 00120031 00120050 3010000F 30100017 0008009C "
        "3010001B 00402017 3010007F 00400513 00400562 30100043 0040A082 00100030 00100010 00100040 "
        "00402016 3010007B 30100081 300600A6 30060026 300A0615 300A0611 3010005A 300A067D 3010005C "
        "00080090 300E0004 300E0005 04000564 00400610 30060008 30060009 00080020 00200010 00080030 "
        "3010007A 0040A088 "
    ),
    "X": (
        "00184000 00189424 00404035 001021B0 0040A353 00380010 00380020 00081084 00081080 00380021 "
        "00001000 00102110 006A0006 00440004 40000010 00440105 0040A078 300A00C3 300A00DD 00101081 "
        "0014407E 0014407C 0016004D 00181007 04000310 00120082 00120072 00120071 00120051 00400310 "
        "00400280 300A02EB 00403001 0008009D 0050001B 0040051A 00700086 00181042 00181043 0018A002 "
        "0018A003 00102150 21000040 21000050 0040A307 00380300 50XXXXXX 00080025 00080035 0040A07C "
        "FFFCFFFC 0040A110 00181205 00181200 00181204 00181012 00181202 0018937F 00082111 00500020 "
        "0016004B FFFAFFFA 00380030 00380040 00380032 300A079A 4008011A 40080119 300A0016 30100037 "
        "30100036 300A0676 00120087 00120086 00102160 00404011 003A032B 0040A023 0040A024 300A0196 "
        "300A0072 00209158 00160076 00160075 0016008C 0016007B 0016008D 00160088 0016008A 00160089 "
        "00160086 00160085 00160087 00160084 00160083 0016008E 00160081 00160080 00160072 00160071 "
        "00160074 00160073 00160082 0016007A 0016008B 00160078 0016007D 0016007C 00160079 00160077 "
        "0016007F 0016007E 00160070 00181008 00181005 0040E004 00404037 00404036 00880200 00084000 "
        "00204000 00284000 00402400 40080300 00080015 04000600 00080081 00081040 00081041 00101050 "
        "30100085 00401011 40080112 40080113 40080111 4008010C 40080115 40080200 40080202 40080100 "
        "40080101 40080102 4008010B 4008010A 40080108 40080109 00180035 00180027 00402004 00402005 "
        "00380011 00380014 00120022 00120073 00120032 00120041 00120043 00120055 00100021 00380061 "
        "00380064 001021D0 0016004F 00160050 00160051 0016004E 00500021 04000404 0016002B 00102000 "
        "00101090 00101080 04000550 00203403 00203406 00203405 00203401 0018937B 00081060 00401010 "
        "00081000 04000552 04000551 0040A192 0040A033 0040A193 00102180 00402010 00402011 00402008 "
        "00402009 04000561 21000070 00120023 00101000 00101002 00101001 60XX4000 60XX3000 00080024 "
        "00080034 0040A07A 00104000 300A0794 00380500 00401004 300A0792 300A078E 00101040 00101010 "
        "00101005 00100032 00380400 00100050 00101060 00100101 00100102 001021F0 00101020 00102155 "
        "00102154 00101030 00400243 00400254 00400250 00404051 00400251 00400253 00400244 00404050 "
        "00400245 00400241 00404030 00400242 00404028 00081052 00081050 00401102 00401104 00401103 "
        "40080114 00081062 00081048 00081049 00181004 30020123 30020121 00400012 001021C0 300A000E "
        "00700082 00700083 30100061 00404052 0044000B 00081088 00200027 3006004D 3006002D 30060028 "
        "30060038 3006004E 3006002E 30060088 30060085 300A0004 300A0003 00181078 00181072 00181079 "
        "00181073 300C0113 0040100A 00321030 00321066 00321067 00402001 00401002 00741234 04000402 "
        "00380004 00101100 00081120 04000403 00080096 00080092 00080094 00102152 00400275 00321070 "
        "00401400 00401001 00401005 00189937 00741236 00321032 00321033 00189185 00102299 00102297 "
        "40084000 40080118 40080040 40080042 00080054 01000420 0038001A 0038001B 0038001C 0038001D "
        "00404034 0038001E 0040000B 00400006 00400007 00400004 00400005 00404008 00400009 00400011 "
        "00404010 00400002 00404005 00400003 00400001 00404027 00400010 00404025 00321020 00321021 "
        "00321000 00321001 00321010 00321011 0008103E 00380062 00380060 300A01B2 300A01A6 004006FA "
        "001021A0 300A0216 00380050 0040050A 00400602 00400600 00080055 30060006 30060004 00321040 "
        "00321041 00324000 00321050 00321051 00081030 00320012 00320034 00320035 00320032 00320033 "
        "00440010 0040A354 0040DB07 0040DB06 40004000 20300020 0040A112 00181201 00181014 00080201 "
        "00880910 00880912 00880906 00880904 00185011 300A000B 0018100A 00181009 0040A352 0040A358 "
        "00384000 00189373 003A0329 "
    ),
    "U": (
        "00080017 00209161 30100006 30100013 00181002 04000100 00209164 300A0013 3010006E 00080058 "
        "0070031A 00200052 00080014 00083010 00281214 0018100B 00020003 003A0310 0040A402 0040A171 "
        "00281199 300A0650 00701101 00701102 00080019 3010003B 3010000B 300A0083 3010006F 30100031 "
        "30060024 00404023 0040A172 00081155 00041511 300A0785 300600C2 00001001 00080018 0020000E "
        "30100015 00640003 00400554 00880140 0020000D 00200200 00182042 0040DB0D 0040DB0C 00620021 "
        "00081195 300A0609 300A0700 0040A124 "
    ),
    "Z/D": (
        "00700084 00080023 00080033 00180010 00189919 00100020 "
    ),
    "X/Z": (
        "00400555 00080022 00080032 22000005 22000002 00102203 00081110 00321060 300E0008 30080105 "
        "300A00B2 "
    ),
    "X/D": (
        "00181400 0018700C 0018700A 00189517 30080054 00080012 3010004D 3010004C 30080056 0040A032 "
        "00081072 00181030 300A0006 300A0007 30100056 00080021 00080031 00189516 0018700E 30080250 "
        "30100077 30080251 "
    ),
    "X/Z/D": (
        "0008002A 00181000 00080013 00080082 00080080 00081070 00081111 00081010 "
    ),
    "X/Z/U*": (
        "00081140 00082112 "
    ),
}


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


def _deid(ds: Dataset, **kwargs) -> tuple[Dataset, deid.DeidReport]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return deid.deidentify(ds, salt=SALT, **kwargs)


def _walk(ds: Dataset, prefix: str = ""):
    meta = getattr(ds, "file_meta", None)
    if meta is not None and not prefix:
        for elem in meta:
            yield f"file_meta.{elem.keyword}", elem, elem.value
    for elem in ds:
        name = f"{prefix}{elem.keyword or elem.tag}"
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from _walk(item, f"{name}[{i}].")
        else:
            yield name, elem, elem.value


def test_reads_the_shipped_files_only() -> None:
    files = dicom.pydicom_test_files()
    root = Path(pydicom.__file__).parent / "data" / "test_files"
    assert files and all(root in f.parents for f in files)
    assert len(READABLE) >= 150  # 167 with pydicom 3.0.2


def test_profile_table_every_row_against_a_second_source() -> None:
    assert deid.EDITION == "2024b"
    assert len(deid.TABLE_E1_1) == 621  # the 2024b table: 617 attributes, curves, 2 overlay rows, private
    ours = {tag: action for tag, action, _ in deid.TABLE_E1_1}
    theirs = {tag: action for action, tags in SECOND_SOURCE.items() for tag in tags.split()}
    assert len(theirs) == sum(len(t.split()) for t in SECOND_SOURCE.values())  # no tag listed twice
    assert set(ours) - set(theirs) == {"GGGGEEEE"}  # the second source leaves out only the private row
    assert set(theirs) <= set(ours)
    assert {t: (ours[t], a) for t, a in theirs.items() if ours[t] != a} == {}  # all 620 shared rows agree
    assert ours["GGGGEEEE"] == "X" and ours["50XXXXXX"] == "X" and ours["60XX3000"] == "X"
    tag = pydicom.datadict.tag_for_keyword
    assert deid.BASIC_PROFILE[tag("PatientName")] == "Z" and deid.BASIC_PROFILE[tag("PatientID")] == "Z/D"
    assert deid.BASIC_PROFILE[tag("StudyInstanceUID")] == "U" and len(deid.BASIC_PROFILE) == 617
    # Every single-attribute row names an attribute pydicom's dictionary knows.
    assert all(pydicom.datadict.keyword_for_tag(t) for t in deid.BASIC_PROFILE)


def test_conformance_table_covers_every_action_and_option() -> None:
    rows = deid.conformance()
    names = [r[0] for r in rows]
    actions = {a for _, a, _ in deid.TABLE_E1_1}
    assert {f"Basic Profile {a}" for a in actions} <= set(names)
    assert sum(n for name, _, n, _ in rows if name.startswith("Basic Profile")) == len(deid.TABLE_E1_1)
    columns = {k for _, _, options in deid.TABLE_E1_1 for k in options}
    assert len(columns) == 10 and len(rows) == len(actions) + 12  # ten option columns, plus the two pixel options
    status = {name: s for name, s, _, _ in rows}
    assert status["Clean Pixel Data"] == "refused" and status["Retain Safe Private"] == "not supported"
    assert set(status.values()) == {"implemented", "refused", "not supported"}


@pytest.mark.parametrize("path,ds", READABLE, ids=[p.name for p, _ in READABLE])
def test_no_identifying_value_survives(path: Path, ds: Dataset) -> None:
    before = copy.deepcopy(ds)
    try:
        out, report = _deid(ds)
    except deid.Refused as exc:  # the only refusals: file-sets and pixels that may show a name
        assert exc.reason.startswith(("file-set", "burned-in annotation not stated")), exc.reason
        out, report = (None, None) if exc.reason.startswith("file-set") else _deid(ds, burned_in="remove_pixels")
        if out is None:
            return
        assert "PixelData" not in out
    result = leaks.check(ds, out)
    assert result.leaks == [], result.leaks[:5]
    for name, elem, value in _walk(out):  # the blanket rules, element by element, at every depth
        assert not elem.tag.is_private, name
        assert not 0x6000 <= elem.tag.group <= 0x60FF, name  # the whole overlay group
        if elem.VR == "PN":
            assert value in (None, "", "ANONYMOUS"), name
        if elem.VR in ("DA", "TM", "DT"):
            assert value in (None, "", "19000101", "000000", "19000101000000"), name
        action = deid.BASIC_PROFILE.get(int(elem.tag), "")
        assert not action.startswith("X"), name
        if action.startswith("Z") and elem.VR != "SQ":
            assert value in (None, "", b""), name
        if elem.VR in ("LO", "SH", "LT", "ST", "UT", "UC") and not action and elem.tag.group != 2:
            assert elem.keyword in deid.KEEP_TEXT or value == "ANONYMIZED", name  # unlisted free text
    assert out.PatientIdentityRemoved == "YES"
    code = out.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")
    assert "PS3.15 2024b" in out.DeidentificationMethod[0]
    assert out.DeidentificationMethod[1].startswith(f"{deid.__name__};")  # names the module as it is imported now
    assert ds == before  # the input is not changed
    assert report.has_pixel_data == ("PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds)


def test_the_old_leak_is_found_and_closed() -> None:
    """The review's S2: PatientID 77654033 survived in the DICOMDIR's ReferencedFileID."""
    path = Path(pydicom.data.get_testdata_file("DICOMDIR", download=False))
    ds = pydicom.dcmread(path)
    seen = leaks.check(ds, ds)  # the checker sees the ID in the original's paths
    assert any(h.identifier.value == "77654033" and "ReferencedFileID" in h.where for h in seen.leaks)
    with pytest.raises(deid.Refused, match="deidentify_fileset") as err:
        deid.deidentify(ds, salt=SALT)
    assert err.value.reason == "file-set (DICOMDIR)" and "FileSet" in str(err.value)


@pytest.mark.parametrize("name", DICOMDIRS)
def test_fileset_deidentified_with_new_paths(name: str, tmp_path: Path) -> None:
    from pydicom.fileset import FileSet

    path = Path(pydicom.data.get_testdata_file(name, download=False))
    original = pydicom.dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new, reports = deid.deidentify_fileset(path, tmp_path / "out", salt=SALT)
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    index = pydicom.dcmread(new)
    assert len(reports) == 31 and len(written) == 32  # 31 images and the new DICOMDIR
    assert len(FileSet(index)) == 31  # pydicom reads the new file-set back
    result = leaks.check(original, index, extra=written)
    assert result.leaks == [] and len(result.identifiers) > 50
    assert not any("77654033" in p for p in written)
    # Every written image is clean against its own original, and the patients stay apart.
    patients = set()
    for instance in FileSet(index):
        ds = instance.load()
        patients.add(ds.PatientID)
        assert ds.PatientIdentityRemoved == "YES" and ds.PatientID.startswith("P")
    referenced = [r.ReferencedFileID for r in original.DirectoryRecordSequence if "ReferencedFileID" in r]
    source_patients = {pydicom.dcmread(path.parent.joinpath(*r)).PatientID for r in referenced}
    assert len(patients) == len(source_patients) == 2  # one pseudonym per patient (two folders hold one patient)
    with pytest.raises(ValueError, match="not empty"):
        deid.deidentify_fileset(path, tmp_path / "out", salt=SALT)


def test_ultrasound_without_burned_in_annotation_refused() -> None:
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("examples_rgb_color.dcm", download=False))
    assert ds.Modality == "US" and "BurnedInAnnotation" not in ds and "PixelData" in ds
    with pytest.raises(deid.Refused, match="BurnedInAnnotation is absent on modality US") as err:
        deid.deidentify(ds, salt=SALT)
    assert err.value.reason == "burned-in annotation not stated (US)"
    assert "burned_in='remove_pixels'" in str(err.value)
    out, report = deid.deidentify(ds, salt=SALT, burned_in="remove_pixels")
    assert "PixelData" not in out and any("removed" in n for n in report.notes)
    kept, _ = deid.deidentify(ds, salt=SALT, burned_in="keep")
    assert kept.PixelData == ds.PixelData
    stated = copy.deepcopy(ds)
    stated.BurnedInAnnotation = "NO"  # the modality stated there is no burned-in text
    assert deid.deidentify(stated, salt=SALT)[0].PixelData == ds.PixelData
    header_only = copy.deepcopy(ds)
    del header_only.PixelData  # without pixels there is nothing to burn a name into
    deid.deidentify(header_only, salt=SALT)


def test_burned_in_yes_and_visual_features() -> None:
    ds = pydicom.dcmread(pydicom.examples.get_path("ct"))
    deid.deidentify(ds, salt=SALT)  # a CT without either flag is accepted
    flagged = copy.deepcopy(ds)
    flagged.BurnedInAnnotation = "YES"
    with pytest.raises(deid.Refused, match="BurnedInAnnotation is YES"):
        deid.deidentify(flagged, salt=SALT)
    face = copy.deepcopy(ds)
    face.RecognizableVisualFeatures = "YES"
    with pytest.raises(deid.Refused, match="visual_features='remove_pixels'") as err:
        deid.deidentify(face, salt=SALT, burned_in="keep")  # the burned-in choice does not cover faces
    assert err.value.reason == "recognizable visual features: YES"
    out, report = deid.deidentify(face, salt=SALT, visual_features="remove_pixels")
    assert "PixelData" not in out and "PixelData" in face
    with pytest.raises(ValueError, match="visual_features"):
        deid.deidentify(ds, salt=SALT, visual_features="blur")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="burned_in"):
        deid.deidentify(ds, salt=SALT, burned_in="ignore")  # type: ignore[arg-type]


def test_overlay_group_removed_and_high_bits_cleared() -> None:
    ds = pydicom.dcmread(pydicom.examples.get_path("ct"))
    for group in (0x6000, 0x6002):
        ds.add_new((group, 0x0010), "US", 512)
        ds.add_new((group, 0x0022), "LO", "Doe^Jane measured here")  # OverlayDescription: free text
        ds.add_new((group, 0x1500), "LO", "Jane Doe")  # OverlayLabel
        ds.add_new((group, 0x0102), "US", 15)  # OverlayBitPosition: a plane in the pixel data
    ds.BitsStored, ds.HighBit = 12, 11
    pixels = ds.pixel_array.astype(np.int16)
    raw = np.frombuffer(ds.PixelData, dtype="<i2").copy()
    values = np.clip(pixels, -2048, 2047)
    plane = np.zeros_like(raw)
    plane[: raw.size // 2] = np.int16(-32768)  # bit 15 set: an overlay plane burned into the unused bits
    ds.PixelData = (((values.ravel().astype(np.int32) & 0x0FFF) | (plane.astype(np.int32) & 0x8000)).astype("<u2")).tobytes()
    out, report = deid.deidentify(ds, salt=SALT)
    assert not any(0x6000 <= e.tag.group <= 0x60FF for e in out)
    assert report.actions["overlay"] == 8 and report.actions["high bits"] == 1
    cleaned = np.frombuffer(out.PixelData, dtype="<u2")
    top = cleaned >> 11  # bits 11..15: a copy of the sign bit (signed pixels)
    assert set(np.unique(top)) <= {0, 0x1F}
    assert np.array_equal(out.pixel_array, ds.pixel_array)  # every pixel value a reader sees is the same
    unsigned = copy.deepcopy(ds)
    unsigned.PixelRepresentation = 0
    out_u, _ = deid.deidentify(unsigned, salt=SALT)
    assert int(np.frombuffer(out_u.PixelData, dtype="<u2").max()) < 4096  # bits above HighBit zeroed


def test_unlisted_free_text_removed_unless_allowed() -> None:
    ds = Dataset()
    ds.Modality = "CT"
    ds.Manufacturer = "ACME"  # in KEEP_TEXT
    ds.PositionReferenceIndicator = "Jane Doe's bed"  # LO, not in Table E.1-1
    ds.add_new(0x00189424, "LT", "acquired for Jane Doe")  # AcquisitionProtocolDescription is listed (X)
    ds.ImageID = "JD-0001"  # SH, unlisted
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-D4000", "SRT", "Abdomen"
    item.LUTExplanation = "Doe window"  # LO unlisted, nested
    ds.AnatomicRegionSequence = DicomSequence([item])
    out, report = deid.deidentify(ds, salt=SALT)
    assert out.Manufacturer == "ACME" and out.Modality == "CT"
    assert "PositionReferenceIndicator" not in out and "ImageID" not in out and 0x00189424 not in out
    region = out.AnatomicRegionSequence[0]
    assert region.CodeMeaning == "Abdomen" and "LUTExplanation" not in region
    assert report.actions["free text"] == 3
    assert leaks.check(ds, out).leaks == []


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
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3.4.5"
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.4.5"
    ds.ReferencedSeriesSequence = DicomSequence([item])
    out, _ = deid.deidentify(ds, salt=SALT)
    assert out.ReferencedSeriesSequence[0].ReferencedSOPInstanceUID == out.SOPInstanceUID != "1.2.3.4.5"


def test_structured_report_free_text_replaced() -> None:
    path = pydicom.data.get_testdata_file("reportsi.dcm", download=False)
    ds = pydicom.dcmread(path)
    out, _ = deid.deidentify(ds, salt=SALT)
    texts = [v for _, e, v in _walk(out) if e.keyword == "TextValue"]
    assert texts and all(t == "ANONYMIZED" for t in texts)


def test_no_pixel_data_and_compressed_syntax_still_deidentified(tmp_path: Path) -> None:
    no_pixels = [(p, ds) for p, ds in READABLE if "PixelData" not in ds and "PatientName" in ds
                 and "DirectoryRecordSequence" not in ds]
    compressed = [
        (p, ds)
        for p, ds in READABLE
        if "PixelData" in ds and ds.file_meta.get("TransferSyntaxUID") and ds.file_meta.TransferSyntaxUID.is_compressed
        and ds.get("Modality") in ("CT", "MR")
    ]
    assert no_pixels and compressed
    for p, ds in (no_pixels[0], compressed[0]):
        out, report = deid.deidentify_file(p, tmp_path / p.name, salt=SALT)
        assert report.notes, p.name
        back = pydicom.dcmread(tmp_path / p.name)
        assert back.get("PatientName", "") == "" and back.PatientIdentityRemoved == "YES"
        assert leaks.check(ds, back).leaks == []
    out, report = deid.deidentify_file(compressed[0][0], salt=SALT)
    assert out.PixelData == compressed[0][1].PixelData  # encoded pixels untouched
    assert any("compressed" in n for n in report.notes)


def test_attribute_actions() -> None:
    ct = pydicom.dcmread(pydicom.examples.get_path("ct"))
    out, _ = deid.deidentify(ct, salt=SALT)
    acts = deid.attribute_actions(ct, out)
    assert acts["PatientName"] == "emptied" and acts["InstitutionName"] == "removed"
    assert acts["StudyInstanceUID"] == "replaced" and acts["Modality"] == "kept"
    assert "PixelData" not in acts and acts["TransferSyntaxUID"] == "kept"


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="pydicom Dataset"):
        deid.deidentify({"PatientName": "x"}, salt=SALT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="salt"):
        deid.deidentify(Dataset(), salt="")
    with pytest.raises(FileNotFoundError):
        deid.deidentify_file(tmp_path / "missing.dcm", salt=SALT)
    with pytest.raises(FileNotFoundError):
        deid.deidentify_fileset(tmp_path / "DICOMDIR", tmp_path / "out", salt=SALT)
    text = tmp_path / "notes.txt"
    text.write_text("not a DICOM file")
    with pytest.raises(ValueError, match="not a DICOM file"):
        deid.deidentify_file(text, salt=SALT)
    ct = pydicom.examples.get_path("ct")
    with pytest.raises(ValueError, match="not a DICOMDIR"):
        deid.deidentify_fileset(ct, tmp_path / "out", salt=SALT)
    bare = tmp_path / "bare"  # a DICOMDIR whose file has no file meta
    bare.mkdir()
    no_meta = pydicom.dcmread(pydicom.data.get_testdata_file("no_meta.dcm", download=False), force=True)
    no_meta.save_as(bare / "IMG1", implicit_vr=True, little_endian=True, enforce_file_format=False)
    index = pydicom.dcmread(pydicom.data.get_testdata_file("DICOMDIR", download=False))
    index.DirectoryRecordSequence = DicomSequence([Dataset()])
    index.DirectoryRecordSequence[0].ReferencedFileID = "IMG1"
    index.save_as(bare / "DICOMDIR")
    with pytest.raises(ValueError, match="no file meta"):
        deid.deidentify_fileset(bare / "DICOMDIR", tmp_path / "out2", salt=SALT)


@pytest.mark.slow
def test_at_least_as_strict_as_dicognito() -> None:
    """Cross-check with an independent, maintained de-identifier (dicognito, a test dependency).

    On every attribute of every readable file, whatever dicognito removes, empties or replaces,
    medtools.dicom.deid does not keep: the profile never leaves a value that dicognito thought to change.
    """
    from dicognito.anonymizer import Anonymizer

    kept_here_changed_there = []
    compared = changed_there = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path, ds in READABLE:
            if "DirectoryRecordSequence" in ds:
                continue
            ours, _ = deid.deidentify(ds, salt=SALT, burned_in="remove_pixels")
            theirs = copy.deepcopy(ds)
            if getattr(theirs, "file_meta", None) is None:
                theirs.file_meta = pydicom.dataset.FileMetaDataset()
            Anonymizer(seed=SALT).anonymize(theirs)
            a, b = deid.attribute_actions(ds, ours), deid.attribute_actions(ds, theirs)
            compared += len(a)
            changed_there += sum(v != "kept" for v in b.values())
            kept_here_changed_there += [(path.name, k, b.get(k)) for k, v in a.items() if v == "kept" and b.get(k) != "kept"]
    assert compared > 3000 and changed_there > 500  # dicognito ran and changed many values
    assert kept_here_changed_there == []
