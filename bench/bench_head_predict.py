"""The linear head scoring a pool: ``LinearModel.predict_proba`` against scikit-learn's own, per model.

    python bench/bench_head_predict.py --rows 10003 --dim 384 --repeats 15

Every round scores the whole pool with the queue model (and a current logreg run), and ``labeler simulate`` also
its eval split, each through ``training.head.LinearModel.predict_proba``. A multi-label head is one binary
logistic regression per label, and scikit-learn's ``predict_proba`` checks its input (a pass over all of X) at
every call: once per label. ``LinearModel`` now checks the matrix once and runs scikit-learn's own operations
(``training.head._proba``), the same bits. Times both, interleaved (``harness.compare``), on heads of the shared
sets' shapes: 77 classes (BANKING77), 48 labels (NLU++ banking), 28 labels (GoEmotions), fitted on 600 rows of
random features (the time does not depend on the values). ``sklearn`` is the code before the change. Writes
bench/results/head_predict.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import RESULTS, write_json
from harness import compare, machine_info

from training.head import LinearModel

SHAPES = {"single-label, 77 classes": (77, False), "multi-label, 48 labels": (48, True),
          "multi-label, 28 labels": (28, True)}


def sklearn_proba(model: LinearModel, X: np.ndarray) -> np.ndarray:
    """``LinearModel.predict_proba`` as it was: scikit-learn's ``predict_proba`` on every model."""
    out = np.zeros((len(X), model.k))
    if model.multi_label:
        for j, (m, c) in enumerate(zip(model._models, model._const)):
            out[:, j] = c if m is None else m.predict_proba(X)[:, 1]
        return out
    single = model._models[0]
    out[:, single.classes_] = single.predict_proba(X)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10003, help="pool texts scored")
    ap.add_argument("--dim", type=int, default=384, help="embedding width (MiniLM: 384)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", type=Path, default=RESULTS / "head_predict.json")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    X_fit, X = rng.normal(size=(600, args.dim)), rng.normal(size=(args.rows, args.dim))
    results, rows = {}, []
    for name, (k, multi) in SHAPES.items():
        y = (rng.random((600, k)) < 0.1).astype(np.int64) if multi else np.arange(600) % k
        model = LinearModel(k, multi).fit(X_fit, y)
        same = bool(np.array_equal(model.predict_proba(X), sklearn_proba(model, X)))
        print(f"{name}: {args.rows:,} x {args.dim}, the same bits: {same}")
        variants = {"sklearn": lambda m=model: sklearn_proba(m, X), "labeler": lambda m=model: m.predict_proba(X)}
        cmp = compare(variants, baseline="sklearn", repeats=args.repeats, warmup=1, unit="pools")
        print(cmp.table())
        med = {v: float(np.median(s)) * 1e3 for v, s in cmp.seconds.items()}
        ratio = float(np.median(cmp.ratios()["labeler"]))
        rows.append(f"| {name} | {med['sklearn']:.1f} | {med['labeler']:.1f} | {ratio:.2f} | {same} |")
        results[name] = {"comparison": cmp.to_json(), "same_bits": same, "median_ms": med}
    table = "\n".join(["| head | sklearn ms | labeler ms | x faster (median of repeats) | same bits |",
                       "|---|---|---|---|---|", *rows])
    print(table)
    write_json(args.out, {**machine_info(), "rows": args.rows, "dim": args.dim, "repeats": args.repeats,
                          "results": results, "table": table})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
