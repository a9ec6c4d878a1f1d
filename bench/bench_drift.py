"""Does ``labeler predict --drift`` cry wolf? Verdicts on batches with no shift and with one, over many batches.

A data set's pool as one project (``common.oracle_project``), brought to ``--labels`` answers by the product's
own steps in process (``bootstrap`` -> ``plan_push`` -> the oracle answers), a logreg run trained on them
(``runs.train_project``). Then ``--batches`` batches of ``--size`` texts from the pool's records outside the random
reserve (the reference is drawn from the reserve, so no batch text is in it):

- **same**: drawn uniformly from them (the pool's own mix, which new texts from the same source have: no shift;
  not the test split, which for BANKING77 is class-balanced where the pool is not; and not only the unlabeled ones,
  which lack the records the queue chose);
- **shifted**: drawn from those of a random ``--shift-share`` of the classes (a real shift; multi-label: texts
  carrying at least one of those labels, so "None of these" texts are gone too).

With ``--holdout F`` a random share F of the pool is kept out of the project and both kinds are drawn from it:
fresh texts from the same source, as a team's next batch is (drawn from the pool, a batch holds texts the run
trained on, and is surer than new texts would be). The confidence verdict (KS test, ``drift``'s rule) is counted
for the reference ``drift`` uses and for the one it used before (the pool texts nobody labeled, without the hard
ones the queue took).

Each batch goes through ``labeler predict`` (``predict_file``) and ``drift`` (what ``--drift`` prints); the
verdict ``drift`` gives (the run's predictions on the pool as the reference, a shift only when chance rarely gives
one that large) is counted beside the rule it replaced: the same TVD/PSI thresholds against
the gold labels' mix (``reference_labels``), no chance test. Per kind of batch: how often each says "major",
"moderate", "none".

    python bench/bench_drift.py --dataset banking77 --labels 462 --batches 40 --size 300
    python bench/bench_drift.py --dataset banking77 --labels 462 --batches 40 --size 100
    python bench/bench_drift.py --dataset banking77 --labels 462 --batches 40 --size 300 --shift-share 0.8
    python bench/bench_drift.py --dataset nlupp_banking --labels 320 --batch 32 --batches 40 --size 100
    python bench/bench_drift.py --dataset sms_spam --labels 1000 --batch 50 --batches 20 --size 200 --holdout 0.25

Writes bench/results/drift_<dataset>_<size>_shift<share>.json.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from common import RESULTS, load_average, oracle_project, write_json, write_labels
from harness import machine_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--labels", type=int, default=462, help="answers before the run is trained")
    ap.add_argument("--batch", type=int, default=77, help="queue batch while labeling")
    ap.add_argument("--batches", type=int, default=40, help="batches of each kind")
    ap.add_argument("--size", type=int, default=300, help="texts per predicted batch")
    ap.add_argument("--shift-share", type=float, default=0.3, help="share of the classes a shifted batch comes from")
    ap.add_argument("--holdout", type=float, default=0.0,
                    help="share of the pool kept out of the project; batches are drawn from it (fresh texts)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_drift"))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    import shutil

    from labeler import simulate as sim
    from labeler.evaluation.drift import drift, label_shift, reference_labels, shift_size
    from labeler.evaluation.predict import predict_file
    from labeler.loop.round import plan_push
    from labeler.loop.runs import train_project
    from labeler.loop.scoring import bootstrap

    t_start, load0 = time.time(), load_average()
    data = sim.dataset_data(args.dataset)
    shutil.rmtree(args.work, ignore_errors=True)
    held = np.zeros(len(data.ids), dtype=bool)
    if args.holdout > 0:  # fresh texts from the same source: never in the project, so never labeled or trained on
        held[np.random.default_rng(1).choice(len(data.ids), round(args.holdout * len(data.ids)), replace=False)] = True
    op = oracle_project(data, np.flatnonzero(~held), args.work / "project", args.batch)
    answered: dict = {}
    while len(answered) < args.labels:
        pool, scores = bootstrap(op.config, progress=False)
        batch, _ = plan_push(op.config, pool, scores, set(answered), set(answered), op.project.load_labels())
        answered.update({scores.ids[i]: op.truth[scores.ids[i]] for i in batch.indices})
        write_labels(op.project, answered, op.texts)
        op.project.write_state({"round": 1, "gold_share": op.config.queue.gold_share})
    run = train_project(op.config, backend="logreg", force=True)
    print(f"  {len(answered)} answers; run {run.run_id} on {run.info.get('n_train')} training labels", flush=True)

    from labeler.loop.policy import project_reserve

    outside = held if args.holdout > 0 else ~project_reserve(op.config).mask(data.ids)
    y = np.asarray(data.y)
    rng = np.random.default_rng(0)
    rows, verdicts = [], {k: Counter() for k in ("same new", "same old", "shifted new", "shifted old")}
    confidence = {k: Counter() for k in ("same", "shifted")}
    from scipy.stats import ks_2samp

    from labeler.evaluation.drift import KS_ALPHA, KS_MOVED, confidence as run_confidence, reference_predictions
    ref = reference_predictions(op.config, run)  # the confidence reference the drift check used before: the pool
    unlabeled_top = run_confidence(ref.P, run, op.config)[ref.unlabeled]  # texts nobody labeled (not the hard ones)
    p_columns = [f"p_{lab}" for lab in op.config.label_names]
    for b in range(2 * args.batches):
        kind = "same" if b % 2 == 0 else "shifted"
        if kind == "same":
            pick = rng.choice(np.flatnonzero(outside), args.size, replace=False)
        else:
            classes = rng.choice(len(data.labels), max(1, round(args.shift_share * len(data.labels))), replace=False)
            picked = y[:, classes].any(axis=1) if data.multi_label else np.isin(y, classes)
            candidates = np.flatnonzero(outside & picked)
            pick = rng.choice(candidates, min(args.size, len(candidates)), replace=False)
        path = args.work / f"batch{b}.csv"
        pd.DataFrame({"id": [f"b{b}-{i}" for i in pick], "text": [data.texts[i] for i in pick]}).to_csv(path, index=False)
        rep = drift(op.config, predict_file(op.config, path, run=run).path, run=run)
        gold_ref, gold_what, _ = reference_labels(op.config, run)
        tvd_old, psi_old = label_shift(np.asarray(rep.new_dist[:len(gold_ref)]), gold_ref)
        old = shift_size(tvd_old, float(psi_old.sum()))  # the rule before: thresholds alone
        verdicts[f"{kind} new"][rep.label_drift] += 1
        logged = pd.read_parquet(rep.log)[p_columns].to_numpy(dtype=float)
        before = ks_2samp(run_confidence(logged, run, op.config), unlabeled_top)
        conf_before = bool(before.statistic >= KS_MOVED and before.pvalue < KS_ALPHA)
        confidence[kind][("now " if rep.confidence_drift else "now none, ") + ("before" if conf_before else "before none")] += 1
        verdicts[f"{kind} old"][old] += 1
        rows.append({"batch": b, "kind": kind, "n": rep.n, "tvd": rep.tvd, "psi": rep.psi_total, "chance_p": rep.chance_p,
                     "verdict": rep.label_drift, "reference": rep.label_reference, "tvd_gold": tvd_old,
                     "psi_gold": float(psi_old.sum()), "verdict_gold": old, "gold_reference": gold_what,
                     "confidence_drift": rep.confidence_drift, "ks": rep.ks, "ks_p": rep.ks_p,
                     "conf_reference": rep.conf_reference, "confidence_drift_before": conf_before,
                     "ks_before": float(before.statistic), "ks_p_before": float(before.pvalue)})
        print(f"  batch {b} ({kind}): new {rep.label_drift} (TVD {rep.tvd:.3f}, p {rep.chance_p:.3f}); "
              f"old {old} (TVD {tvd_old:.3f} vs {gold_what}); confidence moved: {rep.confidence_drift} "
              f"(KS {rep.ks:.3f} vs {rep.conf_reference}), before {conf_before} (KS {before.statistic:.3f})", flush=True)

    table = ["| batches | rule | major | moderate | none |", "|---|---|---:|---:|---:|"]
    for key, c in verdicts.items():
        kind, rule = key.split()
        name = ("the run's predictions on the pool, chance test (now)" if rule == "new"
                else "gold labels' mix (training labels under 20 gold), thresholds alone (before)")
        table.append(f"| {kind} ({sum(c.values())}) | {name} | {c['major']} | {c['moderate']} | {c['none']} |")
    table += ["", "| batches | confidence moved (now) | and before (pool texts nobody labeled) |", "|---|---:|---:|"]
    for kind, c in confidence.items():
        now = sum(v for k, v in c.items() if k.startswith("now b"))
        was = sum(v for k, v in c.items() if not k.endswith("before none"))
        table.append(f"| {kind} ({sum(c.values())}) | {now} | {was} |")
    print("\n".join(table))
    out = args.out or RESULTS / f"drift_{args.dataset}_{args.size}_shift{args.shift_share:g}.json"
    write_json(out, {**machine_info(), "command": "python bench/bench_drift.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("work", "out")),
        "holdout": args.holdout,
        "dataset": args.dataset, "answers": len(answered), "run": run.run_id, "size": args.size,
        "verdicts": {k: dict(c) for k, c in verdicts.items()},
        "confidence_verdicts": {k: dict(c) for k, c in confidence.items()}, "batches": rows, "table": "\n".join(table),
        "load": [load0, load_average()], "seconds": round(time.time() - t_start, 1)})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
