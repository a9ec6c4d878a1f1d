"""What the lexical block costs a round (``queue.lexical``, ``training.lexical``): the fast model's step with and
without it, interleaved.

Per data set, the pool's embeddings and ``--per-label`` x (number of labels) uniformly drawn human rows (seed 0), the
default policy of the data set's task kind (weak rows and, multi-label, the fitted cuts with their out-of-fold
fits). ``embeddings``: ``fit_queue_model`` on the embeddings, then its matrix on the pool (what ``labeler round``'s
``scoring.queue_model`` does with ``queue.lexical: 0``, the single-label default). ``lexical``: the TF-IDF vocabulary
fitted on the pool's texts, the features built, the same fit and matrix on them (``queue.lexical: 0.5``, the
multi-label default, past 4 labels per label). Times through
``harness.compare`` (interleaved, the ratio per repeat).

    .venv/bin/python bench/bench_lexical_cost.py --datasets banking77,nlupp_banking,goemotions --repeats 5

Writes bench/results/lexical_cost.json.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from common import RESULTS, write_json
from harness import compare, machine_info

from labeler import simulate as sim
from labeler.loop.engine import Policy, fit_queue_model
from training.lexical import Lexical

OUT = RESULTS / "lexical_cost.json"


def study(name: str, per_label: float, repeats: int) -> dict:
    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    k, ml = len(data.labels), data.multi_label
    policy = dataclasses.replace(Policy.from_config(data.config), lexical=0.5)
    rows = np.sort(np.random.default_rng(0).choice(len(data.ids), size=min(len(data.ids), int(per_label * k)),
                                                   replace=False))
    excluded = np.zeros(len(data.ids), dtype=bool)
    excluded[rows] = True
    none = np.zeros(0, dtype=np.int64)
    answered = (none, data.y[none])

    def fit(H):
        model, _ = fit_queue_model(H, rows, data.y[rows], feats.P0, excluded, policy, ml, data.threshold, answered,
                                   answered)
        return model.predict_proba(H)

    def embeddings():
        return fit(feats.X)

    def lexical():
        lex = Lexical(policy.lexical_weight(len(rows), k)).fit(data.texts)
        return fit(lex.features(feats.X, data.texts))

    print(f"{name}: {len(data.ids)} texts, {k} labels, {len(rows)} human rows", flush=True)
    cmp = compare({"embeddings": embeddings, "lexical": lexical}, baseline="embeddings", repeats=repeats)
    print(cmp.table(), flush=True)
    terms = Lexical(0.5).fit(data.texts).terms
    return {"pool": len(data.ids), "labels": k, "human_rows": len(rows), "terms": terms, **cmp.to_json()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="banking77,nlupp_banking,goemotions")
    ap.add_argument("--per-label", type=float, default=8.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    out = {"machine": machine_info(), "datasets": {}}
    for name in [d for d in args.datasets.split(",") if d]:
        out["datasets"][name] = study(name, args.per_label, args.repeats)
        write_json(OUT, out, indent=1)


if __name__ == "__main__":
    main()
