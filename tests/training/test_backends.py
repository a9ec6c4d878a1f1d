"""Both backends on the packaged MiniLM, 30 short texts, a handful of steps."""

import numpy as np
import pytest

from training.head import LinearModel
from training.labels import load_labels
from training.setfit_backend import SetFitParams, train_logreg, train_setfit

from tests.training.data import LABELS, make_labels

pytestmark = pytest.mark.slow

PROBE = ["the striker scored a goal", "the bank cut interest rates", "a new chip for phones"]


@pytest.fixture(scope="module")
def single():
    t = load_labels(make_labels(), LABELS)
    return t.texts, t.targets()


@pytest.fixture(scope="module")
def multi():
    t = load_labels(make_labels(multi=True), LABELS, multi_label=True)
    return t.texts, t.targets()


def test_setfit_single_label_seeded_and_saved(single, tmp_path):
    from setfit import SetFitModel

    texts, y = single
    params = SetFitParams(max_steps=2, batch_size=8)
    a = train_setfit(texts, y, LABELS, params=params, seed=7)
    b = train_setfit(texts, y, LABELS, params=params, seed=7)
    Pa = a.predict_proba(PROBE)
    assert Pa.shape == (3, 3) and np.allclose(Pa.sum(1), 1)
    np.testing.assert_allclose(Pa, b.predict_proba(PROBE), atol=1e-6)  # same seed, same model
    assert (Pa.argmax(1) == [0, 1, 2]).all()
    a.save(tmp_path / "m")
    loaded = SetFitModel.from_pretrained(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(PROBE, as_numpy=True), Pa, atol=1e-6)
    assert isinstance(loaded.model_head, LinearModel) and loaded.model_head.balanced  # the shared balanced head


def test_setfit_multi_label_one_vs_rest(multi):
    texts, Y = multi
    clf = train_setfit(texts, Y, LABELS, multi_label=True, params=SetFitParams(max_steps=2, batch_size=8), seed=0)
    P = clf.predict_proba(PROBE)
    assert P.shape == (3, 3) and ((P >= 0) & (P <= 1)).all()
    assert not np.allclose(P.sum(1), 1)  # independent per-label probabilities
    assert (P.argmax(1) == [0, 1, 2]).all()  # and each probe's own label ranks first


@pytest.mark.parametrize("strategy", ["multi-output", "classifier-chain"])
def test_other_multi_target_strategies(multi, strategy):
    texts, Y = multi
    clf = train_logreg(texts, Y, LABELS, multi_label=True, params=SetFitParams(multi_target_strategy=strategy))
    P = clf.predict_proba(PROBE)
    assert P.shape == (3, 3) and ((P >= 0) & (P <= 1)).all()
    assert (P.argmax(1) == [0, 1, 2]).all()


def test_bad_strategy_is_rejected(multi):
    with pytest.raises(ValueError, match="multi_target_strategy 'nope'"):
        train_setfit(*multi, LABELS, multi_label=True, params=SetFitParams(multi_target_strategy="nope"))


def test_logreg_missing_class_gets_zero_column(single):
    texts, y = single
    keep = y != 2
    clf = train_logreg([t for t, k in zip(texts, keep) if k], y[keep], LABELS)
    P = clf.predict_proba(PROBE)
    assert P.shape == (3, 3) and (P[:, 2] == 0).all() and np.allclose(P.sum(1), 1)


def test_transformers_multi_label(multi, tmp_path):
    from transformers import AutoConfig

    from training.transformers_backend import TransformersClassifier, TransformersParams, train_transformers

    texts, Y = multi
    clf = train_transformers(texts, Y, LABELS, multi_label=True, params=TransformersParams(max_steps=2, batch_size=8), seed=0,
                             val_texts=texts[:6], val_y=Y[:6])
    P = clf.predict_proba(PROBE)
    assert P.shape == (3, 3) and ((P > 0) & (P < 1)).all()
    clf.save(tmp_path / "m")
    cfg = AutoConfig.from_pretrained(tmp_path / "m")
    assert cfg.problem_type == "multi_label_classification" and cfg.id2label == dict(enumerate(LABELS))
    again = TransformersClassifier.load(tmp_path / "m", LABELS, True)
    np.testing.assert_allclose(again.predict_proba(PROBE), P, atol=1e-5)


def test_quiet_drops_torchs_cpu_pin_memory_warning_only():
    import warnings

    from training.body import quiet

    quiet()
    with warnings.catch_warnings(record=True) as seen:
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                      "memory won't be used.", UserWarning)
        warnings.warn("something else the user should see", UserWarning)
    assert [str(w.message) for w in seen] == ["something else the user should see"]
