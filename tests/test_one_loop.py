"""One loop, larger case, in process: the product's own steps (``scoring.bootstrap`` -> ``loop.plan_push`` ->
answers written as ``pull`` writes them) and ``labeler simulate`` choose the same records and train on the same
labels, round after round, on the whole demo corpus. (The same through the real server, on a small case:
tests/test_simulate.py::test_labeler_round_and_simulate_choose_the_same_records.)"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labeler import simulate as sim
from labeler.config import load_config
from labeler.loop.engine import Policy
from labeler.loop.round import plan_push
from labeler.project import Project
from labeler.loop.scoring import bootstrap, training_rows

REPO = Path(__file__).resolve().parents[1]


def write_labels(project: Project, answered: dict[str, str], texts: dict[str, str]) -> None:
    rows = [{"id": i, "text": texts[i], "fields": json.dumps({"text": texts[i]}), "label": lab, "labels": [],
             "status": "submitted", "annotator": "oracle", "n_annotators": 1, "agreement": None,
             "submitted_at": None, "round": 0} for i, lab in answered.items()]
    pd.DataFrame(rows).to_parquet(project.labels, index=False)


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
    answered: dict[str, str] = {}
    pool, scores = bootstrap(config, progress=False)
    for r in range(rounds):
        labels_df = project.load_labels()
        batch, pending = plan_push(config, pool, scores, set(answered), set(answered), labels_df)
        chosen = [scores.ids[i] for i in batch.indices]
        assert not pending and len(chosen) == 30
        assert sorted(chosen) == sorted(curve.selected[r]), f"round {r}"
        answered.update({i: truth[i] for i in chosen})
        write_labels(project, answered, texts)
        project.write_state({"round": r + 1, "gold_share": config.queue.gold_share})
        pool, scores = bootstrap(config, progress=False)
        rows, _, _ = training_rows(config, scores.ids, project.load_labels())
        assert [scores.ids[i] for i in rows] == curve.trained[r], f"round {r}"
        assert scores.Q is not None and np.isfinite(scores.Q).all()
    assert curve.points[-1]["n_labels"] == 150 and curve.points[-1]["n_train"] == 120
