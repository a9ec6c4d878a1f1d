"""Post-hoc calibration on a held-out split, and expected calibration error.

- Single-label: temperature scaling (Guo et al. 2017). ``P' = softmax(log P / T)`` with the scalar ``T`` that
  minimises the negative log-likelihood of the held-out labels. ``T > 1`` softens an overconfident model;
  the arg-max (and so accuracy) never changes.
- Multi-label: Platt scaling per label, ``p' = sigmoid(a * logit(p) + b)`` fitted by NLL on that label's
  held-out 0/1 targets; a label whose held-out targets are all one value keeps ``a=1, b=0``.

Both work on probabilities (the project's one currency), so any model can be calibrated after the fact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

EPS = 1e-12


def _log(P: np.ndarray) -> np.ndarray:
    return np.log(np.clip(P, EPS, 1.0))


def _softmax_(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``Z`` written into ``Z`` (a round scores a 10,003 x 77 matrix: each fresh copy of it
    costs more than the arithmetic here)."""
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def nll(P: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of class indices ``y`` under rows of ``P``."""
    return float(-_log(P[np.arange(len(y)), y]).mean())


def apply_temperature(P: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log clip(P) / T)``, in one new array (``P`` is left as it is)."""
    Z = np.clip(np.asarray(P, dtype=np.float64), EPS, 1.0)
    np.log(Z, out=Z)
    Z /= temperature
    return _softmax_(Z)


def fit_temperature(
    P: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0), prior: float = 0.25
) -> float:
    """The temperature minimising held-out NLL of ``softmax(log P / T)``; searched on log T within ``bounds``.

    ``prior`` adds ``prior * (log T)^2 / (2 N)`` (a normal prior on log T with sd ``1/sqrt(prior)``, 2 by
    default; the MAP estimate): with many
    held-out labels it vanishes, with a handful that are all right it stops T running to the bound.
    ``prior=0`` is the plain maximum-likelihood temperature.
    """
    from scipy.optimize import minimize_scalar

    L = _log(np.asarray(P, dtype=np.float64))
    y = np.asarray(y)

    def loss(log_t: float) -> float:
        Z = L / np.exp(log_t)
        Z = Z - Z.max(axis=1, keepdims=True)
        nll_ = -(Z[np.arange(len(y)), y] - np.log(np.exp(Z).sum(axis=1))).mean()
        return float(nll_ + prior * log_t**2 / (2 * len(y)))

    res = minimize_scalar(loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def fit_platt(P: np.ndarray, Y: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-label ``(a, b)`` for ``sigmoid(a * logit(p) + b)`` minimising each label's binary NLL."""
    from scipy.optimize import minimize

    P, Y = np.asarray(P, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    a_s, b_s = [], []
    for k in range(P.shape[1]):
        z, t = _logit(P[:, k]), Y[:, k]
        if t.min() == t.max():
            a_s.append(1.0), b_s.append(0.0)
            continue

        def loss(ab, z=z, t=t):
            s = ab[0] * z + ab[1]
            # binary NLL, numerically stable: log(1 + e^s) - t s; small L2 keeps tiny sets finite
            return float(np.mean(np.logaddexp(0, s) - t * s) + 1e-4 * (ab[0] ** 2 + ab[1] ** 2))

        res = minimize(loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B")
        a_s.append(float(res.x[0])), b_s.append(float(res.x[1]))
    return a_s, b_s


def apply_platt(P: np.ndarray, a: list[float], b: list[float]) -> np.ndarray:
    return _sigmoid(_logit(np.asarray(P, dtype=np.float64)) * np.asarray(a) + np.asarray(b))


@dataclass
class Calibrator:
    """A fitted calibration map, stored as JSON in the run directory. ``kind``: none | temperature | platt."""

    kind: str = "none"
    temperature: float = 1.0
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    n: int = 0

    def __call__(self, P: np.ndarray) -> np.ndarray:
        P = np.asarray(P, dtype=np.float64)
        if self.kind == "temperature":
            return apply_temperature(P, self.temperature)
        if self.kind == "platt":
            return apply_platt(P, self.a, self.b)
        return P

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "Calibrator":
        return cls(**d) if d else cls()

    @classmethod
    def fit(cls, P: np.ndarray, y: np.ndarray, multi_label: bool) -> "Calibrator":
        """Temperature for single-label ``y`` (indices), Platt per label for multi-label ``y`` (N, K)."""
        if multi_label:
            a, b = fit_platt(P, y)
            return cls(kind="platt", a=a, b=b, n=len(y))
        return cls(kind="temperature", temperature=fit_temperature(P, y), n=len(y))


def ece(P: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins on (0, 1].

    Single-label (``y`` class indices): bins the top-class confidence, ``sum_b |B|/N * |acc(B) - conf(B)|``.
    Multi-label (``y`` an (N, K) 0/1 matrix): every (record, label) probability is one prediction, compared
    with its 0/1 outcome. NaN (abstaining) rows are ignored.
    """
    P, y = np.asarray(P, dtype=np.float64), np.asarray(y)
    keep = ~np.isnan(P).any(axis=1)
    P, y = P[keep], y[keep]
    if len(P) == 0:
        return float("nan")
    if y.ndim == 2:
        conf, correct = P.ravel(), y.ravel().astype(np.float64)
    else:
        conf, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            total += m.sum() / len(conf) * abs(correct[m].mean() - conf[m].mean())
    return float(total)
