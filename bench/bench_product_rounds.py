"""A round's seconds as a user pays them (issue 26.4): fresh ``labeler round --simulate-annotator B`` processes
against the real local Argilla server, a project that never trains a run beside one whose logreg run retrains
at every round, interleaved.

Two projects over the same pool (the shared data set's, as ``labeler simulate --dataset`` writes it; its cache
shared, so the embeddings are computed once), each with its own Argilla dataset: ``none`` never trains (its
rounds pass ``--set training.min_per_class=1000 --set training.min_gold=100000``, so neither trigger rule is ever
due: what a project without a run pays, the trigger's evidence check included) and ``logreg`` (``training.backend:
logreg``: once the trigger is due, every round's labels have changed, so every round retrains the run, compares it
on gold and scores it). Round k of both see the same label count; until the first run they ask the same records.
Each round is its own process, timed from start to exit (imports, pull, train, bootstrap, push), alternating
which project goes first. ``--python``: the interpreter and ``--repo``: the code to run (another checkout's, to
time a previous commit the same way). After the rounds, one full read of each dataset is timed (what a round's
push read again before it took the pull's view of the dataset).

    python bench/bench_product_rounds.py --dataset banking77 --batch 77 --rounds 22

Writes bench/results/product_rounds.json: every round's seconds and what its train step did.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import RESULTS, load_average, local_server, simulate_config, write_json
from harness import machine_info

NO_RUN = ["--set", "training.min_per_class=1000", "--set", "training.min_gold=100000"]


def one_round(python: str, repo: Path, cfg: Path, batch: int, extra: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(repo), "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    out = subprocess.run([python, "-m", "labeler.cli", "round", "-q", "-c", str(cfg), "--simulate-annotator",
                          str(batch), *extra], capture_output=True, text=True, env=env, cwd=repo)
    seconds = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"labeler round failed ({out.returncode}): {(out.stderr or out.stdout)[-400:]}")
    return seconds, out.stdout


def train_step(stdout: str) -> str:
    """What the round's train step did: "trained", "waited" (not due) or "other"."""
    step = stdout.split("[2/4] train", 1)[-1].split("[3/4]", 1)[0]
    return "trained" if "(logreg): trained on" in step else "waited" if "not training yet" in step else "other"


def read_seconds(cfgs: dict, repeats: int = 5) -> dict:
    """One full read of each project's dataset as a round's push planned on it before it took the pull's view
    (``labeler.argilla.datasets.dataset_view``: every record with its responses), ``repeats`` times: the
    records and the median seconds (printed)."""
    from labeler.argilla.datasets import dataset_view
    from labeler.config import load_config
    from labeler.loop.round import connection

    out = {}
    for name, cfg in cfgs.items():
        config = load_config(cfg)
        conn, secs = connection(config), []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _, present, _ = dataset_view(conn, config.argilla.dataset, config.argilla.workspace)
            secs.append(time.perf_counter() - t0)
        out[name] = {"records": len(present), "seconds_median": round(float(np.median(secs)), 3),
                     "seconds": [round(s, 3) for s in secs]}
        print(f"  a full read of {name}'s dataset ({len(present):,} records): {np.median(secs):.2f} s "
              f"(median of {repeats})", flush=True)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--batch", type=int, default=77)
    ap.add_argument("--rounds", type=int, default=22)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--out", type=Path, default=RESULTS / "product_rounds.json")
    args = ap.parse_args(argv)

    from labeler import simulate as sim

    data = sim.dataset_data(args.dataset)
    sim.compute_features(data, progress=False)  # the pool's embeddings in the shared cache, once
    t_start, load0 = time.time(), load_average()
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp) / "home"):
        cfgs = {name: simulate_config(data, Path(tmp) / name, Path(tmp) / f"{name}.yaml",
                                      argilla={"dataset": f"rounds-{name}"},
                                      queue={"batch_size": args.batch}, training={"backend": "logreg"})
                for name in ("none", "logreg")}
        for k in range(1, args.rounds + 1):
            order = ["none", "logreg"] if k % 2 else ["logreg", "none"]
            row: dict = {"round": k, "first": order[0], "load": load_average()[0]}
            for name in order:
                seconds, stdout = one_round(args.python, args.repo, cfgs[name], args.batch,
                                            NO_RUN if name == "none" else [])
                row[name] = {"seconds": round(seconds, 2), "train": train_step(stdout)}
            rounds.append(row)
            print(f"  round {k:2d}: none {row['none']['seconds']:5.2f} s ({row['none']['train']}), "
                  f"logreg {row['logreg']['seconds']:5.2f} s ({row['logreg']['train']}), load {row['load']}",
                  flush=True)
        reads = read_seconds(cfgs)
    trained = [r for r in rounds if r["logreg"]["train"] == "trained"]
    same = [r for r in rounds if r["logreg"]["train"] != "trained" and r["round"] > 1]  # same work in both
    summary = {}
    for what, rows in (("logreg retrains", trained), ("neither trains", same)):
        if rows:
            ratio = np.array([r["logreg"]["seconds"] / r["none"]["seconds"] for r in rows])
            extra = np.array([r["logreg"]["seconds"] - r["none"]["seconds"] for r in rows])
            summary[what] = {"rounds": len(rows), "ratio_median": round(float(np.median(ratio)), 3),
                             "ratio_iqr": [round(float(q), 3) for q in np.percentile(ratio, [25, 75])],
                             "ratio_min_max": [round(float(ratio.min()), 3), round(float(ratio.max()), 3)],
                             "extra_s_median": round(float(np.median(extra)), 3),
                             "none_s_median": round(float(np.median([r["none"]["seconds"] for r in rows])), 2),
                             "logreg_s_median": round(float(np.median([r["logreg"]["seconds"] for r in rows])), 2)}
            s = summary[what]
            print(f"{what} ({s['rounds']} rounds): logreg x none {s['ratio_median']:.2f} (IQR {s['ratio_iqr'][0]:.2f}.."
                  f"{s['ratio_iqr'][1]:.2f}, {s['ratio_min_max'][0]:.2f}..{s['ratio_min_max'][1]:.2f}), extra "
                  f"{s['extra_s_median']:+.2f} s; none {s['none_s_median']:.2f} s, logreg {s['logreg_s_median']:.2f} s")
    write_json(args.out, {**machine_info(), "command": "python bench/bench_product_rounds.py " + " ".join(sys.argv[1:]),
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "dataset": args.dataset,
                          "batch": args.batch, "repo": str(args.repo), "rounds": rounds, "summary": summary,
                          "dataset_read": reads,
                          "load_start": load0, "load_end": load_average(),
                          "minutes": round((time.time() - t_start) / 60, 1)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
