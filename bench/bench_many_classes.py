"""The ML engineer's loop on a set with about 150 classes the defaults were not chosen on (issue 26): when the
first run starts on its own, whether it beats zero-shot, and what each round's model scores on held-out texts.

The derived set (``bench_derived.derive``, default ``mixed140``: 140 classes over four domains, the sparse tail
included) goes through the user's path: ``labeler init FILE --labels-from label`` (label names only, no
descriptions), the eval split ``labeler simulate -c`` holds out (20%, by id), the rest as the project's pool, the
default config with ``training.backend`` ``--backend`` (logreg: a run every round, as the issue measured). Against
the real local Argilla server: ``labeler bootstrap``, ``labeler push``, then ``--rounds`` times ``labeler status``
(its "next run" line) and ``labeler round --simulate-annotator B`` (each in process, as a user types them). After
each round the queue model and the current run are scored on the eval split; after the last, ``labeler train
--final-fit`` (what ships: every label, gold and calibration included) too.

    python bench/bench_many_classes.py --rounds 10 --batch 150

Writes bench/results/many_classes.json and prints one table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from derived_sets import DOMAINS, derived_data
from common import RESULTS, cli, load_average, local_server, markdown_table, require_shared_data, simulate_config, write_json
from harness import machine_info


def line_of(out: str, prefix: str, after: bool = False) -> str | None:
    """The first stripped line of ``out`` starting with ``prefix`` (``after``: the line after it)."""
    lines = [ln.strip() for ln in out.splitlines()]
    at = next((i for i, ln in enumerate(lines) if ln.startswith(prefix)), None)
    return None if at is None or at + after >= len(lines) else lines[at + after]


def accuracy(P, data) -> float:
    from labeler.simulate import driver

    return float(driver.score_metrics(P, data.eval_y, data)["accuracy"])


def by_domain(P, data, domains: dict[str, str]) -> dict[str, float]:
    """Accuracy on the eval records of each domain (the id's first letter, ``bench_derived.DOMAINS``)."""
    first = np.array([i[0] for i in data.eval_ids])
    right = P.argmax(1) == data.eval_y
    return {d: float(right[first == k].mean()) for k, d in domains.items() if (first == k).any()}


def run_accuracy(run, data, feats) -> float:
    """A run's accuracy on the eval split (a frozen-body run reads the cached embeddings, as ``compare`` does)."""
    P = (run.predict_proba_from_embeddings(feats.X_eval, data.eval_texts) if run.frozen_body is not None
         else run.predict_proba(data.eval_texts))[:, [run.labels.index(n) for n in data.labels]]
    return accuracy(P, data)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="mixed140", help="a bench_derived.py single-label set")
    ap.add_argument("--batch", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--backend", default="logreg")
    ap.add_argument("--limit", type=int, default=None, help="a seeded random subset of this many texts (a smoke run)")
    ap.add_argument("--no-final-fit", dest="final_fit", action="store_false",
                    help="skip `labeler train --final-fit` at the end (K + 1 fits: long with a SetFit backend)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_many_classes"))
    ap.add_argument("--out", type=Path, default=RESULTS / "many_classes.json")
    args = ap.parse_args(argv)

    import joblib

    from labeler.config import load_config
    from labeler.loop.runs import current_run, registry
    from labeler.project import Project
    from labeler.simulate import compute_features

    shared = require_shared_data()
    t0, load0 = time.time(), load_average()
    data = derived_data(args.set, shared, args.work, args.limit)  # the eval split simulate -c holds out
    feats = compute_features(data, progress=False)
    cfg = simulate_config(data, args.work / f"product-{int(t0)}", args.work / "product.yaml",
                          argilla={"dataset": f"many-classes-{int(t0)}"}, queue={"batch_size": args.batch},
                          training={"backend": args.backend})
    config = load_config(cfg)
    project = Project(config)
    zero_shot = accuracy(feats.P0_eval, data)
    print(f"{args.set}: {len(data.labels)} classes, pool {len(data.ids):,}, eval {len(data.eval_ids):,}; "
          f"zero-shot accuracy on eval {zero_shot:.3f}", flush=True)
    points = []
    with local_server(args.work / f"home-{int(t0)}"):
        cli("bootstrap", "-c", str(cfg), "-q")
        cli("push", "-c", str(cfg), "-q")
        for r in range(args.rounds):
            status = cli("status", "-c", str(cfg))
            started = time.perf_counter()
            out = cli("round", "-c", str(cfg), "-q", "--simulate-annotator", str(args.batch))
            seconds = time.perf_counter() - started
            labels = project.load_labels()
            run = current_run(config)
            point = {"round": r + 1, "answered": int((labels["status"] == "submitted").sum()),
                     "next_run_before": line_of(status, "next run:"), "train": line_of(out, "[2/4] train", after=True),
                     "verdict": line_of(out, "verdict:"), "seconds": round(seconds, 1),
                     "queue_model": accuracy(P_queue := joblib.load(project.queue_model).predict_proba(feats.X_eval),
                                             data),
                     "queue_model_by_domain": by_domain(P_queue, data, DOMAINS.get(args.set, {})),
                     "run": run.run_id if run else None, "run_accuracy": run_accuracy(run, data, feats) if run else None}
            points.append(point)
            print(f"  round {r + 1}: {point['answered']} answered, queue model {point['queue_model']:.3f}"
                  + (f", run {point['run_accuracy']:.3f}" if run else ", no run") + f" ({seconds:.0f} s)"
                  + (f"; {point['verdict']}" if point["verdict"] else ""), flush=True)
        status_end = cli("status", "-c", str(cfg))
        final = cli("train", "-c", str(cfg), "--final-fit") if args.final_fit else ""
        shipped = registry(config).load(line_of(final, "run ").split()[1]) if line_of(final, "run ") else None
    result = {"set": args.set, "classes": len(data.labels), "pool": len(data.ids), "eval": len(data.eval_ids),
              "batch": args.batch, "backend": args.backend, "zero_shot_accuracy": zero_shot, "rounds": points,
              "status_end": status_end, "final_fit_output": final,
              "final_fit_accuracy": run_accuracy(shipped, data, feats) if shipped else None}
    print(markdown_table(table(result), list(table(result)[0])))
    if args.final_fit:
        print(f"what ships (labeler train --final-fit): accuracy {result['final_fit_accuracy']}")
    write_json(args.out, {**machine_info(), "command": "python bench/bench_many_classes.py " + " ".join(sys.argv[1:]),
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load0,
                          "load_end": load_average(), "minutes": round((time.time() - t0) / 60, 1), **result})
    print(f"wrote {args.out}")


def table(res: dict) -> list[dict]:
    return [{"round": p["round"], "answered": p["answered"], "queue model (eval accuracy)": f"{p['queue_model']:.3f}",
             "current run (eval accuracy)": f"{p['run_accuracy']:.3f}" if p["run"] else "—",
             "queue model by domain": ", ".join(f"{d} {v:.2f}" for d, v in p["queue_model_by_domain"].items()),
             "round s": f"{p['seconds']:.0f}", "train step": (p["train"] or "—").split(" (")[0], "verdict": p["verdict"] or "—"}
            for p in res["rounds"]]


if __name__ == "__main__":
    main()
