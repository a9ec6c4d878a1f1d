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

SetFit variants (issue 14.4), interleaved: for each seed, data set and size, every variant in turn on the same
sampled examples, the 1-min load average before and after each run kept in the row:
    .venv/bin/python bench/bench_fewshot.py --variants default lr5e-5 "mine:max_steps=64,warmup_proportion=0"
    .venv/bin/python bench/bench_fewshot.py --variants --markdown      # the table from fewshot_variants.json
Each variant is a set of SetFitParams fields over the default (``VARIANTS``; ``name:key=value,...`` for any
other); ``label_texts=template`` stands for ``"This sentence is {description}"`` per label, the descriptions of
``labeler.simulate.descriptions``. Rows go to bench/results/fewshot_variants.json.
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

from common import RESULTS, SHARED_DATASETS, dataset_rows, load_average, write_json

OUT = RESULTS / "fewshot.json"
VARIANTS_OUT = RESULTS / "fewshot_variants.json"
VARIANTS = {
    "default": {},
    "lr5e-5": {"body_learning_rate": 5e-5},
    "len64-s72": {"max_length": 64, "max_steps": 72},
    "labels": {"label_texts": "template"},
    "unique": {"sampling_strategy": "unique"},
    "labels-noself": {"label_texts": "template", "self_pairs": False},
}


def load_dataset(name: str) -> tuple[list[dict], list[dict], list[str]]:
    """(pool rows, eval rows, labels in a fixed order): AG News' pool and eval splits, BANKING77's train and test."""
    if name not in ("ag_news", "banking77"):
        raise SystemExit(f"unknown dataset {name!r}; choose ag_news or banking77")
    pool, ev = dataset_rows(name)
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


def parse_variant(spec: str) -> tuple[str, dict]:
    """``name`` (one of ``VARIANTS``) or ``name:key=value,key=value`` (values read as JSON, else text)."""
    name, _, rest = spec.partition(":")
    if not rest:
        if name not in VARIANTS:
            raise SystemExit(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}, or name:key=value,...")
        return name, dict(VARIANTS[name])
    out = {}
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        if not eq:
            raise SystemExit(f"variant {spec!r}: {item!r} is not key=value")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return name, out


def label_descriptions(ds: str, labels: list[str]) -> list[str]:
    from labeler.signals.templated import DEFAULT_TEMPLATE, label_text
    from labeler.simulate.descriptions import AG_NEWS, BANKING77

    desc = {"ag_news": AG_NEWS, "banking77": BANKING77}[ds]
    return [DEFAULT_TEMPLATE.format(label_text(lab, desc.get(lab))) for lab in labels]  # as labeler.loop.runs does


def variant_params(changes: dict, ds: str, labels: list[str], args):
    import dataclasses

    from training.setfit_backend import SetFitParams

    base = SetFitParams(max_steps=args.setfit_steps, batch_size=args.setfit_batch, head_c=args.setfit_c,
                        body_learning_rate=args.setfit_lr)
    if changes.get("label_texts") == "template":
        changes = {**changes, "label_texts": label_descriptions(ds, labels)}
    params = dataclasses.replace(base, **changes)
    params.validate(False)
    return params


def other_benches() -> list[str]:
    """Command lines of the other bench / training processes on the machine (what shared the CPUs)."""
    def cmd(pid: str) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            return ""

    return [c[:160] for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid() and "python" in (c := cmd(p))
            and any(w in c for w in ("bench", "setfit", "pytest"))]


def summarize_variants(rows: list[dict]) -> list[dict]:
    """Per (data set, size, variant): accuracy mean/std, macro-F1, median training seconds, and the paired
    difference from ``default`` on the same seeds."""
    base = {(r["dataset"], r["per_class"], r["seed"]): r for r in rows if r["variant"] == "default"}
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["per_class"], r["variant"]), []).append(r)
    out = []
    for (ds, k, name), rs in groups.items():
        acc = np.array([r["accuracy"] for r in rs])
        pairs = [(r, base[(ds, k, r["seed"])]) for r in rs if (ds, k, r["seed"]) in base]
        paired = [r["accuracy"] - b["accuracy"] for r, b in pairs]
        loads = [x for r in rs for x in (r["load_before"], r["load_after"])]
        out.append({"dataset": ds, "per_class": k, "variant": name, "params": rs[0]["params"],
                    "seeds": [r["seed"] for r in rs], "accuracy_mean": float(acc.mean()),
                    "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                    "macro_f1_mean": float(np.mean([r["macro_f1"] for r in rs])),
                    "train_s_median": float(np.median([r["train_s"] for r in rs])),
                    "delta_vs_default": float(np.mean(paired)) if paired else None,
                    "wins_vs_default": int(sum(d > 0 for d in paired)), "paired_seeds": len(paired),
                    "train_s_ratio_vs_default": float(np.median([r["train_s"] / b["train_s"] for r, b in pairs] or [np.nan])),
                    "load_min": min(loads), "load_max": max(loads), "n_eval": rs[0]["n_eval"]})
    return out


def variants_markdown(summary: list[dict], order: list[str]) -> str:
    pos = {n: i for i, n in enumerate(order)}
    lines = ["| data set | labels / class | SetFit variant | accuracy (mean ± std) | Δ vs default (paired) | macro-F1 | "
             "training s (median; ÷ default) | seeds | 1-min load |", "|---|---|---|---|---|---|---|---|---|"]
    for s in sorted(summary, key=lambda s: (s["dataset"], s["per_class"], pos.get(s["variant"], 99))):
        d = "" if s["variant"] == "default" or s["delta_vs_default"] is None else \
            f"{s['delta_vs_default']:+.3f} ({s['wins_vs_default']}/{s['paired_seeds']} seeds up)"
        lines.append(f"| {DATASET_NAMES.get(s['dataset'], s['dataset'])} | {s['per_class']} | {s['variant']} | "
                     f"{s['accuracy_mean']:.3f} ± {s['accuracy_std']:.3f} | {d} | {s['macro_f1_mean']:.3f} | "
                     f"{s['train_s_median']:.0f} (×{s['train_s_ratio_vs_default']:.2f}) | {len(s['seeds'])} | {s['load_min']:.1f}-{s['load_max']:.1f} |")
    return "\n".join(lines)


def run_variants(args, specs: list[str]) -> int:
    """Every variant in turn per (seed, data set, size) on the same examples; rows written after each run."""
    from harness import machine_info
    from training.evaluate import evaluate
    from training.setfit_backend import train_setfit

    variants = dict(parse_variant(s) for s in specs)
    out = args.out if args.out != OUT else VARIANTS_OUT
    rows: list[dict] = json.loads(out.read_text())["rows"] if args.append and out.exists() else []
    meta = {**machine_info(), "machine": platform.platform(), "variants": variants, "eval_limit": args.eval_limit,
            "command": "python bench/bench_fewshot.py " + " ".join(sys.argv[1:]), "other_processes_at_start": other_benches()}
    key = lambda r: (r["dataset"], r["per_class"], r["seed"], r["variant"])  # noqa: E731
    data = {}
    for ds in args.datasets:
        pool, ev, labels = load_dataset(ds)
        ev = stratified_limit(ev, labels, args.eval_limit)
        index = {lab: i for i, lab in enumerate(labels)}
        data[ds] = (pool, labels, index, [r["text"] for r in ev], np.array([index[r["label"]] for r in ev]))
    train_setfit(["a b", "c d", "e f", "g h"], np.array([0, 0, 1, 1]), ["x", "y"], seed=0,
                 params=variant_params({"max_steps": 1}, "ag_news", [], args))  # imports: no variant pays for them
    for seed in args.seeds:
        for ds in args.datasets:
            pool, labels, index, ev_texts, ev_y = data[ds]
            for k in (args.sizes if ds == "ag_news" else args.banking_sizes):
                idx = sample_per_class(pool, labels, k, seed)
                texts, y = [pool[i]["text"] for i in idx], np.array([index[pool[i]["label"]] for i in idx])
                for name, changes in variants.items():
                    if args.append and any(key(r) == (ds, k, seed, name) for r in rows):
                        continue  # measured already (--append resumes an interrupted run)
                    params = variant_params(changes, ds, labels, args)
                    others, before = other_benches(), load_average()[0]
                    t0 = time.perf_counter()
                    clf = train_setfit(texts, y, labels, params=params, seed=seed)
                    train_s = time.perf_counter() - t0
                    m = evaluate(clf.predict_proba(ev_texts), ev_y, labels)
                    row = {"dataset": ds, "per_class": k, "seed": seed, "variant": name, "params": changes,
                           "n_train": len(texts), "n_eval": len(ev_texts), "accuracy": m["accuracy"],
                           "macro_f1": m["macro_f1"], "train_s": round(train_s, 2), "load_before": before,
                           "load_after": load_average()[0], "other_processes": others}
                    rows = [r for r in rows if key(r) != key(row)] + [row]
                    print(json.dumps({c: v for c, v in row.items() if c != "other_processes"}), flush=True)
                    write_json(out, {"meta": meta, "rows": rows, "summary": summarize_variants(rows)})
    print(variants_markdown(summarize_variants(rows), list(variants)))
    print(f"wrote {out}")
    return 0


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
    ap.add_argument("--threads", type=int, default=None, help="torch threads (1 on a shared machine: no spinning)")
    ap.add_argument("--variants", nargs="*", default=None,
                    help=f"SetFit variants, interleaved ({', '.join(VARIANTS)}, or name:key=value,...); rows to {VARIANTS_OUT.name}")
    args = ap.parse_args(argv)
    if args.variants is not None and args.markdown:
        saved = json.loads((args.out if args.out != OUT else VARIANTS_OUT).read_text())
        print(variants_markdown(summarize_variants(saved["rows"]), list(saved["meta"]["variants"])))
        return 0
    if args.markdown:
        print(markdown(summarize(json.loads(args.out.read_text())["rows"])))
        return 0
    if args.quick:
        args.datasets, args.sizes, args.seeds, args.eval_limit = ["ag_news"], [8, 16], [0], args.eval_limit or 400
    if not SHARED_DATASETS.exists():
        print(f"skipped: {SHARED_DATASETS} is absent (the shared data sets live at ../shared/datasets from the repo root)")
        return 0

    import torch

    from training.body import quiet

    quiet()
    torch.set_num_threads(args.threads or torch.get_num_threads())
    if args.variants is not None:
        return run_variants(args, args.variants or list(VARIANTS))
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
                    write_json(args.out, {"meta": meta, "rows": rows, "summary": summarize(rows)})
    print(table(summarize(rows)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
