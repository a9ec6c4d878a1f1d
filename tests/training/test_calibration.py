import numpy as np
import pytest

from training.calibration import Calibrator, apply_temperature, ece, fit_platt, fit_temperature, nll


def test_ece_hand_computed():
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    y = np.array([0, 1, 1, 0])
    # bins of width 0.2: {0.9: right}, {0.6: wrong}, {0.7 right, 0.8 right}
    # 1/4 |1 - 0.9| + 1/4 |0 - 0.6| + 2/4 |1 - 0.75| = 0.025 + 0.15 + 0.125
    assert ece(P, y, n_bins=5) == pytest.approx(0.3)
    # NaN rows are ignored
    assert ece(np.vstack([P, [np.nan, np.nan]]), np.append(y, 0), n_bins=5) == pytest.approx(0.3)
    # multi-label: every (record, label) probability against its outcome
    assert ece(np.array([[0.9, 0.2]]), np.array([[1, 0]]), n_bins=5) == pytest.approx(0.5 * 0.1 + 0.5 * 0.2)


def test_temperature_fixes_constructed_overconfidence():
    # always 99% sure of class 0, right 7 times in 10
    P = np.tile([0.99, 0.01], (10, 1))
    y = np.array([0] * 7 + [1] * 3)
    assert ece(P, y) == pytest.approx(0.29)
    T = fit_temperature(P, y, prior=0.0)
    # the NLL optimum makes the confidence 0.7: log(99) / T = logit(0.7) = log(7/3)
    assert T == pytest.approx(np.log(99) / np.log(7 / 3), rel=1e-4)  # 5.4232
    Q = apply_temperature(P, T)
    assert Q[0, 0] == pytest.approx(0.7, abs=1e-4)
    assert ece(Q, y) == pytest.approx(0.0, abs=1e-4)
    assert nll(Q, y) < nll(P, y)
    assert (Q.argmax(1) == P.argmax(1)).all()
    # the default MAP prior moves T only a little with 10 labels, and ECE still falls
    cal = Calibrator.fit(P, y, multi_label=False)
    assert cal.kind == "temperature" and 4.0 < cal.temperature < T
    assert ece(cal(P), y) < 0.05


def test_temperature_prior_keeps_small_perfect_sets_finite():
    P = np.array([[0.8, 0.2], [0.3, 0.7], [0.9, 0.1]])
    y = np.array([0, 1, 0])
    assert fit_temperature(P, y, prior=0.0) == pytest.approx(0.05, rel=1e-3)  # runs to the bound
    assert 0.3 < fit_temperature(P, y) < 1.0


def test_platt_per_label():
    # label 0: p = 0.9 is right 6/10, p = 0.1 is positive 4/10 -> calibrated 0.6 / 0.4
    P = np.array([[0.9, 0.5]] * 10 + [[0.1, 0.5]] * 10)
    Y = np.array([[1, 1]] * 6 + [[0, 1]] * 4 + [[1, 1]] * 4 + [[0, 1]] * 6)
    a, b = fit_platt(P, Y)
    # a * logit(0.9) + b = logit(0.6) and -a * logit(0.9) + b = logit(0.4): a = log(1.5) / log(9), b = 0
    assert a[0] == pytest.approx(np.log(1.5) / np.log(9), abs=5e-3)
    assert b[0] == pytest.approx(0.0, abs=5e-3)
    assert (a[1], b[1]) == (1.0, 0.0)  # all-positive label: identity
    cal = Calibrator.fit(P, Y, multi_label=True)
    Q = cal(P)
    assert Q[0, 0] == pytest.approx(0.6, abs=5e-3) and Q[-1, 0] == pytest.approx(0.4, abs=5e-3)
    assert ece(Q[:, :1], Y[:, :1]) < ece(P[:, :1], Y[:, :1])
    assert Calibrator.from_dict(cal.to_dict()) == cal


def test_temperature_in_place_equals_the_formula_bit_for_bit():
    """``apply_temperature`` works in one array; it equals ``softmax(log clip(P) / T)`` written out, to the bit,
    with a zero probability in the matrix, and leaves ``P`` as it was."""
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.full(7, 0.2), size=50)
    P[0, 2] = 0.0
    before = P.copy()
    for T in (0.4, 1.0, 3.1):
        Z = np.log(np.clip(P, 1e-12, 1.0)) / T
        Z = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        assert np.array_equal(apply_temperature(P, T), E / E.sum(axis=1, keepdims=True))
    assert np.array_equal(P, before)
