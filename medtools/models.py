"""Every model the book trains, as builder functions, plus parameter and FLOP counting.

* counting parameters and FLOPs — chapter *Core concepts* (``chapters/concepts``);
* slice-encoder + GRU and 3-D CNN — chapter *Recurrent networks* (``chapters/rnn``);
* Vision Transformer and its CNN baseline — chapter *Self-attention* (``chapters/attention``);
* the article's CNN — chapters *Core concepts* and *The Keras classifier*; the compact CNN —
  chapter *Beyond the article's model* (``chapters/beyond_article``).
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("medtools._models_article"):
    from medtools._models_article import *  # noqa: F403
if find_spec("medtools._models_count"):
    from medtools._models_count import *  # noqa: F403
if find_spec("medtools._models_seq"):
    from medtools._models_seq import *  # noqa: F403
if find_spec("medtools._models_vit"):
    from medtools._models_vit import *  # noqa: F403
if find_spec("medtools._models_cnn"):
    from medtools._models_cnn import *  # noqa: F403
