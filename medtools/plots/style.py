"""The book's Matplotlib style and its colour palette.

Introduced in the chapter *A first look at medical images* (``chapters/background``), whose
setup cell calls :func:`use_style`, as every chapter's does. Re-exported by :mod:`medtools.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["PALETTE", "use_style"]

#: Colours used for classes throughout the book (colour-blind safe, Okabe–Ito).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def use_style() -> None:
    """Apply the book's Matplotlib style (call once in a chapter's setup cell)."""
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.prop_cycle": plt.cycler(color=PALETTE),
            "font.size": 10,
            "axes.titlesize": 11,
            "image.cmap": "gray",
        }
    )
