"""First run trigger: at how many labels does the first run start on its own, and does it beat zero-shot?

A shared data set's whole pool with its default simulate config (``common.oracle_project``; the trigger uses
the config's own ``training.backend`` for the floor), batches of ``--batch``, the product's steps in process in
``labeler round``'s order (no server): each round the answers so far are on disk, then the train step's
question (``labeler.loop.runs``: ``train_counts`` and ``fast_model_evidence``, judged by
``training.trigger.first_run``), then ``scoring.bootstrap``, then ``loop.plan_push`` and the oracle answers the
batch. Every round from the first with reserve answers a *shadow* run is trained as the train step would
(``runs.train_project``, ``--backend``, logreg by default; forced where no rule is due yet; never made current,
so the queue's path is the one without a run) and judged against zero-shot on gold (``compare_project``'s
verdict) and on the held-out test split. So any rule can be read off the rows: where it fires, and whether the
run it would start beats zero-shot. ``--seeds``: reserve seeds (``GoldReserve``'s: a different random reserve,
so different gold and a different queue path, per seed).

    python bench/bench_first_run.py --dataset banking77 --batch 77 --seeds 0 1 2 --max-rounds 12

Writes bench/results/first_run_<dataset>.json. ``--markdown FILES``: the first run per rule and seed;
``--per-round FILES``: every round's trigger inputs, decision and shadow run; ``--start FILES``: the product's
rule (``NOW``), per seed: the shadow run trained where it fires and ``compare``'s verdict on it, with the labels
that verdict was scored on (gold + calibration where they count, ``labeler.evaluation.gold.verdict_splits``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, load_average, markdown_table, oracle_project, write_json, write_labels

RULES = {  # name -> (one-sided confidence for the evidence rule, or None: no evidence rule; the count rule:
    # "all" every class at min_per_class, "half" half of those labels there, training.trigger.half_counted)
    "95% CI above 0, all (first)": (0.975, "all"), "P(better) >= 0.9, all (before)": (0.9, "all"),
    "P(better) >= 0.9, half (now)": (0.9, "half"), "P(better) >= 0.8, all": (0.8, "all"),
    "count only, all": (None, "all"), "count only, half": (None, "half")}
FIRST = "95% CI above 0, all (first)"
NOW = "P(better) >= 0.9, half (now)"  # the product's rule (training.trigger.first_run)


def seeded_policy(policy, seed: int):
    """``policy`` whose random reserve is drawn with ``seed`` (the product's is ``RESERVE_SEED``)."""
    from labeler.evaluation.gold import GoldReserve

    @dataclasses.dataclass(frozen=True)
    class Seeded(type(policy)):
        reserve_seed: int = 0

        @property
        def reserve(self) -> GoldReserve:
            return GoldReserve(self.gold_share, self.calib_share, self.reserve_seed)

    return Seeded(**{f.name: getattr(policy, f.name) for f in dataclasses.fields(policy)}, reserve_seed=seed)


def shadow_run(config, policy, data, backend: str, P_zs_test) -> dict:
    """A run trained as the train step would (forced where no rule is due), not made current; its gold verdict
    and its test-split gain over zero-shot."""
    from labeler.errors import LabelerError
    from labeler.evaluation.compare_on_gold import compare_project
    from labeler.loop.runs import train_project
    from labeler.loop.scoring import build_signals, run_signal
    from training.evaluate import bootstrap_ci, paired_bootstrap

    t0 = time.perf_counter()
    try:
        run = train_project(config, backend=backend, policy=policy, make_current=False)
        forced = False
    except LabelerError:
        try:
            run = train_project(config, backend=backend, policy=policy, make_current=False, force=True)
        except LabelerError as exc:
            return {"error": str(exc)}
        forced = True
    seconds = time.perf_counter() - t0
    cp = compare_project(config, run_ids=[run.run_id], write=False, reserve=policy.reserve)
    res = cp.result
    zs = next(iter(res.diffs))
    P_run = np.asarray(run_signal(config, run.run_id, build_signals(config)).predict_proba(data.eval_texts))
    kw = dict(multi_label=data.multi_label, threshold=data.threshold, n_resamples=1000, seed=0)
    gain = paired_bootstrap(P_run, P_zs_test, data.eval_y, "accuracy", **kw)
    return {"run_id": run.run_id, "forced": forced, "n_train": run.info["n_train"], "n_gold": run.info["n_gold"],
            "train_seconds": round(seconds, 1), "verdict": res.verdict,
            # what the verdict was scored on: gold + calibration (single-label, a run that held calibration out)
            "eval_n": res.n, "eval_gold": cp.n_gold, "eval_calib": cp.n_calib, "gold_only": cp.gold_only,
            "gold_gain": {k: float(res.diffs[zs][k]) for k in ("diff", "lo", "hi")},
            "test_run": bootstrap_ci(P_run, data.eval_y, "accuracy", **kw),
            "test_zero_shot": bootstrap_ci(P_zs_test, data.eval_y, "accuracy", **kw),
            "test_gain": {k: float(gain[k]) for k in ("diff", "lo", "hi", "p_value")}}


def one_seed(data, args, seed: int, P_zs_test) -> list[dict]:
    from labeler.loop.policy import project_policy
    from labeler.loop.round import plan_push
    from labeler.loop.runs import fast_model_evidence, train_counts
    from labeler.loop.scoring import bootstrap
    from training.trigger import BACKEND_FLOOR, first_run

    root = Path(args.work) / args.dataset / f"seed{seed}"
    shutil.rmtree(root, ignore_errors=True)
    op = oracle_project(data, np.arange(len(data.ids)), root, args.batch,
                        training__backend=data.config.training.backend)  # the trigger's floor
    config, project = op.config, op.project
    floor = BACKEND_FLOOR.get(config.training.backend, 1)
    answered: dict = {}  # id -> label (multi-label: list of labels)
    rows, fired_before = [], None
    for r in range(args.max_rounds):
        t0 = time.perf_counter()
        policy = seeded_policy(project_policy(config), seed)
        row: dict = {"seed": seed, "round": r + 1, "n_labels": len(answered)}
        if answered:
            counts = train_counts(config, policy.reserve)
            ev = fast_model_evidence(config, policy)
            d = first_run(counts, policy.min_per_class, floor, ev, int(config.training.min_gold))
            n = np.array(list(counts.values()))
            row.update(n_train=int(n.sum()), counts=dict(counts), min_per_class=policy.min_per_class,
                       classes_at_floor=int((n >= floor).sum()),
                       classes_at_min=int((n >= policy.min_per_class).sum()), n_classes=len(n),
                       mean_per_class=round(float(n.mean()), 2), count_due=bool((n >= policy.min_per_class).all()),
                       evidence=None if ev is None else dataclasses.asdict(ev), due=d.due, rule=d.rule, reason=d.reason)
            if ev is not None and ev.n >= max(1, args.shadow_from):
                row["shadow"] = shadow_run(config, policy, data, args.backend, P_zs_test)
            if fired_before is None and rule_due(row, RULES[FIRST], int(config.training.min_gold), floor):
                fired_before = r
        pool, scores = bootstrap(config, progress=False, policy=policy)
        batch, _ = plan_push(config, pool, scores, set(answered), set(answered), project.load_labels(), policy)
        answered.update({scores.ids[i]: op.truth[scores.ids[i]] for i in batch.indices})
        write_labels(project, answered, op.texts)
        project.write_state({"round": r + 1, "gold_share": policy.gold_share})
        row["seconds"], row["load"] = round(time.perf_counter() - t0, 1), load_average()[0]
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "reason"}, default=float), flush=True)
        if fired_before is not None and r >= fired_before + args.after:
            break
    return rows


def rule_due(row: dict, rule: tuple, min_gold: int, floor: int) -> bool:
    """Would ``rule`` (``RULES``' value: the evidence rule's one-sided confidence, None for none; the count rule,
    "all" or "half") start a run at ``row``? "half" needs the row's per-class counts (rows written since it)."""
    from training.trigger import Evidence, half_counted

    if "n_train" not in row:
        return False
    confidence, count = rule
    if row["count_due"]:
        return True
    if count == "half" and "counts" in row and row["classes_at_floor"] >= 2 and \
            half_counted(row["counts"], row["min_per_class"]):
        return True
    ev = row.get("evidence")
    if confidence is None or ev is None:
        return False
    ev = Evidence(**ev)
    ok = ev.lo > 0 if confidence == 0.975 else ev.convinces(confidence)
    return ev.n >= min_gold and ok and row["classes_at_floor"] >= 2


def summarise(rows: list[dict], min_gold: int, floor: int) -> list[dict]:
    """Per rule and seed: the label count at which the first run starts, and that run against zero-shot."""
    out = []
    for name, conf in RULES.items():  # conf: (confidence, count rule)
        for seed in sorted({r["seed"] for r in rows}):
            first = next((r for r in rows if r["seed"] == seed and rule_due(r, conf, min_gold, floor)), None)
            sh = (first or {}).get("shadow") or {}
            g, t = sh.get("gold_gain") or {}, sh.get("test_gain") or {}
            out.append({"rule": name, "seed": seed, "labels": first["n_labels"] if first else "not reached",
                        "reserve n": (first.get("evidence") or {}).get("n", "") if first else "",
                        "by": ("count" if rule_due(first, (None, conf[1]), min_gold, floor) else "evidence")
                        if first else "",  # as training.trigger.first_run names it: the count rule first
                        "gold gain (95% CI)": f"{g['diff']:+.3f} ({g['lo']:+.3f}..{g['hi']:+.3f})" if g else "",
                        "verdict": sh.get("verdict", "").split(":")[0],
                        "test gain (95% CI)": f"{t['diff']:+.3f} ({t['lo']:+.3f}..{t['hi']:+.3f})" if t else ""})
    return out


def short_verdict(verdict: str) -> str:
    """``compare``'s verdict in a word: beats / no (the CI reaches 0) / none (too few gold labels) / -."""
    if not verdict:
        return "-"
    return "none" if verdict.startswith("no verdict") else "no" if "does not beat" in verdict else \
        "beats" if "beats" in verdict else verdict


def combined(paths: list[str]) -> str:
    """One table over result files (files of one data set merged, e.g. seeds run apart): per data set and rule,
    the first run's label count per seed, and how the run trained there did against zero-shot (gold verdict,
    test gain)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for path in paths:
        res = json.loads(Path(path).read_text())
        for r in res["summary"]:
            groups.setdefault((res["dataset"], r["rule"]), []).append(r)
    rows = []
    for (dataset, rule), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["seed"])
        gains = [float(r["test gain (95% CI)"].split()[0]) for r in rs if r["test gain (95% CI)"]]
        los = [float(r["test gain (95% CI)"].split("(")[1].split("..")[0]) for r in rs if r["test gain (95% CI)"]]
        rows.append({"data set": dataset, "rule": rule, "seeds": ",".join(str(r["seed"]) for r in rs),
                     "first run at (labels, by)": " / ".join(str(r["labels"]) + (f" ({r['by'][0]})" if r["by"] else "")
                                                             for r in rs),
                     "gold verdict": " / ".join(short_verdict(r["verdict"]) for r in rs),
                     "test gain: min (lowest CI bound)": f"{min(gains):+.3f} ({min(los):+.3f})" if gains else "-",
                     "runs losing on test": sum(g < 0 for g in gains)})
    return markdown_table(rows, list(rows[0]))


def per_round(paths: list[str]) -> str:
    """Per data set, seed and round (rows with per-class counts): what the trigger read (the labels short of
    ``min_per_class`` per class against half of what it asks; the fast model's P(better) on the reserve), the
    product's decision, and the shadow run trained there (test-split gain, gold verdict)."""
    from training.trigger import shortfall

    rows = []
    for path in paths:
        res = json.loads(Path(path).read_text())
        for r in res["rounds"]:
            if "counts" not in r:
                continue
            ev, sh = r.get("evidence") or {}, r.get("shadow") or {}
            t = sh.get("test_gain") or {}
            asked = r["min_per_class"] * r["n_classes"]
            rows.append({"data set": res["dataset"], "seed": r["seed"], "labels": r["n_labels"],
                         "short / half": f"{shortfall(r['counts'], r['min_per_class'])} / {asked // 2}",
                         "below floor": r["n_classes"] - r["classes_at_floor"],
                         "reserve n": ev.get("n", ""), "P(better)": f"{1 - ev['p_value']:.3f}" if ev else "",
                         "due (rule)": r["rule"] if r["due"] else "-",
                         "run: test gain": f"{t['diff']:+.3f}" if t else "",
                         "run: gold verdict": short_verdict(sh.get("verdict", "")) if sh else "",
                         "verdict on (gold + calib)": f"{sh['eval_gold']} + {sh['eval_calib']}" if "eval_n" in sh
                         else ""})
    return markdown_table(rows, list(rows[0]))


def start(paths: list[str]) -> str:
    """Per data set and seed, the product's rule (``NOW``): where the first run starts, and the shadow run trained
    there against zero-shot: ``compare``'s verdict, the labels it was scored on, its gain; the test-split gain."""
    rows = []
    for path in paths:
        res = json.loads(Path(path).read_text())
        for r in (r for r in res["summary"] if r["rule"] == NOW):
            at = next((x for x in res["rounds"] if x["seed"] == r["seed"] and x["n_labels"] == r["labels"]), {})
            sh = at.get("shadow") or {}
            on = (f"{sh['eval_n']} (gold {sh['eval_gold']} + calibration {sh['eval_calib']})" if sh.get("eval_calib")
                  else f"{sh['eval_n']} (gold only{': ' + sh['gold_only'] if sh.get('gold_only') else ''})"
                  if "eval_n" in sh else "-")
            rows.append({"data set": res["dataset"], "seed": r["seed"],
                         "first run at": f"{r['labels']} ({r['by']})" if r["by"] else str(r["labels"]),
                         "verdict on": on, "verdict": short_verdict(r["verdict"]),
                         "gain on those (95% CI)": r["gold gain (95% CI)"] or "-",
                         "test gain (95% CI)": r["test gain (95% CI)"] or "-"})
    return markdown_table(rows, list(rows[0]))


def main() -> None:
    modes = {"--markdown": combined, "--per-round": per_round, "--start": start}
    if sys.argv[1:2] and sys.argv[1] in modes:
        print(modes[sys.argv[1]](sys.argv[2:]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--batch", type=int, default=77)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="reserve seeds (GoldReserve's)")
    ap.add_argument("--max-rounds", type=int, default=12)
    ap.add_argument("--backend", default="logreg", help="backend of the (shadow) runs")
    ap.add_argument("--work", default="/tmp/bench_first_run")
    ap.add_argument("--after", type=int, default=0, help="rounds to keep going after the first rule (the 95%% CI) fired")
    ap.add_argument("--shadow-from", type=int, default=1,
                    help="train shadow runs only once this many reserve records are answered (the evidence rule's "
                         "min_gold: no rule can start a run earlier but the count rule)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from labeler import simulate as sim
    from labeler.loop.scoring import build_signals
    from training.trigger import BACKEND_FLOOR

    t0, load0 = time.time(), load_average()
    data = sim.dataset_data(args.dataset)
    P_zs_test = np.asarray(build_signals(data.config)[0].predict_proba(data.eval_texts))
    rows = [row for seed in args.seeds for row in one_seed(data, args, seed, P_zs_test)]
    min_gold, floor = int(data.config.training.min_gold), BACKEND_FLOOR.get(data.config.training.backend, 1)
    summary = summarise(rows, min_gold, floor)
    print(markdown_table(summary, list(summary[0])))
    out = {"dataset": args.dataset, "pool": len(data.ids), "test": len(data.eval_ids), "batch": args.batch,
           "seeds": args.seeds, "backend_for_trigger": data.config.training.backend, "run_backend": args.backend,
           "min_per_class": data.config.training.min_per_class, "min_gold": min_gold, "floor": floor,
           "gold_share": data.config.queue.gold_share, "rounds": rows, "summary": summary,
           "load_start": load0, "load_end": load_average(), "minutes": round((time.time() - t0) / 60, 1),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": "python bench/bench_first_run.py " + " ".join(sys.argv[1:])}
    path = Path(args.out) if args.out else RESULTS / f"first_run_{args.dataset}.json"
    write_json(path, out, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
