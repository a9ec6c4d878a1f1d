"""``candidate_report`` (issue 18, point 3): each cascade's candidate recall on the human labels and the
smallest k reaching 95%, on hand-made matrices; then the lines ``labeler bootstrap`` prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labeler.config.models import SignalSpec
from labeler.signals.cascade import candidate_report, cascade_specs

NAN = [np.nan] * 4
P = np.array([
    [0.7, 0.1, 0.1, 0.1],  # labelled 0: rank 0
    [0.1, 0.2, 0.3, 0.4],  # not labelled
    [0.4, 0.3, 0.2, 0.1],  # labelled 2: rank 2
    [0.1, 0.6, 0.2, 0.1],  # labelled 1: rank 0
    NAN,                   # labelled, but the candidate signal abstained: left out
    [0.2, 0.3, 0.4, 0.1],  # labelled 0: rank 2
])
ROWS, Y = np.array([0, 2, 3, 4, 5]), np.array([0, 2, 1, 3, 0])


def nli_spec(name, k, source="emb", **extra):
    return {"type": "nli", "name": name, "params": {"model": "m", "candidates": {"from": source, "k": k, **extra}}}


def test_single_label_lines_per_cascade():
    specs = [{"type": "embedding", "name": "emb"}, nli_spec("nli", 2), SignalSpec(**nli_spec("nli3", 3)),
             nli_spec("nli4", 4), {"type": "keywords", "params": {"keywords": {}}}]
    lines = candidate_report(specs, {"emb": P}, ROWS, Y, multi_label=False)
    left_out = "on 4 human labels (1 where emb abstained left out)"
    assert lines == [
        f"nli: candidates from emb, k=2: top-2 recall 0.500 {left_out}; smallest k with >= 95%: 3 "
        f"(scores 3 of 4 labels per text); raise candidates.k to 3",
        f"nli3: candidates from emb, k=3: top-3 recall 1.000 {left_out}; smallest k with >= 95%: 3 "
        f"(scores 3 of 4 labels per text)",
        f"nli4: candidates from emb, k=4: top-4 recall 1.000 {left_out}; smallest k with >= 95%: 3 "
        f"(scores 3 of 4 labels per text); k=3 would score fewer pairs",
    ]
    # another target: 50% is reached at k=2 (never below 2 single-label)
    assert candidate_report(specs[:2], {"emb": P}, ROWS, Y, False, target=0.5)[0].endswith(
        "smallest k with >= 50%: 2 (scores 2 of 4 labels per text)")


def test_multi_label_threshold_and_unreachable_target():
    Q = np.array([[0.9, 0.05, 0.5], [0.2, 0.8, 0.01]])
    y = np.array([[1, 1, 0], [0, 1, 1]])
    specs = [nli_spec("nli", 2, threshold=0.1), nli_spec("wide", 2, threshold=0.01)]
    assert candidate_report(specs, {"emb": Q}, [0, 1], y, multi_label=True) == [
        "nli: candidates from emb, k=2, threshold 0.1: top-2 recall 0.500 on 4 true labels of 2 human labels; "
        "no k reaches 95% with this threshold (k=3: 0.500); lower candidates.threshold",
        "wide: candidates from emb, k=2, threshold 0.01: top-2 recall 0.500 on 4 true labels of 2 human labels; "
        "smallest k with >= 95%: 3 (scores 3 of 3 labels per text); raise candidates.k to 3",
    ]


def test_nothing_to_report_and_odd_inputs():
    specs = [nli_spec("nli", 2)]
    assert candidate_report(specs, {"emb": P}, np.zeros(0, dtype=int), None, False) == []  # no labels yet
    assert candidate_report([{"type": "embedding"}], {"emb": P}, ROWS, Y, False) == []  # no cascade
    assert candidate_report(specs, {}, ROWS, Y, False) == ["nli: candidates from emb, k=2: no scores of 'emb' "
                                                           "to measure recall on"]
    assert candidate_report(specs, {"emb": P}, [4], [3], False) == [
        "nli: candidates from emb, k=2: no labelled rows to measure top-k recall on"]  # every row abstained
    summarize = {"type": "summarize", "name": "sum",
                 "params": {"inner": {"type": "nli", "params": {"candidates": {"from": "emb", "k": 3}}}}}
    assert [(n, c.k) for n, c in cascade_specs([summarize, nli_spec("nli", 5)])] == [("sum", 3), ("nli", 5)]


# -- the CLI -------------------------------------------------------------------------------------------
TEXTS = {  # keywords: sports team/game, business stocks/invest, science planet
    "t0": ("The team won the game.", "sports"),                         # [1, 0, 0]: rank 0
    "t1": ("Stocks fell as investors worried.", "business"),            # [0, 1, 0]: rank 0
    "t2": ("A new planet was found by the team.", "science"),          # [.5, 0, .5]: rank 1
    "t3": ("The game made investors buy stocks.", "science"),          # [1/3, 2/3, 0]: rank 2
    "t4": ("Nothing matches here at all.", "sports"),                   # abstains
    "t5": ("Another planet, unlabelled.", None),
}
CONFIG = """
data: {{path: {data}, text_fields: [text], id_field: id}}
task: {{labels: [sports, business, science]}}
queue: {{gold_share: 0.0}}
signals:
  - type: keywords
    name: kw
    params: {{keywords: {{sports: [team, game], business: [stocks, invest], science: [planet]}}}}
  - type: nli
    params: {{model: {model}, device: cpu, batch_size: 4, candidates: {{from: kw, k: 2}}}}
project: {{dir: {state}}}
"""


@pytest.mark.slow  # two `labeler bootstrap` processes (torch, the packaged MiniLM for the queue model)
def test_bootstrap_prints_the_cascade_recall_once_labels_exist(tmp_path, tiny_bart_nli):
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, (t, _) in TEXTS.items()))
    cfg = tmp_path / "p.yaml"
    cfg.write_text(CONFIG.format(data=data, model=tiny_bart_nli, state=tmp_path / "state"))
    env = dict(os.environ, LABELER_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")

    def bootstrap():
        out = subprocess.run([sys.executable, "-m", "labeler.cli.__main__", "bootstrap", "-q", "-c", str(cfg)],
                             env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    assert "candidates from" not in bootstrap()  # no human labels yet: nothing to measure
    rows = [{"id": i, "text": t, "fields": json.dumps({"text": t}), "label": lab, "labels": [], "status": "submitted",
             "annotator": "a", "n_annotators": 1, "agreement": None, "submitted_at": None, "round": 0}
            for i, (t, lab) in TEXTS.items() if lab]
    pd.DataFrame(rows).to_parquet(Path(tmp_path / "state" / "labels.parquet"), index=False)
    assert bootstrap().strip().splitlines()[-1] == (
        "nli: candidates from kw, k=2: top-2 recall 0.750 on 4 human labels (1 where kw abstained left out); "
        "smallest k with >= 95%: 3 (scores 3 of 3 labels per text); raise candidates.k to 3")
