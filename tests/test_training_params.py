"""What the product passes to a fine-tune: the config's training.params, plus SetFit's label texts."""

from __future__ import annotations

import yaml

from labeler.config import load_config
from labeler.loop.runs import training_params


def config(tmp_path, multi_label=False, params=None, overrides=()):
    raw = {"data": {"path": "data.jsonl"},
           "task": {"multi_label": multi_label,
                    "labels": [{"name": "card_payment_fee_charged", "description": "A fee was charged for a card payment."},
                               "lost_or_stolen_card"]},
           "training": {"params": params or {}}}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, overrides)


def test_setfit_single_label_runs_get_one_templated_example_per_label(tmp_path):
    params = training_params(config(tmp_path, params={"max_steps": 10}), "setfit")
    assert params == {"max_steps": 10, "label_texts": ["This sentence is A fee was charged for a card payment.",
                                                       "This sentence is lost or stolen card"]}


def test_label_texts_off_by_config_and_for_other_backends(tmp_path):
    assert training_params(config(tmp_path, params={"label_texts": None}), "setfit") == {"label_texts": None}
    assert training_params(config(tmp_path), "transformers") == {}
    assert training_params(config(tmp_path), "logreg") == {}
    assert training_params(config(tmp_path, multi_label=True, params={"label_texts": None}), "setfit") == {"label_texts": None}


def test_setfit_multi_label_runs_get_label_texts_too(tmp_path):
    """Measured on NLU++ banking (bench/bench_ml_label_texts.py): they help a multi-label head as well."""
    assert training_params(config(tmp_path, multi_label=True), "setfit") == {
        "label_texts": ["This sentence is A fee was charged for a card payment.", "This sentence is lost or stolen card"]}
    assert training_params(config(tmp_path, multi_label=True), "logreg") == {}
