"""Label efficiency: how many human labels each query strategy needs (labeler.simulate, oracle annotator).

For each data set: hide the labels, run the loop (embedding zero-shot -> queue -> oracle answers the batch
-> balanced logistic regression (C=10) on frozen MiniLM -> score the fixed eval split), and report per
strategy: labels-to-95% (the first budget where the mean curve over seeds reaches 95% of the same model
trained on the whole pool), the normalised area under the curve, the final value, and the gap to random
(AUC difference and the worst per-budget difference: "never below random" means that is >= 0).

    python bench/bench_label_efficiency.py --datasets ag_news,banking77 --seeds 3
    python bench/bench_label_efficiency.py --model setfit --seeds 2     # SetFit (capped steps) as the model

``--model setfit`` fine-tunes the SetFit body (48 contrastive steps) every 4 rounds (the head is refitted every
round) and re-embeds the pool, which a 2-core CPU cannot afford on the whole pools: it runs on a fixed random
subset (SETFIT_PLANS: pool and eval sizes, batch, rounds) with three policies (random; margin + cold start; margin + cold start + 20% weak
labels) and writes label_efficiency_setfit.json / label_efficiency_setfit_<dataset>.png. Its reference is
SetFit trained the same way on the whole subset pool.

Writes bench/results/label_efficiency.json (merged per data set, so runs can be split) and
bench/results/label_efficiency_<dataset>.png; the per-run CSV/JSON go to .labeler/simulate/<dataset>/bench/.
Anchors and targets: /work/shared/design/TARGETS.md (AG News random 176 / margin 144 labels; BANKING77
random 1,540 / margin 924 / margin + cold start 847; target: at most half of random's labels).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"

from labeler import simulate as sim  # noqa: E402
from labeler.simulate import Settings  # noqa: E402

ANCHORS = {"ag_news": {"random": 176, "margin": 144}, "banking77": {"random": 1540, "margin": 924, "margin+cold": 847}}

# batch size and rounds per data set (the anchors' grids: AG News rounds of 16, BANKING77 rounds of 77)
PLANS = {
    "ag_news": dict(batch_size=16, rounds=25),  # up to 400 labels
    "banking77": dict(batch_size=77, rounds=24),  # up to 1,848 labels
    "sms_spam": dict(batch_size=16, rounds=20),  # up to 320 labels
    "nlupp_banking": dict(batch_size=32, rounds=15),  # up to 480 labels
}


# SetFit: smaller pools (re-embedded after every fine-tune), fewer and larger rounds, a fine-tune every 4 rounds
SETFIT_PLANS = {
    "ag_news": dict(pool=1200, eval=400, batch_size=32, rounds=8),  # up to 256 labels
    "banking77": dict(pool=2000, eval=770, batch_size=77, rounds=8),  # up to 616 labels
    "sms_spam": dict(pool=1500, eval=500, batch_size=16, rounds=8),  # up to 128 labels
    "nlupp_banking": dict(pool=1500, eval=500, batch_size=32, rounds=8),  # up to 256 labels
}
SETFIT = dict(model="setfit", setfit_every=4, setfit_steps=48)


def setfit_variants(name: str, multi_label: bool) -> list[Settings]:
    p = SETFIT_PLANS[name]
    plan = dict(batch_size=p["batch_size"], rounds=p["rounds"], **SETFIT)
    unc = "threshold_distance" if multi_label else "margin"
    return [Settings(strategy="random", cold_start=False, **plan), Settings(strategy=unc, cold_start=True, **plan),
            Settings(strategy=unc, cold_start=True, weak_fraction=0.2, **plan)]


def variants_for(name: str, multi_label: bool, only: list[str] | None) -> list[Settings]:
    plan = PLANS[name]
    unc = "threshold_distance" if multi_label else "margin"
    vs = [
        Settings(strategy="random", cold_start=False, **plan),
        Settings(strategy=unc, cold_start=False, **plan),
        Settings(strategy=unc, cold_start=True, **plan),
    ]
    if not multi_label:
        vs += [Settings(strategy=s, cold_start=True, **plan) for s in ("least_confidence", "entropy")]
    vs += [
        Settings(strategy="disagreement", cold_start=True, **plan),
        Settings(strategy="random", cold_start=False, weak_fraction=0.2, **plan),
        Settings(strategy=unc, cold_start=True, weak_fraction=0.2, **plan),
        Settings(strategy=unc, cold_start=True, weak_fraction=0.05, **plan),
        Settings(strategy=unc, cold_start=True, weak_fraction=0.1, weak_weight=0.1, **plan),
        Settings(strategy=unc, cold_start=True, weak_fraction=0.2, diversity=0.5, **plan),
        Settings(strategy=unc, cold_start=True, diversity=0.5, **plan),
    ]
    if only:
        vs = [v for v in vs if v.name in only or v.strategy == "random" and v.weak_fraction == 0]
    return vs


def saved_report(out_dir: Path, variants: list[Settings], seeds: list[int], pool: int) -> dict | None:
    """The report a previous run left in ``out_dir`` if it ran exactly these variants, seeds and pool size."""
    path = out_dir / "curves.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    same = ([v["name"] for v in report["variants"]] == [v.name for v in variants]
            and report["seeds"] == seeds and report["pool"] == pool)
    return report if same else None


def run(name: str, seeds: list[int], only: list[str] | None, extra: list[Settings], model: str = "logreg",
        reuse: bool = False) -> dict:
    start = time.perf_counter()
    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    print(f"[{name}] features ready in {time.perf_counter() - start:.0f} s", flush=True)
    if model == "setfit":
        data, feats = sim.subsample(data, feats, SETFIT_PLANS[name]["pool"], SETFIT_PLANS[name]["eval"], seed=0)
        variants = setfit_variants(name, data.multi_label)
    else:
        variants = variants_for(name, data.multi_label, only) + extra
    suffix = "" if model == "logreg" else f"_{model}"
    out_dir = Path(data.config.project.dir) / f"bench{suffix}"
    report = saved_report(out_dir, variants, seeds, len(data.ids)) if reuse else None
    if report is not None:
        print(f"[{name}] reusing {out_dir / 'curves.json'}", flush=True)
    else:
        report = sim.simulate(data, variants, seeds, out_dir, progress=False, feats=feats,
                              log=lambda s: print(s, flush=True))
    png = RESULTS / f"label_efficiency{suffix}_{name}.png"
    sim.plot(report, png)
    table = sim.format_table(report)
    print(table, flush=True)
    for v in report["variants"]:
        for run_ in v["runs"]:
            run_.pop("selected", None)  # the ids asked per round: in the per-run curves.json only
    primary = report["primary_metric"]
    rand = next(v for v in report["variants"] if v["settings"]["strategy"] == "random" and not v["settings"]["weak_fraction"])["summary"]
    checks = {}
    for v in report["variants"]:
        s = v["summary"]
        l95, r95 = s["accuracy"].get("labels_to_95"), rand["accuracy"].get("labels_to_95")
        checks[v["name"]] = {
            "labels_to_95": l95, "random_labels_to_95": r95,
            "half_of_random": (l95 is not None and r95 is not None and l95 <= r95 / 2),
            "never_below_random": (v["vs_random"].get("accuracy") or {}).get("worst_gap_vs_random", 0.0) >= 0.0,
        }
    return {"dataset": name, "seconds": round(time.perf_counter() - start, 1), "table": sim.table_rows(report),
            "text_table": table, "targets": checks, "anchors": ANCHORS.get(name), "plot": str(png.relative_to(REPO)),
            "report": {k: v for k, v in report.items()}}


def markdown(results: dict) -> str:
    """Per data set: its reference line and one row per variant (primary metric), as in BENCHMARKS.md."""
    out = []
    for name, res in results["datasets"].items():
        rep = res["report"]
        m, ref = rep["primary_metric"], rep["reference"]
        out.append(f"**{name}** (pool {rep['pool']:,}, eval {rep['eval']:,}; {ref['model']} on the whole pool: "
                   f"{m} {ref[m]:.3f}, so 95% = {0.95 * ref[m]:.3f}; zero-shot accuracy {rep['zero_shot']['accuracy']:.3f}), "
                   f"{m}:\n")
        out += ["| variant | seeds | L95 | AUC (± std over seeds) | final | worst vs random (at labels) |", "|---|---|---|---|---|---|"]
        for row in res["table"]:
            l95 = row[f"{m}_labels_to_95"]
            gap, at = row[f"{m}_worst_gap_vs_random"], row[f"{m}_worst_gap_at"]
            out.append(f"| {row['variant']} | {row['seeds']} | {l95 if l95 is not None else '> ' + str(row['max_labels'])} | "
                       f"{row[f'{m}_auc']:.3f} ± {row[f'{m}_auc_std']:.3f} | {row[f'{m}_final']:.3f} | "
                       + ("—" if gap is None else f"{gap:+.3f} ({at})") + " |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="ag_news,banking77,sms_spam,nlupp_banking")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated variant names to run (random always runs)")
    ap.add_argument("--weak-until", type=int, default=None, help="also run margin+cold+weak with this cutoff")
    ap.add_argument("--model", choices=["logreg", "setfit"], default="logreg")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables of the saved results; run nothing")
    ap.add_argument("--reuse", action="store_true",
                    help="take a data set's curves from its last run's curves.json when variants, seeds and pool match")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = RESULTS / ("label_efficiency.json" if args.model == "logreg" else f"label_efficiency_{args.model}.json")
    if args.markdown:
        print(markdown(json.loads(out_path.read_text())))
        return
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("datasets", {})
    results["command"] = "python bench/bench_label_efficiency.py " + " ".join(sys.argv[1:])
    results["model"] = ("balanced logistic regression (C=10) on frozen all-MiniLM-L6-v2 embeddings" if args.model == "logreg"
                        else "SetFit on all-MiniLM-L6-v2, 48 contrastive steps every 4 rounds, balanced logreg head refitted every round (C=10)")
    only = [s for s in args.only.split(",") if s] or None
    for name in [d for d in args.datasets.split(",") if d]:
        extra = []
        if args.weak_until:
            extra.append(Settings(strategy="margin" if name != "nlupp_banking" else "threshold_distance", cold_start=True,
                                  weak_fraction=0.2, weak_until=args.weak_until, **PLANS[name]))
        res = run(name, list(range(args.seeds)), only, extra, args.model, args.reuse)
        res["command"] = results["command"]
        results["datasets"][name] = res
        tmp = out_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=1))
        tmp.replace(out_path)
        print(f"[{name}] done in {res['seconds']:.0f} s -> {out_path}", flush=True)


if __name__ == "__main__":
    main()
