"""The product path next to the simulation: ``labeler round --simulate-annotator B`` round after round against
the real local Argilla server, scored on the data set's held-out split, beside ``labeler simulate``'s curve for
the same (default) policy.

For each shared data set: a project over its pool (the same files ``labeler simulate --dataset`` writes), the
default config with ``training.backend: logreg``; ``labeler bootstrap`` and ``labeler push``, then R times
``labeler round --simulate-annotator B`` (the annotator answers the B top-priority pending records with the
held-back labels; round pulls, trains once the threshold is met, re-scores, refits the queue model and
pushes). After each round the project's queue model (``queue_model.joblib``) is scored on the held-out split,
as ``labeler simulate`` scores its own after each round, and so is the current run if one was trained.

    python bench/bench_product_path.py --datasets ag_news,banking77,sms_spam,nlupp_banking

Writes bench/results/product_path.json and prints one table per data set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import PLANS, RESULTS, cli, local_server, simulate_config, write_json

# rounds per data set: a few, on bench_label_efficiency's grid (its batch sizes, its first rounds)
ROUNDS = {"ag_news": 8, "banking77": 6, "sms_spam": 8, "nlupp_banking": 6}


def run_dataset(name: str, batch: int, rounds: int, work: Path) -> dict:
    import dataclasses

    import joblib

    from labeler import simulate as sim
    from labeler.config import load_config
    from labeler.loop.engine import Policy
    from labeler.project import Project
    from labeler.loop.runs import current_run

    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    policy = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
    start = time.perf_counter()
    curve = sim.run_curve(data, feats, policy, rounds, seed=policy.seed)
    sim_seconds = time.perf_counter() - start

    cfg = simulate_config(data, work / name, work / f"{name}.yaml", argilla={"dataset": f"product-{name.replace('_', '-')}"},
                          queue={"batch_size": batch}, training={"backend": "logreg"})
    config = load_config(cfg)
    project = Project(config)
    start = time.perf_counter()
    cli("bootstrap", "-c", str(cfg), "-q")
    cli("push", "-c", str(cfg), "-q")
    points = []
    for r in range(rounds):
        t0 = time.perf_counter()
        cli("round", "-c", str(cfg), "-q", "--simulate-annotator", str(batch))
        model = joblib.load(project.queue_model)
        labels = project.load_labels()
        point = {"round": r + 1, "n_labels": int((labels["status"] == "submitted").sum()),
                 **sim.score_metrics(model.predict_proba(feats.X_eval), data.eval_y, data),
                 "seconds": round(time.perf_counter() - t0, 1)}
        run = current_run(config)
        if run is not None:
            P = run.predict_proba(data.eval_texts)[:, [run.labels.index(n) for n in data.labels]]
            point["run"] = run.run_id
            point["run_accuracy"] = sim.score_metrics(P, data.eval_y, data)["accuracy"]
        points.append(point)
        print(f"  [{name}] round {r + 1}: {point['n_labels']} labels, queue model accuracy {point['accuracy']:.3f} "
              f"(simulate {curve.points[r]['accuracy']:.3f})" + (f", run {point['run_accuracy']:.3f}" if run else "")
              + f" ({point['seconds']:.0f} s)", flush=True)
    primary = sim.primary_metric(data)
    return {"dataset": name, "batch": batch, "rounds": rounds, "policy": policy.name, "primary_metric": primary,
            "eval": len(data.eval_ids), "product": points, "simulate": curve.points,
            "product_seconds": round(time.perf_counter() - start, 1), "simulate_seconds": round(sim_seconds, 1),
            "max_abs_diff": max(abs(p[primary] - s[primary]) for p, s in zip(points, curve.points))}


def markdown(res: dict) -> str:
    m = res["primary_metric"]
    lines = [f"**{res['dataset']}** ({res['policy']}, batches of {res['batch']}, eval {res['eval']:,}), {m}:", "",
             "| round | labels | `labeler round` (queue model) | `labeler simulate` | current run (logreg) |",
             "|---|---|---|---|---|"]
    for p, s in zip(res["product"], res["simulate"]):
        run = f"{p['run_accuracy']:.3f} accuracy" if "run_accuracy" in p else "—"
        lines.append(f"| {p['round']} | {p['n_labels']} | {p[m]:.3f} | {s[m]:.3f} | {run} |")
    return "\n".join(lines + [""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="ag_news,banking77,sms_spam,nlupp_banking")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per data set (default: ROUNDS; fewer: a quick check)")
    ap.add_argument("--markdown", action="store_true", help="print the saved tables; run nothing")
    args = ap.parse_args()
    out_path = RESULTS / "product_path.json"
    if args.markdown:
        print("\n".join(markdown(r) for r in json.loads(out_path.read_text())["datasets"].values()))
        return
    results = json.loads(out_path.read_text()) if out_path.exists() else {"datasets": {}}
    results["command"] = "python bench/bench_product_path.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="labeler-product-") as tmp:
        work = Path(tmp)
        with local_server(work / "home"):
            for name in [d for d in args.datasets.split(",") if d]:
                res = run_dataset(name, PLANS[name]["batch_size"], args.rounds or ROUNDS[name], work)
                results["datasets"][name] = res
                print(markdown(res), flush=True)
                write_json(out_path, results, indent=1)


if __name__ == "__main__":
    main()
