"""Weak rows in train(): appended to the training rows only, weighted, counted in the run, never gold/calib."""

import json
from pathlib import Path

import numpy as np
import pytest

from training.backends import BACKEND_NAMES, BACKENDS, Backend, get_backend
from training.errors import TrainingError
from training.labels import load_labels
from training.registry import Registry
from training.splits import CALIB, GOLD, TRAIN, Splits
from training.train import train

from tests.training.data import LABELS, make_labels

PROBE = ["the striker scored a goal", "the bank cut interest rates", "a new chip for phones"]


class FakeModel:
    def __init__(self, k):
        self.k = k

    def predict_proba(self, texts):
        rng = np.random.default_rng(len(texts))
        P = rng.random((len(texts), self.k)) + 0.1
        return P / P.sum(1, keepdims=True)

    def save(self, path):
        Path(path).mkdir(parents=True)
        (Path(path) / "fake.txt").write_text("fake")


@pytest.fixture
def fake(monkeypatch):
    calls = []

    def fit(texts, y, labels, multi_label, params, seed, sample_weight=None, val_texts=None, val_y=None):
        calls.append({"texts": list(texts), "y": np.asarray(y), "w": sample_weight, "val": val_texts})
        return FakeModel(len(labels))

    logreg = BACKENDS["logreg"]
    monkeypatch.setitem(BACKENDS, "fake", Backend("fake", logreg.params_loader, fit, lambda *a: FakeModel(3)))
    return calls


def _split_texts(tmp_path, name):
    splits = Splits.load(tmp_path / "splits.json")
    df = make_labels().set_index("id")
    return set(df.loc[[i for i, s in splits.assignment.items() if s == name], "text"])


def test_weak_rows_train_only_weighted_and_counted(tmp_path, fake):
    path = tmp_path / "labels.parquet"
    make_labels().to_parquet(path)
    kw = dict(backend="fake", project_dir=tmp_path, min_calibration=3, n_resamples=20)
    plain = train(path, LABELS, **kw)
    gold, calib, trained = (_split_texts(tmp_path, s) for s in (GOLD, CALIB, TRAIN))
    assert len(gold) == 6 and len(calib) == 3 and len(trained) == 21
    weak_texts = ["weak one", "weak two", sorted(gold)[0], sorted(calib)[0], sorted(trained)[0]]
    run = train(path, LABELS, weak=(weak_texts, np.array([0, 1, 2, 0, 1]), 0.25), **kw)

    human, weak = fake
    assert human["w"] is None and plain.info["n_weak"] == 0 and plain.info["weak_weight"] is None
    assert weak["texts"][:21] == human["texts"] and set(human["texts"]) == trained
    assert weak["texts"][21:] == ["weak one", "weak two"]  # labelled texts (gold, calib, train) are dropped
    np.testing.assert_array_equal(weak["y"], np.concatenate([human["y"], [0, 1]]))
    np.testing.assert_array_equal(weak["w"], [1.0] * 21 + [0.25, 0.25])
    assert set(weak["val"]) == calib == set(human["val"])  # calibration/validation: human labels only
    assert not set(weak["texts"]) & gold

    assert run.info["n_weak"] == 2 and run.info["weak_weight"] == 0.25
    assert (run.info["n_train"], run.info["n_gold"], run.info["n_calib"]) == (21, 6, 3)
    assert run.calibrator.n == plain.calibrator.n == 3 and run.metrics["gold"]["n"] == 6
    card = (run.path / "README.md").read_text()
    assert "- trained on 21 human labels + 2 weak labels (weight 0.25); calibration: 3; held-out gold: 6" in card
    assert "down-weighted weak labels" in card
    plain_card = (plain.path / "README.md").read_text()
    assert "- trained on 21 human labels; calibration: 3" in plain_card and "weak labels" not in plain_card
    assert json.loads((run.path / "run.json").read_text())["n_weak"] == 2
    history = [json.loads(h) for h in Registry(tmp_path / "runs").history_path.read_text().splitlines()]
    assert [h["n_weak"] for h in history] == [0, 2]


def test_multi_label_weak_rows(tmp_path, fake):
    path = tmp_path / "labels.parquet"
    make_labels(multi=True).to_parquet(path)
    run = train(path, LABELS, multi_label=True, backend="fake", project_dir=tmp_path, n_resamples=20,
                weak=(["weak a"], np.array([[1, 0, 1]]), 0.5))
    (call,) = fake
    assert call["texts"][-1] == "weak a" and call["y"].shape == (22, 3) and call["y"][-1].tolist() == [1, 0, 1]
    assert call["w"].tolist() == [1.0] * 21 + [0.5] and run.info["n_weak"] == 1  # 3 calibration labels held out


@pytest.mark.parametrize("weak, message", [
    ((["a"], np.array([0]), 0.0), r"weight must be in \(0, 1\], got 0.0"),
    ((["a"], np.array([0]), 1.5), r"weight must be in \(0, 1\], got 1.5"),
    ((["a", "b"], np.array([0]), 0.3), r"weak targets have shape \(1,\); expected \(2,\) for 2 texts"),
    ((["a"], np.array([3]), 0.3), r"class indices in \[0, 3\)"),
    ((["a"], np.array([[0, 1, 0]]), 0.3), r"weak targets have shape \(1, 3\); expected \(1,\)"),
    ("nonsense", r"weak must be \(texts, targets, weight\)"),
])
def test_bad_weak_rows_are_one_line(tmp_path, fake, weak, message):
    path = tmp_path / "labels.parquet"
    make_labels().to_parquet(path)
    with pytest.raises(TrainingError, match=message) as e:
        train(path, LABELS, backend="fake", project_dir=tmp_path, weak=weak)
    assert "\n" not in str(e.value) and not fake


def test_registry_names_every_backend():
    assert BACKEND_NAMES == ("setfit", "transformers", "logreg")
    assert get_backend("logreg").params_cls.__name__ == "SetFitParams"
    assert get_backend("transformers").params_cls.__name__ == "TransformersParams"
    with pytest.raises(TrainingError, match=r"unknown backend 'nope' in runs/x; choose from setfit, transformers, logreg"):
        get_backend("nope", "runs/x")


@pytest.mark.slow
def test_weak_rows_change_the_logreg_model_exactly(tmp_path, monkeypatch):
    import training.train as train_mod
    from training.head import LinearModel

    seen = []
    real_fit = train_mod.fit_model
    monkeypatch.setattr(train_mod, "fit_model", lambda *a, **k: seen.append((list(a[2]), np.asarray(a[3]), k["sample_weight"])) or real_fit(*a, **k))
    path = tmp_path / "labels.parquet"
    make_labels().to_parquet(path)
    weak = (["the keeper was sent off", "bond yields rose sharply", "the robot learns to walk"], np.array([0, 1, 2]), 0.3)
    plain = train(path, LABELS, backend="logreg", project_dir=tmp_path, n_resamples=20, seed=2)
    run = train(path, LABELS, backend="logreg", project_dir=tmp_path, n_resamples=20, seed=2, weak=weak)
    texts, y, w = seen[1]
    assert texts[-3:] == weak[0] and w.tolist() == [1.0] * 21 + [0.3] * 3  # 3 calibration labels held out
    clf = run._model
    manual = LinearModel(3, False, 10.0, 2, 2000).fit(clf.embed(texts), y, w)
    X = clf.embed(PROBE)
    np.testing.assert_array_equal(clf.head.predict_proba(X), manual.predict_proba(X))
    diff = np.abs(run.predict_proba_raw(PROBE) - plain.predict_proba_raw(PROBE)).max()
    assert diff > 1e-3  # the weak rows moved the model
    loaded = Registry(tmp_path / "runs").load(run.run_id)
    np.testing.assert_allclose(loaded.predict_proba_raw(PROBE), run.predict_proba_raw(PROBE), atol=1e-6)


@pytest.mark.slow
def test_setfit_body_sees_only_human_rows():
    from training.setfit_backend import SetFitParams, train_setfit

    t = load_labels(make_labels(), LABELS)
    texts, y = t.texts, t.targets()
    weak_texts, weak_y = ["the keeper was sent off", "bond yields rose sharply"], np.array([0, 1])
    params = SetFitParams(max_steps=2, batch_size=8)
    a = train_setfit(texts, y, LABELS, params=params, seed=0)
    b = train_setfit(texts + weak_texts, np.concatenate([y, weak_y]), LABELS, params=params, seed=0,
                     sample_weight=np.array([1.0] * len(texts) + [0.3, 0.3]))
    np.testing.assert_allclose(a.embed(PROBE), b.embed(PROBE), atol=1e-6)  # same contrastive body
    assert np.abs(a.predict_proba(PROBE) - b.predict_proba(PROBE)).max() > 1e-4  # a different head
    with pytest.raises(TrainingError, match="needs rows of weight 1.0"):
        train_setfit(texts, y, LABELS, params=params, sample_weight=np.full(len(texts), 0.5))


@pytest.mark.slow
def test_transformers_uses_sample_weights():
    from training.transformers_backend import TransformersParams, train_transformers

    t = load_labels(make_labels(), LABELS)
    texts, y = t.texts, t.targets()
    params = TransformersParams(max_steps=3, min_steps=1, batch_size=8)
    base = train_transformers(texts, y, LABELS, params=params, seed=0).predict_proba(PROBE)
    unit = train_transformers(texts, y, LABELS, params=params, seed=0, sample_weight=np.ones(len(texts))).predict_proba(PROBE)
    np.testing.assert_allclose(unit, base, atol=1e-5)  # unit weights: the same loss
    w = np.where(np.arange(len(texts)) % 2 == 0, 0.1, 1.0)
    weighted = train_transformers(texts, y, LABELS, params=params, seed=0, sample_weight=w).predict_proba(PROBE)
    assert np.abs(weighted - base).max() > 1e-4


def test_given_splits_replace_the_split_file(tmp_path, fake):
    path = tmp_path / "labels.parquet"
    df = make_labels()
    df.to_parquet(path)
    ids = df["id"].tolist()
    splits = {i: ("gold" if n % 5 == 0 else "calib" if n % 5 == 1 else "train") for n, i in enumerate(ids)}
    run = train(path, LABELS, backend="fake", project_dir=tmp_path, n_resamples=20, min_calibration=3, splits=splits,
                weak=([df["text"][0], "weak one"], np.array([0, 2]), 0.5))
    assert not (tmp_path / "splits.json").exists()
    (call,) = fake
    texts = df.set_index("id")["text"]
    assert sorted(call["texts"][:-1]) == sorted(texts[i] for i in ids if splits[i] == "train")
    assert call["texts"][-1] == "weak one"  # the weak copy of a labelled text is dropped
    assert set(call["val"]) == {texts[i] for i in ids if splits[i] == "calib"}
    assert (run.info["n_gold"], run.info["n_calib"], run.info["n_train"], run.info["n_weak"]) == (6, 6, 18, 1)
    assert run.config["split"]["given"] == {"gold": 6, "calib": 6, "train": 18}
    del splits[ids[3]]
    with pytest.raises(TrainingError, match=r"no gold/calib/train split for 1 labelled record\(s\), e.g. 'sports-3' \('missing'\)"):
        train(path, LABELS, backend="fake", project_dir=tmp_path, splits=splits)
