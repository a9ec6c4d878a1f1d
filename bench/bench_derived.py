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
  rarest with 6 comments;
- ``mixed140``: about 150 classes from four domains, as a many-domain intent set is built (17,444 texts, 140
  classes): BANKING77's 77 intents (train and test, 13,083), the 31 NLU++ hotels intents of its 161 one-label
  texts (``hotel_*``, 1 to 20 texts each: the sparse tail), GoEmotions' first 3,000 one-label comments
  (``emotion_*``, 28) and 1,200 AG News articles (``news_*``, 4). ``labeler simulate -c`` holds 20% out by id.

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
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, cli, curve_mean, load_average, markdown_table, read_jsonl, require_shared_data, write_json
from derived_sets import DOMAINS, SETS, derived_config
from harness import machine_info
from labeler.simulate.report import labels_to_target

METRICS = {True: ("accuracy", "micro_f1"), False: ("accuracy", "macro_f1")}
TITLES = {True: ("exact match", "micro-F1"), False: ("accuracy", "macro-F1")}


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
        line = 0.95 * curves["reference"][metric.removeprefix("ships_")]  # labels to 95% of the whole-pool model
        out[metric] = {"default_l95": labels_to_target(x, dm, line), "random_l95": labels_to_target(x, rm, line),
                       "default_auc": sum(dm) / len(dm), "random_auc": sum(rm) / len(rm),
                       "auc_minus_random": (sum(dm) - sum(rm)) / len(dm), "worst_gap": gaps[worst],
                       "worst_gap_at": x[worst], "worst_gap_se": float(se[worst]), "default_mean": dm,
                       "random_mean": rm, "gap_se": [float(v) for v in se]}
    if ml:  # the clicks to fix the pre-selected suggestion on the records the queue shows (simulate's curves)
        out["clicks"] = {name: {key: curve_mean(variants[name], key) for key in CLICKS} for name in ("default", "random")}
    return out


CLICKS = ("clicks", "clicks_without_none", "clicks_fewest", "clicks_empty", "suggested_none", "none_right")


def domain_shares(curves: dict, rows: list[dict], domains: dict[str, str]) -> dict:
    """Where each policy's labels went, by domain (the id's first letter): the share of the pool, and of the
    records each policy asked outside the random gold reserve (its first seed), at a third, two thirds and the
    end of the run."""
    pool = [r["id"] for r in rows]
    out = {"pool": {d: sum(i[0] == k for i in pool) / len(pool) for k, d in domains.items()}}
    for v in curves["variants"]:
        name = "random" if v["settings"]["strategy"] == "random" else "default"
        asked = [i for batch in v["runs"][0]["selected"] for i in batch]
        per_round = len(v["runs"][0]["selected"][0])
        gold = int(v["settings"]["gold_share"] * per_round + 0.5)  # GoldReserve.picks; plan_batch puts them last
        queued = [i for batch in v["runs"][0]["selected"] for i in batch[: len(batch) - gold]]
        out[name] = {}
        for part in (3, 1.5, 1):
            upto = queued[: int(len(queued) / part)]
            out[name][str(int(len(asked) / part))] = {d: sum(i[0] == k for i in upto) / len(upto)
                                                      for k, d in domains.items()}
    return out


def domain_rows(shares: dict) -> list[dict]:
    fmt = lambda d: ", ".join(f"{k} {v:.0%}" for k, v in d.items())  # noqa: E731
    return [{"records": "the pool", "labels": "", "by domain": fmt(shares["pool"])}] + [
        {"records": f"{policy}'s queue picks (gold left out)", "labels": f"first {n}", "by domain": fmt(d)}
        for policy in ("default", "random") for n, d in shares[policy].items()]


def plain_margin(curves: dict) -> dict:
    """Plain margin's labels to 95% and AUC (queue model = what ships: it trains on every label) per metric."""
    v = curves["variants"][0]["summary"]
    out = {}
    for metric in METRICS[False]:
        m = v[metric]["mean"]
        out[metric] = {"l95": labels_to_target(v["n_labels"], m, 0.95 * curves["reference"][metric]),
                       "auc": sum(m) / len(m)}
    return out


def per_seed(variant: dict, metric: str) -> np.ndarray:
    """(seeds, budgets) of one variant's curves, seeds in order."""
    return np.array([[p[metric] for p in run["curve"]] for run in sorted(variant["runs"], key=lambda r: r["seed"])])


def row(name: str, s: dict) -> dict:
    cell, ml = {}, s.get("multi_label", True)
    for metric, title in [*zip(METRICS[ml], TITLES[ml]), *zip(("ships_" + m for m in METRICS[ml]),
                                                              ("ships " + t for t in TITLES[ml]))]:
        m = s[metric]
        if "default_l95" in m:  # results written before the key have no such cell
            cell[f"{title}: L95 default / random"] = " / ".join(
                "> " + str(s["budgets"][-1]) if v is None else str(v) for v in (m["default_l95"], m["random_l95"]))
        cell[f"{title}: AUC default / random"] = f"{m['default_auc']:.3f} / {m['random_auc']:.3f}"
        flag = "" if m["worst_gap"] >= -0.01 else " ✘"
        cell[f"{title}: worst vs random (labels, SE)"] = \
            f"{m['worst_gap']:+.3f} ({m['worst_gap_at']}, {m['worst_gap_se']:.3f}){flag}"
    for metric, title in zip(METRICS[ml], TITLES[ml]):
        if metric in s.get("plain_margin", {}):
            pm = s["plain_margin"][metric]
            cell[f"{title}: plain margin, no gold: L95 / AUC"] = \
                f"{'> ' + str(s['budgets'][-1]) if pm['l95'] is None else pm['l95']} / {pm['auc']:.3f}"
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
    ap.add_argument("--plain-margin", action="store_true",
                    help="also plain margin, no gold (issue 26.2's peer: --strategy margin --cold-start off --weak 0 "
                         "--coverage 0 --gold-share 0; single-label sets), its labels to 95%% beside the default's")
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
        work = args.work / name
        config = derived_config(name, shared, work)
        rows = read_jsonl(work / f"{name}.jsonl")
        out = work / "simulate"
        started = time.time()
        if not args.resummarise:
            cli("simulate", "-c", str(config), "--seeds", args.seeds, "--batch-size", str(args.batch or plan["batch"]),
                "--rounds", str(args.rounds or plan["rounds"]), "-q", "-o", str(out))
        curves = json.loads((out / "curves.json").read_text())
        s = summarise(curves)
        if name in DOMAINS:
            s["domains"] = domain_shares(curves, rows, DOMAINS[name])
        plain = work / "plain_margin"
        if args.plain_margin and not plan["multi_label"]:
            if not args.resummarise:
                cli("simulate", "-c", str(config), "--strategy", "margin", "--cold-start", "off", "--weak", "0",
                    "--coverage", "0", "--gold-share", "0", "--seeds", "1", "--batch-size",
                    str(args.batch or plan["batch"]), "--rounds", str(args.rounds or plan["rounds"]), "-q", "-o", str(plain))
            s["plain_margin"] = plain_margin(json.loads((plain / "curves.json").read_text()))
        s.update(rows=len(rows), none_share=sum(not r["labels"] for r in rows) / len(rows) if plan["multi_label"] else None,
                 **({k: results.get(name, {}).get(k) for k in ("minutes", "date", "load")} if args.resummarise else
                    {"minutes": round((time.time() - started) / 60, 1), "load": load_average(),
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
        results[name] = s
        print(markdown_table([row(name, s)], list(row(name, s))), flush=True)
        if "domains" in s:
            print(markdown_table(domain_rows(s["domains"]), list(domain_rows(s["domains"])[0])), flush=True)
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
