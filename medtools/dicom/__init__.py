"""DICOM files as a model needs them, and their de-identification (subpackage).

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``); the
de-identifier and its leak checker in *De-identifying DICOM files* (``chapters/deidentification``).
Chapters write ``from medtools import dicom`` and ``dicom.load(...)``: this package re-exports
the names of the reader's modules.

* :mod:`~medtools.dicom.reader` — :func:`load`: one DICOM file as a :class:`DicomImage` (the
  pixel values after the modality LUT — Hounsfield units for CT — as float32, the pixel spacing,
  the slice geometry and the metadata a model needs); :func:`survey`, :func:`outcome`,
  :func:`pydicom_test_files` — run the loader over many files;
* :mod:`~medtools.dicom.errors` — :class:`DicomError` and its subclasses, :data:`ERROR_KINDS`;
* :mod:`~medtools.dicom.image` — :class:`DicomImage`; :func:`window` and :data:`WINDOWS`, a
  window (centre, width) as a linear map onto [0, 1];
* :mod:`~medtools.dicom.transfer` — :func:`decoders` (which decoder plugins a transfer syntax
  needs and which are installed) and :func:`lossy_reasons` (why a data set's pixels may differ
  from the scanner's);
* :mod:`~medtools.dicom.geometry` — :func:`plane`, :func:`pixel_to_patient` (where the pixels are
  in the patient); :func:`canonical`, :func:`resample`, :func:`to_model_input` (from a loaded
  image to the array a network is trained on);
* :mod:`medtools.dicom.deid` — the PS3.15 Basic Profile de-identifier (subpackage; import it as
  ``from medtools.dicom import deid``);
* :mod:`medtools.dicom.leaks` — the independent leak checker of a de-identified data set; it
  imports nothing from :mod:`medtools` (``from medtools.dicom import leaks``).

Every failure of :func:`load` raises a subclass of :class:`DicomError` (a ``ValueError``)
whose ``kind`` names the failure and whose message says what is wrong and what to do; an
exception from inside pydicom or NumPy never escapes. Pixel decoding, the modality LUT and
decoder discovery are pydicom's own (pydicom 3).
"""

from __future__ import annotations

try:
    import pydicom.pixels  # noqa: F401 - pydicom 3's pixel API, which the modules below use
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "medtools.dicom needs pydicom 3: pip install -r requirements.txt "
        "(or pip install 'pydicom>=3.0' pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle)."
    ) from exc

from medtools.dicom.errors import (
    ERROR_KINDS,
    DecodeFailedError,
    DicomError,
    MalformedError,
    NoDecoderError,
    NoGeometryError,
    NoPixelDataError,
    NotAFileError,
    NotDicomError,
    NotHounsfieldError,
    TruncatedError,
    UnsupportedPhotometricError,
)
from medtools.dicom.geometry import canonical, pixel_to_patient, plane, resample, to_model_input
from medtools.dicom.image import WINDOWS, DicomImage, Window, window
from medtools.dicom.reader import load, outcome, pydicom_test_files, survey
from medtools.dicom.transfer import DecoderInfo, decoders, lossy_reasons

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
