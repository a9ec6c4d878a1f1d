"""NLI over 77 labels, with and without the candidate cascade (issue 18): pairs scored and wall time.

    .venv/bin/python bench/bench_cascade.py                           # 16 BANKING77 texts, k = 10, 3 repeats
    .venv/bin/python bench/bench_cascade.py --k 5,10,20 --texts 32    # more cascade sizes, more texts
    .venv/bin/python bench/bench_cascade.py --arch tiny --texts 3 --repeats 1 --out /tmp/cascade_smoke.json  # smoke

BANKING77 test texts (a fixed random sample) against all 77 intents. The NLI model is the
facebook/bart-large-mnli architecture with random weights (bench/nli_models.py; speed does not depend on
the weights). Variants, interleaved by bench/harness.py on the same texts: the full NLI signal (every
text x 77 labels) and the cascade for each ``--k``: the packaged-MiniLM embedding signal (label names, or
``--labels-as descriptions``) picks each text's top k labels and NLI scores only those. The cascade's
time includes encoding the texts (the embedding signal's text cache is cleared before every call); no
prediction or pair cache is used, so every repeat scores every pair again.

Reported per variant: pairs per call, median seconds and the speed-up over the full pass with its spread
and the load average; the share of texts whose true intent is among the candidates (the embedding
signal's top-k recall, a real number); and the share whose arg-max equals the full pass's (random
weights: only a consistency check, not accuracy). Writes bench/results/cascade.json.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from common import DATASETS, RESULTS, SHARED_DATASETS, write_json
from harness import compare, machine_info
from nli_models import build_random_bart_mnli, trained_nli_meta

from labeler.signals.cascade import topk_recall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--texts", type=int, default=16, help="BANKING77 test texts (a fixed random sample)")
    ap.add_argument("--k", default="10", help="cascade sizes, comma-separated")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--arch", default="bart-large", choices=["bart-large", "tiny"])
    ap.add_argument("--labels-as", default="names", choices=["names", "descriptions"],
                    help="what the embedding signal embeds for each intent")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--model", default=None,
                    help="an NLI model folder to use instead of the random-weight --arch one (e.g. the trained "
                         "cross-encoder of bench/bench_nli_int8.py --keep DIR: label agreement needs trained weights)")
    ap.add_argument("--root", default=str(SHARED_DATASETS))
    ap.add_argument("--out", default=str(RESULTS / "cascade.json"))
    args = ap.parse_args()

    from labeler.signals.embedding import EmbeddingSignal
    from labeler.signals.nli import NLISignal

    spec = DATASETS["banking77"]
    pool, held = spec.load(args.root)
    names = sorted({r.label for r in pool + held})
    descriptions = spec.descriptions(Path(args.root))
    pick = sorted(np.random.RandomState(0).choice(len(held), min(args.texts, len(held)), replace=False))
    texts = [held[i].text for i in pick]
    y = np.array([names.index(held[i].label) for i in pick])
    ks = [int(k) for k in args.k.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="bart-random-"))
    try:
        params = {"batch_size": args.batch_size, "device": args.device}
        if args.model:
            meta, template = trained_nli_meta(Path(args.model), default_template="This example is {}.")
            info = {"model": args.model, **meta.get("model", {})}
            params.update(model=str(args.model), hypothesis_template=template)
        else:
            corpus = [r.text for r in pool + held] + [f"This example is {n}." for n in names]
            info = build_random_bart_mnli(tmp, corpus, args.arch)
            params["model"] = str(tmp)
        full = NLISignal("nli", names, False, params)
        infos = [{"name": n, "description": descriptions.get(n) if args.labels_as == "descriptions" else None}
                 for n in names]
        emb = EmbeddingSignal("emb", infos, False, {"device": args.device})
        cascades = {}
        for k in ks:
            sig = NLISignal(f"nli-k{k}", names, False, {**params, "candidates": {"from": "emb", "k": k}})
            sig.bind({"emb": emb})  # no cache_dir: no prediction or pair cache, every call scores its pairs
            cascades[k] = sig

        pairs: dict[str, list[int]] = {}

        def counted(name, sig, clear_embeddings):
            def run():
                before = sig.pairs_scored
                if clear_embeddings:
                    emb._mem.clear()
                P = sig.predict_proba(texts)
                pairs.setdefault(name, []).append(sig.pairs_scored - before)
                return P
            return run

        base = f"full NLI, {len(names)} labels"
        variants = {base: counted(base, full, False)}
        variants.update({f"cascade, k = {k}": counted(f"cascade, k = {k}", s, True) for k, s in cascades.items()})
        warm = {base: lambda: full.predict_proba(texts[:1])}
        warm.update({f"cascade, k = {k}": (lambda s=s: s.predict_proba(texts[:2])) for k, s in cascades.items()})
        work = {base: len(texts) * len(names), **{f"cascade, k = {k}": len(texts) * min(k, len(names)) for k in ks}}
        cmp = compare(variants, baseline=base, repeats=args.repeats, warmup=args.warmup, work=work, unit="pairs",
                      warmup_with=warm)
        P_full = cmp.outputs[base]
        extra = {}
        for name, P in cmp.outputs.items():
            counts = sorted(set(pairs[name]))
            assert counts == [work[name]], f"{name}: pairs per call {counts}, expected {work[name]}"
            row = {"pairs/call": work[name], "pairs ratio": f"{work[base] / work[name]:.1f}",
                   "argmax = full": f"{100 * np.mean(P.argmax(1) == P_full.argmax(1)):.1f}%",
                   "accuracy": f"{np.mean(P.argmax(1) == y):.3f}"}
            if name != base:
                k = int(name.rsplit("= ", 1)[1])
                row["true label in candidates"] = f"{100 * topk_recall(emb.predict_proba(texts), y, [k])[k]:.0f}%"
            extra[name] = row
        what = f"model {args.model}" if args.model else f"{args.arch} architecture, random weights"
        print(f"\n## NLI with and without the candidate cascade: BANKING77, {len(texts)} texts x {len(names)} labels "
              f"({what}, {args.device})\n")
        print(cmp.table("variant", extra=extra))
        results = {"machine": machine_info(), "model": info, "texts": len(texts), "labels": len(names),
                   "labels_as": args.labels_as, "device": args.device, "batch_size": args.batch_size,
                   "comparison": cmp.to_json(), "per_variant": extra}
        write_json(args.out, results)
        print(f"\nwrote {args.out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
