"""What :func:`medtools.dicom.load` returns, and display windows: :class:`DicomImage`, :class:`Window`.

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``):

* :class:`DicomImage` — one loaded image: float32 values after the modality LUT, spacing,
  geometry and the metadata a model needs;
* :class:`Window`, :data:`WINDOWS` and :func:`window` — a window (centre, width) as a linear map
  onto [0, 1].
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "WINDOWS",
    "DicomImage",
    "Window",
    "window",
]


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
