"""First run trigger: at how many labels does the first run start on its own, and does it beat zero-shot?

BANKING77's pool (10,003 texts, 77 intents) with the data set's default simulate config, batches of 77, the
product's own steps in process in ``labeler round``'s order (as tests/test_one_loop.py runs them, no server):
each round the answers so far are on disk, then the train step asks ``labeler.loop.runs.trigger`` (evidence from
the last bootstrap's fast model on random gold, or a count per class), then ``scoring.bootstrap``, then
``loop.plan_push`` and the oracle answers the batch. When the trigger fires, a run is trained
(``runs.train_project``; ``--backend``, logreg by default: the trigger itself uses the configured backend's
floor) and compared with zero-shot on gold (``compare_project``) and on the held-out test split.

    python bench/bench_first_run.py --dataset banking77 --batch 77 --max-rounds 8

Writes bench/results/first_run.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, write_json, write_labels
OUT = RESULTS / "first_run.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--batch", type=int, default=77)
    ap.add_argument("--max-rounds", type=int, default=8)
    ap.add_argument("--backend", default="logreg", help="backend of the run trained when the trigger fires")
    ap.add_argument("--work", default="/tmp/bench_first_run")
    ap.add_argument("--after", type=int, default=0, help="rounds to keep going after the trigger fired")
    args = ap.parse_args()

    import shutil

    from labeler import simulate as sim
    from labeler.evaluation.compare_on_gold import compare_project
    from labeler.loop.round import plan_push
    from labeler.loop.policy import project_policy
    from labeler.project import Project
    from labeler.loop.runs import train_counts, train_project, trigger
    from labeler.loop.scoring import bootstrap, build_signals
    from training.evaluate import bootstrap_ci, paired_bootstrap

    data = sim.dataset_data(args.dataset)
    work = Path(args.work) / args.dataset
    shutil.rmtree(work, ignore_errors=True)
    config = data.config.model_copy(deep=True)
    config.project.dir = work / "project"
    config.training.runs_dir = work / "project" / "runs"
    config.queue.batch_size = args.batch
    project = Project(config).ensure()
    project.cache.rmdir() if project.cache.exists() else None
    shared = Project(data.config).ensure().cache
    shared.mkdir(parents=True, exist_ok=True)  # a data set never simulated before has no cache folder yet
    project.cache.symlink_to(shared, target_is_directory=True)
    truth = {data.ids[i]: data.labels[data.y[i]] for i in range(len(data.ids))}
    texts = dict(zip(data.ids, data.texts))
    answered: dict[str, str] = {}
    rounds, fired = [], None
    for r in range(args.max_rounds):
        t0 = time.perf_counter()
        policy = project_policy(config)
        d = trigger(config, policy) if answered else None
        counts = train_counts(config, policy.reserve) if answered else {}
        row = {"round": r + 1, "n_labels": len(answered), "due": bool(d and d.due), "rule": d.rule if d else None,
               "reason": d.reason if d else "no labels yet", "below_floor": len(d.below_floor) if d else None,
               "classes_at_8": sum(v >= 8 for v in counts.values())}
        if d is not None and d.due and fired is None:
            fired = dict(row)
            run = train_project(config, backend=args.backend, policy=policy)
            res = compare_project(config, run_ids=[run.run_id], write=False, reserve=policy.reserve).result
            zs = build_signals(config)[0]
            P_run, P_zs = run.predict_proba(data.eval_texts), np.asarray(zs.predict_proba(data.eval_texts))
            fired["run"] = {
                "run_id": run.run_id, "backend": args.backend, "n_train": run.info["n_train"],
                "n_gold": run.info["n_gold"], "verdict": res.verdict,
                "gold_gain": {k: float(res.diffs[zs.name][k]) for k in ("diff", "lo", "hi")},
                "test_zero_shot": bootstrap_ci(P_zs, data.eval_y, "accuracy", n_resamples=1000, seed=0),
                "test_run": bootstrap_ci(P_run, data.eval_y, "accuracy", n_resamples=1000, seed=0),
                "test_gain": {k: float(v) for k, v in paired_bootstrap(P_run, P_zs, data.eval_y, "accuracy",
                                                                       n_resamples=1000, seed=0).items()},
                "n_test": len(data.eval_y)}
            print(json.dumps(fired, default=float), flush=True)
        pool, scores = bootstrap(config, progress=False, policy=policy)
        batch, _ = plan_push(config, pool, scores, set(answered), set(answered), project.load_labels(), policy)
        answered.update({scores.ids[i]: truth[scores.ids[i]] for i in batch.indices})
        write_labels(project, answered, texts)
        project.write_state({"round": r + 1, "gold_share": policy.gold_share})
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rounds.append(row)
        print(json.dumps(row), flush=True)
        if fired is not None and r + 1 >= fired["round"] + args.after:
            break
    out = {"dataset": args.dataset, "pool": len(data.ids), "test": len(data.eval_ids), "batch": args.batch,
           "backend_for_trigger": config.training.backend, "min_per_class": config.training.min_per_class,
           "min_gold": config.training.min_gold, "gold_share": config.queue.gold_share, "rounds": rounds,
           "first_run": fired, "command": "python bench/bench_first_run.py " + " ".join(sys.argv[1:])}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_json(OUT, out, indent=1)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
