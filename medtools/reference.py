"""From-scratch NumPy versions of what the chapters derive.

Each function is plain NumPy, documents its array shapes and dtypes, and is checked
against the corresponding Keras layer or optimiser in ``tests/`` and in its chapter.
Grouped by the chapter that introduces them:

* convolution and pooling — chapter *Convolutional networks* (``chapters/cnn``);
* recurrent cells — chapter *Recurrent networks* (``chapters/rnn``);
* attention — chapter *Self-attention* (``chapters/attention``);
* optimiser steps and losses — chapter *The workflow* (``chapters/workflow``).
"""

from __future__ import annotations

from importlib.util import find_spec

# The implementations live in one private file per chapter; this module is the
# public face. A file that does not exist yet is skipped.
if find_spec("medtools._ref_cnn"):
    from medtools._ref_cnn import *  # noqa: F403
if find_spec("medtools._ref_rnn"):
    from medtools._ref_rnn import *  # noqa: F403
if find_spec("medtools._ref_attention"):
    from medtools._ref_attention import *  # noqa: F403
if find_spec("medtools._ref_optim"):
    from medtools._ref_optim import *  # noqa: F403
