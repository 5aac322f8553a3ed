"""DICOM files as a model needs them: values in physical units, spacing, geometry, clear errors.

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``).

* :func:`load` — one DICOM file as a :class:`DicomImage`: the pixel values after the
  modality LUT (Hounsfield units for CT) as float32, the pixel spacing, the slice geometry
  and the metadata a model needs;
* :func:`window` and :data:`WINDOWS` — a window (centre, width) as a linear map onto [0, 1];
* :func:`resample`, :func:`canonical`, :func:`to_model_input` — from a loaded image to the
  array a network is trained on (fixed orientation, window, [0, 1], fixed pixel spacing);
* :func:`plane`, :func:`pixel_to_patient` — where the pixels are in the patient;
* :func:`decoders` — which decoder plugins a transfer syntax needs and which are installed;
* :func:`lossy_reasons` — why a data set's pixels may differ from the scanner's (the Lossy Image
  Compression flag, or a transfer syntax that permits lossy compression);
* :func:`survey`, :func:`outcome`, :func:`pydicom_test_files` — run the loader over many files.

Every failure of :func:`load` raises a subclass of :class:`DicomError` (a ``ValueError``)
whose ``kind`` names the failure and whose message says what is wrong and what to do; an
exception from inside pydicom or NumPy never escapes. Pixel decoding, the modality LUT and
decoder discovery are pydicom's own (pydicom 3).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

try:
    import pydicom
    from pydicom.dataelem import RawDataElement
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, get_decoder, pixel_array
    from pydicom.pixels.utils import get_expected_length
    from pydicom.uid import HTJ2K, JPEG2000, JPEG2000MC, UID, JPEGLSNearLossless
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "medtools.dicom needs pydicom 3: pip install -r requirements.txt "
        "(or pip install 'pydicom>=3.0' pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle)."
    ) from exc

__all__ = [
    "ERROR_KINDS",
    "WINDOWS",
    "DecodeFailedError",
    "DecoderInfo",
    "DicomError",
    "DicomImage",
    "MalformedError",
    "NoDecoderError",
    "NoGeometryError",
    "NoPixelDataError",
    "NotAFileError",
    "NotDicomError",
    "NotHounsfieldError",
    "TruncatedError",
    "UnsupportedPhotometricError",
    "Window",
    "canonical",
    "decoders",
    "load",
    "lossy_reasons",
    "outcome",
    "pixel_to_patient",
    "plane",
    "pydicom_test_files",
    "resample",
    "survey",
    "to_model_input",
    "window",
]


# --------------------------------------------------------------------------- errors


class DicomError(ValueError):
    """A DICOM file that cannot be turned into an image; ``kind`` says why.

    Attributes:
        kind: a short name of the failure (one of :data:`ERROR_KINDS`, or ``"no_geometry"``).
        path: the file concerned (``None`` where no file is involved).
    """

    kind = "dicom"

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)


class NotAFileError(DicomError):
    """The path does not exist or is a directory."""

    kind = "not_a_file"


class NotDicomError(DicomError):
    """The file is not a DICOM Part 10 file (no ``DICM`` header)."""

    kind = "not_dicom"


class TruncatedError(DicomError):
    """The file ends before its last data element (or its pixel data) is complete."""

    kind = "truncated"


class NoPixelDataError(DicomError):
    """A valid DICOM file that holds no image (a DICOMDIR, a report, a plan, a waveform)."""

    kind = "no_pixel_data"


class MalformedError(DicomError):
    """Elements needed to build the image are missing or invalid."""

    kind = "malformed"


class NoDecoderError(DicomError):
    """The pixel data are compressed and no installed plugin can decode them."""

    kind = "no_decoder"


class DecodeFailedError(DicomError):
    """A decoder is installed but failed on the data (corrupt or non-conformant stream)."""

    kind = "decode_failed"


class UnsupportedPhotometricError(DicomError):
    """Colour or palette images: they have no single physical value per pixel."""

    kind = "unsupported_photometric"


class NotHounsfieldError(DicomError):
    """``require_hu=True`` but the values are not Hounsfield units (not CT, or another RescaleType)."""

    kind = "not_hu"


class NoGeometryError(DicomError):
    """The image has no patient geometry (position, orientation or spacing) to compute with."""

    kind = "no_geometry"


#: The ``kind`` of every error :func:`load` can raise, in the order :func:`survey` reports them.
ERROR_KINDS: tuple[str, ...] = tuple(
    cls.kind
    for cls in (
        NotAFileError,
        NotDicomError,
        TruncatedError,
        NoPixelDataError,
        MalformedError,
        NoDecoderError,
        DecodeFailedError,
        UnsupportedPhotometricError,
        NotHounsfieldError,
    )
)


# --------------------------------------------------------------------------- the image


class Window(NamedTuple):
    """A display window in the image's units (HU for CT): ``center`` and ``width``."""

    center: float
    width: float

    @property
    def lower(self) -> float:
        """The value mapped to 0 (black): ``center - width / 2``."""
        return self.center - self.width / 2

    @property
    def upper(self) -> float:
        """The value mapped to 1 (white): ``center + width / 2``."""
        return self.center + self.width / 2


#: Common CT display presets in HU. They are conventions, not constants: departments and
#: vendors use neighbouring values (a lung window of width 1500 or 1600, centre -600 or -500).
WINDOWS: dict[str, Window] = {
    "lung": Window(-600.0, 1500.0),
    "mediastinum": Window(50.0, 350.0),
    "bone": Window(400.0, 1800.0),
    "brain": Window(40.0, 80.0),
}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DicomImage:
    """One loaded DICOM image (see :func:`load`).

    Attributes:
        hu: float32 ``(H, W)``, or ``(frames, H, W)`` for multi-frame files: the stored values
            after the modality LUT (rescale slope and intercept). Hounsfield units for CT;
            for other modalities the unit is ``units``.
        spacing: ``(row, col)`` spacing in mm — the distance between the centres of adjacent
            rows and of adjacent columns (DICOM Pixel Spacing); ``None`` if the file has none.
        slice_thickness: nominal slice thickness in mm, or ``None``.
        modality: DICOM Modality (``"CT"``, ``"MR"``, ``"CR"``, …; ``""`` if absent).
        photometric: Photometric Interpretation (``"MONOCHROME2"`` or ``"MONOCHROME1"``).
        position: Image Position (Patient) of the first pixel of the first frame, in mm
            (x to the patient's left, y to the back, z to the head), or ``None``.
        orientation: Image Orientation (Patient): the direction cosines of a row
            (first three values) and of a column (last three), or ``None``.
        transfer_syntax: the transfer syntax's name (``"JPEG 2000 Image Compression"``).
        units: ``"HU"`` for CT, else the Rescale Type or Modality LUT Type, else
            ``"unspecified"``.
        rescale: ``(slope, intercept)`` applied to the stored values — ``(1.0, 0.0)`` when the
            file has none — or ``None`` where a Modality LUT Sequence was applied instead.
        window: the first window preset stored in the file, or ``None``.
        sop_class: the SOP class's name (``"CT Image Storage"``).
        lossy: ``True`` when the pixels may differ from the scanner's because of lossy
            compression: the file says so (Lossy Image Compression ``"01"``, now or at any
            earlier step), or its transfer syntax permits lossy compression (see
            :func:`lossy_reasons`).
        path: the file it was loaded from.
        notes: warnings pydicom issued while reading, and remarks of the loader.
    """

    hu: np.ndarray
    spacing: tuple[float, float] | None
    slice_thickness: float | None
    modality: str
    photometric: str
    position: tuple[float, float, float] | None
    orientation: tuple[float, float, float, float, float, float] | None
    transfer_syntax: str
    units: str
    rescale: tuple[float, float] | None
    window: Window | None
    sop_class: str
    lossy: bool
    path: str
    notes: tuple[str, ...] = ()

    @property
    def frames(self) -> int:
        """Number of frames (1 for a single image)."""
        return 1 if self.hu.ndim == 2 else int(self.hu.shape[0])

    @property
    def size_mm(self) -> tuple[float, float] | None:
        """Physical extent ``(height, width)`` in mm: rows × row spacing, columns × column spacing."""
        if self.spacing is None:
            return None
        h, w = self.hu.shape[-2:]
        return (h * self.spacing[0], w * self.spacing[1])

    def __repr__(self) -> str:
        shape = "×".join(str(s) for s in self.hu.shape)
        sp = (
            "unknown spacing"
            if self.spacing is None
            else f"spacing {self.spacing[0]:.3g}×{self.spacing[1]:.3g} mm"
        )
        return (
            f"DicomImage({self.modality or '?'}, {shape} float32 in {self.units}, {sp}, "
            f"{self.photometric}, {self.transfer_syntax}, {Path(self.path).name})"
        )


# --------------------------------------------------------------------------- decoders

# pydicom's decoder plugins and the modules that declare their dependencies
# (DECODER_DEPENDENCIES and is_available are the documented plugin interface).
_PLUGIN_MODULES = {
    "pylibjpeg": "pydicom.pixels.decoders.pylibjpeg",
    "pillow": "pydicom.pixels.decoders.pillow",
    "gdcm": "pydicom.pixels.decoders.gdcm",
    "pyjpegls": "pydicom.pixels.decoders.pyjpegls",
    "pydicom": "pydicom.pixels.decoders.rle",
}
# Where the pip name differs from the import name that pydicom lists.
_PIP_NAMES = {"gdcm": "python-gdcm"}


class DecoderInfo(NamedTuple):
    """What decoding a transfer syntax needs (see :func:`decoders`).

    Attributes:
        transfer_syntax: the syntax's name.
        compressed: ``True`` for encapsulated (compressed) syntaxes; native ones need no plugin.
        available: installed plugins that can decode it.
        missing: plugins that could decode it but are not installed → their pip requirements.
        implemented: ``False`` when pydicom has no decoder for the syntax at all (video, JPIP).
    """

    transfer_syntax: str
    compressed: bool
    available: tuple[str, ...]
    missing: dict[str, tuple[str, ...]]
    implemented: bool = True


def _pip(requirement: str) -> str:
    name = requirement
    for sep in "<>=!~":
        name = name.split(sep)[0]
    return requirement.replace(name, _PIP_NAMES.get(name, name), 1)


def decoders(transfer_syntax: str) -> DecoderInfo:
    """The decoder plugins for a transfer syntax UID: which are installed, which are missing.

    Args:
        transfer_syntax: a Transfer Syntax UID (``"1.2.840.10008.1.2.4.90"`` or a
            ``pydicom.uid.UID``).

    Returns:
        A :class:`DecoderInfo`; ``missing`` maps each plugin to its pip requirements
        (``"numpy"`` left out), e.g. ``{"gdcm": ("python-gdcm>=3.0.10",)}``.
    """
    uid = UID(str(transfer_syntax))
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        return DecoderInfo(uid.name, True, (), {}, implemented=False)
    if not uid.is_encapsulated:
        return DecoderInfo(uid.name, False, (), {})
    available = tuple(decoder.available_plugins)
    missing: dict[str, tuple[str, ...]] = {}
    for label, module_name in _PLUGIN_MODULES.items():
        if label in available:
            continue
        deps = getattr(importlib.import_module(module_name), "DECODER_DEPENDENCIES", {})
        if uid in deps:
            missing[label] = tuple(_pip(d) for d in deps[uid] if d != "numpy")
    return DecoderInfo(uid.name, True, available, missing)


def _pip_line(requirements: Sequence[str]) -> str:
    """``pip install ...`` with every requirement that holds a comparison quoted for the shell."""
    return "pip install " + " ".join(f"'{r}'" if any(c in r for c in "<>=!~") else r for r in requirements)


def _install_hint(info: DecoderInfo) -> str:
    if not info.missing:
        return "pydicom has no plugin for it; convert the file with a tool that can (e.g. GDCM's gdcmconv)."
    options = "; ".join(f"{label}: {_pip_line(reqs)}" for label, reqs in info.missing.items())
    return (
        f"Install one of the decoders that can ({options}); "
        "this book's requirements.txt pins pylibjpeg and its plugins."
    )


# --------------------------------------------------------------------------- lossy compression

# Transfer syntaxes whose pixel data may have been compressed lossily, by their names in
# pydicom's UID dictionary (PS3.6 Annex A). Checked against dcm4che's
# TransferSyntaxType.isLossyCompression, an independent implementation, which lists the same
# syntaxes except the retired JPEG ones it does not name:
# - the DCT-based JPEG processes (baseline, extended, spectral selection, full progression,
#   retired ones included): every JPEG syntax whose name does not say "Lossless";
# - JPEG-LS near-lossless ("Lossy (Near-Lossless)" in its registered name);
# - JPEG 2000, its Part 2 multi-component form and HTJ2K without "(Lossless Only)": they permit
#   both lossless and lossy streams, so a file in one of them may differ from the scanner's values;
# - the MPEG-2, MPEG-4 AVC/H.264 and HEVC/H.265 video syntaxes.
_LOSSY_JPEG_PREFIXES = ("JPEGBaseline", "JPEGExtended", "JPEGSpectralSelection", "JPEGFullProgression")
_LOSSY_SYNTAXES = frozenset({JPEGLSNearLossless, JPEG2000, JPEG2000MC, HTJ2K})


def _is_lossy_syntax(uid: UID) -> bool:
    """True for a transfer syntax that permits lossy compression (see the list above)."""
    keyword = uid.keyword
    return uid in _LOSSY_SYNTAXES or keyword.startswith(_LOSSY_JPEG_PREFIXES + ("MPEG", "HEVC"))


def lossy_reasons(source: Any) -> tuple[str, ...]:
    """Why the pixel values of a data set may differ from the scanner's: every sign of lossy compression.

    Two signs count:

    * Lossy Image Compression (0028,2110) is ``"01"``: the image was compressed lossily, now or
      at an earlier step (the flag stays set when the image is later stored uncompressed);
    * the transfer syntax permits lossy compression: JPEG baseline or extended, JPEG-LS
      near-lossless, JPEG 2000 and HTJ2K other than their "Lossless Only" syntaxes, and the
      MPEG and HEVC video syntaxes. An encoder need not set the flag (pydicom's
      ``Dataset.compress`` does not), so the syntax is checked as well.

    Args:
        source: a DICOM file's path, or a ``pydicom.Dataset`` (with ``file_meta`` for the
            transfer syntax).

    Returns:
        One sentence per sign found; empty when neither sign is present (the values are then
        the scanner's, as far as the file can tell).

    Raises:
        DicomError: the path cannot be read as DICOM.
    """
    if isinstance(source, str | os.PathLike):
        p = Path(source)
        if not p.is_file():
            raise NotAFileError(f"{p}: no such file.", path=p)
        ds = _read(p, p.name)
    else:
        ds = source
    reasons = []
    if str(ds.get("LossyImageCompression", "") or "").strip() == "01":
        value = ds.get("LossyImageCompressionRatio")
        ratio = _float(value[0] if isinstance(value, Sequence) and not isinstance(value, str) else value)
        reasons.append(
            "Lossy Image Compression is 01" + (f" (ratio about {ratio:.0f}:1)" if ratio else "")
        )
    meta = getattr(ds, "file_meta", None)
    tsyntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if tsyntax:
        uid = UID(str(tsyntax))
        if _is_lossy_syntax(uid):
            reasons.append(f"the transfer syntax {uid.name} permits lossy compression")
    return tuple(reasons)


# --------------------------------------------------------------------------- loading


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


def _build(ds: Any, p: Path, name: str, plugin: str, require_hu: bool, notes: list[str]) -> DicomImage:
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

    meta = getattr(ds, "file_meta", None)
    sop_uid = ds.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta is not None else None)
    sop_class = UID(str(sop_uid)).name if sop_uid else ""
    modality = str(ds.get("Modality", "") or "")

    if pixel_keyword is None:
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

    try:
        source, rescale, units = _rescale_and_units(ds, modality)
    except MalformedError as err:
        raise MalformedError(f"{name}: {err}", path=p) from None

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
        hu = np.ascontiguousarray(values, dtype=np.float32)
    except Exception as exc:
        raise MalformedError(f"{name}: the modality LUT cannot be applied ({exc}).", path=p) from None

    if hu.ndim not in (2, 3):
        raise MalformedError(f"{name}: decoded to shape {hu.shape}, not (H, W) or (frames, H, W).", path=p)
    if require_hu and units != "HU":
        raise NotHounsfieldError(
            f"{name}: Modality {modality or '?'} with values in {units}, not Hounsfield units, so HU windows "
            "(lung, bone, ...) do not apply. Load it with require_hu=False and normalise it per image or "
            "per scanner instead.",
            path=p,
        )

    spacing = _floats(_attr(ds, "PixelSpacing", "PixelMeasuresSequence") or (), 2)
    if spacing is not None and min(spacing) <= 0:
        spacing = None
    if spacing is None:
        if "ImagerPixelSpacing" in ds:
            notes.append("no PixelSpacing; ImagerPixelSpacing is at the detector, not in the patient")
        else:
            notes.append("no PixelSpacing: the physical size of a pixel is unknown")
    thickness = _float(_attr(ds, "SliceThickness", "PixelMeasuresSequence"))
    position = _floats(_attr(ds, "ImagePositionPatient", "PlanePositionSequence") or (), 3)
    orientation = _floats(_attr(ds, "ImageOrientationPatient", "PlaneOrientationSequence") or (), 6)
    file_window = None
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is not None and width is not None:
        c = _float(center[0] if isinstance(center, Sequence) and not isinstance(center, str) else center)
        w = _float(width[0] if isinstance(width, Sequence) and not isinstance(width, str) else width)
        if c is not None and w is not None and w > 0:
            file_window = Window(c, w)
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

    return DicomImage(
        hu=hu,
        spacing=None if spacing is None else (spacing[0], spacing[1]),
        slice_thickness=thickness,
        modality=modality,
        photometric=photometric,
        position=None if position is None else (position[0], position[1], position[2]),
        orientation=orientation,  # type: ignore[arg-type]
        transfer_syntax=tsyntax.name,
        units=units,
        rescale=rescale,
        window=file_window,
        sop_class=sop_class,
        lossy=bool(reasons),
        path=str(p),
    )


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


# --------------------------------------------------------------------------- intensities


def window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map values linearly onto [0, 1]: ``center - width/2`` → 0, ``center + width/2`` → 1, clipped.

    Args:
        hu: any shape, any real dtype (HU for CT).
        center: the window centre (level), in the units of ``hu``.
        width: the window width, > 0.

    Returns:
        float32 array of the shape of ``hu``, in [0, 1].

    Raises:
        ValueError: ``width`` is not positive or ``hu`` is not numeric.
    """
    if not width > 0:
        raise ValueError(f"window width must be positive, got {width!r}.")
    arr = np.asarray(hu)
    if not (np.issubdtype(arr.dtype, np.number) and not np.iscomplexobj(arr)):
        raise ValueError(f"window needs a real numeric array, got dtype {arr.dtype}.")
    lower = center - width / 2
    out = (arr.astype(np.float64) - lower) / width
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _as_window(spec: str | Window | tuple[float, float]) -> Window:
    if isinstance(spec, str):
        try:
            return WINDOWS[spec]
        except KeyError:
            raise ValueError(f"unknown window {spec!r}; named windows: {', '.join(WINDOWS)}.") from None
    center, width = spec
    return Window(float(center), float(width))


# --------------------------------------------------------------------------- geometry


def _geometry(image: DicomImage) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
    if image.position is None or image.orientation is None or image.spacing is None:
        missing = [
            n
            for n, v in (
                ("ImagePositionPatient", image.position),
                ("ImageOrientationPatient", image.orientation),
                ("PixelSpacing", image.spacing),
            )
            if v is None
        ]
        raise NoGeometryError(
            f"{Path(image.path).name}: no {', '.join(missing)}, so its pixels cannot be placed in the patient "
            "(projection radiographs and secondary captures have no slice geometry).",
            path=image.path,
        )
    o = np.asarray(image.orientation, dtype=np.float64)
    return np.asarray(image.position, dtype=np.float64), o[:3], o[3:], image.spacing


def plane(orientation: Sequence[float]) -> tuple[str, float]:
    """The anatomical plane nearest to an Image Orientation (Patient), and the tilt from it.

    Args:
        orientation: six direction cosines, row direction then column direction.

    Returns:
        ``(name, tilt)``: ``"axial"``, ``"coronal"`` or ``"sagittal"``, and the angle in degrees
        between the slice normal and that plane's normal (0 for a slice exactly in the plane).

    Raises:
        ValueError: not six numbers, or the two directions are not orthogonal unit vectors.
    """
    o = np.asarray(orientation, dtype=np.float64)
    if o.shape != (6,) or not np.all(np.isfinite(o)):
        raise ValueError(f"orientation must be six finite numbers, got {orientation!r}.")
    row, col = o[:3], o[3:]
    if not (
        np.isclose(row @ row, 1, atol=1e-3) and np.isclose(col @ col, 1, atol=1e-3) and abs(row @ col) < 1e-3
    ):
        raise ValueError(f"orientation {tuple(o)} is not two orthogonal unit vectors.")
    normal = np.cross(row, col)
    axis = int(np.argmax(np.abs(normal)))
    tilt = float(np.degrees(np.arccos(np.clip(abs(normal[axis]) / np.linalg.norm(normal), 0, 1))))
    return ("sagittal", "coronal", "axial")[axis], tilt


def pixel_to_patient(image: DicomImage, rows: np.ndarray | float, cols: np.ndarray | float) -> np.ndarray:
    """Patient coordinates (mm) of pixel centres: ``S + X Δc c + Y Δr r`` (DICOM PS3.3 C.7.6.2.1.1).

    Args:
        image: a loaded image with position, orientation and spacing.
        rows, cols: pixel indices (0-based), broadcastable against each other.

    Returns:
        float64 array of shape ``broadcast(rows, cols).shape + (3,)``: x (to the patient's
        left), y (to the back), z (to the head), in mm, for the first frame.

    Raises:
        NoGeometryError: the image lacks position, orientation or spacing.
    """
    s, x, y, (dr, dc) = _geometry(image)
    r, c = np.broadcast_arrays(np.asarray(rows, dtype=np.float64), np.asarray(cols, dtype=np.float64))
    return s + c[..., None] * dc * x + r[..., None] * dr * y


#: Display convention per plane: direction of increasing column, of increasing row
#: (patient coordinates: +x left, +y posterior, +z head).
_CANONICAL = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # patient's left on the image right, front at the top
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),  # patient's left on the right, head at the top
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),  # front on the left, head at the top
}


def canonical(image: DicomImage) -> DicomImage:
    """Transpose and flip the in-plane axes into the display convention of the nearest plane.

    Axial: columns run to the patient's left and rows to the back (the radiological view:
    the patient's left on the image's right); coronal: columns to the left, rows to the feet;
    sagittal: columns to the back, rows to the feet. Position, orientation and spacing are
    updated so that every pixel keeps its place in the patient; an oblique slice is brought
    to the nearest such view, not resampled.

    Returns:
        A new :class:`DicomImage` (``hu`` of shape ``(H, W)`` or ``(W, H)``, frames kept).

    Raises:
        NoGeometryError: the image lacks position, orientation or spacing.
    """
    s, x, y, (dr, dc) = _geometry(image)
    name, _ = plane(image.orientation)  # type: ignore[arg-type]
    want_col, want_row = (np.asarray(v) for v in _CANONICAL[name])
    hu = image.hu
    if abs(x @ want_col) < abs(y @ want_col):  # rows run where columns should: transpose
        hu = np.swapaxes(hu, -1, -2)
        x, y, dr, dc = y, x, dc, dr
    h, w = hu.shape[-2:]
    if x @ want_col < 0:
        hu = hu[..., ::-1]
        s = s + x * dc * (w - 1)
        x = -x
    if y @ want_row < 0:
        hu = hu[..., ::-1, :]
        s = s + y * dr * (h - 1)
        y = -y
    return dataclasses.replace(
        image,
        hu=np.ascontiguousarray(hu),
        spacing=(dr, dc),
        position=(float(s[0]), float(s[1]), float(s[2])),
        orientation=tuple(float(v) for v in (*x, *y)),  # type: ignore[arg-type]
    )


def resample(
    array: np.ndarray,
    spacing: Sequence[float],
    new_spacing: Sequence[float],
    *,
    order: int = 1,
) -> tuple[np.ndarray, tuple[float, float]]:
    """Resample the last two axes from ``spacing`` to (about) ``new_spacing`` mm with ``scipy.ndimage.zoom``.

    Each axis of ``n`` pixels becomes ``m = round(n * spacing / new_spacing)`` pixels covering the
    same physical extent (pixel edges aligned, ``grid_mode=True``), so the spacing actually
    obtained is ``spacing * n / m``, returned alongside.

    Args:
        array: ``(H, W)`` or ``(frames, H, W)``; frames are resampled independently.
        spacing: current ``(row, col)`` spacing in mm.
        new_spacing: wanted ``(row, col)`` spacing in mm.
        order: spline order (0 nearest — for label maps; 1 linear — for intensities).

    Returns:
        ``(resampled float32 array, (row, col) spacing obtained)``.
    """
    from scipy import ndimage

    arr = np.asarray(array, dtype=np.float32)
    if arr.ndim not in (2, 3):
        raise ValueError(f"array must be (H, W) or (frames, H, W), got shape {arr.shape}.")
    sp = np.asarray(spacing, dtype=np.float64)
    new = np.asarray(new_spacing, dtype=np.float64)
    if sp.shape != (2,) or new.shape != (2,) or np.any(sp <= 0) or np.any(new <= 0):
        raise ValueError(
            f"spacings must be two positive numbers, got {tuple(spacing)} and {tuple(new_spacing)}."
        )
    n = np.asarray(arr.shape[-2:])
    m = np.maximum(1, np.rint(n * sp / new)).astype(int)
    zoom = (1.0,) * (arr.ndim - 2) + tuple(m / n)
    out = ndimage.zoom(arr, zoom, order=order, mode="nearest", grid_mode=True)
    got = sp * n / m
    return out.astype(np.float32), (float(got[0]), float(got[1]))


def to_model_input(
    image: DicomImage,
    window_spec: str | Window | tuple[float, float],
    spacing: Sequence[float] | None = (1.0, 1.0),
    *,
    orient: bool = True,
) -> np.ndarray:
    """From a loaded image to a network's input: orientation, window, [0, 1], pixel spacing.

    Steps: :func:`canonical` (when ``orient`` and the image has geometry), :func:`window`
    (values → [0, 1]; inverted for MONOCHROME1 so that 1 is white as displayed),
    :func:`resample` to ``spacing`` mm (``None`` keeps the pixel grid), clipped to [0, 1].

    Args:
        image: from :func:`load`.
        window_spec: a name of :data:`WINDOWS`, a :class:`Window` or ``(center, width)``.
        spacing: target ``(row, col)`` spacing in mm, or ``None``.
        orient: bring the image to the display convention first.

    Returns:
        float32 ``(H', W')`` or ``(frames, H', W')`` in [0, 1].

    Raises:
        NoGeometryError: ``spacing`` is given but the image has no pixel spacing.
        ValueError: an unknown window name.
    """
    win = _as_window(window_spec)
    if orient and image.position is not None and image.orientation is not None and image.spacing is not None:
        image = canonical(image)
    x = window(image.hu, win.center, win.width)
    if image.photometric == "MONOCHROME1":
        x = 1.0 - x
    if spacing is None:
        return x
    if image.spacing is None:
        raise NoGeometryError(
            f"{Path(image.path).name}: no PixelSpacing, so it cannot be resampled to {tuple(spacing)} mm; "
            "pass spacing=None to keep its pixel grid.",
            path=image.path,
        )
    out, _ = resample(x, image.spacing, spacing, order=1)
    return np.clip(out, 0.0, 1.0)
