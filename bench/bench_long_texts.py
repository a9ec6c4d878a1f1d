"""Long texts: the embedding signal reading the start of a text (its model's first 256 word pieces) against reading
it whole (``embedding.params.long_texts``: windows' weighted mean, ``training.windows``), through `labeler simulate`.

No shared data set has long texts (AG News has 2 of 7,600 past 256 word pieces, the others none), so two are built
at run time from AG News' descriptions (``../shared/datasets/ag_news``), one document per row, its label the topic
it was built around:
- ``briefings``: 8-40 paragraphs, each of the document's topic with probability 0.75, else of any topic;
- ``preamble``: 3-6 paragraphs of other topics first (a round-up's opening), then 8-40 of the document's topic;
- ``mixed`` (multi-label): 8-40 paragraphs of one topic, or of two (each at least a third of them), shuffled; its
  labels are its topics.
Each variant is one `labeler simulate -c <config> --strategy random,<the task's default>` run (the product's queue
and models;
the embedding cache starts empty, so the seconds include encoding the pool), the config alike but for
``signals[0].params.long_texts``.

    python bench/bench_long_texts.py --docs 400 --seeds 2 --rounds 10 --batch 20 --kinds briefings preamble
    python bench/bench_long_texts.py --docs 400 --seeds 2 --rounds 10 --batch 20 --kinds mixed \
        --out bench/results/long_texts_multilabel.json

``--runs 40`` also fits a SetFit run (the default 48 steps) and a transformers run (60 steps, 6 documents for
validation) on the first 24 of 40 preamble documents, each reading from the start and whole, and counts how many of
the other 16 (SetFit) or the last 10 (transformers) each gets right: a smoke check of the runs, not a curve.

``--overhead banking77`` also times what reading whole costs a pool of short texts: ``EmbeddingSignal.encode`` of
the shared set's pool from a warm cache (every vector cached, as in a round), ``long_texts: whole`` (each call checks
which texts are long) against ``start``, interleaved (``harness.compare``).

Writes bench/results/long_texts.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, SHARED_DATASETS as SHARED, load_average, write_json
from harness import compare, machine_info

KINDS = ("briefings", "preamble", "mixed")


def documents(kind: str, n: int, seed: int = 7) -> list[dict]:
    """``n`` documents of ``kind`` from AG News' descriptions (see the module docstring)."""
    by: dict[str, list[str]] = {}
    with open(SHARED / "ag_news" / "test_all.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            by.setdefault(row["label"], []).append(row["description"].replace("\\", " "))
    labels, rnd, out = sorted(by), random.Random(seed), []
    for i in range(n):
        topic, k = rnd.choice(labels), rnd.randint(8, 40)
        if kind == "briefings":
            parts = [rnd.choice(by[topic if rnd.random() < 0.75 else rnd.choice(labels)]) for _ in range(k)]
        elif kind == "mixed":
            topics = [topic] if rnd.random() < 0.5 else rnd.sample(labels, 2)
            first = k if len(topics) == 1 else rnd.randint(-(-k // 3), k - (-(-k // 3)))
            parts = [rnd.choice(by[topics[0]]) for _ in range(first)] + \
                [rnd.choice(by[topics[-1]]) for _ in range(k - first)]
            rnd.shuffle(parts)
            topic = sorted(topics)
        else:
            others = [lab for lab in labels if lab != topic]
            parts = [rnd.choice(by[rnd.choice(others)]) for _ in range(rnd.randint(3, 6))]
            parts += [rnd.choice(by[topic]) for _ in range(k)]
        out.append({"id": f"{kind}-{i:04d}", "text": "\n\n".join(parts), "topic": topic})
    return out


def config_text(data: Path, labels: list[str], mode: str, batch: int, multi_label: bool = False) -> str:
    return json.dumps({  # JSON is YAML
        "data": {"path": str(data), "text_fields": ["text"], "id_field": "id", "label_field": "topic"},
        "task": {"labels": labels, "multi_label": multi_label},
        "signals": [{"type": "embedding", "params": {"long_texts": mode}}],
        "queue": {"batch_size": batch}, "training": {"backend": "logreg"},
    }, indent=1)


def run_variant(work: Path, kind: str, docs: list[dict], mode: str, args) -> dict:
    folder = work / f"{kind}-{mode}"
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "docs.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    cfg = folder / "project.yaml"
    multi = kind == "mixed"
    labels = sorted({t for d in docs for t in (d["topic"] if multi else [d["topic"]])})
    cfg.write_text(config_text(data, labels, mode, args.batch, multi), encoding="utf-8")
    t0 = time.time()
    strategy = "random,threshold_distance" if multi else "random,margin"
    cmd = [sys.executable, "-m", "labeler.cli", "simulate", "-c", str(cfg), "--strategy", strategy, "-q",
           "--seeds", str(args.seeds), "-r", str(args.rounds), "-b", str(args.batch), "-o", str(folder / "out")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} {mode}: simulate failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    summary = json.loads((folder / "out" / "summary.json").read_text())
    return {"kind": kind, "long_texts": mode, "seconds": round(time.time() - t0, 1), "summary": summary,
            "stdout": done.stdout[-3000:]}


def short_overhead(dataset: str, repeats: int, work: Path) -> dict:
    """``encode`` of ``dataset``'s pool texts from a warm cache, ``long_texts`` whole against start."""
    from labeler import simulate as sim
    from labeler.signals.embedding import EmbeddingSignal

    texts = list(sim.dataset_data(dataset).texts)
    signals = {mode: EmbeddingSignal("embedding", ["a", "b"], params={"long_texts": mode}, cache_dir=work / "cache")
               for mode in ("start", "whole")}
    for sig in signals.values():
        sig.encode(texts)  # fills the cache
    cmp = compare({mode: (lambda sig=sig: sig.encode(texts)) for mode, sig in signals.items()}, baseline="start",
                  repeats=repeats, warmup=1, unit="encodes")
    print(f"== encode of {dataset}'s {len(texts):,} pool texts, warm cache\n{cmp.table()}", flush=True)
    return {"dataset": dataset, "texts": len(texts), "comparison": cmp.to_json()}


def run_smoke(n: int) -> list[dict]:
    """``--runs``: SetFit and transformers runs on preamble documents, from the start and whole (module docstring)."""
    import numpy as np

    from training.setfit_backend import SetFitParams, train_setfit
    from training.transformers_backend import TransformersParams, train_transformers

    docs = documents("preamble", n)
    labels = sorted({d["topic"] for d in docs})
    texts, y = [d["text"] for d in docs], np.array([labels.index(d["topic"]) for d in docs])
    out = []
    for backend in ("setfit", "transformers"):
        for mode in ("start", "whole"):
            t0 = time.time()
            if backend == "setfit":
                clf = train_setfit(texts[:24], y[:24], labels, params=SetFitParams(long_texts=mode))
                scored = slice(24, n)
            else:
                params = TransformersParams(max_steps=60, long_texts=mode)
                clf = train_transformers(texts[:24], y[:24], labels, params=params, val_texts=texts[24:30],
                                         val_y=y[24:30])
                scored = slice(30, n)
            right = int((clf.predict_proba(texts[scored]).argmax(1) == y[scored]).sum())
            out.append({"backend": backend, "long_texts": mode, "right": right, "of": len(y[scored]),
                        "seconds": round(time.time() - t0, 1)})
            print(f"== {backend} run, long_texts: {mode}: {right} of {len(y[scored])} right, {out[-1]['seconds']} s",
                  flush=True)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS, help="none: --overhead alone")
    ap.add_argument("--overhead", metavar="DATASET", help="also time encode of this shared set's short texts")
    ap.add_argument("--repeats", type=int, default=15, help="of --overhead")
    ap.add_argument("--runs", type=int, metavar="DOCS",
                    help="also the runs' smoke check on this many preamble documents (40)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_long_texts"))
    ap.add_argument("--out", type=Path, default=RESULTS / "long_texts.json")
    args = ap.parse_args(argv)
    if not (SHARED / "ag_news" / "test_all.jsonl").exists():
        raise SystemExit(f"skipped: {SHARED / 'ag_news'} is absent (the long documents are built from AG News)")
    t_start, load0, rows = time.time(), load_average(), []
    for kind in args.kinds:
        docs = documents(kind, args.docs)
        chars = sorted(len(d["text"]) for d in docs)
        for mode in ("start", "whole"):
            row = run_variant(args.work, kind, docs, mode, args)
            row["median_chars"] = chars[len(chars) // 2]
            rows.append(row)
            print(f"== {kind} ({len(docs)} documents, median {row['median_chars']:,} characters), long_texts: {mode}, "
                  f"{row['seconds']} s\n{row['stdout']}", flush=True)
    overhead = short_overhead(args.overhead, args.repeats, args.work) if args.overhead else None
    runs = run_smoke(args.runs) if args.runs else None
    write_json(args.out, {**machine_info(), "command": "python bench/bench_long_texts.py " + " ".join(sys.argv[1:]),
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": rows,
                          "short_text_overhead": overhead, "runs": runs,
                          "load_start": load0, "load_end": load_average(),
                          "minutes": round((time.time() - t_start) / 60, 1)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
