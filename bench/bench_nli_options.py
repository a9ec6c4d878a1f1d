"""Which way of running the NLI signal is fastest on this CPU, and which keep the labels? (issue 17, point 3)

    .venv/bin/python bench/bench_nli_options.py --fidelity-model ~/.cache/labeler-bench/nli-minilm
    .venv/bin/python bench/bench_nli_options.py --arch tiny --nli-texts 3 --repeats 1 --fidelity-texts 8 \
        --fidelity-model /tmp/nli-minilm --out /tmp/nli_options.json      # smoke test

Speed: the facebook/bart-large-mnli ARCHITECTURE with random weights (bench/nli_models.py; weights do not
change speed), ``--nli-texts`` AG News texts x 4 labels, every option timed interleaved with
bench/harness.py against the classic per-text ``pipeline("zero-shot-classification")`` loop:

* the shipped signal (all pairs batched 16, sorted by length, dynamic padding), and at batch 4 and 32;
* eager attention instead of transformers' default (SDPA);
* ``torch.compile`` of the model (``dynamic=True``; compile time is in the warm-up, reported apart);
* ONNX Runtime fp32 (the model exported with ``torch.onnx.export``, ``ORT_ENABLE_ALL``, threads = cores);
* int8 dynamic quantization: torch's (the signal's ``quantize: true``) and ONNX Runtime's (per channel).

Every option runs through the signal's own batching (``NLISignal.pair_logits``) with its model swapped in, so
the speed differences are the model runtimes'. Fidelity: random weights put the labels in near-ties, so each
option's share of labels identical to torch fp32 is also measured on a *trained* NLI model
(``--fidelity-model``: the cross-encoder ``bench/bench_nli_int8.py --init minilm --keep DIR`` trains from the
packaged MiniLM) on AG News eval (x 4 labels) and BANKING77 test (x 77). Writes bench/results/nli_options.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from common import DATASETS, RESULTS, SHARED_DATASETS, markdown_table, write_json
from harness import compare, core_count, machine_info
from nli_models import build_random_bart_mnli, pipeline_loop, trained_nli_meta

from labeler.signals.nli import DEFAULT_RESCORE_BELOW, NLISignal, contenders

AG_LABELS = ["World", "Sports", "Business", "Sci/Tech"]
OPSET = 17


class OnnxSequenceClassifier:
    """An exported sequence classifier behind the few attributes ``NLISignal.pair_logits`` uses."""

    def __init__(self, path: Path, config, threads: int):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.config = config

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        import torch

        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        feed = {n: feed[n].numpy().astype(np.int64) for n in self.inputs}
        return SimpleNamespace(logits=torch.from_numpy(self.session.run(None, feed)[0]))

    __call__ = forward


def export_onnx(model_dir: Path, out: Path) -> Path:
    """input ids, attention mask (token type ids where the tokenizer makes them) -> logits."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    net = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    enc = tok(["an example premise to trace", "another, longer example premise to trace with"],
              ["This example is a label.", "This example is another label."], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, *args):
            extra = {"use_cache": False} if hasattr(net.config, "use_cache") else {}
            return self.net(**dict(zip(names, args)), **extra).logits

    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrap(), tuple(enc[n] for n in names), str(out), dynamo=False, input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    return out


def quantize_onnx(path: Path, op_types: list[str] | None = None) -> Path:
    """int8 dynamic quantization (per channel) of every op onnxruntime can quantize, or only ``op_types``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = path.with_name(f"{path.stem}.int8{'-' + '-'.join(op_types) if op_types else ''}.onnx")
    quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=op_types)
    return out


RESCORE_GAPS = (0.05, 0.1, 0.2, 0.3)


def rescored(int8: np.ndarray, fp32: np.ndarray, gap: float) -> tuple[np.ndarray, float]:
    """int8 probabilities with every text whose int8 top-2 gap is below ``gap`` scored again in fp32;
    returns them and the share of texts re-scored."""
    srt = np.sort(int8, axis=1)
    redo = (srt[:, -1] - srt[:, -2]) < gap
    out = int8.copy()
    out[redo] = fp32[redo]
    return out, float(redo.mean())


class OptionSignal(NLISignal):
    """The NLI signal with its (tokenizer, model) given: every option shares the signal's batching."""

    def __init__(self, labels, params, tok_net):
        self._tok_net = tok_net
        super().__init__("nli", labels, False, params)

    def load(self, exact: bool = False):
        return self._tok_net


def build_options(model_dir: Path, work: Path, threads: int, only: list[str] | None) -> dict[str, tuple]:
    """name -> ((tokenizer, model), batch size, seconds to build)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from labeler.signals.base import quantize_int8

    tok = AutoTokenizer.from_pretrained(model_dir)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token

    def torch_model(attn=None):
        kw = {"attn_implementation": attn} if attn else {}
        return AutoModelForSequenceClassification.from_pretrained(model_dir, **kw).eval()

    fp32 = torch_model()

    def exported() -> Path:  # the fp32 export, made once for every ONNX option
        path = work / "model.onnx"
        return path if path.exists() else export_onnx(model_dir, path)

    builders = {
        "signal fp32, batch 16 (shipped)": lambda: (fp32, 16),
        "signal fp32, batch 4": lambda: (fp32, 4),
        "signal fp32, batch 32": lambda: (fp32, 32),
        "eager attention, batch 16": lambda: (torch_model("eager"), 16),
        "torch.compile, batch 16": lambda: (_compiled(torch_model()), 16),
        "onnxruntime fp32, batch 16": lambda: (OnnxSequenceClassifier(exported(), fp32.config, threads), 16),
        "torch int8 dynamic (quantize: true), batch 16": lambda: (quantize_int8(torch_model(), "cpu"), 16),
        "onnxruntime int8 dynamic, batch 16": lambda: (OnnxSequenceClassifier(
            quantize_onnx(exported()), fp32.config, threads), 16),
        "onnxruntime int8 dynamic, MatMul only, batch 16": lambda: (OnnxSequenceClassifier(
            quantize_onnx(exported(), ["MatMul"]), fp32.config, threads), 16),
    }
    out = {}
    for name, build in builders.items():
        if only and not any(o in name for o in only):
            continue
        t0 = time.perf_counter()
        try:
            net, bs = build()
        except Exception as exc:  # noqa: BLE001 - an option that cannot be built is reported, not fatal
            print(f"  skipped {name!r}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}", flush=True)
            continue
        out[name] = ((tok, net), bs, time.perf_counter() - t0)
        print(f"  built {name!r} in {out[name][2]:.1f}s", flush=True)
    del torch
    return out


def _compiled(net):
    import torch

    compiled = torch.compile(net, dynamic=True)
    compiled.config = net.config
    return compiled


def bench_speed(args, work: Path) -> dict:
    import torch
    from transformers import pipeline

    pool, held = DATASETS["ag_news"].load(args.root)
    texts = [r.text for r in held[: args.nli_texts]]
    model_dir = work / "bart"
    info = build_random_bart_mnli(model_dir, [r.text for r in pool[:20000] + held], args.arch)
    n_pairs = len(texts) * len(AG_LABELS)
    pipe = pipeline("zero-shot-classification", model=str(model_dir), device="cpu")

    def loop():
        return pipeline_loop(pipe, texts, AG_LABELS)

    options = build_options(model_dir, work, args.threads, args.only)
    sigs = {name: OptionSignal(AG_LABELS, {"model": str(model_dir), "batch_size": bs, "device": "cpu"}, tn)
            for name, (tn, bs, _) in options.items()}
    first_call = {}
    for name, sig in sigs.items():  # the first call pays compilation / session set-up: timed apart
        t0 = time.perf_counter()
        sig.predict_proba(texts[:2])
        first_call[name] = round(time.perf_counter() - t0, 1)
    base = "pipeline, per-text loop"
    variants = {base: loop} | {name: (lambda s=sig: s.predict_proba(texts)) for name, sig in sigs.items()}
    cmp = compare(variants, baseline=base, repeats=args.repeats, warmup=args.warmup, work=n_pairs, unit="pairs",
                  warmup_with={base: lambda: pipe(texts[0], candidate_labels=AG_LABELS)}
                  | {name: (lambda s=sig: s.predict_proba(texts[:2])) for name, sig in sigs.items()})
    ref = cmp.outputs[base]
    fp32 = cmp.outputs.get("signal fp32, batch 16 (shipped)", ref)
    srt = np.sort(ref, axis=1)
    extra = {name: {"identical labels vs loop": f"{100 * np.mean(P.argmax(1) == ref.argmax(1)):.1f}%",
                    "max |dP| vs loop": f"{np.abs(P - ref).max():.1e}",
                    "build + first call s": f"{options[name][2] + first_call[name]:.0f}" if name in options else ""}
             for name, P in cmp.outputs.items()}
    print(f"\n## NLI options, speed ({args.arch} architecture, random weights, {n_pairs} pairs, CPU)\n")
    print(cmp.table("method", extra=extra))
    return {"model": info, "texts": len(texts), "labels": len(AG_LABELS), "pairs": n_pairs,
            "torch_threads": torch.get_num_threads(), "onnx_threads": args.threads,
            "ref_top2_margin_median": float(np.median(srt[:, -1] - srt[:, -2])),
            "max_abs_dP_shipped_vs_loop": float(np.abs(fp32 - ref).max()),
            "comparison": cmp.to_json(), "fidelity_random_weights": extra,
            "build_seconds": {n: round(o[2], 1) for n, o in options.items()}, "first_call_seconds": first_call}


def bench_fidelity(args, work: Path) -> dict:
    model_dir = Path(args.fidelity_model).expanduser()
    meta, template = trained_nli_meta(model_dir)
    rng = np.random.RandomState(0)
    data = {}
    for name in ("ag_news", "banking77"):
        _, held = DATASETS[name].load(args.root)
        names = sorted({r.label for r in held})
        n = min(args.fidelity_texts, max(1, args.fidelity_pairs // len(names)), len(held))
        rows = [held[i] for i in sorted(rng.choice(len(held), n, replace=False))]
        data[name] = (names, [r.text for r in rows], np.array([names.index(r.label) for r in rows]))
    options = build_options(model_dir, work, args.threads, args.only)
    out: dict = {"model": str(model_dir), "training": meta.get("training"), "template": template, "datasets": {}}
    rows = []
    for ds, (names, texts, truth) in data.items():
        preds, secs = {}, {}
        for name, (tn, bs, _) in options.items():
            sig = OptionSignal(names, {"model": str(model_dir), "batch_size": bs, "device": "cpu",
                                       "hypothesis_template": template}, tn)
            t0 = time.perf_counter()
            preds[name] = sig.predict_proba(texts)
            secs[name] = time.perf_counter() - t0
        ref_name = "signal fp32, batch 16 (shipped)"
        ref = preds[ref_name]
        srt = np.sort(ref, axis=1)
        gap = float(np.median(srt[:, -1] - srt[:, -2]))
        per = {}

        def add(option: str, P: np.ndarray, last_column: str, **extra) -> None:
            per[option] = {"accuracy": float(np.mean(P.argmax(1) == truth)),
                           "identical_labels": float(np.mean(P.argmax(1) == ref.argmax(1))),
                           "max_abs_dP": float(np.abs(P - ref).max()), **extra}
            rows.append({"data set": f"{ds} ({len(texts)} x {len(names)})", "option": option,
                         "zero-shot acc": f"{per[option]['accuracy']:.3f}",
                         "identical labels vs fp32": f"{100 * per[option]['identical_labels']:.1f}%",
                         "max |dP|": f"{per[option]['max_abs_dP']:.1e}", "one pass s (not interleaved)": last_column})

        for name, P in preds.items():
            add(name, P, f"{secs[name]:.1f}", seconds_one_pass=round(secs[name], 1))
        for name in [n for n in preds if "int8" in n]:
            for g in RESCORE_GAPS:
                P, share = rescored(preds[name], ref, g)
                add(f"{name} + fp32 re-score of int8 top-2 gap < {g}", P, f"re-scored {100 * share:.0f}% of texts",
                    rescored_share=share, int8=name, gap=g)
        out["datasets"][ds] = {"texts": len(texts), "labels": len(names), "top2_gap_median": gap, "options": per}
        if per[ref_name]["accuracy"] <= 2 / len(names):
            out.setdefault("warnings", []).append(f"{ds}: fp32 accuracy {per[ref_name]['accuracy']:.3f} is near chance: "
                                                  f"the model did not learn; its fidelity says little")
    print(f"\n## NLI options, label fidelity on a trained NLI model ({model_dir})\n")
    print(markdown_table(rows, list(rows[0])))
    for w in out.get("warnings", []):
        print(f"WARNING: {w}")
    return out


def bench_shipped(args) -> dict:
    """The shipped signal on the trained model, interleaved against the per-text pipeline loop on the same
    model: fp32, ``quantize: true`` (int8 + fp32 re-score of near-ties, the default gap) and int8 alone."""
    from transformers import pipeline

    model_dir = Path(args.fidelity_model).expanduser()
    meta, template = trained_nli_meta(model_dir)
    pipe = pipeline("zero-shot-classification", model=str(model_dir), device="cpu")
    rng = np.random.RandomState(1)
    out = {}
    for ds in ("ag_news", "banking77"):
        _, held = DATASETS[ds].load(args.root)
        names = sorted({r.label for r in held})
        n = min(args.fidelity_texts, max(1, args.fidelity_pairs // len(names)), len(held))
        texts = [held[i].text for i in sorted(rng.choice(len(held), n, replace=False))]

        def loop(texts=texts, names=names):
            return pipeline_loop(pipe, texts, names, hypothesis_template=template)

        base = {"model": str(model_dir), "device": "cpu", "hypothesis_template": template}
        sigs = {"signal fp32 (default)": NLISignal("nli", names, False, base),
                "signal quantize: true (int8, near-ties re-scored in fp32)": NLISignal("nli", names, False, {**base, "quantize": True}),
                "signal int8 alone (rescore_below: 0)": NLISignal("nli", names, False, {**base, "quantize": True, "rescore_below": 0})}
        ref_name = "pipeline, per-text loop"
        variants = {ref_name: loop} | {k: (lambda s=s, t=texts: s.predict_proba(t)) for k, s in sigs.items()}
        warm = {ref_name: lambda t=texts, n=names: pipe(t[0], candidate_labels=n, hypothesis_template=template)}
        warm |= {k: (lambda s=s, t=texts: s.predict_proba(t[:2])) for k, s in sigs.items()}
        cmp = compare(variants, baseline=ref_name, repeats=args.repeats, warmup=1, work=len(texts) * len(names),
                      unit="pairs", warmup_with=warm)
        ref = cmp.outputs[ref_name]
        # what the shipped option re-scored: int8's contending pairs (the int8-alone output is the same int8 pass)
        mask = contenders(cmp.outputs["signal int8 alone (rescore_below: 0)"], DEFAULT_RESCORE_BELOW, False)
        share, pair_share = float(mask.any(axis=1).mean()), float(mask.mean())
        extra = {k: {"identical labels vs loop": f"{100 * np.mean(P.argmax(1) == ref.argmax(1)):.1f}%",
                     "max |dP| vs loop": f"{np.abs(P - ref).max():.1e}"} for k, P in cmp.outputs.items()}
        print(f"\n## The shipped NLI signal on the trained model, {ds} ({len(texts)} texts x {len(names)} labels)\n")
        print(cmp.table("method", extra=extra))
        out[ds] = {"texts": len(texts), "labels": len(names), "comparison": cmp.to_json(), "fidelity": extra,
                   "rescored_share": share, "rescored_pair_share": pair_share}
        print(f"quantize: true re-scored {100 * pair_share:.1f}% of the pairs in fp32, in {100 * share:.0f}% of the "
              f"texts (int8 top-2 gap < {DEFAULT_RESCORE_BELOW})")
    return out


def project_rescore(results: dict) -> list[dict]:
    """The shipped ``quantize: true`` on the speed model (bart-large), from its measured medians and the share
    of pairs the trained model sends back to fp32: loop s / (int8 s + pair share x fp32 s). A projection (the
    random weights' near-ties would send most pairs back), printed as such."""
    secs = {n: r["seconds_median"] for n, r in results["speed"]["comparison"]["summary"].items()}
    loop, fp32 = secs["pipeline, per-text loop"], secs["signal fp32, batch 16 (shipped)"]
    int8 = secs["torch int8 dynamic (quantize: true), batch 16"]
    rows = [{"data set": ds, "texts re-scored": f"{100 * d['rescored_share']:.0f}%",
             "pairs re-scored": f"{100 * d['rescored_pair_share']:.1f}%",
             "projected x loop, bart-large": f"{loop / (int8 + d['rescored_pair_share'] * fp32):.2f}"}
            for ds, d in results["shipped_on_trained_model"].items()]
    print("\n## quantize: true (int8, contending pairs re-scored in fp32): projected on the bart-large timings\n")
    print(markdown_table(rows, list(rows[0])))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="speed,fidelity,shipped",
                    help="speed (bart-large), fidelity (trained model), shipped (the signal's own options on it)")
    ap.add_argument("--arch", default="bart-large", choices=["bart-large", "tiny"])
    ap.add_argument("--nli-texts", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=core_count(), help="onnxruntime intra-op threads")
    ap.add_argument("--only", nargs="*", default=None, help="only options whose name contains one of these")
    ap.add_argument("--fidelity-model", default=str(Path.home() / ".cache" / "labeler-bench" / "nli-minilm"))
    ap.add_argument("--fidelity-texts", type=int, default=300)
    ap.add_argument("--fidelity-pairs", type=int, default=4000, help="at most this many pairs per data set")
    ap.add_argument("--root", default=str(SHARED_DATASETS))
    ap.add_argument("--out", default=str(RESULTS / "nli_options.json"))
    args = ap.parse_args()
    parts = args.parts.split(",")
    if {"fidelity", "shipped"} & set(parts) and not (Path(args.fidelity_model).expanduser() / "config.json").exists():
        sys.exit(f"no trained NLI model in {args.fidelity_model}: make one with "
                 f"bench/bench_nli_int8.py --init minilm --keep {args.fidelity_model}, or use --parts speed")
    out_path = Path(args.out)
    results: dict = json.loads(out_path.read_text()) if out_path.exists() and not set(parts) >= {"speed", "fidelity", "shipped"} else {}
    results.setdefault("machine_per_part", {}).update({p: machine_info() for p in parts})
    work = Path(tempfile.mkdtemp(prefix="nli-options-"))
    try:
        if "fidelity" in parts:
            (work / "fid").mkdir()
            results["fidelity"] = bench_fidelity(args, work / "fid")
        if "shipped" in parts:
            results["shipped_on_trained_model"] = bench_shipped(args)
        if "speed" in parts:
            (work / "speed").mkdir()
            results["speed"] = bench_speed(args, work / "speed")
        if "speed" in results and "shipped_on_trained_model" in results:
            results["projected_rescore"] = project_rescore(results)
        write_json(args.out, results)
        print(f"\nwrote {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
