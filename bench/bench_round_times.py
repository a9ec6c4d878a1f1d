"""Round times per backend (issue 26.4): what a round costs with no run current, a logreg run, a SetFit run.

BANKING77's 10,003 pool texts as one project (``common.oracle_project``, the embeddings shared with simulate's
cache), brought to ``--labels`` answers by the product's own steps in process (``scoring.bootstrap`` ->
``loop.plan_push`` -> the oracle answers, as bench_first_run.py runs them). Then three copies of that project:
no run; a logreg run current; a SetFit run current (``runs.train_project``, ``--setfit-steps`` contrastive steps;
training timed once, apart). A timed round is what ``labeler round`` does between pull and push without the
server: the train step's question (``runs.trigger``; no retraining), ``bootstrap`` (every signal, the current run
joined, the queue model) and ``plan_push``. Each repeat first answers the batch the variant's last round
planned, so every round sees new labels. The logreg run's cached pool predictions are cleared before each of
its rounds (cold: after a retrain a round always meets a run it has not scored yet; ``--warm`` keeps them). A
logreg run scores from the embedding signal's vectors and caches only texts past its token limit
(``scoring.score_run``), so cold and warm differ little; the pool's token counts, kept beside the embeddings
like the vectors, are counted once (in the warm-up round, or the retrain before it), not per round.
The SetFit run is timed warm (its pool predictions cached, a round after one that scored it): its first,
cold round is the harness's warm-up call, timed apart. Timed interleaved (``harness.compare``: none, logreg,
setfit, none, ...), ratios per repeat against no run.

Variant ``retrain`` (issue 26.4): a copy with a logreg run current whose round is what ``labeler round`` does when
a run is due and the labels changed: the train step retrains the logreg run on the new labels
(``runs.train_project``, then ``compare_project`` on gold, as ``loop.round.run_round``), then the new run
(cold by construction) is scored in ``bootstrap``; the retrain's own seconds are recorded apart.

    python bench/bench_round_times.py --labels 616 --repeats 3 --setfit-steps 8
    python bench/bench_round_times.py --labels 616 --repeats 5 --variants none logreg retrain

Writes bench/results/round_times.json.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, answered_project, load_average, write_json, write_labels
from harness import compare, machine_info


def make_round(config, project, truth, texts, answered: dict, plan: dict, cold: bool, retrain: list | None = None):
    """A zero-argument round on ``project``: answer the last plan, then trigger + bootstrap + plan_push.
    ``retrain`` (a list): the train step retrains the run as ``labeler round`` does; its seconds go there."""
    from labeler.data import load_pool
    from labeler.evaluation.compare_on_gold import compare_project
    from labeler.loop.policy import project_policy
    from labeler.loop.round import plan_push
    from labeler.loop.runs import current_run, labels_unchanged, train_project, trigger
    from labeler.loop.scoring import bootstrap, run_signal
    from labeler.signals.cache import cache_path

    def prepare():
        if plan.get("ids"):
            answered.update({i: truth[i] for i in plan["ids"]})
            write_labels(project, answered, texts)
        run = current_run(config)
        if cold and run is not None:
            shutil.rmtree(cache_path(project.cache, run_signal(config, run.run_id)).parent, ignore_errors=True)
        # each `labeler round` is a fresh process: no round pays a collection of the objects the previous variant's
        # round left (the pool's 10,003 records a round; one variant's load_pool took 16 ms or 80 ms by its turn)
        gc.collect()

    def one_round():  # as loop.round.run_round: one policy, one read of the pool, one trigger decision
        policy = project_policy(config)
        pool = load_pool(config)
        decision = trigger(config, policy, pool=pool)
        if retrain is not None and not labels_unchanged(config):
            t0 = time.perf_counter()
            run = train_project(config, backend="logreg", force=not decision.due, policy=policy, decision=decision,
                                pool=pool)
            retrain.append(time.perf_counter() - t0)
            compare_project(config, run_ids=[run.run_id], write=False, reserve=policy.reserve, pool=pool)
        pool, scores = bootstrap(config, progress=False, policy=policy, pool=pool)
        batch, _ = plan_push(config, pool, scores, set(answered), set(answered), project.load_labels(), policy)
        plan["ids"] = [scores.ids[i] for i in batch.indices]
        return scores.signals

    return prepare, one_round


def profile_round(call, top: int = 25) -> list[dict]:
    """One more ``call`` under cProfile: the ``top`` functions by cumulative seconds (printed, and returned)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.runcall(call)
    stats = pstats.Stats(prof)
    rows = sorted(((f"{Path(f).name}:{line}({fn})", st[3], st[2]) for (f, line, fn), st in stats.stats.items()),
                  key=lambda r: -r[1])[:top]
    print(f"  profile: {stats.total_tt:.2f} s in all")
    for name, cum, tot in rows:
        print(f"    {cum:7.3f} s cumulative {tot:7.3f} s own  {name}")
    return [{"function": name, "cumulative_s": round(cum, 4), "own_s": round(tot, 4)} for name, cum, tot in rows]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--batch", type=int, default=77)
    ap.add_argument("--labels", type=int, default=616, help="answers before the runs are trained")
    ap.add_argument("--setfit-steps", type=int, default=8, help="SetFit's max_steps (the backend's default: 48)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", nargs="+", default=["none", "logreg", "setfit"],
                    choices=["none", "logreg", "setfit", "retrain"],
                    help="which rounds to time (none is the baseline)")
    ap.add_argument("--profile", action="store_true",
                    help="after timing, one more round per variant under cProfile (top functions printed and saved)")
    ap.add_argument("--warm", dest="cold", action="store_false", help="keep the run's cached pool predictions")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_round_times"))
    ap.add_argument("--out", type=Path, default=RESULTS / "round_times.json")
    args = ap.parse_args(argv)

    from labeler.loop.runs import train_project
    from labeler.project import Project

    t_start, load0 = time.time(), load_average()
    data, op, answered, setup = answered_project(args.dataset, args.work, args.batch, args.labels,
                                                 echo=lambda line: print(line, flush=True))

    variants, trained, retrains = {}, {}, {}
    for name in dict.fromkeys(["none", *args.variants]):
        config = op.config.model_copy(deep=True)
        config.project.dir = args.work / name / "project"
        config.training.runs_dir = config.project.dir / "runs"
        shutil.copytree(op.project.dir, config.project.dir, symlinks=True)
        project = Project(config)
        backend = "logreg" if name == "retrain" else name
        if name != "none":
            config.training.backend = backend
            if name == "setfit":
                config.training.params = {**config.training.params, "max_steps": args.setfit_steps}
            t0 = time.perf_counter()
            run = train_project(config, backend=backend, force=True)
            trained[name] = {"run_id": run.run_id, "seconds": round(time.perf_counter() - t0, 1),
                             "n_train": run.info.get("n_train"), "n_weak": run.info.get("n_weak"),
                             "gold_accuracy": (run.metrics.get("gold") or {}).get("accuracy"), "load": load_average()}
            print(f"  trained {name}: {trained[name]}", flush=True)
        retrains[name] = [] if name == "retrain" else None
        variants[name] = make_round(config, project, op.truth, op.texts, dict(answered), {},
                                    args.cold and name == "logreg", retrains[name])

    # harness times each call: the oracle's answers and the cache clearing, then the round; the round alone too
    prepared, timed = {}, {}
    for name, (prep, rnd) in variants.items():
        def call(prep=prep, rnd=rnd, name=name):
            prep()
            t0 = time.perf_counter()
            out = rnd()
            timed.setdefault(name, []).append(time.perf_counter() - t0)
            return out
        prepared[name] = call
    cmp = compare(prepared, baseline="none", repeats=args.repeats, warmup=1, unit="rounds")
    rounds_only = {name: secs[-args.repeats:] for name, secs in timed.items()}
    first_round = {name: round(secs[0], 2) for name, secs in timed.items()}  # the warm-up: setfit's cold round
    print(f"  first (warm-up) round per variant, s: {first_round}")
    retrain_seconds = {name: [round(x, 2) for x in secs] for name, secs in retrains.items() if secs is not None}
    for name, secs in retrain_seconds.items():
        print(f"  {name}: retrain alone (train_project), s: {secs} (median of the timed {np.median(secs[-args.repeats:]):.2f})")
    print(cmp.table())
    for name, secs in rounds_only.items():
        print(f"  {name}: round alone median {np.median(secs):.2f} s ({min(secs):.2f}..{max(secs):.2f}); "
              f"x none {np.median(np.array(rounds_only['none']) / np.array(secs)):.2f}")
    profiles = {name: profile_round(call) for name, call in prepared.items()} if args.profile else {}  # the baseline too
    write_json(args.out, {**machine_info(), "profiles": profiles, "command": "python bench/bench_round_times.py " + " ".join(sys.argv[1:]),
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "dataset": args.dataset,
                          "pool": len(data.ids), "batch": args.batch, "labels_before": len(answered),
                          "setfit_steps": args.setfit_steps, "cold": args.cold, "setup_round_seconds": setup,
                          "trained": trained, "comparison": cmp.to_json(), "round_seconds": rounds_only,
                          "first_round_seconds": first_round, "retrain_seconds": retrain_seconds,
                          "load_start": load0, "load_end": load_average(),
                          "minutes": round((time.time() - t_start) / 60, 1)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
