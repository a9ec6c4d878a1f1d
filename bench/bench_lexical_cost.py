"""What the lexical block costs a round (``queue.lexical``, ``training.lexical``): the fast model's step with and
without it, interleaved.

Per data set, the pool's embeddings and ``--per-label`` x (number of labels) uniformly drawn human rows (seed 0), the
default policy of the data set's task kind (weak rows and, multi-label, the fitted cuts with their out-of-fold
fits). ``embeddings``: ``fit_queue_model`` on the embeddings, then its matrix on the pool (what ``labeler round``'s
``scoring.queue_model`` does with ``queue.lexical: 0``, the single-label default). ``lexical``: the TF-IDF vocabulary
fitted on the pool's texts, the features built, the same fit and matrix on them (``queue.lexical: 0.5``, the
multi-label default, past 4 labels per label). Times through
``harness.compare`` (interleaved, the ratio per repeat). The vocabulary is fitted anew in every ``lexical`` call (a
round's process fits it once; ``training.lexical`` reuses it within the process).

``--final-fit K`` (multi-label sets): the shipped model's fit too, ``labeler train --final-fit K`` with the logreg
backend on the same rows (the model on every label, then K cross-fitted folds, their cuts), its head on the
embeddings against its head with the pool's words (``runs.run_lexical``: the vocabulary fitted, kept with the run).

    .venv/bin/python bench/bench_lexical_cost.py --datasets banking77,nlupp_banking,goemotions --repeats 5
    .venv/bin/python bench/bench_lexical_cost.py --datasets nlupp_banking,goemotions --repeats 3 --final-fit 10 \
        --out bench/results/lexical_cost_final_fit.json

Writes bench/results/lexical_cost.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
from common import RESULTS, write_json
from harness import compare, machine_info

from labeler import simulate as sim
from labeler.loop.engine import Policy, fit_queue_model
import training.lexical
from training.lexical import Lexical

OUT = RESULTS / "lexical_cost.json"


def study(name: str, per_label: float, repeats: int, final_fit: int = 0) -> dict:
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

    def vocabulary():
        training.lexical._LAST = None  # fitted anew, as once a round
        return Lexical(policy.lexical_weight(len(rows), k)).fit(data.texts)

    def lexical():
        return fit(vocabulary().features(feats.X, data.texts))

    print(f"{name}: {len(data.ids)} texts, {k} labels, {len(rows)} human rows", flush=True)
    cmp = compare({"embeddings": embeddings, "lexical": lexical}, baseline="embeddings", repeats=repeats)
    print(cmp.table(), flush=True)
    terms = Lexical(0.5).fit(data.texts).terms
    out = {"pool": len(data.ids), "labels": k, "human_rows": len(rows), "terms": terms, **cmp.to_json()}
    if final_fit and ml:
        out["final_fit"] = final_fit_cost(data, feats, rows, vocabulary, final_fit, repeats)
    return out


def final_fit_cost(data, feats, rows: np.ndarray, vocabulary, folds: int, repeats: int) -> dict:
    """``train(final_fit=folds)`` (logreg, vectors from the pool's embeddings) without and with the words."""
    import pandas as pd

    from training.train import train

    vectors = dict(zip(data.texts, feats.X))
    ids = [data.ids[i] for i in rows]
    df = pd.DataFrame({"id": ids, "text": [data.texts[i] for i in rows],
                       "labels": [[data.labels[j] for j in np.flatnonzero(data.y[i])] for i in rows],
                       "status": "submitted", "annotator": "bench", "submitted_at": pd.Timestamp("2026-01-01"),
                       "round": 1})
    df["label"] = [ls[0] if ls else None for ls in df["labels"]]
    splits = {i: "gold" if n % 5 == 0 else "calib" if n % 10 == 1 else "train" for n, i in enumerate(ids)}

    def final(lexical):
        with tempfile.TemporaryDirectory() as tmp:
            return train(df, data.labels, True, backend="logreg", project_dir=tmp, splits=splits, force=True,
                         embed=lambda batch: np.stack([vectors[t] for t in batch]), final_fit=folds,
                         make_current=False, n_resamples=200, threshold=data.threshold,
                         lexical=lexical() if lexical else None).metrics["gold"]["micro_f1"]

    cmp = compare({"final fit": lambda: final(None), "final fit + words": lambda: final(vocabulary)},
                  baseline="final fit", repeats=repeats)
    print(cmp.table(), flush=True)
    return {"folds": folds, **cmp.to_json()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="banking77,nlupp_banking,goemotions")
    ap.add_argument("--per-label", type=float, default=8.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--final-fit", type=int, default=0, help="K: time the final fit too (multi-label sets)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    out = {"machine": machine_info(), "datasets": {}}
    for name in [d for d in args.datasets.split(",") if d]:
        out["datasets"][name] = study(name, args.per_label, args.repeats, args.final_fit)
        write_json(args.out, out, indent=1)


if __name__ == "__main__":
    main()
