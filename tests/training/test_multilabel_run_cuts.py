"""Multi-label runs carry per-label cuts (``Run.cuts``), fitted where nothing trained on them: a run's on its
calibration split (as ``compare`` fits them), a final fit's on out-of-fold predictions of every label (the queue
model's rule), its estimate cutting each fold where the other folds say. ``labeler predict`` cuts there, and "None
of these" is a prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.evaluate import evaluate
from training.train import cross_fitted_cuts, fitted_cuts, train

LABELS = ["billing", "shipping", "refund"]


def test_each_fold_is_cut_where_the_other_folds_say():
    # label 0 separates at any cut in (0.6, 0.8]; label 1 at any cut in (0.1, 0.9]
    n = 120
    fold = np.arange(n) % 3
    Y = np.zeros((n, 2), dtype=np.int64)
    Y[: n // 2, 0] = 1
    Y[:3, 1] = 1
    P = np.where(Y == 1, 0.8, 0.6)
    P[:, 1] = np.where(Y[:, 1] == 1, 0.9, 0.1)
    P[100, 0] = 0.62  # a negative between the clusters, which a 0.5 cut would take
    sets, cuts = cross_fitted_cuts(P, Y, fold, threshold=0.5)
    for f in range(3):
        other = fold != f
        c = fitted_cuts(P[other], Y[other], 0.5).values
        np.testing.assert_array_equal(sets[fold == f], (P[fold == f] >= np.asarray(c)).astype(np.int64))
    assert sets[100, 0] == 0 and (sets == Y).all()
    assert cuts.fitted and 0.62 < cuts.values[0] <= 0.8 and 0.1 < cuts.values[1] <= 0.9
    assert cuts.note == "fitted on the cross-fitted predictions of 120 labels (63 positive)"
    few = fitted_cuts(P[:15], Y[:15], threshold=0.4)
    assert not few.fitted and few.values == [0.4, 0.4]
    assert few.note == "the scalar task.threshold 0.4 for every label: 15 labels, fewer than the 20 a fit needs"


def _project(n=180, seed=0, rate=0.35, signal=1.5, noise=1.2, text=lambda i, labels: f"ticket {i}"):
    """Records whose vectors say their labels (a feature per label, +-``signal``, noisy), as multi-label answers;
    splits given: n/3 gold, n/3 calibration, n/3 training. ``text(i, labels)``: record i's text."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, 3)) < rate).astype(np.int64)
    X = np.where(Y == 1, signal, -signal) + rng.normal(0, noise, size=(n, 3))
    X = np.hstack([X, rng.normal(size=(n, 5))])
    texts = [text(i, [LABELS[j] for j in np.flatnonzero(y)]) for i, y in enumerate(Y)]
    df = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts,
                       "labels": [[LABELS[j] for j in np.flatnonzero(y)] for y in Y], "status": "submitted",
                       "annotator": "ann", "submitted_at": pd.Timestamp("2026-01-01"), "round": 1})
    df["label"] = [ls[0] if ls else None for ls in df["labels"]]
    vectors = dict(zip(texts, X))
    splits = {f"r{i}": ("gold" if i % 3 == 0 else "calib" if i % 3 == 1 else "train") for i in range(n)}
    return df, Y, splits, lambda batch: np.stack([vectors[t] for t in batch])


def test_a_multi_label_run_keeps_cuts_fitted_on_its_calibration_labels(tmp_path):
    df, Y, splits, embed = _project()
    run = train(df, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path, splits=splits, embed=embed,
                force=True, threshold=0.5, n_resamples=20)
    cuts = run.info["cuts"]
    calib = [i for i in range(len(df)) if i % 3 == 1]
    assert cuts["fitted"] and cuts["n_calib"] == 60 and cuts["n_positives"] == int(Y[calib].sum())
    assert cuts["note"] == f"fitted on 60 calibration records ({int(Y[calib].sum())} positive labels)"
    np.testing.assert_array_equal(run.cuts, cuts["values"])
    train_rows = [i for i in range(len(df)) if i % 3 == 2]  # what drift's fallback reference counts
    assert run.info["train_none"] == int((Y[train_rows].sum(axis=1) == 0).sum()) > 0
    gold = [i for i in range(len(df)) if i % 3 == 0]
    P_gold = run.predict_proba_from_embeddings(embed([df["text"][i] for i in gold]))
    assert run.metrics["gold"]["micro_f1"] == evaluate(P_gold, Y[gold], LABELS, True, run.cuts)["micro_f1"]
    from labeler.loop.run_lines import describe_run

    lo, hi = min(cuts["values"]), max(cuts["values"])
    assert describe_run(run)[-1] == (f"  per-label cuts ({lo:.2f}..{hi:.2f}): {cuts['note']}; its metrics and "
                                     "`labeler predict` cut there")


def test_a_final_fit_keeps_cuts_fitted_on_its_cross_fitted_reserve(tmp_path):
    df, Y, splits, embed = _project()
    told = []  # the model on every label, then one fit per fold, each reported as it ends
    run = train(df, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path, splits=splits, embed=embed,
                force=True, threshold=0.5, n_resamples=20, final_fit=3, make_current=False,
                progress=lambda i, n, seconds: told.append((i, n, seconds >= 0)))
    assert told == [(1, 4, True), (2, 4, True), (3, 4, True), (4, 4, True)]
    assert run.info["cuts"]["fitted"] and run.info["cuts"]["n_calib"] == 180
    assert run.info["cuts"]["note"] == f"fitted on the cross-fitted predictions of 180 labels ({int(Y.sum())} positive)"
    assert run.metrics["estimate"] == ("cross-fitted: 3 folds over all 180 labels, its 120 random reserve labels each "
                                       "scored by a model trained on the other folds and cut at per-label cuts fitted "
                                       "on them")
    assert run.info["n_gold"] == 120 and run.info["train_none"] == int((Y.sum(axis=1) == 0).sum())
    assert 0.0 < run.metrics["gold"]["micro_f1"] <= 1.0 and run.cuts.shape == (3,)


class _Run:
    """A registered run as ``predict_file`` reads it: labels in its own order, probabilities, saved cuts."""

    run_id, multi_label = "20260101-000000-logreg", True

    def __init__(self, P, cuts, at_least_one=False):
        self.at_least_one = at_least_one
        self.labels = ["refund", "billing", "shipping"]  # not the config's order
        self._P, self.cuts = np.asarray(P, dtype=float), None if cuts is None else np.asarray(cuts, dtype=float)
        self.info = {} if cuts is None else {"cuts": {"note": "fitted on 60 calibration records (40 positive labels)"}}

    def predict_proba(self, texts):
        return self._P[: len(texts)]


def test_a_taxonomy_without_none_of_these_predicts_at_least_one_label(tmp_path):
    """Where no training label set is empty (GoEmotions' "neutral" is a label), a row with nothing over its cut
    keeps its most probable label, in the run's metrics and in predict; one empty set keeps "None of these"."""
    from training.evaluate import predict

    from training.train import never_none

    assert never_none(np.array([[1, 0], [0, 1], [1, 1]])) and not never_none(np.array([[1, 0], [0, 0]]))
    assert not never_none(np.zeros((0, 2)))
    P = np.array([[0.1, 0.3], [0.9, 0.2]])
    assert predict(P, True, 0.5).tolist() == [[0, 0], [1, 0]]
    assert predict(P, True, 0.5, at_least_one=True).tolist() == [[0, 1], [1, 0]]
    df, Y, splits, embed = _project()
    every = df.assign(labels=[ls or ["refund"] for ls in df["labels"]])
    run = train(every, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path, splits=splits, embed=embed,
                force=True, threshold=0.5, n_resamples=20, final_fit=3, make_current=False)
    assert run.info["cuts"]["at_least_one"] and run.at_least_one
    mixed = train(df, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path, splits=splits, embed=embed,
                  force=True, threshold=0.5, n_resamples=20)
    assert not mixed.at_least_one


@pytest.mark.parametrize("saved", [True, False])
def test_predict_cuts_a_multi_label_run_at_its_own_cuts_and_may_predict_none(tmp_path, monkeypatch, saved):
    import yaml

    from labeler.config import load_config
    from labeler.evaluation import predict

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"path": str(tmp_path / "d.csv"), "id_field": "id"},
                                   "task": {"labels": LABELS, "multi_label": True, "threshold": 0.5},
                                   "signals": [{"type": "keywords", "params": {"keywords": {"billing": ["invoice"]}}}],
                                   "project": {"dir": str(tmp_path / "state")}}))
    (tmp_path / "new.csv").write_text("id,text\na,one\nb,two\nc,three\n")
    # run order refund, billing, shipping; cuts there 0.3, 0.7, 0.5
    P = [[0.35, 0.6, 0.1], [0.1, 0.8, 0.55], [0.2, 0.45, 0.4]]
    monkeypatch.setattr(predict, "load_run", lambda config, run_id: _Run(P, [0.3, 0.7, 0.5] if saved else None))
    res = predict.predict_file(load_config(cfg), tmp_path / "new.csv")
    got = [list(v) for v in pd.read_parquet(res.path)["label"]]
    if saved:
        assert got == [["refund"], ["billing", "shipping"], []]  # billing 0.6 is under its 0.7: not taken
        # score: how sure the set is, the lowest probability in it; "None of these" 1 minus the highest (0.45 was
        # the max alone, read as a shaky guess)
        assert pd.read_parquet(res.path)["score"].tolist() == pytest.approx([0.35, 0.55, 0.55])
        monkeypatch.setattr(predict, "load_run", lambda config, run_id: _Run(P, [0.3, 0.7, 0.5], at_least_one=True))
        one = predict.predict_file(load_config(cfg), tmp_path / "new.csv")
        assert [list(v) for v in pd.read_parquet(one.path)["label"]] == [["refund"], ["billing", "shipping"], ["billing"]]
        assert pd.read_parquet(one.path)["score"].tolist() == pytest.approx([0.35, 0.55, 0.45])
        # a list, not "billing,shipping": a label name may hold a comma; JSON text in a CSV cell
        predict.predict_file(load_config(cfg), tmp_path / "new.csv", out=tmp_path / "out.csv")
        assert pd.read_csv(tmp_path / "out.csv")["label"].tolist() == ['["refund"]', '["billing", "shipping"]',
                                                                       '["billing"]']
        assert one.n_none == 0 and one.summary().splitlines()[0].endswith(
            "at least one label per text: no training text was None of these)")
        assert res.label_counts == {"billing": 1, "shipping": 1, "refund": 1} and res.n_none == 1
        assert "; none of these 1 (cut per label, fitted on 60 calibration records (40 positive labels))" in res.summary()
    else:
        assert got == [["billing"], ["billing", "shipping"], []]
        assert res.summary().splitlines()[0].endswith(
            "none of these 1 (cut at task.threshold 0.5 for every label: run 20260101-000000-logreg was saved "
            "without per-label cuts)")


def test_paired_bootstrap_cuts_each_system_by_its_own_at_least_one_rule():
    from training.evaluate import paired_bootstrap

    Y = np.array([[1, 0], [0, 1]] * 10)
    A = np.where(Y == 1, 0.4, 0.1)  # nothing over 0.5: empty sets, unless A keeps its most probable label
    B = Y.astype(float)
    kept = paired_bootstrap(A, B, Y, "micro_f1", multi_label=True, threshold=0.5, at_least_one=(True, False),
                            n_resamples=50)
    empty = paired_bootstrap(A, B, Y, "micro_f1", multi_label=True, threshold=0.5, n_resamples=50)
    assert kept["diff"] == 0.0 and empty["diff"] == -1.0
