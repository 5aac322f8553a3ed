"""MedMNIST: the registry of datasets, verified download and cache, and loading the official splits.

Introduced in the chapter *A first look at medical images* (``chapters/background``).
Re-exported by :mod:`medtools.data` (chapters call ``data.load``, ``data.info``, ...).

* :func:`info` / :func:`available` — the registry of MedMNIST v2/v3 datasets
  (2D sets at 28/64/128/224 pixels, 3D sets at 28/64 voxels).
* :func:`fetch` — the path of one verified file, downloaded with pooch into the
  cache folder if it is missing. The MD5 is checked after download and before
  every use.
* :func:`load` — the official train/val/test splits as NumPy arrays.

The cache folder is ``$MEDTOOLS_DATA_DIR`` if set, else the user cache directory
(``platformdirs.user_cache_dir("medtools")/medmnist``). To work offline, point
``MEDTOOLS_DATA_DIR`` at a folder holding the official ``.npz`` files; setting
``MEDTOOLS_OFFLINE=1`` turns off download attempts.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medtools.data import _registry
from medtools.data._verify import DataError, file_digest, matches

DATA_DIR_ENV = "MEDTOOLS_DATA_DIR"
OFFLINE_ENV = "MEDTOOLS_OFFLINE"
SPLITS = ("train", "val", "test")
SIZES_2D = (28, 64, 128, 224)
SIZES_3D = (28, 64)

__all__ = [
    "DATA_DIR_ENV",
    "OFFLINE_ENV",
    "SIZES_2D",
    "SIZES_3D",
    "SPLITS",
    "DataError",
    "DatasetInfo",
    "Split",
    "Splits",
    "available",
    "data_dir",
    "fetch",
    "info",
    "load",
    "md5sum",
    "read_npz",
]


@dataclass(frozen=True)
class DatasetInfo:
    """Facts about one MedMNIST dataset, from the ``medmnist`` package's ``info.py``.

    Attributes:
        name: registry key, e.g. ``"pneumoniamnist"``.
        task: ``"binary-class"``, ``"multi-class"``, ``"multi-label, binary-class"``
            or ``"ordinal-regression"``.
        n_channels: 1 (grey) or 3 (RGB).
        is_3d: True for the 28³/64³ volume datasets.
        labels: class names, index = label value.
        n_samples: official split sizes, ``{"train": …, "val": …, "test": …}``.
        licence: licence of the MedMNIST file.
        md5: ``{size: md5}`` for every official size variant.
    """

    name: str
    task: str
    n_channels: int
    is_3d: bool
    labels: tuple[str, ...]
    n_samples: dict[str, int]
    licence: str
    md5: dict[int, str] = field(repr=False)

    @property
    def sizes(self) -> tuple[int, ...]:
        """The image sizes that exist for this dataset."""
        return tuple(sorted(self.md5))

    def url(self, size: int = 28) -> str:
        """Official download URL of the file at ``size``."""
        self._check_size(size)
        return _registry.url_for(self.name, size)

    def file_name(self, size: int = 28) -> str:
        """Official file name at ``size`` (``name.npz`` or ``name_64.npz``)."""
        self._check_size(size)
        return _registry.file_name(self.name, size)

    def _check_size(self, size: int) -> None:
        if size not in self.md5:
            raise DataError(
                f"{self.name} has no size {size!r}; sizes that exist: "
                f"{', '.join(map(str, self.sizes))}."
            )


def available() -> list[str]:
    """Names of all datasets in the registry, sorted."""
    return sorted(_registry.RAW)


def info(name: str) -> DatasetInfo:
    """Registry entry for ``name`` (case-insensitive).

    Raises:
        DataError: the name is unknown; the message lists the names that exist.
    """
    key = str(name).lower().strip()
    if key not in _registry.RAW:
        raise DataError(
            f"Unknown dataset {name!r}. Datasets that exist: {', '.join(available())}."
        )
    task, n_channels, is_3d, labels, (n_tr, n_va, n_te), licence, md5 = _registry.RAW[key]
    return DatasetInfo(
        name=key,
        task=task,
        n_channels=n_channels,
        is_3d=is_3d,
        labels=tuple(labels),
        n_samples={"train": n_tr, "val": n_va, "test": n_te},
        licence=licence,
        md5=dict(md5),
    )


def data_dir() -> Path:
    """The cache folder: ``$MEDTOOLS_DATA_DIR`` or the user cache dir (not created here)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("medtools")) / "medmnist"


def md5sum(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in chunks."""
    return file_digest(path, "md5", chunk)


def _verify(path: Path, expected: str, what: str, url: str) -> None:
    if not matches(path, expected, "md5"):
        raise DataError(
            f"{path} is not the official {what} file: its MD5 is {md5sum(path)}, expected "
            f"{expected} (the file is truncated, modified or a different file). It was "
            f"not used. Delete it and run again to re-download it from {url}, or "
            f"replace it with the official file."
        )


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def fetch(name: str, size: int = 28, *, download: bool | None = None) -> Path:
    """Path of the verified official file of ``name`` at ``size``.

    If the file is not in :func:`data_dir`, it is downloaded from its official URL
    with pooch (with a progress bar), unless ``download`` is False or
    ``$MEDTOOLS_OFFLINE`` is set. The MD5 is checked after download and before
    every use.

    Args:
        name: dataset name, e.g. ``"pneumoniamnist"`` (see :func:`available`).
        size: 28 (default), 64, 128 or 224 for 2D sets; 28 or 64 for 3D sets.
        download: allow a download; default: yes unless ``$MEDTOOLS_OFFLINE`` is set.

    Raises:
        DataError: unknown name or size; file missing and cannot be downloaded
            (the message names the dataset, URL, MD5 and folder); file present but
            its MD5 does not match.
    """
    meta = info(name)
    url, fname = meta.url(size), meta.file_name(size)
    expected = meta.md5[size]
    folder = data_dir()
    path = folder / fname
    what = f"{meta.name} (size {size})"
    if not path.exists():
        if download is None:
            download = not _offline()
        how = (
            f"Download {url} (MD5 {expected}) and save it as {path}, or set "
            f"{DATA_DIR_ENV} to a folder that already holds {fname}."
        )
        if not download:
            raise DataError(f"{what} is not in the data folder {folder} and downloads are off. {how}")
        try:
            import pooch

            folder.mkdir(parents=True, exist_ok=True)
            pooch.retrieve(
                url,
                known_hash=f"md5:{expected}",
                fname=fname,
                path=folder,
                progressbar=_progressbar(),
            )
        except Exception as exc:  # network, permission, or pooch's own hash check
            raise DataError(
                f"Could not download {what} from {url} into {folder} "
                f"({type(exc).__name__}: {exc}). {how}"
            ) from exc
    _verify(path, expected, what, url)
    return path


def _progressbar() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:  # pragma: no cover - tqdm is in requirements.txt
        return False
    return True


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of a MedMNIST ``.npz`` file, refusing pickled objects.

    Returns:
        ``{"train_images": …, "train_labels": …, "val_images": …, …}``.

    Raises:
        DataError: the file is not a readable ``.npz`` archive, holds pickled
            object arrays (never loaded: unpickling can run arbitrary code), or
            lacks one of the six MedMNIST arrays.
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise DataError(
            f"{path} is not a readable .npz archive (not a zip file). "
            f"Delete it and fetch the official file again."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"{path} holds pickled object arrays; it was not loaded, because "
                f"unpickling can run arbitrary code. Official MedMNIST files hold only "
                f"plain uint8 arrays: replace it with the official file."
            ) from exc
        raise DataError(f"{path} is not a readable .npz archive ({exc}).") from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(
            f"{path} is not a readable .npz archive ({type(exc).__name__}: {exc}). "
            f"Delete it and fetch the official file again."
        ) from exc
    missing = [f"{s}_{k}" for s in SPLITS for k in ("images", "labels") if f"{s}_{k}" not in arrays]
    if missing:
        raise DataError(f"{path} lacks the MedMNIST arrays {', '.join(missing)}.")
    return arrays


@dataclass(frozen=True)
class Split:
    """One split: ``x`` images ``(N, H, W)``, ``(N, H, W, 3)`` or ``(N, D, H, W)`` uint8;
    ``y`` labels ``(N,)`` int64, or ``(N, k)`` for multi-label sets."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def __iter__(self):  # lets ``x, y = splits.train``
        return iter((self.x, self.y))


@dataclass(frozen=True)
class Splits:
    """The three official splits of one dataset, plus its registry entry."""

    info: DatasetInfo
    size: int
    train: Split
    val: Split
    test: Split

    def __getitem__(self, split: str) -> Split:
        if split not in SPLITS:
            raise KeyError(f"Unknown split {split!r}; splits are {', '.join(SPLITS)}.")
        return getattr(self, split)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}={self[s].x.shape}" for s in SPLITS)
        return f"Splits({self.info.name!r}, size={self.size}, {parts})"


def load(name: str, size: int = 28, *, download: bool | None = None) -> Splits:
    """Official train/val/test splits of a MedMNIST dataset as NumPy arrays.

    Args:
        name: dataset name, e.g. ``"pneumoniamnist"`` (see :func:`available`).
        size: image size (see :attr:`DatasetInfo.sizes`).
        download: passed to :func:`fetch`.

    Returns:
        :class:`Splits` with ``.train``, ``.val``, ``.test``; each has ``x`` uint8
        images of shape ``(N, H, W)`` (grey 2D), ``(N, H, W, 3)`` (RGB 2D) or
        ``(N, D, H, W)`` (3D), and ``y`` int64 labels ``(N,)``, or ``(N, k)`` for the
        multi-label ChestMNIST.

    Example:
        >>> splits = load("pneumoniamnist")          # doctest: +SKIP
        >>> splits.train.x.shape, splits.test.y.shape  # doctest: +SKIP
        ((4708, 28, 28), (624,))
    """
    meta = info(name)
    arrays = read_npz(fetch(meta.name, size, download=download))
    out = {}
    for s in SPLITS:
        y = arrays[f"{s}_labels"].astype(np.int64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        out[s] = Split(arrays[f"{s}_images"], y)
    return Splits(meta, size, out["train"], out["val"], out["test"])
