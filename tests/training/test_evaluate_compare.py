import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from training.compare import compare
from training.evaluate import bootstrap_ci, evaluate, learning_curve, paired_bootstrap, read_history, append_history
from training.report import write_report


def onehot(pred, k=3, conf=0.8):
    P = np.full((len(pred), k), (1 - conf) / (k - 1))
    P[np.arange(len(pred)), pred] = conf
    return P


def test_single_label_metrics_hand_computed():
    y = np.array([0, 0, 1, 1, 2, 2, 1])
    P = onehot([0, 1, 1, 1, 2, 0, 0])
    P[6] = np.nan  # abstains
    m = evaluate(P, y, ["a", "b", "c"])
    assert (m["n"], m["n_covered"], m["coverage"]) == (7, 6, pytest.approx(6 / 7))
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2}
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3) and m["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert m["per_class"]["c"]["recall"] == 0.5 and m["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert m["macro_f1"] == pytest.approx(f1_score(y[:6], [0, 1, 1, 1, 2, 0], average="macro"))
    assert m["micro_f1"] == pytest.approx(4 / 6)
    # confidence 0.8 everywhere, right 4/6: ECE = |0.8 - 2/3|
    assert m["ece"] == pytest.approx(0.8 - 4 / 6)


def test_multi_label_metrics_hand_computed():
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    P = np.array([[0.9, 0.1], [0.8, 0.3], [0.2, 0.7], [0.6, 0.4]])  # predicted [1,0] [1,0] [0,1] [1,0]
    m = evaluate(P, Y, ["x", "y"], multi_label=True)
    assert m["accuracy"] == 0.5  # exact match on rows 0 and 2
    assert m["per_class"]["x"]["precision"] == pytest.approx(2 / 3) and m["per_class"]["x"]["f1"] == pytest.approx(0.8)
    assert m["per_class"]["y"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2, "predicted": 1}
    assert m["micro_f1"] == pytest.approx(0.75)
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert m["confusion"][0] == [[1, 1], [0, 2]]  # label x: tn fp / fn tp


def test_bootstrap_is_seeded_and_degenerate_cases_are_exact():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 80)
    P = onehot(np.where(rng.random(80) < 0.75, y, (y + 1) % 3))
    a = bootstrap_ci(P, y, "accuracy", n_resamples=300, seed=3)
    assert a == bootstrap_ci(P, y, "accuracy", n_resamples=300, seed=3)
    assert a["lo"] < a["value"] < a["hi"] and a["n"] == 80
    # same resamples by hand: the percentile interval of resampled accuracies
    idx = np.random.default_rng(3).integers(0, 80, size=(300, 80))
    accs = ((P.argmax(1) == y)[idx]).mean(1)
    assert (a["lo"], a["hi"]) == pytest.approx(tuple(np.percentile(accs, [2.5, 97.5])))
    perfect = bootstrap_ci(onehot(y), y, "macro_f1", n_resamples=100)
    assert (perfect["value"], perfect["lo"], perfect["hi"]) == (1.0, 1.0, 1.0)
    d = paired_bootstrap(onehot(y), onehot((y + 1) % 3), y, n_resamples=100)
    assert (d["diff"], d["lo"], d["hi"], d["p_value"], d["n"]) == (1.0, 1.0, 1.0, 0.0, 80)
    same = paired_bootstrap(P, P, y, n_resamples=100)
    assert (same["diff"], same["lo"], same["hi"], same["p_value"]) == (0.0, 0.0, 0.0, 1.0)


def _systems(n=100, right_a=90, right_b=60):
    y = np.arange(n) % 3
    pa = np.where(np.arange(n) < right_a, y, (y + 1) % 3)
    pb = np.where(np.arange(n) < right_b, y, (y + 2) % 3)
    return y, onehot(pa), onehot(pb)


def test_compare_verdicts():
    y, A, B = _systems()
    r = compare({"nli": B, "run-1": A}, y, ["a", "b", "c"], kinds={"run-1": "fine-tuned", "nli": "zero-shot"}, n_resamples=500)
    assert r.primary == "run-1"
    assert r.diffs["nli"]["diff"] == pytest.approx(0.3)
    assert r.verdict.startswith("fine-tuned run-1 beats zero-shot nli by +0.300 accuracy (95% CI +")
    assert r.verdict.endswith(") on 100 gold labels")
    lo, hi = r.diffs["nli"]["lo"], r.diffs["nli"]["hi"]
    assert 0.18 < lo < 0.3 < hi < 0.42
    y, A, B = _systems(right_a=61, right_b=60)
    r = compare({"run-1": A, "nli": B}, y, ["a", "b", "c"], kinds={"run-1": "fine-tuned", "nli": "zero-shot"}, n_resamples=500)
    assert r.verdict.startswith("fine-tuned run-1 does not beat zero-shot nli: +0.010 accuracy (95% CI ")
    assert "CI includes 0) on 100 gold labels" in r.verdict
    # an abstaining rule is compared on the rows it covers
    R = B.copy()
    R[:40] = np.nan
    r = compare({"run-1": A, "rules": R}, y, ["a", "b", "c"], n_resamples=200)
    assert r.systems["rules"].metrics["coverage"] == 0.6
    assert "on the 60 of 100 gold labels both cover" in r.verdict
    with pytest.raises(ValueError, match="expected \\(100, 3\\)"):
        compare({"bad": A[:, :2]}, y, ["a", "b", "c"])


def test_report_files(tmp_path):
    y, A, B = _systems()
    r = compare({"run-1": A, "nli": B}, y, ["a", "b", "c"], kinds={"run-1": "fine-tuned"}, n_resamples=100)
    hist = tmp_path / "history.jsonl"
    append_history(hist, {"round": 2, "n_labels": 80, "metrics": {"accuracy": 0.8}})
    append_history(hist, {"round": 1, "n_labels": 40, "metrics": {"accuracy": 0.7}})
    history = read_history(hist)
    assert learning_curve(history) == [(1, 40, 0.7), (2, 80, 0.8)]
    paths = write_report(r, tmp_path / "report", history=history)
    for key in ("markdown", "json", "metrics_png", "confusion_run-1", "confusion_nli", "learning_curve_png"):
        assert paths[key].exists() and paths[key].stat().st_size > 0
    md = paths["markdown"].read_text()
    assert r.verdict in md and "| run-1 | fine-tuned |" in md
    data = json.loads(paths["json"].read_text())
    assert data["verdict"] == r.verdict and data["systems"]["run-1"]["metrics"]["accuracy"] == 0.9
    assert "run-1" in r.table() and r.verdict in r.table()
