"""The transformers backend's step budget and optimizer groups (no training: fast)."""

import pytest

from training.transformers_backend import TransformersParams, _optimizer, train_steps


@pytest.mark.parametrize(
    "n, params, expected",
    [
        (32, TransformersParams(), 100),  # 10 epochs of 32 = 20 steps: raised to min_steps
        (616, TransformersParams(), 385),  # BANKING77 at 8 per class: ceil(10 * 616 / 16)
        (4928, TransformersParams(), 1000),  # 3,080 steps capped at max_steps
        (4928, TransformersParams(max_steps=-1), 3080),  # no cap
        (100, TransformersParams(max_steps=2), 2),  # the cap wins over min_steps (tests, smoke runs)
        (50, TransformersParams(num_epochs=2.5, min_steps=1, batch_size=8), 16),  # ceil(15.6)
    ],
)
def test_train_steps_follow_the_data(n, params, expected):
    assert train_steps(n, params) == expected


def test_bad_step_settings_are_rejected():
    with pytest.raises(ValueError, match="max_steps must be positive"):
        TransformersParams(max_steps=0).validate(False)
    with pytest.raises(ValueError, match="num_epochs, min_steps and batch_size must be positive"):
        TransformersParams(num_epochs=0).validate(False)


def test_head_gets_its_own_learning_rate_and_no_decay_on_biases():
    from transformers import BertConfig, BertForSequenceClassification

    cfg = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                     num_labels=3)
    model = BertForSequenceClassification(cfg)
    opt = _optimizer(model, TransformersParams(learning_rate=1e-4, head_learning_rate=3e-3, weight_decay=0.01))
    by_param = {id(p): (g["lr"], g["weight_decay"]) for g in opt.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert by_param[id(named["classifier.weight"])] == (3e-3, 0.01)
    assert by_param[id(named["classifier.bias"])] == (3e-3, 0.0)
    assert by_param[id(named["bert.pooler.dense.weight"])] == (1e-4, 0.01)
    assert by_param[id(named["bert.embeddings.LayerNorm.weight"])] == (1e-4, 0.0)
    assert len(by_param) == len(named)  # every trainable parameter is in exactly one group
    same = _optimizer(model, TransformersParams(learning_rate=1e-4, head_learning_rate=None))
    assert {g["lr"] for g in same.param_groups} == {1e-4}
