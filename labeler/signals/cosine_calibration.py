"""Cosines to probabilities (the embedding signal's ``scores_to_proba``), and the temperature, per-label bias or
threshold that turn them into calibrated ones, fitted on human labels."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from labeler.signals.base import sigmoid, softmax

DEFAULT_TEMPERATURE = 0.05
DEFAULT_THRESHOLD = 0.3


def scores_to_proba(cos: np.ndarray, temperature: float, multi_label: bool = False,
                    threshold: float = DEFAULT_THRESHOLD, label_bias: Sequence[float] | None = None) -> np.ndarray:
    """Cosines -> probabilities: ``softmax(cos/T + b)`` or, multi-label, ``sigmoid((cos - threshold)/T)``."""
    cos = np.asarray(cos, dtype=np.float64)
    if multi_label:
        return sigmoid((cos - threshold) / temperature)
    z = cos / temperature
    if label_bias is not None:
        z = z + np.asarray(label_bias, dtype=np.float64)
    return softmax(z, axis=1)


def fit_temperature(cos: np.ndarray, y: Sequence, multi_label: bool = False,
                    bounds: tuple[float, float] = (1e-3, 10.0), threshold: float = DEFAULT_THRESHOLD) -> float:
    """The temperature minimising the NLL of human labels ``y`` under :func:`scores_to_proba`.

    ``cos``: ``(N, K)`` cosines. ``y``: ``(N,)`` label indices, or for ``multi_label`` an ``(N, K)`` 0/1
    matrix (then the binary cross-entropy at the given ``threshold``). Bounded 1-D search over log T.
    """
    from scipy.optimize import minimize_scalar

    nll = _nll(np.asarray(cos, dtype=np.float64), np.asarray(y), multi_label)
    res = minimize_scalar(lambda lt: nll(np.exp(lt), threshold, None), bounds=np.log(bounds), method="bounded")
    return float(np.exp(res.x))


def fit_calibration(cos: np.ndarray, y: Sequence, multi_label: bool = False, l2: float = 1.0) -> dict:
    """Temperature plus per-label bias (single-label) or threshold (multi-label) from human labels.

    Returns params for the signal: ``{"temperature", "label_bias"}`` or ``{"temperature", "threshold"}``.
    The bias shifts the argmax (it corrects labels whose prompts sit systematically nearer or farther);
    an L2 penalty (``l2``, per label) keeps it small on few labels.
    """
    from scipy.optimize import minimize

    cos = np.asarray(cos, dtype=np.float64)
    y = np.asarray(y)
    nll = _nll(cos, y, multi_label)
    n, k = cos.shape
    if multi_label:
        res = minimize(lambda v: nll(np.exp(v[0]), v[1], None), x0=[np.log(DEFAULT_TEMPERATURE), DEFAULT_THRESHOLD],
                       method="L-BFGS-B", bounds=[(np.log(1e-3), np.log(10.0)), (-1.0, 1.0)])
        return {"temperature": float(np.exp(res.x[0])), "threshold": float(res.x[1])}
    t0 = fit_temperature(cos, y)

    def loss(v):
        b = v[1:] - v[1:].mean()
        return nll(np.exp(v[0]), 0.0, b) + l2 * float(b @ b) / n

    res = minimize(loss, x0=np.r_[np.log(t0), np.zeros(k)], method="L-BFGS-B",
                   bounds=[(np.log(1e-3), np.log(10.0))] + [(-10.0, 10.0)] * k)
    bias = res.x[1:] - res.x[1:].mean()
    return {"temperature": float(np.exp(res.x[0])), "label_bias": [float(b) for b in bias]}


def _nll(cos: np.ndarray, y: np.ndarray, multi_label: bool):
    eps = 1e-12
    if multi_label:
        def f(t, threshold, _b):
            p = np.clip(sigmoid((cos - threshold) / t), eps, 1 - eps)
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        return f
    y = y.astype(int)

    def f(t, _threshold, b):
        z = cos / t if b is None else cos / t + b
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-np.mean(logp[np.arange(len(y)), y]))
    return f
