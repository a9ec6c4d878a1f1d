"""Query strategies: which records are most worth a human's time.

A query strategy is a pure function of probability matrices that returns an ``(N,)`` score, higher =
review first. Single-label ``P`` rows sum to 1; multi-label ``P`` holds independent per-label
probabilities. Scores:

* ``least_confidence``  ``1 - max_k p_k``                                   (single-label)
* ``margin``            ``1 - (p_(1) - p_(2))``, top two probabilities       (single-label)
* ``entropy``           ``-sum_k p_k ln p_k`` (nats, ``0 ln 0 = 0``)          (single-label)
* ``disagreement``      mean KL divergence of each non-abstaining signal to the signals' mean,
                        ``(1/S) sum_s KL(p_s || mean_s p_s)`` (the generalised Jensen-Shannon
                        divergence); 0 where fewer than two signals vote. Multi-label: per-label
                        Bernoulli KL, averaged over labels.                  (both)
* ``threshold_distance`` ``1 - min_k |p_k - t_k| / max(t_k, 1 - t_k)``: 1 when some label sits on its
                        threshold, 0 when every label is 0 or 1 (t = 0.5: ``1 - 2 min_k |p_k - 0.5|``).
                        The minimum, not the mean: one undecided label is reason enough to review.
                        ``t`` is one threshold or one per label (the fast model's fitted cuts).
                                                                             (multi-label)
* ``max_loss``          ``sum_k (1 - y_k f_k) / 2`` with ``f_k = (p_k - t_k) / max(t_k, 1 - t_k)`` in [-1, 1]
                        and ``y`` the row's predicted set sized by a cardinality estimate: its ``c`` labels
                        of highest ``f`` are +1, the rest -1, ``c`` = the pool's mean count of labels at or
                        over their cuts, rounded, in [1, K] (MMC, Yang et al. 2009, with the pool's predicted
                        cardinality standing in for MMC's count model).              (multi-label)
* ``cardinality_distance`` ``(threshold_distance + min(1, |n_i - c|)) / 2``: ``n_i`` the row's count of
                        labels at or over their cuts, ``c`` the pool's mean of it (label cardinality
                        inconsistency, Li & Guo 2013, mixed with threshold distance).  (multi-label)
* ``rare_label_distance`` ``max_k w_k (1 - |p_k - t_k| / max(t_k, 1 - t_k)) / max_k w_k`` with
                        ``w_k = 1 / sqrt(1 + m_k)``, ``m_k`` the pool rows at or over label k's cut: label-wise
                        uncertainty that favours labels the model rarely predicts.    (multi-label)

The last three see only ``P`` and the cuts, so the pool's predictions stand in for the labeled records'
cardinality and label counts.

``labeler.loop.queue.select_batch`` turns these scores into a batch.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from labeler.errors import LabelerError

EPS = 1e-12


# -- strategies ---------------------------------------------------------------------------------------
def least_confidence(P: np.ndarray) -> np.ndarray:
    """``1 - max_k p_k`` per row."""
    P = check_P(P)
    return 1.0 - P.max(axis=1) if P.shape[0] else np.zeros(0)


def margin(P: np.ndarray) -> np.ndarray:
    """``1 - (p_(1) - p_(2))`` per row, from the two largest probabilities."""
    P = check_P(P)
    if P.shape[1] < 2:
        raise ValueError("margin needs at least 2 labels")
    top2 = np.sort(P, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(P: np.ndarray) -> np.ndarray:
    """Shannon entropy ``-sum_k p_k ln p_k`` per row, in nats."""
    P = check_P(P)
    return -np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0), axis=1)


def disagreement(
    P: np.ndarray, signal_probas: Mapping[str, np.ndarray] | None = None, multi_label: bool = False
) -> np.ndarray:
    """Mean KL of each voting signal to the voting signals' mean (0 where < 2 signals vote).

    ``signal_probas``: name -> ``(N, K)``, a NaN row = abstain. ``P`` only fixes the shape.
    """
    P = check_P(P)
    if not signal_probas:
        raise ValueError("disagreement needs the per-signal matrices (signal_probas)")
    stack = np.stack([np.asarray(m, dtype=np.float64) for m in signal_probas.values()])  # (S, N, K)
    if stack.shape[1:] != P.shape:
        raise ValueError(f"signal matrices have shape {stack.shape[1:]}, P has {P.shape}")
    votes = ~np.isnan(stack).all(axis=2)  # (S, N)
    n_votes = votes.sum(axis=0)
    filled = np.where(votes[..., None], np.nan_to_num(stack, nan=0.0), 0.0)
    mean = filled.sum(axis=0) / np.maximum(n_votes, 1)[:, None]  # (N, K)
    if multi_label:
        kl = (_kl_terms(filled, mean) + _kl_terms(1.0 - filled, 1.0 - mean)).mean(axis=2)
    else:
        kl = _kl_terms(filled, mean).sum(axis=2)  # (S, N)
    kl = np.where(votes, kl, 0.0).sum(axis=0) / np.maximum(n_votes, 1)
    return np.where(n_votes >= 2, np.maximum(kl, 0.0), 0.0)


def threshold_distance(P: np.ndarray, threshold: float | np.ndarray = 0.5) -> np.ndarray:
    """``1 - min_k |p_k - t_k| / max(t_k, 1 - t_k)`` per row (multi-label); ``threshold``: a scalar or (K,)."""
    P, _, f = _from_cuts(P, threshold)
    if P.shape[0] == 0:
        return np.zeros(0)
    return 1.0 - np.abs(f).min(axis=1)


def _from_cuts(P: np.ndarray, threshold: float | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P checked, the (K,) cuts, f): ``f = (p_k - t_k) / max(t_k, 1 - t_k)`` per entry, each label's signed
    distance from its cut scaled to [-1, 1] (1: as far above the cut as a probability can be)."""
    P = check_P(P)
    t = _cuts(threshold, P.shape[1])
    return P, t, (P - t) / np.maximum(t, 1.0 - t)


def max_loss(P: np.ndarray, threshold: float | np.ndarray = 0.5) -> np.ndarray:
    """Maximum loss reduction with a cardinality-sized predicted set (MMC); see the module docstring."""
    P, t, f = _from_cuts(P, threshold)
    if P.shape[0] == 0:
        return np.zeros(0)
    c = int(np.clip(np.floor((P >= t).sum(axis=1).mean() + 0.5), 1, P.shape[1]))
    order = np.argsort(-f, axis=1, kind="stable")
    y = -np.ones_like(f)
    np.put_along_axis(y, order[:, :c], 1.0, axis=1)
    return ((1.0 - y * f) / 2.0).sum(axis=1)


def cardinality_distance(P: np.ndarray, threshold: float | np.ndarray = 0.5) -> np.ndarray:
    """Threshold distance averaged with the row's label cardinality inconsistency (capped at 1)."""
    P, t, _ = _from_cuts(P, threshold)
    if P.shape[0] == 0:
        return np.zeros(0)
    n = (P >= t).sum(axis=1)
    return (threshold_distance(P, t) + np.minimum(1.0, np.abs(n - n.mean()))) / 2.0


def rare_label_distance(P: np.ndarray, threshold: float | np.ndarray = 0.5) -> np.ndarray:
    """Label-wise closeness to the cut, weighted towards labels the pool rarely gets; see the module docstring."""
    P, t, f = _from_cuts(P, threshold)
    if P.shape[0] == 0:
        return np.zeros(0)
    w = 1.0 / np.sqrt(1.0 + (P >= t).sum(axis=0))
    return (w * (1.0 - np.abs(f))).max(axis=1) / w.max()


def _cuts(threshold: float | np.ndarray, k: int) -> np.ndarray:
    """One threshold per label, each in (0, 1): a scalar is repeated, a (K,) vector is checked."""
    t = np.asarray(threshold, dtype=np.float64)
    if t.ndim > 1 or (t.ndim == 1 and t.shape != (k,)):
        raise ValueError(f"threshold must be a number or one per label ({k},), got shape {t.shape}")
    if not ((t > 0.0) & (t < 1.0)).all():
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    return np.broadcast_to(t, (k,))


def _kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise ``p ln(p / q)`` with ``0 ln 0 = 0``."""
    safe_p = np.where(p > 0, p, 1.0)
    return np.where(p > 0, p * (np.log(safe_p) - np.log(np.maximum(q, EPS))), 0.0)


STRATEGIES: dict[str, Callable[..., np.ndarray]] = {
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
    "disagreement": disagreement,
    "threshold_distance": threshold_distance,
    "max_loss": max_loss,
    "cardinality_distance": cardinality_distance,
    "rare_label_distance": rare_label_distance,
}
SINGLE_LABEL_STRATEGIES = ("least_confidence", "margin", "entropy", "disagreement")
MULTI_LABEL_STRATEGIES = ("threshold_distance", "disagreement", "max_loss", "cardinality_distance",
                          "rare_label_distance")
CUT_STRATEGIES = ("threshold_distance", "max_loss", "cardinality_distance", "rare_label_distance")  # take ``threshold``


RANDOM = "random"  # a policy, not a score: every pick uniform (``select_batch`` with exploration=1)


def check_strategy_name(name: str | None) -> str | None:
    """``name`` if it is a known strategy (or ``random``, or None); else a ``LabelerError`` listing them."""
    if name is not None and name != RANDOM and name not in STRATEGIES:
        raise LabelerError(f"unknown query strategy {name!r}; valid: {RANDOM}, {', '.join(STRATEGIES)}")
    return name


def strategy_for(multi_label: bool, name: str | None = None) -> str:
    """The strategy a task uses: ``name`` checked against the task kind, or the kind's default
    (``margin`` single-label, ``threshold_distance`` multi-label). Config, queue and simulate all ask here."""
    check_strategy_name(name)
    if name is None:
        return "threshold_distance" if multi_label else "margin"
    allowed = (RANDOM, *(MULTI_LABEL_STRATEGIES if multi_label else SINGLE_LABEL_STRATEGIES))
    if name not in allowed:
        kind = "multi-label" if multi_label else "single-label"
        raise LabelerError(f"strategy {name!r} does not fit a {kind} task; use one of: {', '.join(allowed)}")
    return name


def get_strategy(name: str) -> Callable[..., np.ndarray]:
    """The strategy function called ``name``; an unknown name is a ``LabelerError`` listing the valid ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise LabelerError(f"unknown query strategy {name!r}; valid: {', '.join(STRATEGIES)}") from None


def uncertainty(
    P: np.ndarray,
    strategy: str,
    signal_probas: Mapping[str, np.ndarray] | None = None,
    multi_label: bool = False,
    threshold: float = 0.5,
) -> np.ndarray:
    """Score every row of ``P`` with the named strategy, passing each strategy only what it uses."""
    fn = get_strategy(strategy)
    allowed = MULTI_LABEL_STRATEGIES if multi_label else SINGLE_LABEL_STRATEGIES
    if strategy not in allowed:
        kind = "multi-label" if multi_label else "single-label"
        raise LabelerError(f"query strategy {strategy!r} does not fit {kind} tasks; use one of: {', '.join(allowed)}")
    if strategy == "disagreement":
        return fn(P, signal_probas, multi_label=multi_label)
    if strategy in CUT_STRATEGIES:
        return fn(P, threshold=threshold)
    return fn(P)


def check_P(P: np.ndarray) -> np.ndarray:
    """``P`` as a float (N, K) matrix of probabilities; a one-line ValueError otherwise."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(f"P must be a 2-D (N, K) matrix, got shape {P.shape}")
    if not np.isfinite(P).all():
        raise ValueError("P holds NaN or inf; abstentions must be resolved by the ensemble first")
    if P.size and (P.min() < -1e-9 or P.max() > 1 + 1e-9):
        raise ValueError("P must hold probabilities in [0, 1]")
    return P
