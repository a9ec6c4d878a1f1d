"""``labeler status``: where a project stands, summarised so it reads at 2 labels and at 150."""

from __future__ import annotations

from pathlib import Path

from labeler.data import Pool
from labeler.data.load import cache_key
from labeler.errors import LabelerError
from labeler.evaluation.compare_on_gold import verdict_metric
from labeler.evaluation.gold import CALIB, enough_gold, verdict_splits
from labeler.loop.human_labels import discarded, none_answers, outside_pool, outside_pool_note, per_class, unfound, unfound_note
from labeler.loop.policy import project_policy
from labeler.loop.runs import (current_run, growth_wait, labels_unchanged, run_mismatch, threshold, train_counts,
                                trigger)
from labeler.project import Project
from labeler.quality.agreement import summary_line
from labeler.watch.state import status_line
from labeler.words import plural
from training.evaluate import metric_name

SHOWN = 5


def status(config) -> dict:
    """Counts: pool, scored, pushed, labeled (per class, per split), agreement, training threshold, gold."""

    project = Project(config)
    policy = project_policy(config)
    out: dict = {"project": str(project.dir), "round": project.round, "multi_label": bool(config.task.multi_label)}
    pool_ids = project.pool_ids()  # read once: the count, the gold the pool can hold, whose dataset it is
    out["pool"] = len(pool_ids) if pool_ids is not None else None
    data = Path(config.data.path)  # the data file changed since bootstrap read it: the counts are the last read's
    out["pool_changed"] = bool(out["pool"] is not None and data.exists()
                               and Pool.cache_key_of(project.pool) != cache_key(config, data))
    scores = project.fitting_scores()  # matrices scored for other labels (the config changed since) count as none
    out["scored"] = len(scores.ids) if scores is not None else 0
    labels = project.load_labels()
    out["labeled_per_class"] = per_class(labels, config.label_names, config.task.multi_label)
    out["none_of_these"] = none_answers(labels) if config.task.multi_label else None  # which no class counts
    splits = {}
    if labels is not None and not labels.empty:
        sub = labels[labels["status"] == "submitted"]
        for split in policy.reserve.splits(sub["id"].astype(str).tolist()).values():
            splits[split] = splits.get(split, 0) + 1
        out["discarded"], out["discarded_reserve"] = discarded(labels, policy.reserve)
        out["outside_pool"] = outside_pool(labels, pool_ids)
        if policy.coverage > 0 and not policy.is_random:
            out["unfound"] = unfound(labels, config.label_names, config.task.multi_label, policy.min_per_class)
        out["conflicts"] = int((labels["status"] == "conflict").sum())
        out["awaiting"] = int((labels["status"] == "awaiting").sum())  # short of argilla.min_submitted answers
        agree = labels["agreement"].dropna()
        out["mean_agreement"] = float(agree.mean()) if len(agree) else None
        out["labeled"] = int(len(sub))
        known = set(config.label_names)  # answers with a label taken out of the config since: not trained on
        out["outside"] = (int(sum(any(x not in known for x in labs) for labs in sub["labels"]))
                          if config.task.multi_label else int(sum(isinstance(x, str) and x not in known
                                                                  for x in sub["label"])))
    else:
        out["labeled"] = 0
    out["labeled_per_split"] = {k: splits.get(k, 0) for k in ("train", "gold", "calib")}
    met, short, message = threshold(config, policy)
    out["training_threshold"] = {"min_per_class": policy.min_per_class, "met": met, "short": short,
                                 "message": message, "train_per_class": train_counts(config, policy.reserve)}
    decision = trigger(config, policy)
    out["next_run"] = {"due": decision.due, "rule": decision.rule, "reason": decision.reason,
                       "below_floor": len(decision.below_floor),
                       # `labeler round` does not retrain a run on the labels it was trained on
                       "unchanged_since": labels_unchanged(config) if decision.due else None}
    wait = growth_wait(config, policy) if decision.due and not out["next_run"]["unchanged_since"] else None
    out["next_run"]["wait"] = None if wait is None else dict(zip(("run_id", "n_before", "n_now", "at"), wait),
                                                             retrain_after=config.training.retrain_after)
    run = current_run(config)
    # what compare's verdict counts: gold + calibration single-label, unless the current run trained on calibration
    n_gold, n_calib = out["labeled_per_split"]["gold"], out["labeled_per_split"]["calib"]
    counted = CALIB in verdict_splits(config, [run] if run is not None else [])[0]
    ok, why = enough_gold(config, policy.reserve, n_gold, n_calib if counted else None, ids=pool_ids)
    out["gold"] = {"n": n_gold, "n_calib": n_calib if counted else 0, "min_gold": config.training.min_gold,
                   "enough": ok, "message": why}
    metric = verdict_metric(config)  # the run's score on gold, as its verdict reads it (micro-F1, multi-label)
    if run is not None and run.multi_label != config.task.multi_label:  # a run of the task's other kind: its own
        metric = "micro_f1" if run.multi_label else "accuracy"  # metric with an interval ("nan..nan" was printed)
    out["current_run"] = None if run is None else {
        "run_id": run.run_id, "backend": run.backend, "n_train": run.info.get("n_train"),
        "n_gold": run.info.get("n_gold"), "metric": metric_name(metric, run.multi_label),
        "value": (run.metrics.get("gold") or {}).get(metric), "ci": (run.metrics.get("gold_ci") or {}).get(metric),
        "final_fit": bool(run.info.get("final_fit")), "mismatch": run_mismatch(config, run)}

    out["watcher"] = status_line(project.dir)
    out["agreement"] = summary_line(config)
    try:
        from labeler.loop.round import connection, dataset_spec, server_view

        present, answered = server_view(connection(config), dataset_spec(config, [], None), project, pool_ids)
        out["pushed"], out["answered_in_argilla"] = len(present), len(answered)
    except LabelerError as exc:
        out["pushed"], out["server"] = None, str(exc)
    return out


def _or_na(value) -> str:
    return "n/a" if value is None else str(value)  # None: the server could not be asked (its line says why)


def summary_lines(st: dict, show_all: bool = False) -> list[str]:
    """The status as a few lines: per-class counts summarised (fewest first, ``SHOWN`` named, the rest
    counted) unless ``show_all``."""
    lines = [f"project: {st['project']} (round {st['round']})",
             f"pool: {st['pool']}  scored: {st['scored']}  pushed: {_or_na(st.get('pushed'))}  labeled: {st['labeled']} "
             f"(train {st['labeled_per_split']['train']}, gold {st['labeled_per_split']['gold']}, "
             f"calibration {st['labeled_per_split']['calib']}"
             + (f"; {st['none_of_these']} 'None of these'" if st.get("none_of_these") else "") + ")"]
    if st.get("discarded") or st.get("conflicts"):
        lines.append("not trained on: " + "; ".join(filter(None, [
            discarded_line(st.get("discarded", 0), st.get("discarded_reserve", 0)) if st.get("discarded") else "",
            f"{plural(st['conflicts'], 'conflict')} (annotators disagree; `labeler pull` lists them)"
            if st.get("conflicts") else ""])))
    if st.get("outside_pool"):
        lines.append(f"data: {outside_pool_note(st['outside_pool'])}")
    if st.get("unfound") and st["unfound"][0]:
        lines.append(f"queue: {unfound_note(*st['unfound'])}")
    if st.get("outside"):
        what = "that label is dropped from their sets" if st.get("multi_label") else "not trained on"
        lines.append(f"labels: {st['outside']} answers carry a label no longer in the config ({what}; renamed? list "
                     "the old name under the label's was:)")
    if st.get("pool_changed"):
        lines.append("data: the file, the data settings or labeler's pool format changed since the pool was read; "
                     "`labeler bootstrap` or `labeler round` reads it again")
    if st.get("server"):
        lines.append(f"server: {st['server']}")
    if st.get("watcher"):
        lines.append(st["watcher"])
    per = st["labeled_per_class"]
    ranked = sorted(per.items(), key=lambda kv: (kv[1], kv[0]))
    counts = [n for _, n in ranked]
    if counts:  # the same header at 2 classes, at 150 and with --all
        empty = sum(1 for n in counts if n == 0)
        lines.append(f"labels per class: {plural(len(ranked), 'class', 'classes')}, min {counts[0]}, "
                     f"median {counts[len(counts) // 2]}, max {counts[-1]}; {plural(empty, 'class', 'classes')} with "
                     "no label yet")
    if show_all or len(ranked) <= 2 * SHOWN:
        lines += [f"  {name}: {n}" for name, n in per.items()]
    else:
        lines.append("  fewest: " + ", ".join(f"{k} {v}" for k, v in ranked[:SHOWN]) + f" ... and {len(ranked) - SHOWN} "
                     "more (--all lists every class)")
    if st.get("agreement"):
        lines.append(st["agreement"])
    elif st.get("mean_agreement") is not None:
        lines.append(f"mean annotator agreement: {st['mean_agreement']:.3f}")
    if st.get("awaiting"):
        lines.append(f"awaiting overlap: {st['awaiting']} records have fewer than argilla.min_submitted answers "
                     "(not trained on yet)")
    lines.append(current_run_line(st.get("current_run")))
    if st.get("next_run"):
        lines.append(next_run_line(st["next_run"]))
    gold = st["gold"]
    lines.append(f"gold: {gold['message']}" if not gold["enough"] else
                 f"gold: {gold['message']} (enough for verdicts, min {gold['min_gold']})")
    return lines


def discarded_line(n: int, in_reserve: int) -> str:
    """Records annotators discarded (never trained on, not asked again), and what they do to the gold estimates."""
    line = f"{n} discarded by annotators (not asked again)"
    if in_reserve:
        line += (f", {in_reserve} of them {'a random reserve record' if in_reserve == 1 else 'random reserve records'}"
                 ": gold scores the ones answered, and a discarded record is often a hard one")
    return line


def next_run_line(nxt: dict) -> str:
    """When the next run starts: due now, with the next new labels, at a count (``training.retrain_after``), or
    what the trigger waits for."""
    if nxt["due"] and nxt.get("unchanged_since"):
        return (f"next run: with the next new labels ({nxt['reason']}; run {nxt['unchanged_since']} was trained on "
                "every label there is)")
    if nxt["due"] and nxt.get("wait"):
        w = nxt["wait"]
        return (f"next run: at {w['at']} human training labels, {w['n_now']} now (run {w['run_id']} trained on "
                f"{w['n_before']}; training.retrain_after {w['retrain_after']:g}); `labeler train` starts one now")
    return (f"next run: due now ({nxt['reason']}); `labeler round` or `labeler train` starts it" if nxt["due"]
            else f"next run: {nxt['reason']}")


def current_run_line(run: dict | None) -> str:
    """``current run: <id> (<backend>, <n> training labels), gold accuracy 0.812 (95% CI .., n=..)`` (the verdict's
    metric: micro-F1 for multi-label)."""
    if not run:
        return "current run: none yet (suggestions come from the zero-shot signals and the fast model)"
    value, ci, n = run.get("value"), run.get("ci") or {}, run.get("n_gold")
    where = "cross-fitted" if run.get("final_fit") else "gold"  # a final fit trained on gold: K folds over it
    gold = (f"{where} {run.get('metric', 'accuracy')} {value:.3f} (95% CI {ci.get('lo', float('nan')):.3f}.."
            f"{ci.get('hi', float('nan')):.3f}, n={n})" if isinstance(value, (int, float)) and value == value and n
            else "no gold labels to score it yet")
    line = f"current run: {run['run_id']} ({run['backend']}, {run.get('n_train')} training labels), {gold}"
    if run.get("mismatch"):  # the labels (or the task's kind) changed since it trained: bootstrap leaves it out
        line += f"; {run['mismatch']}: left out of the suggestions until the next run"
    return line
