"""Tests of medtools.dicom: every file of pydicom's test data loads or fails with the module's own
error; HU, windows, geometry and resampling against pydicom and hand calculations."""

from __future__ import annotations

import copy
import dataclasses
import gzip
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut, apply_windowing
from pydicom.uid import JPEG2000, MPEG2MPML, ExplicitVRLittleEndian

from medtools import dicom
from medtools.dicom import geometry, reader

FILES = dicom.pydicom_test_files()
ROOT = Path(pydicom.__file__).parent / "data" / "test_files"


def _id(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _path(name: str) -> Path:
    return Path(get_testdata_file(name))


# --------------------------------------------------------------------------- every file


def test_pydicom_test_files_never_downloads(monkeypatch):
    """Only the files shipped inside pydicom: no attempt to fetch pydicom's external test data."""
    import pydicom.data.data_manager as manager

    def no_network(*args, **kwargs):
        raise AssertionError("pydicom_test_files tried to download a file")

    monkeypatch.setattr(manager, "data_path_with_download", no_network)
    assert dicom.pydicom_test_files() == FILES


def test_pydicom_test_files_cover_the_package_folder():
    in_folder = {p for p in ROOT.rglob("*") if p.is_file()}
    assert in_folder <= set(FILES)
    assert len(FILES) >= 80
    assert any("dicomdirtests" in str(p) for p in FILES)  # subfolders included
    assert all(p.is_file() for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_every_file_loads_or_fails_with_a_dicom_error(path):
    try:
        image = dicom.load(path)
    except dicom.DicomError as err:  # any other exception fails the test
        assert err.kind in dicom.ERROR_KINDS
        assert str(err).startswith(path.name + ":")
        assert err.path == str(path)
        assert len(str(err)) > len(path.name) + 20  # says what is wrong, not just the name
        return
    assert image.hu.dtype == np.float32 and image.hu.ndim in (2, 3)
    assert np.all(np.isfinite(image.hu))
    assert image.photometric in ("MONOCHROME1", "MONOCHROME2")
    assert image.path == str(path)


def test_survey_counts_every_file_once():
    counts = dicom.survey(FILES)
    print("survey of pydicom's test files:", counts)
    assert list(counts) == ["loaded", *dicom.ERROR_KINDS, "total"]
    assert counts["total"] == len(FILES) == sum(v for k, v in counts.items() if k != "total")
    assert counts["loaded"] >= 50
    for kind in (
        "not_dicom",
        "truncated",
        "no_pixel_data",
        "malformed",
        "decode_failed",
        "unsupported_photometric",
    ):
        assert counts[kind] >= 1, kind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CT_small.dcm", "loaded"),
        ("MR_small_bigendian.dcm", "loaded"),
        ("MR_small_RLE.dcm", "loaded"),
        ("MR_small_jp2klossless.dcm", "loaded"),
        ("MR_small_jpeg_ls_lossless.dcm", "loaded"),
        ("JPGExtended.dcm", "loaded"),
        ("rtdose.dcm", "loaded"),
        ("image_dfl.dcm", "loaded"),
        ("no_meta.dcm", "not_dicom"),
        ("zipMR.gz", "not_dicom"),
        ("MR_truncated.dcm", "truncated"),
        ("rtplan_truncated.dcm", "truncated"),
        ("rtplan.dcm", "no_pixel_data"),
        ("DICOMDIR", "no_pixel_data"),
        ("waveform_ecg.dcm", "no_pixel_data"),
        ("badVR.dcm", "malformed"),
        ("meta_missing_tsyntax.dcm", "malformed"),
        ("nested_priv_SQ.dcm", "malformed"),
        ("JPEG-lossy.dcm", "decode_failed"),
        ("JPEG2000-embedded-sequence-delimiter.dcm", "decode_failed"),
        ("examples_palette.dcm", "unsupported_photometric"),
        ("examples_rgb_color.dcm", "unsupported_photometric"),
        ("examples_ybr_color.dcm", "unsupported_photometric"),
    ],
)
def test_known_outcomes(name, expected):
    assert dicom.outcome(_path(name)) == expected


# --------------------------------------------------------------------------- HU


def test_ct_values_are_hounsfield_units():
    path = _path("CT_small.dcm")
    ds = pydicom.dcmread(path)
    image = dicom.load(path, require_hu=True)
    stored = ds.pixel_array
    hand = stored.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(image.hu, hand.astype(np.float32))
    np.testing.assert_array_equal(image.hu, apply_modality_lut(stored, ds).astype(np.float32))
    assert image.units == "HU" and image.modality == "CT"
    assert image.rescale == (1.0, -1024.0)
    assert image.spacing == pytest.approx((0.661468, 0.661468))
    assert image.size_mm == pytest.approx((128 * 0.661468, 128 * 0.661468))
    assert image.slice_thickness == pytest.approx(5.0)
    assert image.transfer_syntax == "Explicit VR Little Endian"
    assert image.frames == 1
    assert "CT" in repr(image) and "128×128" in repr(image)


def test_air_is_minus_1000_hu_in_a_head_ct():
    hu = dicom.load(_path("J2K_pixelrep_mismatch.dcm")).hu
    air = hu[(hu > -1100) & (hu < -900)]
    assert air.size > 10_000 and abs(float(np.median(air)) + 1000) < 5


def test_lossless_syntaxes_decode_to_identical_values():
    reference = dicom.load(_path("MR_small.dcm")).hu
    for name in (
        "MR_small_RLE.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ):
        np.testing.assert_array_equal(dicom.load(_path(name)).hu, reference, err_msg=name)


def test_lossy_flag_from_the_file_or_the_transfer_syntax():
    # The flag in the header: a lossy JPEG 2000 head CT, and an image stored uncompressed after
    # an earlier lossy step (LossyImageCompression stays 01).
    assert dicom.load(_path("693_J2KI.dcm")).lossy
    assert any("01" in r for r in dicom.lossy_reasons(_path("SC_ybr_full_422_uncompressed.dcm")))
    # No flag, but a lossy transfer syntax (JPEG-LS near-lossless): flagged from the syntax.
    for name in ("SC_rgb_jls_lossy_line.dcm", "SC_rgb_jls_lossy_sample.dcm"):
        ds = pydicom.dcmread(_path(name), stop_before_pixels=True)
        assert "LossyImageCompression" not in ds
        reasons = dicom.lossy_reasons(_path(name))
        assert reasons == dicom.lossy_reasons(ds)
        assert len(reasons) == 1 and "Near-Lossless" in reasons[0], name
    assert dicom.load(_path("JPEGLSNearLossless_16.dcm")).lossy
    assert dicom.load(_path("JPGExtended.dcm")).lossy  # JPEG extended (DCT): lossy by design
    # Lossless syntaxes and native data without the flag are not flagged.
    for name in ("CT_small.dcm", "J2K_pixelrep_mismatch.dcm", "MR_small_jp2klossless.dcm",
                 "MR_small_jpeg_ls_lossless.dcm", "MR_small_RLE.dcm"):
        assert not dicom.load(_path(name)).lossy and dicom.lossy_reasons(_path(name)) == (), name


def test_lossy_syntaxes_are_exactly_the_lossy_ones():
    lossy = {pydicom.uid.UID(u).keyword for u in pydicom.uid.AllTransferSyntaxes
             if dicom.lossy_reasons(_dataset_in(u))}
    video = {k for k in lossy if k.startswith(("MPEG", "HEVC"))}
    assert lossy - video == {"JPEGBaseline8Bit", "JPEGExtended12Bit", "JPEGLSNearLossless",
                             "JPEG2000", "JPEG2000MC", "HTJ2K"}
    assert len(video) == 16  # every MPEG-2, MPEG-4 AVC and HEVC syntax pydicom 3 knows


def _dataset_in(uid: str) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = uid
    return ds


def test_pydicom_lossy_encoding_is_flagged_by_the_syntax(tmp_path):
    # pydicom's compress() does not set LossyImageCompression; load must still flag the result.
    path = _path("J2K_pixelrep_mismatch.dcm")
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    ds.compress(JPEG2000, arr, j2k_cr=[20])
    assert "LossyImageCompression" not in ds
    ds.save_as(tmp_path / "lossy.dcm")
    image = dicom.load(tmp_path / "lossy.dcm")
    assert image.lossy and not np.array_equal(image.hu, dicom.load(path).hu)
    ds = pydicom.dcmread(path)
    ds.compress(pydicom.uid.JPEG2000Lossless, arr)
    ds.save_as(tmp_path / "lossless.dcm")
    image = dicom.load(tmp_path / "lossless.dcm")
    assert not image.lossy
    np.testing.assert_array_equal(image.hu, dicom.load(path).hu)


def test_units_of_other_modalities():
    cr = dicom.load(ROOT / "dicomdirtests" / "77654033" / "CR1" / "6154")
    assert cr.units == "OD" and cr.photometric == "MONOCHROME1" and cr.spacing is None
    assert any("ImagerPixelSpacing" in n for n in cr.notes)
    mr = dicom.load(_path("MR_small.dcm"))
    assert mr.units == "unspecified" and mr.window == dicom.Window(600.0, 1600.0)
    dose = dicom.load(_path("rtdose.dcm"))
    assert dose.hu.shape == (15, 10, 10) and dose.frames == 15
    assert any("DoseGridScaling" in n for n in dose.notes)


def test_functional_group_rescale_and_spacing(tmp_path):
    """Enhanced multi-frame objects keep rescale and spacing in functional groups."""
    src = _path("CT_small.dcm")
    ds = pydicom.dcmread(src)
    measures, transform = pydicom.Dataset(), pydicom.Dataset()
    measures.PixelSpacing = ds.PixelSpacing
    measures.SliceThickness = ds.SliceThickness
    transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 1, -1024, "HU"
    shared = pydicom.Dataset()
    shared.PixelMeasuresSequence = [measures]
    shared.PixelValueTransformationSequence = [transform]
    ds.SharedFunctionalGroupsSequence = [shared]
    for keyword in ("PixelSpacing", "SliceThickness", "RescaleSlope", "RescaleIntercept"):
        delattr(ds, keyword)
    ds.save_as(tmp_path / "enhanced.dcm")
    image, reference = dicom.load(tmp_path / "enhanced.dcm"), dicom.load(src)
    np.testing.assert_array_equal(image.hu, reference.hu)
    assert image.spacing == reference.spacing and image.units == "HU"
    assert image.slice_thickness == reference.slice_thickness


# --------------------------------------------------------------------------- windows


def test_window_formula():
    hu = np.array([-2000.0, -1350.0, -600.0, 150.0, 3000.0])
    y = dicom.window(hu, -600, 1500)
    np.testing.assert_allclose(y, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert y.dtype == np.float32
    ramp = np.linspace(-1000, 1000, 201)
    assert np.all(np.diff(dicom.window(ramp, 40, 80)) >= 0)  # monotone
    with pytest.raises(ValueError, match="positive"):
        dicom.window(hu, 0, 0)
    with pytest.raises(ValueError, match="numeric"):
        dicom.window(np.array(["a"]), 0, 1)


@pytest.mark.parametrize("name", sorted(dicom.WINDOWS))
def test_window_matches_pydicom_linear_exact(name):
    """Eq. (dicom-window) is DICOM's LINEAR_EXACT VOI function, rescaled to [0, 1]."""
    ds = pydicom.dcmread(_path("CT_small.dcm"))
    hu = apply_modality_lut(ds.pixel_array, ds)
    center, width = dicom.WINDOWS[name]
    d = copy.deepcopy(ds)
    d.WindowCenter, d.WindowWidth, d.VOILUTFunction = center, width, "LINEAR_EXACT"
    y_min, y_max = apply_windowing(np.array([-1e9, 1e9]), d)
    ref = (apply_windowing(hu, d) - y_min) / (y_max - y_min)
    np.testing.assert_allclose(dicom.window(hu, center, width), ref, atol=1e-6)
    d.VOILUTFunction = "LINEAR"  # DICOM's default shifts by half a unit: differs by at most 1/(w - 1)
    linear = (apply_windowing(hu, d) - y_min) / (y_max - y_min)
    assert np.abs(dicom.window(hu, center, width) - linear).max() <= 1 / (width - 1)


def test_named_windows():
    assert set(dicom.WINDOWS) == {"lung", "mediastinum", "bone", "brain"}
    lung = dicom.WINDOWS["lung"]
    assert (lung.lower, lung.upper) == (-1350.0, 150.0)
    assert all(w.width > 0 for w in dicom.WINDOWS.values())


# --------------------------------------------------------------------------- each error kind


def test_not_a_file(tmp_path):
    with pytest.raises(dicom.NotAFileError, match="no such file"):
        dicom.load(tmp_path / "missing.dcm")
    with pytest.raises(dicom.NotAFileError, match="directory") as info:
        dicom.load(tmp_path)
    assert info.value.kind == "not_a_file" and isinstance(info.value, ValueError)


def test_not_dicom(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(dicom.NotDicomError, match="DICM"):
        dicom.load(tmp_path / "notes.txt")
    (tmp_path / "ct.dcm.gz").write_bytes(gzip.compress(_path("CT_small.dcm").read_bytes()))
    with pytest.raises(dicom.NotDicomError, match="gzip"):
        dicom.load(tmp_path / "ct.dcm.gz")
    (tmp_path / "empty.dcm").write_bytes(b"")
    with pytest.raises(dicom.NotDicomError):
        dicom.load(tmp_path / "empty.dcm")


def test_truncated_anywhere_is_a_dicom_error(tmp_path):
    raw = _path("CT_small.dcm").read_bytes()
    pixel_start = len(raw) - 128 * 128 * 2
    kinds = {}
    for cut in [*range(0, 1400, 37), *range(pixel_start - 40, len(raw) - 1, 2011)]:
        f = tmp_path / f"cut{cut}.dcm"
        f.write_bytes(raw[:cut])
        with pytest.raises(dicom.DicomError) as info:
            dicom.load(f)
        kinds[cut] = info.value.kind
        if cut > pixel_start + 16:  # inside the pixel data
            assert info.value.kind == "truncated", cut
    assert "truncated" in kinds.values()
    with pytest.raises(dicom.TruncatedError, match="8192 bytes"):
        dicom.load(_path("MR_truncated.dcm"))


def test_no_pixel_data():
    with pytest.raises(dicom.NoPixelDataError, match="RT Plan Storage"):
        dicom.load(_path("rtplan.dcm"))
    with pytest.raises(dicom.NoPixelDataError, match="FileSet"):
        dicom.load(_path("DICOMDIR"))


def test_malformed(tmp_path):
    ds = pydicom.dcmread(_path("CT_small.dcm"))
    del ds.Rows
    ds.save_as(tmp_path / "norows.dcm")
    with pytest.raises(dicom.MalformedError, match="Rows is missing"):
        dicom.load(tmp_path / "norows.dcm")
    with pytest.raises(dicom.MalformedError, match="NumberOfFrames"):
        dicom.load(_path("badVR.dcm"))
    with pytest.raises(dicom.MalformedError, match="Transfer Syntax UID"):
        dicom.load(_path("meta_missing_tsyntax.dcm"))


def test_no_decoder_for_a_missing_plugin():
    info = dicom.decoders(JPEG2000)
    if "gdcm" in info.available:  # pragma: no cover - GDCM is not in requirements.txt
        pytest.skip("GDCM is installed here")
    with pytest.raises(dicom.NoDecoderError, match="python-gdcm") as err:
        dicom.load(_path("JPEG2000.dcm"), decoding_plugin="gdcm")
    assert err.value.kind == "no_decoder"
    with pytest.raises(dicom.NoDecoderError, match="not a decoder"):
        dicom.load(_path("JPEG2000.dcm"), decoding_plugin="nonsense")
    # Native (uncompressed) data need no plugin, whatever is asked for.
    assert dicom.outcome(_path("CT_small.dcm"), decoding_plugin="gdcm") == "loaded"


def test_no_decoder_installed_at_all(monkeypatch):
    real = dicom.decoders

    def nothing_installed(uid):
        info = real(uid)
        return info._replace(available=(), missing={"pylibjpeg": ("pylibjpeg", "pylibjpeg-openjpeg")})

    monkeypatch.setattr(reader, "decoders", nothing_installed)  # what load looks up
    with pytest.raises(dicom.NoDecoderError, match="pip install pylibjpeg pylibjpeg-openjpeg"):
        dicom.load(_path("JPEG2000.dcm"))


def test_decode_failed_names_the_decoders():
    with pytest.raises(dicom.DecodeFailedError, match="pylibjpeg") as info:
        dicom.load(_path("JPEG-lossy.dcm"))
    assert "gdcm" in str(info.value).lower()


def test_unsupported_photometric():
    with pytest.raises(dicom.UnsupportedPhotometricError, match="apply_color_lut"):
        dicom.load(_path("examples_palette.dcm"))
    with pytest.raises(dicom.UnsupportedPhotometricError, match="RGB"):
        dicom.load(_path("examples_rgb_color.dcm"))


def test_not_hu():
    with pytest.raises(dicom.NotHounsfieldError, match="MR"):
        dicom.load(_path("MR_small.dcm"), require_hu=True)
    assert dicom.load(_path("MR_small.dcm")).units == "unspecified"


def test_decoders():
    j2k = dicom.decoders(JPEG2000)
    assert j2k.compressed and {"pylibjpeg", "pillow"} <= set(j2k.available)
    if "gdcm" not in j2k.available:
        assert j2k.missing["gdcm"] == ("python-gdcm>=3.0.10",)
    native = dicom.decoders(ExplicitVRLittleEndian)
    assert not native.compressed and native.available == () and native.missing == {}
    assert dicom.decoders(MPEG2MPML).implemented is False


# --------------------------------------------------------------------------- geometry


def test_plane_and_tilt():
    assert dicom.plane([1, 0, 0, 0, 1, 0]) == ("axial", 0.0)
    assert dicom.plane([1, 0, 0, 0, 0, -1]) == ("coronal", 0.0)
    assert dicom.plane([0, 1, 0, 0, 0, -1]) == ("sagittal", 0.0)
    name, tilt = dicom.plane(dicom.load(_path("J2K_pixelrep_mismatch.dcm")).orientation)
    assert name == "axial" and tilt == pytest.approx(np.degrees(np.arccos(0.9272)), abs=0.05)
    with pytest.raises(ValueError, match="orthogonal"):
        dicom.plane([1, 0, 0, 1, 0, 0])


def test_pixel_to_patient_and_canonical():
    image = dicom.load(_path("CT_small.dcm"))
    np.testing.assert_allclose(dicom.pixel_to_patient(image, 0, 0), image.position)
    far = dicom.pixel_to_patient(image, 127, 127)
    np.testing.assert_allclose(
        far - np.asarray(image.position), [127 * 0.661468, 127 * 0.661468, 0], atol=1e-6
    )
    # The same slice stored mirrored and transposed describes the same patient.
    s, x, y = np.asarray(image.position), np.asarray(image.orientation[:3]), np.asarray(image.orientation[3:])
    dr, dc = image.spacing
    mirrored = dataclasses.replace(
        image,
        hu=np.ascontiguousarray(image.hu[:, ::-1].T),
        position=tuple(s + x * dc * 127),
        orientation=(*y, *(-x)),
        spacing=(dc, dr),
    )
    assert not np.array_equal(mirrored.hu, image.hu)
    rows, cols = np.meshgrid(np.arange(128), np.arange(128), indexing="ij")
    np.testing.assert_allclose(
        dicom.pixel_to_patient(mirrored, 127 - cols, rows),
        dicom.pixel_to_patient(image, rows, cols),
        atol=1e-6,
    )
    canon = dicom.canonical(mirrored)
    np.testing.assert_array_equal(canon.hu, image.hu)
    np.testing.assert_allclose(canon.position, image.position, atol=1e-9)
    np.testing.assert_allclose(canon.orientation, image.orientation, atol=1e-12)
    cr = dicom.load(ROOT / "dicomdirtests" / "77654033" / "CR1" / "6154")
    with pytest.raises(dicom.NoGeometryError, match="PixelSpacing"):
        dicom.canonical(cr)


def test_canonical_sagittal_and_coronal():
    for folder, name in (("CT2N/6293", "sagittal"), ("CT2N/6924", "coronal")):
        image = dicom.load(ROOT / "dicomdirtests" / "98892001" / folder)
        canon = dicom.canonical(image)
        assert dicom.plane(canon.orientation)[0] == name
        want_col, want_row = geometry._CANONICAL[name]
        np.testing.assert_allclose(canon.orientation, (*want_col, *want_row), atol=1e-9)
        h, w = canon.hu.shape
        corners = dicom.pixel_to_patient(
            canon, np.array([0, 0, h - 1, h - 1]), np.array([0, w - 1, 0, w - 1])
        )
        orig = dicom.pixel_to_patient(image, np.array([0, 0, 15, 15]), np.array([0, 15, 0, 15]))
        assert {tuple(np.round(c, 6)) for c in corners} == {tuple(np.round(c, 6)) for c in orig}


# --------------------------------------------------------------------------- resampling and model input


def test_resample_keeps_extent_and_linear_functions():
    spacing = (0.5, 0.8)
    rows, cols = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
    ramp = (2.0 * (rows + 0.5) * spacing[0] + 3.0 * (cols + 0.5) * spacing[1]).astype(np.float32)
    out, got = dicom.resample(ramp, spacing, (1.0, 1.0))
    assert out.shape == (20, 24) and out.dtype == np.float32
    assert got == pytest.approx((40 * 0.5 / 20, 30 * 0.8 / 24))
    r2, c2 = np.meshgrid(np.arange(20), np.arange(24), indexing="ij")
    expected = 2.0 * (r2 + 0.5) * got[0] + 3.0 * (c2 + 0.5) * got[1]
    np.testing.assert_allclose(out[1:-1, 1:-1], expected[1:-1, 1:-1], rtol=1e-5)  # exact inside the borders
    stack, _ = dicom.resample(np.stack([ramp, ramp]), spacing, (1.0, 1.0))
    assert stack.shape == (2, 20, 24)
    with pytest.raises(ValueError, match="positive"):
        dicom.resample(ramp, (0, 1), (1, 1))
    with pytest.raises(ValueError, match="shape"):
        dicom.resample(np.zeros(5), (1, 1), (1, 1))


def test_to_model_input():
    image = dicom.load(_path("CT_small.dcm"))
    x = dicom.to_model_input(image, "lung")
    assert x.shape == (85, 85) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    by_hand, _ = dicom.resample(dicom.window(image.hu, -600, 1500), image.spacing, (1.0, 1.0))
    np.testing.assert_allclose(x, np.clip(by_hand, 0, 1), atol=1e-6)
    np.testing.assert_array_equal(
        dicom.to_model_input(image, (-600, 1500), None), dicom.window(image.hu, -600, 1500)
    )
    cr = dicom.load(ROOT / "dicomdirtests" / "77654033" / "CR1" / "6154")
    np.testing.assert_allclose(dicom.to_model_input(cr, cr.window, None), 1 - dicom.window(cr.hu, *cr.window))
    with pytest.raises(dicom.NoGeometryError):
        dicom.to_model_input(cr, cr.window)
    with pytest.raises(ValueError, match="unknown window"):
        dicom.to_model_input(image, "liver")


def test_unforeseen_pydicom_errors_become_dicom_errors(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("something pydicom did not expect")

    monkeypatch.setattr(reader, "_floats", broken)  # reading the geometry fails unexpectedly
    with pytest.raises(dicom.MalformedError, match="KeyError") as info:
        dicom.load(_path("CT_small.dcm"))
    assert info.value.kind == "malformed" and isinstance(info.value.__cause__, KeyError)


def test_unreadable_file(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError("permission denied")

    monkeypatch.setattr(pydicom, "dcmread", denied)
    with pytest.raises(dicom.NotAFileError, match="cannot be read"):
        dicom.load(_path("CT_small.dcm"))
