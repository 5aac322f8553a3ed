"""The book's figures, in one consistent style, and the widgets that a reader can play with.

Introduced in the chapter *A first look at medical images* (``chapters/background``).

* :mod:`~medtools.plots.style` — the palette and :func:`use_style` (every chapter's setup cell).
* :mod:`~medtools.plots.images` — image grids, class balance, slices of a volume.
* :mod:`~medtools.plots.evaluation` — ROC/PR curves, reliability diagram, confusion matrices
  (chapter ``keras_classifier``).
* :mod:`~medtools.plots.widgets` — sliders for the decision threshold and the slices of a volume
  (chapters ``keras_classifier``, ``background``); ipywidgets is imported only when one is built.

Every name of the four modules is re-exported here, so a chapter imports one name for every
figure (``from medtools import plots``; ``plots.roc_pr_curves``, ``plots.slice_slider``) and
never needs to know which file draws it.
"""

from medtools.plots.evaluation import (
    MAX_PANELS,
    confusion_matrix_plot,
    reliability_diagram,
    roc_pr_curves,
    threshold_panels,
)
from medtools.plots.images import class_balance, image_grid, volume_slices
from medtools.plots.style import PALETTE, use_style
from medtools.plots.widgets import (
    SliceViewer,
    ThresholdExplorer,
    slice_slider,
    threshold_explorer,
)

__all__ = [
    "MAX_PANELS",
    "PALETTE",
    "SliceViewer",
    "ThresholdExplorer",
    "class_balance",
    "confusion_matrix_plot",
    "image_grid",
    "reliability_diagram",
    "roc_pr_curves",
    "slice_slider",
    "threshold_explorer",
    "threshold_panels",
    "use_style",
    "volume_slices",
]
