"""Metrics from probability matrices, with bootstrap confidence intervals.

Inputs everywhere: ``P`` (N, K) in label order, NaN rows = abstain; ``y`` class indices (N,) for single-label
or a 0/1 matrix (N, K) for multi-label. A prediction is the arg-max (single-label) or ``P >= threshold``
(multi-label; ``threshold`` one number for every label or (K,) per-label cuts, ``training.thresholds``).
Abstaining rows are excluded from every metric and reported as ``coverage``. A multi-label row with no label
(an empty set, "none of these") is an answer like any other: predicting the empty set for it is an exact
match, and it adds no positive to any label.

Conventions (match scikit-learn): accuracy is exact-match (subset) accuracy for multi-label (shown as
"exact match", ``metric_name``); macro-F1
averages the classes that occur in the truth or the predictions; an undefined precision/recall/F1 is 0.

Intervals. Accuracy (exact match for multi-label) is a proportion of rows, so its interval is the Wilson score
interval and the paired difference of two accuracies on the same rows is Newcombe's hybrid score interval
(Newcombe 1998, method 10: the two Wilson intervals joined by the rows' correlation). Both are closed forms
that hold their nominal level on a few dozen rows, where the percentile bootstrap they replace was too narrow
(over many draws of 40-record random gold its 95% interval held the true gain about 87% of the time:
BENCHMARKS.md "Interval coverage"). Macro- and micro-F1 are not proportions: their intervals stay percentile
bootstraps, the 2.5th and 97.5th percentiles of the metric over resamples of the rows; a perfect F1, whose every
resample is perfect too, takes the Wilson lower bound of its labelled rows instead (``perfect_f1_floor``; an F1 of
zero, none right, the mirror image for its upper end), and a
difference of two F1s each perfect or zero on every resample joins their Wilson intervals as Newcombe's does
(``_extreme_f1_diff``). Every interval is
reported next to the point estimate on all the rows (``value`` / ``diff``). A percentile interval need
not contain its estimate: macro-F1 on a small sample with many one-example classes is the usual case (a
resample leaves about a third of those classes out, and macro-F1 averages only the classes present, so
nearly every resample scores above the estimate). Readers and plots must not assume ``lo <= value <= hi``.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import NormalDist
from typing import Callable, Sequence

import numpy as np

from training.calibration import ece
from training.ppi import expected_gain, ppi_gain
from training.resample import bootstrap_values, f1_from_counts, prf, rows_right
from training.thresholds import predict_sets

METRICS = ("accuracy", "macro_f1", "micro_f1")
_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "micro_f1": "micro-F1"}


def metric_name(metric: str, multi_label: bool = False) -> str:
    """How reports and verdicts name a metric: multi-label accuracy is "exact match"."""
    return "exact match" if multi_label and metric == "accuracy" else _NAMES.get(metric, metric)


def covered(P: np.ndarray) -> np.ndarray:
    """Rows that did not abstain."""
    return ~np.isnan(np.asarray(P, dtype=np.float64)).any(axis=1)


def check_threshold(threshold, k: int) -> np.ndarray:
    """``threshold`` as (K,) cuts: one number for every label, or one per label; else a one-line ValueError."""
    t = np.asarray(threshold, dtype=np.float64)
    if t.ndim == 0:
        t = np.full(k, float(t))
    if t.shape != (k,) or np.isnan(t).any():
        raise ValueError(f"threshold must be one number or {k} numbers (one per label, no NaN); got shape {t.shape}")
    return t


def predict(P: np.ndarray, multi_label: bool, threshold: float | np.ndarray = 0.5,
            at_least_one: bool = False) -> np.ndarray:
    """Arg-max class indices (single-label) or 0/1 label sets at ``threshold`` (multi-label; scalar or (K,)).
    ``at_least_one`` (multi-label): a row with no label at or over its cut gets its most probable one (for a model
    whose training labels never held "None of these")."""
    P = np.asarray(P, dtype=np.float64)
    if not multi_label:
        return P.argmax(axis=1)
    sets = predict_sets(P, check_threshold(threshold, P.shape[1]))
    if at_least_one and len(P):
        empty = np.flatnonzero(sets.sum(axis=1) == 0)
        sets[empty, P[empty].argmax(axis=1)] = 1
    return sets


def confusion(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Single-label: (K, K) counts, rows = truth, columns = prediction. Multi-label: (K, 2, 2) [[tn, fp], [fn, tp]]."""
    if y.ndim == 1:
        return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = (y & pred).sum(0)
    fp = ((1 - y) & pred).sum(0)
    fn = (y & (1 - pred)).sum(0)
    tn = len(y) - tp - fp - fn
    return np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], 1)


def _counts(y: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class true positives, predicted positives and actual positives."""
    if y.ndim == 1:
        C = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
        return np.diag(C), C.sum(0), C.sum(1)
    return (y & pred).sum(0), pred.sum(0), y.sum(0)


def score(name: str, y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """One metric on hard predictions (``training.resample`` gives it on every bootstrap resample at once)."""
    if name == "accuracy":
        return float(rows_right(y, pred).mean())
    if name in ("macro_f1", "micro_f1"):
        return f1_from_counts(name, *_counts(y, pred, k))
    raise ValueError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}")


def _prepare(P, y, multi_label, threshold, at_least_one=False):
    P, y = np.asarray(P, dtype=np.float64), np.asarray(y).astype(np.int64)
    if P.ndim != 2 or len(P) != len(y):
        raise ValueError(f"P must be (N, K) with N = len(y) = {len(y)}; got {P.shape}")
    if multi_label and y.shape != P.shape:
        raise ValueError(f"multi-label y must be a 0/1 matrix of P's shape {P.shape}; got {y.shape}")
    keep = covered(P)
    return P, y, keep, predict(np.nan_to_num(P), multi_label, threshold, at_least_one)


def evaluate(
    P: np.ndarray,
    y: np.ndarray,
    labels: Sequence[str],
    multi_label: bool = False,
    threshold: float | np.ndarray = 0.5,
    n_bins: int = 15,
    at_least_one: bool = False,
) -> dict:
    """Accuracy, macro/micro F1, per-class precision/recall/F1/support/predicted, ECE, confusion, coverage.
    ``at_least_one``: multi-label sets as ``predict`` makes them with it."""
    P, y, keep, pred = _prepare(P, y, multi_label, threshold, at_least_one)
    k = len(labels)
    out = {"n": int(len(y)), "n_covered": int(keep.sum()), "coverage": float(keep.mean()) if len(y) else float("nan")}
    yc, pc = y[keep], pred[keep]
    if len(yc) == 0:
        return out | {m: float("nan") for m in METRICS} | {"ece": float("nan"), "per_class": {}, "confusion": []}
    for m in METRICS:
        out[m] = score(m, yc, pc, k)
    tp, pp, ap = _counts(yc, pc, k)
    p, r, f = prf(tp, pp, ap)
    out["per_class"] = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(ap[i]),
              "predicted": int(pp[i])}
        for i, lab in enumerate(labels)
    }
    out["ece"] = ece(P[keep], yc, n_bins=n_bins)
    out["confusion"] = confusion(yc, pc, k).tolist()
    return out


def top_confusions(matrix, labels: Sequence[str], n: int = 10) -> list[tuple[str, str, int]]:
    """The ``n`` largest off-diagonal cells of a single-label confusion matrix (rows = truth, columns =
    prediction) as ``(true label, predicted label, count)``, largest first, ties in row-major order; cells
    that are 0 are never listed."""
    C = np.asarray(matrix, dtype=np.int64)
    if C.ndim != 2 or C.size == 0 or C.shape[0] != C.shape[1]:
        return []
    off = C.copy()
    np.fill_diagonal(off, 0)
    flat, k = off.ravel(), C.shape[1]
    order = np.argsort(-flat, kind="stable")[: max(n, 0)]
    return [(labels[i // k], labels[i % k], int(flat[i])) for i in order if flat[i] > 0]


def interval_name(metric: str, paired: bool = False) -> str:
    """How reports name the interval ``bootstrap_ci`` (``paired_bootstrap`` when ``paired``) gives ``metric``."""
    if metric == "accuracy":
        return "Newcombe paired score interval" if paired else "Wilson score interval"
    return "paired bootstrap" if paired else "percentile bootstrap"


def interval_note(n_resamples: int, seed: int, multi_label: bool = False) -> str:
    """One line for a report's header: which 95% interval each metric gets."""
    acc = metric_name("accuracy", multi_label)
    return (f"95% CIs: {acc} Wilson score, {acc} differences Newcombe paired score; F1 percentile bootstrap, "
            f"{n_resamples:,} resamples (seed {seed}; a perfect F1: the Wilson bound of its labelled rows)")


def _percentile_ci(values: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.percentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def _z(level: float) -> float:
    return NormalDist().inv_cdf((1 + level) / 2)


def wilson_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` rows (``n`` > 0)."""
    z, p = _z(level), k / n
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)
    return (0.0 if k == 0 else float(lo)), (1.0 if k == n else float(hi))  # exact ends, not 1 - 2e-16


def paired_score_ci(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (1998, method 10) for mean(a) - mean(b), ``a`` and ``b`` 0/1 per row
    (A right, B right) on the same rows: the Wilson intervals of both accuracies, joined through the phi
    correlation of the 2x2 table of rows."""
    a, b, n = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool), len(a)
    both, a_only, b_only = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    neither = n - both - a_only - b_only
    p1, p2 = (both + a_only) / n, (both + b_only) / n
    (l1, u1), (l2, u2) = wilson_ci(both + a_only, n, level), wilson_ci(both + b_only, n, level)
    margins = float(both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    phi = (both * neither - a_only * b_only) / np.sqrt(margins) if margins > 0 else 0.0
    down = np.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    up = np.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return float(max(p1 - p2 - down, -1.0)), float(min(p1 - p2 + up, 1.0))


def _extreme_f1_diff(va: float, vb: float, y: np.ndarray, level: float) -> tuple[float, float]:
    """A - B for two F1s each perfect or zero on every resample (so the paired bootstrap says +1.000..+1.000):
    each F1's Wilson interval over the rows that carry a label in the truth, all right (perfect) or none (zero),
    joined as Newcombe's square-and-add difference."""
    rows = _labelled_rows(y)
    if not rows:
        return va - vb, va - vb
    low = wilson_ci(rows, rows, level)[0]
    (la, ua), (lb, ub) = ((low, 1.0) if v == 1.0 else (0.0, 1.0 - low) for v in (va, vb))
    d = va - vb
    return float(max(d - np.hypot(va - la, ub - vb), -1.0)), float(min(d + np.hypot(ua - va, vb - lb), 1.0))


def bootstrap_ci(
    P: np.ndarray,
    y: np.ndarray,
    metric: str = "accuracy",
    multi_label: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    threshold: float | np.ndarray = 0.5,
    at_least_one: bool = False,
) -> dict:
    """The metric on the covered rows with its interval: ``{"value", "lo", "hi", "n"}``. Accuracy: the Wilson
    score interval (``n_resamples`` and ``seed`` unused); other metrics: a percentile bootstrap, whose
    ``value`` may lie outside ``lo..hi`` (see the module docstring)."""
    P, y, keep, pred = _prepare(P, y, multi_label, threshold, at_least_one)
    yc, pc, k = y[keep], pred[keep], P.shape[1]
    if len(yc) == 0:
        return {"value": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0}
    value = score(metric, yc, pc, k)
    if metric == "accuracy":
        lo, hi = wilson_ci(int(rows_right(yc, pc).sum()), len(yc), level)
    else:
        stats = bootstrap_values(metric, yc, [pc], k, n_resamples, seed)[0]
        lo, hi = _percentile_ci(stats, level)
        if value == 1.0 and lo == 1.0:
            lo = perfect_f1_floor(yc, pc, level)
        elif value == 0.0 and hi == 0.0 and (np.ndim(yc) == 1 or yc.any()):  # none right: the mirror image
            hi = 1.0 - perfect_f1_floor(yc, pc, level)
    return {"value": value, "lo": lo, "hi": hi, "n": int(len(yc))}


def perfect_f1_floor(y: np.ndarray, pred: np.ndarray, level: float = 0.95) -> float:
    """The lower end of a perfect F1's interval: every resample of an error-free sample is perfect too, so the
    percentile bootstrap says 1.000..1.000. The Wilson lower bound for the rows that carry a label (in the truth
    or the prediction; every row single-label, where it is accuracy's), all of them right, takes its place:
    6 of 6 right gives 0.61, 45 of 45 gives 0.92."""
    rows = _labelled_rows(y, pred)
    return wilson_ci(rows, rows, level)[0] if rows else 0.0


def _labelled_rows(y: np.ndarray, pred: np.ndarray | None = None) -> int:
    """Rows that carry a label in the truth (or in ``pred``): every row single-label, the non-empty sets
    multi-label."""
    if np.ndim(y) != 2:
        return len(y)
    labelled = np.asarray(y).any(axis=1) if pred is None else np.asarray(y).any(axis=1) | np.asarray(pred).any(axis=1)
    return int(labelled.sum())


def paired_bootstrap(
    PA: np.ndarray,
    PB: np.ndarray,
    y: np.ndarray,
    metric: str = "accuracy",
    multi_label: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    threshold: float | np.ndarray = 0.5,
    threshold_b: float | np.ndarray | None = None,
    unlabeled: tuple[np.ndarray, np.ndarray] | None = None,
    at_least_one: tuple[bool, bool] = (False, False),
) -> dict:
    """Does A beat B? On the rows both cover, the same rows for both systems.

    Multi-label: A's sets are cut at ``threshold``, B's at ``threshold_b`` (default: the same), so each
    system is judged at its own per-label cuts; ``at_least_one`` (A's, B's): ``predict``'s rule for each.

    Returns ``diff`` (A - B on those rows); its CI ``lo..hi``: for accuracy Newcombe's paired score interval
    (``paired_score_ci``), for other metrics the percentile bootstrap (which may exclude ``diff``);
    ``p_value`` (share of paired bootstrap resamples where A - B <= 0: a one-sided bootstrap p-value, for
    every metric), ``n`` (rows covered by both) and ``method``.

    ``unlabeled``: A's and B's matrices on records drawn the way ``y``'s were but never answered. Single-label
    accuracy then uses the prediction-powered estimate (``training.ppi``: ``diff``, ``lo..hi`` and ``p_value``
    from it, plus ``lam`` and ``n_unlabeled``) where it applies, else the paired score interval as above.
    """
    PA, y, keep_a, pred_a = _prepare(PA, y, multi_label, threshold, at_least_one[0])
    PB, _, keep_b, pred_b = _prepare(PB, y, multi_label, threshold if threshold_b is None else threshold_b,
                                     at_least_one[1])
    keep = keep_a & keep_b
    yc, a, b, k = y[keep], pred_a[keep], pred_b[keep], PA.shape[1]
    if len(yc) == 0:
        return {"diff": float("nan"), "lo": float("nan"), "hi": float("nan"), "p_value": float("nan"), "n": 0}
    sa, sb = bootstrap_values(metric, yc, [a, b], k, n_resamples, seed)
    diffs = sa - sb
    va, vb = score(metric, yc, a, k), score(metric, yc, b, k)
    if metric == "accuracy":
        lo, hi = paired_score_ci(rows_right(yc, a), rows_right(yc, b), level)
    else:
        lo, hi = _percentile_ci(diffs, level)
        if lo == hi and va in (0.0, 1.0) and vb in (0.0, 1.0):  # every resample the same: no spread to read
            lo, hi = _extreme_f1_diff(va, vb, yc, level)
    plain = {"diff": va - vb, "lo": lo, "hi": hi,
             "p_value": float((diffs <= 0).mean()), "n": int(len(yc)), "method": interval_name(metric, True)}
    if unlabeled is None or metric != "accuracy" or multi_label:
        return plain
    UA, UB = (np.asarray(U, dtype=np.float64) for U in unlabeled)
    both_u = covered(UA) & covered(UB)
    d = rows_right(yc, a).astype(np.float64) - rows_right(yc, b).astype(np.float64)
    ppi = ppi_gain(d, expected_gain(PA[keep], PB[keep]), expected_gain(UA[both_u], UB[both_u]), level)
    return plain if ppi is None else plain | ppi | {"method": "prediction-powered"}


# --- learning curve: one JSON line per training run --------------------------------------------------------

def append_history(path: str | Path, record: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def read_history(path: str | Path) -> list[dict]:
    """History lines sorted by (round, created_at); unreadable lines are skipped."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return sorted(rows, key=lambda r: (r.get("round", 0), r.get("created_at", "")))


def learning_curve(history: list[dict], metric: str = "accuracy") -> list[tuple[int, int, float]]:
    """``(round, n_labels, metric)`` per history line that has the metric."""
    key: Callable[[dict], float | None] = lambda r: r.get("metrics", {}).get(metric)
    return [(int(r.get("round", 0)), int(r.get("n_labels", 0)), float(key(r))) for r in history if key(r) is not None]
