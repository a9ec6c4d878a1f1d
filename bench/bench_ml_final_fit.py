"""The multi-label model a project ships (issue 23 and 26.2): `labeler train --final-fit` on the product's own
answers, scored where `labeler predict` cuts it.

A shared multi-label data set's whole pool as one project (``common.oracle_project``), answered by the product's
steps in process (``scoring.bootstrap`` -> ``loop.plan_push`` -> the oracle; batches of ``--batch``), with the
default config. At each budget of ``--budgets`` the final fit is trained as `labeler train --final-fit` trains it
(``runs.train_project(final_fit=K)``, logreg, not made current) and its held-out test split is predicted:

* at the run's own per-label cuts (``Run.cuts``: what `labeler predict` cuts at now; a final fit's are fitted on
  out-of-fold predictions of every label, ``training.train.fitted_cuts``; at least one label per text where no
  training label set was empty, ``Run.at_least_one``), and
* at one 0.5 cut for every label (what `labeler predict` did before runs kept cuts; it also forced one label);

with the run's own cross-fitted estimate (micro-F1 and exact match on its random reserve labels, 95% intervals)
beside them. Per budget: a row per seed (``--seeds``: ``queue.seed``, which draws the random first batch and breaks
the queue's ties; the gold reserve is the product's).

    .venv/bin/python bench/bench_ml_final_fit.py --dataset nlupp_banking --batch 32 --budgets 160 320 480 --seeds 0 1 2

Writes bench/results/ml_final_fit.json (merged per data set) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from common import RESULTS, load_average, markdown_table, oracle_project, write_json, write_labels

from training.train import FINAL_FIT_FOLDS

OUT = RESULTS / "ml_final_fit.json"


def one_seed(data, budgets: list[int], batch: int, seed: int, folds: int, work: Path) -> list[dict]:
    from labeler.loop.policy import project_policy
    from labeler.loop.round import plan_push
    from labeler.loop.runs import train_project
    from labeler.loop.scoring import bootstrap
    from labeler.simulate.driver import score_metrics
    from training.evaluate import predict

    shutil.rmtree(work, ignore_errors=True)
    op = oracle_project(data, np.arange(len(data.ids)), work, batch, queue__seed=seed)
    policy = project_policy(op.config)
    answered: dict[str, object] = {}
    rows = []
    for budget in sorted(budgets):
        while len(answered) < budget:
            pool, scores = bootstrap(op.config, progress=False, policy=policy)
            plan, _ = plan_push(op.config, pool, scores, set(answered), set(answered), op.project.load_labels(), policy)
            if not len(plan.indices):
                break
            answered.update({scores.ids[i]: op.truth[scores.ids[i]] for i in plan.indices})
            write_labels(op.project, answered, op.texts)
            op.project.write_state({"round": len(answered) // batch, "gold_share": op.config.queue.gold_share})
        t0 = time.perf_counter()
        run = train_project(op.config, backend="logreg", final_fit=folds, make_current=False, policy=policy)
        seconds = time.perf_counter() - t0
        order = [run.labels.index(n) for n in data.labels]
        P = run.predict_proba(data.eval_texts)[:, order]
        sets = predict(P, True, run.cuts[order], run.at_least_one)  # the label sets `labeler predict` writes
        half = np.full(len(data.labels), 0.5)
        at_cuts = score_metrics(sets.astype(float), data.eval_y, data, half)
        at_half = score_metrics(P, data.eval_y, data, half)
        gold, ci = run.metrics["gold"], run.metrics["gold_ci"]
        row = {"seed": seed, "labels": len(answered), "reserve": run.info["n_gold"], "cuts": run.info["cuts"]["note"],
               "cross_fitted_micro_f1": [gold.get("micro_f1"), ci["micro_f1"]["lo"], ci["micro_f1"]["hi"]],
               "cross_fitted_exact": [gold.get("accuracy"), ci["accuracy"]["lo"], ci["accuracy"]["hi"]],
               "test_micro_f1_at_cuts": at_cuts["micro_f1"], "test_exact_at_cuts": at_cuts["accuracy"],
               "test_micro_f1_at_0.5": at_half["micro_f1"], "test_exact_at_0.5": at_half["accuracy"],
               "test_none_at_cuts": float((sets.sum(axis=1) == 0).mean()), "at_least_one": run.at_least_one,
               "test_none_truth": float((data.eval_y.sum(1) == 0).mean()), "seconds": round(seconds, 1),
               "lexical": run.info.get("lexical"),  # the pool's words its head reads (queue.lexical), if any
               "load": load_average()}
        print(f"[{data.name} seed {seed}] {row['labels']} labels: test micro-F1 {row['test_micro_f1_at_cuts']:.3f} at the "
              f"run's cuts, {row['test_micro_f1_at_0.5']:.3f} at 0.5; cross-fitted {gold.get('micro_f1'):.3f} "
              f"({ci['micro_f1']['lo']:.3f}..{ci['micro_f1']['hi']:.3f}) on {row['reserve']} ({seconds:.0f} s)", flush=True)
        rows.append(row)
    return rows


def table(entry: dict) -> str:
    def ci(v):
        return f"{v[0]:.3f} ({v[1]:.3f}..{v[2]:.3f})"

    rows = [{"labels": r["labels"], "seed": r["seed"], "reserve n": r["reserve"],
             "test micro-F1 at the run's cuts": f"{r['test_micro_f1_at_cuts']:.3f}",
             "at 0.5": f"{r['test_micro_f1_at_0.5']:.3f}",
             "test exact match at the run's cuts": f"{r['test_exact_at_cuts']:.3f}",
             "at 0.5 ": f"{r['test_exact_at_0.5']:.3f}",
             "cross-fitted micro-F1 (95% CI)": ci(r["cross_fitted_micro_f1"]),
             "holds test?": "yes" if r["cross_fitted_micro_f1"][1] <= r["test_micro_f1_at_cuts"] <= r["cross_fitted_micro_f1"][2] else "no",
             "none predicted / true": f"{r['test_none_at_cuts']:.3f} / {r['test_none_truth']:.3f}"}
            for r in sorted(entry["rows"], key=lambda r: (r["labels"], r["seed"]))]
    return markdown_table(rows, list(rows[0]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="nlupp_banking")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--budgets", type=int, nargs="+", default=[160, 320, 480])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="queue.seed values")
    ap.add_argument("--folds", type=int, default=FINAL_FIT_FOLDS[True],
                    help="the final fit's K (`labeler train --final-fit K`; default: its multi-label default)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_ml_final_fit"))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--markdown", action="store_true", help="print the tables from the saved JSON and stop")
    args = ap.parse_args(argv)
    saved = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.markdown:
        print("\n\n".join(f"**{name}**\n\n{table(entry)}" for name, entry in saved.items()))
        return
    from labeler import simulate as sim

    data = sim.dataset_data(args.dataset)
    if not data.multi_label:
        raise SystemExit(f"{args.dataset} is single-label; this benchmark is for multi-label sets")
    t0, load0 = time.time(), load_average()
    rows = [r for s in args.seeds for r in one_seed(data, args.budgets, args.batch, s, args.folds, args.work / str(s))]
    entry = {"command": "python bench/bench_ml_final_fit.py " + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
             "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "pool": len(data.ids),
             "eval": len(data.eval_ids), "labels": len(data.labels), "batch": args.batch, "folds": args.folds,
             "rows": rows, "load_start": load0, "load_end": load_average(), "minutes": round((time.time() - t0) / 60, 1)}
    write_json(args.out, {**(json.loads(args.out.read_text()) if args.out.exists() else {}), args.dataset: entry})
    print(f"\n**{args.dataset}**\n\n{table(entry)}\nwrote {args.out}")


if __name__ == "__main__":
    main()
