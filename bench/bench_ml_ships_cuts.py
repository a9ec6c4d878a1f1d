"""Where what ships loses early on multi-label data (issue 23): the same model cut different ways.

Along the default policy's own rounds (``labeler.simulate.driver.each_round``, the loop ``labeler simulate``
runs, seeds 0..n-1), at every budget, "what ships" (``labeler.simulate.driver.ships_metrics``' model: the final
fit on every answered label, gold and calibration included) is scored on the eval split cut at:

* ``fitted``: its own cuts (``labeler.loop.engine.label_cuts``, the product's), each label's micro-F1 cut weighed
  ``n_pos / (n_pos + s)`` against the global cut, ``s`` = the policy's ``cut_shrink`` (5) above the global cut and
  ``cut_shrink_down`` below it (20 since ade8e0f; 5 before, when ``bench/results/ml_ships_cuts.json`` was written);
* ``shrink S``: the same out-of-fold cuts with ``cut_shrink`` and ``cut_shrink_down`` both S (``label_cuts``);
* ``0.5``: one 0.5 cut (how small-text's rows in bench_peers are scored);
* ``final fit``: the cuts ``labeler train --final-fit`` keeps (``training.train.fitted_cuts``): the queue model's
  rule on out-of-fold predictions of every answered label, ``FOLDS`` folds by a hash of the id (as
  ``training.train.hash_folds``), each fold predicted by the same model fitted on the other folds;
* ``oracle global`` / ``oracle``: the one cut / per-label micro-F1 cuts fitted on the eval split itself (a bound,
  not a method).

Also per budget: the median positives per label among the answered rows and the share of labels with fewer than 3.

    .venv/bin/python bench/bench_ml_ships_cuts.py --datasets nlupp_banking --seeds 4 --shrinks 10,20

Writes ``bench/results/ml_ships_cuts.json`` (mean over seeds per budget) and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
from common import RESULTS, write_json

from labeler import simulate as sim
from labeler.loop.engine import Policy, fit_queue_model, label_cuts
from labeler.simulate.driver import each_round, score_metrics
from training.splits import hash_unit
from training.thresholds import fit_thresholds, global_threshold
from training.train import FINAL_FIT_FOLDS, fitted_cuts

OUT = RESULTS / "ml_ships_cuts.json"
FOLDS = FINAL_FIT_FOLDS[True]  # labeler train --final-fit's default on a multi-label task
RUNS = {"nlupp_banking": (32, 15), "nlupp_hotels": (20, 25), "goemotions": (50, 16)}  # bench_multilabel's


def final_fit_cuts(data, feats, final: Policy, s, thr: float) -> np.ndarray:
    """The cuts ``labeler train --final-fit`` keeps at this budget (the ``final fit`` column): out-of-fold
    predictions of every answered label (``FOLDS`` folds by a hash of the id, ``training.train.hash_folds``; each
    fold predicted by the same model fitted on the other folds), ``training.train.fitted_cuts`` on them."""
    rows = np.flatnonzero(s.labeled)
    fold = np.array([int(hash_unit(0, data.ids[r], "fold") * FOLDS) for r in rows], dtype=np.int64)
    P_oof = np.zeros((len(rows), len(data.labels)))
    none = np.zeros(0, dtype=np.int64)
    for f in np.unique(fold):
        train = rows[fold != f]
        model, _ = fit_queue_model(feats.X, train, data.y[train], feats.P0, s.labeled | s.reserve, final, True, thr,
                                   (none, data.y[none]))
        P_oof[fold == f] = model.predict_proba(feats.X[rows[fold == f]])
    return np.asarray(fitted_cuts(P_oof, data.y[rows], thr).values)


def study(name: str, seeds: list[int], shrinks: list[float], rounds: int | None) -> dict:
    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    batch, n_rounds = RUNS[name]
    base = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
    k, thr = len(data.labels), data.threshold
    by_n: dict[int, dict[str, list]] = {}
    for seed in seeds:
        policy = dataclasses.replace(base, seed=seed)
        final = dataclasses.replace(policy, prior_shift=0.0)  # ships_metrics' final fit
        for s in each_round(data, feats, policy, rounds or n_rounds):
            rows = np.flatnonzero(s.labeled)
            none = np.zeros(0, dtype=np.int64)
            model, _ = fit_queue_model(feats.X, rows, data.y[rows], feats.P0, s.labeled | s.reserve, final, True, thr,
                                       (none, data.y[none]))
            P = model.predict_proba(feats.X_eval)
            cuts = {"fitted": model.thresholds, "0.5": np.full(k, 0.5)}
            for sh in shrinks:
                cuts[f"shrink {sh:g}"] = label_cuts(feats.X, rows, data.y[rows], feats.P0, s.labeled | s.reserve,
                                                    dataclasses.replace(final, cut_shrink=sh, cut_shrink_down=sh), thr)
            cuts["final fit"] = final_fit_cuts(data, feats, final, s, thr)
            cuts["oracle global"] = np.full(k, global_threshold(P, data.eval_y, thr))
            cuts["oracle"] = fit_thresholds(P, data.eval_y, thr, objective="micro_f1")
            d = by_n.setdefault(int(s.labeled.sum()), {})
            pos = data.y[rows].sum(axis=0)
            d.setdefault("positives per label (median)", []).append(float(np.median(pos)))
            d.setdefault("labels with < 3 positives", []).append(float((pos < 3).mean()))
            for label, c in cuts.items():
                m = score_metrics(P, data.eval_y, data, c)
                d.setdefault(label, []).append([m["micro_f1"], m["accuracy"]])
    return {"seeds": seeds, "batch": batch, "policy": base.name,
            "budgets": {n: {key: np.mean(v, axis=0).round(4).tolist() for key, v in d.items()}
                        for n, d in sorted(by_n.items())}}


def table(name: str, entry: dict) -> str:
    first = next(iter(entry["budgets"].values()))
    cols = [c for c in first if not c.startswith(("positives", "labels with"))]
    lines = [f"**{name}** ({entry['policy']}, seeds {entry['seeds']}): what ships' micro-F1 / exact match", "",
             "| labels | positives per label (median) | labels with < 3 | " + " | ".join(cols) + " |",
             "|---" * (len(cols) + 3) + "|"]
    for n, d in entry["budgets"].items():
        lines.append(f"| {n} | {d['positives per label (median)']:.1f} | {d['labels with < 3 positives']:.2f} | "
                     + " | ".join(f"{d[c][0]:.3f} / {d[c][1]:.3f}" for c in cols) + " |")
    means = {c: np.mean([d[c] for d in entry["budgets"].values()], axis=0) for c in cols}
    lines.append("| mean over budgets | | | " + " | ".join(f"{v[0]:.3f} / {v[1]:.3f}" for v in means.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="nlupp_banking,nlupp_hotels,goemotions")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--shrinks", default="10,20", help="other cut_shrink values to score (comma-separated)")
    ap.add_argument("--rounds", type=int, default=None, help="fewer rounds than bench_multilabel's")
    ap.add_argument("--markdown", action="store_true", help="print the tables from the saved JSON and stop")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    out = args.out
    saved = json.loads(out.read_text()) if out.exists() else {}
    if not args.markdown:
        for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
            entry = study(name, list(range(args.seeds)), [float(x) for x in args.shrinks.split(",")], args.rounds)
            saved = {**(json.loads(out.read_text()) if out.exists() else {}), name: entry}
            write_json(out, saved, indent=1)
            print(table(name, entry) + "\n", flush=True)
    else:
        print("\n\n".join(table(name, entry) for name, entry in saved.items()))


if __name__ == "__main__":
    main()
