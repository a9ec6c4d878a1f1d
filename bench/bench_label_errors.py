"""Suspected label errors (issue 13.4): how well ``labeler review`` finds flipped labels, and what fixing them buys.

For each data set and seed: ``--n`` records drawn at random from the pool (the train split) carry their true
labels; 5% and 10% of them are flipped at random to another class (uniformly). Multi-label sets (NLU++,
GoEmotions): a flipped record's label set loses one of its labels or gains a wrong one (half and half; a record
with none gains one), the slips an annotator makes on a long label list; the models are scored on micro-F1. ``labeler.quality.label_errors`` ranks the
labels exactly as ``labeler review`` does (a 5-fold logistic head, ``training.head.LinearModel`` C=10, on the
packaged MiniLM's embeddings; cleanlab's self-confidence label quality, lowest first). Reported:

- precision and recall of the top ``budget`` suspects, budget = 2 x the flips (twice the flip rate x n: the
  review effort a team would spend; precision is at most 0.5 there), against the flipped set; the same at a
  budget of exactly the flips (precision = recall); and of the set cleanlab's ``find_label_issues`` flags
  (its own count, no budget);
- accuracy on the data set's held-out test split of the same logistic head trained on (a) the clean labels,
  (b) the flipped labels, (c) the flipped labels after an oracle second reviewer corrected the budget's
  suspects (a suspect that was not flipped keeps its label), and the gain (c) - (b).

Median and (min..max) over seeds. Embeddings come from the signal cache of ``labeler simulate``'s project
folders (``.labeler/simulate/<dataset>``), so a re-run encodes nothing.

    python bench/bench_label_errors.py --datasets ag_news,banking77,sms_spam --seeds 3 --n 1000

Writes bench/results/label_errors.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from common import RESULTS, write_json

from labeler.loop.engine import QUEUE_MODEL_C
from labeler.quality.label_errors import oof_probabilities, rank_labels, rankable
from training.head import LinearModel

RATES = (0.05, 0.10)
BUDGET_FACTOR = 2


def embed(name: str):
    """(SimData, pool embeddings, test embeddings) through the simulation's embedding cache."""
    from labeler.loop.scoring import build_signals, embedder
    from labeler.simulate import dataset_data

    data = dataset_data(name)
    emb = embedder(data.config, build_signals(data.config))
    return data, emb.encode(data.texts), emb.encode(data.eval_texts)


def accuracy(X, y, X_test, y_test, k: int, seed: int) -> float:
    """Test accuracy of the head trained on ``y``; multi-label (``y`` a 0/1 matrix), micro-F1 at one 0.5 cut."""
    multi_label = np.ndim(y) == 2
    model = LinearModel(k, multi_label, QUEUE_MODEL_C, seed).fit(X, y)
    if not multi_label:
        return float((model.predict(X_test) == y_test).mean())
    from sklearn.metrics import f1_score

    return float(f1_score(y_test, model.predict_proba(X_test) >= 0.5, average="micro", zero_division=0))


def flip(y: np.ndarray, rate: float, k: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(flipped labels, flipped rows): ``round(rate * n)`` rows moved to another class, uniformly."""
    n_flip = int(round(rate * len(y)))
    rows = np.sort(rng.choice(len(y), n_flip, replace=False))
    out = y.copy()
    if np.ndim(y) == 2:  # multi-label: one label lost or one wrong label gained
        for r in rows:
            on, off = np.flatnonzero(out[r]), np.flatnonzero(out[r] == 0)
            out[r, rng.choice(on) if len(on) and rng.random() < 0.5 else rng.choice(off)] ^= 1
        return out, rows
    out[rows] = (y[rows] + rng.integers(1, k, n_flip)) % k
    return out, rows


def one(data, X_pool, X_test, n: int, seed: int, rates=RATES) -> list[dict]:
    k = len(data.labels)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(data.ids), min(n, len(data.ids)), replace=False))
    X, y = X_pool[idx], data.y[idx]
    clean = accuracy(X, y, X_test, data.eval_y, k, seed)
    out = []
    for rate in rates:
        t0 = time.perf_counter()
        noisy, rows = flip(y, rate, k, np.random.default_rng([seed, int(round(rate * 1000))]))
        is_flip = np.zeros(len(y), dtype=bool)
        is_flip[rows] = True
        ml = data.multi_label
        keep = np.flatnonzero(rankable(noisy, k, ml))  # single-label classes with one label are not ranked
        P = oof_probabilities(X[keep], noisy[keep], k, ml, seed=seed)
        ranking = rank_labels(P, noisy[keep], ml)
        budget = BUDGET_FACTOR * len(rows)  # 0 with nothing flipped: what cleanlab flags is then all false alarms
        top = keep[ranking.top(budget)]
        flagged = keep[ranking.flagged]
        fixed = noisy.copy()
        fixed[top] = y[top]  # the oracle reviewer: every suspect gets its true label
        out.append({
            "seed": seed, "rate": rate, "n": len(y), "flipped": len(rows), "budget": budget,
            "unranked": len(y) - len(keep),
            "precision": float(is_flip[top].mean()) if len(top) else None,
            "recall": float(is_flip[top].sum() / len(rows)) if len(rows) else None,
            # budget = the flips: precision = recall
            "at_flips": float(is_flip[keep[ranking.top(len(rows))]].mean()) if len(rows) else None,
            "flagged": len(flagged), "flagged_precision": float(is_flip[flagged].mean()) if len(flagged) else None,
            "flagged_recall": float(is_flip[flagged].sum() / len(rows)) if len(rows) else None,
            "acc_clean": clean, "acc_flipped": accuracy(X, noisy, X_test, data.eval_y, k, seed),
            "acc_corrected": accuracy(X, fixed, X_test, data.eval_y, k, seed),
            "seconds_ranking": round(time.perf_counter() - t0, 2)})
        out[-1]["gain"] = out[-1]["acc_corrected"] - out[-1]["acc_flipped"]
    return out


def summary(runs: list[dict]) -> dict:
    keys = ["flipped", "budget", "precision", "recall", "at_flips", "unranked", "flagged", "flagged_precision",
            "flagged_recall", "acc_clean", "acc_flipped", "acc_corrected", "gain"]
    out = {}
    for key in keys:
        vals = np.array([r[key] for r in runs if r[key] is not None], dtype=float)
        out[key] = {"median": float(np.median(vals)), "min": float(vals.min()), "max": float(vals.max())} \
            if len(vals) else None
    return out


def fmt(s: dict | None, digits: int = 3, sign: bool = False) -> str:
    if s is None:
        return "-"
    f = f"{{:+.{digits}f}}" if sign else f"{{:.{digits}f}}"
    return f"{f.format(s['median'])} ({f.format(s['min'])}..{f.format(s['max'])})"


def markdown(results: dict) -> str:
    lines = ["| data set (test metric) | flipped | budget | precision@budget | recall@budget | precision = recall at budget = flips "
             "| cleanlab flags: n, precision, recall | acc clean | acc flipped | acc corrected | gain |",
             "|---|---:|---:|---|---|---|---|---|---|---|---|"]
    for name, res in results["datasets"].items():
        for rate, s in res["summary"].items():
            lines.append(
                f"| {name}{' (micro-F1)' if res.get('metric') == 'micro_f1' else ''} "
                f"| {float(rate):.0%} ({s['flipped']['median']:.0f} of {res['n']}) "
                f"| {s['budget']['median']:.0f} "
                f"| {fmt(s['precision'])} | {fmt(s['recall'])} | {fmt(s['at_flips'])} | {s['flagged']['median']:.0f}, "
                f"{fmt(s['flagged_precision'], 2)}, {fmt(s['flagged_recall'], 2)} | {fmt(s['acc_clean'])} "
                f"| {fmt(s['acc_flipped'])} | {fmt(s['acc_corrected'])} | {fmt(s['gain'], sign=True)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="ag_news,banking77,sms_spam")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000, help="human labels per run (records of the pool, at random)")
    ap.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES),
                    help="shares of labels flipped, comma-separated (0: no label is wrong, every flag a false alarm)")
    ap.add_argument("--out", type=Path, default=RESULTS / "label_errors.json")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    results = {"n": args.n, "seeds": list(range(args.seeds)), "rates": rates, "budget_factor": BUDGET_FACTOR,
               "model": f"training.head.LinearModel C={QUEUE_MODEL_C:g} on MiniLM embeddings, 5-fold out-of-fold",
               "datasets": {}}
    t0 = time.perf_counter()
    for name in args.datasets.split(","):
        data, X_pool, X_test = embed(name)
        runs = [r for seed in range(args.seeds) for r in one(data, X_pool, X_test, args.n, seed, rates)]
        results["datasets"][name] = {
            "n": min(args.n, len(data.ids)), "classes": len(data.labels), "test": len(data.eval_ids), "runs": runs,
            "metric": "micro_f1" if data.multi_label else "accuracy",
            "summary": {str(rate): summary([r for r in runs if r["rate"] == rate]) for rate in rates}}
        print(f"[{name}] done in {time.perf_counter() - t0:.0f}s", flush=True)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    write_json(args.out, results, indent=1)
    print(markdown(results))


if __name__ == "__main__":
    main()
