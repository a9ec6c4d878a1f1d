"""The templated zero-shot signal (SetFit's recipe): shape and label order, one training per label set and
machine (reloaded from the cache folder afterwards), fingerprints, one-line errors, config validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labeler.errors import LabelerError
from labeler.signals import templated
from labeler.signals.base import SignalConfigError
from labeler.signals.cache import score_cached
from labeler.signals.catalog import SIGNAL_TYPES, build_signal, validate_params

LABELS = [{"name": "Sports", "description": "games, teams and players"},
          {"name": "Business", "description": "companies, markets and the economy"},
          {"name": "sci_tech"}]
TEXTS = ["The team won the game in overtime.", "Shares of the company fell as markets slid.",
         "sci tech", "", "zzz " * 300]
FAST = {"max_steps": 2, "sample_size": 2, "num_iterations": 1, "batch_size": 4}


def signal(labels=LABELS, params=FAST, cache_dir=None, multi_label=False):
    return build_signal("templated", "tpl", labels, multi_label, dict(params), cache_dir=cache_dir)


def test_registered_and_defaults_are_the_bench_winner():
    assert SIGNAL_TYPES["templated"] is templated.TemplatedSignal
    assert validate_params("templated", {}) == {
        "model": None, "template": "This sentence is {}", "sample_size": 8, "num_iterations": 5,
        "max_steps": 60, "batch_size": 16, "seed": 0, "device": "auto"}


@pytest.mark.parametrize("params, message", [
    ({"template": "no slot here"}, "bad params for signal type 'templated': template: Value error, template needs "
                                   "exactly one {} for the label text, e.g. 'This sentence is {}' (got 'no slot here')"),
    ({"template": "{} and {}"}, "template needs exactly one {}"),
    ({"template": "{name}"}, "template needs exactly one {}"),
    ({"max_steps": -1}, "max_steps: Input should be greater than or equal to 0 (got -1)"),
    ({"sample_size": 0}, "sample_size: Input should be greater than or equal to 1 (got 0)"),
    ({"steps": 5}, "unknown key 'steps' (valid: batch_size, device, max_steps, model, num_iterations, sample_size, "
                   "seed, template)"),
])
def test_bad_params_are_one_line(params, message):
    with pytest.raises(SignalConfigError) as err:
        validate_params("templated", params)
    assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(SignalConfigError):
        signal(params={**FAST, **params})


def test_multi_label_is_refused_in_one_line():
    with pytest.raises(SignalConfigError) as err:
        signal(multi_label=True)
    assert str(err.value) == ("signal 'tpl': type templated is single-label only (one softmax over the labels); "
                              "use type: embedding for a multi-label task")


def test_unloadable_model_is_one_line(tmp_path):
    sig = signal(params={**FAST, "model": "/no/such/minilm"}, cache_dir=tmp_path)
    with pytest.raises(LabelerError) as err:
        sig.predict_proba(["a text"])
    msg = str(err.value)
    assert msg.startswith("cannot load templated model '/no/such/minilm': not found locally") and "\n" not in msg
    assert not (tmp_path / "templated" / sig.model_key()).exists()


def test_label_texts_fingerprint_and_model_key():
    sig = signal()
    assert sig.label_texts == ["games, teams and players", "companies, markets and the economy", "sci tech"]
    names_only = signal(labels=[lab["name"] for lab in LABELS])
    assert names_only.label_texts == ["Sports", "Business", "sci tech"]
    other_desc = signal(labels=[LABELS[0], {**LABELS[1], "description": "money"}, LABELS[2]])
    fps = {s.fingerprint() for s in (sig, names_only, other_desc)}
    keys = {s.model_key() for s in (sig, names_only, other_desc)}
    assert len(fps) == 3 and len(keys) == 3
    assert signal(params={**FAST, "template": "It is about {}."}).fingerprint() != sig.fingerprint()
    assert signal(params={**FAST, "seed": 1}).model_key() != sig.model_key()
    assert signal(labels=LABELS[::-1]).model_key() != sig.model_key()
    renamed = build_signal("templated", "other-name", LABELS, False, dict(FAST))
    assert renamed.fingerprint() == sig.fingerprint() and renamed.model_key() == sig.model_key()
    on_cpu = signal(params={**FAST, "device": "cpu"})
    assert on_cpu.model_key() == sig.model_key()  # the device is not part of the trained model's key


@pytest.mark.slow
def test_trains_once_then_loads_from_the_cache_folder(tmp_path):
    templated._MODELS.clear()
    sig = signal(cache_dir=tmp_path)
    key = sig.model_key()
    before = templated.TRAININGS.get(key, 0)
    P = sig.predict_proba(TEXTS)
    assert P.shape == (5, 3) and P.dtype == np.float64
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-9)
    assert (P >= 0).all() and sig.predict_proba([]).shape == (0, 3)
    assert list(P[:2].argmax(axis=1)) == [0, 1]
    assert templated.TRAININGS[key] == before + 1
    folder = tmp_path / "templated" / key
    assert sig.model_dir() == folder
    info = json.loads((folder / "templated.json").read_text())
    assert info["labels"] == ["Sports", "Business", "sci_tech"] and info["label_texts"] == sig.label_texts
    assert info["params"]["max_steps"] == 2 and info["train_seconds"] > 0
    assert sorted(p.name for p in (tmp_path / "templated").iterdir()) == [key, f"{key}.lock"]  # no leftover temp dir
    mtime = (folder / "templated.json").stat().st_mtime_ns

    templated._MODELS.clear()  # a new process: nothing in memory, the folder is there
    again = signal(cache_dir=tmp_path)
    np.testing.assert_allclose(again.predict_proba(TEXTS), P, atol=1e-6)
    assert templated.TRAININGS[key] == before + 1  # loaded, not trained
    assert (folder / "templated.json").stat().st_mtime_ns == mtime

    # per-text predictions go through the prediction cache like every other signal's
    ids = [f"r{i}" for i in range(len(TEXTS))]
    first = score_cached(again, ids, TEXTS, tmp_path / "preds", progress=False)
    np.testing.assert_allclose(first, P, atol=1e-6)
    cached = signal(cache_dir=tmp_path)
    cached._predict = lambda texts: pytest.fail(f"predicted {len(texts)} cached texts again")
    np.testing.assert_array_equal(score_cached(cached, ids, TEXTS, tmp_path / "preds", progress=False), first)


@pytest.mark.slow
def test_label_order_and_head_only_without_cache_folder():
    templated._MODELS.clear()
    params = {**FAST, "max_steps": 0}
    sig, rev = signal(params=params), signal(labels=LABELS[::-1], params=params)
    assert sig.model_dir() is None
    P, R = sig.predict_proba(TEXTS[:2]), rev.predict_proba(TEXTS[:2])
    assert [sig.labels[i] for i in P.argmax(axis=1)] == ["Sports", "Business"]
    assert [rev.labels[i] for i in R.argmax(axis=1)] == ["Sports", "Business"]
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-9)
    key = sig.model_key()
    trained = templated.TRAININGS[key]
    np.testing.assert_allclose(signal(params=params).predict_proba(TEXTS[:2]), P)  # same process: kept in memory
    assert templated.TRAININGS[key] == trained


def test_a_config_names_it_and_a_bad_template_is_one_line(tmp_path):
    import yaml

    from labeler.config import load_config
    from labeler.loop.scoring import build_signals

    raw = {"data": {"path": "data.jsonl"}, "project": {"dir": str(tmp_path / "proj")},
           "task": {"labels": [{"name": "spam", "description": "unwanted ads"}, {"name": "ham"}]},
           "signals": [{"type": "templated", "params": {"max_steps": 30}}]}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path)
    (sig,) = build_signals(config)
    assert isinstance(sig, templated.TemplatedSignal) and sig.name == "templated"
    assert sig.params.max_steps == 30 and sig.label_texts == ["unwanted ads", "ham"]
    assert sig.model_dir().parent.parent == sig.cache_dir  # the project's cache folder
    with pytest.raises(LabelerError) as err:
        load_config(path, ["signals.0.params.template=This is it"])
    assert str(err.value) == (f"{path}: signals.0 (templated): bad params for signal type 'templated': template: "
                              f"Value error, template needs exactly one {{}} for the label text, e.g. "
                              f"'This sentence is {{}}' (got 'This is it')")
