"""Class coverage: labels until every class has ``training.min_per_class`` human training labels, with and without
``queue.coverage``, read from the curves ``bench_label_efficiency.py`` saved (no new runs).

For each data set and each saved policy: after each round, the human training labels per class (records the
queue chose; the random gold draw never trains) from the ids the run asked, and the first label count at which
every class reaches the threshold; beside it, the accuracy at that budget. Accuracy at equal labels is compared
in BENCHMARKS.md from the same curves.

    python bench/bench_coverage.py --datasets banking77,ag_news,sms_spam --min-per-class 8

Writes bench/results/coverage.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import RESULTS, write_json


def coverage_of(name: str, min_per_class: int) -> dict:
    import numpy as np

    from labeler import simulate as sim
    from labeler.loop.engine import class_counts
    from labeler.evaluation.gold import in_reserve

    data = sim.dataset_data(name)
    saved = json.loads((Path(data.config.project.dir) / "bench" / "curves.json").read_text())
    pos = {rid: i for i, rid in enumerate(data.ids)}
    k = len(data.labels)
    out = {"dataset": name, "classes": k, "min_per_class": min_per_class, "policies": {}}
    for v in saved["variants"]:
        share = v["settings"]["gold_share"]
        run = v["runs"][0]
        asked: list[int] = []
        per_round = []
        for batch, point in zip(run["selected"], run["curve"]):
            asked += [pos[i] for i in batch if not in_reserve(i, share)]
            counts = class_counts(data.y[np.array(asked, dtype=np.int64)], k, data.multi_label)
            per_round.append({"n_labels": point["n_labels"], "short": int((counts < min_per_class).sum()),
                              "accuracy": point["accuracy"]})
        reached = next((p for p in per_round if p["short"] == 0), None)
        out["policies"][v["name"]] = {
            "labels_to_coverage": reached["n_labels"] if reached else None,
            "accuracy_then": reached["accuracy"] if reached else None,
            "short_after_round": [p["short"] for p in per_round],
            "n_labels": [p["n_labels"] for p in per_round],
        }
        shown = reached["n_labels"] if reached else f"> {per_round[-1]['n_labels']}"
        print(f"{name}: {v['name']}: every class at {min_per_class} after {shown} labels; short classes per round "
              f"{[p['short'] for p in per_round]}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="banking77,ag_news,sms_spam")
    ap.add_argument("--min-per-class", type=int, default=8)
    args = ap.parse_args()
    results = {"command": "python bench/bench_coverage.py " + " ".join(sys.argv[1:]),
               "datasets": {d: coverage_of(d, args.min_per_class) for d in args.datasets.split(",") if d}}
    write_json(RESULTS / "coverage.json", results, indent=1)


if __name__ == "__main__":
    main()
