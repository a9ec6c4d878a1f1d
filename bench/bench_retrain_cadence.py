"""Retrain cadence (``training.retrain_after``): what `labeler round` costs and shows with a SetFit run, retrained at
every round (``0``) or once the human training labels grew by a quarter (``0.25``, the default).

A shared data set's whole pool (``common.oracle_project``, BANKING77 by default: 10,003 texts), brought by the
product's steps in process to ``--start`` answers (batches of ``--batch``), then copied once per cadence. Each
copy runs ``--rounds`` rounds in ``labeler round``'s order without the server: the train step as ``run_round``
decides it (``runs.trigger``, ``loop.round.retrain_hold``; ``runs.train_project`` with the configured
backend), ``scoring.bootstrap`` (the new run scored on the whole pool: its fine-tuned body encodes
every text), ``loop.plan_push``, the oracle answers the batch. The queue ranks by the fast model, refitted every
round whatever the run, so both cadences ask the same records (checked: ``same_batches``); what differs is the
seconds and the suggestions. Per round: seconds (train, bootstrap, the round), whether it trained, and the
suggestions on the batch it pushes and on every unanswered pool record: single-label, whether the top label
(pre-selected) is right; multi-label, the clicks to fix the pre-selection (labels to add or remove, and "None of
these", at the cuts ``push`` fits), beside an empty form's on the batch.

    python bench/bench_retrain_cadence.py --dataset banking77 --start 462 --rounds 6
    python bench/bench_retrain_cadence.py --dataset nlupp_banking --batch 32 --start 128 --rounds 6

Writes bench/results/retrain_cadence.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, answered_project, load_average, markdown_table, write_json, write_labels


QUALITY = {False: [("suggestions right, batch", "batch_suggestion_acc"),
                   ("suggestions right, open pool", "pool_suggestion_acc")],
           True: [("clicks to fix, batch", "batch_clicks"), ("empty form, batch", "batch_empty_form_clicks"),
                  ("clicks to fix, open pool", "pool_clicks")]}


def run_cadence(op, data, answered0: dict, growth: float, rounds: int, work: Path, setfit_steps: int | None) -> dict:
    """``rounds`` rounds on a copy of ``op``'s project with ``training.retrain_after`` = ``growth``."""
    from labeler.loop import runs
    from labeler.loop.policy import project_policy
    from labeler.loop.round import plan_push, retrain_hold, suggestion_rule
    from labeler.loop.suggest import clicks as toggles, suggested_none
    from training.thresholds import predict_sets
    from labeler.loop.scoring import bootstrap
    from labeler.project import Project

    config = op.config.model_copy(deep=True)
    config.project.dir = work / f"g{growth:g}" / "project"
    config.training.runs_dir = config.project.dir / "runs"
    config.training.backend = "setfit"
    config.training.retrain_after = growth
    if setfit_steps:
        config.training.params = {**config.training.params, "max_steps": setfit_steps}
    shutil.copytree(op.project.dir, config.project.dir, symlinks=True)
    project, answered, rows = Project(config), dict(answered0), []
    truth_idx = {} if data.multi_label else {rid: data.labels.index(lab) for rid, lab in op.truth.items()}
    for r in range(rounds):
        t0 = time.perf_counter()
        policy = project_policy(config)
        decision, trained, t_train = runs.trigger(config, policy), None, 0.0
        if decision.due and not retrain_hold(config, policy):  # the train step's decision, as run_round takes it
            t1 = time.perf_counter()
            trained = runs.train_project(config, policy=policy).run_id
            t_train = time.perf_counter() - t1
        t1 = time.perf_counter()
        pool, scores = bootstrap(config, progress=False, policy=policy)
        t_boot = time.perf_counter() - t1
        batch, _ = plan_push(config, pool, scores, set(answered), set(answered), project.load_labels(), policy)
        seconds = time.perf_counter() - t0
        chosen = [scores.ids[i] for i in batch.indices]
        open_rows = np.flatnonzero([rid not in answered for rid in scores.ids])
        if data.multi_label:  # clicks to fix the pre-selection (labels to add or remove), as push pre-selects it
            cuts, none_at = suggestion_rule(config, scores.ids, scores.P, project.load_labels(), policy.reserve)
            truth = np.array([[int(lab in op.truth[rid]) for lab in config.label_names] for rid in scores.ids])
            shown = np.zeros_like(truth) if cuts is None else predict_sets(scores.P, cuts)
            clicks = toggles(shown, truth, suggested_none(scores.P, shown, none_at))
            quality = {"batch_clicks": round(float(clicks[batch.indices].mean()), 4),
                       "pool_clicks": round(float(clicks[open_rows].mean()), 4),
                       "batch_empty_form_clicks": round(float(toggles(0 * truth, truth)[batch.indices].mean()), 4)}
        else:  # the top label pre-selected: right or not
            right = scores.P.argmax(axis=1) == np.array([truth_idx[rid] for rid in scores.ids])
            quality = {"batch_suggestion_acc": round(float(right[batch.indices].mean()), 4),
                       "pool_suggestion_acc": round(float(right[open_rows].mean()), 4)}
        run = runs.current_run(config)
        rows.append({"round": r + 1, "labels_before": len(answered), "trained": trained,
                     "run_n_train": None if run is None else run.info.get("n_train"),
                     "train_s": round(t_train, 1), "bootstrap_s": round(t_boot, 1), "round_s": round(seconds, 1),
                     **quality, "chosen": chosen, "load": load_average()[0]})
        print(f"  retrain_after {growth:g}, round {r + 1}: {rows[-1]['labels_before']} labels, "
              f"{'trained ' + trained if trained else 'no training'}, {seconds:.1f} s (train {t_train:.1f}, "
              f"bootstrap {t_boot:.1f}); {quality}", flush=True)
        answered.update({rid: op.truth[rid] for rid in chosen})
        write_labels(project, answered, op.texts)
        project.write_state({"round": len(answered) // config.queue.batch_size, "gold_share": config.queue.gold_share})
    return {"retrain_after": growth, "rounds": rows}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--batch", type=int, default=77)
    ap.add_argument("--start", type=int, default=462, help="answers before the compared rounds (a first run is due)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--growth", type=float, nargs="+", default=[0.0, 0.25], help="training.retrain_after values")
    ap.add_argument("--setfit-steps", type=int, default=None, help="SetFit's max_steps (unset: the backend's 48)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_retrain_cadence"))
    ap.add_argument("--out", type=Path, default=RESULTS / "retrain_cadence.json")
    args = ap.parse_args(argv)

    t_start, load0 = time.time(), load_average()
    data, op, answered, _ = answered_project(args.dataset, args.work, args.batch, args.start,  # no run: one path
                                             echo=lambda line: print(line, flush=True))
    results = [run_cadence(op, data, answered, g, args.rounds, args.work, args.setfit_steps) for g in args.growth]
    same = all(a["chosen"] == b["chosen"] for res in results[1:] for a, b in zip(results[0]["rounds"], res["rounds"]))
    table = []
    for res in results:
        rows = res["rounds"]
        table.append({"retrain_after": f"{res['retrain_after']:g}", "runs trained": sum(bool(r["trained"]) for r in rows),
                      "round s (median)": f"{np.median([r['round_s'] for r in rows]):.1f}",
                      "round s (total)": f"{sum(r['round_s'] for r in rows):.0f}",
                      "train s (total)": f"{sum(r['train_s'] for r in rows):.0f}",
                      **{f"{name} (mean)": f"{np.mean([r[key] for r in rows]):.3f}"
                         for name, key in QUALITY[data.multi_label]}})
    print(markdown_table(table, list(table[0])))
    print(f"  same batches under every cadence: {same}")
    for res in results:
        for r in res["rounds"]:
            r.pop("chosen")
    write_json(args.out, {"command": "python bench/bench_retrain_cadence.py " + " ".join(sys.argv[1:]),
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "dataset": args.dataset,
                          "pool": len(data.ids), "batch": args.batch, "start": len(answered), "same_batches": same,
                          "cadences": results, "table": table, "load_start": load0, "load_end": load_average(),
                          "minutes": round((time.time() - t_start) / 60, 1)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
