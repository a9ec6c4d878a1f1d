"""Write a ``CompareResult`` as Markdown, JSON and PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from training.compare import CompareResult
from training.evaluate import learning_curve


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "system"


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def _clean(o):
    """NaN is not JSON: write null."""
    if isinstance(o, float) and math.isnan(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_clean(v) for v in o]
    return o


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_metrics(result: CompareResult, path: Path) -> Path:
    plt = _plt()
    metrics, names = result.shown_metrics(), list(result.systems)
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(names) * len(metrics) / 2 + 2), 4))
    width = 0.8 / len(names)
    x = np.arange(len(metrics))
    for j, name in enumerate(names):
        ci = result.systems[name].ci
        vals = np.array([ci[m]["value"] for m in metrics], dtype=float)
        err = np.array([[vals[i] - ci[m]["lo"], ci[m]["hi"] - vals[i]] for i, m in enumerate(metrics)], dtype=float).T
        ax.bar(x + j * width - 0.4 + width / 2, vals, width, yerr=np.nan_to_num(err), capsize=3, label=name)
    ax.set_xticks(x, metrics)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"score on {result.n} gold labels (95% CI)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(matrix: list, labels: list[str], title: str, path: Path) -> Path:
    plt = _plt()
    C = np.asarray(matrix, dtype=float)
    k = len(labels)
    fig, ax = plt.subplots(figsize=(min(3 + 0.45 * k, 16), min(2.5 + 0.45 * k, 16)))
    ax.imshow(C, cmap="Blues")
    ticks = np.arange(k)
    ax.set_xticks(ticks, labels, rotation=90 if k > 6 else 0, fontsize=7 if k > 12 else 9)
    ax.set_yticks(ticks, labels, fontsize=7 if k > 12 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, int(C[i, j]), ha="center", va="center", fontsize=8, color="white" if C[i, j] > C.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_learning_curve(history: list[dict], metric: str, path: Path) -> Path | None:
    points = learning_curve(history, metric)
    if not points:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    n_labels = [p[1] for p in points]
    ax.plot(n_labels, [p[2] for p in points], marker="o")
    for r, n, v in points:
        ax.annotate(f"r{r}", (n, v), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.set_xlabel("human labels")
    ax.set_ylabel(f"gold {metric}")
    ax.set_title("learning curve")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def to_markdown(result: CompareResult, images: dict[str, str] | None = None) -> str:
    metrics = result.shown_metrics()
    lines = [
        "# Comparison on gold labels",
        "",
        f"**{result.verdict}**",
        "",
        f"{result.n} gold labels, {len(result.labels)} labels ({'multi' if result.multi_label else 'single'}-label); "
        f"95% percentile bootstrap CIs over {result.n_resamples} resamples (seed {result.seed}); "
        "abstaining rows are left out of a system's metrics and counted in its coverage.",
        "",
        "| system | kind | coverage | " + " | ".join(metrics) + " | ECE |",
        "|---|---|---:|" + "---:|" * (len(metrics) + 1),
    ]
    for s in result.systems.values():
        cells = [f"{s.ci[m]['value']:.3f} ({s.ci[m]['lo']:.3f}–{s.ci[m]['hi']:.3f})" for m in metrics]
        lines.append(f"| {s.name} | {s.kind} | {s.metrics['coverage']:.2f} | " + " | ".join(cells) + f" | {s.metrics.get('ece', float('nan')):.3f} |")
    if result.diffs:
        lines += ["", f"## {result.primary} against each system (paired bootstrap, {result.metric})", ""]
        lines += ["| other | difference | 95% CI | p (diff ≤ 0) | rows |", "|---|---:|---|---:|---:|"]
        for other, d in result.diffs.items():
            lines.append(f"| {other} | {d['diff']:+.3f} | {d['lo']:+.3f}..{d['hi']:+.3f} | {d['p_value']:.3f} | {d['n']} |")
        lines += [""] + [f"- {v}" for v in result.verdicts.values()]
    lines += ["", "## Per class", ""]
    lines += ["| label | " + " | ".join(f"{n} P / R / F1" for n in result.systems) + " | support |", "|---|" + "---|" * len(result.systems) + "---:|"]
    for lab in result.labels:
        cells, support = [], 0
        for s in result.systems.values():
            pc = s.metrics.get("per_class", {}).get(lab)
            cells.append(f"{pc['precision']:.2f} / {pc['recall']:.2f} / {pc['f1']:.2f}" if pc else "–")
            support = pc["support"] if pc else support
        lines.append(f"| {lab} | " + " | ".join(cells) + f" | {support} |")
    if images:
        lines += ["", "## Plots", ""] + [f"![{k}]({v})" for k, v in images.items()]
    return "\n".join(lines) + "\n"


def write_report(
    result: CompareResult,
    out_dir: str | Path,
    history: list[dict] | None = None,
    print_table: bool = False,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.json``, ``metrics.png``, ``confusion_<system>.png`` (single-label) and
    ``learning_curve.png`` (when ``history`` has points) into ``out_dir``; return their paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"metrics_png": plot_metrics(result, out / "metrics.png")}
    if not result.multi_label:
        for name, s in result.systems.items():
            if s.metrics.get("confusion"):
                paths[f"confusion_{name}"] = plot_confusion(s.metrics["confusion"], result.labels, name, out / f"confusion_{_safe(name)}.png")
    if history:
        lc = plot_learning_curve(history, result.metric, out / "learning_curve.png")
        if lc:
            paths["learning_curve_png"] = lc
    images = {k: p.name for k, p in paths.items()}
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(to_markdown(result, images))
    paths["json"] = out / "report.json"
    data = _clean(json.loads(json.dumps(result.to_dict(), default=_json_default)))
    data["history"] = history or []
    paths["json"].write_text(json.dumps(data, indent=2, default=_json_default))
    if print_table:
        print(result.table())
    return paths
