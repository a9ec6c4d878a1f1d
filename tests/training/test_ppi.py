"""training.ppi: the prediction-powered accuracy gain, its fall-backs, and its interval over many draws."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluate import paired_bootstrap, paired_score_ci
from training.ppi import MIN_GOLD, expected_gain, ppi_gain


def test_expected_gain_is_a_beliefs_difference_where_the_argmaxes_differ():
    PA = np.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.1, 0.3, 0.6]])
    PB = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    # row 0: both say 0 -> 0; row 1: A says 0 (0.5), B says 1 (A gives it 0.4); row 2: A 2 (0.6), B 0 (A: 0.1)
    assert expected_gain(PA, PB) == pytest.approx([0.0, 0.1, 0.5])


def test_ppi_gain_by_hand():
    d = np.array([1, 0, -1, 1, 0, 1] * 20, dtype=float)  # 120 gold rows
    f = np.array([0.6, 0.0, 0.2, 0.5, 0.0, 0.4] * 20)
    f_u = np.array([0.5, 0.0, 0.3, 0.0] * 50)  # 200 unlabeled rows
    n, N = len(d), len(f_u)
    lam = np.cov(d, f)[0, 1] / ((1 + n / N) * f.var(ddof=1))
    assert lam == pytest.approx(1.3959, abs=1e-4)
    lam = 1.0  # clipped: plain PPI
    gain = lam * f_u.mean() + (d - lam * f).mean()
    se = np.sqrt(lam**2 * f_u.var(ddof=1) / N + (d - lam * f).var(ddof=1) / n)
    out = ppi_gain(d, f, f_u)
    assert out["lam"] == pytest.approx(lam) and out["n_unlabeled"] == 200
    assert (out["diff"], out["lo"], out["hi"]) == pytest.approx((gain, gain - 1.959964 * se, gain + 1.959964 * se))
    assert out["diff"] == pytest.approx(0.25)  # plain mean of d: 1/3; f: 0.2833 on gold, 0.2 unlabeled


def test_ppi_gain_keeps_the_plain_estimate_where_it_cannot_help():
    d = np.array([1.0, 0.0] * 60)  # 120 gold rows
    f = np.array([0.5, 0.0] * 60)
    u = np.full(200, 0.2)
    assert ppi_gain(d, f, u) is not None
    assert ppi_gain(d[: MIN_GOLD - 1], f[: MIN_GOLD - 1], u) is None  # too few gold rows for a normal interval
    assert ppi_gain(d, f, u[:119]) is None  # fewer unlabeled rows than gold
    assert ppi_gain(d, np.zeros(120), u) is None  # the models agree everywhere: f says nothing
    assert ppi_gain(d, np.full(120, 0.3), u) is None  # one confidence everywhere: f says nothing
    assert ppi_gain(d, 0.5 - f, np.full(200, 0.3)) is None  # f anti-tracks d: lam clipped to 0
    strong = ppi_gain(d, f / 4, np.full(200, 0.05))  # f under-states d 4x: lam clipped to 1 (plain PPI)
    assert strong["lam"] == 1.0 and strong["diff"] == pytest.approx(0.05 + (0.5 - 0.0625))


def _population(rng, n_pop: int = 20_000, k: int = 5):
    """A population where A is right 80% of the time and B 65%, each model's probabilities loosely tracking it."""
    y = rng.integers(0, k, n_pop)
    def model(p_right):
        right = rng.random(n_pop) < p_right
        pred = np.where(right, y, (y + rng.integers(1, k, n_pop)) % k)
        P = rng.dirichlet(np.ones(k), n_pop) * 0.5
        P[np.arange(n_pop), pred] += 0.5
        P[np.arange(n_pop), y] += 0.25 * rng.random(n_pop)  # a hint of the truth: beliefs correlate with it
        return P / P.sum(1, keepdims=True)
    return y, model(0.8), model(0.65)


def test_paired_bootstrap_uses_ppi_only_for_single_label_accuracy_with_unlabeled_rows():
    rng = np.random.default_rng(0)
    y, PA, PB = _population(rng, 2_000)
    L, U = np.arange(150), np.arange(150, 1_150)
    plain = paired_bootstrap(PA[L], PB[L], y[L], "accuracy", n_resamples=200)
    powered = paired_bootstrap(PA[L], PB[L], y[L], "accuracy", n_resamples=200, unlabeled=(PA[U], PB[U]))
    assert plain["method"] == "Newcombe paired score interval"
    assert (plain["lo"], plain["hi"]) == pytest.approx(paired_score_ci(PA[L].argmax(1) == y[L], PB[L].argmax(1) == y[L]))
    assert powered["method"] == "prediction-powered" and powered["n"] == 150 and powered["n_unlabeled"] == 1_000
    d = (PA[L].argmax(1) == y[L]).astype(float) - (PB[L].argmax(1) == y[L])
    assert powered == pytest.approx(plain | ppi_gain(d, expected_gain(PA[L], PB[L]), expected_gain(PA[U], PB[U]))
                                    | {"method": "prediction-powered"})
    assert powered["hi"] - powered["lo"] < plain["hi"] - plain["lo"]
    f1 = paired_bootstrap(PA[L], PB[L], y[L], "macro_f1", n_resamples=200, unlabeled=(PA[U], PB[U]))
    assert f1["method"] == "paired bootstrap"  # not a proportion: the plain bootstrap


def test_ppi_interval_holds_over_many_draws_and_is_narrower():
    """400 gold draws of 150 rows from one population, 1,000 unlabeled each: the prediction-powered 95% interval
    holds the population's gain about as often as the plain one, narrower, and the estimate is unbiased."""
    rng = np.random.default_rng(1)
    y, PA, PB = _population(rng)
    truth = float((PA.argmax(1) == y).mean() - (PB.argmax(1) == y).mean())
    hit = {"plain": 0, "ppi": 0}
    width = {"plain": [], "ppi": []}
    est = []
    for _ in range(400):
        rows = rng.choice(len(y), 1_150, replace=False)
        L, U = rows[:150], rows[150:]
        for name, kw in (("plain", {}), ("ppi", {"unlabeled": (PA[U], PB[U])})):
            r = paired_bootstrap(PA[L], PB[L], y[L], "accuracy", n_resamples=10, **kw)
            hit[name] += r["lo"] <= truth <= r["hi"]
            width[name].append(r["hi"] - r["lo"])
            if name == "ppi":
                est.append(r["diff"])
    assert hit == {"plain": 379, "ppi": 379}  # 94.8% of 400, both
    assert np.mean(width["ppi"]) / np.mean(width["plain"]) == pytest.approx(0.901, abs=0.001)
    assert abs(np.mean(est) - truth) < 2 * np.std(est) / np.sqrt(len(est))
