"""Combine the signals' probability matrices into one ``P`` with a per-record agreement.

Inputs everywhere: ``probas`` maps a signal name to an ``(N, K)`` matrix in label order; a row of NaN
means that signal abstains on that record. Single-label rows sum to 1; multi-label rows hold
independent per-label probabilities.

* ``weighted_mean``: ``P_i = sum_{s in A_i} w_s p_si / sum_{s in A_i} w_s`` where ``A_i`` are the
  signals with weight > 0 that do not abstain on record i. When ``A_i`` is empty the row is uniform
  (``1/K``; multi-label ``0.5``) and ``abstained[i]`` is True.
* ``StackedEnsemble``: logistic regression on the signals' log-probabilities (once enough labels exist).
* ``fit_weights``: non-negative weights for ``weighted_mean`` that maximise the log-likelihood of
  held-out labels (used to join a fine-tuned run to the zero-shot signals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

_CLIP = 1e-4  # probabilities are clipped to [_CLIP, 1 - _CLIP] before logs


@dataclass
class Ensemble:
    """``P`` (N, K); ``agreement`` (N,) in [0, 1]; ``per_signal_top`` name -> (N,) argmax label index,
    -1 where the signal abstains; ``abstained`` (N,) True where no weighted signal voted;
    ``method`` and ``note`` (why a stacked ensemble fell back, if it did)."""

    P: np.ndarray
    agreement: np.ndarray
    per_signal_top: dict[str, np.ndarray]
    abstained: np.ndarray
    method: str = "weighted_mean"
    note: str | None = None


def weighted_mean(
    probas: Mapping[str, np.ndarray],
    weights: Mapping[str, float] | None = None,
    multi_label: bool = False,
    threshold: float = 0.5,
) -> Ensemble:
    """Weighted mean of the signals' rows, abstentions excluded per record (weights renormalised).

    ``weights`` default to 1 for every signal; a signal missing from ``weights`` gets 1.
    Agreement, over the signals in ``A_i``: single-label, the fraction whose top label (argmax, ties to
    the lower index) equals the ensemble's top label; multi-label, the mean Jaccard similarity of the
    thresholded label sets (two empty sets count as 1). Rows where ``A_i`` is empty have agreement 0.
    """
    names, stack = _check_probas(probas)
    w = _weights_vector(names, weights)
    return _weighted_mean(names, stack, w, multi_label, threshold)


def _weighted_mean(names, stack, w, multi_label, threshold) -> Ensemble:
    w = w / w.max() if w.max() > 0 else w  # scale-free; keeps tiny weights from underflowing
    w = np.where(w < 1e-12, 0.0, w)  # a weight 1e-12 of the largest one is none (a subnormal one would turn a row to 0s)
    votes = ~np.isnan(stack).all(axis=2)  # (S, N)
    active = votes & (w[:, None] > 0)
    total = (w[:, None] * active).sum(axis=0)  # (N,)
    summed = np.einsum("s,snk->nk", w, np.where(active[..., None], np.nan_to_num(stack), 0.0))
    abstained = total <= 0
    fill = 0.5 if multi_label else 1.0 / stack.shape[2]
    P = np.where(abstained[:, None], fill, summed / np.where(abstained, 1.0, total)[:, None])
    tops = {name: np.where(votes[s], np.nan_to_num(stack[s]).argmax(axis=1), -1) for s, name in enumerate(names)}
    agreement = _agreement(stack, active, P, multi_label, threshold)
    return Ensemble(P=P, agreement=agreement, per_signal_top=tops, abstained=abstained)


def _agreement(stack, active, P, multi_label, threshold) -> np.ndarray:
    """Mean over active signals of top-label match (single-label) or set Jaccard (multi-label); 0 if none."""
    filled = np.nan_to_num(stack)
    if multi_label:
        sims = np.stack([_jaccard(filled[s] >= threshold, P >= threshold) for s in range(len(stack))])
    else:
        sims = (filled.argmax(axis=2) == P.argmax(axis=1)[None, :]).astype(float)
    n_active = active.sum(axis=0)
    return np.where(n_active > 0, (sims * active).sum(axis=0) / np.maximum(n_active, 1), 0.0)


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = (a & b).sum(axis=1)
    union = (a | b).sum(axis=1)
    return np.where(union == 0, 1.0, inter / np.maximum(union, 1))


# -- stacking -----------------------------------------------------------------------------------------
@dataclass
class StackedEnsemble:
    """Logistic regression over the concatenated signal outputs.

    Features per signal: ``ln clip(p)`` for each label (multi-label: ``logit clip(p)``), where an
    abstaining row is filled with that signal's mean non-abstaining row on the training data (uniform /
    0.5 if it never voted), plus one abstain-indicator column. ``LogisticRegressionCV`` picks the
    regularisation by ``cv_folds``-fold stratified cross-validation (log-loss). Multi-label fits one
    binary model per label (one-vs-rest).

    Stacking needs ``min_labels`` labeled records and every class (multi-label: every label, both its
    positives and negatives) at least twice; otherwise ``fit`` falls back to ``weighted_mean`` with
    ``weights`` and ``fallback_reason`` says why. Multi-label falls back per label.
    """

    n_labels: int | None = None  # None: taken from the matrices at fit()
    multi_label: bool = False
    min_labels: int = 30
    cv_folds: int = 5
    weights: Mapping[str, float] | None = None
    threshold: float = 0.5
    seed: int = 0
    fallback_reason: str | None = field(default=None, init=False)
    _names: list[str] = field(default_factory=list, init=False, repr=False)
    _fill: np.ndarray | None = field(default=None, init=False, repr=False)
    _models: list = field(default_factory=list, init=False, repr=False)

    def fit(self, probas: Mapping[str, np.ndarray], y: np.ndarray) -> "StackedEnsemble":
        """``probas`` for the labeled records; ``y`` (M,) class indices, or (M, K) 0/1 for multi-label."""
        names, stack = _check_probas(probas, self.n_labels)
        self.n_labels = stack.shape[2]
        y = np.asarray(y)
        expected = (stack.shape[1], self.n_labels) if self.multi_label else (stack.shape[1],)
        if y.shape != expected:
            raise ValueError(f"y must have shape {expected}, got {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= (2 if self.multi_label else self.n_labels)):
            raise ValueError("y holds values outside " + ("{0, 1}" if self.multi_label else f"0..{self.n_labels - 1}"))
        self._names = names
        self._fill = self._fill_rows(stack)
        columns = [y[:, k].astype(int) for k in range(self.n_labels)] if self.multi_label else [y.astype(int)]
        if len(y) < self.min_labels:
            self._models = [None] * len(columns)
            self.fallback_reason = f"{len(y)} labels < min_labels_for_stacking {self.min_labels}"
            return self
        reasons, self._models = [], []
        X = self._features(stack)
        for k, target in enumerate(columns):
            why = self._cannot_stack(target, k)
            reasons += [why] if why else []
            self._models.append(None if why else self._fit_one(X, target))
        self.fallback_reason = "; ".join(reasons) or None
        return self

    def predict_proba(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        """``(N, K)`` stacked probabilities (weighted mean where stacking fell back)."""
        return self.predict(probas).P

    def predict(self, probas: Mapping[str, np.ndarray]) -> Ensemble:
        """Like ``weighted_mean`` but ``P`` comes from the stacked models; agreement stays as defined there."""
        if self._fill is None:
            raise RuntimeError("call fit() first")
        names, stack = _check_probas(probas, self.n_labels)
        if names != self._names:
            raise ValueError(f"signals {names} differ from the fitted ones {self._names}")
        w = _weights_vector(names, self.weights)
        out = _weighted_mean(names, stack, w, self.multi_label, self.threshold)
        if all(m is None for m in self._models):
            out.note = f"weighted mean: {self.fallback_reason}"
            return out
        X = self._features(stack)
        if self.multi_label:
            for k, model in enumerate(self._models):
                if model is not None:
                    out.P[:, k] = model.predict_proba(X)[:, 1]
        else:
            out.P = self._models[0].predict_proba(X)
        active = ~np.isnan(stack).all(axis=2) & (w[:, None] > 0)
        out.agreement = _agreement(stack, active, out.P, self.multi_label, self.threshold)
        out.method = "stacked"
        out.note = f"partly weighted mean: {self.fallback_reason}" if self.fallback_reason else None
        return out

    # -- internals ---------------------------------------------------------------------------------
    def _cannot_stack(self, target: np.ndarray, k: int) -> str | None:
        counts = np.bincount(target, minlength=2 if self.multi_label else self.n_labels)
        if self.multi_label:
            if counts.min() < 2:
                return f"label {k} has {counts[1]} positives and {counts[0]} negatives (need >= 2 each)"
        elif counts.min() < 2:
            short = [int(c) for c in np.flatnonzero(counts < 2)]
            return f"classes {short} have fewer than 2 labels"
        return None

    def _fit_one(self, X: np.ndarray, target: np.ndarray):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold
        from threadpoolctl import threadpool_limits

        folds = int(min(self.cv_folds, np.bincount(target).min()))
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
        model = LogisticRegressionCV(Cs=[0.01, 0.1, 1.0, 10.0, 100.0], cv=cv, scoring="neg_log_loss",
                                     max_iter=1000, l1_ratios=(0.0,), use_legacy_attributes=False)
        # a few hundred rows: threads only add overhead. The weakest penalties may stop short of convergence on
        # separable features; cross-validated log-loss judges them as they are, so the warning only adds noise
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, target)

    def _fill_rows(self, stack: np.ndarray) -> np.ndarray:
        fills = []
        default = 0.5 if self.multi_label else 1.0 / stack.shape[2]
        for s in range(stack.shape[0]):
            rows = stack[s][~np.isnan(stack[s]).all(axis=1)]
            fills.append(rows.mean(axis=0) if len(rows) else np.full(stack.shape[2], default))
        return np.stack(fills)

    def _features(self, stack: np.ndarray) -> np.ndarray:
        blocks = []
        for s in range(stack.shape[0]):
            abstain = np.isnan(stack[s]).all(axis=1)
            p = np.clip(np.where(abstain[:, None], self._fill[s], np.nan_to_num(stack[s])), _CLIP, 1 - _CLIP)
            blocks += [np.log(p / (1 - p)) if self.multi_label else np.log(p), abstain[:, None].astype(float)]
        return np.hstack(blocks)


# -- weights ------------------------------------------------------------------------------------------
def fit_weights(
    probas: Mapping[str, np.ndarray], y: np.ndarray, multi_label: bool = False
) -> dict[str, float]:
    """Non-negative weights (summing to 1) maximising the mean log-likelihood of ``y`` under ``weighted_mean``.

    Pass records the signals were NOT trained on (e.g. the gold split), so the likelihood is held out.
    ``y``: (M,) class indices, or (M, K) 0/1 for multi-label (Bernoulli likelihood summed over labels).
    Solved with SLSQP from equal weights (deterministic).
    """
    from scipy.optimize import minimize

    names, stack = _check_probas(probas)
    y = np.asarray(y)
    if len(names) == 1:
        return {names[0]: 1.0}
    votes = ~np.isnan(stack).all(axis=2)
    filled = np.clip(np.nan_to_num(stack), _CLIP, 1 - _CLIP)

    def loss(w: np.ndarray) -> float:
        total = (w[:, None] * votes).sum(axis=0)
        P = np.einsum("s,snk->nk", w, filled * votes[..., None]) / np.maximum(total, 1e-12)[:, None]
        none = total <= 1e-12
        P = np.clip(np.where(none[:, None], 0.5 if multi_label else 1.0 / P.shape[1], P), _CLIP, 1 - _CLIP)
        if multi_label:
            return -float(np.mean((y * np.log(P) + (1 - y) * np.log(1 - P)).sum(axis=1)))
        return -float(np.mean(np.log(P[np.arange(len(y)), y.astype(int)])))

    S = len(names)
    result = minimize(loss, np.full(S, 1.0 / S), method="SLSQP", bounds=[(0.0, 1.0)] * S,
                      constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}])
    w = np.clip(result.x, 0.0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(S, 1.0 / S)
    return {name: float(v) for name, v in zip(names, w)}


# -- validation ---------------------------------------------------------------------------------------
def _check_probas(probas: Mapping[str, np.ndarray], n_labels: int | None = None) -> tuple[list[str], np.ndarray]:
    """Names in the given order and the (S, N, K) stack; rows must be all-NaN or fully numeric."""
    if not probas:
        raise ValueError("no signal matrices given")
    names = list(probas)
    mats = [np.asarray(probas[n], dtype=np.float64) for n in names]
    shape = mats[0].shape
    for name, m in zip(names, mats):
        if m.ndim != 2 or m.shape != shape:
            raise ValueError(f"signal {name!r} has shape {m.shape}; every matrix must be (N, K) = {shape}")
        nan = np.isnan(m)
        if (nan.any(axis=1) & ~nan.all(axis=1)).any():
            raise ValueError(f"signal {name!r} has rows with some NaN; abstain with a whole NaN row")
    if n_labels is not None and shape[1] != n_labels:
        raise ValueError(f"matrices have {shape[1]} columns, expected {n_labels} labels")
    return names, np.stack(mats)


def _weights_vector(names: list[str], weights: Mapping[str, float] | None) -> np.ndarray:
    weights = weights or {}
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"weights for unknown signals {unknown}; signals: {names}")
    w = np.array([float(weights.get(n, 1.0)) for n in names])
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"weights must be finite and >= 0, got {dict(zip(names, w.tolist()))}")
    return w
