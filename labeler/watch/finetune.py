"""The watcher's full fine-tune: trained in a separate, lower-priority process; annotators never wait for it.

``due(config)`` says when one pays: a run is due (``labeler.loop.runs.trigger``: the fast model beats zero-shot on
the random reserve in 90% of bootstrap resamples, or half the labels ``training.min_per_class`` per class asks for are there;
``training.trigger``) and the human training labels grew by
``training.retrain_after`` (a fraction) since the current run was trained (any growth when there is no run yet).
``start`` snapshots labels.parquet and launches ``python -m labeler.watch.finetune`` with one thread and
``nice`` 10, so the server and the refreshes keep a core. That process trains the configured backend (the run
is registered, not made current), scores the pool with it into the prediction cache (so the watcher's next
refresh reads it instead of running the model), and decides on random gold whether it may be swapped in:

- no current run: yes; the run joins the ensemble per ``training.mode`` (``labeler.loop.join``: weights fitted on
  gold once ``training.min_gold`` exist, ``replace`` only with a verdict);
- a current run and at least ``training.min_gold`` random labels (gold, plus calibration single-label where
  neither run trained on it, as ``compare`` counts them): yes unless the paired 95% CI of its accuracy minus the
  current run's lies below 0 (it is worse): prediction-powered with the unanswered reserve, as ``compare``'s
  (``training.ppi``), else Newcombe's score interval. The metric is ``compare``'s verdict metric
  (``training.verdict_metric``; multi-label micro-F1 by default), each multi-label run cut as ``labeler predict``
  cuts it (``Run.cuts``, ``Run.at_least_one``; ``task.threshold`` for a run saved without cuts);
- fewer: yes (no verdict either way; it saw more labels), and the reason says so;
- a current final fit (``labeler train --final-fit``, made current by hand): yes, since it trained on the gold labels
  that would judge it.

The decision is written to a JSON file the watcher reads; the watcher makes the run current.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from labeler.config import load_config
from labeler.data import load_pool
from labeler.errors import LabelerError
from labeler.evaluation.compare_on_gold import evaluation_note, verdict_metric
from labeler.evaluation.gold import CALIB, GOLD, enough_gold, verdict_splits
from labeler.loop.policy import project_policy
from labeler.loop.runs import current_run, retrain_at, run_mismatch, train_project, train_records, trigger
from labeler.loop.scoring import build_signals, run_signal
from labeler.project import Project
from labeler.signals.cache import score_cached
from training.evaluate import metric_name, paired_bootstrap
from training.registry import cuts_in_order


def due(config) -> str | None:
    """Why a fine-tune is due now, or None."""

    if not config.watch.fine_tune:
        return None
    policy = project_policy(config)
    decision = trigger(config, policy)
    if not decision.due:
        return None
    n = train_records(config, policy.reserve)  # records, as a run's n_train counts them (not label positives)
    run = current_run(config)
    if run is None:
        return f"no run yet, {n} human training labels: {decision.reason}"
    before = int(run.info.get("n_train") or 0)
    if n >= retrain_at(before, config.training.retrain_after):
        return f"{n} human training labels, {n - before} more than run {run.run_id} saw"
    return None


def start(config, config_path: str, overrides: list[str]) -> dict:
    """Launch the background fine-tune; the dict to keep in the watcher's state."""
    project = Project(config)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = project.dir / "watch-finetune"
    work.mkdir(parents=True, exist_ok=True)
    labels = work / f"labels-{stamp}.parquet"
    labels.write_bytes(project.labels.read_bytes())
    out, log = work / f"result-{stamp}.json", work / f"log-{stamp}.txt"
    cmd = [sys.executable, "-m", "labeler.watch.finetune", "--config", str(config_path), "--labels", str(labels),
           "--out", str(out)] + [a for o in overrides for a in ("--set", o)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=lambda: os.nice(10))
    return {"pid": proc.pid, "out": str(out), "log": str(log), "labels": str(labels), "started": time.time()}


def poll(job: dict) -> dict | None:
    """The fine-tune's result once it has ended ({"run_id", "swap", "why"} or {"error"}), else None."""
    out = Path(job["out"])
    if out.exists():
        return json.loads(out.read_text())
    if _alive(int(job["pid"])):
        return None
    tail = ""
    try:
        tail = " ".join(Path(job["log"]).read_text().strip().splitlines()[-1:])[:300]
    except OSError:
        pass
    return {"error": f"the fine-tune process ended without a result ({tail or 'no output'})"}


def stop(job: dict) -> None:
    try:
        os.killpg(int(job["pid"]), 15)
    except (ProcessLookupError, PermissionError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process: reap it
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def decide(config, reserve, run_id: str, ids: list[str], P_new: np.ndarray, P_cur: np.ndarray | None,
           current_id: str | None, runs: tuple | None = None) -> tuple[bool, str]:
    """(swap, why) by the rule in the module docstring, on the random labels of ``reserve`` (the command's) that
    ``compare``'s verdict counts: gold, plus calibration where ``runs`` (the new and the current run) both leave
    it untouched (``labeler.evaluation.gold.verdict_splits``; ``runs`` None: gold alone)."""

    if current_id is None or P_cur is None:
        return True, f"first run: {run_id} joins the ensemble per training.mode ({config.training.mode})"
    if runs is not None and len(runs) > 1 and (getattr(runs[1], "info", None) or {}).get("final_fit"):
        return True, (f"no verdict against {current_id} (a final fit: it trained on the gold labels, which cannot "
                      f"judge it); {run_id} saw the new labels")
    splits = (GOLD,) if runs is None else verdict_splits(config, runs)[0]
    labels = Project(config).load_labels()
    rows, y, sizes = reserve.rows_in_splits(ids, labels, splits, config.label_names, config.task.multi_label)
    counted = CALIB in splits
    ok, why = enough_gold(config, reserve, sizes[GOLD], sizes[CALIB] if counted else None, ids=ids)
    if not ok:
        return True, f"no verdict against {current_id} ({why}); {run_id} saw more labels"
    metric = verdict_metric(config)
    unl = None if config.task.multi_label else reserve.unanswered(ids, labels)  # prediction-powered: training.ppi
    pair = ((runs or ()) + (None, None))[:2]
    cut_new, cut_cur = (cuts_in_order(r, config.label_names, config.task.threshold) if config.task.multi_label
                        else config.task.threshold for r in pair)
    d = paired_bootstrap(P_new[rows], P_cur[rows], y, metric, multi_label=config.task.multi_label,
                         threshold=cut_new, threshold_b=cut_cur,
                         unlabeled=None if unl is None else (P_new[unl], P_cur[unl]),
                         at_least_one=tuple(bool(getattr(r, "at_least_one", False)) for r in pair))
    on = evaluation_note(sizes[GOLD], sizes.get(CALIB, 0), counted) if counted else f"{d['n']} gold labels"
    ci = (f"{d['diff']:+.3f} {metric_name(metric, config.task.multi_label)} vs {current_id}, "
          f"95% CI {d['lo']:+.3f}..{d['hi']:+.3f}, {on}")
    if d["hi"] < 0:
        return False, f"kept {current_id}: {run_id} is worse ({ci})"
    return True, f"{run_id} swapped in ({ci})"


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m labeler.watch.finetune")
    ap.add_argument("--config", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args(argv)
    t0 = time.time()
    try:
        config = load_config(args.config, args.set)
        project = Project(config)
        policy = project_policy(config)
        current = current_run(config)
        stale = run_mismatch(config, current)
        if stale:  # trained on other labels than the config's: nothing to keep it for
            current = None
        run = train_project(config, labels_path=args.labels, make_current=False, policy=policy)
        pool = load_pool(config)
        signals = build_signals(config)  # a logreg run scores from the embedding signal's cached vectors
        P_new = score_cached(run_signal(config, run.run_id, signals), pool.ids, pool.texts, project.cache)
        P_cur = score_cached(run_signal(config, current.run_id, signals), pool.ids, pool.texts, project.cache) \
            if current is not None else None
        swap, why = decide(config, policy.reserve, run.run_id, pool.ids, np.asarray(P_new), P_cur,
                           current.run_id if current else None, (run, current) if current else (run,))
        why = f"{stale}; {run.run_id} trained on every label" if stale else why
        result = {"run_id": run.run_id, "swap": swap, "why": why, "seconds": round(time.time() - t0, 1),
                  "n_train": run.info.get("n_train")}
    except LabelerError as exc:
        result = {"error": str(exc)}
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(args.out)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
