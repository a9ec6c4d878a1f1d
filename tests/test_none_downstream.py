"""Multi-label "None of these" downstream of `pull` (issue 23): the gold set `compare` scores on keeps it as an
all-zero row, and a model that puts no label over the threshold gets exact-match credit for it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from labeler.evaluation.compare_on_gold import gold_set
from labeler.loop.policy import project_reserve
from labeler.project import Project
from tests.test_quality import LABELS, make_config


def test_gold_keeps_none_of_these_as_an_all_zero_row(tmp_path):
    config = make_config(tmp_path, multi_label=True, min_submitted=1)
    ids = [f"g{i:03d}" for i in range(60)]
    answers = {rid: ([] if i % 2 else [LABELS[i % 3]]) for i, rid in enumerate(ids)}
    rows = [{"id": rid, "text": f"text {rid}", "fields": json.dumps({"text": f"text {rid}"}), "label": None,
             "labels": labs, "status": "submitted", "annotator": "a", "n_annotators": 1, "agreement": 1.0,
             "submitted_at": None, "round": 1} for rid, labs in answers.items()]
    Project(config).ensure()
    pd.DataFrame(rows).to_parquet(Project(config).labels, index=False)
    reserve = project_reserve(config)
    gold = gold_set(config, reserve)
    expected = [rid for rid, split in reserve.splits(ids).items() if split == "gold"]
    assert gold.ids == expected and len(expected) >= 4
    none_ids = [rid for rid in gold.ids if not answers[rid]]
    assert none_ids and all(not gold.y[gold.ids.index(rid)].any() for rid in none_ids)
    from training.evaluate import evaluate

    P = np.where(gold.y == 1, 0.9, 0.1)  # right everywhere, including "no label over 0.5" on the none rows
    assert evaluate(P, gold.y, LABELS, True, threshold=0.5)["accuracy"] == 1.0


def test_status_counts_none_of_these_and_scores_the_run_by_its_verdict_metric(tmp_path):
    # the answers no class counts are said beside the splits; a multi-label run is read by micro-F1, as its verdict
    from labeler.config import load_config
    from labeler.status import status, summary_lines
    from tests.test_train_cli import FakeModel
    from training.registry import Registry

    make_config(tmp_path, multi_label=True, min_submitted=1)
    config = load_config(tmp_path / "q.yaml", ["argilla.url=http://127.0.0.1:9"])
    ids = [f"g{i:03d}" for i in range(30)]
    rows = [{"id": rid, "text": f"text {rid}", "fields": json.dumps({"text": f"text {rid}"}), "label": None,
             "labels": [] if i % 3 == 0 else [LABELS[i % 3]], "status": "submitted", "annotator": "a",
             "n_annotators": 1, "agreement": 1.0, "submitted_at": None, "round": 1} for i, rid in enumerate(ids)]
    Project(config).ensure()
    pd.DataFrame(rows).to_parquet(Project(config).labels, index=False)
    Registry(Project(config).runs).save(
        FakeModel(), labels=LABELS, multi_label=True, backend="logreg", config={}, data_fingerprint="f",
        metrics={"gold": {"accuracy": 0.5, "micro_f1": 0.75},
                 "gold_ci": {"accuracy": {"lo": 0.3, "hi": 0.7}, "micro_f1": {"lo": 0.625, "hi": 0.875}}},
        info={"n_train": 20, "n_gold": 6}, make_current=True)
    st = status(config)
    lines = summary_lines(st)
    assert st["none_of_these"] == 10
    assert lines[1].endswith("; 10 'None of these')")
    # a few classes are listed whole, under the same header as at 150 ("labels per class: ..." was missing then)
    per = [line for line in lines if line.startswith("  ")]
    assert lines[lines.index(per[0]) - 1].startswith(f"labels per class: {len(LABELS)} classes, min ")
    assert [p.split(":")[0].strip() for p in per] == list(LABELS)
    assert any(line.endswith("(logreg, 20 training labels), gold micro-F1 0.750 (95% CI 0.625..0.875, n=6)")
               for line in lines)


def test_the_pushed_suggestion_is_none_of_these_where_the_reserve_answered_so(tmp_path):
    # the rule push follows, on a project's answered random reserve: even records carry no label and score low on
    # every label, odd ones carry the first label and score 0.9 on it
    from labeler.argilla.schema import NONE_VALUE
    from labeler.loop.round import suggestion_rule
    from labeler.loop.suggest import suggestion

    config = make_config(tmp_path, multi_label=True, min_submitted=1)
    ids = [f"r{i:03d}" for i in range(400)]
    answers = {rid: ([] if i % 2 == 0 else [LABELS[0]]) for i, rid in enumerate(ids)}
    rows = [{"id": rid, "text": f"text {rid}", "fields": json.dumps({"text": f"text {rid}"}), "label": None,
             "labels": labs, "status": "submitted", "annotator": "a", "n_annotators": 1, "agreement": 1.0,
             "submitted_at": None, "round": 1} for rid, labs in answers.items()]
    Project(config).ensure()
    pd.DataFrame(rows).to_parquet(Project(config).labels, index=False)
    P = np.array([[0.9 if i % 2 else 0.05] + [0.1] * (len(LABELS) - 1) for i in range(len(ids))])
    labels_df = Project(config).load_labels()
    cuts, none_at = suggestion_rule(config, ids, P, labels_df, project_reserve(config))
    assert cuts is not None and 0.1 < none_at <= 0.9  # 1 - 0.1 = 0.9 on the none rows, 0.1 on the labelled
    assert suggestion(P[0], LABELS, True, cuts, none_at) == ([NONE_VALUE], [0.9])
    assert suggestion(P[1], LABELS, True, cuts, none_at) == ([LABELS[0]], [0.9])
    few = labels_df[labels_df["id"].isin(ids[:30])]  # under 20 answered reserve records: nothing pre-selected
    assert suggestion_rule(config, ids, P, few, project_reserve(config)) == (None, None)
