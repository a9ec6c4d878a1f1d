"""The shared balanced head: unit weights equal sklearn's class_weight='balanced'; weights are used."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain

from training.head import ChainModel, LinearModel, _balanced_weights
from training.setfit_backend import HEAD_MAX_ITER, SetFitParams, _head, fit_logreg_head, head_proba


def skewed(n_per=(30, 12, 4), d=6, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(n_per)), n_per)
    X = rng.normal(size=(len(y), d)) + np.eye(len(n_per), d)[y] * 1.5
    return X, y


def multi(n=50, k=3, d=6, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = (X[:, :k] + 0.5 * rng.normal(size=(n, k)) > np.array([0.0, 0.8, -0.3])).astype(np.int64)
    return X, Y


def test_balanced_weights_by_hand():
    w = _balanced_weights(np.array([0, 0, 1]), np.array([1.0, 1.0, 0.5]), 3)
    # weighted totals [2, 0.5, 0]; 2 classes present; total 2.5 -> class weights [0.625, 2.5, 0]
    np.testing.assert_array_equal(w, [0.625, 0.625, 1.25])
    np.testing.assert_array_equal(_balanced_weights(np.array([0, 0, 0, 2]), np.ones(4), 3), [2 / 3, 2 / 3, 2 / 3, 2.0])


@pytest.mark.parametrize("max_iter", [1000, HEAD_MAX_ITER])
def test_unit_weights_equal_sklearn_balanced_single_label(max_iter):
    X, y = skewed()
    ref = LogisticRegression(C=10.0, class_weight="balanced", max_iter=max_iter, random_state=0).fit(X, y)
    for w in (None, np.ones(len(y))):
        P = LinearModel(3, False, C=10.0, seed=0, max_iter=max_iter).fit(X, y, w).predict_proba(X)
        np.testing.assert_allclose(P, ref.predict_proba(X), rtol=0, atol=1e-9)


def test_unit_weights_equal_sklearn_multi_label_and_chain():
    X, Y = multi()
    lr = LogisticRegression(C=10.0, class_weight="balanced", max_iter=HEAD_MAX_ITER, random_state=0)
    ovr = OneVsRestClassifier(lr).fit(X, Y).predict_proba(X)
    np.testing.assert_allclose(LinearModel(3, True, 10.0, 0, HEAD_MAX_ITER).fit(X, Y).predict_proba(X), ovr, atol=1e-9)
    chain = ClassifierChain(lr).fit(X, Y).predict_proba(X)
    np.testing.assert_allclose(ChainModel(3, 10.0, 0, HEAD_MAX_ITER).fit(X, Y).predict_proba(X), chain, atol=1e-9)


def test_backend_head_is_the_shared_head_and_equals_sklearn():
    X, y = skewed()
    ref = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=3).fit(X, y)
    head = fit_logreg_head(X, y, seed=3)
    assert isinstance(head, LinearModel) and head.max_iter == 2000 and head.balanced
    np.testing.assert_allclose(head_proba(head, X, 3, False), ref.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(head_proba(head, X, 4, False)[:, :3], ref.predict_proba(X), atol=1e-9)  # padded to K
    assert isinstance(_head(True, SetFitParams(multi_target_strategy="classifier-chain"), 0, 3), ChainModel)
    assert isinstance(_head(True, SetFitParams(multi_target_strategy="multi-output"), 0, 3), LinearModel)
    unbalanced = _head(False, SetFitParams(class_weight=None), 0, 3).fit(X, y)
    plain = LogisticRegression(C=10.0, max_iter=2000, random_state=0).fit(X, y)
    np.testing.assert_allclose(unbalanced.predict_proba(X), plain.predict_proba(X), atol=1e-9)


def test_weights_are_used():
    X, y = skewed()
    w = np.where(np.arange(len(y)) % 3 == 0, 0.3, 1.0)
    got = LinearModel(3, False).fit(X, y, w).predict_proba(X)
    ref = LogisticRegression(C=10.0, max_iter=1000, random_state=0).fit(X, y, sample_weight=_balanced_weights(y, w, 3))
    np.testing.assert_allclose(got, ref.predict_proba(X), atol=1e-9)
    assert np.abs(got - LinearModel(3, False).fit(X, y).predict_proba(X)).max() > 1e-3
    Xm, Y = multi()
    wm = np.where(np.arange(len(Y)) % 2 == 0, 0.5, 1.0)
    assert np.abs(LinearModel(3, True).fit(Xm, Y, wm).predict_proba(Xm) - LinearModel(3, True).fit(Xm, Y).predict_proba(Xm)).max() > 1e-3
    assert np.abs(ChainModel(3).fit(Xm, Y, wm).predict_proba(Xm) - ChainModel(3).fit(Xm, Y).predict_proba(Xm)).max() > 1e-3


def test_predict_matches_probabilities():
    X, y = skewed()
    m = LinearModel(3, False).fit(X, y)
    np.testing.assert_array_equal(m.predict(X), m.predict_proba(X).argmax(1))
    Xm, Y = multi()
    mm = LinearModel(3, True).fit(Xm, Y)
    np.testing.assert_array_equal(mm.predict(Xm), (mm.predict_proba(Xm) >= 0.5).astype(int))


def test_bad_sample_weight_is_one_line():
    from training.errors import TrainingError

    X, y = skewed()
    with pytest.raises(TrainingError, match="46 positive numbers"):
        fit_logreg_head(X, y, sample_weight=np.zeros(len(y)))


def test_every_class_seen_or_not_the_columns_are_label_order():
    """With every class in the training labels the head returns sklearn's matrix as it is (no copy into a zero
    matrix); with a class missing, that column is 0 and the others are sklearn's, bit for bit either way."""
    X, y = skewed()
    full = LinearModel(4, False).fit(X, y)  # classes 0..2 of 4: the scatter path
    lr = full._models[0]
    ref = np.zeros((len(X), 4))
    ref[:, lr.classes_] = lr.predict_proba(X)
    assert np.array_equal(full.predict_proba(X), ref) and not full.predict_proba(X)[:, 3].any()
    seen = LinearModel(3, False).fit(X, y)  # every class seen: the direct path
    assert np.array_equal(seen.predict_proba(X), seen._models[0].predict_proba(X))
    assert seen.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize("case", ["multinomial", "classes_unseen", "binary", "one_class", "multi_label"])
def test_predict_proba_equals_sklearns_own_to_the_bit(case):
    """``predict_proba`` skips sklearn's per-call input check on a finite float64 matrix (``_proba``): the same
    operations in the same order as ``LogisticRegression.predict_proba``, so the same bits, in every head shape."""
    X, y = skewed(n_per=(30, 12, 4, 9), d=20, seed=3)
    X_new = np.random.default_rng(4).normal(size=(257, 20)) * 3
    if case == "multi_label":
        X, Y = multi(n=80, d=20)
        Y[:, 2] = 0  # a constant label column: a constant, no model
        model = LinearModel(3, True, C=10.0).fit(X, Y)
        ref = np.stack([np.full(len(X_new), float(c)) if m is None else m.predict_proba(X_new)[:, 1]
                        for m, c in zip(model._models, model._const)], axis=1)
    else:
        keep = {"multinomial": [0, 1, 2, 3], "classes_unseen": [0, 1, 3], "binary": [0, 2], "one_class": [1]}[case]
        rows = np.isin(y, keep)
        model = LinearModel(4, False, C=10.0).fit(X[rows], y[rows])
        ref = np.zeros((len(X_new), 4))
        single = model._models[0]
        if single is None:
            ref[:, 1] = 1.0
        else:
            ref[:, single.classes_] = single.predict_proba(X_new)
    np.testing.assert_array_equal(model.predict_proba(X_new), ref)
    # float32 is read as float64 first, as sklearn reads it; a matrix with NaN goes through sklearn, and its error
    np.testing.assert_array_equal(model.predict_proba(X_new.astype(np.float32)), model.predict_proba(
        X_new.astype(np.float32).astype(np.float64)))
    if case != "one_class":
        with pytest.raises(ValueError, match="NaN"):
            model.predict_proba(np.where(np.arange(20) == 3, np.nan, X_new))
