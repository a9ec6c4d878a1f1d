"""Do int8 (and bfloat16) NLI keep the labels of a *trained* model? (issue 17, point 3)

    .venv/bin/python bench/bench_nli_int8.py                                   # ~5 min training, then fidelity
    .venv/bin/python bench/bench_nli_int8.py --train-seconds 20 --eval-texts 20 --out /tmp/int8.json   # smoke

Random weights put an NLI model's top two labels in near-ties (median gap 0.004 on bart-large), so a
quantized model's label flips there say nothing about a real model. This script trains one: a small
BART-shaped NLI model (bench/nli_models.py ``small``: 2+2 layers, 128 wide, byte-level BPE trained on the
local texts) built from a config and fine-tuned on NLI-style pairs made from the shared data sets' training
rows (AG News pool, BANKING77 train): premise = text, hypothesis = ``"This text is about {label}."``,
entailment for the true label and contradiction for one random other label. Training stops after
``--train-seconds``. Then the NLI signal (``hypothesis_template`` set to the same sentence) scores held-out
texts (AG News eval x 4 labels, BANKING77 test x 77; at most ``--eval-pairs`` pairs each) in fp32 and
int8 dynamic quantization (and bfloat16 with ``--bf16``).

Reported per variant and data set: zero-shot accuracy (shows the model learnt something), the share of
texts whose label equals fp32's, the largest probability change, and the fp32 top-2 gap (median). A
small trained model is not bart-large: int8 error grows with depth and width, so this bounds the question
rather than closing it. On two busy CPU cores the BART built from a config barely leaves chance in minutes;
``--init minilm`` instead fine-tunes a BERT cross-encoder initialised from the packaged MiniLM (not
BART-shaped, but trained weights with real margins). Writes bench/results/nli_int8.json.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from common import DATASETS, RESULTS, SHARED_DATASETS, markdown_table, write_json
from harness import machine_info
from nli_models import TRAINED_META, TRAINED_TEMPLATE, build_random_bart_mnli

TEMPLATE = TRAINED_TEMPLATE
ENTAIL, CONTRA = 2, 0


def make_pairs(rows, names, rng) -> tuple[list[str], list[str], list[int]]:
    premises, hyps, y = [], [], []
    for r in rows:
        other = names[rng.randint(len(names) - 1)]
        other = other if other != r.label else names[-1]
        for lab, target in ((r.label, ENTAIL), (other, CONTRA)):
            premises.append(r.text)
            hyps.append(TEMPLATE.format(lab))
            y.append(target)
    return premises, hyps, y


def build_from_minilm(out: Path) -> dict:
    """A BERT cross-encoder NLI model (6 layers, 384 wide) initialised from the packaged all-MiniLM-L6-v2,
    with a new 3-way NLI head: pretrained weights learn the pairs in minutes, which a BART built from a
    config does not on two CPU cores."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from labeler.signals.embedding import default_model_path

    src = default_model_path()
    AutoTokenizer.from_pretrained(src).save_pretrained(out)
    id2label = {0: "contradiction", 1: "neutral", 2: "entailment"}
    net = AutoModelForSequenceClassification.from_pretrained(src, num_labels=3, id2label=id2label,
                                                             label2id={v: k for k, v in id2label.items()})
    net.save_pretrained(out)
    return {"architecture": "minilm: BERT cross-encoder, 6 layers, 384 wide, from the packaged all-MiniLM-L6-v2",
            "params_m": round(sum(p.numel() for p in net.parameters()) / 1e6, 1)}


def train(model_dir: Path, premises, hyps, y, groups, seconds: float, batch_size: int, lr: float, max_length: int) -> dict:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    net = AutoModelForSequenceClassification.from_pretrained(model_dir)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.RandomState(0)
    y = np.asarray(y)
    t0, step, losses, epochs = time.perf_counter(), 0, [], 0
    groups = np.asarray(groups)
    while time.perf_counter() - t0 < seconds:
        epochs += 1  # batches from one data set at a time: similar lengths, little padding
        batches = [idx[s:s + batch_size] for g in np.unique(groups)
                   for idx in [rng.permutation(np.flatnonzero(groups == g))] for s in range(0, len(idx), batch_size)]
        for b in rng.permutation(len(batches)):
            idx = batches[b]
            batch = tok([premises[i] for i in idx], [hyps[i] for i in idx], truncation="only_first",
                        max_length=max_length, padding=True, return_tensors="pt")
            extra = {"use_cache": False} if "use_cache" in inspect.signature(net.forward).parameters else {}
            out = net(**batch, labels=torch.as_tensor(y[idx]), **extra)
            opt.zero_grad()
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            losses.append(out.loss.item())
            step += 1
            if step % 50 == 0:
                print(f"  step {step}: loss {np.mean(losses[-50:]):.3f} ({time.perf_counter() - t0:.0f}s)", flush=True)
            if time.perf_counter() - t0 >= seconds:
                break
    net.eval()
    net.save_pretrained(model_dir)
    return {"steps": step, "epochs_started": epochs, "pairs": len(y), "seconds": round(time.perf_counter() - t0, 1),
            "loss_first_50": float(np.mean(losses[:50])), "loss_last_50": float(np.mean(losses[-50:]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train-texts", type=int, default=3000, help="training texts per data set (2 pairs each)")
    ap.add_argument("--train-seconds", type=float, default=300)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None, help="default 1e-3 (bart, from scratch), 1e-4 (minilm)")
    ap.add_argument("--init", default="bart", choices=["bart", "minilm"],
                    help="bart: the small BART built from a config; minilm: a cross-encoder from the packaged MiniLM")
    ap.add_argument("--eval-texts", type=int, default=300, help="held-out texts per data set")
    ap.add_argument("--eval-pairs", type=int, default=4000, help="at most this many (text, label) pairs per data set")
    ap.add_argument("--bf16", action="store_true", help="also bfloat16 (slow on CPUs without bf16 units)")
    ap.add_argument("--root", default=str(SHARED_DATASETS))
    ap.add_argument("--out", default=str(RESULTS / "nli_int8.json"))
    ap.add_argument("--keep", default=None, help="copy the trained model to this folder (bench/bench_nli_options.py "
                    "measures every speed option's label fidelity on it)")
    args = ap.parse_args()
    import torch

    from labeler.signals.nli import NLISignal

    if args.lr is None:
        args.lr = 1e-3 if args.init == "bart" else 1e-4

    rng = np.random.RandomState(0)
    data = {}
    for name in ("ag_news", "banking77"):
        pool, held = DATASETS[name].load(args.root)
        names = sorted({r.label for r in pool + held})
        train_rows = [pool[i] for i in rng.choice(len(pool), min(args.train_texts, len(pool)), replace=False)]
        n_eval = min(args.eval_texts, max(1, args.eval_pairs // len(names)), len(held))
        eval_rows = [held[i] for i in sorted(rng.choice(len(held), n_eval, replace=False))]
        data[name] = (names, train_rows, eval_rows, pool + held)
    premises, hyps, y, groups = [], [], [], []
    for g, (names, train_rows, _, _) in enumerate(data.values()):
        p, h, t = make_pairs(train_rows, names, rng)
        premises += p
        hyps += h
        y += t
        groups += [g] * len(t)
    tmp = Path(tempfile.mkdtemp(prefix="bart-small-nli-"))
    try:
        corpus = [r.text for d in data.values() for r in d[3]] + [TEMPLATE.format(n) for d in data.values() for n in d[0]]
        info = build_random_bart_mnli(tmp, corpus, "small") if args.init == "bart" else build_from_minilm(tmp)
        print(f"built {info}; training on {len(y)} pairs for {args.train_seconds:.0f}s", flush=True)
        trained = train(tmp, premises, hyps, y, groups, args.train_seconds, args.batch_size, args.lr, max_length=128)
        print(f"trained: {trained}", flush=True)
        results = {"machine": machine_info(), "model": info, "init": args.init, "lr": args.lr, "training": trained, "template": TEMPLATE,
                   "torch_threads": torch.get_num_threads(), "datasets": {}}
        table = []
        base = {"model": str(tmp), "device": "cpu", "batch_size": 64, "max_length": 128, "hypothesis_template": TEMPLATE}
        variants = {"fp32": {}, "int8 dynamic": {"quantize": True, "rescore_below": 0}}  # int8 alone: no fp32 re-score
        if args.bf16:
            variants["bfloat16"] = {"dtype": "bfloat16"}
        for ds, (names, _, eval_rows, _) in data.items():
            texts = [r.text for r in eval_rows]
            truth = np.array([names.index(r.label) for r in eval_rows])
            out = {}
            for v, extra in variants.items():
                t0 = time.perf_counter()
                out[v] = NLISignal("nli", names, False, {**base, **extra}).predict_proba(texts)
                out[v + "_s"] = time.perf_counter() - t0
            ref = out["fp32"]
            srt = np.sort(ref, axis=1)
            gap = float(np.median(srt[:, -1] - srt[:, -2]))
            per = {}
            for v in variants:
                P = out[v]
                row = {"accuracy": float(np.mean(P.argmax(1) == truth)),
                       "identical_labels": float(np.mean(P.argmax(1) == ref.argmax(1))),
                       "max_abs_dP": float(np.abs(P - ref).max()), "seconds_one_pass": round(out[v + "_s"], 1)}
                per[v] = row
                table.append({"data set": f"{ds} ({len(texts)} x {len(names)})", "variant": v,
                              "zero-shot acc": f"{row['accuracy']:.3f}",
                              "identical labels vs fp32": f"{100 * row['identical_labels']:.1f}%",
                              "max |dP|": f"{row['max_abs_dP']:.1e}", "fp32 top-2 gap (median)": f"{gap:.3f}",
                              "one pass s": f"{row['seconds_one_pass']:.1f}"})
            results["datasets"][ds] = {"texts": len(texts), "labels": len(names), "top2_gap_median": gap,
                                       "variants": per}
            if per["fp32"]["accuracy"] <= 2 / len(names):
                results.setdefault("warnings", []).append(
                    f"{ds}: fp32 accuracy {per['fp32']['accuracy']:.3f} is near chance (1/{len(names)}): the model "
                    f"did not learn, so its label fidelity says nothing; train longer (--train-seconds)")
        print(f"\n## NLI label fidelity on a trained small NLI model ({info['architecture']})\n")
        print(markdown_table(table, list(table[0])))
        print(f"\ntraining ({args.init}, lr {args.lr:g}): {trained['steps']} steps on {trained['pairs']} pairs in {trained['seconds']}s, "
              f"loss {trained['loss_first_50']:.3f} -> {trained['loss_last_50']:.3f}; {info}")
        for w in results.get("warnings", []):
            print(f"WARNING: {w}")
        write_json(args.out, results)
        print(f"\nwrote {args.out}")
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
            (Path(args.keep) / TRAINED_META).write_text(json.dumps(
                {"model": info, "init": args.init, "lr": args.lr, "training": trained, "template": TEMPLATE,
                 "datasets": results["datasets"]}, indent=1))
            print(f"kept the trained model in {args.keep}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
