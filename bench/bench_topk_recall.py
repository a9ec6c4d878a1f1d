"""How many candidates must the NLI cascade take from the embedding signal? (issue 18)

    .venv/bin/python bench/bench_topk_recall.py                       # every shared data set, eval rows
    .venv/bin/python bench/bench_topk_recall.py --max-texts 50 --out /tmp/topk.json   # smoke test

For every data set ``labeler simulate`` knows (labeler/simulate/datasets.py: AG News, BANKING77, SMS spam,
NLU++ banking), the packaged-MiniLM embedding signal scores the held-out rows with label names only (what
a new user starts with) and with the hand-written label descriptions. Reported: the share of true labels
among each text's top-k labels (``labeler.signals.cascade.topk_recall``; multi-label: micro recall over
every true label), the cost ratio k/K of a cascade over k candidates against the full NLI pass, and the
smallest k reaching 95% recall (``suggest_k``; K when a threshold keeps recall below 95%). Multi-label
data sets add the cascade's own candidate rule (labels over the recall-oriented threshold, at least the
top one, at most k) for a few thresholds, whose cost is the mean candidate count over K. The label set is
the labels the rows use, sorted, as ``labeler simulate --dataset`` configures it.

Prints a table and writes bench/results/topk_recall.json.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from common import DATASETS, RESULTS, SHARED_DATASETS, markdown_table, write_json
from harness import machine_info

from labeler.signals.cascade import DEFAULT_THRESHOLD, candidate_sets, suggest_k, topk_recall

KS = (1, 2, 3, 5, 10, 20)


def label_names(rows, multi_label: bool) -> list[str]:
    """The labels the rows use, sorted (as ``labeler simulate --dataset`` configures them)."""
    return sorted({lab for r in rows for lab in (r.label if multi_label else [r.label])})


def targets(rows, names: list[str], multi_label: bool) -> np.ndarray:
    col = {n: j for j, n in enumerate(names)}
    if not multi_label:
        return np.array([col[r.label] for r in rows])
    y = np.zeros((len(rows), len(names)))
    for i, r in enumerate(rows):
        y[i, [col[lab] for lab in r.label]] = 1
    return y


def measure(P: np.ndarray, y: np.ndarray, multi_label: bool, threshold: float | None) -> dict:
    n_labels = P.shape[1]
    ks = [k for k in KS if k < n_labels] + [n_labels]
    recall = topk_recall(P, y, ks, threshold=threshold)
    k95 = suggest_k(P, y, target=0.95, threshold=threshold)
    if threshold is None:
        cost = {k: k / n_labels for k in ks}
    else:  # the multi-label cascade's candidate count varies per text
        cost = {k: float(np.mean([len(c) for c in candidate_sets(P, k, True, threshold)])) / n_labels for k in ks}
    cost95 = cost.get(k95)
    if cost95 is None:
        cost95 = (k95 / n_labels if threshold is None else
                  float(np.mean([len(c) for c in candidate_sets(P, k95, True, threshold)])) / n_labels)
    return {"K": n_labels, "recall": recall, "cost": cost, "k_for_95": k95, "cost_at_k_for_95": cost95,
            "recall_at_k_for_95": topk_recall(P, y, [k95], threshold=threshold)[k95]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--split", default="eval", choices=["eval", "pool"])
    ap.add_argument("--max-texts", type=int, default=0, help="sample this many rows per data set (0: all)")
    ap.add_argument("--thresholds", default=f"{DEFAULT_THRESHOLD},0.03,0.1",
                    help="multi-label candidate thresholds to report (the cascade's default first)")
    ap.add_argument("--root", default=str(SHARED_DATASETS))
    ap.add_argument("--out", default=str(RESULTS / "topk_recall.json"))
    args = ap.parse_args()
    from labeler.signals.embedding import EmbeddingSignal

    results: dict = {"machine": machine_info(), "split": args.split, "ks": list(KS), "thresholds": args.thresholds,
                     "model": "packaged all-MiniLM-L6-v2 (embedding signal defaults)", "datasets": {}}
    table_rows = []
    with tempfile.TemporaryDirectory() as cache:  # embeddings are shared by the two label variants
        for name in args.datasets.split(","):
            spec = DATASETS[name]
            pool, held = spec.load(args.root)
            rows = held if args.split == "eval" else pool
            if args.max_texts and len(rows) > args.max_texts:
                pick = np.random.RandomState(0).choice(len(rows), args.max_texts, replace=False)
                rows = [rows[i] for i in sorted(pick)]
            descriptions = spec.descriptions(Path(args.root))
            names = label_names(pool + held, spec.multi_label)
            y = targets(rows, names, spec.multi_label)
            texts = [r.text for r in rows]
            per = {}
            for variant in ("names", "descriptions"):
                infos = [{"name": n, "description": descriptions.get(n) if variant == "descriptions" else None}
                         for n in names]
                sig = EmbeddingSignal("emb", infos, spec.multi_label, {}, cache_dir=cache)
                P = sig.predict_proba(texts)
                rules = [("top-k", None)] + ([(f"threshold {t}, top-k cap", float(t)) for t in args.thresholds.split(",")]
                                             if spec.multi_label else [])
                for rule, threshold in rules:
                    m = measure(P, y, spec.multi_label, threshold)
                    per[f"{variant}, {rule}"] = m
                    row = {"dataset": name, "texts": len(texts), "K": m["K"], "labels as": variant, "candidates": rule}
                    for k in KS:
                        if k < m["K"]:
                            row[f"top-{k}"] = f"{m['recall'][k]:.3f} ({m['cost'][k]:.2f})"
                    row["k for 95%"] = m["k_for_95"]
                    row["recall, cost k/K"] = f"{m['recall_at_k_for_95']:.3f}, {m['cost_at_k_for_95']:.3f}"
                    table_rows.append(row)
                    print(f"  {name:14s} {variant:12s} {rule:26s} k95={m['k_for_95']:3d} "
                          f"cost {m['cost_at_k_for_95']:.3f}", flush=True)
            results["datasets"][name] = {"texts": len(texts), "multi_label": spec.multi_label, "labels": len(names),
                                         "variants": per}
    cols = ["dataset", "texts", "K", "labels as", "candidates"] + [f"top-{k}" for k in KS] + ["k for 95%", "recall, cost k/K"]
    print("\n## Top-k recall of the embedding signal (candidates for the NLI cascade)\n")
    print("Each cell: recall (cost ratio against the full NLI pass).\n")
    print(markdown_table(table_rows, cols))
    write_json(args.out, results)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
