"""What a round pays once a logreg run is current: scoring the pool with the run (issue 26.4).

    python bench/bench_run_scoring.py --dataset banking77 --texts 2000 --repeats 3

Trains one logreg run (the in-process oracle project, 8 labels per class drawn at random) and times, interleaved
(``harness.compare``), the run scoring ``--texts`` pool texts (a) with its own encoder, as rounds did, and (b) as
``labeler.loop.scoring.run_signal`` now scores it: the embedding signal's cached vectors and the run's head
(``FinetunedSignal.share_encoder``). The embedding cache is warm in both (a round after bootstrap). Prints the
table and the largest probability difference; writes bench/results/run_scoring.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import RESULTS, oracle_project, write_json, write_labels
from harness import compare, machine_info

from labeler import simulate as sim
from labeler.loop.scoring import build_signals, embedder, run_signal
from labeler.signals.finetuned import FinetunedSignal
from training.train import train


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "run_scoring.json")
    args = ap.parse_args(argv)

    data = sim.dataset_data(args.dataset)
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.permutation(np.flatnonzero(data.y == k))[:8] for k in range(len(data.labels))])
    # the whole pool as a project (the embeddings shared with simulate's cache), 8 labels per class answered
    op = oracle_project(data, range(len(data.ids)), Path(tempfile.mkdtemp(prefix="bench-run-scoring-")), batch=50)
    config, project = op.config, op.project
    write_labels(project, {data.ids[i]: op.truth[data.ids[i]] for i in rows}, op.texts)
    run = train(project.labels, data.labels, backend="logreg", project_dir=project.dir, force=True,
                runs_dir=project.runs)
    texts = list(data.texts[: args.texts])
    signals = build_signals(config)
    embedder(config, signals).encode(texts)  # the cache a round finds after bootstrap
    own = FinetunedSignal.from_run(run.run_id, run.path.parent, labels=data.labels)
    shared_sig = run_signal(config, run.run_id, signals)
    a, b = "(a) the run's own encoder", "(b) cached vectors + the run's head"
    cmp = compare({a: lambda: own.predict_proba(texts), b: lambda: shared_sig.predict_proba(texts)}, baseline=a,
                  repeats=args.repeats, work=len(texts), unit="texts")
    diff = float(np.abs(cmp.outputs[a] - cmp.outputs[b]).max())
    same = float((cmp.outputs[a].argmax(1) == cmp.outputs[b].argmax(1)).mean())
    print(cmp.table())
    print(f"max |p_a - p_b| = {diff:.2e}; same top label on {same:.1%} of {len(texts)} texts")
    write_json(args.out, {**machine_info(), "command": "python bench/bench_run_scoring.py " + " ".join(sys.argv[1:]),
                          "dataset": args.dataset, "texts": len(texts), "run": run.run_id, "comparison": cmp.to_json(),
                          "max_abs_diff": diff, "same_label": same})


if __name__ == "__main__":
    main()
