"""The CUDA path: training and inference on a GPU give what the CPU gives. Skipped without a CUDA device.

These run in the ordinary test command wherever torch sees a GPU (a CUDA build of torch 2.13.0 is then needed
in the virtual environment); on this project's 2-core CPU machine they skip with the reason.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to torch (CPU-only machine or CPU build)"),
]

PROBE = ["the striker scored a goal", "the bank cut interest rates", "a new chip for phones"]


def test_embedding_signal_on_cuda_matches_cpu():
    from labeler.signals.catalog import build_signal

    labels = ["sports", "business", "tech"]
    auto = build_signal("embedding", "zs", labels, params={"device": "auto"})
    assert auto.device == "cuda"
    cpu = build_signal("embedding", "zs", labels, params={"device": "cpu"})
    np.testing.assert_allclose(auto.predict_proba(PROBE), cpu.predict_proba(PROBE), atol=1e-4)


def test_setfit_trains_and_predicts_on_cuda(tmp_path):
    from training.labels import load_labels
    from training.setfit_backend import SetFitClassifier, SetFitParams, train_setfit

    from tests.training.data import LABELS, make_labels

    t = load_labels(make_labels(), LABELS)
    clf = train_setfit(t.texts, t.targets(), LABELS, params=SetFitParams(max_steps=4, batch_size=8), seed=0)
    assert clf.model.model_body.device.type == "cuda"
    P = clf.predict_proba(PROBE)
    assert P.shape == (3, 3) and np.allclose(P.sum(1), 1)
    clf.save(tmp_path / "m")
    again = SetFitClassifier.load(tmp_path / "m", LABELS, False)
    np.testing.assert_allclose(again.predict_proba(PROBE), P, atol=1e-4)


def test_transformers_trains_with_mixed_precision_and_predicts_on_cuda(tmp_path):
    from training.labels import load_labels
    from training.transformers_backend import TransformersClassifier, TransformersParams, train_transformers

    from tests.training.data import LABELS, make_labels

    t = load_labels(make_labels(), LABELS)
    clf = train_transformers(t.texts, t.targets(), LABELS, params=TransformersParams(max_steps=4, batch_size=8), seed=0)
    assert next(clf.model.parameters()).device.type == "cuda"
    P = clf.predict_proba(PROBE)
    clf.save(tmp_path / "m")
    again = TransformersClassifier.load(tmp_path / "m", LABELS, False)
    np.testing.assert_allclose(again.predict_proba(PROBE), P, atol=1e-4)
    clf.model.to("cpu")
    np.testing.assert_allclose(clf.predict_proba(PROBE), P, atol=1e-3)  # the same weights on the CPU
