"""small-text's side of the peer benchmarks: labeler's queue-model head as a small-text classifier, its query
strategies by name, and the random initial set every strategy starts from (``bench_peers``, ``bench_ml_picks``).
A module, not a script: benchmark scripts never import one another."""

from __future__ import annotations

from common import RESULTS  # noqa: F401  first: the offline environment before small_text loads the hub

import numpy as np
from small_text import query_strategies as qs
from small_text.classifiers.classification import Classifier, EmbeddingMixin
from small_text.classifiers.factories import AbstractClassifierFactory
from small_text.utils.classification import prediction_result

from labeler.loop.engine import QUEUE_MODEL_C
from training.head import LinearModel

DAL_ITERATIONS = 4  # sub-batches per DAL query (each one fits a labeled-vs-unlabeled head)


class HeadClassifier(EmbeddingMixin, Classifier):
    """``training.head.LinearModel`` (the queue model) as a small-text classifier; features = embeddings. With
    ``words`` = (embedding width, rule): the pool's features are the embeddings with the pool's words beside them
    (``labeler.simulate``'s ``Features.head``, CSR), read whole once ``rule(labels trained on)`` says so (the queue
    model's ``Policy.lexical_weight``), the embeddings' columns alone before; ``embed`` gives the embeddings."""

    def __init__(self, num_classes: int, multi_label: bool, seed: int, words=None):
        self.num_classes, self.multi_label, self.seed, self.words = num_classes, multi_label, seed, words
        self.model: LinearModel | None = None
        self.reads_words = False

    def _features(self, x):
        if self.words is None:
            return np.asarray(x)
        return x if self.reads_words else x[:, :self.words[0]]

    def fit(self, train_set, weights=None):
        y = train_set.y.toarray() if self.multi_label else np.asarray(train_set.y)
        self.reads_words = self.words is not None and bool(self.words[1](train_set.x.shape[0]))
        self.model = LinearModel(self.num_classes, self.multi_label, QUEUE_MODEL_C, self.seed).fit(
            self._features(train_set.x), y, weights)
        return self

    def predict_proba(self, data_set):
        return self.model.predict_proba(self._features(data_set.x))

    def predict(self, data_set, return_proba=False):
        return prediction_result(self.predict_proba(data_set), self.multi_label, self.num_classes, return_proba=return_proba)

    def embed(self, data_set, return_proba=False, pbar=None, **_):
        X = np.asarray(data_set.x) if self.words is None else data_set.x[:, :self.words[0]].toarray()
        return (X, self.predict_proba(data_set)) if return_proba else X


class HeadFactory(AbstractClassifierFactory):
    def __init__(self, num_classes: int, multi_label: bool, seed: int, words=None):
        self.args = (num_classes, multi_label, seed, words)

    def new(self):
        return HeadClassifier(*self.args)


class PredictionEntropy(qs.PredictionEntropy):
    """small-text's PredictionEntropy, its per-row ``apply_along_axis`` replaced by the same scipy entropy over
    the rows at once (same scores, same picks; 75 s less per AG News curve)."""

    def get_confidence(self, clf, dataset, _indices_unlabeled, _indices_labeled, _y):
        from scipy.stats import entropy

        return entropy(clf.predict_proba(dataset), axis=1)


def make_strategy(name: str, seed: int):
    if name == "dal":
        return qs.DiscriminativeActiveLearning(HeadFactory(2, False, seed), DAL_ITERATIONS, pbar=None)
    if name == "cvirs":
        return qs.CategoryVectorInconsistencyAndRanking(pbar=None)
    if name == "contrastive":
        return qs.ContrastiveActiveLearning(pbar=None)
    return {"random": qs.RandomSampling, "breaking_ties": qs.BreakingTies, "prediction_entropy": PredictionEntropy,
            "least_confidence": qs.LeastConfidence, "embedding_kmeans": qs.EmbeddingKMeans,
            "greedy_coreset": qs.GreedyCoreset, "lightweight_coreset": qs.LightweightCoreset}[name]()



def initial_set(n_pool: int, batch: int, seed: int) -> np.ndarray:
    """The uniform random initial labeled set of one batch every small-text strategy starts from at ``seed``."""
    return np.sort(np.random.default_rng(seed).choice(n_pool, size=batch, replace=False))
