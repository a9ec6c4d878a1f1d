"""The transformers backend on multi-label data: the loss weighting and early stopping of its recipe.

    nice .venv/bin/python bench/bench_ml_transformers.py                     # NLU++ banking, hotels, GoEmotions
    nice .venv/bin/python bench/bench_ml_transformers.py --datasets nlupp_banking --n 320 --seeds 0

Found on a 115-label multi-label project: a transformers run on 360 answers scored micro-F1 0.105 on gold, where the
SetFit run reached 0.547 and the zero-shot 0.279; its head had learned to predict almost nothing. Here
``training.transformers_backend.train_transformers`` (what ``labeler train --backend transformers`` calls) trains on
``--n`` records drawn at random from the pool of ``labeler simulate --dataset NAME``, with the next 80 records as the
validation (calibration) split, and is scored on the data set's held-out split:

- ``before``: unweighted BCE, early stopping on the validation loss (the recipe until 2026-12-06);
- ``weighted``: each label's positives weighted by its negatives-to-positives ratio (``positive_weights``), early
  stopping as before;
- ``after``: weighted, no early stopping (the recipe now: ``TransformersParams()`` on a multi-label task).

Micro-F1 at one 0.5 cut and at per-label cuts fitted on the validation records (``training.compare.label_cuts``,
as ``compare`` cuts on calibration), and exact match at those cuts. Writes bench/results/ml_transformers.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, load_average, write_json
from harness import machine_info

OUT = RESULTS / "ml_transformers.json"
VARIANTS = {"before": dict(class_weight=None, early_stopping=True), "weighted": dict(early_stopping=True),
            "after": {}}
N_VAL = 80


def one(data, n: int, seed: int, variant: str, steps: int | None) -> dict:
    from sklearn.metrics import f1_score

    from training.compare import label_cuts
    from training.transformers_backend import TransformersParams, train_transformers

    idx = np.random.default_rng(seed).permutation(len(data.ids))
    tr, va = idx[:n], idx[n:n + N_VAL]
    val = [data.texts[i] for i in va]
    params = TransformersParams(**VARIANTS[variant], **({"max_steps": steps, "min_steps": 1} if steps else {}))
    t0 = time.perf_counter()
    model = train_transformers([data.texts[i] for i in tr], data.y[tr], data.labels, multi_label=True, params=params,
                               seed=seed, val_texts=val, val_y=data.y[va])
    seconds = time.perf_counter() - t0
    P, P_val = model.predict_proba(list(data.eval_texts)), model.predict_proba(val)
    cuts = np.asarray(label_cuts(P_val, data.y[va], len(data.labels), 0.5).values)
    Y = data.eval_y.astype(bool)
    return {"dataset": data.name, "n": n, "seed": seed, "variant": variant,
            "micro_f1_at_0.5": float(f1_score(Y, P >= 0.5, average="micro", zero_division=0)),
            "micro_f1": float(f1_score(Y, P >= cuts, average="micro", zero_division=0)),
            "exact_match": float(((P >= cuts) == Y).all(axis=1).mean()),
            "mean_probability": float(P.mean()), "train_s": round(seconds, 1)}


def markdown(rows: list[dict]) -> str:
    lines = ["| data set | labels | variant | micro-F1 (cuts) | micro-F1 at 0.5 | exact match (cuts) | mean p | seeds |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        for n in dict.fromkeys(r["n"] for r in rows if r["dataset"] == ds):
            for v in VARIANTS:
                rs = [r for r in rows if (r["dataset"], r["n"], r["variant"]) == (ds, n, v)]
                if rs:
                    m = {k: np.mean([r[k] for r in rs]) for k in ("micro_f1", "micro_f1_at_0.5", "exact_match",
                                                                  "mean_probability")}
                    lines.append(f"| {ds} | {n} | {v} | {m['micro_f1']:.3f} | {m['micro_f1_at_0.5']:.3f} | "
                                 f"{m['exact_match']:.3f} | {m['mean_probability']:.3f} | {len(rs)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="nlupp_banking,nlupp_hotels,goemotions")
    ap.add_argument("--n", type=int, default=320, help="training records, drawn at random")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--steps", type=int, default=None, help="cap the optimizer steps (smoke runs)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    import torch

    from labeler.simulate import dataset_data
    from training.body import quiet

    quiet()
    torch.set_num_threads(args.threads)
    meta = {**machine_info(), "command": "python bench/bench_ml_transformers.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "n_val": N_VAL}
    rows = []
    for name in args.datasets.split(","):
        data = dataset_data(name)
        for seed in args.seeds:
            for variant in args.variants.split(","):
                before = load_average()[0]
                row = {**one(data, args.n, seed, variant, args.steps), "load_before": before,
                       "load_after": load_average()[0]}
                rows.append(row)
                print(row, flush=True)
                write_json(args.out, {"meta": meta, "rows": rows})
    print(markdown(rows))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
