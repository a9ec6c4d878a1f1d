"""One loop, larger case, in process: the product's own steps (``scoring.bootstrap`` -> ``loop.plan_push`` ->
answers written as ``pull`` writes them: bench/common.py's oracle loop, which bench_gold.py runs) and ``labeler simulate`` choose the same records and train on the same
labels, round after round, on the whole demo corpus. (The same through the real server, on a small case:
tests/test_simulate.py::test_labeler_round_and_simulate_choose_the_same_records.)"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from labeler import simulate as sim
from labeler.config import load_config
from labeler.loop.engine import Policy
from labeler.project import Project
from labeler.loop.scoring import training_rows

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from common import oracle_rounds  # noqa: E402


@pytest.mark.slow
def test_product_steps_and_simulate_agree_on_the_demo_corpus(tmp_path):
    cfg = load_config(REPO / "configs" / "demo.yaml", [f"project.dir={tmp_path / 'demo'}"])
    data = sim.config_data(cfg, eval_fraction=0.2)
    feats = sim.compute_features(data, progress=False)
    policy = dataclasses.replace(Policy.from_config(data.config), batch_size=30)
    rounds = 5
    curve = sim.run_curve(data, feats, policy, rounds, seed=policy.seed)

    config = data.config.model_copy(deep=True)
    config.project.dir = tmp_path / "product"
    config.queue.batch_size = policy.batch_size
    project = Project(config).ensure()
    (project.dir / "cache").symlink_to(Project(data.config).cache, target_is_directory=True)
    truth = dict(zip(data.ids, (data.labels[k] for k in data.y)))
    texts = dict(zip(data.ids, data.texts))
    for r, step in enumerate(oracle_rounds(config, project, truth, texts, rounds)):
        assert not step.pending and len(step.chosen) == 30
        assert sorted(step.chosen) == sorted(curve.selected[r]), f"round {r}"
        rows, _, _ = training_rows(config, step.scores.ids, project.load_labels())
        assert [step.scores.ids[i] for i in rows] == curve.trained[r], f"round {r}"
        assert step.scores.Q is not None and np.isfinite(step.scores.Q).all()
    assert step.round == rounds and len(step.answered) == 150
    assert curve.points[-1]["n_labels"] == 150 and curve.points[-1]["n_train"] == 120
