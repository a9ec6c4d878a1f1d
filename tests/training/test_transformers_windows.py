"""A transformers run reads a long text whole: it trains on each window (the text's label, an equal share of its
weight) and predicts the windows' probabilities averaged by their tokens; a text that fits is one row, as before."""

import numpy as np
import pytest

from training.body import resolve_body
from training.transformers_backend import TransformersClassifier, _dataset, token_windows, window_mean

SHORT = "the striker scored a goal"
LONG = "the bank cut interest rates again " * 8  # 48 word pieces


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_body(None))


def test_windows_rows_owners_and_a_fitting_text_as_before(tokenizer):
    enc, owner = token_windows(tokenizer, [SHORT, LONG], 16, whole=True)
    assert owner.tolist() == [0, 1, 1, 1, 1]  # 48 pieces: windows of 14 (+ [CLS], [SEP])
    assert [len(ids) for ids in enc["input_ids"]] == [7, 16, 16, 16, 8]
    plain = tokenizer([SHORT, LONG], truncation=True, max_length=16)
    assert enc["input_ids"][0] == plain["input_ids"][0] and enc["input_ids"][1] == plain["input_ids"][1]
    start, owner = token_windows(tokenizer, [SHORT, LONG], 16, whole=False)
    assert owner.tolist() == [0, 1] and start["input_ids"] == plain["input_ids"]
    P = np.array([[1.0, 0.0], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4], [1.0, 0.0]])
    enc, owner = token_windows(tokenizer, [SHORT, LONG], 16, whole=True)
    mean = window_mean(P, owner, enc, 2)
    np.testing.assert_allclose(mean, [[1.0, 0.0], [(16 * (0.2 + 0.4 + 0.6) + 8 * 1.0) / 56,
                                                   (16 * (0.8 + 0.6 + 0.4)) / 56]])


def test_training_rows_share_a_texts_weight_among_its_windows(tokenizer):
    ds = _dataset(tokenizer, [SHORT, LONG], np.array([0, 1]), False, 16, np.array([1.0, 0.3]), whole=True)
    assert ds["labels"] == [0, 1, 1, 1, 1]
    np.testing.assert_allclose(ds["weight"], [1.0, 0.075, 0.075, 0.075, 0.075])
    ds = _dataset(tokenizer, [SHORT, LONG], np.array([0, 1]), False, 16, whole=True)
    np.testing.assert_allclose(ds["weight"], [1.0, 0.25, 0.25, 0.25, 0.25])
    assert "weight" not in _dataset(tokenizer, [SHORT, SHORT], np.array([0, 1]), False, 16, whole=True).column_names


def test_predict_averages_a_long_texts_windows(tokenizer):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=16, num_labels=2)
    model = BertForSequenceClassification(cfg)
    whole = TransformersClassifier(model, tokenizer, ["a", "b"], False, 16, long_texts="whole")
    start = TransformersClassifier(model, tokenizer, ["a", "b"], False, 16)
    enc, owner = token_windows(tokenizer, [LONG], 16, whole=True)
    rows = start.predict_proba([tokenizer.decode(ids[1:-1]) for ids in enc["input_ids"]])  # each window alone
    want = (rows * np.array([16, 16, 16, 8])[:, None]).sum(axis=0) / 56
    np.testing.assert_allclose(whole.predict_proba([SHORT, LONG]), [start.predict_proba([SHORT])[0], want], atol=1e-6)
    np.testing.assert_allclose(start.predict_proba([LONG])[0], rows[0], atol=1e-6)  # the start: the first window
