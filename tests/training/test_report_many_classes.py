"""The report always arrives, stays readable at 150 classes and at 2, and never trips on an interval that
excludes its estimate (the `labeler compare` crash of issue 11)."""

import csv
import json

import numpy as np
import pytest

import training.report as report
from training.compare import compare, verdict_line
from training.evaluate import bootstrap_ci, top_confusions
from training.report import rank_classes, write_report
from training.report_plots import confused_classes


def onehot(pred, k, conf=0.8):
    P = np.full((len(pred), k), (1 - conf) / (k - 1))
    P[np.arange(len(pred)), pred] = conf
    return P


def md_table(md: str, after: str) -> list[str]:
    """The data rows of the first Markdown table after the line ``after``."""
    lines = md.split("\n")
    i = lines.index(after) + 1
    while not lines[i].startswith("|"):
        i += 1
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        rows.append(lines[i])
        i += 1
    return rows[2:]  # header and rule


def test_interval_that_excludes_its_estimate_is_reported_and_plotted(tmp_path):
    # 5 classes of 20, all right; 50 one-example classes, all predicted as class 0. A resample leaves about a
    # third of the one-example classes out and macro-F1 averages the classes present: the estimate lies
    # below every resample's score, so the old error bar (value - lo) was negative.
    y = np.array([c for c in range(5) for _ in range(20)] + list(range(5, 55)))
    A = onehot(np.where(y < 5, y, 0), 55)
    B = onehot(np.where(y < 5, y, 1), 55)
    ci = bootstrap_ci(A, y, "macro_f1", n_resamples=200)
    assert ci["value"] == pytest.approx(0.0808, abs=1e-4) and ci["value"] < ci["lo"] < ci["hi"]
    labels = [f"c{i}" for i in range(55)]
    r = compare({"run-1": A, "nli": B}, y, labels, kinds={"run-1": "fine-tuned", "nli": "zero-shot"}, n_resamples=200)
    assert r.systems["run-1"].ci["macro_f1"]["value"] < r.systems["run-1"].ci["macro_f1"]["lo"]
    paths = write_report(r, tmp_path)
    assert paths["warnings"] == []
    for key in ("markdown", "json", "metrics_png", "diffs_png", "confusion_run-1", "per_class_csv"):
        assert paths[key].exists() and paths[key].stat().st_size > 0
    md = paths["markdown"].read_text()
    assert "† the estimate lies outside its percentile interval" in md
    assert f"{ci['value']:.3f}† (" in md


def test_a_failing_plot_is_one_warning_and_the_report_arrives(tmp_path, monkeypatch):
    y = np.arange(30) % 3
    A, B = onehot(y, 3), onehot((y + 1) % 3, 3)
    r = compare({"run-1": A, "nli": B}, y, ["a", "b", "c"], kinds={"run-1": "fine-tuned"}, n_resamples=50)

    def boom(*a, **k):
        raise RuntimeError("no display\nsecond line")

    monkeypatch.setattr(report, "plot_metrics", boom)
    paths = write_report(r, tmp_path)
    assert paths["warnings"] == ["metrics.png not written: RuntimeError: no display"]
    assert "metrics_png" not in paths and not (tmp_path / "metrics.png").exists()
    assert paths["markdown"].exists() and paths["diffs_png"].exists() and paths["confusion_run-1"].exists()
    md = paths["markdown"].read_text()
    assert "## Warnings\n\n- metrics.png not written: RuntimeError: no display" in md
    assert "![diffs_png](diffs.png)" in md and "metrics.png)" not in md
    assert json.loads(paths["json"].read_text())["warnings"] == paths["warnings"]
    # every plot failing (e.g. matplotlib missing) still leaves the report
    for name in ("plot_diffs", "plot_confusion", "plot_learning_curve"):
        monkeypatch.setattr(report, name, boom)
    paths = write_report(r, tmp_path / "all", history=[{"round": 1, "n_labels": 9, "metrics": {"accuracy": 0.5}}])
    assert len(paths["warnings"]) == 5 and paths["markdown"].exists() and paths["json"].exists()
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["confusion.csv", "confusion_nli.csv", "per_class.csv",
                                                                    "report.json", "report.md"]


def _many(k=150):
    """Two gold labels per class. run-1: classes 0-4 always predicted as the last class, classes 5-9 half
    the time as the second-to-last, every other row right. nli: every row right."""
    y = np.repeat(np.arange(k), 2)
    pred = y.copy()
    pred[np.isin(y, range(5))] = k - 1
    pred[np.flatnonzero(np.isin(y, range(5, 10)))[::2]] = k - 2
    return y, onehot(pred, k), onehot(y, k)


def test_150_classes_worst_best_csv_and_top_confusions(tmp_path):
    k = 150
    y, A, B = _many(k)
    labels = [f"intent_{i:03d}" for i in range(k)]
    r = compare({"run-1": A, "nli": B}, y, labels, kinds={"run-1": "fine-tuned", "nli": "zero-shot"}, n_resamples=100)
    worst, best, more = rank_classes(r)
    # F1: classes 0-4 0; 149 2/7; 148 4/9; 5-9 2/3; every other class 1 (ties in label order)
    assert worst == [labels[i] for i in (0, 1, 2, 3, 4, 149, 148, 5, 6, 7)]
    assert best == labels[10:20] and more == 130
    paths = write_report(r, tmp_path, gold_note="300 human labels on records drawn uniformly at random from the pool")
    assert paths["warnings"] == []
    md = paths["markdown"].read_text()
    assert md.split("\n")[2] == ("gold: 300 human labels on records drawn uniformly at random from the pool; "
                                 "95% CIs: accuracy Wilson score, accuracy differences Newcombe paired score; F1 "
                                 "percentile bootstrap, 100 resamples (seed 0; a perfect F1: the Wilson bound of its labelled rows)")
    assert len(md_table(md, "Worst 10:")) == 10 and len(md_table(md, "Best 10:")) == 10
    assert md_table(md, "Worst 10:")[5] == "| intent_149 | 2 | 0.17 | 1.00 | 0.29 | 1.00 |"
    assert "and 130 more (all classes in per_class.csv)" in md
    assert "- intent_000 -> intent_149: 2 of 2 gold intent_000" in md
    assert md.count(" -> ") == 10 and "- intent_005 -> intent_148: 1 of 2 gold intent_005" in md
    rows = list(csv.reader(paths["per_class_csv"].open()))
    assert len(rows) == 151 and rows[0][:3] == ["label", "run-1:support", "run-1:predicted"]
    assert rows[150][:6] == ["intent_149", "2", "12", str(1 / 6), "1.0", str(2 / 7)]
    conf = list(csv.reader((tmp_path / "confusion.csv").open()))
    assert len(conf) == 151 and len(conf[0]) == 151 and conf[1][0] == "intent_000" and conf[1][150] == "2"
    assert (tmp_path / "confusion_nli.csv").exists()
    data = json.loads(paths["json"].read_text())
    assert len(data["systems"]["run-1"]["metrics"]["per_class"]) == 150 and data["gold_note"].startswith("300 human")
    assert data["systems"]["run-1"]["metrics"]["confusion"] == r.systems["run-1"].metrics["confusion"]
    assert paths["json"].read_text().count("\n") < 3000  # one line per matrix row, not per cell
    # the plot shows the 30 most-confused classes: the 12 with errors, then by support and index
    assert confused_classes(r.systems["run-1"].metrics["confusion"]) == list(range(28)) + [148, 149]
    assert paths["confusion_run-1"].stat().st_size > 0


def test_2_classes_show_every_class(tmp_path):
    y = np.array([0] * 6 + [1] * 4)
    A = onehot(np.array([0] * 6 + [1, 1, 1, 0]), 2)
    B = onehot(np.zeros(10, int), 2)
    r = compare({"run-1": A, "nli": B}, y, ["no", "yes"], kinds={"run-1": "fine-tuned"}, n_resamples=100)
    paths = write_report(r, tmp_path)
    md = paths["markdown"].read_text()
    rows = md_table(md, "## Per class (by run-1's F1; every class in per_class.csv)")
    assert rows == ["| yes | 4 | 1.00 | 0.75 | 0.86 | 0.00 |", "| no | 6 | 0.86 | 1.00 | 0.92 | 0.75 |"]
    assert "more (all classes" not in md and "- yes -> no: 1 of 4 gold yes" in md
    assert len(list(csv.reader(paths["per_class_csv"].open()))) == 3
    assert paths["warnings"] == [] and paths["confusion_run-1"].exists()


def test_top_confusions_hand_made():
    C = [[5, 3, 0, 1], [0, 4, 3, 0], [7, 0, 2, 0], [0, 0, 0, 9]]
    assert top_confusions(C, list("abcd"), 3) == [("c", "a", 7), ("a", "b", 3), ("b", "c", 3)]
    assert top_confusions(C, list("abcd"), 10) == [("c", "a", 7), ("a", "b", 3), ("b", "c", 3), ("a", "d", 1)]
    assert top_confusions(np.eye(3, dtype=int), list("xyz")) == []


def test_small_gold_gives_no_verdict_and_the_report_says_so(tmp_path):
    y = np.arange(20) % 2
    r = compare({"run-1": onehot(y, 2), "nli": onehot(1 - y, 2)}, y, ["a", "b"], kinds={"run-1": "fine-tuned"},
                n_resamples=50, min_gold=50)
    assert (r.enough_gold, r.min_gold) == (False, 50)
    assert r.verdict == "no verdict: not enough gold labels (20 of the 50 a verdict needs; 30 more)"
    assert r.verdicts == {"nli": r.verdict} and r.table().endswith("\n" + r.verdict)
    r.verdict = "no verdict: not enough gold labels for a verdict: 20 of 50 random gold labels"  # as the caller sets it
    assert r.table().endswith("\n" + r.verdict)
    md = write_report(r, tmp_path)["markdown"].read_text()
    assert f"**{r.verdict}**" in md and "for information only, fewer than 50 gold labels" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert (data["enough_gold"], data["min_gold"]) == (False, 50)
    assert compare({"run-1": onehot(y, 2)}, y, ["a", "b"], n_resamples=20, min_gold=20).enough_gold


def test_verdict_needs_the_estimate_and_the_interval_to_agree():
    d = {"diff": -0.01, "lo": 0.02, "hi": 0.05, "n": 80}
    assert verdict_line("r", "fine-tuned", "nli", "zero-shot", d, "macro_f1", 80) == (
        "fine-tuned r does not beat zero-shot nli: -0.010 macro_f1 (95% CI +0.020..+0.050, "
        "the estimate and its CI disagree in sign) on 80 gold labels")
    d = {"diff": 0.03, "lo": 0.02, "hi": 0.05, "n": 80}
    assert verdict_line("r", "fine-tuned", "nli", "zero-shot", d, "macro_f1", 80).startswith("fine-tuned r beats zero-shot nli by +0.030")


def test_multi_label_report(tmp_path):
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]] * 5)
    P = np.array([[0.9, 0.1], [0.8, 0.3], [0.2, 0.7], [0.6, 0.4]] * 5)
    r = compare({"run-1": P}, Y, ["x", "y"], multi_label=True, n_resamples=30)
    paths = write_report(r, tmp_path)
    assert paths["warnings"] == [] and "confusion.csv" not in {p.name for p in tmp_path.iterdir()}
    assert len(list(csv.reader(paths["per_class_csv"].open()))) == 3 and "Top confusions" not in paths["markdown"].read_text()
