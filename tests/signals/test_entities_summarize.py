"""spaCy entity rules and summarize-then-classify."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.errors import LabelerError
from labeler.signals.entities import EntitySignal
from labeler.signals.catalog import build_signal
from labeler.signals.summarize import SummarizeSignal, split_sentences

RULES = [
    {"label": "Business", "entity_types": ["MONEY"]},
    {"label": "Sci/Tech", "texts": ["NASA", "Microsoft"]},
    {"label": "World", "entity_types": ["GPE"], "texts": ["Iraq", "Baghdad"]},
]


@pytest.fixture(scope="module")
def entity_signal():
    pytest.importorskip("spacy")
    return EntitySignal("ents", ["World", "Business", "Sci/Tech"], False, {"rules": RULES})


def test_entity_rules_vote_and_abstain(entity_signal):
    P = entity_signal.predict_proba([
        "Shares rose to $5 billion after the deal.",
        "NASA launched a probe; Microsoft sponsored it.",
        "Troops left Baghdad on Monday.",
        "the weather was nice",
        "Microsoft paid $3 million.",
    ])
    np.testing.assert_allclose(P[0], [0, 1, 0])
    np.testing.assert_allclose(P[1], [0, 0, 1])
    np.testing.assert_allclose(P[2], [1, 0, 0])
    assert np.isnan(P[3]).all()
    np.testing.assert_allclose(P[4], [0, 0.5, 0.5])
    assert entity_signal.fingerprint().isalnum()


def test_entity_errors():
    with pytest.raises(LabelerError, match="unknown labels"):
        EntitySignal("e", ["a"], False, {"rules": [{"label": "b", "entity_types": ["ORG"]}]})
    with pytest.raises(LabelerError, match="entity_types or texts"):
        EntitySignal("e", ["a"], False, {"rules": [{"label": "a"}]})
    sig = EntitySignal("e", ["a"], False, {"model": "xx_no_such_model", "rules": [{"label": "a", "texts": ["x"]}]})
    with pytest.raises(LabelerError, match=r"pip install 'labeler\[entities\]'") as err:
        sig.predict_proba(["x"])
    assert "\n" not in str(err.value)


def test_split_sentences():
    assert split_sentences("Hello there. How are you? Fine!\n\n- a bullet") == [
        "Hello there.", "How are you?", "Fine!", "- a bullet"]
    assert split_sentences("e.g. this stays one") == ["e.g. this stays one"]


LONG = (
    "The Lakers won the championship game last night. Fans celebrated in the streets of Los Angeles. "
    "The weather was mild and sunny all day. The coach praised the team's defense and the star players. "
    "Tickets for next season's games went on sale this morning. A local bakery sold a record number of cakes."
)


def test_summarize_extractive_only_touches_long_texts():
    sig = SummarizeSignal("sum", ["Sports", "Business"], False,
                          {"inner": {"type": "embedding", "params": {}}, "max_tokens": 30}, build=build_signal)
    short = "Stocks rallied."
    out = sig.summarize([short, LONG])
    assert out[0] == short
    assert out[1] != LONG and len(sig.inner.count_tokens([out[1]])[0:1]) == 1
    assert sig.inner.count_tokens([out[1]])[0] <= 30 + 2  # special tokens of the sentence counts
    kept = split_sentences(out[1])
    original = split_sentences(LONG)
    assert [original.index(s) for s in kept] == sorted(original.index(s) for s in kept)  # original order
    assert "bakery" not in out[1]  # the off-topic sentence is farthest from the centroid
    P = sig.predict_proba([short, LONG])
    np.testing.assert_allclose(P[0], sig.inner.predict_proba([short])[0])
    assert P[1].argmax() == 0
    assert sig.fingerprint() != sig.inner.fingerprint()
    other = SummarizeSignal("sum", ["Sports", "Business"], False,
                            {"inner": {"type": "embedding", "params": {}}, "max_tokens": 40}, build=build_signal)
    assert other.fingerprint() != sig.fingerprint()


def test_summarize_needs_a_budget_for_model_free_inner():
    sig = build_signal("summarize", "s", ["a"], False, {"inner": {"type": "keywords", "params": {"keywords": {"a": ["x"]}}}})
    with pytest.raises(LabelerError, match="max_tokens"):
        sig.predict_proba(["x"])
    sig = build_signal("summarize", "s", ["a"], False,
                       {"inner": {"type": "keywords", "params": {"keywords": {"a": ["zebra"]}}}, "max_tokens": 10})
    assert sig.predict_proba(["short zebra"])[0, 0] == 1.0


@pytest.mark.slow
def test_summarize_abstractive_with_tiny_random_seq2seq(tmp_path):
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    from .conftest import SENTENCES, build_bpe_tokenizer

    out = tmp_path / "tiny-bart-sum"
    tok = build_bpe_tokenizer(out, SENTENCES * 3 + [LONG], vocab_size=400, model_max_length=256)
    torch.manual_seed(0)
    config = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=256,
                        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2)
    BartForConditionalGeneration(config).save_pretrained(out)
    sig = SummarizeSignal("sum", ["Sports", "Business"], False, {
        "inner": {"type": "keywords", "params": {"keywords": {"Sports": ["game"]}}},
        "max_tokens": 12, "method": "abstractive", "model": str(out)}, build=build_signal)
    summaries = sig.summarize(["short game", LONG])
    assert summaries[0] == "short game" and isinstance(summaries[1], str) and summaries[1] != LONG
    assert sig.predict_proba(["short game", LONG]).shape == (2, 2)
