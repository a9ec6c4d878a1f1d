"""``training.mode: replace`` on a multi-label project: the run replaces the zero-shot ensemble by the verdict's
metric (micro-F1), each system cut where the calibration labels say, as ``compare`` judges them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from labeler.config import validate_config
from labeler.evaluation.gold import CALIB, GOLD
from labeler.loop.join import join_plan, replace_cuts, zero_shot_ensemble
from labeler.loop.policy import project_reserve
from training.compare import label_cuts
from training.evaluate import paired_bootstrap

LABELS = ["billing", "shipping"]


def test_replace_judges_a_multi_label_run_by_micro_f1_at_calibrated_cuts(tmp_path):
    config = validate_config({
        "data": {"path": "d.jsonl"}, "task": {"labels": LABELS, "multi_label": True},
        "signals": [{"type": "keywords", "name": "kw", "params": {"keywords": {"billing": ["invoice"]}}}],
        "queue": {"gold_share": 0.5}, "training": {"mode": "replace", "min_gold": 20},
        "project": {"dir": str(tmp_path / "state")}}, tmp_path / "c.yaml")
    rng = np.random.default_rng(0)
    ids = [f"r{i:03d}" for i in range(400)]
    Y = (rng.random((400, 2)) < 0.3).astype(int)
    run = np.clip(0.15 + 0.5 * Y + rng.normal(0, 0.1, Y.shape), 0.01, 0.99)  # right where cut near 0.4
    zero = np.clip(0.55 + 0.1 * Y + rng.normal(0, 0.15, Y.shape), 0.01, 0.99)  # over 0.5 on most texts
    reserve = project_reserve(config)
    splits = reserve.splits(ids)
    answered = [i for i, rid in enumerate(ids) if splits[rid] in (GOLD, CALIB)]
    labels_df = pd.DataFrame({"id": [ids[i] for i in answered], "label": None,
                              "labels": [[LABELS[k] for k in np.flatnonzero(Y[i])] for i in answered],
                              "status": "submitted"})
    plan = join_plan(config, {"kw": zero, "run-1": run}, "run-1", ids, reserve, labels_df)
    gold = [i for i in answered if splits[ids[i]] == GOLD]
    calib = [i for i in answered if splits[ids[i]] == CALIB]
    cut_run = np.asarray(label_cuts(run[calib], Y[calib], 2, 0.5).values)
    cut_zero = np.asarray(label_cuts(zero[calib], Y[calib], 2, 0.5).values)
    assert [c.tolist() for c in replace_cuts(config, run, {"kw": zero}, ids, reserve, labels_df)] == \
        [cut_run.tolist(), cut_zero.tolist()]
    d = paired_bootstrap(run[gold], zero_shot_ensemble(config, {"kw": zero[gold]}), Y[gold], "micro_f1",
                         multi_label=True, threshold=cut_run, threshold_b=cut_zero)
    assert d["lo"] > 0 and plan.mode == "replace" and plan.weights == {"kw": 0.0, "run-1": 1.0}
    assert plan.note == (f"replace: run run-1 beats the zero-shot ensemble ({d['diff']:+.3f} micro-F1, 95% CI "
                         f"{d['lo']:+.3f}..{d['hi']:+.3f}, on {len(gold)} random gold labels)")
    # a final fit trained on that gold: it can neither fit the run's weight nor judge it
    final = join_plan(config, {"kw": zero, "run-1": run}, "run-1", ids, reserve, labels_df, final_fit=True)
    assert (final.mode, final.weights) == ("join", {"kw": 1.0, "run-1": 1.0})
    assert final.note == ("join with configured weights, run-1 weight 1: a final fit trained on the gold labels, so "
                          "they cannot fit its weight")


def test_compare_scores_the_suggestions_with_join_weights_cross_fitted_on_gold(tmp_path):
    # what annotators are shown once the run joins: weights fitted on gold would score themselves, so a gold row's
    # joined probabilities never depend on its own label; the rows past gold use weights fitted on all of it
    from labeler.loop.ensemble import fit_weights, weighted_mean
    from labeler.loop.join import joined_on_gold

    config = validate_config({
        "data": {"path": "d.jsonl"}, "task": {"labels": LABELS},
        "signals": [{"type": "keywords", "name": "kw", "weight": 2.0, "params": {"keywords": {"billing": ["x"]}}}],
        "project": {"dir": str(tmp_path / "state")}}, tmp_path / "c.yaml")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)

    def right_on_70_percent():  # two signals with independent errors: the best join weighs both
        label = np.where(rng.random(40) < 0.7, y, 1 - y)
        return np.eye(2)[label] * 0.8 + 0.1

    run, zero = right_on_70_percent(), right_on_70_percent()
    probas = {"kw": zero, "run-1": run}
    P, note = joined_on_gold(config, probas, "run-1", 30, y[:30], fit=False)
    assert np.allclose(P, weighted_mean(probas, {"kw": 2.0, "run-1": 1.0}).P)
    assert note == "run-1 joined with kw at the configured weights (run 1): too few gold labels to fit them"
    P, note = joined_on_gold(config, probas, "run-1", 30, y[:30], fit=True)
    assert note == ("run-1 joined with kw; the join weights cross-fitted: each of 5 gold folds is scored with "
                    "weights fitted on the others")
    full = fit_weights({k: v[:30] for k, v in probas.items()}, y[:30])
    assert 0 < full["run-1"] < 1 and np.allclose(P[30:], weighted_mean({k: v[30:] for k, v in probas.items()}, full).P)
    flipped = y[:30].copy()
    flipped[0] = 1 - flipped[0]  # one gold answer changes: its own row does not move, rows in other folds may
    P2, _ = joined_on_gold(config, probas, "run-1", 30, flipped, fit=True)
    assert np.allclose(P2[0], P[0]) and not np.allclose(P2[30:], P[30:])
    assert joined_on_gold(config, {"run-1": run}, "run-1", 30, y[:30], fit=True) is None  # nothing to join with
