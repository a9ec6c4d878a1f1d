"""Interval coverage: do the intervals reported on random gold hold over many draws of the reserve?

Per data set, per reserve seed (``GoldReserve(share, calib_share, seed)``: a different uniform random reserve
of the pool each time), the loop's own steps in process (``labeler.loop.engine.plan_batch`` with the config's
Policy, the oracle answers, ``fit_queue_model``: the logistic head on the cached embeddings, as a logreg run)
up to each budget. At each budget, on the gold labels (the reserve's answered records outside calibration):

- reported: zero-shot accuracy (``bootstrap_ci``), the run's accuracy (``bootstrap_ci``), the gain
  (``paired_bootstrap``), exactly the estimators ``compare`` uses; and the final fit's cross-fitted accuracy
  (the same model on every human label plus the same weak labels; ``--folds`` folds over the answered
  reserve: each fold scored by a model fitted on every other human label; percentile bootstrap over those
  records, as ``train --final-fit`` reports it);
- true: the same quantities on the held-out test split, on the whole reserve (gold's own population: a
  uniform sample of the pool the run never trained on; for the final fit, the reserve records nobody
  answered) and on the pool's records never asked;
- covered: the share of draws whose interval holds the true value, and the mean error (reported - true)
  with its sd: a bias shows as a mean error far from 0 in sd / sqrt(draws) units.

    python bench/bench_interval_coverage.py --datasets ag_news,banking77 --draws 20

Writes bench/results/interval_coverage.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, write_json
OUT = RESULTS / "interval_coverage.json"
PLANS = {"ag_news": (50, (300, 1000)), "banking77": (77, (462, 1155))}  # batch, budgets (labels)
N_RESAMPLES = 1000


def acc(P: np.ndarray, y: np.ndarray) -> float:
    return float((P.argmax(1) == y).mean()) if len(y) else float("nan")


def cross_fitted(fit, rows, y_rows, reserve_rows, folds: int, seed: int):
    """Out-of-fold correctness of each answered reserve record: fold f's records scored by ``fit(rows, y)``'s
    model, fitted on every other human label (queue-chosen, gold and calibration)."""
    fold = np.random.default_rng(seed).permutation(len(reserve_rows)) % folds
    correct = np.zeros(len(reserve_rows), dtype=bool)
    pos = {int(r): i for i, r in enumerate(rows)}
    for f in range(folds):
        held = set(int(r) for r in reserve_rows[fold == f])
        keep = np.array([int(r) not in held for r in rows])
        P = fit(rows[keep], y_rows[keep])(reserve_rows[fold == f])
        correct[fold == f] = P.argmax(1) == y_rows[[pos[int(r)] for r in reserve_rows[fold == f]]]
    return correct


def percentile_ci(correct: np.ndarray, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n = len(correct)
    means = correct[rng.integers(0, n, size=(N_RESAMPLES, n))].mean(1) if n else np.array([np.nan])
    return {"value": float(correct.mean()) if n else float("nan"), "lo": float(np.quantile(means, 0.025)),
            "hi": float(np.quantile(means, 0.975)), "n": int(n)}


def one_draw(data, feats, policy, batch: int, budgets, seed: int, folds: int) -> list[dict]:
    from labeler.loop.engine import class_counts, fit_queue_model, plan_batch, queue_matrix
    from labeler.evaluation.gold import CALIB, GOLD, GoldReserve
    from labeler.simulate.driver import Oracle
    from training.evaluate import bootstrap_ci, paired_bootstrap
    ml, thr, k = data.multi_label, data.threshold, len(data.labels)
    gold_reserve = GoldReserve(policy.gold_share, policy.calib_share, seed=seed)
    reserve, order = gold_reserve.draw(data.ids)
    split = np.array([gold_reserve.split_of(i) if m else "train" for i, m in zip(data.ids, reserve)], dtype=object)
    oracle, labeled, model_P, out = Oracle(data.y), np.zeros(len(data.ids), dtype=bool), None, []
    feats.reset()
    for round_no in range(max(budgets) // batch):
        signals = dict(feats.signals) | ({"model": model_P} if model_P is not None else {})
        train = np.flatnonzero(labeled & ~reserve)
        b = plan_batch(policy, batch, queue_matrix(feats.P0, model_P, policy.queue_with, ml), signals, feats.X,
                       labeled, order, reserve, class_counts(data.y[train], k, ml), round_no, ml, thr)
        oracle.answer(b.indices)
        labeled[b.indices] = True
        train = np.flatnonzero(labeled & ~reserve)
        feats.rescore(train, data.y[train])
        model, _ = fit_queue_model(feats.X, train, data.y[train], feats.P0, labeled | reserve, policy, ml, thr)
        model_P = model.predict_proba(feats.X)
        n = int(labeled.sum())
        if n not in budgets:
            continue
        gold = np.flatnonzero(labeled & (split == GOLD))
        y_g = data.y[gold]
        boot = dict(n_resamples=N_RESAMPLES, seed=0)
        rep = {"zero_shot": bootstrap_ci(feats.P0[gold], y_g, "accuracy", **boot),
               "run": bootstrap_ci(model_P[gold], y_g, "accuracy", **boot),
               "gain": paired_bootstrap(model_P[gold], feats.P0[gold], y_g, "accuracy", **boot)}
        P_eval = model.predict_proba(feats.X_eval)
        never = ~labeled
        res_rows = np.flatnonzero(reserve)
        true = {"test": {"zero_shot": acc(feats.P0_eval, data.eval_y), "run": acc(P_eval, data.eval_y)},
                "reserve": {"zero_shot": acc(feats.P0[res_rows], data.y[res_rows]),
                            "run": acc(model_P[res_rows], data.y[res_rows])},
                "unasked": {"zero_shot": acc(feats.P0[never], data.y[never]), "run": acc(model_P[never], data.y[never])}}
        for t in true.values():
            t["gain"] = t["run"] - t["zero_shot"]
        # the final fit: every human label (queue-chosen, gold, calibration) plus the same weak labels, cross-fitted
        # over the answered reserve; its "reserve" truth is the reserve records nobody answered (it trained on the rest)
        human = np.flatnonzero(labeled)
        answered_reserve = np.flatnonzero(labeled & reserve)

        def fit(rows, y_rows):
            m, _ = fit_queue_model(feats.X, rows, y_rows, feats.P0, labeled | reserve, policy, ml, thr)
            return lambda r: m.predict_proba(feats.X[r])

        correct = cross_fitted(fit, human, data.y[human], answered_reserve, folds, seed)
        rep["final_fit"] = percentile_ci(correct)
        final, _ = fit_queue_model(feats.X, human, data.y[human], feats.P0, labeled | reserve, policy, ml, thr)
        open_reserve = np.flatnonzero(reserve & never)
        for name, t in true.items():
            t["final_fit"] = {"test": acc(final.predict_proba(feats.X_eval), data.eval_y),
                              "reserve": acc(final.predict_proba(feats.X[open_reserve]), data.y[open_reserve]),
                              "unasked": acc(final.predict_proba(feats.X[np.flatnonzero(never & ~reserve)]),
                                             data.y[never & ~reserve])}[name]
        out.append({"seed": seed, "n_labels": n, "n_gold": len(gold), "n_answered_reserve": len(answered_reserve),
                    "reported": {m: {kk: float(v) for kk, v in d.items()} for m, d in rep.items()}, "true": true})
    return out


def summarize(rows: list[dict]) -> dict:
    out = {}
    for truth in ("test", "reserve", "unasked"):
        for m in ("zero_shot", "run", "gain", "final_fit"):
            rep = [r["reported"][m] for r in rows]
            point = [d["diff"] if m == "gain" else d["value"] for d in rep]
            true = [r["true"][truth][m] for r in rows]
            inside = [d["lo"] <= t <= d["hi"] for d, t in zip(rep, true)]
            err = np.array(point) - np.array(true)
            out[f"{truth}/{m}"] = {"covered": float(np.mean(inside)), "draws": len(rows),
                                   "mean_error": float(err.mean()), "sd_error": float(err.std(ddof=1)),
                                   "mean_width": float(np.mean([d["hi"] - d["lo"] for d in rep]))}
    return out


def markdown(paths: list[Path]) -> str:
    """The BENCHMARKS tables from saved results: coverage per truth and estimate, then the final fit beside the run."""
    lines = ["| data set | labels | draws | gold n (median) | truth | zero-shot acc | run acc | gain | final fit (cross-fitted) |",
             "|---|---:|---:|---:|---|---|---|---|---|"]
    fit = ["| data set | labels | draws | run: test acc (mean, range) | final fit: test acc (mean, range) | final fit minus run |",
           "|---|---:|---:|---|---|---|"]
    merged: dict[str, list] = {}  # one data set's draws from several files (e.g. seeds 1-20 and 21-45)
    for path in paths:
        for name, d in json.loads(Path(path).read_text())["datasets"].items():
            seen = {(r["seed"], r["n_labels"]) for r in merged.get(name, [])}
            merged.setdefault(name, []).extend(r for r in d["draws"] if (r["seed"], r["n_labels"]) not in seen)
    for name, draws in merged.items():
        for b in sorted({r["n_labels"] for r in draws}):
            rows = [r for r in draws if r["n_labels"] == b]
            summ = summarize(rows)
            n_gold = int(np.median([r["n_gold"] for r in rows]))
            for truth in ("reserve", "test", "unasked"):
                cells = []
                for m in ("zero_shot", "run", "gain", "final_fit"):
                    c = summ[f"{truth}/{m}"]
                    cells.append(f"{c['covered']:.0%} (err {c['mean_error']:+.3f} ± {c['sd_error']:.3f})")
                lines.append(f"| {name} | {b} | {len(rows)} | {n_gold} | {truth} | " + " | ".join(cells) + " |")
            run = np.array([r["true"]["test"]["run"] for r in rows])
            final = np.array([r["true"]["test"]["final_fit"] for r in rows])
            fit.append(f"| {name} | {b} | {len(rows)} | {run.mean():.3f} ({run.min():.3f}..{run.max():.3f}) | "
                       f"{final.mean():.3f} ({final.min():.3f}..{final.max():.3f}) | {np.mean(final - run):+.3f} "
                       f"(sd {np.std(final - run, ddof=1):.3f}) |")
    return "\n".join(lines) + "\n\n" + "\n".join(fit)


def main() -> None:
    if sys.argv[1:2] == ["--markdown"]:
        print(markdown([Path(p) for p in sys.argv[2:]]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="ag_news,banking77")
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--budgets", default=None, help="comma-separated label budgets (default per data set)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    out_path = Path(args.out)

    import dataclasses

    from labeler import simulate as sim
    from labeler.loop.engine import Policy

    result = {"command": "python bench/bench_interval_coverage.py " + " ".join(sys.argv[1:]), "datasets": {}}
    if out_path.exists():
        result["datasets"] = json.loads(out_path.read_text()).get("datasets", {})
    for name in args.datasets.split(","):
        batch, budgets = PLANS[name]
        if args.budgets:
            budgets = tuple(int(b) for b in args.budgets.split(","))
        data = sim.dataset_data(name)
        feats = sim.compute_features(data, progress=False)
        policy = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
        rows, t0 = [], time.perf_counter()
        for seed in range(args.first_seed, args.first_seed + args.draws):
            rows += one_draw(data, feats, policy, batch, budgets, seed, args.folds)
            print(f"{name} seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
            if len(rows) >= 2 * len(budgets):  # saved after every draw: a long run can be read while it goes on
                result["datasets"][name] = {
                    "pool": len(data.ids), "test": len(data.eval_ids), "batch": batch, "policy": policy.name,
                    "draws": rows,
                    "summary": {str(b): summarize([r for r in rows if r["n_labels"] == b]) for b in budgets}}
                out_path.parent.mkdir(parents=True, exist_ok=True)
                write_json(out_path, result, indent=1)
        if name not in result["datasets"]:
            print(f"{name}: {args.draws} draw(s) give no coverage to summarise; use --draws 2 or more", flush=True)
            continue
        for b in budgets:
            s = result["datasets"][name]["summary"][str(b)]
            print(name, b, {k: (round(v["covered"], 2), round(v["mean_error"], 3)) for k, v in s.items()}, flush=True)


if __name__ == "__main__":
    main()
