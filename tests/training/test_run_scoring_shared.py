"""``scoring.score_run``: a logreg run that scores from the embedding signal's vectors is scored again each round
without a prediction cache (issue 26.4: a cold round with a run must cost no more than one without); only the
texts its body encodes itself go through the cache; the numbers are those the cached path gave."""

from __future__ import annotations

import numpy as np

from labeler.loop.scoring import score_run
from labeler.signals.cache import open_cache, score_cached
from labeler.signals.embedding import EmbeddingSignal
from labeler.signals.finetuned import FinetunedSignal
from training.train import train

from tests.training.data import LABELS, make_labels

LONG = "the match went to extra time and then to penalties " * 40  # > 128 tokens: the run's body encodes it
TEXTS = ["the striker scored a goal", "the bank cut interest rates", "a new chip for phones", LONG,
         "markets fell on the news", "the app update fixes a bug"]
IDS = [f"r{i}" for i in range(len(TEXTS))]


def test_a_shared_run_is_scored_without_its_prediction_cache_and_gives_the_same_numbers(tmp_path):
    path = tmp_path / "labels.parquet"
    make_labels(per_class=8).to_parquet(path)
    run = train(path, LABELS, backend="logreg", project_dir=tmp_path, min_calibration=3, n_resamples=50)
    emb = EmbeddingSignal("embedding", LABELS, False, {}, cache_dir=tmp_path / "cache")
    labels = ["tech", "sports", "business"]  # another order than the run's: columns reordered

    def signal(shared: bool) -> FinetunedSignal:
        sig = FinetunedSignal.from_run(run.run_id, tmp_path / "runs", labels=labels)
        assert not shared or sig.share_encoder(emb)
        return sig

    before = score_cached(signal(True), IDS, TEXTS, tmp_path / "before")  # the path bootstrap took until now
    own = signal(False)
    np.testing.assert_allclose(before, own.predict_proba(TEXTS), rtol=0, atol=1e-5)  # body encoding: ~1e-7 apart

    shared = signal(True)
    P = score_run(shared, IDS, TEXTS, tmp_path / "now")
    np.testing.assert_allclose(P, before, rtol=0, atol=1e-12)
    assert open_cache(tmp_path / "now", shared).count() == 1  # only the long text, which the body encoded
    X = emb.encode(TEXTS)
    for vectors in (X, X.astype(np.float64)):  # read once by bootstrap for the run and the queue model
        np.testing.assert_allclose(score_run(signal(True), IDS, TEXTS, tmp_path / "now", vectors=vectors), before,
                                   rtol=0, atol=1e-12)
    short = [0, 1, 2, 4, 5]
    P_short, rest = signal(True).predict_shared([TEXTS[i] for i in short])
    assert len(rest) == 0 and P_short.shape == (5, 3)
    np.testing.assert_allclose(P_short, before[short], rtol=0, atol=1e-12)

    unshared = signal(False)
    np.testing.assert_allclose(score_run(unshared, IDS, TEXTS, tmp_path / "own"), own.predict_proba(TEXTS),
                               rtol=0, atol=1e-12)
    assert open_cache(tmp_path / "own", unshared).count() == len(TEXTS)  # a fine-tuned body's scores are kept
