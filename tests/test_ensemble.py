"""Ensembles on hand-written matrices: exact weighted means with abstentions, stacking, fitted weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labeler.loop.ensemble import StackedEnsemble, fit_weights, weighted_mean

NAN = math.nan
A = np.array([[0.7, 0.2, 0.1], [NAN, NAN, NAN], [0.2, 0.5, 0.3], [NAN, NAN, NAN]])
B = np.array([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6], [NAN, NAN, NAN]])


def test_weighted_mean_exact_with_abstentions():
    ens = weighted_mean({"a": A, "b": B}, {"a": 1.0, "b": 3.0})
    expected = np.array([
        [(0.7 + 3 * 0.1) / 4, (0.2 + 3 * 0.8) / 4, (0.1 + 3 * 0.1) / 4],  # both vote
        [0.3, 0.3, 0.4],                                                  # a abstains: b alone
        [(0.2 + 3 * 0.2) / 4, (0.5 + 3 * 0.2) / 4, (0.3 + 3 * 0.6) / 4],
        [1 / 3, 1 / 3, 1 / 3],                                            # nobody votes: uniform
    ])
    np.testing.assert_allclose(ens.P, expected)
    np.testing.assert_allclose(ens.P.sum(axis=1), 1.0)
    assert ens.agreement.tolist() == [0.5, 1.0, 0.5, 0.0]
    assert ens.per_signal_top["a"].tolist() == [0, -1, 1, -1]
    assert ens.per_signal_top["b"].tolist() == [1, 2, 2, -1]
    assert ens.abstained.tolist() == [False, False, False, True]
    assert ens.method == "weighted_mean" and ens.note is None


def test_default_weights_are_equal():
    ens = weighted_mean({"a": A, "b": B})
    np.testing.assert_allclose(ens.P[0], [0.4, 0.5, 0.1])
    np.testing.assert_allclose(ens.P[2], [0.2, 0.35, 0.45])


def test_zero_weight_signals_neither_vote_nor_count_for_agreement():
    ens = weighted_mean({"a": A, "b": B}, {"a": 1.0, "b": 0.0})
    np.testing.assert_allclose(ens.P[0], A[0])
    assert ens.abstained.tolist() == [False, True, False, True]  # row 1: only the weight-0 signal voted
    np.testing.assert_allclose(ens.P[1], [1 / 3] * 3)
    assert ens.agreement.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert ens.per_signal_top["b"].tolist() == [1, 2, 2, -1]  # its opinion is still reported


def test_multi_label_mean_abstain_and_jaccard_agreement():
    a = np.array([[0.9, 0.8, 0.1], [NAN, NAN, NAN], [0.2, 0.1, 0.3]])
    b = np.array([[0.7, 0.2, 0.1], [NAN, NAN, NAN], [0.1, 0.2, 0.1]])
    ens = weighted_mean({"a": a, "b": b}, multi_label=True)
    np.testing.assert_allclose(ens.P, [[0.8, 0.5, 0.1], [0.5, 0.5, 0.5], [0.15, 0.15, 0.2]])
    # row 0: ensemble set {0, 1}; a {0, 1} -> 1; b {0} -> 1/2. row 2: all empty sets -> 1
    assert ens.agreement == pytest.approx([0.75, 0.0, 1.0])
    assert ens.abstained.tolist() == [False, True, False]
    ens = weighted_mean({"a": a, "b": b}, multi_label=True, threshold=0.85)
    assert ens.agreement == pytest.approx([0.5, 0.0, 1.0])  # ensemble {} ; a {0} -> 0, b {} -> 1


def test_ties_go_to_the_lower_label_index():
    ens = weighted_mean({"a": np.array([[0.5, 0.5]]), "b": np.array([[0.5, 0.5]])})
    assert ens.per_signal_top["a"].tolist() == [0] and ens.agreement.tolist() == [1.0]


@pytest.mark.parametrize(
    "probas, weights, match",
    [
        ({}, None, "no signal"),
        ({"a": np.zeros((2, 3)), "b": np.zeros((3, 3))}, None, "shape"),
        ({"a": np.array([[0.5, NAN]])}, None, "some NaN"),
        ({"a": np.array([[0.5, 0.5]])}, {"a": -1.0}, ">= 0"),
        ({"a": np.array([[0.5, 0.5]])}, {"z": 1.0}, "unknown signals"),
    ],
)
def test_bad_inputs(probas, weights, match):
    with pytest.raises(ValueError, match=match):
        weighted_mean(probas, weights)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), n=st.integers(1, 20), k=st.integers(2, 5), s=st.integers(1, 4))
def test_weighted_mean_rows_are_distributions(data, n, k, s):
    probas, weights = {}, {}
    for i in range(s):
        raw = data.draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 1)))
        mat = raw / raw.sum(axis=1, keepdims=True)
        mat[data.draw(hnp.arrays(np.bool_, (n,)))] = NAN
        probas[f"s{i}"] = mat
        weights[f"s{i}"] = data.draw(st.floats(0, 5))
    ens = weighted_mean(probas, weights)
    np.testing.assert_allclose(ens.P.sum(axis=1), 1.0)
    assert ((ens.agreement >= 0) & (ens.agreement <= 1)).all()
    assert (ens.P.min(axis=1) >= 0).all()


# -- stacking -----------------------------------------------------------------------------------------
def synthetic(n=240, k=3, seed=0):
    """Signal ``good`` is right 80% of the time; ``noise`` is random; ``rule`` abstains on most rows."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    guess = np.where(rng.random(n) < 0.8, y, rng.integers(0, k, n))
    good = np.full((n, k), 0.2 / (k - 1))
    good[np.arange(n), guess] = 0.8
    noise = rng.dirichlet(np.ones(k), n)
    rule = np.full((n, k), NAN)
    fires = rng.random(n) < 0.2
    rule[fires] = 0.0
    rule[fires, y[fires]] = 1.0
    return {"good": good, "noise": noise, "rule": rule}, y


def test_stacking_falls_back_with_too_few_labels():
    probas, y = synthetic(n=20)
    st_ = StackedEnsemble(n_labels=3, min_labels=30).fit(probas, y)
    assert st_.fallback_reason == "20 labels < min_labels_for_stacking 30"
    out = st_.predict(probas)
    np.testing.assert_allclose(out.P, weighted_mean(probas).P)
    assert out.method == "weighted_mean" and "20 labels" in out.note


def test_stacking_falls_back_when_a_class_is_rare():
    probas, y = synthetic(n=60)
    y = np.where(y == 2, 0, y)
    y[0] = 2
    st_ = StackedEnsemble(n_labels=3, min_labels=30).fit(probas, y)
    assert st_.fallback_reason == "classes [2] have fewer than 2 labels"


def test_stacking_beats_the_plain_mean_and_learns_to_trust_the_good_signal():
    probas, y = synthetic(n=300)
    train, test = slice(0, 200), slice(200, 300)
    part = lambda sl: {k: v[sl] for k, v in probas.items()}  # noqa: E731
    model = StackedEnsemble(n_labels=3, min_labels=30, cv_folds=5).fit(part(train), y[train])
    assert model.fallback_reason is None
    out = model.predict(part(test))
    assert out.method == "stacked" and out.P.shape == (100, 3)
    np.testing.assert_allclose(out.P.sum(axis=1), 1.0)
    stacked_acc = (out.P.argmax(1) == y[test]).mean()
    mean_acc = (weighted_mean(part(test)).P.argmax(1) == y[test]).mean()
    assert stacked_acc >= mean_acc and stacked_acc >= 0.8
    np.testing.assert_allclose(model.predict_proba(part(test)), out.P)


def test_stacking_multi_label_falls_back_per_label():
    rng = np.random.default_rng(0)
    n = 80
    y = np.zeros((n, 2), dtype=int)
    y[:, 0] = rng.random(n) < 0.5
    y[0, 1] = 1  # label 1 has a single positive
    a = np.clip(y + rng.normal(0, 0.2, (n, 2)), 0.01, 0.99)
    b = rng.random((n, 2))
    model = StackedEnsemble(n_labels=2, multi_label=True, min_labels=30).fit({"a": a, "b": b}, y)
    assert model.fallback_reason == "label 1 has 1 positives and 79 negatives (need >= 2 each)"
    out = model.predict({"a": a, "b": b})
    assert out.method == "stacked"
    np.testing.assert_allclose(out.P[:, 1], weighted_mean({"a": a, "b": b}, multi_label=True).P[:, 1])
    assert ((out.P[:, 0] >= 0.5) == y[:, 0]).mean() > 0.9


def test_stacking_checks_its_inputs():
    probas, y = synthetic(n=40)
    with pytest.raises(ValueError, match="y must have shape"):
        StackedEnsemble(n_labels=3).fit(probas, y[:-1])
    with pytest.raises(ValueError, match="outside 0..2"):
        StackedEnsemble(n_labels=3).fit(probas, y + 1)
    multi = StackedEnsemble(n_labels=3, multi_label=True).fit(probas, np.eye(3, dtype=int)[y])
    assert multi.fallback_reason is None and multi.predict(probas).method == "stacked"
    inferred = StackedEnsemble(min_labels=100, weights={"good": 2.0}).fit(probas, y)
    assert inferred.n_labels == 3
    np.testing.assert_allclose(inferred.predict_proba(probas), weighted_mean(probas, {"good": 2.0}).P)
    small = StackedEnsemble(n_labels=3, multi_label=True).fit({k: v[:9] for k, v in probas.items()}, np.eye(3)[y[:9]])
    assert small.fallback_reason == "9 labels < min_labels_for_stacking 30"
    with pytest.raises(RuntimeError, match="fit"):
        StackedEnsemble(n_labels=3).predict(probas)
    model = StackedEnsemble(n_labels=3).fit(probas, y)
    with pytest.raises(ValueError, match="differ"):
        model.predict({"good": probas["good"]})


# -- fitted weights -----------------------------------------------------------------------------------
def test_fit_weights_prefers_the_informative_signal():
    probas, y = synthetic(n=300)
    w = fit_weights({"good": probas["good"], "noise": probas["noise"]}, y)
    assert set(w) == {"good", "noise"}
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["good"] > 0.9 and w["noise"] >= 0.0


def test_fit_weights_exact_on_a_perfect_and_a_useless_signal():
    y = np.array([0, 1, 0, 1])
    perfect = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]])
    useless = np.full((4, 2), 0.5)
    w = fit_weights({"perfect": perfect, "useless": useless}, y)
    assert w["perfect"] == pytest.approx(1.0, abs=1e-4) and w["useless"] == pytest.approx(0.0, abs=1e-4)
    assert fit_weights({"only": perfect}, y) == {"only": 1.0}


def test_fit_weights_multi_label_and_abstentions():
    y = np.array([[1, 0], [0, 1], [1, 1]])
    right = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.9]])
    wrong = np.array([[0.1, 0.9], [NAN, NAN], [0.1, 0.1]])
    w = fit_weights({"right": right, "wrong": wrong}, y, multi_label=True)
    assert w["right"] == pytest.approx(1.0, abs=1e-4)


def test_weighted_mean_a_subnormal_weight_is_no_weight():
    # found by hypothesis: the only voting signal weighted 5e-324 (next to one weighted 1 that abstains) turned
    # the row into zeros; a weight 1e-12 of the largest counts as none, so the row abstains (uniform)
    ens = weighted_mean({"s0": np.array([[0.5, 0.5]]), "s1": np.array([[NAN, NAN]])}, {"s0": 5e-324, "s1": 1.0})
    np.testing.assert_array_equal(ens.P, [[0.5, 0.5]])
    assert ens.abstained.tolist() == [True]
