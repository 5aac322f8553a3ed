"""Training without pooling the data, and what a trained model gives away.

Introduced in the chapter *Security and privacy* (``chapters/privacy``), in three modules
whose names are all reachable here (``privacy.dp_train``):

* :mod:`~medtools.privacy.federated` — data split across simulated hospitals with
  non-identical label distributions (:func:`dirichlet_split`), federated averaging
  (:func:`average_weights`, :func:`federated_averaging`; McMahan et al. 2017) and the size
  of a weight message (:func:`model_bytes`);
* :mod:`~medtools.privacy.dp` — DP-SGD (Abadi et al. 2016): vectorised per-example gradients
  (:func:`per_example_gradients`), clipping and Gaussian noise (:func:`privatise`), a training
  loop with Poisson sampling (:func:`dp_train`), and the privacy budget from Google's
  ``dp-accounting`` (:func:`dp_epsilon`, :func:`dp_noise_multiplier`);
* :mod:`~medtools.privacy.membership` — the loss-threshold membership-inference attack
  (Yeom et al. 2018; :func:`per_example_loss`, :func:`membership_auc`) and what (ε, δ)-DP
  allows any membership test (:func:`dp_membership_tpr_bound`, :func:`dp_membership_auc_bound`;
  Kairouz, Oh & Viswanath 2015).

The chapter's model, a small CNN without batch normalisation, is
:func:`medtools.models.small_cnn` (``head="flatten"``). The DICOM de-identifier of the same
chapter is in :mod:`medtools.dicom.deid`. TensorFlow and ``dp-accounting`` are imported inside
the functions that need them.
"""

from __future__ import annotations

from medtools.privacy.dp import dp_epsilon, dp_noise_multiplier, dp_train, per_example_gradients, privatise
from medtools.privacy.federated import average_weights, dirichlet_split, federated_averaging, model_bytes
from medtools.privacy.membership import (
    dp_membership_auc_bound,
    dp_membership_tpr_bound,
    membership_auc,
    per_example_loss,
)

__all__ = [
    "average_weights",
    "dirichlet_split",
    "dp_epsilon",
    "dp_membership_auc_bound",
    "dp_membership_tpr_bound",
    "dp_noise_multiplier",
    "dp_train",
    "federated_averaging",
    "membership_auc",
    "model_bytes",
    "per_example_gradients",
    "per_example_loss",
    "privatise",
]
