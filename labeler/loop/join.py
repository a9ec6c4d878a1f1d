"""How the current run joins the signals (``training.mode``), decided at every ``bootstrap`` on random gold.

- ``join``: the run is one more signal; the weights of all signals are refitted
  (``labeler.loop.ensemble.fit_weights``) on the random gold labels (which no model trains on) once there are
  ``training.min_gold`` of them; before that the configured weights are kept and the run (or the fast model) gets
  weight 1.
- ``replace``: the run becomes the only weighted signal (the others stay in the scores and in Argilla's
  metadata with weight 0) when it beats the configured zero-shot ensemble on at least ``min_gold`` gold
  labels with the paired 95% CI of the difference in the verdict's metric above zero (accuracy: prediction-powered
  with the unanswered reserve, ``training.ppi``, else Newcombe's score interval; multi-label: micro-F1, each
  system at cuts fitted on the calibration labels). Otherwise the plan falls back to ``join`` and says why — the
  same rule ``compare`` uses for its verdict.

Suggestion agent (``suggestion_agent``): a pushed suggestion's agent is the run id when the run holds at
least ``DOMINANT_SHARE`` (90%) of the weight of the signals that voted on that record; otherwise it is the
ensemble (``ensemble`` or ``ensemble-stacked``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeler.evaluation.gold import CALIB, GoldReserve, enough_gold, gold_rows
from labeler.loop.ensemble import fit_weights, weighted_mean
from training.compare import default_metric, label_cuts
from training.evaluate import metric_name, paired_bootstrap

DOMINANT_SHARE = 0.9
RUN_META_NAME = "finetuned"  # Argilla metadata property (top_finetuned) for whichever run is current


@dataclass
class JoinPlan:
    """How the current run enters the ensemble: the weights per signal, the mode used, and why."""

    run_id: str
    mode: str  # "join" | "replace"
    weights: dict[str, float]
    note: str


def zero_shot_ensemble(config, probas: dict):
    """The configured signals' weighted mean (any run in ``probas`` left out): the queue's weak-label source
    and the baseline a run must beat."""

    weights = {s.name: s.weight for s in config.signals if s.name in probas}
    own = {name: probas[name] for name in weights}
    return weighted_mean(own, weights, multi_label=config.task.multi_label, threshold=config.task.threshold).P


def join_plan(config, probas: dict, run_id: str, ids: list[str], reserve: GoldReserve, labels_df,
              final_fit: bool = False) -> JoinPlan:
    """Decide the ensemble weights once the run's matrix ``probas[run_id]`` sits beside the configured signals
    (gold: the human labels ``labels_df`` in the command's ``reserve``). ``final_fit``: the run trained on gold,
    so gold can neither fit its weight nor judge it: the configured weights, the run's 1."""

    configured = {s.name: s.weight for s in config.signals if s.name in probas}
    if final_fit:
        return JoinPlan(run_id, "join", {**configured, run_id: 1.0},
                        f"join with configured weights, {run_id} weight 1: a final fit trained on the gold labels, "
                        "so they cannot fit its weight")
    rows, y = gold_rows(config, reserve, ids, labels_df)
    n = 0 if y is None else len(rows)
    # gold alone: a run's temperature is fitted on calibration, so its weight must not be (the verdict may count both)
    ok, why = enough_gold(config, reserve, n, purpose="to fit the join weights", ids=ids)
    if not ok:
        mode_note = "replace needs a verdict on gold; " if config.training.mode == "replace" else ""
        return JoinPlan(run_id, "join", {**configured, run_id: 1.0},
                        f"join with configured weights, {run_id} weight 1: {mode_note}{why}")
    others = {k: v for k, v in probas.items() if k != run_id and k in configured}
    prefix = ""
    if config.training.mode == "replace":
        if not others:
            return JoinPlan(run_id, "replace", {run_id: 1.0}, "replace: no other signals")
        ml = config.task.multi_label
        metric = config.training.verdict_metric or default_metric(ml)  # compare's verdict metric
        base = zero_shot_ensemble(config, {k: v[rows] for k, v in others.items()})
        cut_run, cut_base = replace_cuts(config, probas[run_id], others, ids, reserve, labels_df)
        unl = None if ml else reserve.unanswered(ids, labels_df)  # prediction-powered: training.ppi
        d = paired_bootstrap(probas[run_id][rows], base, y, metric, multi_label=ml, threshold=cut_run,
                             threshold_b=cut_base, unlabeled=None if unl is None else (
                                 probas[run_id][unl], zero_shot_ensemble(config, {k: v[unl] for k, v in others.items()})))
        ci = (f"{d['diff']:+.3f} {metric_name(metric, ml)}, 95% CI {d['lo']:+.3f}..{d['hi']:+.3f}, on {d['n']} "
              "random gold labels")
        if d["lo"] > 0:
            return JoinPlan(run_id, "replace", {**{k: 0.0 for k in configured}, run_id: 1.0},
                            f"replace: run {run_id} beats the zero-shot ensemble ({ci})")
        prefix = f"replace refused, run {run_id} does not clearly beat the zero-shot ensemble ({ci}); "
    sub = {k: v[rows] for k, v in probas.items() if k == run_id or k in configured}
    weights = fit_weights(sub, y, multi_label=config.task.multi_label)
    shown = ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
    return JoinPlan(run_id, "join", weights, f"{prefix}join: weights fitted on {n} random gold labels ({shown})")


JOIN_FOLDS = 5  # compare's suggestions row: gold folds, each joined with weights fitted on the others
SUGGESTIONS = "suggestions"  # compare's name for the run joined with the signals: what annotators are shown


def joined_on_gold(config, probas: dict, run_id: str, n_gold: int, y_gold, fit: bool):
    """(matrix, note): the suggestions ``bootstrap`` makes once the run joins (``training.mode: join``), on
    ``compare``'s rows, of which the first ``n_gold`` are gold; None where no configured signal is scored.

    ``fit``: enough gold to fit the join weights (``enough_gold``). Weights fitted on gold would then score
    themselves, so each of ``JOIN_FOLDS`` gold folds is joined with weights fitted on the other folds
    (cross-fitted), and the rows past gold with weights fitted on all of it. Otherwise the weights are
    ``join_plan``'s: the configured ones, the run's 1."""
    configured = {s.name: s.weight for s in config.signals if s.name in probas}
    if not configured:
        return None
    sub = {k: np.asarray(probas[k], dtype=np.float64) for k in (*configured, run_id)}
    ml, t = config.task.multi_label, config.task.threshold
    if not fit:
        return (weighted_mean(sub, {**configured, run_id: 1.0}, multi_label=ml, threshold=t).P,
                f"{run_id} joined with {', '.join(configured)} at the configured weights (run 1): too few gold "
                "labels to fit them")
    y = np.asarray(y_gold)
    P = weighted_mean(sub, fit_weights({k: v[:n_gold] for k, v in sub.items()}, y, multi_label=ml),
                      multi_label=ml, threshold=t).P
    fold = np.random.default_rng(0).permutation(n_gold) % JOIN_FOLDS
    for f in range(min(JOIN_FOLDS, n_gold)):
        test = np.flatnonzero(fold == f)
        train = np.flatnonzero(fold != f)
        w = fit_weights({k: v[train] for k, v in sub.items()}, y[train], multi_label=ml)
        P[test] = weighted_mean({k: v[test] for k, v in sub.items()}, w, multi_label=ml, threshold=t).P
    return P, (f"{run_id} joined with {', '.join(configured)}; the join weights cross-fitted: each of {JOIN_FOLDS} "
               "gold folds is scored with weights fitted on the others")


def replace_cuts(config, P_run, others: dict, ids: list[str], reserve: GoldReserve, labels_df):
    """(the run's cuts, the zero-shot ensemble's) for ``replace``'s test: multi-label, each fitted on its matrix over
    the answered calibration records, as ``compare`` cuts every system (``training.compare.label_cuts``;
    ``task.threshold`` where they hold too few positives); single-label, ``task.threshold`` (unused)."""
    t = float(config.task.threshold)
    if not config.task.multi_label:
        return t, t
    rows, y = reserve.rows_in_split(ids, labels_df, CALIB, config.label_names, True)  # none: no rows, y None
    k = len(config.label_names)
    return tuple(np.asarray(label_cuts(P, y, k, t).values)
                 for P in (P_run[rows], zero_shot_ensemble(config, {n: v[rows] for n, v in others.items()})))


def suggestion_agent(weights: dict[str, float], voted: dict[str, bool], run_id: str | None, default: str) -> str:
    """The run id when the run holds >= ``DOMINANT_SHARE`` of the weight of the signals voting on a record."""
    if not run_id or not voted.get(run_id):
        return default
    total = sum(w for name, w in weights.items() if voted.get(name) and w > 0)
    share = weights.get(run_id, 0.0) / total if total > 0 else 0.0
    return run_id if share >= DOMINANT_SHARE else default
