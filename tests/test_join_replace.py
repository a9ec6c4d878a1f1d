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
