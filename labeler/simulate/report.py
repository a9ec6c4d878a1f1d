"""Summaries and outputs of ``labeler.simulate``: AUC, labels-to-95%, the table, CSV/JSON and the plot.

Plain functions over curves (lists of ``(n_labels, value)``) and the report dict ``simulate`` builds, so
they are tested on hand-made curves.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence

import numpy as np

RANDOM = "random"
FRACTION_95 = 0.95


def auc(n_labels: Sequence[float], values: Sequence[float]) -> float:
    """Trapezoid area under (n_labels, values) divided by the label range: the curve's mean level."""
    x, y = np.asarray(n_labels, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return float("nan")
    if len(x) == 1 or x[-1] == x[0]:
        return float(y.mean())
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0) / (x[-1] - x[0]))


def labels_to_target(n_labels: Sequence[int], values: Sequence[float], target: float) -> int | None:
    """The first budget whose value reaches ``target`` (None: never within the budgets run)."""
    for n, v in zip(n_labels, values):
        if v >= target - 1e-12:
            return int(n)
    return None


SHIPS = "ships_"  # "what ships": the final fit on every human label (``labeler.simulate.driver.ships_metrics``)


def shown_metrics(primary: str, multi_label: bool) -> list[str]:
    """The metrics the table and the comparison with random report: accuracy (exact match, multi-label) and the
    primary one; single-label, macro-F1 too, since accuracy on an imbalanced pool rewards a model that predicts its
    most frequent class (random's first models do: on 28 GoEmotions emotions, 36% "neutral", accuracy had random
    ahead by 0.14 at 50 labels while macro-F1 had it behind by 0.10)."""
    return list(dict.fromkeys(["accuracy", primary, *([] if multi_label else ["macro_f1"])]))


def shown_name(metric: str, multi_label: bool) -> str:
    """A metric's name in the printed table and log lines: multi-label accuracy is exact match (the JSON and CSV
    keep the key ``accuracy``)."""
    return "exact_match" if multi_label and metric == "accuracy" else metric


def summarize(curves: list, metrics: list[str], ref: dict, primary: str) -> dict:
    """Mean/std per budget over seeds, AUC per metric, labels-to-95% (accuracy and the primary metric)."""
    n = min(len(c.points) for c in curves)
    x = curves[0].n_labels[:n]
    out: dict = {"n_labels": x.tolist(), "seeds": [c.seed for c in curves]}
    ships = [SHIPS + m for m in metrics if all(SHIPS + m in p for c in curves for p in c.points[:n])]
    for m in dict.fromkeys([*metrics, *ships]):
        vals = np.stack([c.values(m)[:n] for c in curves])
        aucs = [auc(x, v) for v in vals]
        out[m] = {"mean": vals.mean(0).tolist(), "std": vals.std(0).tolist(),
                  "auc": float(np.mean(aucs)), "auc_std": float(np.std(aucs)),
                  "final": float(vals.mean(0)[-1])}
        base = m.removeprefix(SHIPS)
        if base in ref:
            target = FRACTION_95 * ref[base]
            out[m]["target_95"] = target
            out[m]["labels_to_95"] = labels_to_target(x, vals.mean(0), target)
            out[m]["labels_to_95_per_seed"] = [labels_to_target(x, v, target) for v in vals]
    out["primary"] = primary
    return out


def compare_to_random(summary: dict, random_summary: dict | None, metric: str) -> dict:
    if random_summary is None or summary is random_summary:
        return {}
    n = min(len(summary["n_labels"]), len(random_summary["n_labels"]))
    diff = np.array(summary[metric]["mean"][:n]) - np.array(random_summary[metric]["mean"][:n])
    worst = int(np.argmin(diff))
    mine, theirs = summary[metric].get("labels_to_95"), random_summary[metric].get("labels_to_95")
    return {"auc_minus_random": summary[metric]["auc"] - random_summary[metric]["auc"],
            "worst_gap_vs_random": float(diff[worst]), "worst_gap_at": int(summary["n_labels"][worst]),
            "labels_to_95_ratio": (mine / theirs) if mine and theirs else None}


def table_rows(report: dict) -> list[dict]:
    """One row per variant: labels-to-95%, AUC, final value, against random (``shown_metrics``)."""
    primary = report["primary_metric"]
    rows = []
    for v in report["variants"]:
        s = v["summary"]
        row = {"variant": v["name"], "seeds": len(s["seeds"]), "max_labels": s["n_labels"][-1]}
        for m in shown_metrics(primary, report["multi_label"]):
            if m not in s:  # a report saved before the metric was shown
                continue
            if SHIPS + m in s:
                row[f"{SHIPS}{m}_labels_to_95"] = s[SHIPS + m].get("labels_to_95")
                row[f"{SHIPS}{m}_auc"] = s[SHIPS + m]["auc"]
            row[f"{m}_labels_to_95"] = s[m].get("labels_to_95")
            row[f"{m}_auc"] = s[m]["auc"]
            row[f"{m}_auc_std"] = s[m]["auc_std"]
            row[f"{m}_final"] = s[m]["final"]
            cmp = v["vs_random"].get(m) or {}
            row[f"{m}_auc_vs_random"] = cmp.get("auc_minus_random")
            row[f"{m}_worst_gap_vs_random"] = cmp.get("worst_gap_vs_random")
            row[f"{m}_worst_gap_at"] = cmp.get("worst_gap_at")
        rows.append(row)
    return rows


def format_table(report: dict) -> str:
    primary = report["primary_metric"]
    ref = report["reference"]
    ml = report["multi_label"]
    metrics = [m for m in shown_metrics(primary, ml) if m in ref]
    name = {m: shown_name(m, ml) for m in [*metrics, primary, "accuracy"]}
    head = (f"{report['dataset']}: pool {report['pool']}, eval {report['eval']}; full-pool {ref['model']}: "
            + ", ".join(f"{name[m]} {ref[m]:.3f} (95% = {FRACTION_95 * ref[m]:.3f})" for m in metrics)
            + f"; zero-shot {name['accuracy']} {report['zero_shot']['accuracy']:.3f}; seeds {report['seeds']}")
    cols = ["variant"] + [c for m in metrics for c in (f"{name[m]}:L95", f"{name[m]}:AUC", f"{name[m]}:final",
                                                       f"{name[m]}:AUC-rand", f"{name[m]}:worst-rand@n")]
    rows = table_rows(report)
    ships = any(f"{SHIPS}{primary}_auc" in r for r in rows)
    cols += [f"ships {name[primary]}:L95", f"ships {name[primary]}:AUC"] if ships else []
    lines = [head, " | ".join(cols)]

    def fmt(x, digits=3):
        return "-" if x is None else (f"{x:+.{digits}f}" if isinstance(x, float) and digits < 0 else f"{x:.{digits}f}")

    for row in rows:
        cells = [row["variant"]]
        for m in metrics:
            l95 = row[f"{m}_labels_to_95"]
            cells += [str(l95) if l95 is not None else f">{row['max_labels']}",
                      f"{row[f'{m}_auc']:.3f}±{row[f'{m}_auc_std']:.3f}", f"{row[f'{m}_final']:.3f}",
                      "-" if row[f"{m}_auc_vs_random"] is None else f"{row[f'{m}_auc_vs_random']:+.3f}",
                      "-" if row[f"{m}_worst_gap_vs_random"] is None else
                      f"{row[f'{m}_worst_gap_vs_random']:+.3f}@{row[f'{m}_worst_gap_at']}"]
        if ships:
            l95, a = row.get(f"{SHIPS}{primary}_labels_to_95"), row.get(f"{SHIPS}{primary}_auc")
            cells += [str(l95) if l95 is not None else (f">{row['max_labels']}" if a is not None else "-"),
                      "-" if a is None else f"{a:.3f}"]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def write_outputs(report: dict, out_dir: Path) -> dict[str, Path]:
    """``curves.csv`` (one row per variant x seed x round), ``curves.json`` (everything), ``summary.json``
    (the table), ``curves.png`` (mean ± std over seeds per metric)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / "curves.csv", "json": out_dir / "curves.json", "summary": out_dir / "summary.json",
             "png": out_dir / "curves.png"}
    metrics = report["metrics"]
    with open(paths["csv"], "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "variant", "strategy", "cold_start", "weak_fraction", "coverage", "gold_share",
                         "seed", "round", "n_labels", "n_train", *metrics, "seconds"])
        for v in report["variants"]:
            st = v["settings"]
            for run in v["runs"]:
                for p in run["curve"]:
                    writer.writerow([report["dataset"], v["name"], st["strategy"], st["cold_start"],
                                     st["weak"]["fraction"], st["coverage"], st["gold_share"], run["seed"], p["round"],
                                     p["n_labels"], p.get("n_train", p["n_labels"]),
                                     *[f"{p[m]:.6f}" for m in metrics], p["seconds"]])
    paths["json"].write_text(json.dumps(report, indent=1))
    summary = {k: report[k] for k in ("dataset", "pool", "eval", "primary_metric", "seeds", "reference", "zero_shot")}
    summary["table"] = table_rows(report)
    paths["summary"].write_text(json.dumps(summary, indent=2))
    plot(report, paths["png"])
    return paths


def plot(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(["accuracy", report["primary_metric"], "macro_f1"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4.2), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        colors = plt.get_cmap("tab20" if len(report["variants"]) > 10 else "tab10").colors
        for i, v in enumerate(report["variants"]):
            s = v["summary"]
            x, mean, std = np.array(s["n_labels"]), np.array(s[m]["mean"]), np.array(s[m]["std"])
            style = "--" if v["settings"]["strategy"] == RANDOM else "-"
            (line,) = ax.plot(x, mean, style, label=v["name"], linewidth=1.5, color=colors[i % len(colors)])
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15, linewidth=0)
            if SHIPS + m in s and v["settings"].get("gold_share"):  # without gold, what ships is the queue model
                ax.plot(x, s[SHIPS + m]["mean"], ":", label=f"{v['name']}: what ships", linewidth=1.2, color=line.get_color())
        if m in report["reference"]:
            ref = report["reference"][m]
            ax.axhline(ref, color="black", linewidth=0.8, label=f"full pool ({ref:.3f})")
            ax.axhline(FRACTION_95 * ref, color="grey", linewidth=0.8, linestyle=":", label="95% of full pool")
        ax.set_xlabel("human labels")
        ax.set_ylabel(shown_name(m, report["multi_label"]))
        ax.set_title(f"{report['dataset']}: {shown_name(m, report['multi_label'])}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
