"""Sets the defaults were not chosen on, made from the shared data: the default policy against random.

"The project is also checked on data you do not have": a default tuned to the shared sets would show on another
one. These are derived at run time from the shared folder (written under ``--work``, never into the repository),
each a shape the defaults were not chosen on. Multi-label (the defaults were chosen on NLU++ and GoEmotions):

- ``agpairs``: AG News as long multi-topic news (3,000 records; 45% one article, the rest two articles joined,
  labelled with both topics; 4 labels, 41% with two);
- ``goemo10``: GoEmotions' first 6,000 training comments with its ten most frequent emotions other than
  "neutral"; every other comment is "None of these" (51% of the set);
- ``goemo2``: GoEmotions' first 5,000 with two labels, gratitude and anger (90% "None of these");
- ``nlupp_both``: NLU++ banking and hotels as one 62-label set (3,080 records; the generic intents shared).

Single-label (the defaults were chosen on AG News, BANKING77 and SMS spam, all but SMS spam balanced or nearly):

- ``goemo_single``: GoEmotions' first 8,000 comments with exactly one label, 28 classes, 36% "neutral" and the
  rarest with 6 comments.

Each set goes through the user's path: ``labeler init FILE --labels-from labels --multi-label`` (``label`` and no
flag, single-label; label names only, no descriptions), then ``labeler simulate -c CONFIG --seeds S --batch-size
B --rounds R`` (the default policy and random, every label counted), both in process (``common.cli``). The table
reads simulate's ``curves.json``: the default's AUC minus random's and its worst gap below random's mean curve, for
the queue model and for what ships, on exact match and micro-F1 (single-label: accuracy and macro-F1), with the
gap's standard error there (seed-paired: both policies share a seed's gold draw and eval split).

    python bench/bench_derived.py --seeds 8
    python bench/bench_derived.py --sets goemo10 --seeds 4 --rounds 16

Writes bench/results/derived.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from common import (RESULTS, cli, curve_mean, load_average, markdown_table, read_jsonl, require_shared_data,
                    write_json)
from harness import machine_info

SETS = {"agpairs": dict(batch=50, rounds=12, multi_label=True), "goemo10": dict(batch=50, rounds=16, multi_label=True),
        "goemo2": dict(batch=50, rounds=16, multi_label=True), "nlupp_both": dict(batch=50, rounds=16, multi_label=True),
        "goemo_single": dict(batch=50, rounds=16, multi_label=False)}
METRICS = {True: ("accuracy", "micro_f1"), False: ("accuracy", "macro_f1")}
TITLES = {True: ("exact match", "micro-F1"), False: ("accuracy", "macro-F1")}


def derive(name: str, shared: Path) -> list[dict]:
    """The rows ``{"id", "text", "labels"}`` (single-label: ``"label"``) of the derived set ``name``
    (deterministic)."""
    if name == "agpairs":
        rng = random.Random(7)
        news = read_jsonl(shared / "ag_news" / "test_all.jsonl")
        rng.shuffle(news)
        rows, i = [], 0
        while len(rows) < 3000 and i + 2 < len(news):
            if rng.random() < 0.45:
                rows.append({"text": news[i]["text"], "labels": [news[i]["label"]]})
                i += 1
            else:
                a, b = news[i], news[i + 1]
                rows.append({"text": a["text"] + "\n\n" + b["text"], "labels": sorted({a["label"], b["label"]})})
                i += 2
        return [{"id": f"n{k}", **r} for k, r in enumerate(rows)]
    if name in ("goemo10", "goemo2"):
        comments = read_jsonl(shared / "goemotions" / "train.jsonl")
        if name == "goemo10":
            counts = Counter(x for r in comments for x in r["labels"] if x != "neutral")
            keep, n = {x for x, _ in counts.most_common(10)}, 6000
        else:
            keep, n = {"gratitude", "anger"}, 5000
        return [{"id": r["id"], "text": r["text"], "labels": [x for x in r["labels"] if x in keep]}
                for r in comments[:n]]
    if name == "goemo_single":
        comments = read_jsonl(shared / "goemotions" / "train.jsonl")
        return [{"id": r["id"], "text": r["text"], "label": r["labels"][0]}
                for r in comments if len(r["labels"]) == 1][:8000]
    if name == "nlupp_both":
        return [{"id": f"{domain[0]}{k}", "text": r["text"], "labels": r["labels"]}
                for domain in ("banking", "hotels")
                for k, r in enumerate(read_jsonl(shared / "nlupp" / f"{domain}.jsonl"))]
    raise ValueError(f"unknown set {name!r}; known: {', '.join(SETS)}")


def summarise(curves: dict) -> dict:
    """The default's row against random from simulate's ``curves.json``."""
    variants = {("random" if v["settings"]["strategy"] == "random" else "default"): v for v in curves["variants"]}
    d, r = variants["default"]["summary"], variants["random"]["summary"]
    x, ml = d["n_labels"], bool(curves["multi_label"])
    out = {"labels": len(curves["labels"]), "multi_label": ml, "pool": curves["pool"], "eval": curves["eval"],
           "budgets": x, "seeds": curves["seeds"],
           "reference": {k: curves["reference"].get(k) for k in METRICS[ml]},
           "zero_shot": {k: curves["zero_shot"].get(k) for k in METRICS[ml]}}
    for metric in [*METRICS[ml], *("ships_" + m for m in METRICS[ml])]:
        dm, rm = d[metric]["mean"], r[metric]["mean"]
        gaps = [a - b for a, b in zip(dm, rm)]
        worst = min(range(len(gaps)), key=gaps.__getitem__)
        paired = per_seed(variants["default"], metric) - per_seed(variants["random"], metric)  # same seed, same gold
        se = paired.std(axis=0, ddof=1) / np.sqrt(len(paired)) if len(paired) > 1 else np.full(len(x), np.nan)
        out[metric] = {"default_auc": sum(dm) / len(dm), "random_auc": sum(rm) / len(rm),
                       "auc_minus_random": (sum(dm) - sum(rm)) / len(dm), "worst_gap": gaps[worst],
                       "worst_gap_at": x[worst], "worst_gap_se": float(se[worst]), "default_mean": dm,
                       "random_mean": rm, "gap_se": [float(v) for v in se]}
    if ml:  # the clicks to fix the pre-selected suggestion on the records the queue shows (simulate's curves)
        out["clicks"] = {name: {key: curve_mean(variants[name], key) for key in CLICKS} for name in ("default", "random")}
    return out


CLICKS = ("clicks", "clicks_without_none", "clicks_fewest", "clicks_empty", "suggested_none", "none_right")


def per_seed(variant: dict, metric: str) -> np.ndarray:
    """(seeds, budgets) of one variant's curves, seeds in order."""
    return np.array([[p[metric] for p in run["curve"]] for run in sorted(variant["runs"], key=lambda r: r["seed"])])


def row(name: str, s: dict) -> dict:
    cell, ml = {}, s.get("multi_label", True)
    for metric, title in [*zip(METRICS[ml], TITLES[ml]), *zip(("ships_" + m for m in METRICS[ml]),
                                                              ("ships " + t for t in TITLES[ml]))]:
        m = s[metric]
        cell[f"{title}: AUC default / random"] = f"{m['default_auc']:.3f} / {m['random_auc']:.3f}"
        flag = "" if m["worst_gap"] >= -0.01 else " ✘"
        cell[f"{title}: worst vs random (labels, SE)"] = \
            f"{m['worst_gap']:+.3f} ({m['worst_gap_at']}, {m['worst_gap_se']:.3f}){flag}"
    c = (s.get("clicks") or {}).get("default") or {}
    if c.get("clicks_without_none") is not None:
        cell["clicks: suggestion / without None pre-selected / empty form (None pre-selected)"] = \
            f"{c['clicks']:.2f} / {c['clicks_without_none']:.2f} / {c['clicks_empty']:.2f} ({c['suggested_none']:.0%})"
    if c.get("none_right") is not None and c["suggested_none"]:
        cell["pre-selected None right"] = f"{c['none_right'] / c['suggested_none']:.0%}"
    if c.get("clicks_fewest") is not None:
        cell["clicks, fewest pull reads (a wrong pre-selection left beside the option overriding it)"] = \
            f"{c['clicks_fewest']:.2f}"
    return {"set": f"{name} ({s['labels']} labels, {len(s['seeds'])} seeds)", **cell}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    ap.add_argument("--seeds", default="4", help="simulate's --seeds: a count or a list")
    ap.add_argument("--rounds", type=int, default=None, help="override each set's rounds")
    ap.add_argument("--batch", type=int, default=None, help="override each set's batch size")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_derived"))
    ap.add_argument("--out", type=Path, default=RESULTS / "derived.json")
    ap.add_argument("--resummarise", action="store_true",
                    help="no simulate: summarise the curves.json an earlier run left under --work again")
    args = ap.parse_args(argv)

    shared = require_shared_data()
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        sys.exit(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    t0, load0 = time.time(), load_average()
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    results = dict(previous.get("sets", {}))
    for name in names:
        plan = SETS[name]
        rows = derive(name, shared)
        work = args.work / name
        work.mkdir(parents=True, exist_ok=True)
        data = work / f"{name}.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        config = work / f"{name}.yaml"
        kind = ["--labels-from", "labels", "--multi-label"] if plan["multi_label"] else ["--labels-from", "label"]
        cli("init", str(data), *kind, "-o", str(config), "--force")
        out = work / "simulate"
        started = time.time()
        if not args.resummarise:
            cli("simulate", "-c", str(config), "--seeds", args.seeds, "--batch-size", str(args.batch or plan["batch"]),
                "--rounds", str(args.rounds or plan["rounds"]), "-q", "-o", str(out))
        s = summarise(json.loads((out / "curves.json").read_text()))
        s.update(rows=len(rows), none_share=sum(not r["labels"] for r in rows) / len(rows) if plan["multi_label"] else None,
                 **({k: results.get(name, {}).get(k) for k in ("minutes", "date", "load")} if args.resummarise else
                    {"minutes": round((time.time() - started) / 60, 1), "load": load_average(),
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
        results[name] = s
        print(markdown_table([row(name, s)], list(row(name, s))), flush=True)
    for ml in (True, False):  # one table per kind: their metrics differ
        kind = [row(n, s) for n, s in results.items() if s.get("multi_label", True) == ml]
        if kind:
            print(markdown_table(kind, list(kind[0])))
    command = "python bench/bench_derived.py " + " ".join(sys.argv[1:])
    kept = {"command": previous.get("command"), "resummarised_by": command} if args.resummarise else {"command": command}
    write_json(args.out, {**machine_info(), **kept,
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load0,
                          "load_end": load_average(), "minutes": round((time.time() - t0) / 60, 1), "sets": results})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
