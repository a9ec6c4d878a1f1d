"""The lexical block: the pool's words beside its sentence embeddings, for the linear heads that score a pool.

A sentence embedding keeps what a text is about and loses which words it uses; a label that is one word away
from another ("card arrival" / "card delivery estimate", "spam" with its give-away tokens) is told apart by the
words. ``Lexical.fit(texts)`` learns a TF-IDF vocabulary on the pool (word unigrams and bigrams seen in at least
two texts, sublinear counts, rows of unit length: unsupervised, so no label leaks into it) and ``features(X,
texts)`` returns the embeddings with the texts' TF-IDF rows beside them, scaled by ``weight`` (CSR, which the
heads of ``training.head`` take as they are). Measured in BENCHMARKS.md ("The lexical block").

A run whose head reads the words (``logreg`` and ``setfit``: ``training.train``'s ``lexical``) keeps its fitted
vocabulary beside the head (``save`` / ``load``: ``lexical.pkl`` in the run folder), so ``predict`` builds the
same rows for texts it has never seen.

Nothing here imports torch; scikit-learn and scipy are imported when a vocabulary is fitted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.errors import TrainingError

NGRAMS = (1, 2)  # word unigrams and bigrams
MIN_DF = 2  # a term in one text only tells nothing about another
FILE = "lexical.pkl"  # a run's vocabulary, beside its head
_LAST = None  # (digest of the texts, their fitted vectorizer or None): the last vocabulary this process fitted


class Lexical:
    """A TF-IDF vocabulary fitted on a pool's texts; ``features`` puts its rows beside the embeddings."""

    def __init__(self, weight: float):
        self.weight = float(weight)
        self.vectorizer = None  # None: no vocabulary (weight 0, or a pool too small to have a repeated term)

    def fit(self, texts: Sequence[str]) -> "Lexical":
        """The vocabulary of ``texts``; the same texts as the last fit in this process reuse it (a round with a
        run to train fits the pool's vocabulary for the queue model, the run and the queue model again)."""
        global _LAST
        if self.weight <= 0:
            return self
        texts = list(texts)
        digest = hashlib.sha256("\x1f".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
        if _LAST is not None and _LAST[0] == digest:
            self.vectorizer = _LAST[1]
            return self
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(sublinear_tf=True, ngram_range=NGRAMS, min_df=MIN_DF if len(texts) > 1 else 1,
                              dtype=np.float64)
        try:
            vec.fit(texts)
        except ValueError:  # "empty vocabulary": no term repeats (a handful of texts), the embeddings alone
            vec = None
        _LAST = (digest, vec)
        self.vectorizer = vec
        return self

    @property
    def terms(self) -> int:
        return 0 if self.vectorizer is None else len(self.vectorizer.vocabulary_)

    def features(self, X: np.ndarray, texts: Sequence[str]):
        """``X`` (N, D) with the texts' weighted TF-IDF rows beside it (CSR, N x (D + terms)); ``X`` itself
        when there is no vocabulary."""
        if self.vectorizer is None:
            return X
        from scipy import sparse

        T = self.vectorizer.transform(list(texts))
        return sparse.hstack([sparse.csr_matrix(np.asarray(X, dtype=np.float64)), self.weight * T],
                             format="csr", dtype=np.float64)


def save(lexical: "Lexical | None", path) -> None:
    """Write a run's vocabulary into its folder ``path``; nothing when the run reads the embeddings alone."""
    if lexical is not None and lexical.vectorizer is not None:
        import joblib

        joblib.dump(lexical, Path(path) / FILE)


def load(path) -> "Lexical | None":
    """The vocabulary a run folder ``path`` keeps (``save``); None for a run that reads the embeddings alone."""
    f = Path(path) / FILE
    if not f.exists():
        return None
    import joblib

    try:
        return joblib.load(f)
    except Exception as exc:  # a truncated or foreign pickle: unpickling raises anything
        raise TrainingError(f"run folder {path}: its vocabulary {FILE} is unreadable ({exc!r}); train the run again") from None


def card_sentence(words: dict | None) -> str:
    """A run's model card on what its head reads besides the embeddings (``info["lexical"]``); "" without words."""
    if not words:
        return ""
    return (f" Its head reads the texts' words beside their embeddings: TF-IDF over {words['terms']:,} word unigrams and"
            f" bigrams of the pool, weight {words['weight']:g} (`model/{FILE}`).")
