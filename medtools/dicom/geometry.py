"""Where the pixels are in the patient, and from a loaded image to a network's input.

Introduced in the chapter *Medical images as they arrive: DICOM* (``chapters/dicom``):

* :func:`plane`, :func:`pixel_to_patient` — the anatomical plane of a slice and the patient
  coordinates of its pixels;
* :func:`canonical`, :func:`resample`, :func:`to_model_input` — from a loaded image to the
  array a network is trained on (fixed orientation, window, [0, 1], fixed pixel spacing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medtools.dicom.errors import NoGeometryError
from medtools.dicom.image import DicomImage, Window, _as_window, window

__all__ = [
    "canonical",
    "pixel_to_patient",
    "plane",
    "resample",
    "to_model_input",
]


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
