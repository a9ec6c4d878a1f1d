"""The lexical block (``training.lexical``): a TF-IDF vocabulary of the pool beside the embeddings, read by the
linear heads as CSR; and the fast queue model fitted on it (``labeler.loop.engine``)."""

import dataclasses

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from labeler.loop.engine import FITTED, LEXICAL_MIN, Policy, WeakLabels, fit_queue_model
from training.head import LinearModel, _balanced_weights
from training.lexical import Lexical

TEXTS = ["card arrived late", "card not arrived", "refund my card", "refund please", "top up failed", "top up"]


def test_the_vocabulary_is_the_terms_seen_in_two_texts_and_the_rows_are_unit_length_times_the_weight():
    lex = Lexical(0.5).fit(TEXTS)
    # unigrams and bigrams in >= 2 texts: card (3), arrived (2), refund (2), top (2), up (2), "top up" (2)
    assert sorted(lex.vectorizer.vocabulary_) == ["arrived", "card", "refund", "top", "top up", "up"]
    assert lex.terms == 6
    X = np.arange(12, dtype=float).reshape(6, 2)
    H = lex.features(X, TEXTS)
    assert sparse.isspmatrix_csr(H) and H.shape == (6, 8) and H.dtype == np.float64
    np.testing.assert_array_equal(H[:, :2].toarray(), X)  # the embeddings first, unchanged
    norms = np.sqrt(np.asarray(H[:, 2:].multiply(H[:, 2:]).sum(axis=1))).ravel()
    np.testing.assert_allclose(norms, 0.5)  # every text here has a known term: unit TF-IDF rows, times 0.5
    # a text of unseen words gets an empty block, not an error
    assert lex.features(np.zeros((1, 2)), ["nothing known here"])[:, 2:].nnz == 0


def test_weight_zero_or_no_repeated_term_leaves_the_embeddings_as_they_are():
    X = np.ones((3, 2))
    assert Lexical(0.0).fit(TEXTS).features(X, TEXTS[:3]) is X
    lone = Lexical(0.5).fit(["alpha", "beta", "gamma"])  # no term in two texts: no vocabulary
    assert lone.terms == 0 and lone.features(X, ["alpha", "beta", "gamma"]) is X


def test_the_head_on_csr_equals_sklearn_on_the_same_sparse_matrix():
    rng = np.random.default_rng(0)
    y = np.array([0, 0, 1, 1, 2, 2])
    H = Lexical(1.0).fit(TEXTS).features(rng.normal(size=(6, 3)), TEXTS)
    w = np.array([1, 1, 1, 0.3, 1, 1.0])
    ref = LogisticRegression(C=10.0, max_iter=1000, random_state=0).fit(H, y, sample_weight=_balanced_weights(y, w, 3))
    P = LinearModel(3, False, C=10.0, seed=0).fit(H, y, w).predict_proba(H)
    np.testing.assert_allclose(P, ref.predict_proba(H), rtol=0, atol=1e-12)
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 1], [1, 0], [0, 0]])
    assert LinearModel(2, True).fit(H, Y).predict_proba(H).shape == (6, 2)


@pytest.mark.parametrize("multi_label", [False, True])
def test_the_queue_model_on_csr_rows_equals_it_on_the_same_dense_rows(multi_label):
    """``training_set`` and the fitted cuts take rows of the features by index, so CSR and a dense array of the
    same numbers give the same model (weak rows and out-of-fold cuts included)."""
    rng = np.random.default_rng(3)
    n, k = 60, 3
    X = rng.normal(size=(n, 4))
    truth = np.argmax(X[:, :k], axis=1)
    P = np.eye(k)[truth] * 0.6 + 0.4 / k
    rows = np.arange(0, 40, 2)
    targets = np.eye(k, dtype=np.int64)[truth[rows]] if multi_label else truth[rows]
    excluded = np.zeros(n, dtype=bool)
    excluded[rows] = True
    policy = Policy(weak=WeakLabels(0.1, 0.3), thresholds=FITTED if multi_label else "fixed")
    dense, n_weak = fit_queue_model(X, rows, targets, P, excluded, policy, multi_label, 0.5)
    csr, n_weak_csr = fit_queue_model(sparse.csr_matrix(X), rows, targets, P, excluded, policy, multi_label, 0.5)
    assert n_weak == n_weak_csr > 0
    np.testing.assert_allclose(csr.predict_proba(sparse.csr_matrix(X)), dense.predict_proba(X), rtol=0, atol=1e-6)
    if multi_label:
        np.testing.assert_allclose(csr.thresholds, dense.thresholds, rtol=0, atol=1e-6)


def test_the_config_key_reaches_the_policy_and_labeler_rounds_queue_model(tmp_path):
    """``queue.lexical`` (default 0: the embeddings alone) is the policy's, named in simulate's tables, and
    ``labeler round``'s fast model reads the pool's words beside the embeddings, said in its note."""
    from labeler.config import load_config
    from labeler.data import load_pool
    from labeler.errors import LabelerError
    from labeler.loop.scoring import bootstrap
    from tests.test_train_cli import make_project

    cfg = make_project(tmp_path, per_class=12, min_per_class=2)
    plain = load_config(cfg)
    assert plain.queue.lexical == 0.0 and Policy.from_config(plain).lexical == 0.0
    config = load_config(cfg, ["queue.lexical=0.5"])
    policy = Policy.from_config(config)
    assert policy.lexical == 0.5 and "+lex0.5+" in policy.name
    with pytest.raises(LabelerError, match="lexical"):
        load_config(cfg, ["queue.lexical=-1"])
    _, without = bootstrap(plain, progress=False)
    # 36 labels, 4 per label and more, but fewer than LEXICAL_MIN (100) in all: the words stay off
    assert policy.lexical_min == LEXICAL_MIN == 100 and policy.lexical_weight(99, 3) == 0.0
    _, early = bootstrap(config, progress=False)
    assert early.queue_note == without.queue_note and np.array_equal(early.Q, without.Q)
    low = dataclasses.replace(policy, lexical_min=0)  # the floor lowered: the per-label rule alone
    assert "+lex0.5min0+" in low.name
    _, scores = bootstrap(config, progress=False, policy=low)
    terms = Lexical(0.5).fit(load_pool(plain).texts).terms
    assert terms > 0
    assert scores.queue_note.endswith(f" weak labels, with {terms:,} terms of the pool beside the embeddings")
    assert without.queue_note.endswith(" weak labels")
    assert np.abs(scores.Q - without.Q).max() > 0.01  # a different model, the same rows



def test_the_same_texts_again_reuse_the_vocabulary_and_other_texts_fit_their_own():
    """A round with a run to train fits the pool's vocabulary three times (queue model, run, queue model): once."""
    first = Lexical(0.5).fit(TEXTS)
    again = Lexical(0.3).fit(list(TEXTS))  # another weight: the same vocabulary, its own scale
    assert again.vectorizer is first.vectorizer and again.weight == 0.3
    other = Lexical(0.5).fit(TEXTS[:4] + ["card refund"])
    assert other.vectorizer is not first.vectorizer and "top" not in other.vectorizer.vocabulary_
    lone = Lexical(0.5).fit(["alpha", "beta"])
    assert lone.vectorizer is None and Lexical(0.5).fit(["alpha", "beta"]).vectorizer is None
    np.testing.assert_array_equal(Lexical(0.5).fit(TEXTS).features(np.zeros((6, 1)), TEXTS).toarray(),
                                  first.features(np.zeros((6, 1)), TEXTS).toarray())
