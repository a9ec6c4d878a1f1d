"""Do SetFit's label texts help a multi-label task? And the pool's words in a run's head? NLU++, paired.

    nice .venv/bin/python bench/bench_ml_label_texts.py                       # 3 seeds, both samples
    nice .venv/bin/python bench/bench_ml_label_texts.py --seeds 0 --samples per-label:2
    .venv/bin/python bench/bench_ml_label_texts.py --markdown                 # the table from the JSON
    nice .venv/bin/python bench/bench_ml_label_texts.py --variants labels words --samples random:400 \
        --out bench/results/ml_head_words.json                                # SetFit's head with the words
    nice .venv/bin/python bench/bench_ml_label_texts.py --backend logreg --variants none words --samples random:400 \
        --out bench/results/ml_head_words.json --append                      # a logreg run's head
    nice .venv/bin/python bench/bench_ml_label_texts.py --domain hotels ... --out bench/results/ml_head_words_hotels.json

Label texts are what ``labeler.loop.runs.training_params`` adds for SetFit (single-label from the start; multi-label
since this measurement): one more training example per label, "This sentence is {description}" (the
descriptions of ``labeler simulate --dataset nlupp_banking``, from NLU++'s own ontology). Here both variants
train on the same few-shot sample with the same seed: ``none`` (a multi-label run before) and ``labels``.
``words``: the label texts (SetFit) and the pool's words beside the embeddings in the head, at ``queue.lexical``'s
multi-label weight, the vocabulary fitted on the pool's texts (``labeler.loop.runs.run_lexical``; the product
turns it on from 4 training labels per label, so samples of 192 rows or more are the ones it ships).
``--backend logreg``: the same on a frozen body (label texts are SetFit's only).

Data, through the product's loader (``labeler.simulate.datasets``): the training sample is drawn from folds
4-19 (hotels: 6-19); folds 2-3 (hotels: 4-5) are the calibration rows the per-label thresholds are fitted on
(``training.thresholds``, as ``compare`` fits them on the random reserve's calibration split); the data set's
held-out split (folds 0-1; hotels 0-3) is scored. Samples: ``per-label:K`` (K records carrying each label, their union) and ``random:N`` (N records
uniformly, so rare labels may have no positive at all, the case label texts could matter most).

Metrics on the held-out split: micro-F1 and exact match with per-label thresholds (the number ``compare``
reports) and micro-F1 at the scalar 0.5 (the task's default threshold). Rows go to
bench/results/ml_label_texts.json after every run, so a partial run leaves its numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, SHARED_DATASETS, load_average, write_json
from harness import machine_info

OUT = RESULTS / "ml_label_texts.json"
VARIANTS = ("none", "labels", "words")


def load_nlupp(domain: str = "banking"):
    """(train-candidate rows, calibration rows, eval rows, labels, label texts); rows are (text, label list)."""
    from labeler.signals.templated import DEFAULT_TEMPLATE, label_text
    from labeler.simulate.datasets import get_dataset

    spec = get_dataset(f"nlupp_{domain}")
    pool, held = spec.load()
    lines = (SHARED_DATASETS / "nlupp" / f"{domain}.jsonl").read_text(encoding="utf-8").splitlines()
    prefix = "nlupp" if domain == "banking" else f"nlupp-{domain}"  # the loader's ids
    folds = {f"{prefix}-{i}": int(json.loads(line)["fold"]) for i, line in enumerate(lines) if line.strip()}
    cal = sorted({folds[r.id] for r in pool})[:2]  # the pool's first two folds (banking: 2-3; hotels, whose
    rows = [(r.text, list(r.label)) for r in pool]  # held-out split is folds 0-3: 4-5)
    calib = [(r.text, list(r.label)) for r in pool if folds[r.id] in cal]
    train = [(r.text, list(r.label)) for r in pool if folds[r.id] not in cal]
    labels = sorted({lab for _, labs in rows + [(r.text, r.label) for r in held] for lab in labs})
    desc = spec.descriptions(SHARED_DATASETS)
    texts = [DEFAULT_TEMPLATE.format(label_text(lab, desc.get(lab))) for lab in labels]
    return train, calib, [(r.text, list(r.label)) for r in held], labels, texts


def matrix(rows, labels) -> np.ndarray:
    index = {lab: k for k, lab in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=np.int64)
    for i, (_, labs) in enumerate(rows):
        Y[i, [index[lab] for lab in labs]] = 1
    return Y


def sample(rows, labels, how: str, seed: int) -> list[int]:
    """Row indices: ``per-label:K`` (K carriers of each label, drawn in label order, their union) or
    ``random:N``."""
    kind, _, n = how.partition(":")
    rng = np.random.default_rng(seed)
    if kind == "random":
        return sorted(rng.choice(len(rows), size=int(n), replace=False).tolist())
    if kind != "per-label":
        raise SystemExit(f"unknown sample {how!r}; per-label:K or random:N")
    chosen: set[int] = set()
    for lab in labels:
        carriers = [i for i, (_, labs) in enumerate(rows) if lab in labs]
        have = sum(1 for i in carriers if i in chosen)
        todo = [i for i in carriers if i not in chosen]
        if have < int(n) and todo:
            chosen.update(rng.choice(todo, size=min(int(n) - have, len(todo)), replace=False).tolist())
    return sorted(chosen)


def metrics(P_cal, Y_cal, P_ev, Y_ev, labels) -> dict:
    from training.evaluate import score
    from training.thresholds import fit_thresholds, predict_sets

    t = fit_thresholds(P_cal, Y_cal)
    k = len(labels)
    fitted, half = predict_sets(P_ev, t), predict_sets(P_ev, 0.5)
    return {"micro_f1": score("micro_f1", Y_ev, fitted, k), "exact_match": score("accuracy", Y_ev, fitted, k),
            "macro_f1": score("macro_f1", Y_ev, fitted, k), "micro_f1_at_0.5": score("micro_f1", Y_ev, half, k),
            "exact_match_at_0.5": score("accuracy", Y_ev, half, k),
            "mean_labels_predicted": float(fitted.sum(1).mean()), "thresholds_median": float(np.median(t))}


def summarize(rows: list[dict]) -> list[dict]:
    """Per sample and backend, each variant's means and its paired differences to the first variant measured
    (``none``, or ``labels`` when ``none`` was not run)."""
    out = []
    backend_of = lambda r: r.get("backend", "setfit")  # noqa: E731  (rows measured before the option: SetFit)
    for how, backend in dict.fromkeys((r["sample"], backend_of(r)) for r in rows):
        mine = [r for r in rows if r["sample"] == how and backend_of(r) == backend]
        first = next(v for v in VARIANTS if any(r["variant"] == v for r in mine))  # the paired baseline
        base = {r["seed"]: r for r in mine if r["variant"] == first}
        for name in VARIANTS:
            rs = [r for r in mine if r["variant"] == name]
            if not rs:
                continue
            s = {"sample": how, "backend": backend, "variant": name, "seeds": [r["seed"] for r in rs],
                 "n_train": [r["n_train"] for r in rs], "train_s_median": float(np.median([r["train_s"] for r in rs]))}
            for m in ("micro_f1", "exact_match", "macro_f1", "micro_f1_at_0.5"):
                s[m] = float(np.mean([r[m] for r in rs]))
                paired = [r[m] - base[r["seed"]][m] for r in rs if r["seed"] in base]
                s[f"{m}_delta"] = float(np.mean(paired)) if paired and name != first else None
                s[f"{m}_up"] = int(sum(d > 0 for d in paired)) if name != first else None
            out.append(s)
    return out


def markdown(summary: list[dict]) -> str:
    lines = ["| sample | backend | variant | micro-F1 (per-label cuts) | Δ paired | exact match | Δ paired | macro-F1 | "
             "micro-F1 at 0.5 | Δ paired | seeds | train rows | training s (median) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]

    def d(s, m):
        return "" if s[f"{m}_delta"] is None else f"{s[f'{m}_delta']:+.3f} ({s[f'{m}_up']}/{len(s['seeds'])} up)"

    for s in summary:
        lines.append(f"| {s['sample']} | {s.get('backend', 'setfit')} | {s['variant']} | {s['micro_f1']:.3f} | "
                     f"{d(s, 'micro_f1')} | {s['exact_match']:.3f} | {d(s, 'exact_match')} | {s['macro_f1']:.3f} | "
                     f"{s['micro_f1_at_0.5']:.3f} | {d(s, 'micro_f1_at_0.5')} | {len(s['seeds'])} | "
                     f"{min(s['n_train'])}-{max(s['n_train'])} | {s['train_s_median']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", nargs="+", default=["per-label:2", "random:100"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=48, help="SetFit contrastive steps (the few-shot bench's cap)")
    ap.add_argument("--variants", nargs="+", default=["none", "labels"], choices=VARIANTS)
    ap.add_argument("--backend", default="setfit", choices=("setfit", "logreg"))
    ap.add_argument("--domain", default="banking", choices=("banking", "hotels"), help="NLU++'s domain")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared machine)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--append", action="store_true", help="keep the rows in --out; skip what is measured")
    ap.add_argument("--markdown", action="store_true", help="print the table of the rows in --out; run nothing")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(summarize(json.loads(args.out.read_text())["rows"])))
        return 0
    import torch

    from labeler.config.models import LEXICAL
    from training.body import quiet
    from training.lexical import Lexical
    from training.setfit_backend import SetFitParams, train_logreg, train_setfit

    quiet()
    torch.set_num_threads(args.threads)
    train, calib, ev, labels, label_texts = load_nlupp(args.domain)
    Y_cal, Y_ev = matrix(calib, labels), matrix(ev, labels)
    vocabulary = Lexical(LEXICAL[True]).fit([t for t, _ in train + calib])  # the pool's texts, as a project's run
    fit = train_setfit if args.backend == "setfit" else train_logreg
    rows = json.loads(args.out.read_text())["rows"] if args.append and args.out.exists() else []
    meta = {**machine_info(), "command": "python bench/bench_ml_label_texts.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "steps": args.steps, "n_labels": len(labels), "n_calib": len(calib), "n_eval": len(ev),
            "label_text_example": label_texts[0], "terms": vocabulary.terms, "weight": vocabulary.weight,
            "domain": args.domain}
    key = lambda r: (r["sample"], r["seed"], r["variant"], r.get("backend", "setfit"))  # noqa: E731
    for seed in args.seeds:
        for how in args.samples:
            idx = sample(train, labels, how, seed)
            texts, Y = [train[i][0] for i in idx], matrix([train[i] for i in idx], labels)
            for name in args.variants:
                if any(key(r) == (how, seed, name, args.backend) for r in rows):
                    continue
                params = SetFitParams(max_steps=args.steps, label_texts=label_texts if name != "none" and
                                      args.backend == "setfit" else None)
                before, t0 = load_average()[0], time.perf_counter()
                clf = fit(texts, Y, labels, multi_label=True, params=params, seed=seed,
                          lexical=vocabulary if name == "words" else None)
                train_s = time.perf_counter() - t0
                m = metrics(clf.predict_proba([t for t, _ in calib]), Y_cal, clf.predict_proba([t for t, _ in ev]), Y_ev, labels)
                row = {"sample": how, "seed": seed, "variant": name, "backend": args.backend, "n_train": len(idx),
                       "labels_without_positive": int((Y.sum(0) == 0).sum()), **m, "train_s": round(train_s, 1),
                       "load_before": before, "load_after": load_average()[0]}
                rows = [r for r in rows if key(r) != key(row)] + [row]
                print(json.dumps(row), flush=True)
                write_json(args.out, {"meta": meta, "rows": rows, "summary": summarize(rows)})
    print(markdown(summarize(rows)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
