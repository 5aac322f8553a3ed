"""medtools: the small helper package of *Deep Learning for Medical Image Analysis*.

One module (or subpackage) per concern; each module's docstring names the chapter that
introduces it.

* :mod:`medtools.data` — every dataset: MedMNIST registry, verified download/cache and loading;
  CHASE_DB1 (``data.chase``); synthetic phantoms (``data.phantoms``); augmentation; tf.data.
* :mod:`medtools.plots` — the book's figures (image grids, class balance, volume slices, ROC/PR,
  reliability, confusion matrices) and the widgets for the threshold and the slices of a volume.
* :mod:`medtools.book` — chapter plumbing (setup cell, glue, showing source, Markdown tables).
* :mod:`medtools.reference` — from-scratch NumPy layers, losses and optimisers (subpackage).
* :mod:`medtools.models` — every model the book trains (the only place one is built), and parameter/FLOP
  counting (subpackage).
* :mod:`medtools.metrics` — metrics and the evaluation of a binary classifier (subpackage).
* :mod:`medtools.stats` — the reporting idiom: mean ± sd over seeds, paired differences with intervals.
* :mod:`medtools.train` — seeding, determinism, and a cache of trained weights keyed on the data.
* :mod:`medtools.callbacks` — per-epoch validation scores, the best epoch, a progress bar.
* :mod:`medtools.benchmark` — the command line that trains and evaluates the book's three tasks.
* :mod:`medtools.scarcity` — label subsets, label noise, mixup, contrastive pretraining, probes.
* :mod:`medtools.explain` — Grad-CAM, occlusion, integrated gradients and their sanity checks.
* :mod:`medtools.efficiency` — latency, LiteRT int8 conversion, distillation, the scaling study,
  distributed training (subpackage).
* :mod:`medtools.dicom` — DICOM files as a model needs them (HU, spacing, geometry, clear errors),
  the PS3.15 Basic Profile de-identifier :mod:`medtools.dicom.deid` and its independent leak
  checker :mod:`medtools.dicom.leaks` (subpackage).
* :mod:`medtools.privacy` — federated averaging, DP-SGD with its privacy budget, membership inference
  (subpackage).
* :mod:`medtools.arrays` — the input checks shared by the modules above.

``dir(medtools)`` lists every module and subpackage, including those not named here.

Submodules and subpackages are imported lazily on first attribute access
(``medtools.metrics``), so ``import medtools`` stays fast and does not import TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

__version__ = "0.1.0"

#: Public modules and subpackages (``pkgutil`` lists both), found next to this file.
_SUBMODULES = frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"medtools.{name}")
    raise AttributeError(f"module 'medtools' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The dunder attributes (``__version__``, …) and every public module and subpackage."""
    return sorted({name for name in globals() if name.startswith("__")} | _SUBMODULES)
