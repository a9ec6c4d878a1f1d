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


def test_multi_label_balanced_weighs_each_labels_positives_like_its_negatives():
    import numpy as np
    import torch
    from transformers import BertConfig, BertForSequenceClassification, TrainingArguments

    from training.transformers_backend import _trainer_class, positive_weights

    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0]])
    assert positive_weights(Y).tolist() == [1.0, 3.0, 1.0]  # 2:2, 3 negatives per positive, no positive: 1
    assert positive_weights(Y, np.array([1.0, 1.0, 0.5, 0.5])).tolist() == [0.5, 2.0, 1.0]  # weighted counts
    # the loss: BCE with those pos_weights, the mean over labels and examples (no example weights)
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=16, num_labels=3,
                                                     problem_type="multi_label_classification")).eval()
    trainer = _trainer_class()(model=model, args=TrainingArguments(output_dir="/tmp/unused", report_to="none",
                                                                   use_cpu=True),
                               class_weights=torch.tensor(positive_weights(Y), dtype=torch.float32), multi_label=True)
    inputs = {"input_ids": torch.tensor([[1, 5, 2]] * 4), "attention_mask": torch.ones(4, 3, dtype=torch.long),
              "labels": torch.tensor(Y, dtype=torch.float32)}
    loss = trainer.compute_loss(model, dict(inputs))
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, inputs["labels"], pos_weight=torch.tensor([1.0, 3.0, 1.0]))
    assert torch.allclose(loss, expected)
