"""A single-label accuracy verdict reads the unanswered random reserve too (``training.ppi``): compare scores every
system on up to ``PPI_UNLABELED`` reserve records nobody answered and reports the prediction-powered gain."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.config import load_config
from labeler.data.load import load_pool
from labeler.evaluation import compare_on_gold
from labeler.evaluation.compare_on_gold import compare_project, unanswered_reserve
from labeler.loop.policy import project_reserve
from labeler.project import Project

from .test_compare_many_classes import make_project, write_labels
from .test_verdict_calibration import _Registry


class _Run:
    """Right on 95% of the texts (a fixed draw), 0.7 on its label and 0.3 on the other."""

    labels = ["intent_000", "intent_001"]
    multi_label, frozen_body, data_fingerprint = False, None, "fixed"  # scored through the prediction cache

    def __init__(self, by_text: dict):
        rng = np.random.default_rng(5)
        self.run_id, self.backend, self.info = "run-x", "logreg", {"n_calib": 30, "calibrated": True}
        self.pred = {t: (y if rng.random() < 0.95 else 1 - y) for t, y in sorted(by_text.items())}

    def predict_proba(self, texts):
        return np.array([[0.7, 0.3] if self.pred[t] == 0 else [0.3, 0.7] for t in texts])


@pytest.fixture
def project(tmp_path):
    """Two labels, 1,200 rows (fewer records: some share a text), 30% in the reserve; the first 120 of it in draw order answered."""
    cfg, _, truth, texts = make_project(tmp_path, 2, 600, exact_right=0.7, noisy_right=0.6)
    config = load_config(cfg, ["queue.gold_share=0.3", "training.calib_share=0.3333", "training.min_gold=50"])
    ids = load_pool(config).ids  # records sharing a text are one record
    drawn = [ids[r] for r in project_reserve(config).draw(ids)[1]]
    write_labels(cfg, drawn[:120], truth, texts)
    return config, drawn, {texts[i]: int(truth[i][-3:]) for i in truth}


def test_compare_reads_the_unanswered_reserve(project, monkeypatch):
    config, drawn, by_text = project
    unl = unanswered_reserve(config, project_reserve(config))
    assert unl.ids == drawn[120:] and len(unl.ids) == len(drawn) - 120  # the reserve past the answered prefix
    monkeypatch.setattr(compare_on_gold, "registry", lambda config: _Registry(_Run(by_text)))
    res = compare_project(config, write=False, n_resamples=200).result
    d = res.diffs["exact"]
    assert d["method"] == "prediction-powered" and (d["n"], d["n_unlabeled"]) == (120, 211)
    assert (d["diff"], d["lo"], d["hi"], d["lam"]) == pytest.approx((0.0642, -0.0145, 0.1429, 0.3984), abs=1e-4)
    plain = 0.85 - 0.8  # the run's and exact's accuracies on those 120: 102 and 96 right
    assert (res.systems["run-x"].metrics["accuracy"], res.systems["exact"].metrics["accuracy"]) == \
        pytest.approx((102 / 120, 96 / 120))
    assert d["diff"] == pytest.approx(plain + 0.0142, abs=1e-4)  # the unanswered records expect a bit more
    assert "prediction-powered where both systems scored 211 random records nobody answered" in res.rule
    assert res.verdicts["exact"].startswith("fine-tuned run-x does not beat rules exact: +0.064 accuracy (95% CI "
                                            "-0.014..+0.143, CI includes 0)")


def test_a_run_is_scored_once_through_the_prediction_cache(project, monkeypatch):
    """compare reads a run's rows where bootstrap (or an earlier compare) cached them: a SetFit run re-encoded
    every reserve text at each compare."""
    config, _, by_text = project
    run, asked = _Run(by_text), []
    predict = run.predict_proba
    run.predict_proba = lambda texts: asked.append(len(texts)) or predict(texts)
    monkeypatch.setattr(compare_on_gold, "registry", lambda config: _Registry(run))
    first = compare_project(config, write=False, n_resamples=200).result
    again = compare_project(config, write=False, n_resamples=200).result
    assert asked == [256, 120 + 211 - 256]  # the answered reserve and the unanswered records, once (chunks of 256)
    assert again.systems["run-x"].metrics == first.systems["run-x"].metrics


def test_an_f1_verdict_keeps_the_plain_interval(project, monkeypatch):
    config, _, by_text = project
    monkeypatch.setattr(compare_on_gold, "registry", lambda config: _Registry(_Run(by_text)))
    monkeypatch.setattr(config.training, "verdict_metric", "macro_f1")
    res = compare_project(config, write=False, n_resamples=200).result
    assert res.diffs["exact"]["method"] == "paired bootstrap" and "prediction-powered" not in res.rule


def test_unanswered_reads_ids_a_labels_table_or_nothing(project):
    config, drawn, _ = project
    reserve = project_reserve(config)
    ids = load_pool(config).ids
    labels = Project(config).load_labels()
    assert [ids[r] for r in reserve.unanswered(ids, None, limit=5)] == drawn[:5]  # no labels yet: the reserve's head
    assert [ids[r] for r in reserve.unanswered(ids, labels, limit=5)] == drawn[120:125]
    assert [ids[r] for r in reserve.unanswered(ids, drawn[:3], limit=2)] == drawn[3:5]
