"""Few-shot fine-tuning: accuracy and training time at k labels per class.

    .venv/bin/python bench/bench_fewshot.py                 # ag_news 8/16/64 + banking77 8, 3 seeds, all methods
    .venv/bin/python bench/bench_fewshot.py --quick         # ag_news 8/16, 1 seed, 400 eval texts
    .venv/bin/python bench/bench_fewshot.py --datasets ag_news --methods logreg setfit --seeds 0 1 2
    .venv/bin/python bench/bench_fewshot.py --methods setfit --seeds 0 --append   # add rows to the JSON
    .venv/bin/python bench/bench_fewshot.py --markdown      # the BENCHMARKS.md table from the JSON

Data (from ../shared/datasets, never copied): AG News samples k per class from ``split: pool`` and evaluates on
``split: eval`` (1,520); BANKING77 samples from train.jsonl and evaluates on test.jsonl (3,080).

Methods, all on the packaged MiniLM (sentence-transformers/all-MiniLM-L6-v2):
  logreg        balanced logistic regression (C=10) on frozen embeddings; embeddings cached within a run
  setfit        training.setfit_backend, contrastive steps capped at --setfit-steps, balanced head
  transformers  training.transformers_backend (AutoModelForSequenceClassification + Trainer), --tf-epochs passes
                (100 to --tf-max-steps steps), body lr --tf-lr, head lr --tf-head-lr

Prints a table (mean +- std over seeds, mean training seconds) and writes bench/results/fewshot.json after
every measurement, so a partial run still leaves its numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATASETS = (REPO / ".." / "shared" / "datasets").resolve()
OUT = REPO / "bench" / "results" / "fewshot.json"


def read_jsonl(path: Path) -> list[dict]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def load_dataset(name: str) -> tuple[list[dict], list[dict], list[str]]:
    """(pool rows, eval rows, labels in a fixed order)."""
    if name == "ag_news":
        rows = read_jsonl(DATASETS / "ag_news" / "test_all.jsonl")
        pool, ev = [r for r in rows if r["split"] == "pool"], [r for r in rows if r["split"] == "eval"]
    elif name == "banking77":
        pool, ev = read_jsonl(DATASETS / "banking77" / "train.jsonl"), read_jsonl(DATASETS / "banking77" / "test.jsonl")
    else:
        raise SystemExit(f"unknown dataset {name!r}; choose ag_news or banking77")
    return pool, ev, sorted({r["label"] for r in pool})


def sample_per_class(pool: list[dict], labels: list[str], k: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    by = {lab: [i for i, r in enumerate(pool) if r["label"] == lab] for lab in labels}
    return sorted(int(i) for lab in labels for i in rng.choice(by[lab], size=min(k, len(by[lab])), replace=False))


def stratified_limit(rows: list[dict], labels: list[str], limit: int | None) -> list[dict]:
    if not limit or limit >= len(rows):
        return rows
    per = max(1, limit // len(labels))
    out = []
    for lab in labels:
        out += [r for r in rows if r["label"] == lab][:per]
    return out


class EmbeddingCache:
    """Frozen-body embeddings, computed once per text within the run."""

    def __init__(self):
        from sentence_transformers import SentenceTransformer

        from training.body import resolve_body

        self.model = SentenceTransformer(resolve_body(None), device="cpu")
        self.model.max_seq_length = 128
        self.mem: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.mem))
        if todo:
            emb = self.model.encode(todo, batch_size=64, show_progress_bar=False)
            self.mem.update(zip(todo, emb))
        return np.stack([self.mem[t] for t in texts])


def run_one(method, texts, y, labels, ev_texts, ev_y, seed, args, cache):
    from training.evaluate import evaluate

    t0 = time.perf_counter()
    if method == "logreg":
        from training.setfit_backend import fit_logreg_head, head_proba

        head = fit_logreg_head(cache(texts), y, C=args.logreg_c, seed=seed)
        train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        P = head_proba(head, cache(ev_texts), len(labels), False)
    elif method == "setfit":
        from training.setfit_backend import SetFitParams, train_setfit

        clf = train_setfit(texts, y, labels, params=SetFitParams(max_steps=args.setfit_steps, batch_size=args.setfit_batch,
                                                                  head_c=args.setfit_c, body_learning_rate=args.setfit_lr), seed=seed)
        train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        P = clf.predict_proba(ev_texts)
    elif method == "transformers":
        from training.transformers_backend import TransformersParams, train_transformers

        clf = train_transformers(texts, y, labels, seed=seed, params=TransformersParams(
            num_epochs=args.tf_epochs, max_steps=args.tf_max_steps, learning_rate=args.tf_lr, head_learning_rate=args.tf_head_lr))
        train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        P = clf.predict_proba(ev_texts)
    else:
        raise SystemExit(f"unknown method {method!r}")
    predict_s = time.perf_counter() - t1
    m = evaluate(P, ev_y, labels)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "train_s": round(train_s, 2), "predict_s": round(predict_s, 2)}


def summarize(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["per_class"], r["method"]), []).append(r)
    out = []
    for (ds, k, method), rs in sorted(groups.items()):
        acc = np.array([r["accuracy"] for r in rs])
        out.append({"dataset": ds, "per_class": k, "method": method, "seeds": [r["seed"] for r in rs],
                    "accuracy_mean": float(acc.mean()), "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                    "macro_f1_mean": float(np.mean([r["macro_f1"] for r in rs])),
                    "train_s_mean": float(np.mean([r["train_s"] for r in rs])), "n_eval": rs[0]["n_eval"]})
    return out


def table(summary: list[dict]) -> str:
    lines = [f"{'dataset':<10} {'k/class':>7} {'method':<13} {'accuracy (mean +- std)':>24} {'seeds':>5} {'train s':>8} {'n_eval':>6}"]
    lines.append("-" * len(lines[0]))
    for s in summary:
        lines.append(f"{s['dataset']:<10} {s['per_class']:>7} {s['method']:<13} "
                     f"{s['accuracy_mean']:>15.3f} +- {s['accuracy_std']:.3f} {len(s['seeds']):>5} {s['train_s_mean']:>8.1f} {s['n_eval']:>6}")
    return "\n".join(lines)


METHOD_NAMES = {"logreg": "logistic regression on frozen MiniLM", "setfit": "SetFit-MiniLM, 48 steps",
                "transformers": "transformers (MiniLM body, 10 epochs, 100-1,000 steps)"}
DATASET_NAMES = {"ag_news": "AG News", "banking77": "BANKING77"}


def markdown(summary: list[dict]) -> str:
    """The BENCHMARKS.md table: one row per (data set, labels per class, method)."""
    order = {m: i for i, m in enumerate(METHOD_NAMES)}
    lines = ["| data set | labels / class | method | accuracy (mean ± std) | macro-F1 | seeds | training s (mean) |",
             "|---|---|---|---|---|---|---|"]
    for s in sorted(summary, key=lambda s: (s["dataset"], s["per_class"], order.get(s["method"], 99))):
        acc = f"{s['accuracy_mean']:.3f}" + (f" ± {s['accuracy_std']:.3f}" if len(s["seeds"]) > 1 else "")
        lines.append(f"| {DATASET_NAMES.get(s['dataset'], s['dataset'])} | {s['per_class']} | "
                     f"{METHOD_NAMES.get(s['method'], s['method'])} | {acc} | {s['macro_f1_mean']:.3f} | "
                     f"{len(s['seeds'])} | {s['train_s_mean']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["ag_news", "banking77"])
    ap.add_argument("--methods", nargs="+", default=["logreg", "setfit", "transformers"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 64], help="labels per class for ag_news")
    ap.add_argument("--banking-sizes", type=int, nargs="+", default=[8], help="labels per class for banking77")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--eval-limit", type=int, default=None, help="stratified subset of the eval split")
    ap.add_argument("--setfit-steps", type=int, default=48)
    ap.add_argument("--setfit-batch", type=int, default=16)
    ap.add_argument("--setfit-c", type=float, default=10.0)
    ap.add_argument("--setfit-lr", type=float, default=2e-5, help="SetFit: body learning rate")
    ap.add_argument("--tf-epochs", type=float, default=10.0, help="transformers: passes over the labels (at least 100 steps)")
    ap.add_argument("--tf-max-steps", type=int, default=1000, help="transformers: cap on optimizer steps")
    ap.add_argument("--tf-lr", type=float, default=1e-4, help="transformers: body learning rate")
    ap.add_argument("--tf-head-lr", type=float, default=3e-3, help="transformers: classification head learning rate")
    ap.add_argument("--logreg-c", type=float, default=10.0)
    ap.add_argument("--quick", action="store_true", help="ag_news 8/16, seed 0, 400 eval texts")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--append", action="store_true", help="keep the rows already in --out (same dataset/k/seed/method replaced)")
    ap.add_argument("--markdown", action="store_true", help="print the Markdown table of the rows in --out; run nothing")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(summarize(json.loads(args.out.read_text())["rows"])))
        return 0
    if args.quick:
        args.datasets, args.sizes, args.seeds, args.eval_limit = ["ag_news"], [8, 16], [0], args.eval_limit or 400
    if not DATASETS.exists():
        print(f"skipped: {DATASETS} is absent (the shared data sets live at ../shared/datasets from the repo root)")
        return 0

    import torch

    from training.body import quiet

    quiet()
    rows: list[dict] = json.loads(args.out.read_text())["rows"] if args.append and args.out.exists() else []
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(), "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "command": "python bench/bench_fewshot.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    cache = EmbeddingCache() if "logreg" in args.methods else None
    for ds in args.datasets:
        pool, ev, labels = load_dataset(ds)
        ev = stratified_limit(ev, labels, args.eval_limit)
        index = {lab: i for i, lab in enumerate(labels)}
        ev_texts, ev_y = [r["text"] for r in ev], np.array([index[r["label"]] for r in ev])
        for k in (args.sizes if ds == "ag_news" else args.banking_sizes):
            for seed in args.seeds:
                idx = sample_per_class(pool, labels, k, seed)
                texts, y = [pool[i]["text"] for i in idx], np.array([index[pool[i]["label"]] for i in idx])
                for method in args.methods:
                    res = run_one(method, texts, y, labels, ev_texts, ev_y, seed, args, cache)
                    row = {"dataset": ds, "per_class": k, "seed": seed, "method": method, "n_train": len(texts), "n_eval": len(ev), **res}
                    key = lambda r: (r["dataset"], r["per_class"], r["seed"], r["method"])
                    rows = [r for r in rows if key(r) != key(row)] + [row]
                    print(json.dumps(row), flush=True)
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    args.out.write_text(json.dumps({"meta": meta, "rows": rows, "summary": summarize(rows)}, indent=2))
    print(table(summarize(rows)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
