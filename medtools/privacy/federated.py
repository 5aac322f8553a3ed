"""Federated averaging: training across hospitals that keep their data.

Introduced in the chapter *Security and privacy* (``chapters/privacy``):

* data split across simulated hospitals with non-identical label distributions
  (:func:`dirichlet_split`; Hsu, Qi & Brown 2019);
* federated averaging (McMahan et al. 2017): the server's weighted average
  (:func:`average_weights`) and the training loop (:func:`federated_averaging`), which
  measures the bytes it exchanges; :func:`model_bytes`, the size of one weight message.

The chapter's model is :func:`medtools.models.small_cnn` (``head="flatten"``, compiled with
``optimizer="sgd"`` here), which has no batch normalisation.

Re-exported by :mod:`medtools.privacy`. TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["average_weights", "dirichlet_split", "federated_averaging", "model_bytes"]


def model_bytes(model: keras.Model) -> int:
    """Bytes of the model's trainable weights as sent over a network (float32: 4 bytes each)."""
    return int(sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.trainable_weights))


def dirichlet_split(
    labels: np.ndarray, n_clients: int, alpha: float, *, seed: int = 0, min_size: int = 20
) -> list[np.ndarray]:
    """Split example indices across clients with label proportions drawn from Dirichlet(α).

    For each class ``c`` a vector ``p_c ~ Dirichlet(α·1_K)`` is drawn and the (shuffled)
    examples of that class are cut into ``K`` parts of sizes proportional to ``p_c``
    (Hsu, Qi & Brown 2019). Small ``α`` gives very different label mixes per client;
    large ``α`` approaches an i.i.d. split. Draws are repeated (up to 100 times) until every
    client has at least ``min_size`` examples.

    Args:
        labels: ``(N,)`` integer class labels.
        n_clients: number of clients ``K`` (≥ 2).
        alpha: Dirichlet concentration (> 0).
        seed: seed of the NumPy generator.
        min_size: smallest acceptable client size (≥ 1).

    Returns:
        ``K`` sorted int64 index arrays, disjoint, together covering ``range(N)``.

    Raises:
        ValueError: bad arguments, or no split with ``min_size`` found.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be a non-empty 1-D integer array, got shape {y.shape} dtype {y.dtype}.")
    if int(n_clients) < 2:
        raise ValueError(f"n_clients must be ≥ 2, got {n_clients!r}.")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}.")
    if min_size < 1 or min_size * n_clients > y.size:
        raise ValueError(f"min_size must be between 1 and N / n_clients = {y.size // n_clients}, got {min_size}.")
    rng = np.random.default_rng(seed)
    for _ in range(100):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            p = rng.dirichlet(np.full(n_clients, float(alpha)))
            cuts = (np.cumsum(p)[:-1] * idx.size).astype(int)
            for k, part in enumerate(np.split(idx, cuts)):
                parts[k].append(part)
        out = [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]
        if min(o.size for o in out) >= min_size:
            return out
    raise ValueError(
        f"no Dirichlet({alpha}) split gave every one of {n_clients} clients ≥ {min_size} examples in 100 draws; "
        "raise alpha or lower min_size."
    )


def average_weights(weights: Sequence[Sequence[np.ndarray]], sizes: Sequence[int]) -> list[np.ndarray]:
    """FedAvg's server step: the average of the clients' weights weighted by their data sizes.

    ``w = Σ_k (n_k / n) w_k`` for every weight tensor (McMahan et al. 2017).

    Args:
        weights: one list of arrays per client (``model.get_weights()``), same shapes.
        sizes: ``n_k``, the number of training examples of each client (> 0).

    Returns:
        The averaged list of float32 arrays.
    """
    if len(weights) != len(sizes) or not weights:
        raise ValueError(f"need one size per client: got {len(weights)} weight lists and {len(sizes)} sizes.")
    n = np.asarray(sizes, dtype=np.float64)
    if np.any(n <= 0):
        raise ValueError(f"sizes must be positive, got {list(sizes)}.")
    share = n / n.sum()
    return [
        np.sum([s * np.asarray(w[i], np.float64) for s, w in zip(share, weights, strict=True)], axis=0).astype(
            np.float32
        )
        for i in range(len(weights[0]))
    ]


def federated_averaging(
    model: keras.Model,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    local_epochs: int = 1,
    batch_size: int = 32,
    on_round: Callable[[int, keras.Model], None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` by federated averaging across ``clients``, in place.

    Each round the server sends the global weights to every client, each client trains
    ``local_epochs`` epochs on its own data with the model's (stateless) optimiser, sends its
    weights back, and the server averages them (:func:`average_weights`). Every client takes
    part in every round (FedAvg with client fraction 1).

    Args:
        model: a compiled model with a stateless optimiser (plain SGD), e.g.
            ``medtools.models.small_cnn(filters=(8, 16), head="flatten", optimizer="sgd")``.
        clients: ``(x, y)`` per client: float32 ``(n_k, H, W, C)`` and ``(n_k,)`` labels.
        rounds: communication rounds (≥ 1).
        local_epochs: local epochs per round (≥ 1).
        batch_size: local mini-batch size.
        on_round: optional ``f(round, model)`` called after each round (e.g. to validate).

    Returns:
        History: ``round`` and ``bytes``, the cumulative bytes sent and received by the
        server, *measured* as the ``nbytes`` of the arrays actually exchanged: the global
        weights sent down to every client and each client's weights sent back, every round
        (every weight array of ``get_weights()``, trainable or not).
    """
    if rounds < 1 or local_epochs < 1:
        raise ValueError(f"rounds and local_epochs must be ≥ 1, got {rounds} and {local_epochs}.")
    if len(clients) < 1:
        raise ValueError("need at least one client.")
    history: dict[str, list[float]] = {"round": [], "bytes": []}
    sent = 0
    for r in range(1, rounds + 1):
        start = model.get_weights()  # what the server sends down
        updates = []
        for x, y in clients:
            down = [np.array(w, copy=True) for w in start]  # the client's own copy of the message
            sent += sum(w.nbytes for w in down)
            model.set_weights(down)
            model.fit(x, y, epochs=local_epochs, batch_size=batch_size, verbose=0, shuffle=True)
            up = model.get_weights()  # what the client sends back
            sent += sum(w.nbytes for w in up)
            updates.append(up)
        model.set_weights(average_weights(updates, [len(y) for _, y in clients]))
        history["round"].append(float(r))
        history["bytes"].append(float(sent))
        if on_round is not None:
            on_round(r, model)
    return history
