"""Load one DICOM file as a model needs it (:func:`load`), or many (:func:`survey`).

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``):

* :func:`load` — one DICOM file as a :class:`~medtools.dicom.image.DicomImage`: the pixel
  values after the modality LUT (Hounsfield units for CT) as float32, the pixel spacing, the
  slice geometry and the metadata a model needs;
* :func:`survey`, :func:`outcome`, :func:`pydicom_test_files` — run the loader over many files.

Every failure of :func:`load` raises a subclass of :class:`~medtools.dicom.errors.DicomError`
(a ``ValueError``) whose ``kind`` names the failure and whose message says what is wrong and
what to do; an exception from inside pydicom or NumPy never escapes. Pixel decoding and the
modality LUT are pydicom's own (pydicom 3).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, pixel_array
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import UID

from medtools.dicom._dataset import _attr, _float, _floats, _is_cut_short, _read, _require_int
from medtools.dicom.errors import (
    ERROR_KINDS,
    DecodeFailedError,
    DicomError,
    MalformedError,
    NoDecoderError,
    NoPixelDataError,
    NotAFileError,
    NotHounsfieldError,
    TruncatedError,
    UnsupportedPhotometricError,
)
from medtools.dicom.image import DicomImage, Window
from medtools.dicom.transfer import DecoderInfo, _install_hint, _pip_line, decoders, lossy_reasons

__all__ = [
    "load",
    "outcome",
    "pydicom_test_files",
    "survey",
]


def _rescale_and_units(ds: Any, modality: str) -> tuple[Any, tuple[float, float] | None, str]:
    """Where the modality LUT comes from: ``("dataset" | ("groups", slope, intercept) | None, rescale, units)``."""
    if ds.get("ModalityLUTSequence"):
        lut_type = str(ds.ModalityLUTSequence[0].get("ModalityLUTType", "") or "")
        return "dataset", None, _unit_name(lut_type, modality)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope, intercept = _float(ds.RescaleSlope), _float(ds.RescaleIntercept)
        if slope is None or intercept is None or slope == 0:
            raise MalformedError(
                f"invalid rescale: RescaleSlope {ds.RescaleSlope!r}, RescaleIntercept {ds.RescaleIntercept!r}."
            )
        return "dataset", (slope, intercept), _unit_name(str(ds.get("RescaleType", "") or ""), modality)
    # Enhanced (multi-frame) objects keep the rescale in a functional group.
    slope, intercept = (
        _attr(ds, "RescaleSlope", "PixelValueTransformationSequence"),
        _attr(ds, "RescaleIntercept", "PixelValueTransformationSequence"),
    )
    if slope is not None and intercept is not None:
        s, i = _float(slope), _float(intercept)
        if s is None or i is None or s == 0:
            raise MalformedError(
                f"invalid rescale in the functional groups: slope {slope!r}, intercept {intercept!r}."
            )
        rtype = _attr(ds, "RescaleType", "PixelValueTransformationSequence")
        return ("groups", s, i), (s, i), _unit_name(str(rtype or ""), modality)
    return None, (1.0, 0.0), "unspecified"


def _unit_name(rescale_type: str, modality: str) -> str:
    rescale_type = rescale_type.strip().upper()
    if rescale_type in ("", "US"):  # US = unspecified (PS3.3 C.11.1.1.2)
        return "HU" if modality == "CT" else "unspecified"
    return rescale_type


def load(
    path: str | os.PathLike[str],
    *,
    require_hu: bool = False,
    decoding_plugin: str = "",
) -> DicomImage:
    """Load one DICOM file as float32 values after the modality LUT, with its geometry.

    Args:
        path: a DICOM Part 10 file (128-byte preamble and ``DICM``).
        require_hu: raise :class:`NotHounsfieldError` unless the values are Hounsfield units
            (CT, or an explicit Rescale Type of ``HU``).
        decoding_plugin: use only this pydicom decoder plugin (``"pylibjpeg"``, ``"pillow"``,
            ``"gdcm"``, ``"pyjpegls"``); the default tries every installed one.

    Returns:
        A :class:`DicomImage`; ``hu`` is float32 ``(H, W)`` or ``(frames, H, W)``.

    Raises:
        DicomError: one of its subclasses (see :data:`ERROR_KINDS`) — never an exception
            from inside pydicom or NumPy.
    """
    p = Path(path)
    name = p.name or str(p)
    if not p.exists():
        raise NotAFileError(f"{p}: no such file.", path=p)
    if not p.is_file():
        raise NotAFileError(
            f"{p}: a directory, not a file. Load the files inside it one by one "
            "(e.g. sorted(p for p in Path(folder).rglob('*') if p.is_file())).",
            path=p,
        )

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = _read(p, name)
            image = _build(ds, p, name, decoding_plugin, require_hu, notes)
        except DicomError as err:
            err.path = str(p)
            raise
        except MemoryError:
            raise
        except Exception as exc:  # a safety net: something in the file this module does not foresee
            raise MalformedError(
                f"{name}: pydicom could not interpret the file ({type(exc).__name__}: {exc}). "
                "Inspect it with pydicom.dcmread(path) and check the image elements (group 0028).",
                path=p,
            ) from exc
    for w in caught:
        text = str(w.message).strip()
        if text and text not in notes:
            notes.append(text)
    return dataclasses.replace(image, notes=tuple(notes))


def _build(ds: Any, p: Path, name: str, plugin: str, require_hu: bool, notes: list[str]) -> DicomImage:
    """The checks and steps of :func:`load` after reading, in order; each stage raises its own DicomError."""
    pixel_keyword = _check_complete(ds, p, name)
    meta = getattr(ds, "file_meta", None)
    sop_uid = ds.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta is not None else None)
    sop_class = UID(str(sop_uid)).name if sop_uid else ""
    modality = str(ds.get("Modality", "") or "")
    _check_has_pixels(ds, p, name, pixel_keyword, sop_class, modality)
    tsyntax = _transfer_syntax(ds, p, name)
    photometric = _check_image_elements(ds, p, name)
    info = _check_decoder(ds, p, name, tsyntax, plugin, pixel_keyword)
    try:
        source, rescale, units = _rescale_and_units(ds, modality)
    except MalformedError as err:
        raise MalformedError(f"{name}: {err}", path=p) from None
    hu = _decode(ds, p, name, plugin, info, tsyntax, source)
    _check_values(hu, p, name, require_hu, units, modality)
    spacing = _spacing(ds, notes)
    position = _floats(_attr(ds, "ImagePositionPatient", "PlanePositionSequence") or (), 3)
    reasons = _remarks(ds, notes, source, modality)
    return DicomImage(
        hu=hu,
        spacing=None if spacing is None else (spacing[0], spacing[1]),
        slice_thickness=_float(_attr(ds, "SliceThickness", "PixelMeasuresSequence")),
        modality=modality,
        photometric=photometric,
        position=None if position is None else (position[0], position[1], position[2]),
        orientation=_floats(_attr(ds, "ImageOrientationPatient", "PlaneOrientationSequence") or (), 6),  # type: ignore[arg-type]
        transfer_syntax=tsyntax.name,
        units=units,
        rescale=rescale,
        window=_file_window(ds),
        sop_class=sop_class,
        lossy=bool(reasons),
        path=str(p),
    )


def _check_complete(ds: Any, p: Path, name: str) -> str | None:
    """The keyword of the pixel data element (``None`` without one); :class:`TruncatedError` if cut short."""
    pixel_keyword = next(
        (k for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData") if k in ds), None
    )
    if _is_cut_short(ds):
        last = ds.get_item(list(ds.keys())[-1])
        what = (
            "its pixel data" if pixel_keyword and last.tag == ds[pixel_keyword].tag else f"element {last.tag}"
        )
        raise TruncatedError(
            f"{name}: the file is truncated — {what} should hold {last.length} bytes but the file ends after "
            f"{len(last.value)}. Copy it again from its source (PACS, archive); a partial image cannot be recovered.",
            path=p,
        )
    return pixel_keyword


def _check_has_pixels(
    ds: Any, p: Path, name: str, pixel_keyword: str | None, sop_class: str, modality: str
) -> None:
    """:class:`NoPixelDataError`, saying what the file is instead, when it holds no pixel data."""
    if pixel_keyword is not None:
        return
    if len(ds) == 0:
        what = "no data elements after its file meta header (empty, or truncated inside the header)"
    elif "DirectoryRecordSequence" in ds:
        what = "a DICOMDIR, an index of other files: read it with pydicom.fileset.FileSet and load the files it lists"
    elif sop_class.endswith("Image Storage"):
        what = (
            f"its SOP class, {sop_class}, requires a Pixel Data element, which is missing: "
            "the file was truncated or stripped of its pixels"
        )
    else:
        kind = f"its SOP class is {sop_class}" if sop_class else "it has no SOP class"
        what = f"no Pixel Data element; {kind}" + (f" (Modality {modality})" if modality else "")
    raise NoPixelDataError(f"{name}: holds no image — {what}.", path=p)


def _transfer_syntax(ds: Any, p: Path, name: str) -> UID:
    """The file meta header's Transfer Syntax UID; :class:`MalformedError` if absent or unknown."""
    meta = getattr(ds, "file_meta", None)
    tsyntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if not tsyntax:
        raise MalformedError(
            f"{name}: the file meta header has no Transfer Syntax UID (0002,0010), so the pixel bytes cannot "
            "be interpreted. Set ds.file_meta.TransferSyntaxUID to the right syntax if you know it.",
            path=p,
        )
    tsyntax = UID(str(tsyntax))
    if not tsyntax.is_transfer_syntax:
        raise MalformedError(f"{name}: {str(tsyntax)!r} is not a known Transfer Syntax UID.", path=p)
    return tsyntax


def _check_image_elements(ds: Any, p: Path, name: str) -> str:
    """The Photometric Interpretation, once the image elements are valid integers and it is monochrome.

    Raises :class:`MalformedError` for a missing or invalid element, and
    :class:`UnsupportedPhotometricError` for a colour or palette image.
    """
    for keyword in ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel"):
        _require_int(ds, keyword, name, low=1)
    _require_int(ds, "PixelRepresentation", name)
    if "NumberOfFrames" in ds:
        _require_int(ds, "NumberOfFrames", name, low=1)

    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip()
    if not photometric:
        raise MalformedError(f"{name}: PhotometricInterpretation is missing.", path=p)
    if photometric not in ("MONOCHROME1", "MONOCHROME2") or int(ds.SamplesPerPixel) != 1:
        advice = {
            "PALETTE COLOR": "its pixels are indices into a colour table; "
            "pydicom.pixels.apply_color_lut(arr, ds) turns them into RGB",
        }.get(photometric, "decode it with pydicom.pixels.pixel_array(path), which returns RGB")
        raise UnsupportedPhotometricError(
            f"{name}: photometric interpretation {photometric}"
            + (f" ({int(ds.SamplesPerPixel)} samples per pixel)" if int(ds.SamplesPerPixel) > 1 else "")
            + f" is a colour image, with no single physical value per pixel to express in HU; {advice}. "
            "Treat it as a photograph (e.g. ultrasound, endoscopy), not as a CT or MR slice.",
            path=p,
        )
    return photometric


def _check_decoder(
    ds: Any, p: Path, name: str, tsyntax: UID, plugin: str, pixel_keyword: str | None
) -> DecoderInfo:
    """What decoding needs (:func:`decoders`); :class:`NoDecoderError` when no usable decoder is installed.

    Native pixel data need no decoder; they are checked for length instead
    (:class:`TruncatedError` when they are shorter than the image elements say).
    """
    info = decoders(tsyntax)
    if info.compressed:
        if not info.implemented:
            raise NoDecoderError(
                f"{name}: pixel data in {tsyntax.name}, for which pydicom has no decoder at all. "
                "Convert the file to an uncompressed transfer syntax with another tool (e.g. GDCM's gdcmconv).",
                path=p,
            )
        if plugin and plugin not in info.available:
            if plugin in info.missing:
                reqs = _pip_line(info.missing[plugin])
                raise NoDecoderError(
                    f"{name}: pixel data in {tsyntax.name}; the decoder '{plugin}' you asked for is not installed "
                    f"({reqs}). Installed decoders for it: {', '.join(info.available) or 'none'}.",
                    path=p,
                )
            raise NoDecoderError(
                f"{name}: '{plugin}' is not a decoder for {tsyntax.name}; "
                f"installed ones: {', '.join(info.available) or 'none'}. {_install_hint(info)}",
                path=p,
            )
        if not info.available:
            raise NoDecoderError(
                f"{name}: the pixel data are compressed ({tsyntax.name}) and no installed decoder can read them. "
                + _install_hint(info),
                path=p,
            )
    elif pixel_keyword == "PixelData":
        try:
            expected = int(get_expected_length(ds, "bytes"))
            actual = len(ds.PixelData)
        except Exception as exc:
            raise MalformedError(f"{name}: the image elements are inconsistent ({exc}).", path=p) from None
        if actual < expected:
            raise TruncatedError(
                f"{name}: the pixel data hold {actual} bytes but Rows × Columns × frames × bits need {expected}: "
                "the file is truncated or its image elements are wrong. Copy it again from its source.",
                path=p,
            )
    return info


def _decode(ds: Any, p: Path, name: str, plugin: str, info: DecoderInfo, tsyntax: UID, source: Any) -> np.ndarray:
    """The stored values decoded and passed through the modality LUT: float32 ``(H, W)`` or ``(frames, H, W)``.

    ``source`` says where the LUT comes from (see :func:`_rescale_and_units`). Raises
    :class:`DecodeFailedError` when an installed decoder fails on compressed data, else
    :class:`MalformedError`.
    """
    try:
        arr = pixel_array(ds, decoding_plugin=plugin) if plugin else ds.pixel_array
    except Exception as exc:
        message = " ".join(str(exc).split())
        if info.compressed:
            raise DecodeFailedError(
                f"{name}: the {tsyntax.name} pixel data could not be decoded by the installed decoders "
                f"({', '.join(info.available)}): {message}. The stream is corrupt or uses a variant these "
                "decoders reject; try GDCM (pip install python-gdcm), or ask for an uncompressed copy.",
                path=p,
            ) from None
        raise MalformedError(f"{name}: pydicom cannot build the pixel array: {message}.", path=p) from None

    try:
        if source == "dataset":
            values = apply_modality_lut(arr, ds)
        elif isinstance(source, tuple):
            values = arr.astype(np.float64) * source[1] + source[2]
        else:
            values = arr
        return np.ascontiguousarray(values, dtype=np.float32)
    except Exception as exc:
        raise MalformedError(f"{name}: the modality LUT cannot be applied ({exc}).", path=p) from None


def _check_values(hu: np.ndarray, p: Path, name: str, require_hu: bool, units: str, modality: str) -> None:
    """:class:`MalformedError` for a shape other than 2-D or 3-D; :class:`NotHounsfieldError` as asked."""
    if hu.ndim not in (2, 3):
        raise MalformedError(f"{name}: decoded to shape {hu.shape}, not (H, W) or (frames, H, W).", path=p)
    if require_hu and units != "HU":
        raise NotHounsfieldError(
            f"{name}: Modality {modality or '?'} with values in {units}, not Hounsfield units, so HU windows "
            "(lung, bone, ...) do not apply. Load it with require_hu=False and normalise it per image or "
            "per scanner instead.",
            path=p,
        )


def _spacing(ds: Any, notes: list[str]) -> tuple[float, ...] | None:
    """The positive ``(row, col)`` Pixel Spacing in mm, else ``None`` with a note saying why."""
    spacing = _floats(_attr(ds, "PixelSpacing", "PixelMeasuresSequence") or (), 2)
    if spacing is not None and min(spacing) <= 0:
        spacing = None
    if spacing is None:
        if "ImagerPixelSpacing" in ds:
            notes.append("no PixelSpacing; ImagerPixelSpacing is at the detector, not in the patient")
        else:
            notes.append("no PixelSpacing: the physical size of a pixel is unknown")
    return spacing


def _file_window(ds: Any) -> Window | None:
    """The first window preset stored in the file, or ``None`` (absent, or not a positive width)."""
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    c = _float(center[0] if isinstance(center, Sequence) and not isinstance(center, str) else center)
    w = _float(width[0] if isinstance(width, Sequence) and not isinstance(width, str) else width)
    if c is not None and w is not None and w > 0:
        return Window(c, w)
    return None


def _remarks(ds: Any, notes: list[str], source: Any, modality: str) -> tuple[str, ...]:
    """Append the loader's remarks (padding, lossy compression, dose, CT units) to ``notes``.

    Returns:
        :func:`lossy_reasons` of ``ds``.
    """
    if "PixelPaddingValue" in ds:
        notes.append(
            f"PixelPaddingValue {ds.PixelPaddingValue}: such stored values mark pixels outside the scan"
        )
    reasons = lossy_reasons(ds)
    if reasons:
        notes.append("lossy compression (" + "; ".join(reasons) + "): the values may differ from the scanner's")
    if "DoseGridScaling" in ds:
        notes.append(
            f"RT dose grid: values × DoseGridScaling ({ds.DoseGridScaling}) give dose in "
            f"{ds.get('DoseUnits', 'GY')}"
        )
    if source is None and modality == "CT":
        notes.append("CT without RescaleSlope/RescaleIntercept: values are the stored ones, units unknown")
    return reasons


# --------------------------------------------------------------------------- many files


def pydicom_test_files() -> list[Path]:
    """Every file of pydicom's own test data shipped inside the package: its ``data/test_files``
    folder with its subfolders (directories left out), sorted.

    This reads the installed package only. pydicom's ``get_testdata_files()`` is not used on
    purpose: it also tries to download pydicom's external test data from the internet (about a
    hundred more files), which an offline machine cannot do and a reader should not have to.
    """
    root = Path(pydicom.__file__).parent / "data" / "test_files"
    return sorted(f for f in root.rglob("*") if f.is_file())


def outcome(path: str | os.PathLike[str], **kwargs: Any) -> str:
    """``"loaded"`` if :func:`load` succeeds, else the ``kind`` of the :class:`DicomError` it raised.

    Any other exception propagates: that would be a bug of :func:`load`.
    """
    try:
        load(path, **kwargs)
    except DicomError as err:
        return err.kind
    return "loaded"


def survey(paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> dict[str, int]:
    """Run :func:`load` over ``paths`` and count the outcomes.

    Returns:
        ``{"loaded": n, "not_a_file": n, "not_dicom": n, ...}`` with every kind of
        :data:`ERROR_KINDS` present (zero where none occurred), plus ``"total"``.
    """
    counts = dict.fromkeys(("loaded", *ERROR_KINDS), 0)
    for path in paths:
        counts[outcome(path, **kwargs)] += 1
    counts["total"] = sum(counts.values())
    return counts
