"""Embedding zero-shot with the packaged MiniLM: prompts, caching, calibration, real-data accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labeler.errors import LabelerError
from labeler.signals.cosine_calibration import fit_calibration, fit_temperature, scores_to_proba
from labeler.signals.embedding import EmbeddingSignal

from .conftest import shared_path

TOPICS = [{"name": "Sports", "description": "games, teams and players"},
          {"name": "Business", "description": "companies, markets and the economy"},
          {"name": "Sci/Tech", "description": "science, computers and the internet"}]
TEXTS = ["The Lakers beat the Celtics in overtime.", "Shares of Ford fell 5% after weak earnings.",
         "NASA's new telescope photographed a distant galaxy.", "Google released a new version of its browser."]


@pytest.fixture(scope="module")
def topic_signal():
    return EmbeddingSignal("emb", TOPICS, False)


def test_predicts_obvious_topics(topic_signal):
    P = topic_signal.predict_proba(TEXTS)
    assert P.shape == (4, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert list(P.argmax(axis=1)) == [0, 1, 2, 2]
    assert topic_signal.prompts == ["Sports: games, teams and players", "Business: companies, markets and the economy",
                                    "Sci/Tech: science, computers and the internet"]


def test_encode_is_normalised_384d_and_cached_on_disk(tmp_path, topic_signal):
    sig = EmbeddingSignal("emb", TOPICS, False, cache_dir=tmp_path)
    emb = sig.encode(TEXTS + TEXTS[:1])
    assert emb.shape == (5, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(emb[0], emb[4])
    assert sig._disk().count() == 4
    again = EmbeddingSignal("emb2", ["x"], False, cache_dir=tmp_path)  # other labels, same encoder: shared cache
    sig._encode_raw = None  # noqa: the cached path must not encode again
    again._encode_raw = lambda texts: (_ for _ in ()).throw(AssertionError(f"re-encoded {texts}"))
    np.testing.assert_array_equal(again.encode(TEXTS), emb[:4])
    np.testing.assert_allclose(topic_signal.encode(TEXTS), emb[:4], atol=1e-6)


def test_temperature_changes_confidence_not_argmax(topic_signal):
    cos = topic_signal.cosines(TEXTS)
    sharp, soft = scores_to_proba(cos, 0.01), scores_to_proba(cos, 1.0)
    assert (sharp.argmax(1) == soft.argmax(1)).all() and sharp.max() > soft.max()
    cold = EmbeddingSignal("emb", TOPICS, False, {"temperature": 0.01})
    assert cold.fingerprint() != topic_signal.fingerprint()


def test_multi_label_is_independent_sigmoid(topic_signal):
    sig = EmbeddingSignal("emb", TOPICS, True, {"threshold": 0.2, "temperature": 0.05})
    P = sig.predict_proba(TEXTS)
    assert P.shape == (4, 3) and ((P >= 0) & (P <= 1)).all()
    np.testing.assert_allclose(P, 1 / (1 + np.exp(-(topic_signal.cosines(TEXTS) - 0.2) / 0.05)), atol=1e-9)


def test_prompt_ensemble_and_label_prompts():
    sig = EmbeddingSignal("emb", TOPICS[:2], False, {
        "prompt_template": ["{name}: {description}", "A news article about {name}"],
        "label_prompts": {"Sports": ["football"]},
    })
    assert sig.label_prompt_lists[0] == ["Sports: games, teams and players", "A news article about Sports", "football"]
    L = sig.label_embeddings()
    assert L.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(L, axis=1), 1.0, atol=1e-5)
    with pytest.raises(LabelerError, match="unknown labels"):
        EmbeddingSignal("emb", TOPICS, False, {"label_prompts": {"Sport": ["x"]}})
    with pytest.raises(LabelerError, match="label_bias"):
        EmbeddingSignal("emb", TOPICS, False, {"label_bias": [0.0]})


def test_fit_temperature_recovers_the_generating_temperature():
    rng = np.random.RandomState(0)
    cos = rng.uniform(-0.2, 0.6, size=(4000, 4))
    P = scores_to_proba(cos, 0.08)
    y = np.array([rng.choice(4, p=p) for p in P])
    assert fit_temperature(cos, y) == pytest.approx(0.08, rel=0.1)
    cal = fit_calibration(cos, y, l2=0.0)
    assert cal["temperature"] == pytest.approx(0.08, rel=0.1)
    assert np.abs(cal["label_bias"]).max() < 0.2 and sum(cal["label_bias"]) == pytest.approx(0.0, abs=1e-9)
    # a biased generator: the fitted bias finds the offset
    P = scores_to_proba(cos, 0.08, label_bias=[1.0, 0.0, 0.0, -1.0])
    y = np.array([rng.choice(4, p=p) for p in P])
    bias = fit_calibration(cos, y, l2=0.0)["label_bias"]
    assert bias[0] - bias[3] == pytest.approx(2.0, abs=0.3)
    ym = (rng.uniform(size=cos.shape) < scores_to_proba(cos, 0.1, multi_label=True, threshold=0.25)).astype(int)
    mcal = fit_calibration(cos, ym, multi_label=True)
    assert mcal["temperature"] == pytest.approx(0.1, rel=0.15) and mcal["threshold"] == pytest.approx(0.25, abs=0.03)


def test_missing_model_is_one_line():
    sig = EmbeddingSignal("emb", ["a"], False, {"model": "/no/such/minilm"})
    with pytest.raises(LabelerError) as err:
        sig.predict_proba(["x"])
    assert "\n" not in str(err.value) and "cannot load embedding model '/no/such/minilm'" in str(err.value)


@pytest.mark.slow
def test_ag_news_accuracy_floor():
    """200 eval rows of AG News with short descriptions: measured 0.80 / 0.64 (names only) on all 1,520."""
    rows = [json.loads(line) for line in open(shared_path("datasets", "ag_news", "test_all.jsonl"))]
    rows = [r for r in rows if r["split"] == "eval"][::7][:200]
    labels = [
        {"name": "World", "description": "news about international politics, governments, wars, elections and diplomacy"},
        {"name": "Sports", "description": "news about games, teams, players, matches, leagues and tournaments"},
        {"name": "Business", "description": "news about companies, markets, stocks, earnings, oil prices and the economy"},
        {"name": "Sci/Tech", "description": "news about science, technology, computers, software, the internet and space"},
    ]
    sig = EmbeddingSignal("emb", labels, False)
    P = sig.predict_proba([r["text"] for r in rows])
    acc = float(np.mean(np.array(sig.labels)[P.argmax(1)] == np.array([r["label"] for r in rows])))
    assert acc >= 0.72, acc


def test_a_process_whose_texts_are_cached_loads_no_model(tmp_path, monkeypatch):
    """The label vectors are kept beside the text vectors, so scoring cached texts in a fresh process (a new
    `labeler round`) needs no model: loading it to embed the label prompts cost every round 6-8 s."""
    import labeler.signals.embedding as emb_mod
    from labeler.signals.finetuned import cached_body

    first = EmbeddingSignal("emb", TOPICS, False, cache_dir=tmp_path)
    P = first.predict_proba(TEXTS)
    L = first.label_embeddings()
    monkeypatch.setattr(emb_mod, "_SHARED_LABEL_EMB", {})  # a fresh process: nothing in memory
    monkeypatch.setattr(emb_mod, "_SHARED_TEXT_EMB", {})
    monkeypatch.setattr(EmbeddingSignal, "load", lambda self: (_ for _ in ()).throw(AssertionError("model loaded")))
    again = EmbeddingSignal("emb", TOPICS, False, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.label_embeddings(), L)  # the stored vectors, to the bit
    np.testing.assert_array_equal(again.predict_proba(TEXTS), P)
    # a logreg run's body reads the same cache: its vectors' width comes from them, not from the model
    X = cached_body(again, None, 128)(TEXTS)
    assert X.shape == (4, 384) and not np.isnan(X).any()
    other = EmbeddingSignal("emb", TOPICS[:2], False, cache_dir=tmp_path)  # other labels: their own vectors
    with pytest.raises(AssertionError, match="model loaded"):
        other.label_embeddings()
