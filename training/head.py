"""The class-balanced, sample-weighted logistic regression every linear head uses.

``LinearModel`` is the head of the ``logreg`` and ``setfit`` backends and of the simulation: a logistic
regression (``C``) on fixed features whose per-row weights are the caller's sample weights times sklearn's
"balanced" class weights, computed from the *weighted* class totals. With unit weights it is exactly
``LogisticRegression(class_weight="balanced")``; with weights (down-weighted weak rows, for example) it uses
them. Multi-label fits one such binary model per label (one-vs-rest; a constant column is a constant), and
``ChainModel`` is the classifier-chain variant. ``predict_proba(X) -> (N, K)`` in label order. ``head_proba``
reads any run head's matrix in label order, ``head_features`` what it reads (the pool's words beside the
embeddings when the run keeps a vocabulary, ``training.lexical``).

Nothing here imports torch; sklearn is imported when a model is fitted.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from training.errors import TrainingError


def _balanced_weights(y: np.ndarray, w: np.ndarray, n_classes: int) -> np.ndarray:
    """Sample weights times sklearn's 'balanced' class weights computed from the weighted class totals
    (with unit weights this equals ``class_weight='balanced'``)."""
    totals = np.bincount(y, weights=w, minlength=n_classes)
    present = totals > 0
    cw = np.zeros(n_classes)
    cw[present] = w.sum() / (present.sum() * totals[present])
    return w * cw[y]


def _matrix(X):
    """``X`` as the heads compute on it: a float64 array, or a sparse matrix kept sparse (CSR: the embeddings
    beside a lexical block, ``training.lexical``), which scikit-learn's logistic regression takes as it is."""
    from scipy import sparse

    return X.tocsr().astype(np.float64, copy=False) if sparse.issparse(X) else np.asarray(X, dtype=np.float64)


def _checked(X: np.ndarray, model) -> bool:
    """Whether ``X`` is what sklearn's own input check would pass unchanged: a finite 2-D float64 matrix as wide
    as ``model`` was fitted on (the sum is sklearn's own quick finiteness test). Anything else goes through
    sklearn, which converts it or says what is wrong."""
    return (model is not None and X.ndim == 2 and X.dtype == np.float64 and X.shape[1] == model.n_features_in_
            and bool(np.isfinite(X.sum())))


def _proba(model, X: np.ndarray) -> np.ndarray:
    """``LogisticRegression.predict_proba(X)`` (scikit-learn 1.9) for a ``_checked`` matrix, without checking it
    again: the same operations in the same order, so the same bits. Its input check, a pass over all of X, cost
    half of scoring a 10,003-text pool, and a multi-label head pays it once per label (BENCHMARKS.md "Round
    times"); ``tests/training/test_head.py`` holds the two equal."""
    from scipy.special import expit

    scores = X @ model.coef_.T + model.intercept_
    if len(model.classes_) <= 2:  # sklearn's _predict_proba_lr: the expit of the one decision column
        p = scores.reshape(-1)
        expit(p, out=p)
        return np.stack([1 - p, p], axis=1)
    scores -= scores.max(axis=1).reshape(-1, 1)  # sklearn's softmax, in place
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1).reshape(-1, 1)
    return scores


def head_proba(head, embeddings: np.ndarray, k: int, multi_label: bool) -> np.ndarray:
    """Head probabilities as an (N, K) matrix in label order, whatever the head type.

    Single-label heads only know the classes they saw; an unseen class gets probability 0. Runs saved before
    the shared head hold a scikit-learn estimator; they load and predict as before.
    """
    if isinstance(head, (LinearModel, ChainModel)):
        P = head.predict_proba(embeddings)
        return P if P.shape[1] == k else np.pad(P, ((0, 0), (0, k - P.shape[1])))
    P = head.predict_proba(embeddings)
    if isinstance(P, list):  # MultiOutputClassifier: one (N, 2) per label
        P = np.stack([p[:, 1] if p.shape[1] == 2 else np.zeros(len(p)) for p in P], axis=1)
    P = np.asarray(P, dtype=np.float64)
    if multi_label:
        return P
    out = np.zeros((len(P), k))
    out[:, np.asarray(head.classes_, dtype=int)] = P
    return out


def head_features(lexical, embeddings: np.ndarray, texts: Sequence[str] | None):
    """What a run's head reads: the (N, dim) embeddings, with the texts' words beside them when the run keeps a
    vocabulary (``lexical``); such a run needs the texts."""
    X = np.asarray(embeddings)
    if lexical is None:
        return X
    if texts is None:
        raise TrainingError("this run's head reads the texts' words beside their embeddings: it needs the texts")
    return lexical.features(X, list(texts))


class LinearModel:
    """Logistic regression (``C``, class-balanced) on fixed features; ``predict_proba -> (N, K)``."""

    def __init__(self, n_labels: int, multi_label: bool, C: float = 10.0, seed: int = 0, max_iter: int = 1000,
                 balanced: bool = True):
        self.k, self.multi_label, self.C, self.seed = n_labels, multi_label, C, seed
        self.max_iter, self.balanced = max_iter, balanced  # balanced=False: the sample weights alone
        self.thresholds: np.ndarray | None = None  # multi-label (K,) cuts set by the caller; None: 0.5
        self._models: list = []
        self._const: list = []

    def _lr(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed)

    def _weights(self, y: np.ndarray, w: np.ndarray, n_classes: int) -> np.ndarray:
        return _balanced_weights(y, w, n_classes) if self.balanced else w

    def fit(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> "LinearModel":
        from threadpoolctl import threadpool_limits

        X = _matrix(X)
        w = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The number of unique classes")  # 77 classes, 77 labels
            if self.multi_label:
                self._models, self._const = [], []
                for j in range(self.k):
                    t = np.asarray(y[:, j], dtype=np.int64)
                    if t.min() == t.max():
                        self._models.append(None)
                        self._const.append(float(t[0]))
                    else:
                        self._models.append(self._lr().fit(X, t, sample_weight=self._weights(t, w, 2)))
                        self._const.append(None)
            else:
                y = np.asarray(y, dtype=np.int64)
                self._classes = np.unique(y)
                if len(self._classes) == 1:
                    self._models = [None]
                else:
                    self._models = [self._lr().fit(X, y, sample_weight=self._weights(y, w, self.k))]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = _matrix(X)
        fitted = next((m for m in self._models if m is not None), None)
        proba = _proba if _checked(X, fitted) else (lambda m, X: m.predict_proba(X))
        single = None if self.multi_label else self._models[0]
        if single is not None and len(single.classes_) == self.k:  # every class seen: sklearn's columns are label order
            with np.errstate(all="ignore"):
                return proba(single, X)
        out = np.zeros((X.shape[0], self.k))
        with np.errstate(all="ignore"):
            if self.multi_label:
                for j, (m, c) in enumerate(zip(self._models, self._const)):
                    out[:, j] = c if m is None else proba(m, X)[:, 1]
            elif single is None:
                out[:, self._classes[0]] = 1.0
            else:
                out[:, single.classes_] = proba(single, X)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class indices (single-label) or a 0/1 (N, K) matrix cut at ``thresholds`` (0.5 when unset)
        (multi-label), as sklearn heads give (``SetFitModel.predict`` on a saved run calls this)."""
        P = self.predict_proba(X)
        if not self.multi_label:
            return P.argmax(axis=1)
        cuts = getattr(self, "thresholds", None)  # models pickled before the attribute existed
        return (P >= (0.5 if cuts is None else np.asarray(cuts))).astype(np.int64)


class ChainModel:
    """Multi-label classifier chain of balanced, weighted binary logistic regressions.

    As sklearn's ``ClassifierChain`` (order 0..K-1): label ``j`` is fitted on the features plus the true
    labels ``0..j-1``, and predicted on the features plus the previous labels' 0/1 predictions.
    """

    multi_label = True

    def __init__(self, n_labels: int, C: float = 10.0, seed: int = 0, max_iter: int = 1000, balanced: bool = True):
        self.k, self.C, self.seed, self.max_iter, self.balanced = n_labels, C, seed, max_iter, balanced
        self._links: list[LinearModel] = []

    def fit(self, X: np.ndarray, Y: np.ndarray, w: np.ndarray | None = None) -> "ChainModel":
        X, Y = _matrix(X), np.asarray(Y, dtype=np.int64)
        self._links = [LinearModel(1, True, self.C, self.seed, self.max_iter, self.balanced).fit(_beside(X, Y[:, :j]), Y[:, j:j + 1], w)
                       for j in range(self.k)]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = _matrix(X)
        n = X.shape[0]
        out, prev = np.zeros((n, self.k)), np.zeros((n, self.k))
        for j, link in enumerate(self._links):
            out[:, j] = link.predict_proba(_beside(X, prev[:, :j]))[:, 0]
            prev[:, j] = link.predict(_beside(X, prev[:, :j]))[:, 0]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(np.int64)


def _beside(X, columns: np.ndarray):
    """``X`` with ``columns`` beside it (a chain link's input), sparse when ``X`` is."""
    from scipy import sparse

    if sparse.issparse(X):
        return sparse.hstack([X, sparse.csr_matrix(columns.astype(np.float64))], format="csr")
    return np.hstack([X, columns])
