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
from labeler.gold import GOLD
from labeler.policy import project_reserve

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
    assert report["verdict"] in out and report["verdict"].endswith(f"on {len(gold)} gold labels")
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
    why = f"no verdict: not enough gold labels for a verdict: 7 of {MIN_GOLD} random gold labels"
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
    assert err.startswith("Error: no random gold labels yet; not enough gold labels for a verdict: 0 of 50")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "report" / "report.md").exists()
