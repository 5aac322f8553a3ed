"""medtools: the small helper package of *Deep Learning for Medical Image Analysis*.

One module per concern; each module's docstring names the chapter that introduces it.

* :mod:`medtools.data` — MedMNIST registry, verified download/cache, loading, tf.data.
* :mod:`medtools.plots` — the book's figures (image grids, class balance, volume slices).
* :mod:`medtools.train` — seeding, determinism, and a cache of trained weights.
* … and one module per further concern (see the README's structure section).

Submodules are imported lazily so ``import medtools`` stays fast and does not
import TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"medtools.{name}")
    raise AttributeError(f"module 'medtools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
