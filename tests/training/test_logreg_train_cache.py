"""Issue 26.4: a logreg run trains from the embedding signal's cached vectors and references its frozen body.

The vectors a cache gives are the body's own (the packaged MiniLM, untouched), so the run predicts what a run
that encoded its texts itself predicts; a text past the run's 128 tokens is still encoded by the body (whole, in
windows). The run
folder holds the head and ``body.json``, not a copy of the body; a folder saved before, with the body copied,
still loads and predicts the same.
"""

import json
import shutil

import numpy as np
import pytest

import training.setfit_backend as sb
from training.body import DEFAULT_BODY
from training.registry import load_run
from training.train import train

from tests.training.data import LABELS, make_labels

PROBE = ["the striker scored a goal", "the bank cut interest rates", "a new chip for phones"]
LONG = "the match went to extra time and then to penalties " * 40  # > 128 tokens


@pytest.mark.slow
def test_logreg_run_trained_from_cached_vectors_predicts_as_one_that_encoded(tmp_path, monkeypatch):
    from labeler.signals.embedding import EmbeddingSignal
    from labeler.signals.finetuned import cached_body

    path = tmp_path / "labels.parquet"
    make_labels(per_class=8).to_parquet(path)
    weak = (["the keeper was sent off", LONG], np.array([0, 0]), 0.5)
    plain = train(path, LABELS, backend="logreg", project_dir=tmp_path / "a", min_calibration=3, n_resamples=20,
                  weak=weak)
    encoded = []  # texts the run's own body encodes while training from the cache
    real_body = sb.load_body

    def body(name, max_length):
        st = real_body(name, max_length)
        real_encode = st.encode
        st.encode = lambda texts, **kw: encoded.extend(texts) or real_encode(texts, **kw)
        return st

    monkeypatch.setattr(sb, "load_body", body)
    monkeypatch.setattr(sb, "_SEEN", {})  # the vectors the plain run's training saw in this process: forgotten
    emb = EmbeddingSignal("embedding", LABELS, False, {}, cache_dir=tmp_path / "cache")
    embed = cached_body(emb, DEFAULT_BODY, 128)
    cached = train(path, LABELS, backend="logreg", project_dir=tmp_path / "b", min_calibration=3, n_resamples=20,
                   weak=weak, embed=embed)
    # training, calibration and gold texts came from the cache; the long one did not fit: the body read it whole,
    # in windows between words (training.windows)
    assert len(encoded) == 4 and " ".join(encoded) == LONG.strip()
    assert cached.info["n_weak"] == 2 and cached.calibrator.kind == plain.calibrator.kind == "temperature"
    texts = [*PROBE, LONG]
    monkeypatch.setattr(sb, "_SEEN", {})
    P_plain = load_run(plain.run_id, tmp_path / "a" / "runs").predict_proba(texts)
    P_cached = load_run(cached.run_id, tmp_path / "b" / "runs").predict_proba(texts)
    assert np.abs(P_cached - P_plain).max() < 2e-6
    assert (P_cached.argmax(1) == [0, 1, 2, 0]).all()
    assert cached.metrics["gold"]["accuracy"] == plain.metrics["gold"]["accuracy"]

    # the folder references the body: no copy of its weights
    model_dir = cached.model_dir
    assert sorted(p.name for p in model_dir.iterdir()) == ["body.json", "model_head.pkl"]
    assert json.loads((model_dir / "body.json").read_text()) == {"body": DEFAULT_BODY, "max_length": 128,
                                                                 "long_texts": "whole"}
    assert sum(p.stat().st_size for p in model_dir.iterdir()) < 100_000

    # a run saved before this change (SetFit format, the body copied) loads as before and predicts the same
    from setfit import SetFitModel

    old = tmp_path / "b" / "runs" / "old-logreg"
    shutil.copytree(cached.path, old)
    shutil.rmtree(old / "model")
    head = load_run(cached.run_id, tmp_path / "b" / "runs").model.head
    SetFitModel(model_body=real_body(DEFAULT_BODY, 128), model_head=head, labels=LABELS).save_pretrained(str(old / "model"))
    old_run = load_run("old-logreg", tmp_path / "b" / "runs")
    assert type(old_run.model).__name__ == "SetFitClassifier" and (old / "model" / "model.safetensors").exists()
    # the same on the texts that fit; the long one it reads from the start, as runs saved then did
    np.testing.assert_allclose(old_run.predict_proba(texts)[:3], P_cached[:3], atol=1e-6)
    assert old_run.model.long_texts == "start" and np.abs(old_run.predict_proba([LONG]) - P_cached[3:]).max() > 1e-5
    np.testing.assert_allclose(old_run.predict_proba_from_embeddings(emb.encode(PROBE)), P_cached[:3], atol=1e-6)


@pytest.mark.slow
def test_a_projects_logreg_run_trains_from_the_embedding_cache(tmp_path, monkeypatch):
    """``runs.train_project`` (``labeler train``, ``labeler round``) hands a logreg run the embedding signal's
    vectors: its own body never loads; a SetFit run gets none (it fine-tunes its body)."""
    import training.train as train_mod
    from labeler.config import load_config
    from labeler.loop.runs import body_cache, train_project
    from tests.test_train_cli import make_project

    given = []
    real_fit = train_mod.fit_model
    monkeypatch.setattr(train_mod, "fit_model", lambda *a, **k: given.append(k.get("embed")) or real_fit(*a, **k))
    config = load_config(make_project(tmp_path, min_per_class=8))
    run = train_project(config, n_resamples=20)
    assert len(given) == 1 and callable(given[0]) and run._model._encoder is None
    assert (run.model_dir / "body.json").exists() and not (run.model_dir / "model.safetensors").exists()
    # loaded again in the same process (``labeler round`` compares the new run on gold): the texts training saw
    # (training, calibration, gold) are not encoded again
    again = load_run(run.run_id, run.path.parent)
    P = again.predict_proba(make_labels(10)["text"].tolist())
    assert again.model._encoder is None and P.shape == (30, 3)
    np.testing.assert_allclose(P, run.predict_proba(make_labels(10)["text"].tolist()), atol=1e-12)
    assert body_cache(config, "setfit", {}) is None
    assert body_cache(config, "logreg", {"body": "some/other-model"}) is None


def test_a_broken_body_reference_is_one_training_error(tmp_path):
    from training.errors import TrainingError
    from training.setfit_backend import BODY_FILE, FrozenBodyClassifier

    (tmp_path / BODY_FILE).write_text("{not json")
    with pytest.raises(TrainingError, match="no readable logreg head"):
        FrozenBodyClassifier.load(tmp_path, ["a", "b"], False)
    (tmp_path / BODY_FILE).write_text('{"body": "minilm", "max_length": 128}')  # no model_head.pkl beside it
    with pytest.raises(TrainingError, match="FileNotFoundError"):
        FrozenBodyClassifier.load(tmp_path, ["a", "b"], False)
