"""Which records, not which cut (issue 23): labeler's first batches on NLU++ banking next to small-text's.

For the first ``--rounds`` rounds (batches of 32, bench_peers' plan) of labeler's default policy
(``labeler.simulate.driver.each_round``, the loop ``labeler simulate`` runs, gold included) and of small-text's
``embedding_kmeans`` and ``random`` (bench_peers' learner: one random initial batch, then queries), per budget:
labels with at least 1 and 3 positives among the answered rows, labels per answered row, and the same model
trained on those rows the way what ships is (``labeler.loop.engine.fit_queue_model`` with the default policy,
no prior shift: ``labeler.simulate.driver.ships_metrics``' final fit) scored on the eval split at its fitted cuts
and at one 0.5 cut (how bench_peers scores small-text). The same rows cut two ways separate the picks from the cuts.

    .venv/bin/python bench/bench_ml_picks.py --seeds 3 --rounds 5

Writes ``bench/results/ml_picks.json`` (mean over seeds) and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from common import RESULTS, write_json  # first: the offline environment

from smalltext_head import HeadFactory, initial_set, make_strategy
from scipy.sparse import csr_matrix
from small_text import PoolBasedActiveLearner, SklearnDataset
from threadpoolctl import threadpool_limits

from labeler import simulate as sim
from labeler.loop.engine import Policy, fit_queue_model
from labeler.simulate.driver import each_round, score_metrics

OUT = RESULTS / "ml_picks.json"
NAME, BATCH = "nlupp_banking", 32
COLS = ("labels with >= 1 positive", "labels with >= 3 positives", "labels per row", "micro-F1, fitted cuts",
        "micro-F1, 0.5 cut")


def describe(data, feats, final: Policy, rows: np.ndarray) -> list[float]:
    Y = data.y[rows]
    pos, none = Y.sum(axis=0), np.zeros(0, dtype=np.int64)
    model, _ = fit_queue_model(feats.X, rows, Y, feats.P0, np.ones(len(data.ids), dtype=bool), final, True,
                               data.threshold, (none, data.y[none]))
    P = model.predict_proba(feats.X_eval)
    return [float((pos >= 1).sum()), float((pos >= 3).sum()), float(Y.sum(axis=1).mean()),
            score_metrics(P, data.eval_y, data, model.thresholds)["micro_f1"], score_metrics(P, data.eval_y, data)["micro_f1"]]


def small_text_rows(data, feats, name: str, rounds: int, seed: int):
    k = len(data.labels)
    pool = SklearnDataset(feats.X, csr_matrix(data.y.shape, dtype=np.int64), target_labels=np.arange(k))
    learner = PoolBasedActiveLearner(HeadFactory(k, True, seed), make_strategy(name, seed), pool)
    np.random.seed(seed)  # as bench_peers.peer_curve: small-text draws from numpy's global state
    for r in range(rounds):
        with threadpool_limits(1):
            if r == 0:
                asked = initial_set(len(data.ids), BATCH, seed)
                learner.initialize_data(asked, csr_matrix(data.y[asked]))
            else:
                asked = learner.query(num_samples=BATCH)
                learner.update(csr_matrix(data.y[asked]))
        yield np.sort(learner.indices_labeled)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    data = sim.dataset_data(NAME)
    feats = sim.compute_features(data, progress=False)
    base = dataclasses.replace(Policy.from_config(data.config), batch_size=BATCH)
    final = dataclasses.replace(base, prior_shift=0.0)
    res: dict[str, dict[int, list]] = {}
    for seed in range(args.seeds):
        for s in each_round(data, feats, dataclasses.replace(base, seed=seed), args.rounds):
            rows = np.flatnonzero(s.labeled)
            res.setdefault("labeler default", {}).setdefault(len(rows), []).append(describe(data, feats, final, rows))
        for name in ("embedding_kmeans", "random"):
            for rows in small_text_rows(data, feats, name, args.rounds, seed):
                res.setdefault(f"small-text {name}", {}).setdefault(len(rows), []).append(describe(data, feats, final, rows))
    out = {"dataset": NAME, "seeds": list(range(args.seeds)), "policy": base.name, "columns": COLS,
           "rows": {who: {n: np.mean(v, axis=0).round(4).tolist() for n, v in by_n.items()} for who, by_n in res.items()}}
    write_json(OUT, out, indent=1)
    print("| labels | picked by | " + " | ".join(COLS) + " |\n" + "|---" * (len(COLS) + 2) + "|")
    for n in sorted({n for by_n in out["rows"].values() for n in by_n}):
        for who, by_n in out["rows"].items():
            if n in by_n:
                m = by_n[n]
                print(f"| {n} | {who} | {m[0]:.1f} | {m[1]:.1f} | {m[2]:.2f} | {m[3]:.3f} | {m[4]:.3f} |")


if __name__ == "__main__":
    main()
