"""The compare report's plots (matplotlib, Agg backend, imported on first use): metrics with intervals, paired
differences, confusion matrices (at most ``MAX_CONFUSION_CLASSES`` classes, the most confused ones above that)
and the learning curve. ``training.report`` writes them beside the Markdown and JSON."""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from training.compare import CompareResult
from training.evaluate import learning_curve, metric_name

MAX_CONFUSION_CLASSES = 30  # the most classes a confusion plot draws


def excludes_estimate(ci: dict, key: str = "value") -> bool:
    """Whether a percentile interval leaves out its own point estimate (marked in plots and tables)."""
    v, lo, hi = ci.get(key), ci.get("lo"), ci.get("hi")
    return None not in (v, lo, hi) and not any(map(math.isnan, (v, lo, hi))) and not lo <= v <= hi


# --- plots ------------------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def _figure(path: Path, figsize: tuple[float, float]):
    """A figure and its axes, saved to ``path`` on success and closed either way."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=figsize)
    try:
        yield ax
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def plot_metrics(result: CompareResult, path: Path) -> Path:
    """One bar per system and metric (the estimate) with a line from ``lo`` to ``hi`` (the 95% CI)."""
    metrics, names = result.shown_metrics(), list(result.systems)
    width, x = 0.8 / len(names), np.arange(len(metrics))
    with _figure(path, (max(5.0, 0.5 * len(names) * len(metrics) + 3), 4)) as ax:
        for j, name in enumerate(names):
            ci = result.systems[name].ci
            xs = x + j * width - 0.4 + width / 2
            vals, lo, hi = (np.array([ci[m][key] for m in metrics], dtype=float) for key in ("value", "lo", "hi"))
            ax.bar(xs, np.nan_to_num(vals), width, label=name[:30])
            ok = ~(np.isnan(lo) | np.isnan(hi))
            ax.vlines(xs[ok], lo[ok], hi[ok], color="black", linewidth=1.2)
        ax.set_xticks(x, [metric_name(m, result.multi_label) for m in metrics])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"score on {result.n} gold labels (95% CI)")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return path


def plot_diffs(result: CompareResult, path: Path) -> Path | None:
    """The primary minus each other system: the estimate (dot) and its paired 95% CI (line), 0 marked."""
    rows = [(o, d) for o, d in result.diffs.items() if d.get("n")]
    if not rows:
        return None
    ys = np.arange(len(rows))[::-1]
    with _figure(path, (6, 1.2 + 0.4 * len(rows))) as ax:
        for yv, (_, d) in zip(ys, rows):
            ax.hlines(yv, d["lo"], d["hi"], color="black", linewidth=1.5)
            ax.plot([d["diff"]], [yv], "o", color="tab:blue")
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_yticks(ys, [o[:30] for o, _ in rows], fontsize=8)
        ax.set_xlabel(f"{result.primary[:30]} minus system, {metric_name(result.metric, result.multi_label)} (95% CI)")
    return path


def confused_classes(matrix, k_max: int = MAX_CONFUSION_CLASSES) -> list[int]:
    """The class indices a confusion plot shows: all up to ``k_max``, else the ``k_max`` with the most
    off-diagonal counts (missed + wrongly predicted; ties: more support, then index), in index order."""
    C = np.asarray(matrix, dtype=np.int64)
    k = len(C)
    if k <= k_max:
        return list(range(k))
    off = C.sum(0) + C.sum(1) - 2 * np.diag(C)
    order = sorted(range(k), key=lambda i: (-off[i], -C[i].sum(), i))
    return sorted(order[:k_max])


def plot_confusion(matrix: list, labels: list[str], title: str, path: Path, k_max: int = MAX_CONFUSION_CLASSES) -> Path:
    keep = confused_classes(matrix, k_max)
    C = np.asarray(matrix, dtype=float)[np.ix_(keep, keep)]
    names, k = [labels[i][:30] for i in keep], len(keep)
    if k < len(labels):
        title = f"{title}: the {k} most-confused of {len(labels)} classes"
    with _figure(path, (min(3 + 0.4 * k, 16), min(2.5 + 0.4 * k, 16))) as ax:
        ax.imshow(C, cmap="Blues")
        ticks = np.arange(k)
        ax.set_xticks(ticks, names, rotation=90 if k > 6 else 0, fontsize=7 if k > 12 else 9)
        ax.set_yticks(ticks, names, fontsize=7 if k > 12 else 9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title[:120], fontsize=9)
        if k <= 20:
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, int(C[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if C[i, j] > C.max() / 2 else "black")
    return path


def plot_learning_curve(history: list[dict], metric: str, path: Path) -> Path | None:
    points = learning_curve(history, metric)
    if not points:
        return None
    with _figure(path, (5, 3.5)) as ax:
        ax.plot([p[1] for p in points], [p[2] for p in points], marker="o")
        for r, n, v in points:
            ax.annotate(f"r{r}", (n, v), textcoords="offset points", xytext=(3, 3), fontsize=7)
        ax.set_xlabel("human labels")
        ax.set_ylabel(f"gold {metric}")
        ax.set_title("learning curve")
    return path


# --- tables -----------------------------------------------------------------------------------------------
