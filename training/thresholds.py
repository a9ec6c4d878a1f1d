"""Per-label decision thresholds for multi-label probability matrices.

A multi-label model gives one independent probability per label; one global 0.5 cut predicts far too many
labels when the head is class-balanced (every rare label's probability is pushed up) and too few when it is
not. ``fit_thresholds`` picks, for each label, the cut that maximises that label's F1 on labeled rows,
shrunk towards the one global cut that maximises micro-F1 over all labels: a label with many positives gets
its own cut, a label with two positives gets (nearly) the global one, a label with none gets the global one.

``objective="micro_f1"`` fits each label's cut to the micro-F1 over every label (the other labels' cells held at
the global cut): a label whose extra predictions would be right less often than micro-F1 / 2 gets a high cut,
so a hard or noisy label stops spraying false positives, where its own F1 would welcome them.

``objective="clicks"`` fits the cut a pre-selected suggestion needs instead: a label pre-selected in a form
saves the annotator a click when it is right and costs one when it is wrong, so the best cut maximises
``TP - FP`` (a label is worth suggesting where it is right more often than not).

Shapes: ``P`` (N, K) probabilities, ``Y`` (N, K) 0/1 targets; the result is (K,). ``predict_sets`` turns a
matrix into 0/1 label sets; an empty row is a valid answer ("none of these").
"""

from __future__ import annotations

import numpy as np

SHRINK = 5.0  # pseudo-positives of the global cut in each label's estimate
CUT_SHRINK_DOWN = 20.0  # the same for a label whose own cut is below the global one (it would predict more; issue 23)
MIN_LABELS_FOR_CUTS = 20  # fewer labelled rows than this keep one threshold for every label


MAX_CUTS = 512
MIN_CUT = 1e-6  # the lowest cut: "every label" is every score from here up; a fitted cut stays in (0, 1)


def _candidates(p: np.ndarray) -> np.ndarray:
    """Cut points halfway between consecutive distinct scores (plus the ends), so a cut never sits on a score;
    over ``MAX_CUTS`` of them, that many quantiles of the midpoints (keeps large pools O(N K)). The low end is
    ``MIN_CUT``, not 0: a cut is a probability the queue's strategies accept (in (0, 1)), and a score of exactly 0
    (a label the model never saw, as in an early round's fold) is no prediction; points below it merge into it."""
    u = np.unique(np.clip(p, 0.0, 1.0))
    mids = (u[:-1] + u[1:]) / 2 if len(u) > 1 else u
    if len(mids) > MAX_CUTS:
        mids = np.unique(np.quantile(mids, np.linspace(0, 1, MAX_CUTS + 1)))
    return np.concatenate([[MIN_CUT], mids[mids > MIN_CUT], [1.0 + 1e-9]])


def _f1_at(p: np.ndarray, y: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    pred = p[None, :] >= cuts[:, None]
    tp = (pred & (y[None, :] == 1)).sum(axis=1)
    fp = (pred & (y[None, :] == 0)).sum(axis=1)
    fn = (~pred & (y[None, :] == 1)).sum(axis=1)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def _clicks_at(p: np.ndarray, y: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Clicks saved against an empty form when every score >= the cut is pre-selected: ``TP - FP``."""
    pred = p[None, :] >= cuts[:, None]
    return (pred & (y[None, :] == 1)).sum(axis=1) - (pred & (y[None, :] == 0)).sum(axis=1)


_OBJECTIVES = {"f1": _f1_at, "clicks": _clicks_at, "micro_f1": _f1_at}


def _best_cut(p: np.ndarray, y: np.ndarray, cuts: np.ndarray, objective: str) -> float:
    """The middle of the cuts that tie for the best value (clicks: the highest of them, fewest pre-selected)."""
    value = _OBJECTIVES[objective](p, y, cuts)
    best = np.flatnonzero(value == value.max())
    return float(cuts[best[-1] if objective == "clicks" else best[len(best) // 2]])


def _micro_cut(p: np.ndarray, y: np.ndarray, at_global: np.ndarray, totals: tuple) -> float:
    """Label k's cut maximising micro-F1 over every label, the others' cells at the global cut (``totals``:
    TP, FP, FN of all labels there; ``at_global``: label k's predictions there, taken out of the totals)."""
    tp, fp, fn = totals
    tp = tp - (at_global & (y == 1)).sum()
    fp = fp - (at_global & (y == 0)).sum()
    fn = fn - (~at_global & (y == 1)).sum()
    cuts = _candidates(p)
    pred = p[None, :] >= cuts[:, None]
    ktp = (pred & (y[None, :] == 1)).sum(axis=1)
    kfp = (pred & (y[None, :] == 0)).sum(axis=1)
    kfn = (~pred & (y[None, :] == 1)).sum(axis=1)
    denom = 2 * (tp + ktp) + fp + kfp + fn + kfn
    value = np.where(denom > 0, 2 * (tp + ktp) / np.maximum(denom, 1), 0.0)
    best = np.flatnonzero(value == value.max())
    return float(cuts[best[len(best) // 2]])


def _check_objective(objective: str) -> None:
    if objective not in _OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; valid: {', '.join(_OBJECTIVES)}")


def global_threshold(P: np.ndarray, Y: np.ndarray, default: float = 0.5, objective: str = "f1") -> float:
    """The one cut that maximises micro-F1 (or saved clicks) over every (row, label) cell; ``default``
    without positives, or (F1) where no positive scores ``MIN_CUT`` or more: no cut would find one."""
    _check_objective(objective)
    P, Y = np.asarray(P, dtype=float), np.asarray(Y, dtype=int)
    if P.size == 0 or Y.sum() == 0 or (objective != "clicks" and not (P[Y == 1] >= MIN_CUT).any()):
        return float(default)
    p, y = P.ravel(), Y.ravel()
    return _best_cut(p, y, _candidates(p), objective)


def fit_thresholds(P: np.ndarray, Y: np.ndarray, default: float = 0.5, shrink: float = SHRINK,
                   objective: str = "f1", shrink_down: float | None = None) -> np.ndarray:
    """(K,) per-label cuts: each label's F1-optimal (or clicks-optimal) cut shrunk towards the global cut by
    ``n_pos / (n_pos + shrink)``; labels without positives take the global cut. ``shrink_down``: the shrink of
    a label whose own cut is below the global one (it would predict more), ``shrink`` only for those above."""
    _check_objective(objective)
    P, Y = np.asarray(P, dtype=float), np.asarray(Y, dtype=int)
    if P.ndim != 2 or P.shape != Y.shape:
        raise ValueError(f"P and Y must be (N, K) of the same shape, got {P.shape} and {Y.shape}")
    g = global_threshold(P, Y, default, "f1" if objective == "micro_f1" else objective)
    out = np.full(P.shape[1], g, dtype=float)
    base = P >= g
    tp, fp, fn = (base & (Y == 1)).sum(), (base & (Y == 0)).sum(), (~base & (Y == 1)).sum()
    for k in range(P.shape[1]):
        n_pos = int(Y[:, k].sum())
        if n_pos == 0:
            continue
        if objective == "micro_f1":
            own = _micro_cut(P[:, k], Y[:, k], base[:, k], (tp, fp, fn))
        else:
            own = _best_cut(P[:, k], Y[:, k], _candidates(P[:, k]), objective)
        w = n_pos / (n_pos + (shrink if shrink_down is None or own >= g else shrink_down))
        out[k] = w * own + (1 - w) * g
    return out


def set_scores(P: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """How sure each multi-label prediction is, one number per row as a single-label top probability is: the
    lowest probability among the labels in the set, or, for an empty set ("None of these"), 1 minus the highest
    probability (the max alone read 0.000 for a sure "None of these")."""
    P, sets = np.asarray(P, dtype=float), np.asarray(sets).astype(bool)
    if P.shape[1] == 0:
        return np.ones(len(P))
    lowest_in = np.where(sets, P, np.inf).min(axis=1)
    return np.where(sets.any(axis=1), lowest_in, 1.0 - P.max(axis=1))


def predict_sets(P: np.ndarray, thresholds: float | np.ndarray) -> np.ndarray:
    """0/1 (N, K): label k is predicted where ``P[:, k] >= thresholds[k]`` (a scalar applies to every label)."""
    P = np.asarray(P, dtype=float)
    t = np.broadcast_to(np.asarray(thresholds, dtype=float), (P.shape[1],))
    return (P >= t[None, :]).astype(np.int64)
