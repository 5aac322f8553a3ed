"""The errors of :func:`medtools.dicom.load`: :class:`DicomError` and one subclass per failure.

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``). Every
failure of :func:`~medtools.dicom.load` raises a subclass of :class:`DicomError` (a
``ValueError``) whose ``kind`` names the failure (:data:`ERROR_KINDS`) and whose message says
what is wrong and what to do.
"""

from __future__ import annotations

import os

__all__ = [
    "ERROR_KINDS",
    "DecodeFailedError",
    "DicomError",
    "MalformedError",
    "NoDecoderError",
    "NoGeometryError",
    "NoPixelDataError",
    "NotAFileError",
    "NotDicomError",
    "NotHounsfieldError",
    "TruncatedError",
    "UnsupportedPhotometricError",
]


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
