"""A metric on every bootstrap resample at once, to the bit what scoring each resample in turn gives.

A resample of n rows is a count per row (how often it was drawn), so every count a metric needs (rows right;
per class true, predicted and actual positives) is the (resamples, n) count matrix times a per-row table: one
matrix product instead of a thousand fancy-indexed copies of the rows (a gold set's paired interval took 0.3 s,
now a few ms). The counts are whole numbers, exact in float64 whatever the order of the sums, and the F1s are
computed from them by the same elementwise steps ``training.evaluate.score`` takes, so each resample's value is
the same float as before. Resamples are drawn as ``training.evaluate`` always drew them (one generator seeded
``seed``, row after row), in blocks that keep the count matrix small.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1 << 22  # counts held at once (32 MiB of float64): resamples per block = BLOCK // n


def _div(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def prf(tp, pp, ap):
    """Precision, recall and F1 from true, predicted and actual positives (0 where undefined)."""
    p, r = _div(tp, pp), _div(tp, ap)
    return p, r, _div(2 * p * r, p + r)


def f1_from_counts(metric: str, tp, pp, ap):
    """Macro- or micro-F1 from per-class counts: a float for (K,) counts, an array for (B, K). Macro averages
    the classes present in the truth or the predictions (0.0 when none is)."""
    if metric == "micro_f1":
        value = prf(np.sum(tp, axis=-1), np.sum(pp, axis=-1), np.sum(ap, axis=-1))[2]
        return float(value) if np.ndim(value) == 0 else value
    f, present = prf(tp, pp, ap)[2], (np.asarray(pp) + np.asarray(ap)) > 0
    if f.ndim == 1:
        return float(f[present].mean()) if present.any() else 0.0
    return _row_means(f, present)


def _row_means(f: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per row, the mean of its present entries, summed as ``f[row][present[row]].mean()`` sums them: the rows
    with the same number present are taken together as one (rows, m) block, whose every row numpy reduces
    alone, in the same pairwise order as a vector of m (0.0 for a row with none present)."""
    out, m = np.zeros(len(f)), present.sum(axis=1)
    for size in np.unique(m[m > 0]):
        rows = np.flatnonzero(m == size)
        out[rows] = f[rows][present[rows]].reshape(len(rows), size).sum(axis=1) / size
    return out


def rows_right(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per row: the prediction is right (the exact set, for multi-label)."""
    return (y == pred).all(axis=1) if y.ndim == 2 else y == pred


def row_tables(metric: str, y: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Per row, what the metric counts: (right,) for accuracy; (true, predicted, actual positives) per class,
    (n, K) each, for the F1s. ``y`` and ``pred``: class indices (n,) or 0/1 sets (n, K)."""
    if metric == "accuracy":
        return (rows_right(y, pred).astype(np.float64),)
    if y.ndim == 1:
        eye = np.eye(k, dtype=np.float64)
        truth, said = eye[y], eye[pred]
        return truth * (y == pred)[:, None], said, truth
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    return (y & pred).astype(np.float64), pred.astype(np.float64), y.astype(np.float64)


def count_blocks(n: int, n_resamples: int, seed: int):
    """(B, n) matrices of how often each row was drawn, block after block, for ``n_resamples`` resamples of
    ``n`` rows drawn as ``default_rng(seed).integers(0, n, size=(n_resamples, n))`` draws them."""
    rng, size = np.random.default_rng(seed), max(1, BLOCK // max(n, 1))
    for start in range(0, n_resamples, size):
        b = min(size, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        yield np.bincount((idx + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def resampled(metric: str, tables: tuple[np.ndarray, ...], n: int, counts: np.ndarray) -> np.ndarray:
    """The metric on each resample of a block (``counts``: (B, n), from ``count_blocks``)."""
    if metric == "accuracy":
        return (counts @ tables[0]) / n
    tp, pp, ap = (counts @ t for t in tables)
    return f1_from_counts(metric, tp, pp, ap)


def bootstrap_values(metric: str, y: np.ndarray, preds: list[np.ndarray], k: int, n_resamples: int,
                     seed: int) -> list[np.ndarray]:
    """The metric on ``n_resamples`` resamples of the rows, for each of ``preds`` (the same resamples for all:
    a paired bootstrap takes their difference)."""
    n = len(y)
    tables = [row_tables(metric, y, p, k) for p in preds]
    out: list[list[np.ndarray]] = [[] for _ in preds]
    for counts in count_blocks(n, n_resamples, seed):
        for values, t in zip(out, tables):
            values.append(resampled(metric, t, n, counts))
    return [np.concatenate(v) if v else np.zeros(0) for v in out]
