"""Every bootstrap resample at once (``training.resample``) gives, to the bit, what scoring each resample's rows in
turn gives: the resamples ``default_rng(seed).integers(0, n, size=(B, n))`` draws, each scored by ``score``."""

import numpy as np
import pytest

import training.resample as resample
from training.evaluate import bootstrap_ci, paired_bootstrap, score


def one_by_one(metric, y, pred, k, n_resamples, seed):
    idx = np.random.default_rng(seed).integers(0, len(y), size=(n_resamples, len(y)))
    return np.array([score(metric, y[i], pred[i], k) for i in idx])


def cases():
    rng = np.random.default_rng(7)
    for n, k in ((1, 2), (5, 3), (40, 9), (130, 150)):
        y = rng.integers(0, k, n)
        yield y, np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n)), k
        Y = (rng.random((n, k)) < 0.2).astype(np.int64)
        yield Y, np.where(rng.random((n, k)) < 0.8, Y, 1 - Y), k


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1", "micro_f1"])
def test_every_resample_equals_scoring_it_alone_bit_for_bit(metric, monkeypatch):
    monkeypatch.setattr(resample, "BLOCK", 97)  # many blocks: the draws must continue across them
    for y, pred, k in cases():
        got = resample.bootstrap_values(metric, y, [pred], k, 300, seed=3)[0]
        assert got.shape == (300,)
        assert np.array_equal(got, one_by_one(metric, y, pred, k, 300, 3))


def test_a_paired_resample_is_the_same_rows_for_both_systems():
    y = np.array([0, 1, 2, 2, 1, 0, 0, 2])
    a, b = np.array([0, 1, 2, 2, 1, 0, 1, 2]), np.array([0, 0, 2, 1, 1, 0, 0, 0])
    va, vb = resample.bootstrap_values("accuracy", y, [a, b], 3, 50, seed=0)
    idx = np.random.default_rng(0).integers(0, 8, size=(50, 8))
    assert np.array_equal(va - vb, [(a[i] == y[i]).mean() - (b[i] == y[i]).mean() for i in idx])


def test_the_mean_of_present_classes_is_summed_as_numpy_sums_a_vector():
    rng = np.random.default_rng(1)
    f = rng.random((40, 300)) * 1e3
    present = rng.random((40, 300)) < 0.7
    present[3] = False  # none present: 0.0
    want = np.array([row[m].mean() if m.any() else 0.0 for row, m in zip(f, present)])
    assert np.array_equal(resample._row_means(f, present), want)
    assert resample._row_means(f, present)[3] == 0.0


def test_intervals_by_hand():
    # 4 of 5 right: accuracy's Wilson interval is untouched; macro-F1's percentile bootstrap reads the resamples
    y, P = np.array([0, 1, 1, 0, 1]), np.eye(2)[[0, 1, 0, 0, 1]]
    acc = bootstrap_ci(P, y, "accuracy")
    assert (acc["value"], round(acc["lo"], 4), round(acc["hi"], 4), acc["n"]) == (0.8, 0.3755, 0.9638, 5)
    f1 = bootstrap_ci(P, y, "macro_f1", n_resamples=200, seed=0)
    stats = one_by_one("macro_f1", y, P.argmax(1), 2, 200, 0)
    assert (f1["lo"], f1["hi"]) == tuple(float(v) for v in np.percentile(stats, [2.5, 97.5]))
    d = paired_bootstrap(P, np.eye(2)[[1, 1, 1, 0, 1]], y, "macro_f1", n_resamples=200, seed=0)
    other = one_by_one("macro_f1", y, np.array([1, 1, 1, 0, 1]), 2, 200, 0)
    assert d["p_value"] == float((stats - other <= 0).mean())
