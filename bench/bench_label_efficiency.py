"""Label efficiency of the product's policy (``labeler simulate``: the same engine ``labeler round`` runs).

For each data set: hide the labels, run the loop (embedding zero-shot -> ``labeler.loop.engine.plan_batch`` -> the
oracle answers the batch -> the queue model (class-balanced logistic regression, C=10, on frozen MiniLM) with
weak labels -> score the fixed eval split), and report per policy: labels-to-95% (the first budget where the
mean curve over seeds reaches 95% of the same model trained on the whole pool), the normalised area under the
curve, the final value, and the gap to random (AUC difference and the worst per-budget difference: "never
below random" means that is >= 0). Every label asked counts, the random gold share included (each batch pays
it, random's too).

    python bench/bench_label_efficiency.py --datasets ag_news,banking77,sms_spam,nlupp_banking --seeds 3
    python bench/bench_label_efficiency.py --ships --datasets ag_news,sms_spam,banking77 --seeds 3   # issue 26.2
    python bench/bench_label_efficiency.py --reserve-seeds 4 --datasets ag_news,sms_spam,banking77  # gold 0.2 vs 0.1

``--ships``: random, the default at gold 0.2/0.15/0.1 and plain margin without gold ("what ships", the final fit
on every label, in extra columns) -> label_efficiency_ships*. ``--reserve-seeds``: the default at gold 0.2 and
0.1 over several draws of the gold reserve -> label_efficiency_reserve.json.

Variants: ``default`` is ``Policy.from_config`` of a config with no queue/training section, i.e. exactly the
product's defaults; the others change one field of it. ``random`` is uniform sampling trained without weak
labels (what a team without labeler does). Writes bench/results/label_efficiency.json (merged per data set)
and bench/results/label_efficiency_<dataset>.png; per-run CSV/JSON go to .labeler/simulate/<dataset>/bench/.
Anchors and targets: /work/shared/design/TARGETS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from common import PLANS, REPO, RESULTS, write_json

from labeler import simulate as sim
from labeler.evaluation.gold import GoldReserve
from labeler.loop.engine import LEXICAL_FROM, Policy, WeakLabels
from labeler.simulate.report import SHIPS, plot, table_rows

PLAIN = "plain margin, no gold"  # the issue 26.2 yardstick for what ships
SHIPS_SET = ["default", "gold 0.1", "gold 0.15", PLAIN]  # --ships: these (and random) -> label_efficiency_ships*
ANCHORS = {"ag_news": {"random": 176, "margin": 144}, "banking77": {"random": 1540, "margin": 924, "margin+cold": 847}}


def variants_for(data, only: list[str] | None) -> tuple[list[str], list[Policy], int]:
    """(policies, rounds): the product default, one-field changes of it, and the random baseline."""
    plan = PLANS[data.name]
    default = dataclasses.replace(Policy.from_config(data.config), batch_size=plan["batch_size"])
    named = {
        "random": dataclasses.replace(default, strategy="random", cold_start=False, weak=WeakLabels(0.0)),
        "default": default,
        "gold 0.1": dataclasses.replace(default, gold_share=0.1),
        "gold 0.15": dataclasses.replace(default, gold_share=0.15),
        # ``labeler simulate --strategy margin --cold-start off --weak 0 --coverage 0 --gold-share 0`` (multi-label:
        # the task's own uncertainty, threshold_distance; margin does not fit it)
        PLAIN: dataclasses.replace(default, strategy=default.strategy, cold_start=False, weak=WeakLabels(0.0), coverage=0.0,
                                   gold_share=0.0),
        "no coverage": dataclasses.replace(default, coverage=0.0),
        "no weak labels": dataclasses.replace(default, weak=WeakLabels(0.0)),
        "weak 0.1x0.1": dataclasses.replace(default, weak=WeakLabels(0.1, 0.1)),
        "weak 0.2x0.3": dataclasses.replace(default, weak=WeakLabels(0.2, 0.3)),
        "explore 0.1 + diversity 0.5": dataclasses.replace(default, exploration=0.1, diversity=0.5),
    }
    keep = [k for k in named if not only or k in only or k == "random"]
    return keep, [named[k] for k in keep], plan["rounds"]


def saved_report(out_dir: Path, variants: list[Policy], seeds: list[int], pool: int) -> dict | None:
    """The report a previous run left in ``out_dir`` if it ran exactly these variants, seeds and pool size."""
    path = out_dir / "curves.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    same = ([v["name"] for v in report["variants"]] == [v.name for v in variants]
            and report["seeds"] == seeds and report["pool"] == pool)
    return report if same else None


def run(name: str, seeds: list[int], only: list[str] | None, reuse: bool = False, suffix: str = "",
        lexical: float | None = None) -> dict:
    start = time.perf_counter()
    data = sim.dataset_data(name)
    if lexical is not None:  # every variant's queue model and the whole-pool reference read the pool's words too
        data.config.queue.lexical = lexical
    feats = sim.compute_features(data, progress=False)
    print(f"[{name}] features ready in {time.perf_counter() - start:.0f} s", flush=True)
    keys, variants, rounds = variants_for(data, only)
    out_dir = Path(data.config.project.dir) / f"bench{suffix}"
    report = saved_report(out_dir, variants, seeds, len(data.ids)) if reuse else None
    if report is not None:
        print(f"[{name}] reusing {out_dir / 'curves.json'}", flush=True)
    else:
        report = sim.simulate(data, variants, seeds, rounds, out_dir, progress=False, feats=feats,
                              log=lambda s: print(s, flush=True))
    png = RESULTS / f"label_efficiency{suffix}_{name}.png"
    plot(report, png)
    table = sim.format_table(report)
    print(table, flush=True)
    for v in report["variants"]:
        for run_ in v["runs"]:
            run_.pop("selected", None)  # the ids asked per round: in the per-run curves.json only
    primary = report["primary_metric"]
    rand = next(v for v in report["variants"] if v["settings"]["strategy"] == "random")["summary"]
    plain = next((v["summary"] for k, v in zip(keys, report["variants"]) if k == PLAIN), None)
    checks = {}
    for v in report["variants"]:
        s = v["summary"]
        l95, r95 = s["accuracy"].get("labels_to_95"), rand["accuracy"].get("labels_to_95")
        checks[v["name"]] = {
            "labels_to_95": l95, "random_labels_to_95": r95,
            "half_of_random": (l95 is not None and r95 is not None and l95 <= r95 / 2),
            "never_below_random": (v["vs_random"].get("accuracy") or {}).get("worst_gap_vs_random", 0.0) >= 0.0,
        }
        if plain is not None and SHIPS + primary in s:
            checks[v["name"]].update(ships_vs_plain(s, plain, primary))
    return {"dataset": name, "variant_keys": keys, "seconds": round(time.perf_counter() - start, 1), "table": table_rows(report),
            "text_table": table, "targets": checks, "anchors": ANCHORS.get(name), "plot": os.path.relpath(png, REPO),
            "report": {k: v for k, v in report.items()}}


def ships_vs_plain(summary: dict, plain: dict, m: str) -> dict:
    """What ships (the final fit on every label) against plain margin without gold, on metric ``m``: both L95,
    whether what ships needs no more labels (never reaching 95% counts as the budget + 1), the worst gap."""
    mine, theirs = summary[SHIPS + m].get("labels_to_95"), plain[m].get("labels_to_95")
    cap = summary["n_labels"][-1] + 1
    n = min(len(summary["n_labels"]), len(plain["n_labels"]))
    if summary["n_labels"][:n] != plain["n_labels"][:n]:
        raise SystemExit("what ships and plain margin were scored at different budgets")
    gap = np.array(summary[SHIPS + m]["mean"][:n]) - np.array(plain[m]["mean"][:n])
    return {"ships_labels_to_95": mine, "plain_labels_to_95": theirs,
            "ships_auc": summary[SHIPS + m]["auc"], "plain_auc": plain[m]["auc"],
            "ships_no_more_than_plain": None if mine is None and theirs is None else (mine or cap) <= (theirs or cap),
            "ships_worst_gap_vs_plain": float(gap.min()), "ships_worst_gap_vs_plain_at": int(summary["n_labels"][int(gap.argmin())])}


def markdown(results: dict) -> str:
    """Per data set: its reference line and one row per variant (primary metric), as in BENCHMARKS.md."""
    out = []
    for name, res in results["datasets"].items():
        rep = res["report"]
        names = {v["name"]: k for k, v in zip(res.get("variant_keys", []), rep["variants"])}  # policy name -> key
        m, ref = rep["primary_metric"], rep["reference"]
        out.append(f"**{name}** (pool {rep['pool']:,}, eval {rep['eval']:,}; {ref['model']} on the whole pool: "
                   f"{m} {ref[m]:.3f}, so 95% = {0.95 * ref[m]:.3f}; zero-shot accuracy {rep['zero_shot']['accuracy']:.3f}), "
                   f"{m}:\n")
        ships = any(f"{SHIPS}{m}_auc" in row for row in res["table"])
        out += ["| variant | seeds | L95 | AUC (± std over seeds) | final | worst vs random (at labels) |"
                + (" what ships L95 | what ships AUC |" if ships else ""), "|---|---|---|---|---|---|" + ("---|---|" if ships else "")]
        for row in res["table"]:
            l95 = row[f"{m}_labels_to_95"]
            gap, at = row[f"{m}_worst_gap_vs_random"], row[f"{m}_worst_gap_at"]
            cells = ""
            if ships:
                s95, sauc = row.get(f"{SHIPS}{m}_labels_to_95"), row.get(f"{SHIPS}{m}_auc")
                cells = (f" {s95 if s95 is not None else '> ' + str(row['max_labels'])} | {sauc:.3f} |" if sauc is not None
                         else " — | — |")
            out.append(f"| {names.get(row['variant'], '')}: {row['variant']} | {row['seeds']} | {l95 if l95 is not None else '> ' + str(row['max_labels'])} | "
                       f"{row[f'{m}_auc']:.3f} ± {row[f'{m}_auc_std']:.3f} | {row[f'{m}_final']:.3f} | "
                       + ("—" if gap is None else f"{gap:+.3f} ({at})") + " |" + cells)
        out.append("")
    return "\n".join(out)


def reserve_sensitivity(name: str, n_seeds: int, shares=(0.2, 0.1)) -> dict:
    """The default at each gold share with the reserve drawn by ``n_seeds`` hash seeds (0 = the product's).

    The product fixes the reserve by the ids (``labeler.evaluation.gold.RESERVE_SEED``), so one run per share
    says nothing about how much its draw alone moves a curve; here ``Policy.reserve`` is patched, in this
    process only, to draw it with another seed. Everything else is the product path."""
    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    plan = PLANS[name]
    default = dataclasses.replace(Policy.from_config(data.config), batch_size=plan["batch_size"])
    m = sim.primary_metric(data)
    out: dict = {"dataset": name, "metric": m, "shares": {}}
    original = Policy.reserve
    try:
        for seed in range(n_seeds):
            Policy.reserve = property(lambda p, s=seed: GoldReserve(p.gold_share, p.calib_share, s))
            variants = [dataclasses.replace(default, gold_share=g) for g in shares]
            report = sim.simulate(data, variants, [0], plan["rounds"], Path(data.config.project.dir) / f"bench_reserve{seed}",
                                  progress=False, feats=feats)
            for g, v in zip(shares, report["variants"]):
                s = v["summary"]
                row = out["shares"].setdefault(f"{g:g}", {"reserve_seeds": [], "ships_l95": [], "ships_auc": [], "l95": [], "auc": []})
                row["reserve_seeds"].append(seed)
                for key, metric in (("ships_", SHIPS + m), ("", m)):
                    row[f"{key}l95"].append(s[metric].get("labels_to_95"))
                    row[f"{key}auc"].append(s[metric]["auc"])
                print(f"[{name}] gold {g:g} reserve seed {seed}: ships L95 {row['ships_l95'][-1]}, AUC {row['ships_auc'][-1]:.3f}; "
                      f"queue L95 {row['l95'][-1]}, AUC {row['auc'][-1]:.3f}", flush=True)
    finally:
        Policy.reserve = original
    for row in out["shares"].values():
        row["ships_auc_mean"], row["ships_auc_std"] = float(np.mean(row["ships_auc"])), float(np.std(row["ships_auc"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="ag_news,banking77,sms_spam,nlupp_banking")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", default="", help="variant names to run, separated by commas, or by | where a name "
                    "has a comma (random always runs)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables of the saved results; run nothing")
    ap.add_argument("--reserve-seeds", type=int, default=0, help="gold 0.2 vs 0.1 over this many reserve draws; "
                    "writes label_efficiency_reserve.json")
    ap.add_argument("--shares", default="0.2,0.1", help="the gold shares --reserve-seeds runs")
    ap.add_argument("--ships", action="store_true",
                    help=f"issue 26.2: run random and {', '.join(SHIPS_SET)}; write label_efficiency_ships*")
    ap.add_argument("--lexical", type=float, default=None, help="queue.lexical for every variant and the reference "
                    "(the fast model's words beside its embeddings); results in label_efficiency[_ships]_lexical<W>from<F>.json")
    ap.add_argument("--reuse", action="store_true",
                    help="take a data set's curves from its last run's curves.json when variants, seeds and pool match")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.reserve_seeds:
        path = RESULTS / "label_efficiency_reserve.json"
        for name in [d for d in args.datasets.split(",") if d]:
            res = reserve_sensitivity(name, args.reserve_seeds, [float(g) for g in args.shares.split(",")])
            saved = json.loads(path.read_text()) if path.exists() else {}
            old = saved.setdefault("datasets", {}).setdefault(name, res)
            old["shares"].update(res["shares"])  # a share run again replaces its row; the others stay
            saved["command"] = "python bench/bench_label_efficiency.py " + " ".join(sys.argv[1:])
            write_json(path, saved, indent=1)
        return
    suffix = ("_ships" if args.ships else "") + (f"_lexical{args.lexical:g}from{LEXICAL_FROM:g}"
                                                 if args.lexical is not None else "")
    out_path = RESULTS / f"label_efficiency{suffix}.json"
    if args.markdown:
        print(markdown(json.loads(out_path.read_text())))
        return
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    if results.get("engine") != "labeler.loop.engine":  # results of the old simulation: not comparable, start afresh
        results = {}
    results.setdefault("datasets", {})
    results["engine"] = "labeler.loop.engine"  # a format tag of the results file, kept when the module moved
    results["command"] = "python bench/bench_label_efficiency.py " + " ".join(sys.argv[1:])
    results["model"] = "the queue model: balanced logistic regression (C=10) on frozen all-MiniLM-L6-v2 embeddings"
    only = [s for s in args.only.split("|" if "|" in args.only else ",") if s] or (SHIPS_SET if args.ships else None)
    for name in [d for d in args.datasets.split(",") if d]:
        res = run(name, list(range(args.seeds)), only, args.reuse, suffix, args.lexical)
        res["command"] = results["command"]
        if out_path.exists():  # another process may have written other data sets meanwhile: keep them
            results["datasets"] = {**json.loads(out_path.read_text()).get("datasets", {}), **results["datasets"]}
        results["datasets"][name] = res
        write_json(out_path, results, indent=1)
        print(f"[{name}] done in {res['seconds']:.0f} s -> {out_path}", flush=True)


if __name__ == "__main__":
    main()
