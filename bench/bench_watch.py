"""``labeler watch`` under simulated annotators: refresh latency, refresh rate, CPU, suggestion accuracy.

A project over BANKING77's 10,003-record pool (77 intents; the files ``labeler simulate --dataset
banking77`` writes, its embedding cache reused), the default config with ``watch.refresh_every`` 10, on a
fresh local Argilla server (webhooks). ``labeler bootstrap`` and ``labeler push``, then ``labeler watch`` in
its own process, and annotators answering the top-priority pending record through the REST API, one at a time,
at two paces: flat out, then "human" (one answer every ``--human-seconds``).

Measured through the API, as an annotator would see it:
- latency: from the acknowledged answer that brought the watcher's backlog to ``refresh_every`` (answer number
  c + 10, where c is the number of answers the previous refresh covered, which the guidelines state) to the
  moment the pending records' suggestions carry the new fast model's name (a monitor thread reads them
  every 0.5 s through the API); p50 / p95 / max;
- refreshes per minute; the CPU seconds of the watcher and of the server's processes (API, worker, Redis)
  over each phase, as a share of one core;
- suggestion accuracy on the pending records right after each refresh (the next batch annotators see: the
  queue's *hardest* records, so lower than accuracy on random records), and the fast model's accuracy on the
  held-out test split at each refresh beside ``labeler simulate``'s curve at the same label count.

    python bench/bench_watch.py --answers 120 --human-answers 40 --human-seconds 2

Writes bench/results/watch.json and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import RESULTS, cli, local_server, simulate_config, write_json


class Monitor(threading.Thread):
    """Reads the pending records' suggestions every ``period`` s; keeps a snapshot whenever they change."""

    def __init__(self, conn, dataset_id, qmodel: Path, work: Path, period: float = 0.5):
        super().__init__(daemon=True)
        self.conn, self.dataset_id, self.period = conn, dataset_id, period
        self.qmodel, self.work = qmodel, work
        self.changes: list[dict] = []  # {"t", "pending": {id: (value, score, agent)}, "model": copy path}
        self.stop = threading.Event()

    def covered(self) -> int | None:
        """How many answers the refresh on show covered (the guidelines' "after N answers")."""
        import re

        from labeler.argilla import rest

        text = rest.request(self.conn, "GET", f"/api/v1/datasets/{self.dataset_id}").json().get("guidelines") or ""
        found = re.search(r"after (\d+) answers", text)
        return int(found.group(1)) if found else None

    def snapshot(self) -> dict:
        from labeler.argilla import rest

        out = {}
        for rec in rest.iter_records(self.conn, self.dataset_id, include="responses,suggestions"):
            if rec.get("responses"):
                continue
            s = (rec.get("suggestions") or [{}])[0]
            out[rec.get("external_id") or rec["id"]] = (s.get("value"), round(float(s.get("score") or 0), 6),
                                                        s.get("agent"))
        return out

    def run(self) -> None:
        from collections import Counter

        def model_of(snap: dict) -> str | None:  # the agent most pending suggestions carry
            return Counter(v[2] for v in snap.values()).most_common(1)[0][0] if snap else None

        self.initial = self.snapshot()
        shown = model_of(self.initial)
        while not self.stop.is_set():
            time.sleep(self.period)
            try:
                now = self.snapshot()
                t = time.monotonic()
                agent = model_of(now)
                if agent is None or agent == shown:
                    continue
                covered = self.covered()  # the guidelines are written before the records: already this refresh's
            except Exception:  # noqa: BLE001 - a busy server: try again next period
                continue
            shown = agent
            copy = None
            if self.qmodel.exists():
                copy = self.work / f"qmodel-{len(self.changes)}.joblib"
                shutil.copy(self.qmodel, copy)
            self.changes.append({"t": t, "pending": now, "model": copy, "covered": covered})


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            c = psutil.Process(pid).cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


def answer_one(conn, dataset_id, truth: dict) -> str | None:
    """Answer the top-priority pending record with its held-back label (as the UI's submit does)."""
    from labeler.argilla import rest
    from labeler.argilla.annotate import _priority
    from labeler.argilla.schema import QUESTION

    deadline = time.monotonic() + 60
    while True:  # an annotator faster than the queue waits for the next refresh to top it up
        pending = [r for r in rest.iter_records(conn, dataset_id, include="responses") if not r.get("responses")]
        if pending:
            break
        if time.monotonic() > deadline:
            return None
        time.sleep(0.25)
    rec = min(pending, key=lambda r: (_priority(r), r.get("external_id") or r["id"]))
    rid = rec.get("external_id") or rec["id"]
    rest.request(conn, "POST", "/api/v1/me/responses/bulk",
                 json={"items": [{"record_id": rec["id"], "status": "submitted",
                                  "values": {QUESTION: {"value": truth[rid]}}}]})
    return rid


def phase(name: str, n: int, pace: float, conn, dataset_id, truth, monitor, every: int, pids: dict,
          base: int = 0) -> dict:
    """``base``: answers acknowledged before this phase."""
    acks: list[float] = []
    c0 = {k: cpu_seconds(v) for k, v in pids.items()}
    first_change = len(monitor.changes)
    t0 = time.monotonic()
    for _ in range(n):
        start = time.monotonic()
        if answer_one(conn, dataset_id, truth) is None:
            break
        acks.append(time.monotonic())
        if pace:
            time.sleep(max(0.0, pace - (time.monotonic() - start)))
    time.sleep(15)  # let the last refresh land
    wall = time.monotonic() - t0
    cpu = {k: (cpu_seconds(v) - c0[k]) / wall for k, v in pids.items()}
    changes = monitor.changes[first_change:]
    latencies = []
    prev = monitor.changes[first_change - 1]["covered"] if first_change else 0
    for ch in changes:  # the answer that brought the backlog to refresh_every after the previous refresh
        k = (prev or 0) + every - base - 1  # its index among this phase's acknowledged answers (0-based)
        if ch["covered"] is not None and 0 <= k < len(acks) and (prev or 0) + every <= ch["covered"]:
            latencies.append(ch["t"] - acks[k])
        prev = ch["covered"]
    ack_gaps = [b - a for a, b in zip([t0] + acks[:-1], acks)]
    return {"phase": name, "answers": len(acks), "seconds": round(wall, 1), "refreshes": len(changes),
            "refreshes_per_min": round(len(changes) / (wall / 60), 2), "latency": latencies,
            "cpu_share_of_one_core": {k: round(v, 3) for k, v in cpu.items()},
            "answer_seconds_p50": round(float(sorted(ack_gaps)[len(ack_gaps) // 2]), 3) if ack_gaps else None,
            "changes": changes}


def pct(xs: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(xs, q)), 2) if xs else None


def main() -> None:
    import dataclasses

    import joblib
    import numpy as np

    from labeler import simulate as sim
    from labeler.argilla.datasets import find_dataset
    from labeler.config import load_config
    from labeler.loop.engine import Policy
    from labeler.loop.round import connection
    from labeler.project import Project
    from labeler.server import process

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--answers", type=int, default=120, help="answers flat out")
    ap.add_argument("--human-answers", type=int, default=40, help="answers at human pace")
    ap.add_argument("--human-seconds", type=float, default=2.0, help="seconds per answer at human pace")
    ap.add_argument("--every", type=int, default=10, help="watch.refresh_every")
    ap.add_argument("--batch", type=int, default=50, help="queue.batch_size")
    args = ap.parse_args()

    data = sim.dataset_data(args.dataset)
    feats = sim.compute_features(data, progress=False)
    truth = dict(zip(data.ids, [data.labels[k] for k in data.y]))
    with tempfile.TemporaryDirectory(prefix="labeler-watch-") as tmp:
        work = Path(tmp)
        watcher = None
        with local_server(work / "home") as paths:
            try:
                state = work / "state"
                cfg = simulate_config(data, state, work / "watch.yaml", argilla={"dataset": "watch-bench"},
                                      queue={"batch_size": args.batch}, training={"backend": "logreg"},
                                      watch={"refresh_every": args.every, "fine_tune": False})
                config = load_config(cfg)
                t = time.perf_counter()
                cli("bootstrap", "-c", str(cfg), "-q")
                cli("push", "-c", str(cfg), "-q")
                setup_s = time.perf_counter() - t
                conn = connection(config)
                dataset_id = str(find_dataset(conn, "watch-bench").id)
                log = open(work / "watch.log", "w")
                watcher = subprocess.Popen([sys.executable, "-m", "labeler.cli", "watch", "-c", str(cfg)],
                                           stdout=log, stderr=subprocess.STDOUT)
                wj = state / "watch.json"
                while not (wj.exists() and json.loads(wj.read_text()).get("mode")):
                    time.sleep(0.2)
                pids = {"watcher": [watcher.pid], "server": [p.pid for p in process.read_state(paths).processes.values()]}
                monitor = Monitor(conn, dataset_id, Project(config).queue_model, work)
                monitor.start()
                phases = [phase("flat out", args.answers, 0.0, conn, dataset_id, truth, monitor, args.every, pids)]
                phases.append(phase(f"human pace ({args.human_seconds:g} s/answer)", args.human_answers,
                                    args.human_seconds, conn, dataset_id, truth, monitor, args.every, pids,
                                    base=phases[0]["answers"]))
                monitor.stop.set()
                # nothing lost, nothing twice: every acknowledged answer is in the server once, and the watcher
                # has processed each (or holds it in its backlog, under refresh_every)
                from labeler.argilla.datasets import submitted_keys

                in_server = submitted_keys(conn, dataset_id)
                wstate = json.loads(wj.read_text())
                integrity = {"acknowledged": sum(ph["answers"] for ph in phases), "in_server": len(in_server),
                             "records_answered": len({k.split("|")[0] for k in in_server}),
                             "processed_by_watcher": len(set(wstate["processed"]) & in_server),
                             "processed_not_in_server": len(set(wstate["processed"]) - in_server),
                             "backlog": len(in_server - set(wstate["processed"]))}
                # accuracy after each visible refresh: pending suggestions vs truth, fast model on the test split
                pend0 = monitor.initial
                rows = [{"refresh": 0, "phase": "before any answer", "pending": len(pend0), "labels": 0,
                         "pending_accuracy": round(float(np.mean([v[0] == truth[i] for i, v in pend0.items()])), 3),
                         "fast_model_test_accuracy": None, "agent": sorted({v[2] for v in pend0.values()})[:2]}]
                n_seen = 0
                for ph in phases:
                    for ch in ph.pop("changes"):
                        pend = ch["pending"]
                        acc = float(np.mean([v[0] == truth[i] for i, v in pend.items()])) if pend else float("nan")
                        model_acc = None
                        if ch["model"] is not None:
                            model = joblib.load(ch["model"])
                            model_acc = sim.score_metrics(model.predict_proba(feats.X_eval), data.eval_y, data)["accuracy"]
                        n_seen += 1
                        labels = int(str(sorted({v[2] for v in pend.values()})[0]).rsplit("-n", 1)[-1]) \
                            if any("fast-model-n" in str(v[2]) for v in pend.values()) else None
                        rows.append({"refresh": n_seen, "phase": ph["phase"], "pending": len(pend), "train_labels": labels,
                                     "pending_accuracy": round(acc, 3), "fast_model_test_accuracy": model_acc,
                                     "agent": sorted({v[2] for v in pend.values()})[:2]})
            finally:
                if watcher is not None:
                    watcher.terminate()
                    watcher.wait(timeout=60)
                    log.close()
                    watch_log = (work / "watch.log").read_text().splitlines()[-60:]
    # labeler simulate's curve for the same policy in batches of refresh_every: the fast model's test accuracy
    policy = dataclasses.replace(Policy.from_config(data.config), batch_size=args.every)
    n_rounds = 1 + (args.answers + args.human_answers) // args.every
    curve = sim.run_curve(data, feats, policy, n_rounds, seed=policy.seed)
    sim_points = [(int(p["n_train"]), float(p["accuracy"])) for p in curve.points]
    for r in rows:
        n = r.get("train_labels")
        if n:  # simulate's value at the same number of human labels (train split: gold is never trained on)
            at = [acc for k, acc in sim_points if k <= n]
            r["simulate_test_accuracy"] = round(at[-1], 3) if at else None
    out = {"command": "python bench/bench_watch.py " + " ".join(sys.argv[1:]), "dataset": args.dataset,
           "pool": len(data.ids), "refresh_every": args.every, "batch": args.batch, "setup_seconds": round(setup_s, 1),
           "load_after": [round(x, 2) for x in os.getloadavg()], "phases": phases, "refreshes": rows,
           "simulate_curve": sim_points, "integrity": integrity, "watch_log": watch_log}
    write_json(RESULTS / "watch.json", out, indent=1)
    print(f"pool {len(data.ids):,} ({args.dataset}), refresh every {args.every} answers, batch {args.batch}")
    print("| phase | answers | s | refreshes/min | latency p50 / p95 / max (s) | n | CPU watcher | CPU server |")
    print("|---|---|---|---|---|---|---|---|")
    for ph in phases:
        lat = ph["latency"]
        print(f"| {ph['phase']} | {ph['answers']} | {ph['seconds']} | {ph['refreshes_per_min']} | {pct(lat, 50)} / "
              f"{pct(lat, 95)} / {pct(lat, 100)} | {len(lat)} | {ph['cpu_share_of_one_core']['watcher']:.0%} | "
              f"{ph['cpu_share_of_one_core']['server']:.0%} |")
    print(f"\nanswers: {integrity}")
    print("\n| refresh | phase | human train labels | suggestions right on the pending batch | fast model, test split "
          "| `labeler simulate`, same labels |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        fm = "—" if r["fast_model_test_accuracy"] is None else f"{r['fast_model_test_accuracy']:.3f}"
        sm = "—" if r.get("simulate_test_accuracy") is None else f"{r['simulate_test_accuracy']:.3f}"
        print(f"| {r['refresh']} | {r['phase']} | {r.get('train_labels') or 0} | {r['pending_accuracy']:.3f} "
              f"({r['pending']}) | {fm} | {sm} |")


if __name__ == "__main__":
    main()
