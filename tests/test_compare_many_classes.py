"""``labeler compare`` at 150 classes and at 2 (issue 11): the report always arrives, the Markdown per-class
table stays bounded, and a gold set smaller than ``training.min_gold`` gets "not enough gold labels", never a
verdict. No models: two keyword signals (one regex per label) are the systems compared."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from labeler.cli import main
from labeler.config import load_config
from labeler.evaluation.gold import CALIB, GOLD
from labeler.loop.policy import project_reserve

MIN_GOLD = 50


def make_project(tmp_path: Path, n_labels: int, per_label: int, exact_right: float, noisy_right: float,
                 seed: int = 0) -> tuple[Path, list[str], dict[str, str], dict[str, str]]:
    """A config with two keyword signals over ``n_labels`` labels, and records whose text names a label word.

    Each record mentions ``wNNN`` (the ``exact`` signal's word for a label) and ``vNNN`` (the ``noisy`` one's);
    a share ``exact_right`` / ``noisy_right`` of the records mention their own label's word, the rest another
    label's. Returns (config path, label names, truth by id, text by id)."""
    rng = np.random.default_rng(seed)
    labels = [f"intent_{k:03d}" for k in range(n_labels)]
    truth, texts = {}, {}
    for k, lab in enumerate(labels):
        for j in range(per_label):
            rid = f"r{k:03d}-{j}"
            a = k if rng.random() < exact_right else (k + 1 + rng.integers(n_labels - 1)) % n_labels
            b = k if rng.random() < noisy_right else (k + 1 + rng.integers(n_labels - 1)) % n_labels
            truth[rid], texts[rid] = lab, f"customer message w{a:03d} and v{b:03d} number {j}"
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()))
    raw = {
        "data": {"path": str(data), "id_field": "id"},
        "task": {"labels": labels},
        "signals": [{"type": "keywords", "name": "exact",
                     "params": {"keywords": {lab: [rf"\bw{k:03d}\b"] for k, lab in enumerate(labels)}}},
                    {"type": "keywords", "name": "noisy",
                     "params": {"keywords": {lab: [rf"\bv{k:03d}\b"] for k, lab in enumerate(labels)}}}],
        "queue": {"gold_share": 0.95},
        "training": {"calib_share": 0.0, "min_gold": MIN_GOLD},
        "project": {"dir": str(tmp_path / "project")},
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    return cfg, labels, truth, texts


def write_labels(cfg: Path, ids: list[str], truth: dict[str, str], texts: dict[str, str]) -> None:
    """labels.parquet as ``labeler pull`` writes it (tests/test_one_loop.py)."""
    path = Path(load_config(cfg).project.dir) / "labels.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": i, "text": texts[i], "fields": json.dumps({"text": texts[i]}), "label": truth[i], "labels": [],
             "status": "submitted", "annotator": "oracle", "n_annotators": 1, "agreement": None,
             "submitted_at": None, "round": 1} for i in ids]
    pd.DataFrame(rows).to_parquet(path, index=False)


def gold_ids(cfg: Path, ids) -> list[str]:
    split = project_reserve(load_config(cfg)).splits(list(ids))
    return [i for i in ids if split[i] == GOLD]


def compare_cli(cfg: Path, out: Path, capsys) -> tuple[str, str]:
    main(["compare", "-c", str(cfg), "--out", str(out)])
    captured = capsys.readouterr()
    return captured.out, captured.err


def no_verdict_anywhere(*texts: str) -> None:
    for text in texts:
        assert not re.search(r"\bbeats\b|\bworse than\b|does not beat", text), text


def test_compare_150_classes_bounded_report(tmp_path, capsys):
    cfg, labels, truth, texts = make_project(tmp_path, 150, 2, exact_right=0.9, noisy_right=0.3)
    gold = gold_ids(cfg, truth)
    assert len(gold) >= 270  # 95% of the 300 records are drawn into the gold reserve
    write_labels(cfg, gold, truth, texts)
    out, err = compare_cli(cfg, tmp_path / "report", capsys)
    assert err == "" and "Traceback" not in out
    md_path, js_path = tmp_path / "report" / "report.md", tmp_path / "report" / "report.json"
    assert md_path.exists() and js_path.exists()
    md, report = md_path.read_text(), json.loads(js_path.read_text())

    assert report["n"] == len(gold) and report["enough_gold"] is True
    assert report["verdict"].startswith("no fine-tuned run to compare; rules exact beats ")
    assert report["verdicts"]["noisy"].startswith("rules exact beats rules noisy by +")
    assert report["verdict"] in out and report["verdict"].endswith(
        f"on {len(gold)} random labels (gold {len(gold)} + calibration 0)")  # single-label: calibration counts (none here)
    # every class in the JSON and the CSV, the worst and best ten in the Markdown, the rest counted
    ranked = {lab for lab in labels if report["systems"]["exact"]["metrics"]["per_class"][lab]["support"]}
    assert len(report["systems"]["exact"]["metrics"]["per_class"]) == 150
    assert len(pd.read_csv(tmp_path / "report" / "per_class.csv")) == 150
    assert "Worst 10:" in md and "Best 10:" in md
    more = re.findall(r"^and (\d+) more \(all classes in per_class\.csv\)$", md, flags=re.M)
    assert more == [str(len(ranked) - 20)]
    class_rows = [line for line in md.splitlines() if line.startswith("| intent_")]
    assert len(class_rows) == 20
    assert len(md.splitlines()) < 120
    assert pd.read_csv(tmp_path / "report" / "confusion.csv", index_col=0).shape == (150, 150)


def test_compare_2_classes(tmp_path, capsys):
    cfg, labels, truth, texts = make_project(tmp_path, 2, 60, exact_right=0.95, noisy_right=0.5)
    gold = gold_ids(cfg, truth)
    assert len(gold) >= MIN_GOLD
    write_labels(cfg, gold, truth, texts)
    out, err = compare_cli(cfg, tmp_path / "report", capsys)
    assert err == "" and "Traceback" not in out
    md = (tmp_path / "report" / "report.md").read_text()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["n"] == len(gold) and report["enough_gold"] is True
    assert report["verdicts"]["noisy"].startswith("rules exact beats rules noisy by +")
    assert report["verdict"] in out
    # two classes: one table of both, nothing left over
    assert "Worst" not in md and "more (all classes" not in md
    assert len([line for line in md.splitlines() if line.startswith("| intent_")]) == 2


@pytest.mark.parametrize("n_labels,per_label", [(150, 2), (2, 60)])
def test_tiny_gold_gives_no_verdict(tmp_path, capsys, n_labels, per_label):
    cfg, labels, truth, texts = make_project(tmp_path, n_labels, per_label, exact_right=1.0, noisy_right=0.0)
    all_gold = set(gold_ids(cfg, truth))
    gold = sorted(all_gold)[:7]  # a perfect signal against a useless one, on 7 labels: still no verdict
    train = [i for i in truth if i not in all_gold]
    write_labels(cfg, gold + train, truth, texts)
    out, err = compare_cli(cfg, tmp_path / "report", capsys)
    assert err == "" and "Traceback" not in out
    md = (tmp_path / "report" / "report.md").read_text()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    why = f"no verdict: not enough random labels for a verdict: 7 of {MIN_GOLD} (gold 7 + calibration 0)"
    assert report["n"] == 7 and report["enough_gold"] is False
    assert report["verdict"].startswith(why)
    assert all(v == report["verdict"] for v in report["verdicts"].values())
    verdict_lines = [line for line in out.splitlines() if line.startswith("no verdict")]
    assert verdict_lines == [report["verdict"]]
    no_verdict_anywhere(out, md, report["verdict"], *report["verdicts"].values())


def test_no_gold_at_all_is_one_line(tmp_path, capsys):
    cfg, labels, truth, texts = make_project(tmp_path, 2, 60, exact_right=1.0, noisy_right=0.0)
    all_gold = set(gold_ids(cfg, truth))
    train = [i for i in truth if i not in all_gold]
    assert train
    write_labels(cfg, train, truth, texts)
    with pytest.raises(SystemExit) as exc:
        compare_cli(cfg, tmp_path / "report", capsys)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: no random gold labels yet; not enough random labels for a verdict: 0 of 50 "
                          "(gold 0 + calibration 0)")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "report" / "report.md").exists()


# --- multi-label (issue 23.4): per-label cuts from the calibration labels, micro-F1 verdict, empty sets -------

def make_ml_project(tmp_path: Path, n_labels: int, n_records: int, calib_share: float, seed: int = 0,
                    gold_share: float = 0.95) -> tuple[Path, list[str], dict[str, list[str]], dict[str, str]]:
    """A multi-label config with two keyword signals; a fifth of the records carry no label, the rest one or
    two. ``exact`` names a record's labels by their ``wNNN`` word (90% right, and abstains on records with no
    label); ``noisy`` names them by ``vNNN`` half the time, another label otherwise, and mentions a label on
    half the empty records too. Returns (config path, label names, label sets by id, text by id)."""
    rng = np.random.default_rng(seed)
    labels = [f"intent_{k:03d}" for k in range(n_labels)]
    truth, texts = {}, {}

    def other(k: int) -> int:
        return int((k + 1 + rng.integers(n_labels - 1)) % n_labels)

    for j in range(n_records):
        rid = f"r{j:04d}"
        ks = [] if rng.random() < 0.2 else sorted(set(rng.choice(n_labels, size=1 + int(rng.random() < 0.4)).tolist()))
        words = [f"w{k if rng.random() < 0.9 else other(k):03d}" for k in ks]
        words += [f"v{k if rng.random() < 0.5 else other(k):03d}" for k in ks]
        if not ks and rng.random() < 0.5:
            words.append(f"v{rng.integers(n_labels):03d}")
        truth[rid], texts[rid] = [labels[k] for k in ks], f"customer message {' and '.join(words)} number {j}"
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()))
    raw = {
        "data": {"path": str(data), "id_field": "id"},
        "task": {"labels": labels, "multi_label": True},
        "signals": [{"type": "keywords", "name": "exact",
                     "params": {"keywords": {lab: [rf"\bw{k:03d}\b"] for k, lab in enumerate(labels)}}},
                    {"type": "keywords", "name": "noisy",
                     "params": {"keywords": {lab: [rf"\bv{k:03d}\b"] for k, lab in enumerate(labels)}}}],
        "queue": {"gold_share": gold_share},
        "training": {"calib_share": calib_share, "min_gold": MIN_GOLD},
        "project": {"dir": str(tmp_path / "project")},
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    return cfg, labels, truth, texts


def write_ml_labels(cfg: Path, ids: list[str], truth: dict[str, list[str]], texts: dict[str, str]) -> None:
    """labels.parquet as ``labeler pull`` writes a multi-label answer (an empty list: "none of these")."""
    path = Path(load_config(cfg).project.dir) / "labels.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": i, "text": texts[i], "fields": json.dumps({"text": texts[i]}), "label": None, "labels": truth[i],
             "status": "submitted", "annotator": "oracle", "n_annotators": 1, "agreement": None,
             "submitted_at": None, "round": 1} for i in ids]
    pd.DataFrame(rows).to_parquet(path, index=False)


def split_ids(cfg: Path, ids, split: str) -> list[str]:
    where = project_reserve(load_config(cfg)).splits(list(ids))
    return [i for i in ids if where[i] == split]


def test_compare_multi_label_60_labels(tmp_path, capsys):
    cfg, labels, truth, texts = make_ml_project(tmp_path, 60, 500, calib_share=0.3)
    gold, calib = split_ids(cfg, truth, GOLD), split_ids(cfg, truth, CALIB)
    write_ml_labels(cfg, gold + calib, truth, texts)
    out, err = compare_cli(cfg, tmp_path / "report", capsys)
    assert err == "" and "Traceback" not in out
    md = (tmp_path / "report" / "report.md").read_text()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    n_empty = sum(1 for i in gold if not truth[i])
    assert (report["n"], report["n_empty"], report["metric"]) == (len(gold), n_empty, "micro_f1")
    # what micro-F1 rests on: the records that carry a label and their positives
    assert f"scored on {len(gold)} random gold labels; {len(gold) - n_empty} carry a label ({n_empty} 'None of " \
           f"these'), {sum(len(truth[i]) for i in gold)} label positives\n" in out
    assert report["verdict"].startswith("no fine-tuned run to compare; rules exact beats ")
    assert " micro-F1 (95% CI +" in report["verdict"] and report["verdict"] in out
    assert report["rule"] == ("micro-F1, exact minus each other system on the same gold records (paired bootstrap); "
                              "a difference counts when its whole 95% CI lies on one side of 0 (micro-F1: the "
                              "multi-label default; training.verdict_metric chooses another)")
    assert f"Verdict rule: {report['rule']}." in md and f"verdict rule: {report['rule']}" in out
    assert f"cuts noisy: {report['thresholds']['noisy']['note']}" in out
    # each system's cuts fitted on the calibration records it covers (a keyword signal abstains on the others)
    exact_covers = [i for i in calib if re.search(r"\bw\d{3}\b", texts[i])]
    noisy_covers = [i for i in calib if re.search(r"\bv\d{3}\b", texts[i])]
    n_pos = sum(len(truth[i]) for i in calib)
    assert len(exact_covers) < len(noisy_covers) < len(calib) and n_pos >= 20
    assert [(report["thresholds"][n]["fitted"], report["thresholds"][n]["n_calib"], report["thresholds"][n]["n_positives"])
            for n in ("exact", "noisy")] == [(True, len(exact_covers), n_pos), (True, len(noisy_covers), n_pos)]
    assert report["thresholds"]["ensemble"]["note"].startswith(  # the ensemble never abstains
        f"fitted on {len(calib)} calibration records ({n_pos} positive labels)")
    assert re.search(rf"^\| ensemble \| \d\.\d\d\.\.\d\.\d\d, median \d\.\d\d \| fitted on {len(calib)} calibration records "
                     rf"\({n_pos} positive labels\) \|$", md, re.M)
    assert all(len(t["values"]) == 60 for t in report["thresholds"].values())
    assert f"| system | kind | coverage | micro-F1 | macro-F1 | exact match | ECE |" in md
    assert f"{len(gold)} gold labels ({n_empty} of them with no label: \"none of these\"), 60 labels (multi-label)" in md
    assert "Every label's cut for each system is in per_class.csv and report.json (60 labels)." in md
    # bounded: worst and best ten with the cut beside each, the rest counted
    assert "Worst 10:" in md and "Best 10:" in md and re.search(r"^and \d+ more \(all classes in per_class\.csv\)$", md, re.M)
    assert len([line for line in md.splitlines() if line.startswith("| intent_")]) == 20
    assert "| label | support | exact P | R | F1 | cut | noisy F1 | ensemble F1 |" in md
    csv = pd.read_csv(tmp_path / "report" / "per_class.csv")
    assert len(csv) == 60 and {"exact:threshold", "noisy:threshold", "ensemble:threshold"} <= set(csv.columns)
    assert not (tmp_path / "report" / "confusion.csv").exists() and (tmp_path / "report" / "metrics.png").exists()
    assert len(md.splitlines()) < 100


def test_compare_multi_label_few_calibration_labels(tmp_path, capsys):
    """Too few calibration positives: every label cut at task.threshold, said so; exact match by config."""
    cfg, labels, truth, texts = make_ml_project(tmp_path, 2, 120, calib_share=0.05)
    gold, calib = split_ids(cfg, truth, GOLD), split_ids(cfg, truth, CALIB)
    assert 0 < sum(len(truth[i]) for i in calib) < 20
    write_ml_labels(cfg, gold + calib, truth, texts)
    main(["compare", "-c", str(cfg), "--out", str(tmp_path / "report"), "--set", "training.verdict_metric=accuracy"])
    out = capsys.readouterr().out
    md = (tmp_path / "report" / "report.md").read_text()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    n_pos = sum(len(truth[i]) for i in calib)
    note = (f"the scalar task.threshold 0.5 for every label: calibration holds {n_pos} positive labels in "
            f"{len(calib)} records, fewer than the 20 positive labels a fit needs")
    assert report["thresholds"]["noisy"] == {"values": [0.5, 0.5], "fitted": False, "n_calib": len(calib),
                                             "n_positives": n_pos, "note": note}
    assert f"| noisy | 0.50 for every label | {note} |" in md and f"cuts noisy: {note}" in out
    assert "| label | exact | noisy | ensemble |\n|---|---:|---:|---:|\n| intent_000 | 0.50 | 0.50 | 0.50 |" in md
    assert report["metric"] == "accuracy" and " exact match (95% CI " in report["verdict"] and report["verdict"] in out
    assert report["rule"].startswith("exact match, exact minus each other system") and report["rule"].endswith("(training.verdict_metric)")
    # no calibration labels at all
    write_ml_labels(cfg, gold, truth, texts)
    main(["compare", "-c", str(cfg), "--out", str(tmp_path / "report2")])
    report = json.loads((tmp_path / "report2" / "report.json").read_text())
    assert report["thresholds"]["exact"]["note"] == "the scalar task.threshold 0.5 for every label: no calibration labels"
    # every system's cuts alike: one line, not one a system
    cut_lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("cuts ")]
    assert cut_lines == ["cuts (every system): the scalar task.threshold 0.5 for every label: no calibration labels"]


@pytest.mark.slow
def test_compare_multi_label_run_gets_its_own_cuts(tmp_path, capsys):
    """A fine-tuned multi-label run (logreg on MiniLM) is cut at thresholds fitted on its own calibration
    probabilities and is the primary of a micro-F1 verdict."""
    from labeler.loop.runs import train_project

    cfg, labels, truth, texts = make_ml_project(tmp_path, 4, 300, calib_share=0.4, gold_share=0.6)
    write_ml_labels(cfg, list(truth), truth, texts)
    calib = split_ids(cfg, truth, CALIB)
    run = train_project(load_config(cfg), backend="logreg", force=True, n_resamples=50)
    main(["compare", "-c", str(cfg), "--out", str(tmp_path / "report")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    n_pos = sum(len(truth[i]) for i in calib)
    cuts = report["thresholds"][run.run_id]
    assert (cuts["fitted"], cuts["n_calib"], cuts["n_positives"]) == (True, len(calib), n_pos)
    assert cuts["note"] == f"fitted on {len(calib)} calibration records ({n_pos} positive labels)"
    assert report["primary"] == run.run_id and report["metric"] == "micro_f1"
    assert re.match(rf"fine-tuned {run.run_id} (beats|is worse than|does not beat) (zero-shot |rules )?\S+.* micro-F1", report["verdict"])
    assert f"cuts {run.run_id}: {cuts['note']}" in out


def test_a_stacked_ensemble_row_is_stacked_on_training_labels_never_gold(tmp_path):
    """ensemble.method stacked: compare's ensemble row is the stack bootstrap fits before a run exists (on the human
    training labels, from scores.npz), not the weighted mean; before bootstrap it says why it fell back."""
    from labeler.evaluation.compare_on_gold import compare_project
    from labeler.loop.ensemble import StackedEnsemble
    from labeler.loop.pool_matrices import Scores
    from labeler.loop.scoring import bootstrap, training_rows
    from labeler.project import Project

    # exact_right 1: every text is its own (a wrong word can repeat another record's text, which the pool collapses)
    cfg, labels, truth, texts = make_project(tmp_path, 2, 60, exact_right=1.0, noisy_right=0.6)
    raw = yaml.safe_load(cfg.read_text())
    raw["queue"]["gold_share"] = 0.5
    raw["ensemble"] = {"method": "stacked", "min_labels_for_stacking": 10}
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    write_labels(cfg, list(truth), truth, texts)  # every record answered: about half gold, half training
    config = load_config(cfg)
    before = compare_project(config, write=False)
    assert before.ensemble == "the signals' weighted mean: run `labeler bootstrap` to score the pool the stack is fitted on"
    bootstrap(config, progress=False)
    cmp = compare_project(config, write=False)
    scores = Scores.load(Project(config).scores)
    rows, y, _ = training_rows(config, scores.ids, Project(config).load_labels())
    gold = gold_ids(cfg, truth)
    assert len(rows) >= 40 and not {scores.ids[r] for r in rows} & set(gold)  # the reserve is never stacked on
    assert cmp.ensemble == f"stacked on {len(rows)} human training labels (never on gold)"
    stack = StackedEnsemble(min_labels=10, weights={"exact": 1.0, "noisy": 1.0}).fit(
        {n: scores.signals[n][rows] for n in ("exact", "noisy")}, y)
    at = [scores.ids.index(i) for i in gold]
    expected = stack.predict_proba({n: scores.signals[n][at] for n in ("exact", "noisy")})
    accuracy = float((expected.argmax(1) == np.array([labels.index(truth[i]) for i in gold])).mean())
    assert cmp.result.systems["ensemble"].metrics["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    # the weighted mean splits every disagreement evenly; the stack learned to trust 'exact'
    assert before.result.systems["ensemble"].metrics["accuracy"] < accuracy == 1.0
